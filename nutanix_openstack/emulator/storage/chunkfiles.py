"""Chunk files: ``<root>/chunks/<layer>/<idx>.<gen hex>``.

A chunk file holds the bytes of one chunk from its start, possibly shorter
than the chunk (the rest reads as zeros).  Files are written under a
temporary name and renamed, so a file with its final name is always
complete; the metadata row that makes it visible is committed after the
rename.  Files are never modified in place, which is also what makes hard
links between layers (flatten) safe.
"""

import errno
import os
import random
import shutil
import threading

from nutanix_openstack.emulator.storage import errors

_TMP_MARK = '.tmp-'
# Chunk files are written in pieces of this size: on the development
# machine one write() of a whole 4 MiB chunk cost 3 to 5 times the CPU
# (kernel time filling the page cache) of the same bytes written 256 KiB
# at a time.
WRITE_PIECE = 256 * 1024


def new_gen():
    """A fresh file generation: a rewrite never reuses a file name."""
    return random.getrandbits(48)


class ChunkFiles(object):

    def __init__(self, root):
        self.root = root
        os.makedirs(root, exist_ok=True)

    def layer_dir(self, layer):
        return os.path.join(self.root, str(layer))

    def path(self, layer, idx, gen):
        return os.path.join(self.root, str(layer), '%d.%x' % (idx, gen))

    def write(self, layer, idx, gen, data):
        """Store ``data`` (any bytes-like object) as a chunk file."""
        final = self.path(layer, idx, gen)
        tmp = '%s%s%d-%d' % (final, _TMP_MARK, os.getpid(),
                             threading.get_ident())
        os.makedirs(os.path.dirname(final), exist_ok=True)
        view = memoryview(data).cast('B')
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            try:
                pos = 0
                while pos < len(view):
                    pos += os.write(fd, view[pos:pos + WRITE_PIECE])
            finally:
                os.close(fd)
            os.replace(tmp, final)
        except BaseException:
            self._unlink(tmp)
            raise

    def open(self, layer, idx, gen):
        """A read-only file descriptor of a chunk file (close it).

        Chunk files are never modified, and an open descriptor keeps the
        bytes readable even when the file is unlinked afterwards.
        """
        try:
            return os.open(self.path(layer, idx, gen), os.O_RDONLY)
        except FileNotFoundError:
            raise errors.ChunkVanished(
                'chunk %d of layer %d vanished' % (idx, layer))

    def read(self, layer, idx, gen, offset, length):
        """``length`` bytes of a chunk from ``offset``; zeros past its end."""
        try:
            with open(self.path(layer, idx, gen), 'rb') as f:
                if offset:
                    f.seek(offset)
                data = f.read(length)
        except FileNotFoundError:
            raise errors.ChunkVanished(
                'chunk %d of layer %d vanished' % (idx, layer))
        if len(data) < length:
            data += bytes(length - len(data))
        return data

    def read_into(self, layer, idx, gen, offset, view):
        """Fill ``view`` from ``offset`` of a chunk; zeros past its end."""
        try:
            with open(self.path(layer, idx, gen), 'rb', buffering=0) as f:
                if offset:
                    f.seek(offset)
                got = 0
                while got < len(view):
                    n = f.readinto(view[got:])
                    if not n:
                        break
                    got += n
        except FileNotFoundError:
            raise errors.ChunkVanished(
                'chunk %d of layer %d vanished' % (idx, layer))
        if got < len(view):
            view[got:] = bytes(len(view) - got)
        return got

    def link_or_copy(self, src_layer, idx, src_gen, dst_layer, dst_gen):
        """Give ``dst_layer`` its own copy of a chunk.

        A hard link where the file system allows it: chunk files are
        immutable, so sharing the inode is a copy without the I/O.
        """
        src = self.path(src_layer, idx, src_gen)
        dst = self.path(dst_layer, idx, dst_gen)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        try:
            os.link(src, dst)
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.EXDEV, errno.EMLINK,
                                 errno.ENOTSUP, errno.EOPNOTSUPP):
                raise
            tmp = dst + _TMP_MARK + 'copy'
            shutil.copyfile(src, tmp)
            os.replace(tmp, dst)

    def unlink(self, layer, idx, gen):
        self._unlink(self.path(layer, idx, gen))

    @staticmethod
    def _unlink(path):
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass

    def remove_layer(self, layer):
        shutil.rmtree(self.layer_dir(layer), ignore_errors=True)

    def sweep(self, layers, data_files):
        """Remove what no metadata row points at.

        Leftovers of a process killed between writing a file and
        committing its row, or between a commit and the removal of the
        files it freed.  ``layers`` is the set of live layer ids and
        ``data_files`` the set of ``(layer, idx, gen)`` of data chunks.
        Must run with the metadata write lock held.  Returns the number of
        files and directories removed.
        """
        removed = 0
        for name in os.listdir(self.root):
            path = os.path.join(self.root, name)
            layer = int(name) if name.isdigit() else None
            if layer not in layers:
                if os.path.isdir(path):
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    self._unlink(path)
                removed += 1
                continue
            for fname in os.listdir(path):
                if not self._is_live(layer, fname, data_files):
                    self._unlink(os.path.join(path, fname))
                    removed += 1
        return removed

    @staticmethod
    def _is_live(layer, fname, data_files):
        idx, _sep, gen = fname.partition('.')
        try:
            key = (layer, int(idx), int(gen, 16))
        except ValueError:
            return False    # temporary files and strangers
        return key in data_files
