"""Volume groups through the client: disks from data sources, attachments,
revert."""

from nutanix_openstack.prism import exceptions as exc
from nutanix_openstack.prism import vms
from nutanix_openstack.prism import volume_groups as vgs
from tests.functional.prism import base

MIB = 1024 * 1024


class VolumeGroupTest(base.EmulatorTestCase):

    def _vg(self, name='vol', source=None, size=MIB):
        return self.client.volume_groups.create(
            name, disks=[vgs.volume_disk(size, self.emulator.container_ext_id,
                                         source)],
            cluster_ext_id=self.emulator.cluster_ext_id,
            description='cinder volume')

    def _disk(self, vg_ext_id):
        disks = self.client.volume_groups.list_disks(vg_ext_id)
        self.assertEqual(1, len(disks))
        return disks[0]

    def test_empty_group(self):
        vg = self._vg()
        self.assertEqual('vol', vg['name'])
        disk = self._disk(vg['extId'])
        self.assertEqual(MIB, disk['diskSizeBytes'])
        self.assertEqual(b'\0' * 16, self.admin.read_disk(disk['extId'], 0,
                                                          16))
        self.assertEqual([vg['extId']], [v['extId'] for v in self.client
                                         .volume_groups.list()])

    def test_disk_from_each_source(self):
        data = base.random_bytes(MIB)
        image = self.upload_image('img', data)
        from_image = self._vg('from-image', vgs.image_source(image))
        d1 = self._disk(from_image['extId'])
        self.assertEqual(data, self.admin.read_disk(d1['extId'], 0, MIB))
        clone = self._vg('clone', vgs.volume_disk_source(d1['extId']))
        d2 = self._disk(clone['extId'])
        self.assertEqual(data, self.admin.read_disk(d2['extId'], 0, MIB))
        vm = self.client.vms.create('vm', disks=[
            vms.disk_from_image(image)], memory_size_bytes=MIB * 256)
        vm_disk = self.client.vms.list_disks(vm['extId'])[0]
        from_vm = self._vg('from-vm', vgs.vm_disk_source(vm_disk['extId']))
        self.assertEqual(data[:512], self.admin.read_disk(
            self._disk(from_vm['extId'])['extId'], 0, 512))
        rp = self.client.recovery_points.create(
            'rp', volume_group_ext_ids=[clone['extId']])
        drp = rp['volumeGroupRecoveryPoints'][0]['diskRecoveryPoints'][0]
        from_rp = self._vg('from-rp', vgs.disk_recovery_point_source(
            drp['diskRecoveryPointExtId']))
        self.assertEqual(data[:512], self.admin.read_disk(
            self._disk(from_rp['extId'])['extId'], 0, 512))

    def test_bad_source_leaves_no_group(self):
        missing = '00000000-0000-4000-8000-00000000beef'
        with self.assertRaises(exc.PrismError):
            self._vg('bad', vgs.image_source(missing))
        self.assertEqual([], self.inventory('volume_group'))

    def test_add_resize_delete_disk(self):
        vg = self._vg()
        disk = self.client.volume_groups.add_disk(
            vg['extId'], vgs.volume_disk(MIB, self.emulator.container_ext_id))
        self.assertEqual(2, len(self.client.volume_groups.list_disks(
            vg['extId'])))
        resized = self.client.volume_groups.resize_disk(
            vg['extId'], disk['extId'], 3 * MIB)
        self.assertEqual(3 * MIB, resized['diskSizeBytes'])
        self.assertRaises(ValueError, self.client.volume_groups.resize_disk,
                          vg['extId'], disk['extId'], MIB)
        self.client.volume_groups.delete_disk(vg['extId'], disk['extId'])
        self.assertEqual(1, len(self.client.volume_groups.list_disks(
            vg['extId'])))

    def test_update_and_delete(self):
        vg = self._vg()
        self.assertEqual('new', self.client.volume_groups.update(
            vg['extId'], name='new')['name'])
        self.client.volume_groups.delete(vg['extId'])
        self.assertRaises(exc.NotFound, self.client.volume_groups.get,
                          vg['extId'])
        self.assertEqual([], self.inventory('volume_group'))

    def test_attach_detach_vm(self):
        vg = self._vg()
        vm = self.client.vms.create('vm', memory_size_bytes=256 * MIB)
        self.client.volume_groups.attach_vm(vg['extId'], vm['extId'])
        self.assertEqual([vm['extId']], [
            a['extId'] for a in
            self.client.volume_groups.list_vm_attachments(vg['extId'])])
        self.client.volume_groups.detach_vm(vg['extId'], vm['extId'])
        self.assertEqual([], self.client.volume_groups.list_vm_attachments(
            vg['extId']))

    def test_attach_detach_iscsi_client(self):
        vg = self._vg()
        iqn = 'iqn.1994-05.com.redhat:compute-1'
        self.client.volume_groups.attach_iscsi_client(
            vg['extId'], iqn, chap_secret='0123456789abcdef')
        attached = self.client.volume_groups.list_iscsi_attachments(
            vg['extId'])
        self.assertEqual(1, len(attached))
        client = self.client.volume_groups.find_iscsi_client(iqn)
        self.assertEqual(client['extId'], attached[0]['extId'])
        self.client.volume_groups.detach_iscsi_client(vg['extId'], iqn)
        self.assertEqual([], self.client.volume_groups
                         .list_iscsi_attachments(vg['extId']))

    def test_revert_to_recovery_point(self):
        vg = self._vg()
        disk = self._disk(vg['extId'])
        self.admin.write_disk(disk['extId'], 0, b'before')
        rp = self.client.recovery_points.create(
            'rp', volume_group_ext_ids=[vg['extId']])
        self.admin.write_disk(disk['extId'], 0, b'after!')
        vgrp = rp['volumeGroupRecoveryPoints'][0]['extId']
        self.client.volume_groups.revert(vg['extId'], vgrp)
        self.assertEqual(b'before',
                         self.admin.read_disk(disk['extId'], 0, 6))
