"""Unit tests of snapshots and group snapshots as recovery points."""

from unittest import mock

from cinder import exception

from nutanix_openstack.prism import exceptions as prism_exc
from tests.unit.cinder import base


class SnapshotTest(base.DriverTestCase):

    def test_create_snapshot(self):
        vol = self.volume(provider_id='vg-1')
        self.vgs.get.return_value = {'extId': 'vg-1'}
        self.rps.create.return_value = {'extId': 'rp-1'}
        snap = self.snapshot(vol)
        self.assertEqual({'provider_id': 'rp-1'},
                         self.driver.create_snapshot(snap))
        self.rps.create.assert_called_once_with(
            snap.name, volume_group_ext_ids=['vg-1'])

    def test_create_failure_removes_leftover(self):
        vol = self.volume(provider_id='vg-1')
        self.vgs.get.return_value = {'extId': 'vg-1'}
        self.rps.create.side_effect = prism_exc.TaskFailed('boom')
        snap = self.snapshot(vol)
        self.rps.list.return_value = [{'extId': 'rp-half',
                                       'name': snap.name}]
        self.assertRaises(exception.VolumeBackendAPIException,
                          self.driver.create_snapshot, snap)
        self.rps.delete.assert_called_once_with('rp-half')

    def test_delete_missing_is_success(self):
        vol = self.volume(provider_id='vg-1')
        self.rps.get.side_effect = prism_exc.NotFound('gone')
        self.driver.delete_snapshot(self.snapshot(vol, provider_id='rp-x'))
        self.rps.delete.assert_not_called()

    def test_delete_busy_and_failing(self):
        vol = self.volume(provider_id='vg-1')
        snap = self.snapshot(vol, provider_id='rp-1')
        self.rps.get.return_value = {'extId': 'rp-1'}
        self.rps.delete.side_effect = prism_exc.Conflict('in use')
        self.assertRaises(exception.SnapshotIsBusy,
                          self.driver.delete_snapshot, snap)
        self.rps.delete.side_effect = prism_exc.ServerError('internal')
        self.assertRaises(exception.VolumeBackendAPIException,
                          self.driver.delete_snapshot, snap)

    def test_volume_from_snapshot_uses_disk_recovery_point(self):
        src = self.volume(provider_id='vg-1')
        snap = self.snapshot(src, provider_id='rp-1')
        self.vgs.get.return_value = {'extId': 'vg-1'}
        self.rps.get.return_value = {
            'extId': 'rp-1', 'volumeGroupRecoveryPoints': [
                {'extId': 'vgrp-0', 'volumeGroupExtId': 'vg-other',
                 'diskRecoveryPoints': [{'diskRecoveryPointExtId': 'x'}]},
                {'extId': 'vgrp-1', 'volumeGroupExtId': 'vg-1',
                 'diskRecoveryPoints': [{'diskRecoveryPointExtId': 'drp-1',
                                         'diskExtId': 'd-1'}]}]}
        self.vgs.create.return_value = {'extId': 'vg-new'}
        self.vgs.list_disks.return_value = [{'extId': 'd',
                                             'diskSizeBytes': 2 * base.GiB}]
        dst = self.volume(size=2)
        self.assertEqual({'provider_id': 'vg-new'},
                         self.driver.create_volume_from_snapshot(dst, snap))
        disk = self.vgs.create.call_args[1]['disks'][0]
        self.assertEqual('drp-1', disk['diskDataSourceReference']['extId'])
        self.assertEqual('DISK_RECOVERY_POINT',
                         disk['diskDataSourceReference']['entityType'])

    def test_snapshot_not_covering_volume(self):
        src = self.volume(provider_id='vg-1')
        snap = self.snapshot(src, provider_id='rp-1')
        self.vgs.get.return_value = {'extId': 'vg-1'}
        self.rps.get.return_value = {'extId': 'rp-1',
                                     'volumeGroupRecoveryPoints': []}
        self.assertRaises(exception.VolumeBackendAPIException,
                          self.driver.create_volume_from_snapshot,
                          self.volume(), snap)
        self.vgs.create.assert_not_called()

    def test_group_snapshot_is_one_recovery_point(self):
        vols = [self.volume(provider_id='vg-%d' % i) for i in range(3)]
        self.vgs.get.side_effect = lambda x: {'extId': x}
        self.rps.create.return_value = {'extId': 'rp-g'}
        gsnap = mock.Mock(id='gs-1')
        snaps = [self.snapshot(v, group_snapshot_id='gs-1') for v in vols]
        model, updates = self.driver.create_group_snapshot(self.ctx, gsnap,
                                                           snaps)
        self.rps.create.assert_called_once_with(
            'group-snapshot-gs-1',
            volume_group_ext_ids=['vg-0', 'vg-1', 'vg-2'])
        self.assertEqual({'rp-g'}, {u['provider_id'] for u in updates})
        # Deleting one member snapshot must not delete the shared point.
        snaps[0].provider_id = 'rp-g'
        self.driver.delete_snapshot(snaps[0])
        self.rps.delete.assert_not_called()
        for s in snaps:
            s.provider_id = 'rp-g'
        self.driver.delete_group_snapshot(self.ctx, gsnap, snaps)
        self.rps.delete.assert_called_once_with('rp-g')

    def test_revert(self):
        vol = self.volume(size=2, provider_id='vg-1')
        snap = self.snapshot(vol, provider_id='rp-1')
        disk = self.stub_vg('vg-1', disk_size=base.GiB)
        self.rps.get.return_value = {'extId': 'rp-1',
                                     'volumeGroupRecoveryPoints': [
                                         {'extId': 'vgrp-1',
                                          'volumeGroupExtId': 'vg-1'}]}
        self.driver.revert_to_snapshot(self.ctx, vol, snap)
        self.vgs.revert.assert_called_once_with('vg-1', 'vgrp-1')
        self.vgs.resize_disk.assert_called_once_with('vg-1', disk['extId'],
                                                     2 * base.GiB)
