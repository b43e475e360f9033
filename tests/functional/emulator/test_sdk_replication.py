"""SDK conformance: replicate and compute-changed-regions with
ntnx_dataprotection_py_client against two emulators (strict parse).
"""

import ntnx_dataprotection_py_client as dp
from ntnx_dataprotection_py_client import rest as dp_rest

from nutanix_openstack.emulator import fixture
from tests.functional.emulator import test_vms_base as base
from tests.functional.emulator.test_vms_base import MiB

REL_RP = 'dataprotection:config:recovery-point'


class TestSdkReplication(base.SdkTestCase):

    def setUp(self):
        super().setUp()
        self.site_b = self.useFixture(fixture.EmulatorFixture(site=2))
        self.emu.pair(self.site_b)
        self.api = dp.RecoveryPointsApi(api_client=self.sdk(dp))
        self.vg = self.create_vg('db', disks=[{'diskSizeBytes': 8 * MiB}])
        self.disk = self.vg_disks(self.vg)[0]['extId']

    def _snapshot(self, name):
        body = dp.RecoveryPoint(
            name=name, volume_group_recovery_points=[
                dp.VolumeGroupRecoveryPoint(volume_group_ext_id=self.vg)])
        task = self.sdk_wait(self.api.create_recovery_point(body))
        rp = self.api.get_recovery_point_by_id(
            self.sdk_created(task, REL_RP)[0]).data
        return rp

    def test_replicate_and_list_on_target(self):
        self.emu.admin.write_disk(self.disk, 0, b'a' * MiB)
        rp = self._snapshot('sdk-rp1')
        resp = self.api.replicate_recovery_point(
            rp.ext_id, dp.RecoveryPointReplicationSpec(
                cluster_ext_id=self.site_b.cluster_ext_id,
                pc_ext_id=self.site_b.pc_ext_id))
        self.assertEqual('RecoveryPointReplicateApiResponse',
                         type(resp).__name__)
        task = self.sdk_wait(resp)
        remote = [e for e in self.sdk_created(task, REL_RP)
                  if e != rp.ext_id]
        self.assertEqual(1, len(remote))
        details = dict((kv.name, kv.value)
                       for kv in task.completion_details)
        self.assertEqual(str(MiB), details['bytesSent'])
        # The source now names both locations.
        here = self.api.get_recovery_point_by_id(rp.ext_id).data
        self.assert_parsed(here, 'RecoveryPoint')
        self.assertEqual(
            {self.emu.cluster_ext_id, self.site_b.cluster_ext_id},
            set(r.location_ext_id for r in here.location_references))
        # The target lists and serves the replica through the same SDK.
        self.emu, saved = self.site_b, self.emu
        try:
            api_b = dp.RecoveryPointsApi(api_client=self.sdk(dp))
        finally:
            self.emu = saved
        listed = api_b.list_recovery_points(_filter="name eq 'sdk-rp1'")
        self.assertEqual([remote[0]], [r.ext_id for r in listed.data])
        replica = api_b.get_recovery_point_by_id(remote[0]).data
        self.assert_parsed(replica, 'RecoveryPoint')
        self.assertEqual(rp.location_agnostic_id,
                         replica.location_agnostic_id)
        self.assertEqual(rp.creation_time, replica.creation_time)

    def test_replicate_to_unpaired_cluster_is_an_api_exception(self):
        rp = self._snapshot('sdk-rp')
        try:
            self.api.replicate_recovery_point(
                rp.ext_id, dp.RecoveryPointReplicationSpec(
                    cluster_ext_id='00000000-0000-4000-8000-0000000000ff'))
        except dp_rest.ApiException as exc:
            self.assertEqual(404, exc.status)
        else:
            self.fail('replication to an unpaired cluster accepted')

    def test_compute_changed_regions(self):
        self.emu.admin.write_disk(self.disk, 0, b'a' * MiB)
        rp1 = self._snapshot('rp1')
        self.emu.admin.write_disk(self.disk, 5 * MiB, b'b' * 100)
        rp2 = self._snapshot('rp2')
        vg1 = rp1.volume_group_recovery_points[0]
        vg2 = rp2.volume_group_recovery_points[0]
        resp = self.api.volume_group_recovery_point_compute_changed_regions(
            rp2.ext_id, vg2.ext_id,
            vg2.disk_recovery_points[0].disk_recovery_point_ext_id,
            dp.VolumeGroupRecoveryPointChangedRegionsComputeSpec(
                block_size_byte=4096,
                reference_recovery_point_ext_id=rp1.ext_id,
                reference_volume_group_recovery_point_ext_id=vg1.ext_id,
                reference_disk_recovery_point_ext_id=(
                    vg1.disk_recovery_points[0]
                    .disk_recovery_point_ext_id)))
        self.assertEqual('ChangedVolumeGroupRegionsApiResponse',
                         type(resp).__name__)
        self.assertEqual(1, len(resp.data))
        region = resp.data[0]
        self.assert_parsed(region, 'ChangedRegion')
        self.assertEqual((5 * MiB, 4096, 'REGULAR'),
                         (region.offset, region.length,
                          region.region_type))
