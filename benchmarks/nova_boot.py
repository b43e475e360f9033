"""Boot and snapshot costs of the Nova driver against the emulator.

Runs :class:`~nutanix_openstack.nova.driver.NutanixDriver` in this process
against a ``nutanix-emulator`` subprocess and times, for an image of SIZE:

* first boot of an image that is only in Glance: streamed once into the
  cluster (the Glance stand-in yields random chunks generated on the fly,
  so the source itself is never in memory);
* second boot of the same image: the cached backend image is cloned;
* boot of an image with a ``nutanix://`` location on the cluster: a clone,
  nothing downloaded;
* snapshot by location (no byte through nova-compute) and, for reference,
  the streamed fallback when Glance refuses the location;
* destroy.

It also reports the peak RSS of this (the nova-compute) process before and
after the streamed boot, which must not grow with SIZE.

Run::

    python benchmarks/nova_boot.py --size-mib 512
"""

import argparse
import os
import resource
import sys
import time
import uuid

MIB = 1024 * 1024


def rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


class StreamingGlance(object):
    """Nova's image API as the driver uses it, with generated content."""

    def __init__(self, size, chunk, client):
        self.size, self.chunk, self.client = size, chunk, client
        self.images = {}
        self.accept_locations = True
        self.received = 0

    def add(self, locations=()):
        image_id = str(uuid.uuid4())
        self.images[image_id] = {
            'id': image_id, 'name': 'bench', 'disk_format': 'raw',
            'container_format': 'bare', 'size': self.size, 'status': 'active',
            'locations': [{'url': u, 'metadata': {}} for u in locations],
            'properties': {}}
        return image_id

    def get(self, context, image_id, include_locations=False):
        return dict(self.images[image_id])

    def download(self, context, image_id, **kw):
        block = os.urandom(self.chunk)
        sent = 0
        while sent < self.size:
            n = min(self.chunk, self.size - sent)
            sent += n
            yield block[:n]

    def update(self, context, image_id, meta, data=None, purge_props=True):
        if 'location' in meta and not self.accept_locations:
            from nova import exception
            raise exception.ImageBadRequest(image_id=image_id,
                                            response='no nutanix store')
        if data is not None:
            while True:
                piece = data.read(self.chunk)
                if not piece:
                    break
                self.received += len(piece)
        return self.images[image_id]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--size-mib', type=int, default=256)
    parser.add_argument('--chunk-mib', type=int, default=4)
    args = parser.parse_args(argv)
    size, chunk = args.size_mib * MIB, args.chunk_mib * MIB

    from oslo_config import fixture as config_fixture

    from nova import context as nova_context
    from nova import objects
    from nova.virt import fake

    from nutanix_openstack.emulator import fixture
    from nutanix_openstack.nova import driver as nova_driver
    from nutanix_openstack.prism import locations
    from tests.functional.nova import base

    objects.register_all()
    emu = fixture.EmulatorProcess()
    emu.start()
    try:
        cfg = config_fixture.Config(base.CONF)
        cfg.setUp()
        base.configure(cfg, emu)
        drv = nova_driver.NutanixDriver(fake.FakeVirtAPI())
        glance = StreamingGlance(size, chunk, drv._client)
        drv._image_api = glance
        drv.init_host('bench')
        ctx = nova_context.get_admin_context()
        flavor = base.make_flavor(root_gb=0)
        rows = []

        def timed(label, func, nbytes=None):
            start = time.monotonic()
            result = func()
            seconds = time.monotonic() - start
            rows.append((label, seconds,
                         nbytes / MIB / seconds if nbytes else None))
            return result

        def boot(image_id):
            inst = base.make_instance(flavor=flavor)
            drv.spawn(ctx, inst, objects.ImageMeta.from_dict(
                glance.get(None, image_id)), [], None, {})
            return inst

        rss_before = rss_mib()
        image_id = glance.add()
        first = timed('boot, image streamed from Glance',
                      lambda: boot(image_id), size)
        rss_after = rss_mib()
        timed('boot, same image again (cached)', lambda: boot(image_id))

        img = drv._client.images.create_for_upload(
            'bench-in-cluster', cluster_ext_id=emu.cluster_ext_id)
        drv._client.images.upload(img['extId'], glance.download(None, None),
                                  size=size)
        local_id = glance.add(locations=[locations.make_location(
            emu.cluster_ext_id, img['extId'])])
        timed('boot, image with nutanix:// location', lambda: boot(local_id))

        snap_id = glance.add()
        timed('snapshot, registered by location',
              lambda: drv.snapshot(ctx, first, snap_id, lambda **kw: None))
        glance.accept_locations = False
        timed('snapshot, streamed fallback',
              lambda: drv.snapshot(ctx, first, glance.add(),
                                   lambda **kw: None), size)
        assert glance.received == size, glance.received
        timed('destroy', lambda: drv.destroy(ctx, first, None))
        cfg.cleanUp()
    finally:
        emu.stop()

    print()
    print('Nova driver, image %d MiB, emulator in a subprocess'
          % args.size_mib)
    print('%-42s %10s %10s' % ('operation', 'seconds', 'MiB/s'))
    for label, seconds, rate in rows:
        print('%-42s %10.2f %10s' % (label, seconds,
                                     '%.1f' % rate if rate else '-'))
    print()
    print('nova-compute process peak RSS: %.1f MiB before the streamed boot, '
          '%.1f MiB after' % (rss_before, rss_after))
    return 0


if __name__ == '__main__':
    sys.path.insert(0, os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    sys.exit(main())
