"""AHV VMs through the client: disks from every data source, actions."""

from nutanix_openstack.prism import exceptions as exc
from nutanix_openstack.prism import vms
from nutanix_openstack.prism import volume_groups as vgs
from tests.functional.prism import base

MIB = 1024 * 1024


class VmTest(base.EmulatorTestCase):

    def setUp(self):
        super(VmTest, self).setUp()
        self.data = base.random_bytes(MIB)
        self.image = self.upload_image('root', self.data)

    def _vm(self, name='inst', disks=None, **kw):
        if disks is None:
            disks = [vms.disk_from_image(self.image, index=0)]
        return self.client.vms.create(
            name, memory_size_bytes=512 * MIB, disks=disks,
            cluster_ext_id=self.emulator.cluster_ext_id, **kw)

    def _only_disk(self, vm_ext_id):
        disks = [d for d in self.client.vms.list_disks(vm_ext_id)
                 if 'VmDisk' in d['backingInfo'].get('$objectType', '')]
        self.assertEqual(1, len(disks))
        return disks[0]

    def test_create_from_image_bytes_and_shape(self):
        vm = self._vm(num_sockets=2, num_cores_per_socket=2,
                      description='nova instance')
        self.assertEqual('inst', vm['name'])
        self.assertEqual(2, vm['numSockets'])
        self.assertEqual(512 * MIB, vm['memorySizeBytes'])
        disk = self._only_disk(vm['extId'])
        # Copy-on-write clone: the disk reads the image's bytes.
        self.assertEqual(self.data[:4096],
                         self.admin.read_disk(disk['extId'], 0, 4096))
        self.assertIn(vm['extId'], [v['extId'] for v in
                                    self.client.vms.list()])
        self.assertEqual([vm['extId']], [v['extId'] for v in self.client.vms
                                         .list(filter="name eq 'inst'")])

    def test_disks_from_vm_disk_volume_disk_and_recovery_point(self):
        src = self._vm('src')
        src_disk = self._only_disk(src['extId'])
        vg = self.client.volume_groups.create('vol', disks=[
            vgs.volume_disk(MIB, self.emulator.container_ext_id,
                            vgs.image_source(self.image))])
        vdisk = self.client.volume_groups.list_disks(vg['extId'])[0]
        rp = self.client.recovery_points.create(
            'rp', vm_ext_ids=[src['extId']])
        vm_rp = rp['vmRecoveryPoints'][0]
        drp = vm_rp['diskRecoveryPoints'][0]
        vm = self._vm('multi', disks=[
            vms.disk_from_vm_disk(src['extId'], src_disk['extId'], index=0),
            vms.disk_from_volume_disk(vg['extId'], vdisk['extId'], index=1),
            vms.disk_from_disk_recovery_point(
                drp['diskRecoveryPointExtId'],
                vm_recovery_point_ext_id=vm_rp['extId'], index=2),
            vms.empty_disk(2 * MIB, self.emulator.container_ext_id,
                           index=3)])
        disks = sorted(self.client.vms.list_disks(vm['extId']),
                       key=lambda d: d['diskAddress']['index'])
        self.assertEqual(4, len(disks))
        for d in disks[:3]:
            self.assertEqual(self.data[:512],
                             self.admin.read_disk(d['extId'], 0, 512))
        self.assertEqual(b'\0' * 512,
                         self.admin.read_disk(disks[3]['extId'], 0, 512))

    def test_power_actions(self):
        vm = self._vm()
        vm_id = vm['extId']
        self.client.vms.power_on(vm_id)
        self.assertEqual('ON', self.client.vms.get(vm_id)['powerState'])
        self.client.vms.reboot(vm_id)
        self.client.vms.reset(vm_id)
        self.assertEqual('ON', self.client.vms.get(vm_id)['powerState'])
        self.client.vms.shutdown(vm_id)
        self.assertEqual('OFF', self.client.vms.get(vm_id)['powerState'])
        self.client.vms.power_on(vm_id)
        self.client.vms.power_off(vm_id)
        self.assertEqual('OFF', self.client.vms.get(vm_id)['powerState'])

    def test_disk_add_resize_delete(self):
        vm = self._vm()
        vm_id = vm['extId']
        disk = self.client.vms.add_disk(
            vm_id, vms.empty_disk(MIB, self.emulator.container_ext_id))
        self.assertEqual(2, len(self.client.vms.list_disks(vm_id)))
        resized = self.client.vms.resize_disk(vm_id, disk['extId'], 4 * MIB)
        self.assertEqual(4 * MIB, vms.disk_size(resized))
        self.assertEqual(4 * MIB,
                         self.admin.disk_info(disk['extId'])['size'])
        self.client.vms.delete_disk(vm_id, disk['extId'])
        self.assertEqual(1, len(self.client.vms.list_disks(vm_id)))

    def test_volume_group_disk_attach(self):
        vm = self._vm()
        vg = self.client.volume_groups.create('attached', disks=[
            vgs.volume_disk(MIB, self.emulator.container_ext_id)])
        self.client.vms.add_disk(vm['extId'],
                                 vms.volume_group_disk(vg['extId']))
        backings = [d['backingInfo']['$objectType']
                    for d in self.client.vms.list_disks(vm['extId'])]
        self.assertIn('vmm.v4.ahv.config.ADSFVolumeGroupReference',
                      backings)

    def test_update_migrate_console_delete(self):
        vm = self._vm()
        vm_id = vm['extId']
        updated = self.client.vms.update(vm_id, name='renamed',
                                         numSockets=4)
        self.assertEqual('renamed', updated['name'])
        self.assertEqual(4, updated['numSockets'])
        hosts = self.client.clusters.list_hosts(self.emulator.cluster_ext_id)
        self.client.vms.power_on(vm_id)
        target = [h for h in hosts if h['extId'] != (
            self.client.vms.get(vm_id).get('host') or {}).get('extId')][0]
        self.client.vms.migrate_to_host(vm_id, target['extId'])
        self.assertEqual(target['extId'],
                         self.client.vms.get(vm_id)['host']['extId'])
        token = self.client.vms.console_token(vm_id)
        self.assertTrue(token.get('token'))
        self.client.vms.power_off(vm_id)
        self.client.vms.delete(vm_id)
        self.assertRaises(exc.NotFound, self.client.vms.get, vm_id)
        self.assertNotIn(vm_id, self.inventory('vm'))

    def test_image_from_vm_disk(self):
        vm = self._vm()
        disk = self._only_disk(vm['extId'])
        snap = self.client.images.create_from_vm_disk(
            'snapshot', vm['extId'], disk['extId'])
        self.assertEqual('vmm.v4.content.VmDiskSource',
                         snap['source']['$objectType'])
        self.assertEqual(self.data, b''.join(
            self.client.images.download(snap['extId']))[:len(self.data)])

    def test_create_with_missing_image_leaves_nothing(self):
        missing = '00000000-0000-4000-8000-00000000beef'
        with self.assertRaises(exc.PrismError):
            self._vm('broken', disks=[vms.disk_from_image(missing)])
        self.assertEqual([], self.inventory('vm'))
