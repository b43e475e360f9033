"""The disk store's backends for the shared storage contract tests.

Every storage test class runs on the local chunk store and, as a
``...Rbd`` variant made by :func:`rbd_variant`, on the RBD store in a real
Ceph pool: ``bash tools/ceph.sh start`` starts one on loopback and writes
``.state/ceph/env`` (the variables below); the ``ceph`` stage of
tools/run-tests.sh does that and runs these tests.  Where no Ceph is
running the RBD variants fail, unless ``NUTANIX_TEST_SKIP_RBD=1`` says to
skip them (the unit stage sets it: the ceph stage runs them for real).
"""

import os
import unittest

from nutanix_openstack.emulator import storage

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
SKIP_ENV = 'NUTANIX_TEST_SKIP_RBD'


def ceph_settings():
    """``(ceph_conf, pool, user)`` of the test Ceph, or None."""
    conf = os.environ.get('NUTANIX_TEST_CEPH_CONF')
    if not conf:
        default = os.path.join(TOP, '.state', 'ceph', 'ceph.conf')
        conf = default if os.path.exists(default) else None
    if not conf:
        return None
    return (conf, os.environ.get('NUTANIX_TEST_CEPH_POOL', 'nutanix-emulator'),
            os.environ.get('NUTANIX_TEST_CEPH_USER', 'nutanix-emulator'))


def open_store(backend, root, chunk_size):
    """A store of ``backend`` ('local': under ``root``; 'rbd': the pool)."""
    if backend == 'local':
        return storage.DiskStore(root, chunk_size=chunk_size)
    settings = ceph_settings()
    if settings is None:
        raise storage.StorageError('no Ceph for the rbd backend')
    conf, pool, user = settings
    from nutanix_openstack.emulator.storage import rbdstore
    return rbdstore.RbdDiskStore(conf, pool, user, chunk_size=chunk_size)


def open_rbd_or_skip(test, chunk_size):
    try:
        return open_store('rbd', None, chunk_size)
    except storage.StorageError as exc:
        if os.environ.get(SKIP_ENV) == '1':
            raise unittest.SkipTest('%s=1 and no Ceph: %s' % (SKIP_ENV, exc))
        test.fail('the rbd backend needs a running Ceph (bash tools/ceph.sh '
                  'start), or %s=1 to skip: %s' % (SKIP_ENV, exc))


class RbdBackend(object):
    """Mixin: the test class's store is an RbdDiskStore on an empty pool."""

    backend = 'rbd'
    # RBD objects are at least 4 KiB.
    min_chunk_size = 4096

    def open_store(self):
        cs = max(self.chunk_size, self.min_chunk_size)
        store = open_rbd_or_skip(self, cs)
        self.addCleanup(store.close)
        if not getattr(self, '_rbd_cleared', False):
            self._rbd_cleared = True
            store.clear()
            # Whichever store the test holds at its end (it may reopen).
            self.addCleanup(self._clear_at_end)
        return store

    def _clear_at_end(self):
        store = self.store
        if store._closed:
            store = open_rbd_or_skip(self, store.chunk_size)
            self.addCleanup(store.close)
        store.clear()

    def assertNothingStored(self):
        """No image, live or in the trash, is left in the pool."""
        store = self.store
        self.assertEqual([], store._rbd.list(store._ioctx))
        self.assertEqual([], list(store._rbd.trash_list(store._ioctx)))

    def assertConsistent(self):
        """Every trashed image is still a parent; no clone snapshot left."""
        store = self.store
        rbd = store._rbd_mod
        for entry in store._rbd.trash_list(store._ioctx):
            with rbd.Image(store._ioctx, image_id=entry['id'],
                           read_only=True) as image:
                self.assertNotEqual([], list(image.list_snaps()),
                                    'trashed image %s has no clone left'
                                    % entry['name'])
        for name in store._rbd.list(store._ioctx):
            with rbd.Image(store._ioctx, name, read_only=True) as image:
                user = [s['name'] for s in image.list_snaps()
                        if s.get('namespace', 0) == 0]
                self.assertEqual([], user, 'snapshots left on %s' % name)


def rbd_variant(cls):
    """``cls`` on the RBD store (named ``<cls>Rbd``)."""
    variant = type(cls.__name__ + 'Rbd', (RbdBackend, cls), {})
    variant.__module__ = cls.__module__
    variant.__qualname__ = variant.__name__
    return variant
