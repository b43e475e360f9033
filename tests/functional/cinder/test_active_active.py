"""Several cinder-volume services on one backend (Cinder active-active).

The driver claims ``SUPPORTS_ACTIVE_ACTIVE``: two services (two drivers,
two clients) share nothing but the cluster and Cinder's coordinator, and
the service that cleans up after a dead peer (Cinder's workers mechanism:
``clear_download`` for a volume left 'downloading', then the volume's
deletion) leaves nothing of the peer's work on the cluster.
"""

import threading

from nutanix_openstack.cinder import driver
from nutanix_openstack.cinder import imageops
from nutanix_openstack.prism import locations
from nutanix_openstack.prism import vms as prism_vms
from tests.functional.cinder import base
from tests.functional.cinder import test_images_connections as images_tests

MiB = 1024 * 1024


class ActiveActiveTest(images_tests._ImageTestBase):

    def test_the_driver_claims_active_active(self):
        self.assertTrue(driver.NutanixVolumeDriver.SUPPORTS_ACTIVE_ACTIVE)

    def test_two_services_clone_a_qcow2_image_with_one_raw_disk(self):
        raw = base.random_bytes(MiB)
        img = self.store_image(images_tests.qcow2_of(raw),
                               image_type='ISO_IMAGE')
        glance = self.images.add(base.new_id(), 'qcow2', b'',
                                 [locations.make_location(
                                     self.emulator.cluster_ext_id, img)])
        loc = self.images.get_location(self.ctx, glance['id'])
        peers = [self.driver, self.make_driver()]
        self.assertIsNot(peers[0].client, peers[1].client)
        self.admin.set_task_mode('async', delay=0.5)
        results = []

        def clone(drv):
            vol = self.volume(size=1)
            update, cloned = drv.clone_image(self.ctx, vol, loc, glance,
                                             self.images)
            vol.update(update)
            results.append((cloned, vol))
        threads = [threading.Thread(target=clone, args=(drv,))
                   for drv in peers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.admin.set_task_mode('immediate')
        self.assertEqual([True, True], [r[0] for r in results])
        for _cloned, vol in results:
            self.assertEqual(raw, self.read(vol, 0, MiB))
        # The source image plus ONE derived raw disk.
        self.assertEqual(2, len(self.objects('image')))

    def test_cleanup_of_a_dead_peer_s_download(self):
        vol = self.create_volume()
        other = self.create_volume()
        # What a service killed inside copy_image_to_volume leaves: its
        # temporary image (the volume is then set to error by Cinder).
        left = self.client.images.create_for_upload(
            '%s%s-deadbeef' % (imageops.TEMP_IMAGE_PREFIX, vol.id))
        kept = self.client.images.create_for_upload(
            '%s%s-0000beef' % (imageops.TEMP_IMAGE_PREFIX, other.id))
        peer = self.make_driver()
        peer.clear_download(self.ctx, vol)
        images = set(self.objects('image'))
        self.assertNotIn(left['extId'], images)
        self.assertIn(kept['extId'], images)
        # The errored volume is deleted as usual: nothing of it remains.
        peer.delete_volume(vol)
        self.assertEqual([other.provider_id],
                         list(self.objects('volume_group')))

    def test_deleting_a_volume_removes_a_dead_peer_s_upload_vm(self):
        vol = self.create_volume()
        disk = self.disk_of(vol)
        # A service killed inside copy_volume_to_image leaves the
        # short-lived VM that carries a clone of the volume's disk.
        self.client.vms.create(
            '%s%s-deadbeef' % (imageops.TEMP_VM_PREFIX, vol.id),
            memory_size_bytes=256 * MiB,
            disks=[prism_vms.disk_from_volume_disk(
                vol.provider_id, disk['extId'])],
            cluster_ext_id=self.emulator.cluster_ext_id)
        self.assertEqual(1, len(self.objects('vm')))
        self.make_driver().delete_volume(vol)
        self.assertEqual([], list(self.objects('vm')))
        self.assertEqual([], list(self.objects('volume_group')))
