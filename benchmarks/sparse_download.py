"""Download rate of a sparse image: a 2 GiB snapshot of a 1 MiB image.

    python benchmarks/sparse_download.py [--size-gib 2] [--repeat 3]

Starts ``nutanix-emulator`` as a child process, uploads a 1 MiB image of
random bytes, creates a VM whose disk is a ``--size-gib`` GiB clone of it
and an image of that VM disk (what a Nova snapshot of a fresh server
does), then downloads the new image through the Prism client
(``GET .../content/images/{extId}/file``), checking every byte (the first
MiB equals the source, the rest is zeros).  Reports MiB/s (median of
``--repeat`` with the spread), the client's and the emulator's CPU
seconds.
"""

import argparse
import io
import os
import resource
import statistics
import sys
import tempfile
import time

MiB = 1024 * 1024


def proc_cpu_seconds(pid):
    with open('/proc/%d/stat' % pid) as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return sum(int(x) for x in fields[11:13]) / os.sysconf('SC_CLK_TCK')


def self_cpu():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--size-gib', type=int, default=2)
    parser.add_argument('--repeat', type=int, default=3)
    parser.add_argument('--dir', default=None)
    args = parser.parse_args(argv)

    from nutanix_openstack.emulator import fixture
    from nutanix_openstack.prism import vms
    size = args.size_gib * 1024 * MiB
    work = tempfile.mkdtemp(prefix='sparse-bench-', dir=args.dir)
    emulator = fixture.EmulatorProcess(data_dir=work)
    emulator.start()
    rates, client_cpu, emu_cpu = [], [], []
    try:
        c = emulator.prism_client(read_timeout=600)
        src = os.urandom(MiB)
        img = c.images.create_for_upload('sparse-src')
        c.images.upload(img["extId"], io.BytesIO(src), size=len(src))
        vm = c.vms.create('sparse-vm', memory_size_bytes=512 * MiB,
                          disks=[vms.disk_from_image(img['extId'],
                                                     size_bytes=size)])
        disk = vm['disks'][0]['extId']
        snap = c.images.create_from_vm_disk('sparse-snap', vm['extId'],
                                            disk)
        zeros = bytes(4 * MiB)
        for _ in range(args.repeat):
            cpu0, ecpu0 = self_cpu(), proc_cpu_seconds(emulator.proc.pid)
            start = time.perf_counter()
            pos = 0
            for piece in c.images.download(snap['extId']):
                n = len(piece)
                if pos < MiB:
                    head = min(n, MiB - pos)
                    assert piece[:head] == src[pos:pos + head]
                    assert zeros.startswith(piece[head:])
                else:
                    assert zeros.startswith(piece)
                pos += n
            wall = time.perf_counter() - start
            assert pos == size, (pos, size)
            rates.append(size / MiB / wall)
            client_cpu.append(self_cpu() - cpu0)
            emu_cpu.append(proc_cpu_seconds(emulator.proc.pid) - ecpu0)
        c.close()
    finally:
        emulator.cleanup()
    print('sparse download: %d GiB image (1 MiB of data), median of %d'
          % (args.size_gib, args.repeat))
    print('%12s %16s %14s %16s' % ('MiB/s', 'spread', 'client CPU s',
                                   'emulator CPU s'))
    print('%12.0f %16s %14.2f %16.2f' % (
        statistics.median(rates),
        '%.0f-%.0f' % (min(rates), max(rates)),
        statistics.median(client_cpu), statistics.median(emu_cpu)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
