"""Changed regions between two disk recovery points.

What ``$actions/compute-changed-regions`` answers and what replication
ships.  The disk store says which chunks can differ (the layers the two
chains do not share, :meth:`DiskStore.changed_chunks`); the bytes of those
chunks are then compared block by block, so a 4 KiB write in a 4 MiB
chunk costs one block, not the chunk.  A region is ``(offset, length,
type)`` with type ``REGULAR`` (new data) or ``ZEROED`` (the disk reads
zeros there now, where the reference did not).

Without a reference, the regions are those holding data (``REGULAR``
only): a new copy starts as zeros.
"""

REGULAR = 'REGULAR'
ZEROED = 'ZEROED'


def _candidate_chunks(disks, disk_id, ref_disk_id):
    if hasattr(disks, 'changed_chunks'):
        return disks.changed_chunks(disk_id, ref_disk_id)
    # A store without layer information: every chunk is a candidate.
    size = disks.size(disk_id)
    return list(range((size + disks.chunk_size - 1) // disks.chunk_size))


def _read(disks, disk_id, size, offset, length):
    """``length`` bytes at ``offset``, zeros past the disk's end."""
    if disk_id is None or offset >= size:
        return bytes(length)
    data = disks.read(disk_id, offset, min(length, size - offset))
    return data + bytes(length - len(data))


def _append(regions, offset, length, kind):
    if regions and regions[-1][2] == kind and \
            regions[-1][0] + regions[-1][1] == offset:
        regions[-1] = (regions[-1][0], regions[-1][1] + length, kind)
    else:
        regions.append((offset, length, kind))


def compute(disks, disk_id, ref_disk_id=None, offset=0, length=None,
            block_size=64 * 1024):
    """Yield merged ``(offset, length, type)`` regions in disk order.

    ``ref_disk_id`` is the reference (older) disk recovery point, or None.
    Regions are clipped to ``[offset, offset + length)`` and to the disk.
    """
    size = disks.size(disk_id)
    ref_size = disks.size(ref_disk_id) if ref_disk_id else 0
    end = size if length is None else min(size, offset + length)
    cs = disks.chunk_size
    regions = []
    for idx in _candidate_chunks(disks, disk_id, ref_disk_id):
        start, stop = max(idx * cs, offset), min((idx + 1) * cs, end)
        if start >= stop:
            continue
        new = _read(disks, disk_id, size, start, stop - start)
        if ref_disk_id is None and new.count(0) < block_size:
            # No block of it can be all zeros: all of it is data.
            _append(regions, start, stop - start, REGULAR)
            continue
        old = _read(disks, ref_disk_id, ref_size, start, stop - start)
        if new == old:
            continue
        for pos in range(0, stop - start, block_size):
            block = new[pos:pos + block_size]
            if block == old[pos:pos + block_size]:
                continue
            kind = REGULAR if block.count(0) != len(block) else ZEROED
            if kind == ZEROED and ref_disk_id is None:
                continue
            _append(regions, start + pos, len(block), kind)
        # Hand out what is complete, keep memory flat on large disks.
        while len(regions) > 1:
            yield regions.pop(0)
    # Growth past the reference's end reads zeros on both sides: nothing.
    for region in regions:
        yield region
