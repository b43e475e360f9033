"""Volume groups: disk builders, creation with disks, attachments."""

from nutanix_openstack.prism import exceptions as exc
from nutanix_openstack.prism import paths
from nutanix_openstack.prism import volume_groups as vgs
from tests.unit.prism import base

VG = paths.VOLUME_GROUPS + '/vg-1'
NS = 'volumes.v4.config.'


class BuilderTest(base.PrismTestCase):

    def test_volume_disk(self):
        self.assertEqual({'$objectType': NS + 'VolumeDisk',
                          'diskSizeBytes': 1024,
                          'storageContainerId': 'sc-1'},
                         vgs.volume_disk(1024, 'sc-1'))
        d = vgs.volume_disk(1024, 'sc-1', vgs.image_source('img-1'), index=0)
        self.assertEqual({'$objectType': 'common.v1.config.EntityReference',
                          'extId': 'img-1', 'entityType': 'IMAGE'},
                         d['diskDataSourceReference'])
        self.assertEqual(0, d['index'])
        for fn, kind in [(vgs.vm_disk_source, 'VM_DISK'),
                         (vgs.volume_disk_source, 'VOLUME_DISK'),
                         (vgs.disk_recovery_point_source,
                          'DISK_RECOVERY_POINT')]:
            self.assertEqual(kind, fn('x')['entityType'])


class VolumeGroupCallsTest(base.PrismTestCase):

    def setUp(self):
        super(VolumeGroupCallsTest, self).setUp()
        self.m.get(self.url(VG), json={'data': {'extId': 'vg-1'}},
                   headers={'ETag': 'vg-etag'})
        self.mock_task(entities=[(paths.REL_VOLUME_GROUP, 'vg-1')])

    def _write(self, path, method='POST'):
        self.m.register_uri(method, self.url(path), status_code=202,
                            json=base.task_ref())

    def test_create_with_disks_is_one_request(self):
        self._write(paths.VOLUME_GROUPS)
        disk = vgs.volume_disk(2 ** 30, 'sc-1',
                               vgs.volume_disk_source('vd-0'))
        vg = self.client.volume_groups.create(
            'volume-abc', disks=[disk], description='cinder',
            sharing_status='SHARED', cluster_ext_id='c-1')
        self.assertEqual('vg-1', vg['extId'])
        posts = self.requests('POST')
        self.assertEqual(1, len(posts))
        self.assertEqual({'$objectType': NS + 'VolumeGroup',
                          'name': 'volume-abc', 'description': 'cinder',
                          'sharingStatus': 'SHARED',
                          'clusterReference': 'c-1',
                          'disks': [disk]}, posts[0].json())

    def test_create_without_disks_sends_no_disks_field(self):
        self._write(paths.VOLUME_GROUPS)
        self.client.volume_groups.create('v')
        self.assertNotIn('disks', self.requests('POST')[0].json())

    def test_create_removes_group_when_task_fails(self):
        self._write(paths.VOLUME_GROUPS)
        self._write(VG, 'DELETE')
        self.m.get(self.url(paths.TASKS + '/ZXJnb24=:task-1'), [
            {'json': base.task(status='FAILED', entities=[
                (paths.REL_VOLUME_GROUP, 'vg-1')],
                errorMessages=[{'message': 'bad source'}])},
            {'json': base.task(entities=[
                (paths.REL_VOLUME_GROUP, 'vg-1')])}])
        with self.assertRaises(exc.TaskFailed):
            self.client.volume_groups.create(
                'v', disks=[vgs.volume_disk(1, 'sc')])
        self.assertEqual(1, len(self.requests('POST')))
        self.assertEqual(1, len(self.requests('DELETE')))

    def test_attach_detach_vm(self):
        self._write(VG + '/$actions/attach-vm')
        self._write(VG + '/$actions/detach-vm')
        self.client.volume_groups.attach_vm('vg-1', 'vm-1')
        self.client.volume_groups.detach_vm('vg-1', 'vm-1')
        posts = self.requests('POST')
        self.assertEqual({'$objectType': NS + 'VmAttachment',
                          'extId': 'vm-1'}, posts[0].json())
        self.assertTrue(posts[1].url.endswith('/$actions/detach-vm'))
        self.assertEqual('vg-etag', posts[0].headers['If-Match'])

    def test_iscsi_attach_detach(self):
        self._write(VG + '/$actions/attach-iscsi-client')
        self._write(VG + '/$actions/detach-iscsi-client')
        self.client.volume_groups.attach_iscsi_client(
            'vg-1', 'iqn.1994-05.com.redhat:abc', chap_secret='chapchap1234')
        self.assertEqual({'$objectType': NS + 'IscsiClient',
                          'iscsiInitiatorName': 'iqn.1994-05.com.redhat:abc',
                          'clientSecret': 'chapchap1234',
                          'enabledAuthentications': 'CHAP'},
                         self.requests('POST')[0].json())
        self.m.get(self.url(paths.ISCSI_CLIENTS), json={
            'data': [{'extId': 'ic-1',
                      'iscsiInitiatorName': 'iqn.1994-05.com.redhat:abc'}],
            'metadata': {'totalAvailableResults': 1}})
        self.client.volume_groups.detach_iscsi_client(
            'vg-1', 'iqn.1994-05.com.redhat:abc')
        self.assertEqual({'$objectType': NS + 'IscsiClientAttachment',
                          'extId': 'ic-1'}, self.requests('POST')[1].json())
        self.assertEqual(
            ["iscsiInitiatorName eq 'iqn.1994-05.com.redhat:abc'"],
            base.qs(self.requests('GET', paths.ISCSI_CLIENTS)[0])['$filter'])

    def test_detach_unknown_initiator(self):
        self.m.get(self.url(paths.ISCSI_CLIENTS), json={'data': []})
        self.assertRaises(exc.NotFound,
                          self.client.volume_groups.detach_iscsi_client,
                          'vg-1', 'iqn.x')

    def test_revert(self):
        self._write(VG + '/$actions/revert')
        self.client.volume_groups.revert('vg-1', 'vgrp-1')
        self.assertEqual({'$objectType': NS + 'RevertSpec',
                          'volumeGroupRecoveryPointExtId': 'vgrp-1'},
                         self.requests('POST')[0].json())

    def test_resize_disk(self):
        path = VG + '/disks/vd-1'
        self.m.get(self.url(path), json={'data': {
            'extId': 'vd-1', 'diskSizeBytes': 10,
            'diskDataSourceReference': {'extId': 'x'}}},
            headers={'ETag': 'vd-etag'})
        self._write(path, 'PUT')
        self.client.volume_groups.resize_disk('vg-1', 'vd-1', 20)
        put = self.requests('PUT')[0]
        self.assertEqual({'extId': 'vd-1', 'diskSizeBytes': 20}, put.json())
        self.assertEqual('vd-etag', put.headers['If-Match'])

    def test_lists(self):
        for sub in ('vm-attachments', 'external-iscsi-attachments',
                    'disks'):
            self.m.get(self.url(VG + '/' + sub),
                       json={'data': [{'extId': sub}]})
        self.assertEqual('vm-attachments', self.client.volume_groups
                         .list_vm_attachments('vg-1')[0]['extId'])
        self.assertEqual('external-iscsi-attachments', self.client
                         .volume_groups.list_iscsi_attachments('vg-1')[0]
                         ['extId'])
        self.assertEqual('disks', self.client.volume_groups
                         .list_disks('vg-1')[0]['extId'])
