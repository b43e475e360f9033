"""Recovery points over several VMs and volume groups; restore."""

import datetime

from nutanix_openstack.prism import paths
from tests.unit.prism import base

RP = paths.RECOVERY_POINTS + '/rp-1'
NS = 'dataprotection.v4.config.'


class RecoveryPointTest(base.PrismTestCase):

    def test_create_over_vms_and_groups(self):
        self.m.post(self.url(paths.RECOVERY_POINTS), status_code=202,
                    json=base.task_ref())
        self.mock_task(entities=[(paths.REL_VOLUME_GROUP, 'vg-1'),
                                 (paths.REL_RECOVERY_POINT, 'rp-1')])
        self.m.get(self.url(RP), json={'data': {'extId': 'rp-1'}})
        when = datetime.datetime(2030, 1, 2, 3, 4, 5)
        rp = self.client.recovery_points.create(
            'snap', vm_ext_ids=['vm-1'], volume_group_ext_ids=['vg-1', 'vg-2'],
            expiration_time=when)
        self.assertEqual('rp-1', rp['extId'])
        self.assertEqual({
            '$objectType': NS + 'RecoveryPoint', 'name': 'snap',
            'recoveryPointType': 'CRASH_CONSISTENT',
            'expirationTime': '2030-01-02T03:04:05+00:00',
            'vmRecoveryPoints': [{'$objectType': NS + 'VmRecoveryPoint',
                                  'vmExtId': 'vm-1'}],
            'volumeGroupRecoveryPoints': [
                {'$objectType': NS + 'VolumeGroupRecoveryPoint',
                 'volumeGroupExtId': 'vg-1'},
                {'$objectType': NS + 'VolumeGroupRecoveryPoint',
                 'volumeGroupExtId': 'vg-2'}]},
            self.requests('POST')[0].json())

    def test_create_needs_members(self):
        self.assertRaises(ValueError, self.client.recovery_points.create, 'x')

    def test_restore(self):
        self.m.get(self.url(RP), json={'data': {}}, headers={'ETag': 'rpe'})
        self.m.post(self.url(RP + '/$actions/restore'), status_code=202,
                    json=base.task_ref())
        self.mock_task(entities=[(paths.REL_RECOVERY_POINT, 'rp-1'),
                                 (paths.REL_VOLUME_GROUP, 'vg-new'),
                                 (paths.REL_VM, 'vm-new')])
        created = self.client.recovery_points.restore(
            'rp-1', volume_group_overrides={'vgrp-1': 'volume-new'},
            cluster_ext_id='c-1')
        self.assertEqual([{'extId': 'vg-new', 'rel': paths.REL_VOLUME_GROUP},
                          {'extId': 'vm-new', 'rel': paths.REL_VM}], created)
        post = self.requests('POST')[0]
        self.assertEqual({
            '$objectType': NS + 'RecoveryPointRestorationSpec',
            'clusterExtId': 'c-1',
            'volumeGroupRecoveryPointRestoreOverrides': [{
                '$objectType': NS + 'VolumeGroupRecoveryPointRestoreOverride',
                'volumeGroupRecoveryPointExtId': 'vgrp-1',
                'volumeGroupOverrideSpec': {
                    '$objectType': NS + 'VolumeGroupOverrideSpec',
                    'name': 'volume-new'}}]}, post.json())
        self.assertEqual('rpe', post.headers['If-Match'])

    def test_list_get_delete(self):
        self.m.get(self.url(paths.RECOVERY_POINTS), json={
            'data': [{'extId': 'rp-1'}],
            'metadata': {'totalAvailableResults': 1}})
        self.assertEqual(1, len(self.client.recovery_points.list()))
        self.m.get(self.url(RP), json={'data': {'extId': 'rp-1'}})
        self.m.delete(self.url(RP), status_code=202, json=base.task_ref())
        self.mock_task()
        self.client.recovery_points.delete('rp-1')
        self.assertEqual(1, len(self.requests('DELETE')))
