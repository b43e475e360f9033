"""A Prism client that fails every call: for walking an adapter's boundary.

Each adapter (Cinder driver, Glance store, Nova driver) must turn every
client exception into its host's exceptions.  The walk calls every public
method of the adapter with a :class:`RaisingClient` for each type of
:func:`client_exception_types` and checks what comes out.
"""

import inspect

from nutanix_openstack.prism import exceptions as prism_exc

# A VM URL, so that Nova's boundary may take a NotFound for the instance.
_URL = 'https://10.0.0.1:9440/api/vmm/v4.3/ahv/config/vms/vm-1'


def client_exception_types():
    """Every exception class of the client, base class included."""
    return sorted((cls for cls in vars(prism_exc).values()
                   if inspect.isclass(cls) and
                   issubclass(cls, prism_exc.PrismError)),
                  key=lambda cls: cls.__name__)


def make_error(cls):
    return cls('injected %s' % cls.__name__, status=cls.status,
               request_id='req-injected', url=_URL, method='GET')


class RaisingClient(object):
    """Any attribute is another RaisingClient; any call raises ``error``."""

    def __init__(self, error):
        self._error = error
        self.calls = []

    def __getattr__(self, name):
        if name.startswith('__'):
            raise AttributeError(name)
        child = RaisingClient(self._error)
        child.calls = self.calls
        return child

    def __call__(self, *args, **kwargs):
        self.calls.append(self._error)
        raise self._error


def public_methods(cls):
    """Names of the public methods ``cls`` itself defines."""
    return sorted(name for name, value in vars(cls).items()
                  if not name.startswith('_') and inspect.isfunction(value))


def call_with(method, arguments):
    """Call ``method`` with the named ``arguments`` it takes.

    Optional parameters not in ``arguments`` keep their defaults; a
    required one missing from ``arguments`` is a KeyError naming it, so a
    new driver method cannot slip past the walk.
    """
    kwargs = {}
    for name, param in inspect.signature(method).parameters.items():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        if name in arguments:
            kwargs[name] = arguments[name]
        elif param.default is param.empty:
            raise KeyError('no test argument for %s(%s)'
                           % (method.__name__, name))
    return method(**kwargs)
