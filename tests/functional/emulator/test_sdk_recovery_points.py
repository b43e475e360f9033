"""SDK conformance: ntnx_dataprotection_py_client's RecoveryPointsApi
against the emulator (strict parse of every answer).
"""

import datetime

import ntnx_dataprotection_py_client as dp
from ntnx_dataprotection_py_client import rest as dp_rest
import ntnx_vmm_py_client as vmm

from tests.functional.emulator import test_vms_base as base
from tests.functional.emulator.test_vms_base import MiB

REL_RP = 'dataprotection:config:recovery-point'


class TestSdkRecoveryPointsApi(base.SdkTestCase):

    def setUp(self):
        super().setUp()
        self.client = self.sdk(dp)
        self.api = dp.RecoveryPointsApi(api_client=self.client)
        self.vm = self.create_vm('protected', disks=[base.vm_disk(size=MiB)])
        self.vm_disk = self.vm_disks(self.vm)[0]['extId']
        self.vg = self.create_vg('protected-vg',
                                 disks=[{'diskSizeBytes': MiB}])
        self.vg_disk = self.vg_disks(self.vg)[0]['extId']
        for disk_id in (self.vm_disk, self.vg_disk):
            self.emu.admin.write_disk(disk_id, 0, b'snap')

    def _create(self, name='sdk-rp'):
        expiry = datetime.datetime(2030, 1, 1,
                                   tzinfo=datetime.timezone.utc)
        body = dp.RecoveryPoint(
            name=name, recovery_point_type='CRASH_CONSISTENT',
            expiration_time=expiry,
            vm_recovery_points=[dp.VmRecoveryPoint(vm_ext_id=self.vm)],
            volume_group_recovery_points=[dp.VolumeGroupRecoveryPoint(
                volume_group_ext_id=self.vg)])
        task = self.sdk_wait(self.api.create_recovery_point(body))
        return self.sdk_created(task, REL_RP)[0]

    def test_create_get_list_expire_delete(self):
        rp_id = self._create()
        resp = self.api.get_recovery_point_by_id(rp_id)
        self.assertEqual('GetRecoveryPointApiResponse', type(resp).__name__)
        rp = resp.data
        self.assert_parsed(rp, 'RecoveryPoint')
        self.assertEqual(2030, rp.expiration_time.year)
        vmrp = rp.vm_recovery_points[0]
        self.assertEqual(self.vm, vmrp.vm_ext_id)
        self.assertEqual([self.vm_disk],
                         [d.disk_ext_id for d in vmrp.disk_recovery_points])
        self.assertEqual(
            [self.vg_disk],
            [d.disk_ext_id for d in
             rp.volume_group_recovery_points[0].disk_recovery_points])
        member = self.api.get_vm_recovery_point_by_id(rp_id, vmrp.ext_id)
        self.assertEqual('GetVmRecoveryPointApiResponse',
                         type(member).__name__)
        self.assert_parsed(member.data, 'VmRecoveryPoint')
        listed = self.api.list_recovery_points(_filter="name eq 'sdk-rp'")
        self.assertEqual('ListRecoveryPointsApiResponse',
                         type(listed).__name__)
        self.assertEqual([rp_id], [r.ext_id for r in listed.data])
        for item in listed.data:
            self.assert_parsed(item, 'RecoveryPoint')
        self.sdk_wait(self.api.set_recovery_point_expiration_time(
            rp_id, dp.ExpirationTimeSpec(expiration_time=datetime.datetime(
                2031, 6, 1, tzinfo=datetime.timezone.utc))))
        self.assertEqual(2031, self.api.get_recovery_point_by_id(
            rp_id).data.expiration_time.year)
        self.sdk_wait(self.api.delete_recovery_point_by_id(rp_id))
        try:
            self.api.get_recovery_point_by_id(rp_id)
        except dp_rest.ApiException as exc:
            self.assertEqual(404, exc.status)
        else:
            self.fail('deleted recovery point still found')

    def test_restore(self):
        rp_id = self._create()
        rp = self.api.get_recovery_point_by_id(rp_id).data
        for disk_id in (self.vm_disk, self.vg_disk):
            self.emu.admin.write_disk(disk_id, 0, b'gone')
        spec = dp.RecoveryPointRestorationSpec(
            cluster_ext_id=self.emu.cluster_ext_id,
            vm_recovery_point_restore_overrides=[
                dp.VmRecoveryPointRestoreOverride(
                    vm_recovery_point_ext_id=rp.vm_recovery_points[0].ext_id,
                    vm_override_spec=dp.AhvVmOverrideSpec(name='vm-copy'))],
            volume_group_recovery_point_restore_overrides=[
                dp.VolumeGroupRecoveryPointRestoreOverride(
                    volume_group_recovery_point_ext_id=(
                        rp.volume_group_recovery_points[0].ext_id),
                    volume_group_override_spec=dp.VolumeGroupOverrideSpec(
                        name='vg-copy'))])
        task = self.sdk_wait(self.api.restore_recovery_point(rp_id,
                                                             body=spec))
        new_vm = self.sdk_created(task, 'vmm:ahv:config:vm')[0]
        new_vg = self.sdk_created(task, 'volumes:config:volume-group')[0]
        vm, _ = self.get('/api/vmm/v4.3/ahv/config/vms/%s' % new_vm)
        self.assertEqual('vm-copy', vm['name'])
        self.assertEqual(b'snap', self.emu.admin.read_disk(
            vm['disks'][0]['extId'], 0, 4))
        self.assertEqual(b'snap', self.emu.admin.read_disk(
            self.vg_disks(new_vg)[0]['extId'], 0, 4))

    def test_vm_from_a_vm_recovery_point_disk(self):
        # What Nova's evacuation does on the cluster holding the replica:
        # the VM recovery point is found by the VM's name, and a new VM
        # gets its disks from the point's disk recovery points.
        rp_id = self._create()
        self.emu.admin.write_disk(self.vm_disk, 0, b'gone')
        listed = self.api.list_recovery_points().data
        (vmrp,) = [m for rp in listed for m in rp.vm_recovery_points or []
                   if m.name == 'protected']
        self.assertEqual(rp_id, [rp.ext_id for rp in listed
                                 if vmrp in rp.vm_recovery_points][0])
        (drp,) = vmrp.disk_recovery_points
        vmm_client = self.sdk(vmm)
        body = vmm.AhvConfigVm(
            name='from-point', num_sockets=1, memory_size_bytes=MiB * 512,
            disks=[vmm.AhvConfigDisk(
                disk_address=vmm.AhvConfigDiskAddress(bus_type='SCSI',
                                                      index=0),
                backing_info=vmm.AhvConfigVmDisk(
                    data_source=vmm.DataSource(
                        reference=vmm.VmDiskRecoveryPointReference(
                            disk_recovery_point_ext_id=(
                                drp.disk_recovery_point_ext_id),
                            vm_recovery_point_ext_id=vmrp.ext_id))))])
        api = vmm.VmApi(api_client=vmm_client)
        task = self.sdk_wait(api.create_vm(body=body))
        (new_vm,) = self.sdk_created(task, 'vmm:ahv:config:vm')
        vm = api.get_vm_by_id(new_vm).data
        self.assert_parsed(vm, 'Vm')
        self.assertEqual('VmDiskRecoveryPointReference', type(
            vm.disks[0].backing_info.data_source.reference).__name__)
        self.assertEqual(b'snap', self.emu.admin.read_disk(
            vm.disks[0].backing_info.disk_ext_id, 0, 4))
