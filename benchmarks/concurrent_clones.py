"""Throughput of concurrent copy-on-write clones against one emulator.

    python benchmarks/concurrent_clones.py [--clients 1,5,20] [--ops 60]

Starts ``nutanix-emulator`` as a child process (``task_mode = async``, as a
real cluster: clients poll the task), uploads one image of ``--image-mib``
random MiB, then for each N in ``--clients`` runs ``--ops`` operations
spread over N client threads (one PrismClient each, task poll interval
0.05 s) and reports operations per second and the ratio to N = 1:

* ``vm``: create a VM whose disk is a clone of the image (``kVmCreate``);
* ``vg``: create a volume group and add a disk cloned from the image (two
  tasks, as the Cinder driver does).

Every created object is deleted after the timed part.  Any error is
counted and reported (the goal is zero).  ``--existing-vms K`` creates K
VMs (no NICs, one cloned disk) before the timed runs and keeps them, as
in a cluster that already runs instances.

``--baseline-src DIR`` runs a second emulator from the source tree DIR
(another checkout of this repository, put first on its ``PYTHONPATH``)
side by side: every run alternates between the two emulators, so both see
the same machine load, and the table gets a "vs baseline" column (ratio
of ops/s per pair of runs, median and spread, and of emulator CPU
seconds).  The CPU seconds of the emulator and of this (client) process
are read from ``/proc`` around each run: on a small machine the clients'
own CPU bounds the rate at high N.
"""

import argparse
import concurrent.futures
import io
import os
import statistics
import sys
import tempfile
import threading
import time

MiB = 1024 * 1024


def proc_cpu_seconds(pid):
    """utime + stime of a process (and its reaped children), in seconds."""
    with open('/proc/%d/stat' % pid) as f:
        fields = f.read().rsplit(')', 1)[1].split()
    ticks = os.sysconf('SC_CLK_TCK')
    return sum(int(x) for x in fields[11:15]) / ticks


def run(emulator, kind, n, ops, image_ext_id, container):
    from nutanix_openstack.prism import vms
    from nutanix_openstack.prism import volume_groups as vg_mod
    local = threading.local()
    clients = []
    lock = threading.Lock()
    created = []
    errors = []

    def client():
        if not hasattr(local, 'client'):
            local.client = emulator.prism_client(task_poll_interval=0.05)
            with lock:
                clients.append(local.client)
        return local.client

    def one(i):
        c = client()
        try:
            if kind == 'vm':
                vm = c.vms.create(
                    'bench-vm-%d-%d' % (n, i), memory_size_bytes=512 * MiB,
                    disks=[vms.disk_from_image(image_ext_id)])
                with lock:
                    created.append(('vm', vm['extId']))
            else:
                vg = c.volume_groups.create(
                    'bench-vg-%d-%d' % (n, i),
                    disks=[vg_mod.volume_disk(
                        64 * MiB, container,
                        data_source=vg_mod.image_source(image_ext_id))])
                with lock:
                    created.append(('vg', vg['extId']))
        except Exception as exc:     # counted, reported
            with lock:
                errors.append(repr(exc))

    cpu0 = proc_cpu_seconds(emulator.proc.pid)
    own0 = proc_cpu_seconds(os.getpid())
    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(n) as pool:
        list(pool.map(one, range(ops)))
    wall = time.perf_counter() - start
    cpu = proc_cpu_seconds(emulator.proc.pid) - cpu0
    own = proc_cpu_seconds(os.getpid()) - own0
    c = emulator.prism_client(task_poll_interval=0.05)
    for what, ext_id in created:
        if what == 'vm':
            c.vms.delete(ext_id)
        else:
            c.volume_groups.delete(ext_id)
    for cl in clients + [c]:
        cl.close()
    return dict(ops_s=ops / wall, wall=wall, cpu=cpu, own=own,
                errors=errors)


def start_emulator(label, src, work_root, args):
    from nutanix_openstack.emulator import fixture
    work = tempfile.mkdtemp(prefix='clone-bench-%s-' % label, dir=work_root)
    old = os.environ.get('PYTHONPATH')
    if src:
        os.environ['PYTHONPATH'] = os.path.abspath(src) + (
            os.pathsep + old if old else '')
    try:
        emulator = fixture.EmulatorProcess(data_dir=work, task_mode='async')
        emulator.start()
    finally:
        if old is None:
            os.environ.pop('PYTHONPATH', None)
        else:
            os.environ['PYTHONPATH'] = old
    c = emulator.prism_client(task_poll_interval=0.05)
    img = c.images.create_for_upload('bench-src')
    data = os.urandom(args.image_mib * MiB)
    c.images.upload(img["extId"], io.BytesIO(data), size=len(data))
    from nutanix_openstack.prism import vms
    for i in range(args.existing_vms):
        c.vms.create('existing-vm-%d' % i, memory_size_bytes=512 * MiB,
                     disks=[vms.disk_from_image(img['extId'])])
    c.close()
    return emulator, img['extId']


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--clients', default='1,5,20')
    parser.add_argument('--ops', type=int, default=60,
                        help='operations per run (whatever N)')
    parser.add_argument('--repeat', type=int, default=3,
                        help='runs per N; the median is shown with the '
                             'spread (min-max)')
    parser.add_argument('--kinds', default='vm,vg')
    parser.add_argument('--image-mib', type=int, default=16)
    parser.add_argument('--dir', default=None)
    parser.add_argument('--existing-vms', type=int, default=0)
    parser.add_argument('--baseline-src', default=None,
                        help='source tree of a baseline emulator run side '
                             'by side (alternating)')
    args = parser.parse_args(argv)

    labels = ['this'] + (['baseline'] if args.baseline_src else [])
    emulators = {}
    rows = []
    try:
        emulators['this'] = start_emulator('this', None, args.dir, args)
        if args.baseline_src:
            emulators['baseline'] = start_emulator(
                'baseline', args.baseline_src, args.dir, args)
        for kind in args.kinds.split(','):
            base = {}
            for n in [int(x) for x in args.clients.split(',')]:
                results = dict((label, []) for label in labels)
                for i in range(args.repeat):
                    order = labels if i % 2 == 0 else labels[::-1]
                    for label in order:
                        emulator, image = emulators[label]
                        results[label].append(run(
                            emulator, kind, n, args.ops, image,
                            emulator.container_ext_id))
                meds = {}
                for label in labels:
                    res = results[label]
                    rates = [r['ops_s'] for r in res]
                    med = statistics.median(rates)
                    meds[label] = med
                    base.setdefault(label, med)
                    errs = sum(len(r['errors']) for r in res)
                    cpu_op = statistics.median(r['cpu'] / args.ops
                                               for r in res)
                    own_op = statistics.median(r['own'] / args.ops
                                               for r in res)
                    vs_base = ''
                    if label == 'this' and args.baseline_src:
                        pair = [a['ops_s'] / b['ops_s'] for a, b in zip(
                            res, results['baseline'])]
                        cpu_pair = [a['cpu'] / b['cpu'] for a, b in zip(
                            res, results['baseline'])]
                        vs_base = '%.2fx (%.2f-%.2f) cpu %.2fx' % (
                            statistics.median(pair), min(pair), max(pair),
                            statistics.median(cpu_pair))
                    rows.append((label, kind, n, med, min(rates),
                                 max(rates), med / base[label],
                                 cpu_op * 1000, own_op * 1000, errs,
                                 vs_base))
                    for r in res:
                        for e in r['errors'][:3]:
                            print('error (%s, %s, N=%d): %s'
                                  % (label, kind, n, e), file=sys.stderr)
                sys.stdout.flush()
    finally:
        for emulator, _ in emulators.values():
            emulator.cleanup()
    print('%d operations per run, median of %d runs (min-max), '
          'emulator task_mode=async, %d existing VMs'
          % (args.ops, args.repeat, args.existing_vms))
    print('%-8s %-4s %4s %8s %13s %7s %14s %13s %6s  %s' % (
        'emulator', 'kind', 'N', 'ops/s', 'spread', 'vs N=1',
        'emu CPU/op', 'client CPU/op', 'errors', 'vs baseline (CPU s)'))
    for (label, kind, n, med, lo, hi, ratio, cpu_ms, own_ms, errs,
         vs_base) in rows:
        print('%-8s %-4s %4d %8.1f %13s %6.2fx %11.1f ms %10.1f ms %6d  %s'
              % (label, kind, n, med, '%.1f-%.1f' % (lo, hi), ratio,
                 cpu_ms, own_ms, errs, vs_base))
    return 0


if __name__ == '__main__':
    sys.exit(main())
