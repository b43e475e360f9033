"""StateStore connections: one per thread, pooled when the thread ends."""

import os
import tempfile
import threading
import unittest

from nutanix_openstack.emulator import state as state_mod


class TestConnectionPool(unittest.TestCase):

    def setUp(self):
        tmp = tempfile.TemporaryDirectory(prefix='state-pool-')
        self.addCleanup(tmp.cleanup)
        self.store = state_mod.StateStore(os.path.join(tmp.name, 's.db'))
        self.addCleanup(self.store.close)

    def run_threads(self, count, fn):
        threads = [threading.Thread(target=fn, args=(i,))
                   for i in range(count)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def test_short_lived_threads_reuse_connections(self):
        # The server runs every request in a new thread: connections must
        # not pile up (each holds file descriptors).
        for i in range(50):
            self.run_threads(1, lambda n, i=i: self.store.put(
                'thing', 'id-%d' % i, {'n': i}))
        self.assertLessEqual(len(self.store._all_conns), 2)
        self.assertEqual(50, self.store.count('thing'))

    def test_concurrent_threads_get_their_own_connection(self):
        barrier = threading.Barrier(5)
        seen = []

        def work(n):
            seen.append(self.store._conn())
            barrier.wait()
            with self.store.transaction():
                self.store.put('thing', 'c-%d' % n, {'n': n})

        self.run_threads(5, work)
        self.assertEqual(5, len(set(map(id, seen))))
        self.assertEqual(5, self.store.count('thing'))

    def test_pool_is_bounded(self):
        barrier = threading.Barrier(self.store.POOL_SIZE + 8)

        def work(n):
            self.store.get('thing', 'x')
            barrier.wait()

        self.run_threads(self.store.POOL_SIZE + 8, work)
        self.assertLessEqual(len(self.store._idle), self.store.POOL_SIZE)
        self.assertEqual(len(self.store._all_conns),
                         # the main thread's, and the idle ones
                         1 + len(self.store._idle))

    def test_thread_dying_mid_transaction_leaves_no_lock(self):
        def work(n):
            conn = self.store._conn()
            conn.execute('BEGIN IMMEDIATE')   # never committed

        self.run_threads(1, work)
        # The write lock was given up with the connection: this does not
        # wait for the busy timeout.
        self.store.put('thing', 'after', {})
        self.assertIsNotNone(self.store.get('thing', 'after'))
