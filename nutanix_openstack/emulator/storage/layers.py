"""Keeping chains short: merge a layer into its only child.

When a disk is deleted or flattened, a frozen layer may be left with one
user, a single child layer (a deleted snapshot in the middle of a disk's
snapshot chain, an image deleted while one clone of it lives).  Reading
through it costs a level of the chain and buys nothing, so the two layers
are merged into one: the smaller set of chunks is hard-linked (or copied)
into the other layer, which takes over the users of both.
"""

import functools

from nutanix_openstack.emulator.storage import chunkfiles


def collapse(txn, files, layer):
    """Merge ``layer`` into its child while it is that child's alone.

    ``layer`` is where a release stopped (None: nothing to do).
    """
    while layer is not None and txn.refs(layer) == 1:
        children = txn.children(layer)
        if len(children) != 1:
            return      # its one user is a disk: it is that disk's head
        layer = _merge(txn, files, layer, children[0])


def _merge(txn, files, parent, child):
    """Merge two layers; return the one that is kept."""
    grand = txn.parent(parent)
    upper = {r.idx: r for r in txn.layer_rows(child)}
    lower = {r.idx: r for r in txn.layer_rows(parent)}
    if len(lower) < len(upper):
        # The parent's chunks that the child does not override go down.
        keep, gone = child, parent
        moves = [r for idx, r in lower.items() if idx not in upper]
        replaced = {}
    else:
        # The child's chunks go up, over the parent's.
        keep, gone = parent, child
        moves = list(upper.values())
        replaced = lower
    shown = _data_below(txn, grand, [r.idx for r in moves if r.zero])
    for row in moves:
        old = replaced.get(row.idx)
        if row.zero:
            # A tombstone is only needed over data that shows through.
            if row.idx in shown:
                txn.put_chunk(keep, row.idx, 0, True, 0)
            elif old is not None:
                txn.delete_chunk(keep, row.idx)
        else:
            gen = chunkfiles.new_gen()
            txn.put_chunk(keep, row.idx, row.nbytes, False, gen)
            txn.on_rollback.append(
                functools.partial(files.unlink, keep, row.idx, gen))
            files.link_or_copy(gone, row.idx, row.gen, keep, gen)
        if old is not None and not old.zero:
            txn.after_commit.append(
                functools.partial(files.unlink, keep, row.idx, old.gen))
    if keep == child:
        # Tombstones of the child that only hid the parent's data go.
        own_zeros = [r.idx for r in upper.values() if r.zero]
        shown = _data_below(txn, grand, own_zeros)
        for idx in own_zeros:
            if idx not in shown:
                txn.delete_chunk(child, idx)
        # The parent's reference on the grandparent passes to the child.
        txn.set_parent(child, grand, count=False)
    else:
        txn.set_refs(parent, txn.refs(child))
        txn.repoint(child, parent)
    txn.drop_layer(gone)
    txn.after_commit.append(functools.partial(files.remove_layer, gone))
    return keep


def _data_below(txn, layer, indexes):
    """The indexes among ``indexes`` where the chain of ``layer`` has data."""
    if layer is None or not indexes:
        return set()
    rows = txn.rows(layer, min(indexes), max(indexes))
    return set(idx for idx in indexes
               if idx in rows and not rows[idx][0].zero)
