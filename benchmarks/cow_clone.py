"""Copy-on-write cost of the emulator's disk store.

    python benchmarks/cow_clone.py [--sizes 1M,64M,1G,4G] [--root DIR]

For each disk size: write data into a disk (all of it up to 256 MiB, then
one chunk in every k so that 256 MiB are written, spread over the whole
size), then measure

* write MB/s: the 4 MiB writes of that data;
* clone ms: median of 7 clones of the disk while unchanged (an image cloned
  for one VM after another);
* snapshot ms: median of 7 clones each right after a write (a snapshot of a
  disk in use: the head is frozen, the chain grows by one layer);
* read MB/s: the whole disk through a 3-deep chain (base, middle and top
  layers each holding some of the chunks), with ``iter_read`` in 1 MiB
  blocks; "logical" counts every byte returned, zeros included, "data"
  only the chunks that hold data.
"""

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time

from nutanix_openstack.emulator import storage

MiB = 1024 * 1024
WRITE_BUDGET = 256 * MiB
RUNS = 7


def parse_size(text):
    units = {'K': 1024, 'M': MiB, 'G': 1024 * MiB}
    text = text.strip().upper()
    if text[-1] in units:
        return int(text[:-1]) * units[text[-1]]
    return int(text)


def human(n):
    for unit, scale in (('GiB', 1024 * MiB), ('MiB', MiB), ('KiB', 1024)):
        if n >= scale:
            return '%g %s' % (n / scale, unit)
    return '%d B' % n


def timed(func):
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def measure(store, size):
    cs = store.chunk_size
    name = 'disk-%d' % size
    store.create(name, size)
    nchunks = (size + cs - 1) // cs
    step = max(1, nchunks * cs // WRITE_BUDGET)
    block = os.urandom(cs)
    written = 0
    start = time.perf_counter()
    for idx in range(0, nchunks, step):
        n = min(cs, size - idx * cs)
        store.write(name, idx * cs, block[:n])
        written += n
    write_s = time.perf_counter() - start

    clone_ms = statistics.median(
        timed(lambda i=i: store.clone(name, '%s-c%d' % (name, i))) * 1000
        for i in range(RUNS))
    snaps = []
    for i in range(RUNS):
        store.write(name, (i * 4096) % size, b'live data')
        snaps.append(
            timed(lambda i=i: store.clone(name, '%s-s%d' % (name, i))) * 1000)
    snapshot_ms = statistics.median(snaps)

    # base -> mid -> top: each layer overwrites some chunks of the one below.
    store.create('base', size)
    for idx in range(0, nchunks, step):
        store.write('base', idx * cs, block[:min(cs, size - idx * cs)])
    store.clone('base', 'mid')
    for idx in range(0, nchunks, 3 * step):
        store.write('mid', idx * cs, b'mid')
    store.clone('mid', 'top')
    for idx in range(step, nchunks, 3 * step):
        store.write('top', idx * cs, b'top')
    assert len(store.chain('top')) == 3, store.chain('top')
    read_s = timed(lambda: sum(len(b) for b in store.iter_read('top')))
    return dict(size=size, written=written,
                write_mbs=written / MiB / write_s,
                clone_ms=clone_ms, snapshot_ms=snapshot_ms,
                read_mbs=size / MiB / read_s,
                read_data_mbs=written / MiB / read_s)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--sizes', default='1M,64M,1G,4G')
    parser.add_argument('--root', default=None,
                        help='directory for the store (default: a temporary '
                             'directory, removed afterwards)')
    args = parser.parse_args(argv)
    root = tempfile.mkdtemp(prefix='cow-bench-', dir=args.root)
    header = ('disk size', 'written', 'write MB/s', 'clone ms',
              'snapshot ms', 'read MB/s (logical)', 'read MB/s (data)')
    print('chunk size %s, store in %s'
          % (human(storage.DEFAULT_CHUNK_SIZE), root))
    print(' | '.join(header))
    print(' | '.join('-' * len(h) for h in header))
    try:
        for text in args.sizes.split(','):
            store = storage.DiskStore(os.path.join(root, text))
            try:
                r = measure(store, parse_size(text))
            finally:
                store.close()
            print('%s | %s | %.0f | %.2f | %.2f | %.0f | %.0f' % (
                human(r['size']), human(r['written']), r['write_mbs'],
                r['clone_ms'], r['snapshot_ms'], r['read_mbs'],
                r['read_data_mbs']))
            sys.stdout.flush()
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == '__main__':
    main()
