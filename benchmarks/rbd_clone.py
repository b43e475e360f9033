"""Clone and snapshot time at 64 MiB and 4 GiB: local chunk store vs RBD.

Usage::

    bash tools/ceph.sh start        # a one-node Ceph on loopback
    python benchmarks/rbd_clone.py [--runs 7]

Both should be O(1): metadata only on the local store, an RBD snapshot +
clone v2 (+ snapshot removal) on RBD.  For each backend and size, a disk
with a 4 MiB chunk of data every 64 MiB is made, then ``--runs`` clones
(a VM disk from an image) and ``--runs`` snapshots (``clone_group`` of one
disk, as a recovery point does) are timed, each after dirtying the source
so that every clone really freezes something.  Prints the medians (ms) and
the 4 GiB / 64 MiB ratio per backend and operation.  The Ceph is found as
the storage tests find it (``.state/ceph/ceph.conf`` or
``NUTANIX_TEST_CEPH_CONF``).
"""

import argparse
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

from tests.unit.emulator import backends  # noqa: E402

MiB = 1024 * 1024
GiB = 1024 * MiB
SIZES = (('64 MiB', 64 * MiB), ('4 GiB', 4 * GiB))


def timed(store, disk, runs, op):
    times = []
    for i in range(runs):
        store.write(disk, i * 4096, b'dirty')
        new = '%s-%s%d' % (disk, op, i)
        start = time.perf_counter()
        if op == 'clone':
            store.clone(disk, new)
        else:
            store.clone_group([(disk, new, None)])
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), min(times), max(times)


def measure(store, runs):
    out = {}
    for label, size in SIZES:
        disk = 'bench-%d' % size
        store.create(disk, size)
        for offset in range(0, size, 64 * MiB):
            store.write(disk, offset, os.urandom(4 * MiB))
        for op in ('clone', 'snapshot'):
            out[(label, op)] = timed(store, disk, runs, op)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--runs', type=int, default=7)
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory(prefix='clone-bench-') as root:
        store = backends.open_store('local', root, 4 * MiB)
        try:
            results['local'] = measure(store, args.runs)
        finally:
            store.close()
    store = backends.open_store('rbd', None, 4 * MiB)
    try:
        store.clear()
        results['rbd'] = measure(store, args.runs)
        store.clear()
    finally:
        store.close()
    print('%-8s %-9s %22s %22s %8s' % ('backend', 'op', '64 MiB ms (min-max)',
                                       '4 GiB ms (min-max)', '4G/64M'))
    for backend, res in results.items():
        for op in ('clone', 'snapshot'):
            small = res[('64 MiB', op)]
            big = res[('4 GiB', op)]
            print('%-8s %-9s %8.2f (%5.2f-%5.2f) %8.2f (%5.2f-%5.2f) %8.2f'
                  % ((backend, op) + small + big + (big[0] / small[0],)))


if __name__ == '__main__':
    main()
