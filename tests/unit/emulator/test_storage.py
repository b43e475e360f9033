"""DiskStore: reading and writing one disk, zero chunks, streams, files.

Part of the storage contract every backend passes: each test class also
runs on the RBD store as its ``...Rbd`` variant (:mod:`.backends`).
Assertions on the local store's own files and tables are made on the local
store only (``self.local``).
"""

import os
import tempfile
import tracemalloc
import unittest

from nutanix_openstack.emulator import storage
from tests.unit.emulator import backends

KiB = 1024
MiB = 1024 * KiB


def pattern(n, seed=1):
    """``n`` non-zero bytes that differ from one offset to the next."""
    block = bytes((seed * 7 + i * 13) % 255 + 1 for i in range(4099))
    reps = n // len(block) + 1
    return (block * reps)[:n]


class StoreTestCase(unittest.TestCase):
    chunk_size = 4 * KiB
    backend = 'local'

    @property
    def local(self):
        return self.backend == 'local'

    def skipUnlessLocal(self, why):
        if not self.local:
            self.skipTest('local store only: %s' % why)

    def assertNothingStored(self):
        self.assertEqual(dict(disks=0, layers=0, chunks=0, bytes_stored=0,
                              tombstones=0), self.store.stats())
        self.assertEqual([], self.chunk_files())

    def setUp(self):
        super(StoreTestCase, self).setUp()
        tmp = tempfile.TemporaryDirectory(prefix='diskstore-')
        self.addCleanup(tmp.cleanup)
        self.root = tmp.name
        self.store = self.open_store()

    def open_store(self):
        store = storage.DiskStore(self.root, chunk_size=self.chunk_size)
        self.addCleanup(store.close)
        return store

    def chunk_files(self):
        found = []
        for dirpath, _dirs, files in os.walk(os.path.join(self.root,
                                                          'chunks')):
            found.extend(os.path.join(dirpath, f) for f in files)
        return found


class TestReadWrite(StoreTestCase):

    def test_new_disk_reads_zeros_and_stores_nothing(self):
        self.store.create('d', 10 * self.chunk_size + 5)
        self.assertTrue(self.store.exists('d'))
        self.assertEqual(10 * self.chunk_size + 5, self.store.size('d'))
        self.assertEqual(bytes(3 * self.chunk_size),
                         self.store.read('d', 100, 3 * self.chunk_size))
        if self.local:
            self.assertEqual(0, self.store.stats()['chunks'])
        self.assertEqual(0, self.store.allocated_bytes('d'))

    def test_unaligned_write_across_chunk_boundaries(self):
        cs = self.chunk_size
        size = 5 * cs + 123
        self.store.create('d', size)
        model = bytearray(size)
        for offset, length in ((cs - 7, 20), (2 * cs + 1, 2 * cs + 5),
                               (0, 3), (size - 50, 50), (cs, cs)):
            data = pattern(length, seed=offset)
            self.store.write('d', offset, data)
            model[offset:offset + length] = data
        self.assertEqual(bytes(model), self.store.read('d', 0, size))
        for offset, length in ((0, 1), (cs - 10, 30), (3 * cs - 1, cs + 2),
                               (size - 3, 3)):
            self.assertEqual(bytes(model[offset:offset + length]),
                             self.store.read('d', offset, length))

    def test_read_is_clipped_at_the_end(self):
        self.store.create('d', 100)
        self.store.write('d', 90, b'x' * 10)
        self.assertEqual(b'x' * 10, self.store.read('d', 90, 1000))
        self.assertEqual(b'', self.store.read('d', 100, 10))
        self.assertEqual(b'', self.store.read('d', 5000, 10))

    def test_write_past_end_is_refused_and_changes_nothing(self):
        self.store.create('d', 100)
        self.assertRaises(ValueError, self.store.write, 'd', 95, b'y' * 6)
        self.assertEqual(bytes(100), self.store.read('d', 0, 100))
        self.store.write('d', 95, b'y' * 5)
        self.store.write('d', 100, b'')

    def test_zero_chunks_are_not_stored(self):
        cs = self.chunk_size
        self.store.create('d', 4 * cs)
        self.store.write('d', 0, bytes(4 * cs))
        self.assertEqual(0, self.store.allocated_bytes('d'))
        self.store.write('d', cs + 10, b'abc')
        self.assertEqual(cs, self.store.allocated_bytes('d'))
        # Zeroing the written bytes frees the chunk (and its file).
        self.store.write('d', cs + 10, bytes(3))
        self.assertEqual(0, self.store.allocated_bytes('d'))
        if self.local:
            stats = self.store.stats()
            self.assertEqual((0, 0, 0), (stats['chunks'],
                                         stats['bytes_stored'],
                                         stats['tombstones']))
            self.assertEqual([], self.chunk_files())
        self.assertEqual(bytes(4 * cs), self.store.read('d', 0, 4 * cs))

    def test_rewrite_replaces_the_chunk_file(self):
        self.store.create('d', self.chunk_size)
        self.store.write('d', 0, b'a' * self.chunk_size)
        self.store.write('d', 0, b'b' * self.chunk_size)
        if self.local:
            self.assertEqual(1, len(self.chunk_files()))
        self.assertEqual(self.chunk_size, self.store.allocated_bytes('d'))
        self.assertEqual(b'b' * 10, self.store.read('d', 0, 10))

    def test_write_accepts_bytes_like_objects(self):
        self.store.create('d', 64)
        self.store.write('d', 0, bytearray(b'ab'))
        self.store.write('d', 2, memoryview(b'cd'))
        self.assertEqual(b'abcd', self.store.read('d', 0, 4))

    def test_resize_grows_with_zeros_and_refuses_shrink(self):
        cs = self.chunk_size
        self.store.create('d', cs + 10)
        self.store.write('d', cs, b'z' * 10)
        self.store.resize('d', 3 * cs)
        self.assertEqual(3 * cs, self.store.size('d'))
        self.assertEqual(b'z' * 10 + bytes(cs - 10),
                         self.store.read('d', cs, cs))
        self.store.write('d', 3 * cs - 1, b'e')
        self.assertRaises(ValueError, self.store.resize, 'd', cs)
        self.assertEqual(3 * cs, self.store.size('d'))

    def test_missing_and_duplicate_disks(self):
        self.store.create('d', 10)
        self.assertRaises(storage.DiskExists, self.store.create, 'd', 10)
        self.assertFalse(self.store.exists('nope'))
        for call, args in ((self.store.read, ('nope', 0, 1)),
                           (self.store.write, ('nope', 0, b'x')),
                           (self.store.size, ('nope',)),
                           (self.store.resize, ('nope', 100)),
                           (self.store.delete, ('nope',)),
                           (self.store.iter_read, ('nope',)),
                           (self.store.flatten, ('nope',)),
                           (self.store.chain, ('nope',)),
                           (self.store.clone, ('nope', 'new'))):
            self.assertRaises(storage.DiskNotFound, call, *args)
        self.assertFalse(self.store.exists('new'))
        self.assertTrue(issubclass(storage.DiskNotFound,
                                   storage.StorageError))

    def test_bad_arguments(self):
        self.assertRaises(ValueError, self.store.create, 'd', -1)
        self.assertRaises(TypeError, self.store.create, '', 1)
        self.assertRaises(TypeError, self.store.create, 'd', 1.5)
        self.store.create('d', 10)
        self.assertRaises(ValueError, self.store.read, 'd', -1, 2)
        self.assertRaises(ValueError, self.store.write, 'd', -1, b'x')
        self.assertRaises(ValueError, self.store.iter_read, 'd',
                          block_size=0)

    def test_reopen_with_other_chunk_size_is_refused(self):
        self.skipUnlessLocal('RBD keeps the object size in each image')
        self.assertRaises(storage.StorageError, storage.DiskStore,
                          self.root, chunk_size=2 * self.chunk_size)

    def test_list_info_and_clear(self):
        self.store.create('b', 10)
        self.store.create('a', 10)
        self.assertEqual(['a', 'b'], self.store.list_disks())
        info = self.store.info('a')
        self.assertEqual(10, info['size'])
        self.assertEqual(1, len(info['chain']))
        self.store.write('a', 0, b'data')
        self.store.clone('a', 'c')
        self.store.write('c', 0, b'more')
        self.store.clear()
        self.assertEqual([], self.store.list_disks())
        self.assertNothingStored()
        self.store.create('a', 10)      # usable afterwards


class TestStreams(StoreTestCase):

    def test_iter_read_blocks(self):
        cs = self.chunk_size
        size = 3 * cs + 17
        data = pattern(size)
        self.store.create('d', size)
        self.store.write('d', 0, data)
        blocks = list(self.store.iter_read('d', block_size=1000))
        self.assertEqual(data, b''.join(blocks))
        self.assertTrue(all(len(b) == 1000 for b in blocks[:-1]))
        part = b''.join(self.store.iter_read('d', offset=cs - 3, length=cs,
                                             block_size=cs))
        self.assertEqual(data[cs - 3:2 * cs - 3], part)
        self.assertEqual([], list(self.store.iter_read('d', offset=size)))

    def test_write_stream_of_unknown_size_grows_the_disk(self):
        self.store.create('d', 0)
        data = pattern(5 * self.chunk_size + 321)
        pieces = (data[i:i + 1000] for i in range(0, len(data), 1000))
        self.assertEqual(len(data), self.store.write_stream('d', pieces))
        self.assertEqual(len(data), self.store.size('d'))
        self.assertEqual(data, self.store.read('d', 0, len(data)))

    def test_write_stream_at_unaligned_offset(self):
        cs = self.chunk_size
        self.store.create('d', 4 * cs)
        self.store.write('d', 0, b'\xff' * 4 * cs)
        data = pattern(2 * cs)
        n = self.store.write_stream('d', [data[:5], data[5:]], offset=cs + 3)
        self.assertEqual(2 * cs, n)
        expected = b'\xff' * (cs + 3) + data + b'\xff' * (cs - 3)
        self.assertEqual(expected, self.store.read('d', 0, 4 * cs))
        self.assertEqual(4 * cs, self.store.size('d'))

    def test_write_stream_without_grow_stops_at_the_end(self):
        cs = self.chunk_size
        self.store.create('d', 2 * cs)
        pieces = [b'a' * cs, b'b' * cs, b'c' * cs]
        self.assertRaises(ValueError, self.store.write_stream, 'd',
                          iter(pieces), grow=False)
        self.assertEqual(2 * cs, self.store.size('d'))
        self.assertEqual(b'a' * cs + b'b' * cs,
                         self.store.read('d', 0, 2 * cs))


class TestStreamMemory(StoreTestCase):
    """Uploads and downloads keep about one chunk in memory."""

    chunk_size = storage.DEFAULT_CHUNK_SIZE
    total = 64 * MiB

    def _peak(self, func):
        tracemalloc.start()
        try:
            result = func()
            return result, tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    def test_write_stream_memory_is_bounded(self):
        self.store.create('d', 0)
        # Pieces that do not divide the chunk size: the last chunk is short.
        piece = pattern(64 * KiB - 1)
        count = self.total // len(piece)
        pieces = (piece for _ in range(count))
        written, peak = self._peak(
            lambda: self.store.write_stream('d', pieces))
        self.assertEqual(count * len(piece), written)
        # The one chunk being filled, plus small change.
        self.assertLess(peak, 1.5 * self.chunk_size)
        self.assertEqual(piece, self.store.read('d', written - len(piece),
                                                len(piece)))

    def test_iter_read_memory_is_bounded(self):
        self.store.create('d', self.total)
        self.store.write_stream('d', (pattern(MiB) for _ in range(64)))

        def drain():
            n = 0
            for block in self.store.iter_read('d'):
                n += len(block)
            return n
        count, peak = self._peak(drain)
        self.assertEqual(self.total, count)
        # A block (1 MiB) or two, never a chunk.
        self.assertLess(peak, self.chunk_size)


class TestFiles(StoreTestCase):

    def _sparse_file(self, size, blocks):
        path = os.path.join(self.root, 'src.raw')
        with open(path, 'wb') as f:
            f.truncate(size)
            for offset, data in blocks:
                f.seek(offset)
                f.write(data)
        return path

    def test_import_creates_the_disk_and_skips_zeros(self):
        cs = self.chunk_size
        size = 10 * cs + 100
        blocks = [(3, b'head'), (5 * cs, pattern(cs)),
                  (size - 7, b'tailend')]
        path = self._sparse_file(size, blocks)
        self.store.import_file('img', path)
        self.assertEqual(size, self.store.size('img'))
        with open(path, 'rb') as f:
            self.assertEqual(f.read(), self.store.read('img', 0, size))
        self.assertEqual(2 * cs + 100, self.store.allocated_bytes('img'))

    def test_import_over_an_existing_disk_replaces_its_content(self):
        cs = self.chunk_size
        self.store.create('d', 4 * cs)
        self.store.write('d', 0, b'\xee' * 4 * cs)
        path = self._sparse_file(cs + 1, [(cs, b'!')])
        self.store.import_file('d', path)
        self.assertEqual(4 * cs, self.store.size('d'))
        self.assertEqual(bytes(cs) + b'!' + bytes(3 * cs - 1),
                         self.store.read('d', 0, 4 * cs))

    def test_import_of_a_directory_is_refused_without_a_disk(self):
        self.assertRaises(ValueError, self.store.import_file, 'd', self.root)
        self.assertFalse(self.store.exists('d'))

    def test_export_is_sparse_and_identical(self):
        cs = self.chunk_size
        size = 64 * cs + 5
        self.store.create('d', size)
        data = pattern(cs + 10)
        self.store.write('d', 7 * cs - 5, data)
        self.store.write('d', size - 2, b'zz')
        out = os.path.join(self.root, 'out.raw')
        self.store.export_file('d', out)
        st = os.stat(out)
        self.assertEqual(size, st.st_size)
        with open(out, 'rb') as f:
            self.assertEqual(self.store.read('d', 0, size), f.read())
        # Three chunks hold data; the rest of the file is holes.
        self.assertLessEqual(st.st_blocks * 512, 8 * cs)

    def test_export_import_round_trip(self):
        cs = self.chunk_size
        self.store.create('a', 9 * cs)
        self.store.write('a', 2 * cs + 1, pattern(3 * cs))
        out = os.path.join(self.root, 'a.raw')
        self.store.export_file('a', out)
        self.store.import_file('b', out)
        self.assertEqual(self.store.read('a', 0, 9 * cs),
                         self.store.read('b', 0, 9 * cs))


TestReadWriteRbd = backends.rbd_variant(TestReadWrite)
TestStreamsRbd = backends.rbd_variant(TestStreams)
TestStreamMemoryRbd = backends.rbd_variant(TestStreamMemory)
TestFilesRbd = backends.rbd_variant(TestFiles)
