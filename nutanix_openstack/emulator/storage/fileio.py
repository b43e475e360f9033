"""Whole-disk transfers between a DiskStore and regular files.

Used by the emulator for qemu-img conversions of uploaded DISK_IMAGEs:
export the uploaded bytes to a file, convert, import the raw result.
Holes in the source and zero chunks are not stored; exports are sparse.
"""

import errno
import os
import stat

from nutanix_openstack.emulator.storage import args
from nutanix_openstack.emulator.storage import errors

# Chunks handled per transaction, so that the store's lock is given up now
# and then during a long transfer.
_BATCH = 16
# Reads retried when another process frees a chunk under them.
READ_RETRIES = 3


class FileTransferMixin(object):
    """``import_file`` / ``export_file`` for :class:`DiskStore`.

    Relies on the store's ``_meta``, ``_files``, ``chunk_size``,
    ``_put_chunk`` and ``delete``.
    """

    def import_file(self, disk_id, path):
        """Make a disk's content that of a regular file.

        Creates the disk (the file's size) if it does not exist; an
        existing disk grows to the file's size if smaller and reads as
        zeros past the file's end.  Holes and zero chunks are not stored.
        A disk created here is deleted again if the import fails.
        """
        args.check_id(disk_id)
        # Checked before opening: opening a FIFO would block.
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise ValueError('%s is not a regular file' % path)
        with open(path, 'rb', buffering=0) as f:
            fsize = os.fstat(f.fileno()).st_size
            created = False
            with self._meta.transaction(write=True) as txn:
                if txn.disk_exists(disk_id):
                    _head, size = txn.disk(disk_id)
                    if size < fsize:
                        txn.set_size(disk_id, fsize)
                else:
                    head = txn.new_layer(None)
                    txn.add_ref(head)
                    txn.insert_disk(disk_id, head, fsize)
                    created = True
            try:
                self._import_chunks(disk_id, f, fsize)
            except BaseException:
                if created:
                    self.delete(disk_id)
                raise

    def _import_chunks(self, disk_id, f, fsize):
        cs = self.chunk_size
        extents = data_extents(f.fileno(), fsize)
        buf = bytearray(cs)
        ext = 0
        first = 0
        while True:
            with self._meta.transaction(write=True) as txn:
                head, size = txn.disk(disk_id)
                nchunks = (size + cs - 1) // cs
                if first >= nchunks:
                    return
                last = min(nchunks, first + _BATCH) - 1
                rows = txn.rows(head, first, last)
                for idx in range(first, last + 1):
                    start = idx * cs
                    flen = max(0, min(cs, size - start, fsize - start))
                    while ext < len(extents) and extents[ext][1] <= start:
                        ext += 1
                    data = None
                    if (flen and ext < len(extents)
                            and extents[ext][0] < start + flen):
                        view = memoryview(buf)[:flen]
                        f.seek(start)
                        got = 0
                        while got < flen:
                            n = f.readinto(view[got:])
                            if not n:
                                raise errors.StorageError(
                                    'file shrank during import')
                            got += n
                        data = view
                    self._put_chunk(txn, head, idx, rows.get(idx, []), data)
                first = last + 1

    def export_file(self, disk_id, path):
        """Write a disk's whole content to a file, sparse (holes for zeros)."""
        cs = self.chunk_size
        with self._meta.transaction() as txn:
            _head, size = txn.disk(disk_id)
        nchunks = (size + cs - 1) // cs
        with open(path, 'wb') as f:
            f.truncate(size)
            for first in range(0, nchunks, _BATCH):
                last = min(nchunks, first + _BATCH) - 1
                written = set()
                for attempt in range(READ_RETRIES):
                    try:
                        self._export_batch(disk_id, f, size, first, last,
                                           written)
                        break
                    except errors.ChunkVanished:
                        if attempt == READ_RETRIES - 1:
                            raise

    def _export_batch(self, disk_id, f, size, first, last, written):
        """Copy chunks ``first..last``; ``written`` tracks a retried batch."""
        cs = self.chunk_size
        with self._meta.transaction() as txn:
            head, _size = txn.disk(disk_id)
            rows = txn.rows(head, first, last)
            for idx in range(first, last + 1):
                found = rows.get(idx)
                top = found[0] if found else None
                n = min(cs, size - idx * cs)
                if top is not None and not top.zero:
                    data = self._files.read(top.layer, idx, top.gen, 0,
                                            min(n, top.nbytes))
                elif idx in written:
                    data = bytes(n)     # zero now, unlike a try before
                else:
                    continue
                f.seek(idx * cs)
                f.write(data)
                written.add(idx)


def data_extents(fd, fsize):
    """``[(start, end)]`` of a file's data, holes left out when the OS says."""
    if not hasattr(os, 'SEEK_DATA'):
        return [(0, fsize)]
    extents = []
    pos = 0
    try:
        while pos < fsize:
            start = os.lseek(fd, pos, os.SEEK_DATA)
            end = os.lseek(fd, start, os.SEEK_HOLE)
            extents.append((start, end))
            pos = end
    except OSError as exc:
        if exc.errno != errno.ENXIO:    # no data past pos
            return [(0, fsize)]
    return extents


def read_aligned(reader, chunk_size, offset=0):
    """``(position, view)`` pieces of a reader's bytes, cut at chunks.

    The first piece ends at the chunk boundary after ``offset``, the
    others are whole chunks but the last.  The bytes land straight in one
    reused buffer through ``readinto()`` (no intermediate byte strings):
    a view is valid until the next piece is asked for.  Ends at the
    reader's EOF.
    """
    buf = memoryview(bytearray(chunk_size))
    want = chunk_size - offset % chunk_size
    pos = offset
    while True:
        fill = 0
        while fill < want:
            n = reader.readinto(buf[fill:want])
            if not n:
                break
            fill += n
        if fill:
            yield pos, buf[:fill]
            pos += fill
        if fill < want:
            return
        want = chunk_size
