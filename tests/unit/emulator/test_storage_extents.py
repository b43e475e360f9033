"""DiskStore fast paths: iter_extents (zero-copy reads), write_reader."""

import io
import os
import random

from nutanix_openstack.emulator import downloads
from nutanix_openstack.emulator import storage
from tests.unit.emulator import backends
from tests.unit.emulator import test_storage

KiB = 1024
pattern = test_storage.pattern


def extents_bytes(extents):
    """The bytes the extents describe, read with pread."""
    out = bytearray()
    for fd, offset, n in extents:
        if fd is None:
            out += bytes(n)
        elif isinstance(fd, bytes):     # a store without files (RBD)
            out += fd[offset:offset + n]
        else:
            data = os.pread(fd, n, offset)
            out += data + bytes(n - len(data))
    return bytes(out)


def open_fds():
    return len(os.listdir('/proc/self/fd'))


class SparseDisk(object):

    def make_sparse(self):
        """A 3-layer chain: data, holes, a tombstone, a short last chunk."""
        cs = self.chunk_size
        size = 10 * cs + 123
        self.store.create('base', size)
        expected = bytearray(size)
        for idx in (0, 1, 4, 7):
            data = pattern(cs, seed=idx + 1)
            self.store.write('base', idx * cs, data)
            expected[idx * cs:(idx + 1) * cs] = data
        self.store.clone('base', 'mid')
        self.store.write('mid', 4 * cs, bytes(cs))      # tombstone
        expected[4 * cs:5 * cs] = bytes(cs)
        self.store.write('mid', 2 * cs + 100, b'x' * 50)
        expected[2 * cs + 100:2 * cs + 150] = b'x' * 50
        self.store.clone('mid', 'top')
        tail = pattern(123, seed=9)
        self.store.write('top', 10 * cs, tail)
        expected[10 * cs:] = tail
        return 'top', bytes(expected)


class TestExtents(SparseDisk, test_storage.StoreTestCase):

    def test_whole_disk_matches_read(self):
        disk, expected = self.make_sparse()
        before = open_fds()
        self.assertEqual(expected,
                         extents_bytes(self.store.iter_extents(disk)))
        self.assertEqual(expected,
                         self.store.read(disk, 0, len(expected)))
        self.assertEqual(before, open_fds())

    def test_random_ranges_are_exact(self):
        disk, expected = self.make_sparse()
        rnd = random.Random(17)
        for _ in range(200):
            start = rnd.randrange(len(expected))
            length = rnd.randrange(len(expected) - start + 1)
            got = extents_bytes(self.store.iter_extents(disk, start, length))
            self.assertEqual(expected[start:start + length], got,
                             (start, length))
        # Past the end: clipped, like read().
        got = extents_bytes(self.store.iter_extents(
            disk, len(expected) - 10, 1000))
        self.assertEqual(expected[-10:], got)

    def test_zero_runs_are_merged(self):
        cs = self.chunk_size
        self.store.create('d', 10 * cs)
        self.store.write('d', 9 * cs, b'end')
        extents = list(self.store.iter_extents('d'))
        self.assertEqual((None, 0, 9 * cs), extents[0])
        self.assertIsNotNone(extents[1][0])
        self.assertEqual(cs, extents[1][2])
        self.assertEqual(2, len(extents))

    def test_missing_disk_fails_at_the_call(self):
        self.assertRaises(storage.DiskNotFound, self.store.iter_extents,
                          'nope')

    def test_files_closed_when_left_early(self):
        disk, _expected = self.make_sparse()
        before = open_fds()
        it = self.store.iter_extents(disk)
        next(it)
        if self.local:      # RBD extents hold bytes, not files
            self.assertGreater(open_fds(), before)
        it.close()
        self.assertEqual(before, open_fds())

    def test_rewrite_after_resolution_does_not_change_bytes(self):
        # The files of a batch are opened in its transaction: a rewrite
        # (new file, old one unlinked after its commit) is not seen.
        cs = self.chunk_size
        old = pattern(2 * cs, seed=3)
        self.store.create('d', 2 * cs)
        self.store.write('d', 0, old)
        it = self.store.iter_extents('d')
        first = next(it)
        self.store.write('d', 0, pattern(2 * cs, seed=4))
        # Read before moving on: the batch's files close after it.
        got = extents_bytes([first]) + extents_bytes(it)
        self.assertEqual(old, got)

    def test_disk_replaced_by_a_smaller_one_ends_short(self):
        cs = self.chunk_size
        n = (storage.store.EXTENT_BATCH + 4) * cs
        self.store.create('d', n)
        self.store.write('d', 0, pattern(n))
        it = self.store.iter_extents('d')
        first = next(it)
        self.store.delete('d')
        self.store.create('d', 0)
        got = extents_bytes([first]) + extents_bytes(it)
        self.assertEqual(pattern(n)[:len(got)], got)
        self.assertLess(len(got), n)


class TestDiskBody(SparseDisk, test_storage.StoreTestCase):
    """The WSGI body without a socket yields exactly the disk's bytes."""

    def test_body_bytes(self):
        disk, expected = self.make_sparse()
        before = open_fds()
        body = downloads.DiskBody(self.store.iter_extents(disk, 5, 9 * 4096))
        self.assertEqual(expected[5:5 + 9 * 4096], b''.join(body))
        body.close()
        self.assertEqual(before, open_fds())

    def test_body_closed_early_closes_files(self):
        disk, _expected = self.make_sparse()
        before = open_fds()
        body = downloads.DiskBody(self.store.iter_extents(disk))
        next(iter(body))
        body.close()
        self.assertEqual(before, open_fds())


class TestWriteReader(test_storage.StoreTestCase):

    def test_same_content_as_write_stream(self):
        cs = self.chunk_size
        data = pattern(5 * cs + 77)
        for offset in (0, 100, cs, 3 * cs - 1):
            self.store.create('r%d' % offset, 0)
            n = self.store.write_reader('r%d' % offset, io.BytesIO(data),
                                        offset)
            self.assertEqual(len(data), n)
            self.assertEqual(offset + len(data),
                             self.store.size('r%d' % offset))
            self.assertEqual(bytes(offset) + data,
                             self.store.read('r%d' % offset, 0,
                                             offset + len(data)))

    def test_short_reads_are_filled(self):
        class Trickle(io.RawIOBase):
            def __init__(self, data):
                self.data = data

            def readable(self):
                return True

            def readinto(self, b):
                n = min(len(b), 1000, len(self.data))
                b[:n] = self.data[:n]
                self.data = self.data[n:]
                return n

        data = pattern(3 * self.chunk_size + 5)
        self.store.create('t', 0)
        self.assertEqual(len(data),
                         self.store.write_reader('t', Trickle(data)))
        self.assertEqual(data, self.store.read('t', 0, len(data)))

    def test_without_grow_fails_past_the_end(self):
        self.store.create('f', self.chunk_size)
        self.assertRaises(ValueError, self.store.write_reader, 'f',
                          io.BytesIO(pattern(2 * self.chunk_size)),
                          grow=False)

    def test_reader_error_keeps_what_was_committed(self):
        class Broken(io.RawIOBase):
            def __init__(self, good):
                self.good = good

            def readable(self):
                return True

            def readinto(self, b):
                if not self.good:
                    raise ConnectionResetError('client went away')
                n = min(len(b), len(self.good))
                b[:n] = self.good[:n]
                self.good = self.good[n:]
                return n

        cs = self.chunk_size
        self.store.create('b', 0)
        self.assertRaises(ConnectionResetError, self.store.write_reader, 'b',
                          Broken(pattern(cs + 10)))
        # Whole chunks before the failure are committed, nothing else.
        self.assertEqual(cs, self.store.size('b'))


TestExtentsRbd = backends.rbd_variant(TestExtents)
TestDiskBodyRbd = backends.rbd_variant(TestDiskBody)
TestWriteReaderRbd = backends.rbd_variant(TestWriteReader)
