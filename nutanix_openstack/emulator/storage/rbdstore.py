"""RbdDiskStore: the emulator's disks as RBD images in a Ceph pool.

The same interface and semantics as :class:`~.store.DiskStore`, on Ceph:

- a disk is an RBD image named ``disk.<id>`` (ids outside ``[A-Za-z0-9._-]``
  are hex-encoded as ``diskx.<hex>``) whose size is the disk's size;
- ``clone(src, new)`` takes an RBD snapshot of the source, makes a clone v2
  of it and removes the snapshot again: with clone v2 a snapshot that has
  children moves to the snapshot trash and librbd removes it when its last
  child goes.  Constant time whatever the size, as RBD layering is;
- deleting a disk whose image still has children (a snapshot in the trash)
  moves the image to the RBD trash: the disk id is free at once, the data
  stays for the children.  When a child is deleted or flattened and leaves
  a trashed parent without snapshots, the parent is removed, and so on up
  the chain (:meth:`_collect`).  That is the local store's deferred delete;
- zeros are written with ``write_zeroes`` (whole objects are discarded, so
  all-zero data is not stored, as in the local store);
- capacity and usage come from the pool.

Several disks are cloned at one instant (:meth:`clone_group`, a
crash-consistent recovery point) by holding the store's write gate
exclusively: writes through this store hold it shared.  Writers outside the
emulator process (a QEMU guest, tgtd) are not held by it.
"""

import binascii
import os
import re
import stat
import threading
import time
import uuid

from nutanix_openstack.emulator.storage import args
from nutanix_openstack.emulator.storage import errors
from nutanix_openstack.emulator.storage import fileio

DEFAULT_CHUNK_SIZE = 4 * 1024 * 1024
DEFAULT_BLOCK_SIZE = 1024 * 1024
# Chunks read at once by iter_extents(), as in the local store, in at most
# this many bytes.
EXTENT_BATCH = 16
_BATCH_BYTES = 8 * 1024 * 1024
_PREFIX = 'disk.'
_HEX_PREFIX = 'diskx.'
_SAFE = re.compile(r'^[A-Za-z0-9._-]{1,200}$')
# Snapshot names used for a clone; only left over by a killed process.
_SNAP_PREFIX = 'clone.'
# Bounds the passes of clear() over chains of clones.
_MAX_CLEAR_PASSES = 1000


class CephUnavailable(errors.StorageError):
    """The Ceph cluster or the pool cannot be reached."""


def _import_rados():
    try:
        import rados
        import rbd
    except ImportError:
        raise CephUnavailable(
            'the rbd storage backend needs python-rados and python-rbd: '
            'install Debian\'s python3-rados and python3-rbd and make them '
            'importable (bash tools/ceph.sh start, or ensure_ceph_python in '
            'tools/lib/venv.sh, links them into the virtualenv)')
    return rados, rbd


def image_name(disk_id):
    if _SAFE.match(disk_id):
        return _PREFIX + disk_id
    return _HEX_PREFIX + binascii.hexlify(disk_id.encode('utf-8')).decode()


def disk_id_of(name):
    if name.startswith(_PREFIX):
        return name[len(_PREFIX):]
    if name.startswith(_HEX_PREFIX):
        try:
            return binascii.unhexlify(name[len(_HEX_PREFIX):]).decode('utf-8')
        except (ValueError, UnicodeDecodeError):
            return None
    return None


class _Gate(object):
    """Many holders in shared mode, or one in exclusive mode."""

    def __init__(self):
        self._cond = threading.Condition()
        self._shared = 0
        self._exclusive = False

    def shared(self):
        return _Hold(self, False)

    def exclusive(self):
        return _Hold(self, True)

    def _acquire(self, exclusive):
        with self._cond:
            if exclusive:
                while self._exclusive or self._shared:
                    self._cond.wait()
                self._exclusive = True
            else:
                while self._exclusive:
                    self._cond.wait()
                self._shared += 1

    def _release(self, exclusive):
        with self._cond:
            if exclusive:
                self._exclusive = False
            else:
                self._shared -= 1
            self._cond.notify_all()


class _Hold(object):

    def __init__(self, gate, exclusive):
        self._gate = gate
        self._exclusive = exclusive

    def __enter__(self):
        self._gate._acquire(self._exclusive)

    def __exit__(self, *exc):
        self._gate._release(self._exclusive)


class RbdDiskStore(object):
    """Copy-on-write disks as RBD images in ``pool``.

    ``chunk_size`` is the RBD object size (a power of two, 4 KiB to
    32 MiB).  Raises :class:`CephUnavailable` when the cluster cannot be
    reached within ``connect_timeout`` seconds or the pool does not exist.
    """

    def __init__(self, ceph_conf, pool, rbd_user=None,
                 chunk_size=DEFAULT_CHUNK_SIZE, connect_timeout=10,
                 busy_timeout=60, busy_interval=0.5):
        args.check_size(chunk_size, 'chunk_size')
        order = chunk_size.bit_length() - 1
        if (chunk_size <= 0 or 1 << order != chunk_size or
                not 12 <= order <= 25):
            raise ValueError('chunk_size must be a power of two between '
                             '4 KiB and 32 MiB for RBD, not %d' % chunk_size)
        self.chunk_size = chunk_size
        self.pool = pool
        self._busy_timeout = busy_timeout
        self._busy_interval = busy_interval
        self._order = order
        self._rados_mod, self._rbd_mod = _import_rados()
        rados, rbd = self._rados_mod, self._rbd_mod
        if not os.path.isfile(ceph_conf):
            raise CephUnavailable('Ceph configuration file %s not found'
                                  % ceph_conf)
        self._cluster = rados.Rados(conffile=ceph_conf, rados_id=rbd_user)
        # librados waits for the monitors this long at most, here and on
        # every later operation.
        timeout = str(int(connect_timeout))
        for name in ('client_mount_timeout', 'rados_osd_op_timeout',
                     'rados_mon_op_timeout'):
            self._cluster.conf_set(name, timeout)
        try:
            self._cluster.connect(timeout=int(connect_timeout))
        except rados.Error as exc:
            self._cluster.shutdown()
            raise CephUnavailable(
                'cannot connect to the Ceph cluster of %s as client.%s '
                'within %ss: %s' % (ceph_conf, rbd_user or 'admin',
                                    timeout, exc))
        try:
            if not self._cluster.pool_exists(pool):
                raise CephUnavailable('Ceph pool %r does not exist (create it '
                                      'with `ceph osd pool create %s` and '
                                      '`rbd pool init %s`)'
                                      % (pool, pool, pool))
            self._ioctx = self._cluster.open_ioctx(pool)
        except rados.Error as exc:
            self._cluster.shutdown()
            raise CephUnavailable('cannot open Ceph pool %r: %s'
                                  % (pool, exc))
        except BaseException:
            self._cluster.shutdown()
            raise
        self._rbd = rbd.RBD()
        # Object map and fast diff: removing, flattening and diffing a big
        # sparse image touch only the objects that exist.
        self._features = (rbd.RBD_FEATURE_LAYERING |
                          rbd.RBD_FEATURE_EXCLUSIVE_LOCK |
                          rbd.RBD_FEATURE_OBJECT_MAP |
                          rbd.RBD_FEATURE_FAST_DIFF)
        self._gate = _Gate()
        self._zero = bytearray(chunk_size)
        self._closed = False
        self.sweep()

    # Life cycle

    def close(self):
        if self._closed:
            return
        self._closed = True
        self._ioctx.close()
        self._cluster.shutdown()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _check_open(self):
        if self._closed:
            raise errors.StorageError('the disk store is closed')

    def sweep(self):
        """Remove clone snapshots and trashed images a killed process left.

        Returns the number of objects removed.
        """
        self._check_open()
        removed = 0
        for name in self._rbd.list(self._ioctx):
            if disk_id_of(name) is None:
                continue
            try:
                with self._image(name) as image:
                    for snap in list(image.list_snaps()):
                        if snap['name'].startswith(_SNAP_PREFIX) and \
                                snap.get('namespace', 0) == 0:
                            image.remove_snap(snap['name'])
                            removed += 1
            except self._rbd_mod.ImageNotFound:
                continue
        return removed + self._collect_trash()

    # Names and handles

    def _image(self, name, read_only=False):
        return self._rbd_mod.Image(self._ioctx, name, read_only=read_only)

    def _open(self, disk_id, read_only=False):
        args.check_id(disk_id)
        self._check_open()
        try:
            return self._image(image_name(disk_id), read_only=read_only)
        except self._rbd_mod.ImageNotFound:
            raise errors.DiskNotFound(disk_id)

    # Disks

    def create(self, disk_id, size_bytes):
        """Create an all-zero disk; DiskExists if the id is taken."""
        args.check_id(disk_id)
        args.check_size(size_bytes)
        self._check_open()
        self._create(disk_id, size_bytes)

    def _create(self, disk_id, size_bytes):
        try:
            self._rbd.create(self._ioctx, image_name(disk_id), size_bytes,
                             order=self._order, old_format=False,
                             features=self._features)
        except self._rbd_mod.ImageExists:
            raise errors.DiskExists(disk_id)

    def clone(self, src_disk_id, new_disk_id, size_bytes=None):
        """Copy-on-write clone of a disk (an RBD clone v2), constant time."""
        self.clone_group([(src_disk_id, new_disk_id, size_bytes)])

    def clone_group(self, clones):
        """Several clones at one instant: ``[(src, new, size_bytes)...]``.

        No write through this store lands between the first snapshot and
        the last; on error the clones already made are removed again.
        """
        for src_disk_id, new_disk_id, _size in clones:
            args.check_id(src_disk_id)
            args.check_id(new_disk_id)
        self._check_open()
        made = []
        with self._gate.exclusive():
            try:
                for src_disk_id, new_disk_id, size_bytes in clones:
                    self._clone_one(src_disk_id, new_disk_id, size_bytes)
                    made.append(new_disk_id)
            except BaseException:
                for disk_id in reversed(made):
                    self._delete(disk_id)
                raise

    def _clone_one(self, src_disk_id, new_disk_id, size_bytes):
        rbd = self._rbd_mod
        src_name = image_name(src_disk_id)
        new_name = image_name(new_disk_id)
        snap = _SNAP_PREFIX + uuid.uuid4().hex
        with self._open(src_disk_id) as src:
            src_size = src.size()
            size = src_size if size_bytes is None else \
                args.check_size(size_bytes)
            if size < src_size:
                raise ValueError('a clone of %s must be at least %d bytes, '
                                 'not %d' % (src_disk_id, src_size, size))
            if self._exists(new_name):
                raise errors.DiskExists(new_disk_id)
            src.create_snap(snap)
            try:
                try:
                    self._rbd.clone(self._ioctx, src_name, snap,
                                    self._ioctx, new_name,
                                    features=self._features,
                                    order=self._order)
                except rbd.ImageExists:
                    raise errors.DiskExists(new_disk_id)
                if size > src_size:
                    try:
                        with self._image(new_name) as new:
                            new.resize(size)
                    except BaseException:
                        self._rbd.remove(self._ioctx, new_name)
                        raise
            finally:
                # Clone v2: a snapshot with a child moves to the snapshot
                # trash and goes with its last child.
                src.remove_snap(snap)

    def _while_busy(self, func, *args):
        """``func(*args)``, again while the image has watchers.

        A process killed with the image open keeps its watch until the
        OSD times it out (osd_client_watch_timeout); removal is refused
        until then.  Gives up after ``busy_timeout`` seconds.
        """
        deadline = time.monotonic() + self._busy_timeout
        while True:
            try:
                return func(*args)
            except self._rbd_mod.ImageBusy:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(self._busy_interval)

    def _exists(self, name):
        try:
            with self._image(name, read_only=True):
                return True
        except self._rbd_mod.ImageNotFound:
            return False

    def delete(self, disk_id):
        """Delete a disk; an image with clones waits in the RBD trash.

        It is removed when its last clone goes (deleted or flattened).
        """
        args.check_id(disk_id)
        self._check_open()
        self._delete(disk_id)

    def _delete(self, disk_id):
        rbd = self._rbd_mod
        name = image_name(disk_id)
        with self._open(disk_id) as image:
            parent = self._parent_id(image)
            busy = bool(list(image.list_snaps()))
        if busy:
            self._while_busy(self._rbd.trash_move, self._ioctx, name, 0)
            return
        try:
            self._while_busy(self._rbd.remove, self._ioctx, name)
        except rbd.ImageHasSnapshots:
            self._while_busy(self._rbd.trash_move, self._ioctx, name, 0)
            return
        except rbd.ImageNotFound:
            raise errors.DiskNotFound(disk_id)
        if parent is not None:
            self._collect_trash()

    def _parent_id(self, image):
        try:
            return image.parent_id()
        except self._rbd_mod.ImageNotFound:
            return None

    def _collect_trash(self):
        """Remove every trashed image no clone needs any more.

        Not only the parent of the disk just deleted or flattened: a
        snapshot of a clone keeps the clone's parent too, so flattening
        (or deleting) a disk can free an image several links up a chain
        that no longer shows it (a clone flattened while a clone of its
        own still used an older snapshot of it).  Returns the count.
        """
        total = 0
        while True:
            removed = 0
            for entry in list(self._rbd.trash_list(self._ioctx)):
                removed += self._collect(entry['id'])
            if not removed:
                return total
            total += removed

    def _collect(self, image_id):
        """Remove a trashed image that no clone needs, then its parent.

        Goes up while each parent is left the same way.  Returns the count
        removed.
        """
        rbd = self._rbd_mod
        removed = 0
        while image_id is not None:
            try:
                self._rbd.trash_get(self._ioctx, image_id)
            except rbd.ImageNotFound:
                return removed      # a live disk, or already gone
            try:
                with rbd.Image(self._ioctx, image_id=image_id,
                               read_only=True) as image:
                    if list(image.list_snaps()):
                        return removed      # still a parent
                    parent = self._parent_id(image)
                self._while_busy(self._rbd.trash_remove, self._ioctx,
                                 image_id, True)
            except (rbd.ImageNotFound, rbd.ImageHasSnapshots):
                return removed
            removed += 1
            image_id = parent
        return removed

    def clear(self):
        """Delete every disk at once (the emulator's reset)."""
        self._check_open()
        rbd = self._rbd_mod
        for name in self._rbd.list(self._ioctx):
            if disk_id_of(name) is not None:
                self._while_busy(self._rbd.trash_move, self._ioctx, name, 0)
        # Leaves first: a clone's removal frees its parent's snapshot.
        for _pass in range(_MAX_CLEAR_PASSES):
            entries = list(self._rbd.trash_list(self._ioctx))
            if not entries:
                return
            for entry in entries:
                try:
                    with rbd.Image(self._ioctx, image_id=entry['id']) as im:
                        for snap in im.list_snaps():
                            if snap.get('namespace', 0) == 0:
                                im.remove_snap(snap['name'])
                        if list(im.list_snaps()):
                            continue
                    self._while_busy(self._rbd.trash_remove, self._ioctx,
                                     entry['id'], True)
                except (rbd.ImageNotFound, rbd.ImageHasSnapshots):
                    continue
        raise errors.StorageError('could not empty the RBD trash of pool %s'
                                  % self.pool)

    def exists(self, disk_id):
        args.check_id(disk_id)
        self._check_open()
        return self._exists(image_name(disk_id))

    def size(self, disk_id):
        with self._open(disk_id, read_only=True) as image:
            return image.size()

    def resize(self, disk_id, new_size):
        """Grow a disk; ValueError on shrink."""
        args.check_size(new_size)
        with self._gate.shared(), self._open(disk_id) as image:
            size = image.size()
            if new_size < size:
                raise ValueError('disk %s cannot shrink from %d to %d bytes'
                                 % (disk_id, size, new_size))
            if new_size != size:
                image.resize(new_size)

    def list_disks(self):
        self._check_open()
        ids = (disk_id_of(n) for n in self._rbd.list(self._ioctx))
        return sorted(i for i in ids if i is not None)

    # Reading

    def read(self, disk_id, offset, length):
        """Bytes of a disk, clipped at its end; zeros where never written."""
        args.check_size(offset, 'offset')
        args.check_size(length, 'length')
        with self._open(disk_id, read_only=True) as image:
            end = min(image.size(), offset + length)
            if offset >= end:
                return b''
            return image.read(offset, end - offset)

    def iter_read(self, disk_id, offset=0, length=None,
                  block_size=DEFAULT_BLOCK_SIZE):
        """Stream a disk in blocks of ``block_size`` bytes (the last shorter).

        The disk is checked and the end fixed at the call.
        """
        args.check_size(offset, 'offset')
        if length is not None:
            args.check_size(length, 'length')
        if args.check_size(block_size, 'block_size') == 0:
            raise ValueError('block_size must be positive')
        size = self.size(disk_id)
        end = size if length is None else min(size, offset + length)
        return self._iter_blocks(disk_id, offset, end, block_size)

    def _iter_blocks(self, disk_id, pos, end, block_size):
        while pos < end:
            data = self.read(disk_id, pos, min(block_size, end - pos))
            if not data:
                return
            yield data
            pos += len(data)

    def iter_extents(self, disk_id, offset=0, length=None):
        """The bytes of a range as ``(data, offset, n)`` or ``(None, 0, n)``.

        Like the local store's extents, with bytes where the local store
        gives an open file (there is no file to send from): ``n`` bytes of
        the bytes object ``data`` from ``offset``; ``None`` stands for ``n``
        zeros (runs merged).  The disk is checked and the end fixed at the
        call.
        """
        args.check_size(offset, 'offset')
        if length is not None:
            args.check_size(length, 'length')
        size = self.size(disk_id)
        end = size if length is None else min(size, offset + length)
        return self._extents(disk_id, offset, end)

    def _extents(self, disk_id, pos, end):
        # Like the local store, a batch of chunks is read at one instant
        # (one RBD read), at most EXTENT_BATCH chunks and _BATCH_BYTES.
        cs = self.chunk_size
        batch = max(cs, min(EXTENT_BATCH * cs, _BATCH_BYTES))
        zeros = 0
        while pos < end:
            n = min(end, (pos // cs) * cs + batch) - pos
            data = self.read(disk_id, pos, n)
            view = memoryview(data)
            at = 0
            while at < len(data):
                k = min(cs - (pos + at) % cs, len(data) - at)
                piece = view[at:at + k]
                if self._zero.startswith(piece):
                    zeros += k
                else:
                    if zeros:
                        yield (None, 0, zeros)
                        zeros = 0
                    yield (data, at, k)
                at += k
            if len(data) < n:
                break       # the disk was replaced by a smaller one
            pos += n
        if zeros:
            yield (None, 0, zeros)

    # Writing

    def write(self, disk_id, offset, data):
        """Write bytes at ``offset``; ValueError if they go past the end."""
        args.check_size(offset, 'offset')
        view = args.byte_view(data)
        with self._gate.shared(), self._open(disk_id) as image:
            size = image.size()
            if offset + len(view) > size:
                raise ValueError('write of %d bytes at %d goes past the end '
                                 'of disk %s (%d bytes)'
                                 % (len(view), offset, disk_id, size))
            self._write_at(image, offset, view)

    def _write_at(self, image, offset, view):
        """Write ``view`` at ``offset``, discarding objects left all zeros.

        Zeros are not stored, as in the local store.
        """
        if not len(view):
            return
        cs = self.chunk_size
        pieces = []
        pos = 0
        while pos < len(view):
            n = min(cs - (offset + pos) % cs, len(view) - pos)
            pieces.append((pos, n, self._zero.startswith(view[pos:pos + n])))
            pos += n
        if not any(zero for _pos, _n, zero in pieces):
            image.write(view.obj if isinstance(view.obj, bytes) and
                        len(view.obj) == len(view) else bytes(view), offset)
            return
        for pos, n, zero in pieces:
            if not zero:
                image.write(bytes(view[pos:pos + n]), offset + pos)
                continue
            image.write_zeroes(offset + pos, n)
            if n < cs:
                # A partial object: discard it if it is all zeros now.
                start = (offset + pos) // cs * cs
                length = min(cs, image.size() - start)
                if self._zero.startswith(image.read(start, length)):
                    image.write_zeroes(start, length)

    def write_stream(self, disk_id, iterable, offset=0, grow=True):
        """Write an iterable of byte strings from ``offset``; return a count.

        At most one chunk is buffered; with ``grow`` the disk grows to fit.
        Without ``grow``, ValueError once the data passes the end (what
        came before is written).
        """
        args.check_size(offset, 'offset')
        self.size(disk_id)
        cs = self.chunk_size
        # The chunk is gathered as slices of the pieces and joined once:
        # python-rbd writes bytes objects only, so a fill buffer would be
        # copied again.
        parts = []
        fill = 0
        want = cs - offset % cs
        pos = offset
        for piece in iterable:
            view = args.byte_view(piece)
            while len(view):
                take = min(len(view), want - fill)
                parts.append(view[:take])
                fill += take
                view = view[take:]
                if fill == want:
                    self._flush(disk_id, pos,
                                args.byte_view(b''.join(parts)), grow)
                    parts = []
                    pos += fill
                    fill = 0
                    want = cs
        if fill:
            self._flush(disk_id, pos, args.byte_view(b''.join(parts)), grow)
            pos += fill
        return pos - offset

    def write_reader(self, disk_id, reader, offset=0, grow=True):
        """:meth:`write_stream` from a file-like object's ``readinto()``."""
        args.check_size(offset, 'offset')
        self.size(disk_id)
        written = 0
        for pos, view in fileio.read_aligned(reader, self.chunk_size,
                                             offset):
            self._flush(disk_id, pos, args.byte_view(bytes(view)), grow)
            written += len(view)
        return written

    def _flush(self, disk_id, offset, view, grow):
        with self._gate.shared(), self._open(disk_id) as image:
            size = image.size()
            end = offset + len(view)
            if end > size:
                if not grow:
                    raise ValueError('stream goes past the end of disk %s '
                                     '(%d bytes)' % (disk_id, size))
                image.resize(end)
            self._write_at(image, offset, view)

    # Files

    def import_file(self, disk_id, path):
        """Make a disk's content that of a regular file (see DiskStore)."""
        args.check_id(disk_id)
        self._check_open()
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise ValueError('%s is not a regular file' % path)
        with open(path, 'rb', buffering=0) as f:
            fsize = os.fstat(f.fileno()).st_size
            created = False
            try:
                self._create(disk_id, fsize)
                created = True
            except errors.DiskExists:
                pass
            try:
                with self._gate.shared(), self._open(disk_id) as image:
                    size = image.size()
                    if size < fsize:
                        image.resize(fsize)
                        size = fsize
                    if not created:
                        image.write_zeroes(0, size)
                    self._import_extents(image, f, fsize)
            except BaseException:
                if created:
                    self._delete(disk_id)
                raise

    def _import_extents(self, image, f, fsize):
        cs = self.chunk_size
        buf = bytearray(cs)
        for start, end in fileio.data_extents(f.fileno(), fsize):
            pos = start
            while pos < end:
                n = min(cs - pos % cs, end - pos)
                view = memoryview(buf)[:n]
                f.seek(pos)
                got = 0
                while got < n:
                    k = f.readinto(view[got:])
                    if not k:
                        raise errors.StorageError('file shrank during import')
                    got += k
                if not self._zero.startswith(view):
                    image.write(bytes(view), pos)
                pos += n

    def export_file(self, disk_id, path):
        """Write a disk's whole content to a file, sparse (holes for zeros)."""
        with self._open(disk_id, read_only=True) as image:
            size = image.size()
            extents = []
            image.diff_iterate(0, size, None,
                               lambda off, n, exists: extents.append(
                                   (off, n)) if exists else None)
            with open(path, 'wb') as f:
                f.truncate(size)
                cs = self.chunk_size
                for off, n in extents:
                    end = off + n
                    while off < end:
                        k = min(cs, end - off)
                        data = image.read(off, k)
                        if not self._zero.startswith(data):
                            f.seek(off)
                            f.write(data)
                        off += k

    # Layers

    def flatten(self, disk_id):
        """Copy every inherited block into the disk; drop its parent.

        The parent's image goes too if it was deleted and this was its
        last clone.
        """
        with self._gate.shared(), self._open(disk_id) as image:
            parent = self._parent_id(image)
            if parent is None:
                return
            image.flatten()
        self._collect_trash()

    def chain(self, disk_id):
        """Image names of a disk's chain, its own first."""
        rbd = self._rbd_mod
        with self._open(disk_id, read_only=True) as image:
            names = [image_name(disk_id)]
            image_id = self._parent_id(image)
        while image_id is not None:
            with rbd.Image(self._ioctx, image_id=image_id,
                           read_only=True) as image:
                names.append(image.get_name() if hasattr(image, 'get_name')
                             else image_id)
                image_id = self._parent_id(image)
        return names

    def allocated_bytes(self, disk_id):
        """Bytes in objects the disk's own image holds."""
        with self._open(disk_id, read_only=True) as image:
            return self._own_bytes(image)

    def _own_bytes(self, image):
        cs = self.chunk_size
        objects = set()

        def seen(off, n, exists):
            if exists:
                objects.update(range(off // cs, (off + n - 1) // cs + 1))
        image.diff_iterate(0, image.size(), None, seen,
                           include_parent=False, whole_object=True)
        size = image.size()
        return sum(min(cs, size - i * cs) for i in objects)

    def info(self, disk_id):
        """``dict(disk_id, size, allocated_bytes, chain)`` (admin API)."""
        with self._open(disk_id, read_only=True) as image:
            size = image.size()
            allocated = self._own_bytes(image)
        return dict(disk_id=disk_id, size=size, allocated_bytes=allocated,
                    chain=self.chain(disk_id))

    def stats(self):
        """Images, objects and bytes of the pool, as a dict.

        Keys: disks, layers, chunks, bytes_stored, tombstones,
        capacity_bytes.

        ``layers`` counts the disks' images and the deleted ones kept for
        their clones; ``chunks`` and ``bytes_stored`` are the pool's
        objects and bytes (RBD headers included); RBD keeps no tombstones.
        """
        self._check_open()
        disks = len(self.list_disks())
        trashed = len(list(self._rbd.trash_list(self._ioctx)))
        pool = self._ioctx.get_stats()
        cluster = self._cluster.get_cluster_stats()
        return dict(disks=disks, layers=disks + trashed,
                    chunks=pool['num_objects'], bytes_stored=pool['num_bytes'],
                    tombstones=0, capacity_bytes=cluster['kb'] * 1024)
