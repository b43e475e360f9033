"""A throwaway in-memory stand-in for the DiskStore interface (tests only).

Used by the HTTP-layer unit tests so they need neither the real chunked
store nor disk space; the functional tests use the real store.
"""


class DiskNotFound(Exception):
    pass


class MemoryDiskStore(object):

    def __init__(self, root_dir=None, chunk_size=4 * 1024 * 1024):
        self.disks = {}
        self.parents = {}

    def create(self, disk_id, size_bytes):
        self.disks[disk_id] = bytearray(size_bytes)

    def clone(self, src, new, size_bytes=None):
        self._check(src)
        data = bytearray(self.disks[src])
        if size_bytes and size_bytes > len(data):
            data.extend(bytes(size_bytes - len(data)))
        self.disks[new] = data
        self.parents[new] = src

    def _check(self, disk_id):
        if disk_id not in self.disks:
            raise DiskNotFound(disk_id)

    def delete(self, disk_id):
        self._check(disk_id)
        del self.disks[disk_id]

    def exists(self, disk_id):
        return disk_id in self.disks

    def list_disks(self):
        return list(self.disks)

    def size(self, disk_id):
        self._check(disk_id)
        return len(self.disks[disk_id])

    def resize(self, disk_id, new_size):
        self.disks[disk_id].extend(bytes(new_size - self.size(disk_id)))

    def read(self, disk_id, offset, length):
        self._check(disk_id)
        return bytes(self.disks[disk_id][offset:offset + length])

    def iter_read(self, disk_id, offset=0, length=None, block_size=1 << 20):
        end = self.size(disk_id) if length is None else offset + length
        while offset < end:
            step = min(block_size, end - offset)
            yield self.read(disk_id, offset, step)
            offset += step

    def write(self, disk_id, offset, data):
        disk = self.disks[disk_id]
        if offset + len(data) > len(disk):
            disk.extend(bytes(offset + len(data) - len(disk)))
        disk[offset:offset + len(data)] = data

    def write_stream(self, disk_id, iterable, offset=0, grow=True):
        total = 0
        for block in iterable:
            self.write(disk_id, offset + total, block)
            total += len(block)
        return total

    def chain(self, disk_id):
        chain = [disk_id]
        while chain[-1] in self.parents:
            chain.append(self.parents[chain[-1]])
        return chain

    def allocated_bytes(self, disk_id):
        return sum(1 for b in self.disks[disk_id] if b)

    def stats(self):
        return {'disks': len(self.disks), 'layers': len(self.disks),
                'chunks': 0,
                'bytes_stored': sum(len(d) for d in self.disks.values())}

    def close(self):
        pass

    def clear(self):
        self.disks.clear()
        self.parents.clear()
