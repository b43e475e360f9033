"""Costs of the Cinder driver's copy-on-write operations on the emulator.

Runs :class:`~nutanix_openstack.cinder.driver.NutanixVolumeDriver` in this
process against a ``nutanix-emulator`` subprocess.  A volume of VOLUME GiB
gets DATA MiB of random bytes (through the emulator's admin disk API), then
each operation is timed and the bytes the emulator stores after it are
reported: snapshot, volume from snapshot, clone, clone of a same-cluster
image of DATA MiB, upload to image by location and, for reference, the
streamed upload when Glance refuses the location (which moves the whole
volume through this process).

A copy-on-write operation must cost the same for any DATA and add no
stored bytes.

Run::

    python benchmarks/cinder_volumes.py --data-mib 256 --volume-gib 1
"""

import argparse
import os
import sys
import time
import uuid

MIB = 1024 * 1024


class Glance(object):
    """The parts of Cinder's image service the driver uses, in memory."""

    def __init__(self, accept_locations=True):
        self.accept_locations = accept_locations
        self.received = 0
        self.temp_images = None

    def add_location(self, context, image_id, url, metadata):
        if not self.accept_locations:
            raise RuntimeError('location refused')

    def update(self, context, image_id, meta, data=None, **kw):
        chunk = data.read(MIB)
        while chunk:
            self.received += len(chunk)
            chunk = data.read(MIB)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--data-mib', type=int, default=256)
    parser.add_argument('--volume-gib', type=int, default=1)
    args = parser.parse_args()
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..'))

    from cinder import context
    from cinder import objects
    from cinder.tests.unit import fake_snapshot
    from cinder.tests.unit import fake_volume
    from cinder.volume import configuration as conf
    from oslo_config import cfg

    from nutanix_openstack.cinder import driver
    from nutanix_openstack.cinder import options
    from nutanix_openstack.emulator import fixture
    from nutanix_openstack.prism import locations

    objects.register_all()
    emu = fixture.EmulatorProcess()
    emu.start()
    try:
        group = 'bench'
        configuration = conf.Configuration(driver.driver.volume_opts,
                                           config_group=group)
        configuration.append_config_values(options.ALL_OPTS)
        for name, value in (('nutanix_endpoints', [emu.endpoint]),
                            ('nutanix_username', emu.username),
                            ('nutanix_password', emu.password),
                            ('nutanix_verify_ssl', False),
                            ('nutanix_task_poll_interval', 0.05),
                            ('nutanix_storage_container',
                             emu.container_name)):
            cfg.CONF.set_override(name, value, group=group)
        ctx = context.get_admin_context()
        drv = driver.NutanixVolumeDriver(configuration=configuration)
        drv.do_setup(ctx)
        client = drv.client

        def stored():
            return emu.admin.inventory()['storage']['bytes_stored']

        def volume(size=args.volume_gib, **kw):
            return fake_volume.fake_volume_obj(ctx, id=str(uuid.uuid4()),
                                               size=size, **kw)

        rows = []

        def timed(label, fn):
            before = stored()
            start = time.time()
            result = fn()
            rows.append((label, time.time() - start,
                         (stored() - before) / float(MIB)))
            return result

        src = volume()
        src.update(timed('create volume', lambda: drv.create_volume(src)))
        disk = client.volume_groups.list_disks(src.provider_id)[0]
        block = os.urandom(4 * MIB)
        start = time.time()
        for offset in range(0, args.data_mib * MIB, len(block)):
            emu.admin.write_disk(disk['extId'], offset, block)
        write_s = time.time() - start

        snap = fake_snapshot.fake_snapshot_obj(
            ctx, id=str(uuid.uuid4()), volume=src, volume_id=src.id,
            volume_size=src.size)
        snap.update(timed('snapshot', lambda: drv.create_snapshot(snap)))
        restored = volume(size=args.volume_gib + 1)
        timed('volume from snapshot (+1 GiB)',
              lambda: drv.create_volume_from_snapshot(restored, snap))
        clone = volume()
        timed('clone volume', lambda: drv.create_cloned_volume(clone, src))

        image = client.images.create_for_upload(
            'bench-image', cluster_ext_id=emu.cluster_ext_id)
        client.images.upload(image['extId'], lambda: iter(
            [block] * (args.data_mib // 4)), size=args.data_mib * MIB)
        meta = {'id': str(uuid.uuid4()), 'disk_format': 'raw',
                'container_format': 'bare'}
        loc = (None, [{'url': locations.make_location(emu.cluster_ext_id,
                                                      image['extId'])}])
        from_image = volume()
        timed('volume from nutanix:// image',
              lambda: drv.clone_image(ctx, from_image, loc, meta, Glance()))

        direct = Glance()
        timed('upload to image (location)',
              lambda: drv.copy_volume_to_image(
                  ctx, src, direct, dict(meta, id=str(uuid.uuid4()))))
        streamed = Glance(accept_locations=False)
        timed('upload to image (streamed, refused location)',
              lambda: drv.copy_volume_to_image(
                  ctx, src, streamed, dict(meta, id=str(uuid.uuid4()))))

        print('data written into the source volume: %d MiB in %.2f s '
              '(admin API)' % (args.data_mib, write_s))
        print('%-46s %9s %14s' % ('operation', 'seconds', 'stored MiB +'))
        for label, secs, grown in rows:
            print('%-46s %9.3f %14.1f' % (label, secs, grown))
        print('bytes through cinder-volume: location upload %d MiB, '
              'streamed upload %d MiB' % (direct.received // MIB,
                                          streamed.received // MIB))
    finally:
        emu.cleanup()


if __name__ == '__main__':
    main()
