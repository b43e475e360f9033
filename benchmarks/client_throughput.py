"""Throughput and memory of the Prism client's image byte paths.

Uploads (v3 ``PUT .../images/{uuid}/file``, streamed) and downloads
(``GET .../content/images/{extId}/file``, streamed) SIZE bytes through
:class:`~nutanix_openstack.prism.client.PrismClient` into a
``nutanix-emulator`` running as a separate process
(:class:`~nutanix_openstack.emulator.fixture.EmulatorProcess`), and copies
the same bytes with a plain file copy on the same disk for reference.
Reports MiB/s and the peak RSS of this (the client) process, which must
not grow with SIZE: the client never holds an image in memory.

Run::

    python benchmarks/client_throughput.py --size-mib 1024
"""

import argparse
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
import zlib

MIB = 1024 * 1024


def rss_mib():
    """Peak resident set size of this process so far, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def make_source(path, size, chunk):
    """Random bytes (all-zero chunks would not be stored by the emulator)."""
    digest = 0
    block = os.urandom(chunk)
    with open(path, 'wb') as f:
        written = 0
        n = 0
        while written < size:
            # Vary every chunk cheaply so no two are identical.
            piece = n.to_bytes(8, 'little') + block[8:]
            piece = piece[:size - written]
            f.write(piece)
            digest = zlib.crc32(piece, digest)
            written += len(piece)
            n += 1
        f.flush()
        os.fsync(f.fileno())
    return digest


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def plain_copy(src, dst, chunk, fsync):
    with open(src, 'rb') as fin, open(dst, 'wb') as fout:
        shutil.copyfileobj(fin, fout, chunk)
        fout.flush()
        if fsync:
            os.fsync(fout.fileno())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--size-mib', type=int, default=1024)
    parser.add_argument('--chunk-mib', type=int, default=4,
                        help='transfer chunk size of the client')
    parser.add_argument('--dir', default=None,
                        help='work dir (source file, copy, emulator data); '
                             'default: a temp dir')
    parser.add_argument('--repeat', type=int, default=3,
                        help='runs of each measurement; the median is '
                             'shown with the spread (the machine is shared '
                             'and noisy)')
    parser.add_argument('--tracemalloc', action='store_true',
                        help='also report the peak of Python allocations '
                             '(slows the transfers down)')
    args = parser.parse_args(argv)

    from nutanix_openstack.emulator import fixture

    size = args.size_mib * MIB
    chunk = args.chunk_mib * MIB
    work = tempfile.mkdtemp(prefix='ntnx-bench-', dir=args.dir)
    os.makedirs(os.path.join(work, 'emulator'))
    emulator = fixture.EmulatorProcess(
        data_dir=os.path.join(work, 'emulator'))
    rows = []
    try:
        src = os.path.join(work, 'source.bin')
        src_hash = make_source(src, size, chunk)
        copy = os.path.join(work, 'copy.bin')
        for fsync in (False, True):
            runs = []
            for _ in range(args.repeat):
                os.sync()
                seconds, _ = timed(
                    lambda: plain_copy(src, copy, chunk, fsync))
                runs.append(seconds)
                os.unlink(copy)
            rows.append(('plain file copy%s (same disk)'
                         % (' + fsync' if fsync else ''), runs, None))

        emulator.start()
        client = emulator.prism_client(chunk_size=chunk, read_timeout=600)
        baseline = rss_mib()
        if args.tracemalloc:
            tracemalloc.start()

        up_runs, down_runs = [], []
        traced_up = traced_down = None
        for run in range(args.repeat):
            os.sync()
            img = client.images.create_for_upload('bench-%d' % run)

            def upload():
                with open(src, 'rb') as f:
                    client.images.upload(img['extId'], f, size=size)
            if args.tracemalloc:
                tracemalloc.reset_peak()
            seconds, _ = timed(upload)
            up_runs.append(seconds)
            if args.tracemalloc:
                traced_up = tracemalloc.get_traced_memory()[1] / MIB

            def download():
                # CRC-32: checks every byte at several GB/s, so that the
                # timing is the transfer's, not a cryptographic hash's.
                digest = 0
                total = 0
                for piece in client.images.download(img['extId'],
                                                    chunk_size=chunk):
                    digest = zlib.crc32(piece, digest)
                    total += len(piece)
                return total, digest
            if args.tracemalloc:
                tracemalloc.reset_peak()
            seconds, (total, dl_hash) = timed(download)
            down_runs.append(seconds)
            if args.tracemalloc:
                traced_down = tracemalloc.get_traced_memory()[1] / MIB
            if total != size or dl_hash != src_hash:
                print('ERROR: downloaded bytes differ from the source',
                      file=sys.stderr)
                return 1
            client.images.delete(img['extId'])
        rows.append(('client upload (v3 PUT, streamed)', up_runs,
                     traced_up))
        rows.append(('client download (GET /file, streamed)', down_runs,
                     traced_down))
        peak = rss_mib()
        client.close()
    finally:
        emulator.cleanup()
        shutil.rmtree(work, ignore_errors=True)

    print()
    print('Prism client throughput, %d MiB, chunk %d MiB, emulator in a '
          'separate process, median of %d (spread min-max); ratio: MiB/s '
          'over plain copy + fsync' % (args.size_mib, args.chunk_mib,
                                       args.repeat))
    print('%-40s %8s %8s %13s %7s %14s' % (
        'operation', 'seconds', 'MiB/s', 'MiB/s spread', 'ratio',
        'py alloc peak'))
    reference = statistics.median(rows[1][1])
    for name, runs, traced in rows:
        seconds = statistics.median(runs)
        print('%-40s %8.2f %8.1f %13s %6.2fx %14s' % (
            name, seconds, args.size_mib / seconds,
            '%.0f-%.0f' % (args.size_mib / max(runs),
                           args.size_mib / min(runs)),
            reference / seconds,
            '%.1f MiB' % traced if traced is not None else '-'))
    print()
    print('client process peak RSS: %.1f MiB (%.1f MiB before the '
          'transfers); bytes verified by CRC-32' % (peak, baseline))
    return 0


if __name__ == '__main__':
    sys.exit(main())
