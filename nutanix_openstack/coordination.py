"""Cross-host locks for the drivers, over tooz.

Several glance-api workers, cinder-volume services and nova-compute hosts
work on one cluster.  What must happen once per cluster (deriving the raw
disk of an image, caching a Glance image in the cluster) is serialised by a
named lock of a tooz coordination backend: ``[coordination] backend_url``,
the option Cinder already has.  etcd (``etcd3+http://host:2379``, through
``etcd3gw``) is the production backend; a ``file://`` URL is a lock that
holds for every process of one host only.

Cinder brings its own coordinator (``cinder.coordination.COORDINATOR``,
started by cinder-volume): the Cinder driver hands its locks to
:func:`guarded` instead of building a :class:`Coordinator`.

Whatever the backend, a lock that cannot be taken (backend unreachable,
timeout) raises :class:`~nutanix_openstack.prism.exceptions.CoordinationFailed`
and the guarded operation does not run: nothing runs unlocked.
"""

import contextlib
import logging
import os
import socket
import threading
import uuid

from oslo_concurrency import lockutils
from oslo_config import cfg
# Imported with this module, never first inside a worker thread: tooz
# imports futurist, which imports eventlet, and a thread that first imports
# eventlet can never be joined (its join() hangs).
from tooz import coordination as tooz_coordination

from nutanix_openstack.prism import exceptions as exc

LOG = logging.getLogger(__name__)

GROUP = 'coordination'
LOCK_PREFIX = 'nutanix-openstack-'

coordination_opts = [
    cfg.StrOpt('backend_url',
               secret=True,
               help='URL of the tooz coordination backend that serialises, '
                    'across hosts, what the Nutanix drivers must do once '
                    'per cluster (deriving the raw disk of an image, '
                    'caching a Glance image in the cluster). Production: '
                    'etcd, e.g. etcd3+http://192.0.2.10:2379 (needs the '
                    'etcd3gw package). file:///path locks every process of '
                    'ONE host only. Unset: a file lock in '
                    '[oslo_concurrency] lock_path when that is set, else a '
                    'lock inside this process only. Same meaning as '
                    'Cinder\'s [coordination] backend_url, which the Cinder '
                    'driver uses. Never logged (it may hold credentials).'),
    cfg.FloatOpt('lock_timeout',
                 default=3600.0,
                 min=0,
                 help='Seconds to wait for a lock that another process '
                      'holds (for example while it derives the raw disk of '
                      'a large image) before failing with '
                      'CoordinationFailed. 0 waits forever. Related '
                      'options: backend_url.'),
]


def register_opts(conf):
    conf.register_opts(coordination_opts, group=GROUP)


def list_opts():
    return [(GROUP, coordination_opts)]


def _tooz():
    return tooz_coordination


def _blocking(timeout):
    return True if not timeout else float(timeout)


@contextlib.contextmanager
def guarded(tooz_lock, name, timeout=None, backend='coordination backend'):
    """Hold ``tooz_lock`` (a tooz Lock) for the body, or raise.

    A backend error or a timeout raises CoordinationFailed before the body
    runs.  A failure to release is logged: the backend frees the lock when
    its lease ends.
    """
    try:
        acquired = tooz_lock.acquire(blocking=_blocking(timeout))
    except Exception as e:  # noqa: B902 - tooz and its clients' errors
        # etcd3gw's lock ends its wait with tenacity's RetryError.
        if type(e).__name__ == 'RetryError':
            acquired = False
        else:
            raise exc.CoordinationFailed(
                'Could not take the cross-host lock %s: the %s failed '
                '(%s: %s); the operation was not run'
                % (name, backend, type(e).__name__, e))
    if not acquired:
        raise exc.CoordinationFailed(
            'Could not take the cross-host lock %s within %ss: another '
            'process holds it; the operation was not run' % (name, timeout))
    try:
        yield
    finally:
        try:
            tooz_lock.release()
        except Exception as e:  # noqa: B902 - the lease frees it anyway
            LOG.warning('Could not release the cross-host lock %(name)s '
                        '(%(e)s); the backend frees it when its lease '
                        'ends.', {'name': name, 'e': e})


@contextlib.contextmanager
def external_lock(get_lock, name, timeout=None,
                  backend='coordination backend'):
    """Hold the cross-host lock ``name`` for the body, or raise.

    ``get_lock(full_name)`` returns the tooz Lock (from our Coordinator,
    or from Cinder's).  The threads of this process queue on a local lock
    first, then on the backend; CoordinationFailed when the backend fails
    or ``timeout`` passes.
    """
    full = LOCK_PREFIX + name
    with lockutils.lock(full):
        try:
            tooz_lock = get_lock(full)
        except exc.CoordinationFailed:
            raise
        except Exception as e:  # noqa: B902 - tooz, its clients, Cinder's
            raise exc.CoordinationFailed(
                'Could not take the cross-host lock %s: the %s failed (%s: '
                '%s); the operation was not run'
                % (full, backend, type(e).__name__, e))
        with guarded(tooz_lock, full, timeout, backend):
            yield


class Coordinator(object):
    """A tooz coordinator started on first use; ``lock(name)`` for callers.

    ``backend_url`` None means a file lock in ``lock_path`` (one host), or
    when that is None too a lock of this process only.  Thread-safe: the
    threads of one process also exclude each other.
    """

    def __init__(self, backend_url=None, lock_timeout=3600.0,
                 lock_path=None, member_id=None):
        if not backend_url and lock_path:
            backend_url = 'file://' + os.path.abspath(lock_path)
        self.backend_url = backend_url
        self.lock_timeout = lock_timeout
        self.member_id = member_id or '%s-%d-%s' % (
            socket.gethostname(), os.getpid(), uuid.uuid4().hex[:8])
        self._coordinator = None
        self._start_lock = threading.Lock()

    @classmethod
    def from_conf(cls, conf):
        """From ``conf.coordination`` (registered here when missing)."""
        register_opts(conf)
        lock_path = None
        try:
            lock_path = conf.oslo_concurrency.lock_path
        except (cfg.NoSuchOptError, cfg.NoSuchGroupError, AttributeError):
            pass
        return cls(backend_url=conf.coordination.backend_url,
                   lock_timeout=conf.coordination.lock_timeout,
                   lock_path=lock_path)

    @property
    def backend(self):
        """What the backend is, for messages (no credentials)."""
        if not self.backend_url:
            return 'process-local lock'
        return 'coordination backend %s' % self.backend_url.split(
            '://', 1)[0]

    def _started(self):
        with self._start_lock:
            if self._coordinator is None:
                tooz = _tooz()
                coordinator = tooz.get_coordinator(
                    self.backend_url, self.member_id.encode('utf-8'))
                try:
                    coordinator.start(start_heart=True)
                # Not only ToozError: some drivers (etcd3gw) let their
                # client's connection errors through from start().
                except Exception as e:  # noqa: B902
                    raise exc.CoordinationFailed(
                        'The %s cannot be reached (%s: %s); operations that '
                        'need a cross-host lock are not run'
                        % (self.backend, type(e).__name__, e))
                self._coordinator = coordinator
            return self._coordinator

    def lock(self, name):
        """Hold the lock ``name`` across hosts for the body."""
        if not self.backend_url:
            return lockutils.lock(LOCK_PREFIX + name)
        return external_lock(
            lambda full: self._started().get_lock(full.encode('utf-8')),
            name, self.lock_timeout, self.backend)

    def stop(self):
        with self._start_lock:
            coordinator, self._coordinator = self._coordinator, None
        if coordinator is not None:
            try:
                coordinator.stop()
            except Exception as e:  # noqa: B902 - shutdown is best effort
                LOG.debug('Stopping the coordinator: %s', e)
