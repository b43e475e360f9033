"""Disaster recovery: bytes replication sends, and failover time.

    python benchmarks/dr_replication.py [--size-mib 1024] [--changed 0.01]
                                        [--volumes 20]

Two ``nutanix-emulator`` processes (site 1 and site 2, paired) on loopback.

1. **Incremental replication.** A volume group with one disk of
   ``--size-mib`` is filled with random bytes, snapshotted (recovery point)
   and replicated (the full copy); then ``--changed`` of it is rewritten and
   the new point replicated.  Reported side by side: bytes written, bytes
   the source sent to the target (the task's ``bytesSent``), their ratio,
   and the time.  Two change patterns: 64 KiB-aligned 64 KiB writes, and
   4 KiB writes scattered over the disk (4 KiB is the default
   ``replication_block_size``: a write smaller than a block, or not
   aligned to one, would cost the whole block and show in the ratio).
   The replica is restored on site 2 and its sha256 compared with the
   source disk's.
2. **Failover of N volumes.** The Cinder driver (in this process, with a
   ``replication_device``) creates N replicated 1 GiB volumes with a few
   MiB written each; site 1 is SIGKILLed and ``failover_host`` is timed
   (the restore of the newest replica of every volume on site 2).
"""

import argparse
import hashlib
import os
import random
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..'))

from nutanix_openstack.emulator import fixture  # noqa: E402

MiB = 1024 * 1024
KiB = 1024
BLOCK = 64 * KiB


def sha256_of(admin, disk, size):
    digest = hashlib.sha256()
    pos = 0
    while pos < size:
        n = min(64 * MiB, size - pos)
        digest.update(admin.read_disk(disk, pos, n))
        pos += n
    return digest.hexdigest()


def write_random(admin, disk, size):
    pos = 0
    while pos < size:
        n = min(16 * MiB, size - pos)
        admin.write_disk(disk, pos, os.urandom(n))
        pos += n


def change(admin, disk, size, fraction, unit, rng):
    """Rewrite ``fraction`` of the disk in writes of ``unit`` bytes."""
    count = max(1, int(size * fraction) // unit)
    slots = rng.sample(range(size // BLOCK), count)
    for slot in slots:
        # Aligned to the block; a 4 KiB write lands anywhere inside it.
        offset = slot * BLOCK + (rng.randrange(BLOCK // unit) * unit
                                 if unit < BLOCK else 0)
        admin.write_disk(disk, offset, os.urandom(unit))
    return count * unit


def replication_run(site_a, site_b, size, fraction, unit, rng):
    a = site_a.prism_client(task_timeout=3600, read_timeout=600)
    b = site_b.prism_client(task_timeout=3600, read_timeout=600)
    from nutanix_openstack.prism import volume_groups as vgs
    vg = a.volume_groups.create('bench-%d' % unit, disks=[
        vgs.volume_disk(size, site_a.container_ext_id)])
    disk = a.volume_groups.list_disks(vg['extId'])[0]['extId']
    start = time.perf_counter()
    write_random(site_a.admin, disk, size)
    write_time = time.perf_counter() - start
    rp1 = a.recovery_points.create('bench-full-%d' % unit,
                                   volume_group_ext_ids=[vg['extId']])
    start = time.perf_counter()
    full = a.replication.replicate(rp1['extId'],
                                   cluster_ext_id=site_b.cluster_ext_id)
    full_time = time.perf_counter() - start
    written = change(site_a.admin, disk, size, fraction, unit, rng)
    rp2 = a.recovery_points.create('bench-incr-%d' % unit,
                                   volume_group_ext_ids=[vg['extId']])
    start = time.perf_counter()
    incr = a.replication.replicate(rp2['extId'],
                                   cluster_ext_id=site_b.cluster_ext_id)
    incr_time = time.perf_counter() - start
    # Byte for byte: the replica restored on site 2 is the source disk.
    restored = b.recovery_points.restore(incr['extId'])
    new_vg = [e['extId'] for e in restored if e['rel'].endswith(
        'volume-group')][0]
    new_disk = b.volume_groups.list_disks(new_vg)[0]['extId']
    same = sha256_of(site_a.admin, disk, size) == sha256_of(
        site_b.admin, new_disk, size)
    a.close()
    b.close()
    return dict(size=size, fill_written=size, fill_time=write_time,
                full_sent=full['bytesSent'], full_time=full_time,
                written=written, sent=incr['bytesSent'], incr_time=incr_time,
                same=same)


def failover_run(site_a, site_b, count):
    """Driver-level failover of ``count`` replicated volumes."""
    from cinder import context
    from cinder import objects
    from cinder.volume import configuration as conf
    from oslo_config import cfg

    from nutanix_openstack.cinder import driver
    from nutanix_openstack.cinder import options
    objects.register_all()
    group = 'nutanix-bench'
    configuration = conf.Configuration(driver.driver.volume_opts,
                                       config_group=group)
    configuration.append_config_values(options.ALL_OPTS)
    for name, value in (
            ('nutanix_endpoints', [site_a.endpoint]),
            ('nutanix_username', site_a.username),
            ('nutanix_password', site_a.password),
            ('nutanix_verify_ssl', False),
            ('nutanix_task_poll_interval', 0.02),
            ('nutanix_api_retries', 0),
            ('nutanix_replication_interval', 0),
            ('nutanix_storage_container', site_a.container_name),
            ('volume_backend_name', 'nutanix'),
            ('replication_device', [{
                'backend_id': 'site-2', 'endpoints': site_b.endpoint,
                'username': site_b.username, 'password': site_b.password,
                'verify_ssl': 'false'}])):
        cfg.CONF.set_override(name, value, group=group)
    ctx = context.get_admin_context()
    drv = driver.NutanixVolumeDriver(configuration=configuration,
                                     host='bench@nutanix')
    drv.do_setup(ctx)
    vtype = objects.VolumeType(ctx, id='00000000-0000-4000-8000-0000000000aa',
                               name='replicated', extra_specs={
                                   'replication_enabled': '<is> True'})
    volumes = []
    start = time.perf_counter()
    for i in range(count):
        vol = objects.Volume(ctx, id='00000000-0000-4000-9000-%012d' % i,
                             size=1, status='available', multiattach=False,
                             replication_status='enabled', group_id=None,
                             provider_id=None, display_name='v%d' % i,
                             _name_id=None)
        vol.volume_type = vtype
        vol.update(drv.create_volume(vol))
        disk = drv.client.volume_groups.list_disks(vol.provider_id)[0]
        site_a.admin.write_disk(disk['extId'], 0, os.urandom(4 * MiB))
        volumes.append(vol)
    created = time.perf_counter() - start
    start = time.perf_counter()
    replicated = drv.replication_ops.replicate_all()
    replicate_time = time.perf_counter() - start
    site_a.kill()
    start = time.perf_counter()
    active, updates, _groups = drv.failover_host(ctx, volumes, 'site-2', [])
    failover_time = time.perf_counter() - start
    ok = sum(1 for u in updates
             if u['updates'].get('replication_status') == 'failed-over')
    return dict(count=count, create_time=created, replicated=replicated,
                replicate_time=replicate_time, failover_time=failover_time,
                failed_over=ok, active=active)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--size-mib', type=int, default=1024)
    parser.add_argument('--changed', type=float, default=0.01)
    parser.add_argument('--volumes', type=int, default=20)
    args = parser.parse_args()
    rng = random.Random(42)
    size = args.size_mib * MiB
    with fixture.EmulatorProcess(task_mode='immediate') as site_a, \
            fixture.EmulatorProcess(task_mode='immediate', site=2) as site_b:
        site_a.pair(site_b)
        print('Incremental replication, %d MiB disk, %.1f%% changed'
              % (args.size_mib, args.changed * 100))
        print('%-22s %12s %12s %8s %9s %s' % (
            'pattern', 'written', 'sent', 'sent/wr', 'seconds', 'replica'))
        for unit, label in ((BLOCK, '64 KiB aligned writes'),
                            (4 * KiB, '4 KiB scattered writes')):
            r = replication_run(site_a, site_b, size, args.changed, unit,
                                rng)
            print('%-22s %12d %12d %8.3f %9.2f %s' % (
                'full copy', r['fill_written'], r['full_sent'],
                r['full_sent'] / r['fill_written'], r['full_time'],
                'sha256 equal' if r['same'] else 'DIFFERENT'))
            print('%-22s %12d %12d %8.3f %9.2f %s' % (
                label, r['written'], r['sent'], r['sent'] / r['written'],
                r['incr_time'], 'sha256 equal' if r['same']
                else 'DIFFERENT'))
            print('%-22s %12s %12s %8.4f' % (
                '  sent / disk size', '', '', r['sent'] / r['size']))
        r = failover_run(site_a, site_b, args.volumes)
        print('\nFailover of %d replicated volumes (site 1 SIGKILLed)'
              % r['count'])
        print('create + initial replication: %.2f s; periodic pass: %.2f s '
              '(%d replicated)' % (r['create_time'], r['replicate_time'],
                                   r['replicated']))
        print('failover_host: %.2f s, %d/%d failed over to %s'
              % (r['failover_time'], r['failed_over'], r['count'],
                 r['active']))


if __name__ == '__main__':
    main()
