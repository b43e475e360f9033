"""Argument checks shared by the store's modules."""


def check_size(value, name='size'):
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError('%s must be an integer, not %r' % (name, value))
    if value < 0:
        raise ValueError('%s must not be negative: %d' % (name, value))
    return value


def check_id(disk_id):
    if not isinstance(disk_id, str) or not disk_id:
        raise TypeError('disk id must be a non-empty string, not %r'
                        % (disk_id,))
    return disk_id


def byte_view(data):
    view = memoryview(data)
    if view.ndim != 1 or view.itemsize != 1:
        view = view.cast('B')
    return view
