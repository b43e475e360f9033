"""The client's ReplicationAPI against two emulators (two clusters)."""

import unittest

from nutanix_openstack.emulator import fixture as emu_fixture
from nutanix_openstack.prism import exceptions as exc
from nutanix_openstack.prism import replication
from nutanix_openstack.prism import vms
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

    def test_latest_vm_point_finds_the_newest_replica_of_a_vm(self):
        vm = self.a.vms.create('4b1c2d3e-inst', memory_size_bytes=MIB,
                               disks=[vms.empty_disk(
                                   2 * MIB, self.site_a.container_ext_id)])
        disk = self.a.vms.list_disks(vm['extId'])[0]['extId']
        replicas = []
        for n, payload in enumerate((b'first', b'second')):
            self.site_a.admin.write_disk(disk, 0, payload)
            # A point over the VM and a volume group (a consistency group).
            rp = self.a.recovery_points.create(
                'protect.%d' % n, vm_ext_ids=[vm['extId']],
                volume_group_ext_ids=[self.vg])
            replicas.append(self.a.replication.replicate(
                rp['extId'], cluster_ext_id=self.site_b.cluster_ext_id))
        # Only the volume group: not a point of the VM.
        self.a.replication.replicate(
            self._point('volume-x.3', b'3')['extId'],
            cluster_ext_id=self.site_b.cluster_ext_id)

        rp, vmrp = self.b.replication.latest_vm_point('4b1c2d3e-inst')
        self.assertEqual(replicas[-1]['extId'], rp['extId'])
        self.assertEqual('4b1c2d3e-inst', vmrp['name'])
        (drp,) = vmrp['diskRecoveryPoints']
        restored = self.b.vms.create('restored', memory_size_bytes=MIB,
                                     disks=[vms.disk_from_disk_recovery_point(
                                         drp['diskRecoveryPointExtId'],
                                         vm_recovery_point_ext_id=(
                                             vmrp['extId']))])
        b_disk = self.b.vms.list_disks(restored['extId'])[0]['extId']
        self.assertEqual(b'second', self.site_b.admin.read_disk(
            b_disk, 0, 6))
        self.assertIsNone(self.b.replication.latest_vm_point('other'))
        self.assertIsNone(self.a.replication.latest_vm_point('volume-x'))
