"""Upload/download throughput and peak RSS: nutanix store vs file store.

Usage::

    python benchmarks/glance_store_throughput.py [--size-mib 1024] [--pairs 3]

Prints one ratio table (nutanix / file, median of ``--pairs`` pairs run in
alternating order, with the min-max spread of the ratios): MiB/s of
upload and download, the CPU seconds each took (the store's process plus,
for the nutanix store, the emulator process: all the work either store
makes the machine do) and the peak RSS of the store's process.

For each store (glance_store's ``file`` store on a temp dir, and this
``nutanix`` store talking HTTP to ``nutanix-emulator`` running as a child
process whose data dir is on the same disk), one child Python process
adds an image of ``--size-mib`` MiB through ``Store.add()`` (md5 +
sha512 computed, as Glance does) and reads it back through
``Store.get()``, then reports its own peak RSS.  One process per store,
so the peak RSS is that store's alone; the emulator's own memory is not
counted (it stands in for the cluster).  Image bytes come from a
generator of 4 MiB pieces, as Glance's reader would feed them: nothing
holds the image whole.
"""

import argparse
import hashlib
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

MiB = 1024 * 1024
IMAGE_ID = '961973d8-3360-4364-919e-2c197825dbb4'


class PatternReader(io.RawIOBase):
    """``size`` bytes of a repeated random 4 MiB block, read like a file."""

    def __init__(self, size):
        self.remaining = size
        self.block = os.urandom(4 * MiB)
        self.pos = 0

    def readable(self):
        return True

    def read(self, n=-1):
        if self.remaining <= 0:
            return b''
        if n is None or n < 0:
            n = self.remaining
        n = min(n, self.remaining, len(self.block) - self.pos)
        data = self.block[self.pos:self.pos + n]
        self.pos = (self.pos + n) % len(self.block)
        self.remaining -= n
        return data


def _conf():
    import glance_store
    from oslo_config import cfg
    conf = cfg.ConfigOpts()
    conf(args=[])
    glance_store.register_opts(conf)
    return conf


def _make_store(kind, args):
    from glance_store import location
    conf = _conf()
    if kind == 'file':
        from glance_store._drivers import filesystem
        store = filesystem.Store(conf)
        conf.set_override('filesystem_store_datadir', args.datadir,
                          'glance_store')
        scheme_cls = filesystem.StoreLocation
        schemes = ('file',)
    else:
        from nutanix_openstack.glance import store as nstore
        store = nstore.Store(conf)
        for k, v in dict(nutanix_endpoints=[args.endpoint],
                         nutanix_username=args.username,
                         nutanix_password=args.password,
                         nutanix_task_poll_interval=0.1).items():
            conf.set_override(k, v, 'glance_store')
        scheme_cls = nstore.StoreLocation
        schemes = ('nutanix',)
    store.configure(re_raise_bsc=True)
    location.register_scheme_map({s: {'store': store,
                                      'location_class': scheme_cls,
                                      'store_entry': kind}
                                  for s in schemes})
    return store, conf


def proc_cpu_seconds(pid):
    """utime + stime of another process, in seconds."""
    with open('/proc/%d/stat' % pid) as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return sum(int(x) for x in fields[11:13]) / os.sysconf('SC_CLK_TCK')


def cpu_seconds(emulator_pid):
    """CPU seconds of this process, plus the emulator's if any."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    own = ru.ru_utime + ru.ru_stime
    return own + (proc_cpu_seconds(emulator_pid) if emulator_pid else 0)


def child(args):
    """Runs in its own process: add, get, report."""
    from glance_store import location
    store, conf = _make_store(args.store, args)
    size = args.size_mib * MiB
    reader = PatternReader(size)
    cpu0, t0 = cpu_seconds(args.emulator_pid), time.monotonic()
    uri, written, checksum, multihash, _meta = store.add(
        IMAGE_ID, reader, size, 'sha512')
    t_up = time.monotonic() - t0
    cpu_up = cpu_seconds(args.emulator_pid) - cpu0
    assert written == size, (written, size)

    loc = location.get_location_from_uri(uri, conf=conf)
    cpu0, t0 = cpu_seconds(args.emulator_pid), time.monotonic()
    it, _size = store.get(loc)
    md5 = hashlib.md5()
    total = 0
    for chunk in it:
        md5.update(chunk)
        total += len(chunk)
    t_down = time.monotonic() - t0
    cpu_down = cpu_seconds(args.emulator_pid) - cpu0
    assert total == size and md5.hexdigest() == checksum
    store.delete(loc)
    rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({'store': args.store, 'size_mib': args.size_mib,
                      'upload_s': round(t_up, 2),
                      'upload_mib_s': round(args.size_mib / t_up, 1),
                      'upload_cpu_s': round(cpu_up, 2),
                      'download_s': round(t_down, 2),
                      'download_mib_s': round(args.size_mib / t_down, 1),
                      'download_cpu_s': round(cpu_down, 2),
                      'peak_rss_mib': round(rss_kib / 1024.0, 1)}))


def run_child(extra):
    out = subprocess.check_output(
        [sys.executable, os.path.abspath(__file__), '--child'] + extra)
    return json.loads(out.decode().strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--size-mib', type=int, default=1024)
    parser.add_argument('--child', action='store_true')
    parser.add_argument('--store')
    parser.add_argument('--datadir')
    parser.add_argument('--endpoint')
    parser.add_argument('--username')
    parser.add_argument('--password')
    parser.add_argument('--emulator-pid', type=int, default=0)
    parser.add_argument('--pairs', type=int, default=3,
                        help='file/nutanix pairs, alternating which runs '
                             'first')
    parser.add_argument('--workdir', default=None,
                        help='directory on the disk to measure (default: '
                             'a temp dir)')
    args = parser.parse_args()
    if args.child:
        return child(args)

    from nutanix_openstack.emulator import fixture
    work = tempfile.mkdtemp(prefix='glance-bench-', dir=args.workdir)
    size = ['--size-mib', str(args.size_mib)]
    os.makedirs(os.path.join(work, 'emulator'))
    emu = fixture.EmulatorProcess(data_dir=os.path.join(work, 'emulator'))
    emu.start()
    pairs = []
    try:
        def run_file():
            return run_child(['--store', 'file', '--datadir',
                              os.path.join(work, 'file-store')] + size)

        def run_nutanix():
            return run_child(['--store', 'nutanix', '--endpoint',
                              emu.endpoint, '--username', emu.username,
                              '--password', emu.password,
                              '--emulator-pid', str(emu.proc.pid)] + size)
        for i in range(args.pairs):
            # Alternated, so that neither store always runs first.
            if i % 2:
                nutanix, file_ = run_nutanix(), run_file()
            else:
                file_, nutanix = run_file(), run_nutanix()
            pairs.append((file_, nutanix))
            print('pair %d: %s' % (i + 1, json.dumps([file_, nutanix])))
            sys.stdout.flush()
    finally:
        emu.stop()
        subprocess.call(['rm', '-rf', work])
    print_table(args, pairs)


ROWS = (('upload MiB/s', 'upload_mib_s'),
        ('upload CPU s', 'upload_cpu_s'),
        ('download MiB/s', 'download_mib_s'),
        ('download CPU s', 'download_cpu_s'),
        ('peak RSS MiB', 'peak_rss_mib'))


def print_table(args, pairs):
    print()
    print('%d MiB, %d pairs (alternated), medians; ratio = nutanix / file '
          'per pair, median (min-max)' % (args.size_mib, len(pairs)))
    print('CPU s: the store process, plus the emulator for nutanix')
    print('%-16s %10s %10s %8s %14s' % ('', 'file', 'nutanix', 'ratio',
                                        'ratio spread'))
    for label, key in ROWS:
        ratios = [n[key] / f[key] for f, n in pairs if f[key]]
        print('%-16s %10.1f %10.1f %7.2fx %14s' % (
            label, statistics.median(f[key] for f, _n in pairs),
            statistics.median(n[key] for _f, n in pairs),
            statistics.median(ratios),
            '%.2f-%.2f' % (min(ratios), max(ratios))))


if __name__ == '__main__':
    main()
