"""DiskStore across processes and threads: SIGKILL, shared roots, locking."""

import os
import random
import signal
import subprocess
import sys
import threading
from unittest import mock

from nutanix_openstack.emulator import storage
from tests.unit.emulator import backends
from tests.unit.emulator import test_storage

# Writes 5000 bytes (over two chunks of 4 KiB) per step, snapshots every
# seventh step, and acknowledges each step on stdout once the call returned.
WRITER = r'''
import sys
from tests.unit.emulator import backends

def payload(i):
    return bytes((i + k) % 251 + 1 for k in range(5000))

store = backends.open_store(sys.argv[2], sys.argv[1], 4096)
store.create('d', 1 << 30)
i = 0
while True:
    store.write('d', i * 5000, payload(i))
    if i % 7 == 0:
        store.clone('d', 'snap%d' % i)
    print(i, flush=True)
    i += 1
'''

# Clones the shared disk 'base' into disks of its own and writes to them.
SHARER = r'''
import sys
from tests.unit.emulator import backends

store = backends.open_store(sys.argv[3], sys.argv[1], 4096)
tag = sys.argv[2]
for i in range(40):
    name = '%s-%d' % (tag, i)
    store.clone('base', name)
    store.write(name, i * 100, (tag * 100).encode()[:100])
    store.write('own-' + tag, i * 3000, (tag * 3000).encode()[:3000])
print('done', flush=True)
'''


def payload(i):
    return bytes((i + k) % 251 + 1 for k in range(5000))


class TestDurability(test_storage.StoreTestCase):

    def test_acknowledged_writes_survive_sigkill(self):
        proc = subprocess.Popen([sys.executable, '-c', WRITER, self.root,
                                 self.backend],
                                stdout=subprocess.PIPE, text=True)
        self.addCleanup(proc.wait)
        self.addCleanup(proc.stdout.close)
        acked = -1
        try:
            for line in proc.stdout:
                acked = int(line)
                if acked >= 150:
                    break
        finally:
            proc.send_signal(signal.SIGKILL)
        proc.wait()
        self.assertGreaterEqual(acked, 150)

        store = self.open_store()
        for i in range(acked + 1):
            self.assertEqual(payload(i), store.read('d', i * 5000, 5000),
                             'write %d' % i)
        # A write is one transaction: the next one is all there or absent.
        after = store.read('d', (acked + 1) * 5000, 5000)
        self.assertIn(after, (payload(acked + 1), bytes(5000)))
        for snap in range(0, acked + 1, 7):
            name = 'snap%d' % snap
            self.assertEqual(payload(snap),
                             store.read(name, snap * 5000, 5000))
            self.assertEqual(bytes(5000),
                             store.read(name, (snap + 1) * 5000, 5000))
        # Whatever the kill left behind was swept at open.
        self.assertEqual(0, store.sweep())
        store.delete('d')
        for name in store.list_disks():
            store.delete(name)
        self.store = store
        self.assertNothingStored()

    def test_two_processes_share_a_root(self):
        base = test_storage.pattern(20000)
        self.store.create('base', 20000)
        self.store.write('base', 0, base)
        for tag in 'ab':
            self.store.create('own-' + tag, 40 * 3000)
        procs = [subprocess.Popen([sys.executable, '-c', SHARER, self.root,
                                   tag, self.backend],
                                  stdout=subprocess.PIPE, text=True)
                 for tag in 'ab']
        for proc in procs:
            out, _err = proc.communicate(timeout=120)
            self.assertEqual(0, proc.returncode)
            self.assertEqual('done\n', out)
        for tag in 'ab':
            self.assertEqual((tag * 40 * 3000).encode(),
                             self.store.read('own-' + tag, 0, 40 * 3000))
            for i in range(40):
                expected = bytearray(base)
                expected[i * 100:i * 100 + 100] = (tag * 100).encode()
                self.assertEqual(bytes(expected),
                                 self.store.read('%s-%d' % (tag, i), 0,
                                                 20000))
        self.assertEqual(base, self.store.read('base', 0, 20000))


class TestThreads(test_storage.StoreTestCase):

    def test_threads_share_one_store(self):
        size = 10 * self.chunk_size
        base = test_storage.pattern(size)
        self.store.create('base', size)
        self.store.write('base', 0, base)
        failures = []

        def worker(n):
            try:
                rng = random.Random(n)
                name = 'w%d' % n
                self.store.clone('base', name)
                model = bytearray(base)
                for step in range(60):
                    offset = rng.randrange(size - 600)
                    data = bytes([n + 1]) * rng.randrange(1, 600)
                    if step % 5 == 0:
                        data = bytes(len(data))
                    self.store.write(name, offset, data)
                    model[offset:offset + len(data)] = data
                    if step % 10 == 0:
                        self.store.clone(name, '%s-s%d' % (name, step))
                    got = self.store.read(name, offset - offset % 1000, 2000)
                    start = offset - offset % 1000
                    if got != bytes(model[start:start + 2000]):
                        failures.append('%s step %d' % (name, step))
                if self.store.read(name, 0, size) != bytes(model):
                    failures.append('%s final' % name)
            except Exception as exc:     # reported by the main thread
                failures.append(repr(exc))

        threads = [threading.Thread(target=worker, args=(n,))
                   for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertEqual([], failures)
        self.assertEqual(base, self.store.read('base', 0, size))
        self.store.clear()
        self.assertNothingStored()


class TestSweep(test_storage.StoreTestCase):

    def test_sweep_removes_only_orphans(self):
        cs = self.chunk_size
        self.store.create('d', 2 * cs)
        self.store.write('d', 0, b'keep' * 10)
        chunks = os.path.join(self.root, 'chunks')
        layer_dir = os.path.join(chunks, os.listdir(chunks)[0])
        # What a process killed mid-write or mid-delete leaves behind.
        for path in (os.path.join(layer_dir, '1.abc'),
                     os.path.join(layer_dir, '0.1-tmp-1-2'),
                     os.path.join(chunks, '999', '0.1')):
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, 'wb') as f:
                f.write(b'junk')
        self.store.close()
        store = self.open_store()   # sweeps at open
        self.assertEqual(0, store.sweep())
        self.assertEqual([layer_dir], [os.path.join(chunks, n)
                                       for n in os.listdir(chunks)])
        self.assertEqual(1, len(os.listdir(layer_dir)))
        self.assertEqual(b'keep' * 10, store.read('d', 0, 40))

    def test_closed_store_refuses_work(self):
        self.store.close()
        self.assertRaises(storage.StorageError, self.store.exists, 'd')


class TestVanishedChunks(test_storage.StoreTestCase):
    """Another process may free a chunk file between our query and open.

    The race cannot be timed from a test, so the first open fails through
    a mock; the retry then reads the real file.
    """

    def setUp(self):
        super(TestVanishedChunks, self).setUp()
        self.data = test_storage.pattern(3 * self.chunk_size)
        self.store.create('d', len(self.data))
        self.store.write('d', 0, self.data)
        real_read = self.store._files.read
        self.calls = 0

        def flaky_read(*args):
            self.calls += 1
            if self.calls == 1:
                raise storage.errors.ChunkVanished('gone')
            return real_read(*args)
        patcher = mock.patch.object(self.store._files, 'read', flaky_read)
        patcher.start()
        self.addCleanup(patcher.stop)

    def test_read_retries(self):
        self.assertEqual(self.data, self.store.read('d', 0, len(self.data)))
        self.assertGreater(self.calls, 3)

    def test_iter_read_retries(self):
        self.assertEqual(self.data, b''.join(self.store.iter_read(
            'd', block_size=1000)))

    def test_export_retries(self):
        out = os.path.join(self.root, 'out')
        self.store.export_file('d', out)
        with open(out, 'rb') as f:
            self.assertEqual(self.data, f.read())

    def test_gives_up_after_a_few_tries(self):
        with mock.patch.object(self.store._files, 'read',
                               side_effect=storage.errors.ChunkVanished('x')):
            self.assertRaises(storage.StorageError, self.store.read, 'd', 0,
                              10)


class TestSweepRbd(backends.RbdBackend, test_storage.StoreTestCase):
    """A killed process's leftovers in the pool go when a store opens."""

    def test_sweep_removes_only_orphans(self):
        store = self.store
        rbd = store._rbd_mod
        store.create('d', 2 * self.chunk_size)
        store.write('d', 0, b'keep' * 10)
        store.create('parent', 100)
        store.write('parent', 0, b'p')
        store.clone('parent', 'child')
        store.delete('parent')          # in the trash: child needs it
        # A clone snapshot left by a kill between snapshot and removal,
        # and a trashed image whose last clone went without collecting it.
        with rbd.Image(store._ioctx, 'disk.d') as image:
            image.create_snap('clone.left-behind')
        store._rbd.create(store._ioctx, 'disk.orphan', 10, old_format=False,
                          features=rbd.RBD_FEATURE_LAYERING)
        store._rbd.trash_move(store._ioctx, 'disk.orphan', 0)
        store.close()
        self.store = self.open_store()      # sweeps at open
        self.assertEqual(0, self.store.sweep())
        self.assertConsistent()
        self.assertEqual(['child', 'd'], self.store.list_disks())
        self.assertEqual(1, len(list(store._rbd.trash_list(
            self.store._ioctx))))
        self.assertEqual(b'keep' * 10, self.store.read('d', 0, 40))
        self.assertEqual(b'p', self.store.read('child', 0, 1))

    def test_closed_store_refuses_work(self):
        self.store.close()
        self.assertRaises(storage.StorageError, self.store.exists, 'd')


TestDurabilityRbd = backends.rbd_variant(TestDurability)
TestThreadsRbd = backends.rbd_variant(TestThreads)
