"""SDK conformance: ntnx_vmm_py_client's VmApi against the emulator.

Every VM operation the emulator serves is called through Nutanix's own
generated client, and every answer must deserialize into the SDK's models
with no field the SDK does not know.
"""

import ntnx_vmm_py_client as vmm
from ntnx_vmm_py_client import rest as vmm_rest

from tests.functional.emulator import test_vms_base as base
from tests.functional.emulator.test_vms_base import GiB
from tests.functional.emulator.test_vms_base import MiB

REL_VM = 'vmm:ahv:config:vm'
REL_DISK = 'vmm:ahv:config:vm:disk'


class TestSdkVmApi(base.SdkTestCase):

    def setUp(self):
        super().setUp()
        self.client = self.sdk(vmm)
        self.api = vmm.VmApi(api_client=self.client)

    def _disk(self, size=None, source=None, index=None):
        backing = vmm.AhvConfigVmDisk(
            disk_size_bytes=size,
            data_source=vmm.DataSource(reference=source) if source else None)
        address = vmm.AhvConfigDiskAddress(bus_type='SCSI', index=index) \
            if index is not None else None
        return vmm.AhvConfigDisk(backing_info=backing, disk_address=address)

    def _create(self, name='sdk-vm', disks=(), **kwargs):
        body = vmm.AhvConfigVm(name=name, num_sockets=1,
                               num_cores_per_socket=2,
                               memory_size_bytes=2 * GiB, disks=list(disks),
                               **kwargs)
        task = self.sdk_wait(self.api.create_vm(body=body))
        return self.sdk_created(task, REL_VM)[0]

    def _get(self, ext_id):
        resp = self.api.get_vm_by_id(ext_id)
        self.assertEqual('GetVmApiResponse', type(resp).__name__)
        self.assert_parsed(resp.data, 'Vm')
        return resp.data, self.client.get_etag(resp)

    def test_create_get_list_update_delete(self):
        image = self.make_image(b'sdk-image' * 100)
        vg = self.create_vg(disks=[{'diskSizeBytes': MiB}])
        vol_disk = self.vg_disks(vg)[0]['extId']
        subnet = self.create_subnet()
        guest = vmm.GuestCustomizationParams(config=vmm.CloudInit(
            datasource_type='CONFIG_DRIVE_V2',
            cloud_init_script=vmm.Userdata(value='I2Nsb3VkLWNvbmZpZwo=')))
        vm_id = self._create(
            disks=[self._disk(4 * MiB, vmm.ImageReference(image_ext_id=image)),
                   self._disk(source=vmm.VolumeDiskReference(
                       volume_group_ext_id=vg, disk_ext_id=vol_disk)),
                   vmm.AhvConfigDisk(
                       backing_info=vmm.ADSFVolumeGroupReference(
                           volume_group_ext_id=vg))],
            guest_customization=guest,
            nics=[vmm.AhvConfigNic(
                nic_backing_info=vmm.VirtualEthernetNic(is_connected=True),
                nic_network_info=vmm.VirtualEthernetNicNetworkInfo(
                    subnet=vmm.SubnetReference(ext_id=subnet)))],
            cd_roms=[vmm.AhvConfigCdRom(
                disk_address=vmm.AhvConfigCdRomAddress(bus_type='SATA'),
                backing_info=vmm.AhvConfigVmDisk(data_source=vmm.DataSource(
                    reference=vmm.ImageReference(image_ext_id=image))))])
        vm, etag = self._get(vm_id)
        self.assertEqual('VirtualEthernetNic',
                         type(vm.nics[0].nic_backing_info).__name__)
        self.assertTrue(vm.nics[0].nic_backing_info.mac_address)
        self.assertEqual(900, vm.cd_roms[0].backing_info.disk_size_bytes)
        self.assertEqual('SATA', vm.cd_roms[0].disk_address.bus_type)
        self.assertTrue(etag)
        self.assertEqual('OFF', vm.power_state)
        kinds = [type(d.backing_info).__name__ for d in vm.disks]
        self.assertEqual(['VmDisk', 'VmDisk', 'ADSFVolumeGroupReference'],
                         kinds)
        self.assertEqual('ImageReference', type(
            vm.disks[0].backing_info.data_source.reference).__name__)
        self.assertEqual('VolumeDiskReference', type(
            vm.disks[1].backing_info.data_source.reference).__name__)
        self.assertEqual(4 * MiB, vm.disks[0].backing_info.disk_size_bytes)
        self.assertEqual('I2Nsb3VkLWNvbmZpZwo=', vm.guest_customization.config
                         .cloud_init_script.value)

        listed = self.api.list_vms(_filter="name eq 'sdk-vm'")
        self.assertEqual('ListVmsApiResponse', type(listed).__name__)
        self.assertEqual([vm_id], [v.ext_id for v in listed.data])
        for item in listed.data:
            self.assert_parsed(item, 'Vm')

        vm.name = 'sdk-vm-2'
        vm.num_sockets = 2
        self.sdk_wait(self.api.update_vm_by_id(vm_id, vm, if_match=etag))
        vm, _ = self._get(vm_id)
        self.assertEqual(('sdk-vm-2', 2), (vm.name, vm.num_sockets))
        try:
            # (A body read by the SDK carries its own fresh ETag, which the
            # SDK sends instead of if_match: use a new body.)
            self.api.update_vm_by_id(vm_id, vmm.AhvConfigVm(name='x'),
                                     if_match=etag)
        except vmm_rest.ApiException as exc:
            self.assertEqual(412, exc.status)
        else:
            self.fail('a stale ETag was accepted')

        self.sdk_wait(self.api.delete_vm_by_id(vm_id))
        try:
            self.api.get_vm_by_id(vm_id)
        except vmm_rest.ApiException as exc:
            self.assertEqual(404, exc.status)
        else:
            self.fail('deleted VM still found')

    def test_power_actions_migrate_and_console(self):
        vm_id = self._create()
        _, etag = self._get(vm_id)
        self.sdk_wait(self.api.power_on_vm(vm_id, if_match=etag))
        vm, etag = self._get(vm_id)
        self.assertEqual('ON', vm.power_state)
        self.assertEqual('HostReference', type(vm.host).__name__)
        for call in (self.api.reboot_vm, self.api.reset_vm,
                     self.api.power_cycle_vm):
            self.sdk_wait(call(vm_id))
        options = vmm.GuestPowerOptions()
        self.sdk_wait(self.api.reboot_guest_vm(vm_id, options))
        other = [h for h in ('00000000-0000-4000-8000-000000000101',
                             '00000000-0000-4000-8000-000000000102')
                 if h != vm.host.ext_id][0]
        self.sdk_wait(self.api.migrate_vm_to_host(
            vm_id, vmm.VmMigrateToHostParams(
                host=vmm.AhvConfigHostReference(ext_id=other))))
        self.assertEqual(other, self._get(vm_id)[0].host.ext_id)
        task = self.sdk_wait(self.api.generate_console_token_by_id(vm_id))
        details = dict((kv.name, kv.value) for kv in task.completion_details)
        self.assertIn('token', details)
        self.sdk_wait(self.api.shutdown_guest_vm(vm_id, options))
        self.assertEqual('OFF', self._get(vm_id)[0].power_state)
        for call in (self.api.power_on_vm, self.api.shutdown_vm,
                     self.api.power_on_vm, self.api.power_off_vm):
            self.sdk_wait(call(vm_id))
        self.assertEqual('OFF', self._get(vm_id)[0].power_state)
        try:
            self.api.power_off_vm(vm_id)
        except vmm_rest.ApiException as exc:
            self.assertEqual(409, exc.status)
            self.assertIn('VMM-30303', exc.body)
        else:
            self.fail('power-off of a stopped VM was accepted')

    def test_disks(self):
        vm_id = self._create(disks=[self._disk(MiB)])
        listed = self.api.list_disks_by_vm_id(vm_id)
        self.assertEqual('ListDisksApiResponse', type(listed).__name__)
        src = listed.data[0]
        self.assert_parsed(src, 'Disk')
        task = self.sdk_wait(self.api.create_disk(vm_id, self._disk(
            2 * MiB, vmm.VmDiskReference(disk_ext_id=src.ext_id))))
        new_id = self.sdk_created(task, REL_DISK)[0]
        resp = self.api.get_disk_by_id(vm_id, new_id)
        self.assertEqual('GetDiskApiResponse', type(resp).__name__)
        disk = resp.data
        self.assert_parsed(disk, 'Disk')
        self.assertEqual('VmDiskReference', type(
            disk.backing_info.data_source.reference).__name__)
        disk.backing_info.disk_size_bytes = 6 * MiB
        self.sdk_wait(self.api.update_disk_by_id(
            vm_id, new_id, disk, if_match=self.client.get_etag(resp)))
        self.assertEqual(6 * MiB, self.api.get_disk_by_id(
            vm_id, new_id).data.backing_info.disk_size_bytes)
        self.sdk_wait(self.api.delete_disk_by_id(vm_id, new_id))
        self.assertEqual([src.ext_id], [
            d.ext_id for d in self.api.list_disks_by_vm_id(vm_id).data])
        self.assertFalse(self.disk_exists(new_id))
