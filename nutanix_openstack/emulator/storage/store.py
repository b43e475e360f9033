"""DiskStore: copy-on-write disks made of chunk layers (RBD layering).

A disk is a writable *head* layer plus a size.  A layer holds only the
chunks written into it and points at its parent; a read takes each chunk
from the first layer of the chain that has it, zeros if none does.  Chunks
that are all zeros are never stored; writing zeros over a chunk a parent
holds stores a tombstone.

``clone(src, new)`` freezes the source's head into an immutable layer and
gives both disks a new empty head on top of it: metadata only, whatever the
size.  When the source's head is still empty (an image cloned again and
again) it is not frozen: the clone simply shares the head's parent, so
repeated clones do not lengthen the chain.

When a delete leaves a frozen layer with a single child layer as its only
user, the two are merged (:mod:`.layers`), so deleting snapshots keeps the
chains of the disks that remain short.  ``flatten()`` cuts a disk's chain
to its own layer on request.
"""

import functools
import os

from nutanix_openstack.emulator.storage import args
from nutanix_openstack.emulator.storage import chunkfiles
from nutanix_openstack.emulator.storage import errors
from nutanix_openstack.emulator.storage import fileio
from nutanix_openstack.emulator.storage import layers
from nutanix_openstack.emulator.storage import metadata

DEFAULT_CHUNK_SIZE = 4 * 1024 * 1024
DEFAULT_BLOCK_SIZE = 1024 * 1024
# Chunks resolved (and their files opened) per transaction by
# iter_extents().
EXTENT_BATCH = 16


class DiskStore(fileio.FileTransferMixin):
    """Copy-on-write disks under ``root_dir``.

    Metadata lives in ``<root_dir>/disks.sqlite`` (WAL), chunk files under
    ``<root_dir>/chunks/``.  Thread-safe; several processes may share a
    root.  An acknowledged write (the call returned) survives the death of
    the process.
    """

    def __init__(self, root_dir, chunk_size=DEFAULT_CHUNK_SIZE):
        args.check_size(chunk_size, 'chunk_size')
        if chunk_size == 0:
            raise ValueError('chunk_size must be positive')
        self.root_dir = os.path.abspath(root_dir)
        self.chunk_size = chunk_size
        os.makedirs(self.root_dir, exist_ok=True)
        self._meta = metadata.Metadata(
            os.path.join(self.root_dir, 'disks.sqlite'), chunk_size)
        self._files = chunkfiles.ChunkFiles(
            os.path.join(self.root_dir, 'chunks'))
        self._zero = bytearray(chunk_size)
        self.sweep()

    # Life cycle

    def close(self):
        self._meta.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def sweep(self):
        """Remove chunk files and layer directories no row points at.

        They are left behind only by a process killed mid-operation; run
        at open.  Returns the number of entries removed.
        """
        with self._meta.transaction(write=True) as txn:
            return self._files.sweep(txn.layer_ids(),
                                     txn.data_chunk_files())

    # Disks

    def create(self, disk_id, size_bytes):
        """Create an all-zero disk; DiskExists if the id is taken."""
        args.check_id(disk_id)
        args.check_size(size_bytes)
        with self._meta.transaction(write=True) as txn:
            if txn.disk_exists(disk_id):
                raise errors.DiskExists(disk_id)
            head = txn.new_layer(None)
            txn.add_ref(head)
            txn.insert_disk(disk_id, head, size_bytes)

    def clone(self, src_disk_id, new_disk_id, size_bytes=None):
        """Copy-on-write clone of a disk, in constant time.

        The new disk may be larger than the source (the rest reads as
        zeros).  Both disks stay writable and never see each other's later
        writes.
        """
        self.clone_group([(src_disk_id, new_disk_id, size_bytes)])

    def clone_group(self, clones):
        """Several clones at one instant: ``[(src, new, size_bytes)...]``.

        All happen in one metadata transaction, so no write to any source
        lands between the first clone and the last (a crash-consistent
        snapshot of several disks, as recovery points need); on error none
        is made.
        """
        for src_disk_id, new_disk_id, _size in clones:
            args.check_id(src_disk_id)
            args.check_id(new_disk_id)
        with self._meta.transaction(write=True) as txn:
            for src_disk_id, new_disk_id, size_bytes in clones:
                self._clone_in(txn, src_disk_id, new_disk_id, size_bytes)

    @staticmethod
    def _clone_in(txn, src_disk_id, new_disk_id, size_bytes):
        src_head, src_size = txn.disk(src_disk_id)
        if txn.disk_exists(new_disk_id):
            raise errors.DiskExists(new_disk_id)
        size = (src_size if size_bytes is None
                else args.check_size(size_bytes))
        if size < src_size:
            raise ValueError('a clone of %s must be at least %d bytes, '
                             'not %d' % (src_disk_id, src_size, size))
        if txn.layer_is_empty(src_head):
            # Nothing to freeze: share what the head sits on.
            base = txn.parent(src_head)
        else:
            base = src_head
            new_src_head = txn.new_layer(base)
            txn.add_ref(new_src_head)
            txn.set_head(src_disk_id, new_src_head)
            txn.release(base)   # the source disk no longer uses it
        head = txn.new_layer(base)
        txn.add_ref(head)
        txn.insert_disk(new_disk_id, head, size)

    def delete(self, disk_id):
        """Delete a disk; chunks other disks still share stay."""
        args.check_id(disk_id)
        with self._meta.transaction(write=True) as txn:
            head, _size = txn.disk(disk_id)
            txn.delete_disk(disk_id)
            self._release(txn, head)

    def clear(self):
        """Delete every disk at once (the emulator's reset)."""
        with self._meta.transaction(write=True) as txn:
            for layer in txn.clear():
                txn.after_commit.append(
                    functools.partial(self._files.remove_layer, layer))

    def exists(self, disk_id):
        with self._meta.transaction() as txn:
            return txn.disk_exists(disk_id)

    def size(self, disk_id):
        with self._meta.transaction() as txn:
            return txn.disk(disk_id)[1]

    def resize(self, disk_id, new_size):
        """Grow a disk; ValueError on shrink."""
        args.check_size(new_size)
        with self._meta.transaction(write=True) as txn:
            _head, size = txn.disk(disk_id)
            if new_size < size:
                raise ValueError('disk %s cannot shrink from %d to %d bytes'
                                 % (disk_id, size, new_size))
            txn.set_size(disk_id, new_size)

    def list_disks(self):
        with self._meta.transaction() as txn:
            return txn.disk_ids()

    # Reading

    def read(self, disk_id, offset, length):
        """Bytes of a disk, clipped at its end; zeros where never written."""
        args.check_size(offset, 'offset')
        args.check_size(length, 'length')
        return self._read_snapshot(disk_id, offset, length)

    def _read_snapshot(self, disk_id, offset, length):
        """Read in one transaction, clipped at the disk's end.

        Retried when another process sharing the root frees a chunk file
        between our metadata snapshot and the open.
        """
        for attempt in range(fileio.READ_RETRIES):
            try:
                with self._meta.transaction() as txn:
                    head, size = txn.disk(disk_id)
                    end = min(size, offset + length)
                    if offset >= end:
                        return b''
                    return self._read_range(txn, head, offset, end - offset)
            except errors.ChunkVanished:
                if attempt == fileio.READ_RETRIES - 1:
                    raise

    def iter_read(self, disk_id, offset=0, length=None,
                  block_size=DEFAULT_BLOCK_SIZE):
        """Stream a disk in blocks of ``block_size`` bytes (the last shorter).

        Checks the disk and fixes the end at the call (DiskNotFound raised
        here, not at the first ``next()``); each block is read in its own
        transaction, so a long download does not hold the store.
        """
        args.check_size(offset, 'offset')
        if length is not None:
            args.check_size(length, 'length')
        if args.check_size(block_size, 'block_size') == 0:
            raise ValueError('block_size must be positive')
        with self._meta.transaction() as txn:
            _head, size = txn.disk(disk_id)
        end = size if length is None else min(size, offset + length)
        return self._iter_blocks(disk_id, offset, end, block_size)

    def _iter_blocks(self, disk_id, pos, end, block_size):
        while pos < end:
            data = self._read_snapshot(disk_id, pos, min(block_size,
                                                         end - pos))
            if not data:
                return
            yield data
            pos += len(data)

    def iter_extents(self, disk_id, offset=0, length=None):
        """Where the bytes of a range are: for zero-copy downloads.

        Yields ``(fd, file_offset, n)`` in disk order: ``n`` bytes of an
        open chunk file from ``file_offset``, or ``fd`` None for ``n``
        zero bytes (runs of zeros merged).  Like :meth:`iter_read` the disk
        is checked and the end fixed at the call; every batch of chunks is
        resolved in one metadata transaction with its files opened there,
        so a concurrent rewrite or delete (which unlinks files only after
        its commit) cannot change bytes already resolved.  The descriptors
        of a batch are closed when the consumer moves past it, or when the
        generator is closed.
        """
        args.check_size(offset, 'offset')
        if length is not None:
            args.check_size(length, 'length')
        with self._meta.transaction() as txn:
            _head, size = txn.disk(disk_id)
        end = size if length is None else min(size, offset + length)
        return self._extents(disk_id, offset, end)

    def _extents(self, disk_id, pos, end):
        cs = self.chunk_size
        while pos < end:
            batch_end = min(end, (pos // cs + EXTENT_BATCH) * cs)
            extents, stop = self._open_batch(disk_id, pos, batch_end)
            try:
                for extent in extents:
                    yield extent
            finally:
                for fd, _off, _n in extents:
                    if fd is not None:
                        os.close(fd)
            if stop < batch_end:
                return      # the disk was replaced by a smaller one
            pos = batch_end

    def _open_batch(self, disk_id, pos, end):
        """``(extents, stop)`` of ``[pos, end)`` clipped at the disk's end."""
        for attempt in range(fileio.READ_RETRIES):
            extents = []
            try:
                with self._meta.transaction() as txn:
                    head, size = txn.disk(disk_id)
                    stop = min(size, end)
                    if pos < stop:
                        self._resolve(txn, head, pos, stop, extents)
                return extents, stop
            except BaseException as exc:
                for fd, _off, _n in extents:
                    if fd is not None:
                        os.close(fd)
                if (not isinstance(exc, errors.ChunkVanished) or
                        attempt == fileio.READ_RETRIES - 1):
                    raise

    def _resolve(self, txn, head, pos, end, extents):
        cs = self.chunk_size
        rows = txn.rows(head, pos // cs, (end - 1) // cs)
        while pos < end:
            idx, in_chunk = divmod(pos, cs)
            n = min(cs - in_chunk, end - pos)
            found = rows.get(idx)
            top = found[0] if found else None
            have = 0
            if top is not None and not top.zero and in_chunk < top.nbytes:
                have = min(n, top.nbytes - in_chunk)
                extents.append((self._files.open(top.layer, idx, top.gen),
                                in_chunk, have))
            if have < n:
                if extents and extents[-1][0] is None:
                    extents[-1] = (None, 0, extents[-1][2] + n - have)
                else:
                    extents.append((None, 0, n - have))
            pos += n

    def _read_range(self, txn, head, offset, length):
        cs = self.chunk_size
        end = offset + length
        rows = txn.rows(head, offset // cs, (end - 1) // cs)
        pieces = []
        pos = offset
        while pos < end:
            idx, in_chunk = divmod(pos, cs)
            n = min(cs - in_chunk, end - pos)
            found = rows.get(idx)
            top = found[0] if found else None
            if top is None or top.zero or in_chunk >= top.nbytes:
                pieces.append(bytes(n))
            else:
                pieces.append(self._files.read(top.layer, idx, top.gen,
                                               in_chunk, n))
            pos += n
        return pieces[0] if len(pieces) == 1 else b''.join(pieces)

    # Writing

    def write(self, disk_id, offset, data):
        """Write bytes at ``offset``; ValueError if they go past the end."""
        args.check_size(offset, 'offset')
        view = args.byte_view(data)
        with self._meta.transaction(write=True) as txn:
            head, size = txn.disk(disk_id)
            if offset + len(view) > size:
                raise ValueError('write of %d bytes at %d goes past the end '
                                 'of disk %s (%d bytes)'
                                 % (len(view), offset, disk_id, size))
            self._write_range(txn, head, size, offset, view)

    def write_stream(self, disk_id, iterable, offset=0, grow=True):
        """Write an iterable of byte strings from ``offset``; return a count.

        For uploads of unknown size: at most one chunk is buffered, each
        full chunk is committed on its own, and with ``grow`` the disk
        grows to fit.  Without ``grow``, ValueError once the data passes
        the end (what came before is written).
        """
        args.check_size(offset, 'offset')
        with self._meta.transaction() as txn:
            txn.disk(disk_id)
        cs = self.chunk_size
        buf = bytearray(cs)
        buf_view = memoryview(buf)
        fill = 0
        # The first flush ends at a chunk boundary; all later ones are
        # whole chunks, which are stored without a read-modify-write.
        want = cs - offset % cs
        pos = offset
        for piece in iterable:
            view = args.byte_view(piece)
            while len(view):
                take = min(len(view), want - fill)
                buf_view[fill:fill + take] = view[:take]
                fill += take
                view = view[take:]
                if fill == want:
                    self._flush(disk_id, pos, buf_view[:fill], grow)
                    pos += fill
                    fill = 0
                    want = cs
        if fill:
            self._flush(disk_id, pos, buf_view[:fill], grow)
            pos += fill
        return pos - offset

    def write_reader(self, disk_id, reader, offset=0, grow=True):
        """:meth:`write_stream` from a file-like object's ``readinto()``.

        The bytes land straight in the chunk buffer (no intermediate
        byte strings); ends at the reader's EOF.  Returns the count.
        """
        args.check_size(offset, 'offset')
        with self._meta.transaction() as txn:
            txn.disk(disk_id)
        written = 0
        for pos, view in fileio.read_aligned(reader, self.chunk_size,
                                             offset):
            self._flush(disk_id, pos, view, grow)
            written += len(view)
        return written

    def _flush(self, disk_id, offset, view, grow):
        with self._meta.transaction(write=True) as txn:
            head, size = txn.disk(disk_id)
            end = offset + len(view)
            if end > size:
                if not grow:
                    raise ValueError('stream goes past the end of disk %s '
                                     '(%d bytes)' % (disk_id, size))
                txn.set_size(disk_id, end)
                size = end
            self._write_range(txn, head, size, offset, view)

    def _write_range(self, txn, head, size, offset, view):
        if not len(view):
            return
        cs = self.chunk_size
        end = offset + len(view)
        rows = txn.rows(head, offset // cs, (end - 1) // cs)
        pos = offset
        while pos < end:
            idx, in_chunk = divmod(pos, cs)
            n = min(cs - in_chunk, end - pos)
            piece = view[pos - offset:pos - offset + n]
            found = rows.get(idx, [])
            chunk_len = min(cs, size - idx * cs)
            if n == cs or (in_chunk == 0 and n == chunk_len):
                data = piece
            else:
                # Read-modify-write of a partial chunk.
                data = bytearray(chunk_len)
                top = found[0] if found else None
                if top is not None and not top.zero:
                    have = min(top.nbytes, chunk_len)
                    self._files.read_into(top.layer, idx, top.gen, 0,
                                          memoryview(data)[:have])
                data[in_chunk:in_chunk + n] = piece
            self._put_chunk(txn, head, idx, found, data)
            pos += n

    def _put_chunk(self, txn, head, idx, found, data):
        """Make chunk ``idx`` of layer ``head`` hold ``data`` (None: zeros).

        ``found`` are the chain's rows for the chunk, head first.  Zeros
        are stored as nothing, or as a tombstone when an ancestor's data
        would otherwise show through.
        """
        own = found[0] if found and found[0].depth == 0 else None
        if data is None or self._is_zero(data):
            inherited = next((r for r in found if r.depth > 0), None)
            if inherited is not None and not inherited.zero:
                if own is None or not own.zero:
                    txn.put_chunk(head, idx, 0, True, 0)
            elif own is not None:
                txn.delete_chunk(head, idx)
        else:
            gen = chunkfiles.new_gen()
            txn.put_chunk(head, idx, len(data), False, gen)
            txn.on_rollback.append(
                functools.partial(self._files.unlink, head, idx, gen))
            self._files.write(head, idx, gen, data)
        if own is not None and not own.zero:
            txn.after_commit.append(
                functools.partial(self._files.unlink, head, idx, own.gen))

    def _is_zero(self, data):
        # A memcmp against the zero chunk, without copying ``data``.
        return self._zero.startswith(data)

    def _release(self, txn, layer):
        """Drop a reference on a layer; free and merge what that allows."""
        freed, survivor = txn.release(layer)
        for gone in freed:
            txn.after_commit.append(
                functools.partial(self._files.remove_layer, gone))
        layers.collapse(txn, self._files, survivor)

    # Layers

    def flatten(self, disk_id):
        """Give a disk its own copy of every inherited chunk; drop its parent.

        Afterwards the disk's chain is one layer and its former ancestors
        are freed if no other disk uses them.
        """
        cs = self.chunk_size
        with self._meta.transaction(write=True) as txn:
            head, size = txn.disk(disk_id)
            parent = txn.parent(head)
            if parent is None:
                return
            last = max(0, (size - 1) // cs)
            for idx, found in txn.rows(head, 0, last).items():
                top = found[0]
                if top.depth == 0:
                    if top.zero:    # nothing left to hide
                        txn.delete_chunk(head, idx)
                    continue
                if top.zero:
                    continue
                gen = chunkfiles.new_gen()
                txn.put_chunk(head, idx, top.nbytes, False, gen)
                txn.on_rollback.append(
                    functools.partial(self._files.unlink, head, idx, gen))
                self._files.link_or_copy(top.layer, idx, top.gen, head, gen)
            txn.set_parent(head, None)
            self._release(txn, parent)

    def chain(self, disk_id):
        """Layer ids of a disk, its head first."""
        with self._meta.transaction() as txn:
            return txn.chain(txn.disk(disk_id)[0])

    def changed_chunks(self, disk_id, base_disk_id=None):
        """Chunk indexes where ``disk_id`` may differ from ``base_disk_id``.

        RBD's ``diff_iterate``: the layers the two chains share hold the
        same chunks for both, so only chunks stored (data or tombstone) in
        a layer of either chain that the other does not share can differ.
        A merge of layers may add indexes whose bytes did not change (the
        caller compares bytes), never drop one that did.  Without a base:
        every chunk stored anywhere in the disk's chain.
        """
        with self._meta.transaction() as txn:
            chain = txn.chain(txn.disk(disk_id)[0])
            base_chain = ([] if base_disk_id is None
                          else txn.chain(txn.disk(base_disk_id)[0]))
            shared = set(chain) & set(base_chain)
            changed = set()
            for layer in chain + base_chain:
                if layer not in shared:
                    changed.update(r.idx for r in txn.layer_rows(layer))
            return sorted(changed)

    def allocated_bytes(self, disk_id):
        """Bytes stored in chunks of the disk's own head layer."""
        with self._meta.transaction() as txn:
            return txn.allocated_bytes(txn.disk(disk_id)[0])

    def info(self, disk_id):
        """``dict(disk_id, size, allocated_bytes, chain)`` (admin API)."""
        with self._meta.transaction() as txn:
            head, size = txn.disk(disk_id)
            return dict(disk_id=disk_id, size=size,
                        allocated_bytes=txn.allocated_bytes(head),
                        chain=txn.chain(head))

    def stats(self):
        """``dict(disks, layers, chunks, bytes_stored, tombstones)``.

        ``chunks`` and ``bytes_stored`` count data chunks (tombstones
        hold no bytes).  A chunk shared by hard link after a flatten is
        counted once per layer.
        """
        with self._meta.transaction() as txn:
            return txn.stats()
