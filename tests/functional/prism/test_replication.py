"""The client's ReplicationAPI against two emulators (two clusters)."""

import unittest

from nutanix_openstack.emulator import fixture as emu_fixture
from nutanix_openstack.prism import exceptions as exc
from nutanix_openstack.prism import replication
from nutanix_openstack.prism import volume_groups as vgs

MIB = 1024 * 1024


class ReplicationTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.site_a = emu_fixture.EmulatorFixture()
        cls.site_a.setUp()
        cls.addClassCleanup(cls.site_a.cleanUp)
        cls.site_b = emu_fixture.EmulatorFixture(site=2)
        cls.site_b.setUp()
        cls.addClassCleanup(cls.site_b.cleanUp)

    def setUp(self):
        for site in (self.site_a, self.site_b):
            site.admin.reset()
            site.admin.clear_faults()
        self.site_a.pair(self.site_b)
        self.a = self.site_a.prism_client()
        self.b = self.site_b.prism_client()
        self.addCleanup(self.a.close)
        self.addCleanup(self.b.close)
        vg = self.a.volume_groups.create('vol', disks=[
            vgs.volume_disk(4 * MIB, self.site_a.container_ext_id)])
        self.vg = vg['extId']
        self.disk = self.a.volume_groups.list_disks(self.vg)[0]['extId']

    def _point(self, name, payload, offset=0):
        self.site_a.admin.write_disk(self.disk, offset, payload)
        return self.a.recovery_points.create(
            name, volume_group_ext_ids=[self.vg])

    def test_replicate_find_latest_and_changed_regions(self):
        rp1 = self._point('volume-x.1', b'1' * MIB)
        first = self.a.replication.replicate(
            rp1['extId'], cluster_ext_id=self.site_b.cluster_ext_id)
        self.assertEqual(MIB, first['bytesSent'])
        rp2 = self._point('volume-x.2', b'2' * 4096, offset=2 * MIB)
        second = self.a.replication.replicate(
            rp2['extId'], pc_ext_id=self.site_b.pc_ext_id)
        self.assertEqual(4096, second['bytesSent'])
        self.assertEqual(
            [second['extId']],
            [r['extId'] for r in self.b.replication.find_replicas(
                location_agnostic_id=rp2['locationAgnosticId'])])
        self.assertEqual(second['extId'],
                         self.b.replication.latest('volume-x.')['extId'])
        self.assertIsNone(self.b.replication.latest('volume-y.'))
        (_, m1, _, d1), = replication.disk_recovery_points(rp1)
        (_, m2, _, d2), = replication.disk_recovery_points(rp2)
        self.assertEqual(
            [(2 * MIB, 4096, 'REGULAR')],
            self.a.replication.changed_regions(
                rp2['extId'], m2, d2, reference=(rp1['extId'], m1, d1),
                block_size=4096))

    def test_failed_replication_raises_task_failed(self):
        self.site_a.backend.conf.set_override('replication_retries', 0,
                                              group='emulator')
        self.addCleanup(self.site_a.backend.conf.clear_override,
                        'replication_retries', group='emulator')
        rp = self._point('volume-x.1', b'1' * MIB)
        self.site_b.admin.add_fault(path='/_replication/v1/sessions$',
                                    status=503)
        self.assertRaises(exc.TaskFailed, self.a.replication.replicate,
                          rp['extId'],
                          cluster_ext_id=self.site_b.cluster_ext_id)
        self.assertEqual([], self.b.replication.find_replicas())
