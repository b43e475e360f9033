"""Snapshots registered by location (or streamed) and nutanix volumes."""

from nova.compute import power_state
from nova import exception

from nutanix_openstack.nova import utils
from nutanix_openstack.prism import locations
from nutanix_openstack.prism import volume_groups as prism_vgs
from tests.functional.nova import base

OFFSET = 512 * 1024


class SnapshotTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.data = b'guest-written-data' * 1000
        # root_gb 0: the root disk is the image's size (1 MiB), which keeps
        # the streamed fallback small.
        self.instance = self.spawn(
            data=self.data.ljust(base.MiB, b'\0'),
            instance=base.make_instance(flavor=base.make_flavor(root_gb=0)))
        self.root = utils.root_disk(self.driver.ops.vm.get_vm(self.instance))
        # The guest writes after boot: the snapshot must have it.
        self.emu.admin.write_disk(self.root['extId'], OFFSET,
                                  b'written-later')
        self.snap_id = self.glance.add(name='snap')
        self.states = []

    def _update(self, task_state, expected_state=None):
        self.states.append(task_state)

    def test_snapshot_is_a_location_without_copy(self):
        stored_before = self.emu.admin.inventory()['storage']['bytes_stored']
        self.driver.snapshot(self.context, self.instance, self.snap_id,
                             self._update)
        image = self.glance.get(None, self.snap_id, include_locations=True)
        (loc,) = [x['url'] for x in image['locations']]
        cluster, ext_id = locations.split_location(loc)
        self.assertEqual(self.emu.cluster_ext_id, cluster)
        self.assertEqual('raw', image['disk_format'])
        # No byte went through nova-compute, none was copied in the cluster.
        self.assertEqual(b'', self.glance.data[self.snap_id])
        self.assertEqual(
            stored_before,
            self.emu.admin.inventory()['storage']['bytes_stored'])
        snap_bytes = b''.join(self.client.images.download(ext_id))
        self.assertEqual(self.data, snap_bytes[:len(self.data)])
        self.assertEqual(b'written-later',
                         snap_bytes[OFFSET:OFFSET + 13])
        self.assertEqual(power_state.RUNNING,
                         self.driver.get_info(self.instance).state)

        # An instance booted from the snapshot clones it in the cluster.
        child = self.spawn(image_id=self.snap_id)
        self.assertNotIn(self.snap_id, self.glance.downloads)
        child_root = utils.root_disk(self.driver.ops.vm.get_vm(child))
        self.assertEqual(b'written-later', self.emu.admin.read_disk(
            child_root['extId'], OFFSET, 13))

    def test_glance_without_nutanix_store_gets_the_bytes(self):
        self.glance.accept = False
        images_before = set(self.inventory().get('image', []))
        self.driver.snapshot(self.context, self.instance, self.snap_id,
                             self._update)
        stored = self.glance.data[self.snap_id]
        self.assertEqual(base.MiB, len(stored))
        self.assertEqual(self.data, stored[:len(self.data)])
        self.assertEqual(images_before, set(self.inventory().get('image',
                                                                 [])))

    def test_snapshot_of_deleted_instance(self):
        self.driver.destroy(self.context, self.instance, None)
        self.assertRaises(exception.InstanceNotRunning, self.driver.snapshot,
                          self.context, self.instance, self.snap_id,
                          self._update)


class VolumeTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.instance = self.spawn()
        self.vm_ext_id = self.driver.ops.vm.get_vm(self.instance)['extId']
        vg = self.client.volume_groups.create(
            'volume-1', disks=[prism_vgs.volume_disk(
                1 * base.GiB, self.emu.container_ext_id)],
            cluster_ext_id=self.emu.cluster_ext_id)
        self.vg_ext_id = vg['extId']
        self.conn = {'driver_volume_type': 'iscsi', 'serial': 'vol-1',
                     'data': {'volume_group_ext_id': self.vg_ext_id}}

    def attached(self):
        return [a['extId'] for a in
                self.client.volume_groups.list_vm_attachments(
                    self.vg_ext_id)]

    def test_attach_detach(self):
        self.driver.attach_volume(self.context, self.conn, self.instance,
                                  '/dev/sdb')
        self.assertEqual([self.vm_ext_id], self.attached())
        self.driver.attach_volume(self.context, self.conn, self.instance,
                                  '/dev/sdb')
        self.assertEqual([self.vm_ext_id], self.attached())
        self.driver.detach_volume(self.context, self.conn, self.instance,
                                  '/dev/sdb')
        self.assertEqual([], self.attached())
        self.driver.detach_volume(self.context, self.conn, self.instance,
                                  '/dev/sdb')

    def test_destroy_detaches_and_keeps_the_volume(self):
        self.driver.attach_volume(self.context, self.conn, self.instance,
                                  '/dev/sdb')
        self.driver.destroy(self.context, self.instance, None)
        self.assertEqual([], self.attached())
        self.assertIn(self.vg_ext_id, self.inventory()['volume_group'])

    def test_extend_volume(self):
        self.driver.attach_volume(self.context, self.conn, self.instance,
                                  '/dev/sdb')
        (disk,) = self.client.volume_groups.list_disks(self.vg_ext_id)
        self.client.volume_groups.resize_disk(self.vg_ext_id, disk['extId'],
                                              3 * base.GiB)
        self.assertEqual(3 * base.GiB, self.driver.extend_volume(
            self.context, self.conn, self.instance, 3 * base.GiB))

    def test_other_volume_types_are_refused(self):
        self.assertRaises(exception.VolumeDriverNotFound,
                          self.driver.attach_volume, self.context,
                          {'driver_volume_type': 'rbd', 'data': {}},
                          self.instance, '/dev/sdb')

    def test_boot_from_volume(self):
        instance = base.make_instance()
        bdi = {'root_device_name': '/dev/sda', 'ephemerals': [],
               'swap': None, 'block_device_mapping': [
                   {'boot_index': 0, 'connection_info': self.conn,
                    'mount_device': '/dev/sda'}]}
        self.driver.spawn(self.context, instance,
                          self.image_meta(self.glance.add(b'unused')), [],
                          None, {}, block_device_info=bdi)
        vm = self.driver.ops.vm.get_vm(instance)
        self.assertIsNone(utils.root_disk(vm))
        self.assertEqual([vm['extId']], self.attached())
        self.assertEqual('ON', vm['powerState'])
        self.assertEqual(1, len(self.glance.downloads))
