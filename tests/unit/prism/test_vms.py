"""AHV VMs: disk spec builders and the VM calls on the wire."""

from nutanix_openstack.prism import exceptions as exc
from nutanix_openstack.prism import paths
from nutanix_openstack.prism import vms
from tests.unit.prism import base

VM = paths.VMS + '/vm-1'
NS = 'vmm.v4.ahv.config.'


def _ref(disk):
    return disk['backingInfo']['dataSource']['reference']


class DiskBuilderTest(base.PrismTestCase):

    def test_from_image(self):
        d = vms.disk_from_image('img-1', size_bytes=10, container_ext_id='sc',
                                index=0, cluster_ext_id='c-1')
        self.assertEqual({
            '$objectType': NS + 'Disk',
            'diskAddress': {'$objectType': NS + 'DiskAddress',
                            'busType': 'SCSI', 'index': 0},
            'backingInfo': {
                '$objectType': NS + 'VmDisk', 'diskSizeBytes': 10,
                'storageContainer': {
                    '$objectType': NS + 'VmDiskContainerReference',
                    'extId': 'sc'},
                'dataSource': {
                    '$objectType': NS + 'DataSource',
                    'reference': {
                        '$objectType': NS + 'ImageReference',
                        'imageExtId': 'img-1',
                        'storageCluster': {
                            '$objectType': NS + 'ClusterReference',
                            'extId': 'c-1'}}}}}, d)

    def test_every_data_source_reference(self):
        self.assertEqual(
            {'$objectType': NS + 'VmDiskReference', 'diskExtId': 'd',
             'vmReference': {'$objectType': NS + 'VmReference',
                             'extId': 'v'}},
            _ref(vms.disk_from_vm_disk('v', 'd')))
        self.assertEqual(
            {'$objectType': NS + 'VolumeDiskReference', 'diskExtId': 'd',
             'volumeGroupExtId': 'vg'},
            _ref(vms.disk_from_volume_disk('vg', 'd')))
        self.assertEqual(
            {'$objectType': NS + 'VmDiskRecoveryPointReference',
             'diskRecoveryPointExtId': 'drp', 'vmRecoveryPointExtId': 'vrp'},
            _ref(vms.disk_from_disk_recovery_point(
                'drp', vm_recovery_point_ext_id='vrp')))
        self.assertEqual(
            {'$objectType': NS + 'VolumeDiskRecoveryPointReference',
             'diskRecoveryPointExtId': 'drp',
             'volumeGroupRecoveryPointExtId': 'vgrp'},
            _ref(vms.disk_from_disk_recovery_point(
                'drp', volume_group_recovery_point_ext_id='vgrp')))
        self.assertEqual(
            {'$objectType': NS + 'ExternalDataSourceDiskReference',
             'externalRepositoryExtId': 'r',
             'externalDiskRelativePath': 'a/b.raw',
             'shouldEnableBackgroundHydration': True},
            _ref(vms.disk_from_external_data_source(
                'r', 'a/b.raw', background_hydration=True)))
        self.assertRaises(ValueError, vms.disk_from_disk_recovery_point,
                          'drp')

    def test_empty_and_volume_group_disks(self):
        d = vms.empty_disk(1024, 'sc')
        self.assertNotIn('dataSource', d['backingInfo'])
        self.assertEqual(1024, vms.disk_size(d))
        vg = vms.volume_group_disk('vg-1', index=3)
        self.assertEqual({'$objectType': NS + 'ADSFVolumeGroupReference',
                          'volumeGroupExtId': 'vg-1'}, vg['backingInfo'])
        self.assertEqual(3, vg['diskAddress']['index'])
        cd = vms.cd_rom_from_image('iso-1')
        self.assertEqual('IDE', cd['diskAddress']['busType'])
        self.assertEqual('iso-1', _ref(cd)['imageExtId'])


class BootAndCloudInitTest(base.PrismTestCase):

    def test_boot_from_disk(self):
        self.assertEqual(
            {'$objectType': NS + 'LegacyBoot',
             'bootDevice': {'$objectType': NS + 'BootDeviceDisk',
                            'diskAddress': {'$objectType': NS + 'DiskAddress',
                                            'busType': 'SATA', 'index': 0}},
             'bootOrder': ['DISK', 'CDROM', 'NETWORK']},
            vms.boot_from_disk('SATA', 0))

    def test_boot_from_cd_rom(self):
        self.assertEqual({'$objectType': NS + 'LegacyBoot',
                          'bootOrder': ['CDROM', 'DISK', 'NETWORK']},
                         vms.boot_from_cd_rom())

    def test_cloud_init(self):
        self.assertEqual(
            {'config': {'$objectType': NS + 'CloudInit',
                        'datasourceType': 'CONFIG_DRIVE_V2',
                        'metadata': 'bWV0YQ==',
                        'cloudInitScript': {'$objectType': NS + 'Userdata',
                                            'value': 'dXNlcg=='}}},
            vms.cloud_init('bWV0YQ==', 'dXNlcg=='))
        self.assertNotIn('cloudInitScript',
                         vms.cloud_init('bWV0YQ==')['config'])


class VmCallsTest(base.PrismTestCase):

    def setUp(self):
        super(VmCallsTest, self).setUp()
        self.m.get(self.url(VM), json={'data': {'extId': 'vm-1',
                                                'name': 'old'}},
                   headers={'ETag': 'vm-etag'})
        self.mock_task(entities=[(paths.REL_VM, 'vm-1')])

    def _action(self, path, method='POST'):
        self.m.register_uri(method, self.url(path), status_code=202,
                            json=base.task_ref())

    def test_create(self):
        self._action(paths.VMS)
        disk = vms.disk_from_image('img-1')
        vm = self.client.vms.create('inst-1', num_sockets=2,
                                    num_cores_per_socket=2,
                                    memory_size_bytes=2 ** 30, disks=[disk],
                                    cluster_ext_id='c-1',
                                    description='nova instance')
        self.assertEqual('vm-1', vm['extId'])
        body = self.requests('POST')[0].json()
        self.assertEqual(NS + 'Vm', body['$objectType'])
        self.assertEqual('inst-1', body['name'])
        self.assertEqual(2, body['numSockets'])
        self.assertEqual(2, body['numCoresPerSocket'])
        self.assertEqual(2 ** 30, body['memorySizeBytes'])
        self.assertEqual([disk], body['disks'])
        self.assertEqual('c-1', body['cluster']['extId'])
        self.assertNotIn('If-Match', self.requests('POST')[0].headers)

    def test_power_actions_carry_if_match(self):
        for name, action in [('power_on', 'power-on'),
                             ('power_off', 'power-off'),
                             ('shutdown', 'shutdown'),
                             ('reboot', 'reboot'), ('reset', 'reset')]:
            self._action(VM + '/$actions/' + action)
            getattr(self.client.vms, name)('vm-1')
            post = self.requests('POST')[-1]
            self.assertTrue(post.url.endswith('/$actions/' + action))
            self.assertEqual('vm-etag', post.headers['If-Match'])
            self.assertIn('NTNX-Request-Id', post.headers)

    def test_update(self):
        self._action(VM, 'PUT')
        self.client.vms.update('vm-1', name='new', numSockets=4)
        put = self.requests('PUT')[0]
        self.assertEqual({'extId': 'vm-1', 'name': 'new', 'numSockets': 4},
                         put.json())
        self.assertEqual('vm-etag', put.headers['If-Match'])

    def test_delete(self):
        self._action(VM, 'DELETE')
        self.client.vms.delete('vm-1')
        self.assertEqual('vm-etag',
                         self.requests('DELETE')[0].headers['If-Match'])

    def test_add_disk_found_by_diff(self):
        self._action(VM + '/disks')
        self.m.get(self.url(VM + '/disks'), [
            {'json': {'data': [{'extId': 'd-1'}],
                      'metadata': {'totalAvailableResults': 1}}},
            {'json': {'data': [{'extId': 'd-1'}, {'extId': 'd-2'}],
                      'metadata': {'totalAvailableResults': 2}}}])
        disk = vms.empty_disk(10, 'sc')
        self.assertEqual({'extId': 'd-2'},
                         self.client.vms.add_disk('vm-1', disk))
        post = self.requests('POST')[0]
        self.assertEqual(disk, post.json())
        self.assertEqual('vm-etag', post.headers['If-Match'])

    def test_add_disk_found_by_task_entity(self):
        self._action(VM + '/disks')
        self.m.get(self.url(VM + '/disks'), json={'data': []})
        self.mock_task(entities=[(paths.REL_VM, 'vm-1'),
                                 (paths.REL_VM_DISK, 'd-7')])
        self.m.get(self.url(VM + '/disks/d-7'),
                   json={'data': {'extId': 'd-7'}})
        self.assertEqual('d-7',
                         self.client.vms.add_disk('vm-1', {})['extId'])

    def test_resize_disk(self):
        path = VM + '/disks/d-1'
        self.m.get(self.url(path), json={'data': {
            'extId': 'd-1', 'backingInfo': {
                '$objectType': NS + 'VmDisk', 'diskSizeBytes': 100,
                'dataSource': {'reference': {}}}}},
            headers={'ETag': 'disk-etag'})
        self._action(path, 'PUT')
        self.client.vms.resize_disk('vm-1', 'd-1', 200)
        put = self.requests('PUT')[0]
        self.assertEqual('disk-etag', put.headers['If-Match'])
        self.assertEqual(200, put.json()['backingInfo']['diskSizeBytes'])
        self.assertNotIn('dataSource', put.json()['backingInfo'])
        self.assertRaises(ValueError, self.client.vms.resize_disk, 'vm-1',
                          'd-1', 50)

    def test_delete_disk(self):
        path = VM + '/disks/d-1'
        self.m.get(self.url(path), json={'data': {}}, headers={'ETag': 'de'})
        self._action(path, 'DELETE')
        self.client.vms.delete_disk('vm-1', 'd-1')
        self.assertEqual('de', self.requests('DELETE')[0].headers['If-Match'])

    def test_migrate_to_host(self):
        self._action(VM + '/$actions/migrate-to-host')
        self.client.vms.migrate_to_host('vm-1', 'host-2')
        self.assertEqual(
            {'$objectType': NS + 'VmMigrateToHostParams',
             'host': {'$objectType': NS + 'HostReference',
                      'extId': 'host-2'}},
            self.requests('POST')[0].json())

    def test_console_token_from_task(self):
        self._action(VM + '/$actions/generate-console-token')
        self.mock_task(completionDetails=[
            {'name': 'token', 'value': 'tok'},
            {'name': 'expiryTime', 'value': '2030-01-01T00:00:00Z'}])
        self.assertEqual({'token': 'tok',
                          'expiryTime': '2030-01-01T00:00:00Z'},
                         self.client.vms.console_token('vm-1'))

    def test_console_token_direct(self):
        self.m.post(self.url(VM + '/$actions/generate-console-token'),
                    json={'data': {'token': 't2'}})
        self.assertEqual({'token': 't2'},
                         self.client.vms.console_token('vm-1'))

    def test_list_and_filter(self):
        self.m.get(self.url(paths.VMS), json={
            'data': [{'extId': 'vm-1'}],
            'metadata': {'totalAvailableResults': 1}})
        self.assertEqual(1, len(self.client.vms.list(
            filter="name eq 'inst-1'")))
        self.assertEqual(["name eq 'inst-1'"],
                         base.qs(self.m.request_history[-1])['$filter'])

    def test_get_missing(self):
        self.m.get(self.url(paths.VMS + '/nope'), status_code=404,
                   json=base.error_body('VM not found', 'VMM-404'))
        self.assertRaises(exc.NotFound, self.client.vms.get, 'nope')
