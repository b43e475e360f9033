"""Crash-consistent recovery points over VMs and volume groups; restore."""

from nutanix_openstack.prism import exceptions as exc
from nutanix_openstack.prism import paths
from nutanix_openstack.prism import recovery_points as rps
from nutanix_openstack.prism import volume_groups as vgs
from tests.functional.prism import base

MIB = 1024 * 1024


class RecoveryPointTest(base.EmulatorTestCase):

    def _vg(self, name, payload):
        vg = self.client.volume_groups.create(name, disks=[
            vgs.volume_disk(MIB, self.emulator.container_ext_id)])
        disk = self.client.volume_groups.list_disks(vg['extId'])[0]
        self.admin.write_disk(disk['extId'], 0, payload)
        return vg, disk

    def test_one_point_over_groups_and_vm_then_restore(self):
        vg1, d1 = self._vg('v1', b'one')
        vg2, d2 = self._vg('v2', b'two')
        vm = self.client.vms.create('vm', memory_size_bytes=256 * MIB)
        rp = self.client.recovery_points.create(
            'group-snap', vm_ext_ids=[vm['extId']],
            volume_group_ext_ids=[vg1['extId'], vg2['extId']])
        self.assertEqual('CRASH_CONSISTENT', rp['recoveryPointType'])
        self.assertEqual(
            sorted([vg1['extId'], vg2['extId']]),
            sorted(v['volumeGroupExtId']
                   for v in rp['volumeGroupRecoveryPoints']))
        self.assertEqual([vm['extId']],
                         [v['vmExtId'] for v in rp['vmRecoveryPoints']])
        self.assertEqual(rp['extId'],
                         self.client.recovery_points.get(rp['extId'])
                         ['extId'])
        self.assertIn(rp['extId'], [r['extId'] for r in
                                    self.client.recovery_points.list()])
        # Later writes do not change what the point holds.
        self.admin.write_disk(d1['extId'], 0, b'XXX')
        vgrp1 = [v for v in rp['volumeGroupRecoveryPoints']
                 if v['volumeGroupExtId'] == vg1['extId']][0]
        created = self.client.recovery_points.restore(
            rp['extId'], volume_group_overrides=[
                rps.volume_group_override(vgrp1['extId'], 'restored')])
        new_vgs = [e['extId'] for e in created
                   if e['rel'] == paths.REL_VOLUME_GROUP]
        self.assertTrue(new_vgs)
        restored = [self.client.volume_groups.get(v) for v in new_vgs]
        by_name = dict((v['name'], v) for v in restored)
        self.assertIn('restored', by_name)
        disk = self.client.volume_groups.list_disks(
            by_name['restored']['extId'])[0]
        self.assertEqual(b'one', self.admin.read_disk(disk['extId'], 0, 3))

    def test_delete(self):
        vg, _ = self._vg('v', b'x')
        rp = self.client.recovery_points.create(
            'snap', volume_group_ext_ids=[vg['extId']])
        self.client.recovery_points.delete(rp['extId'])
        self.assertRaises(exc.NotFound, self.client.recovery_points.get,
                          rp['extId'])

    def test_missing_member_is_an_error(self):
        with self.assertRaises(exc.PrismError):
            self.client.recovery_points.create(
                'bad', volume_group_ext_ids=[
                    '00000000-0000-4000-8000-00000000beef'])
        self.assertEqual([], self.inventory('recovery_point'))
