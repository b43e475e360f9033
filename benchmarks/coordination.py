"""Cross-host locks under contention: N processes, one image's raw disk.

    python benchmarks/coordination.py [--procs 1,4,16] [--delay 0.5]

Starts ``nutanix-emulator`` as a child process (``task_mode = async``:
every task takes ``--delay`` seconds, as a cluster's image conversion
takes time), uploads an ISO_IMAGE (the kind whose raw disk must be
derived) and, for each N in ``--procs`` and each lock backend, starts N
OS processes ("hosts") that ask at the same moment for that image's raw
disk (``client.images.ensure_disk_image``).  Backends, side by side:

* ``process``: each process's own lock (no coordination between hosts);
  only the NTNX-Request-Id derived from the image keeps them from making
  several disks;
* ``file``: a tooz file lock (every process of one host);
* ``etcd``: a tooz etcd lock (a single-member etcd on loopback, started by
  tools/etcd.sh), the production backend.

Reported per run: how many succeeded (target: all), how many raw disks
the cluster ends with (target: 1), p50/p95 of the time each process
waited for its answer, and that median as a ratio to the ``file`` run of
the same N.  A second table does the same with N *different* images (no
contention): the price of taking a lock nobody else holds.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, REPO)

WORKER = r'''
import json, os, sys, time
from nutanix_openstack import coordination
from nutanix_openstack.prism import client as prism_client
from nutanix_openstack.prism import exceptions as exc
args = json.loads(sys.argv[1])
coordinator = coordination.Coordinator(backend_url=args['backend_url'],
                                       lock_timeout=120)
client = prism_client.PrismClient(
    endpoints=[args['endpoint']], username=args['username'],
    password=args['password'], verify=False, task_poll_interval=0.05,
    retry_interval=0.05, lock=coordinator.lock)
client.images.get(args['image'])        # connected before the start line
while not os.path.exists(args['go']):
    time.sleep(0.005)
start = time.monotonic()
try:
    out = {'derived': client.images.ensure_disk_image(args['image'])}
except exc.PrismError as e:
    out = {'error': '%s: %s' % (type(e).__name__, e)}
out['seconds'] = time.monotonic() - start
coordinator.stop()
print(json.dumps(out), flush=True)
'''


def percentile(values, q):
    values = sorted(values)
    if not values:
        return float('nan')
    k = max(0, min(len(values) - 1, int(round(q * (len(values) - 1)))))
    return values[k]


def upload_iso(client, name):
    img = client.images.create_for_upload(name, image_type='ISO_IMAGE')
    client.images.upload(img['extId'], iter([os.urandom(1024 * 1024)]),
                         size=1024 * 1024)
    return img['extId']


def run(emu, client, backend_url, images, tmp):
    go = os.path.join(tmp, 'go-%d' % time.monotonic_ns())
    procs = []
    for image in images:
        args = dict(endpoint=emu.endpoint, username=emu.username,
                    password=emu.password, backend_url=backend_url,
                    image=image, go=go)
        procs.append(subprocess.Popen(
            [sys.executable, '-c', WORKER, json.dumps(args)], cwd=REPO,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL))
    # Every worker is up and connected (it imports, then polls for go).
    time.sleep(2.0 + 0.15 * len(images))
    open(go, 'w').close()
    results = []
    for p in procs:
        out, _err = p.communicate(timeout=600)
        lines = out.decode().strip().splitlines()
        results.append(json.loads(lines[-1]) if lines else
                       {'error': 'no answer'})
    derived = 0
    for image in set(images):
        derived += len([i for i in client.images.list_derived(image)])
    ok = [r for r in results if 'derived' in r]
    return {'ok': len(ok), 'n': len(images), 'disks': derived,
            'p50': percentile([r['seconds'] for r in ok], 0.5),
            'p95': percentile([r['seconds'] for r in ok], 0.95),
            'errors': sorted({r['error'][:80] for r in results
                              if 'error' in r})}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--procs', default='1,4,16')
    parser.add_argument('--delay', type=float, default=0.5)
    parser.add_argument('--no-etcd', action='store_true')
    opts = parser.parse_args()
    from nutanix_openstack.emulator import fixture
    tmp = tempfile.mkdtemp(prefix='bench-coord-')
    emu = fixture.EmulatorProcess(task_mode='async')
    emu.start()
    etcd_dir = os.path.join(tmp, 'etcd')
    backends = [('process', None),
                ('file', 'file://' + os.path.join(tmp, 'locks'))]
    try:
        if not opts.no_etcd and shutil.which('etcd'):
            url = subprocess.check_output(
                ['bash', os.path.join(REPO, 'tools', 'etcd.sh'), 'start',
                 etcd_dir, str(fixture.free_port()),
                 str(fixture.free_port())]).decode().strip()
            backends.append(('etcd', url.replace('http://', 'etcd3+http://')
                             + '?lock_timeout=10'))
        client = emu.prism_client()
        for title, same in (('N processes, ONE image', True),
                            ('N processes, N images (no contention)',
                             False)):
            print('\n%s (task delay %.2fs)' % (title, opts.delay))
            print('%-8s %4s %8s %6s %8s %8s %9s  %s' % (
                'backend', 'N', 'ok', 'disks', 'p50 s', 'p95 s',
                'p50/file', 'errors'))
            for n in [int(x) for x in opts.procs.split(',')]:
                rows = []
                for name, url in backends:
                    emu.admin.reset()
                    emu.admin.set_task_mode('async', delay=opts.delay)
                    if same:
                        images = [upload_iso(client, 'iso')] * n
                    else:
                        images = [upload_iso(client, 'iso-%d' % i)
                                  for i in range(n)]
                    rows.append((name, run(emu, client, url, images, tmp)))
                base = dict(rows)['file']['p50']
                for name, r in rows:
                    print('%-8s %4d %4d/%-3d %6d %8.2f %8.2f %9.2f  %s' % (
                        name, n, r['ok'], r['n'], r['disks'], r['p50'],
                        r['p95'], r['p50'] / base if base else
                        float('nan'), '; '.join(r['errors'])))
    finally:
        subprocess.call(['bash', os.path.join(REPO, 'tools', 'etcd.sh'),
                         'stop', etcd_dir])
        emu.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    main()
