"""Cinder's own in-process functional harness with this driver.

``cinder.tests.functional.functional_helpers._FunctionalTestBase`` runs
cinder-api (real WSGI on loopback), the scheduler and the volume service in
this process; the volume service loads ``NutanixVolumeDriver`` from
``volume_driver`` and talks HTTP to ``nutanix-emulator`` (a child
process).  Every step goes through the real Cinder REST API, and the
backend state is checked through the emulator.
"""

import sys
import uuid

from cinder.compute import nova as nova_api
from cinder.tests.functional import functional_helpers
from cinder.tests.unit.image import fake as fake_image
from cinder.volume import configuration
from oslo_config import cfg

from nutanix_openstack.cinder import options
from nutanix_openstack.prism import locations
from nutanix_openstack.prism import volume_groups as pvg
from tests.functional.cinder import base

CONF = cfg.CONF
GiB = base.GiB
MiB = base.MiB
SHARED = configuration.SHARED_CONF_GROUP
# pip installs Cinder's etc/ files under <sys.prefix>/etc/cinder, while its
# test base looks next to the source tree.
CINDER_ETC = sys.prefix + '/etc/cinder'


class _KeepTestMethod(object):
    """Keep the test method attribute through Cinder's cleanup.

    pytest (>= 8) deletes the test method attribute at teardown; Cinder's
    cleanup has already deleted every public instance attribute by then.
    """

    def _common_cleanup(self):
        name = self._testMethodName
        method = self.__dict__.get(name)
        super(_KeepTestMethod, self)._common_cleanup()
        if method is not None:
            self.__dict__[name] = method


class ImageService(fake_image._FakeImageService):
    """Cinder's fake Glance plus real locations (``get_location``)."""

    def __init__(self):
        super(ImageService, self).__init__()
        self.image_locations = {}

    def get_location(self, context, image_id):
        self.show(context, image_id)
        return (None, [{'url': u, 'metadata': {}}
                       for u in self.image_locations.get(image_id, ())])

    def add_location(self, context, image_id, url, metadata):
        self.image_locations.setdefault(image_id, []).append(url)
        return True


class CinderApiTest(_KeepTestMethod, base.BackendViews,
                    functional_helpers._FunctionalTestBase):
    _osapi_version = '3.40'
    RESOURCE_FILTER_PATH = CINDER_ETC + '/resource_filters.json'

    @classmethod
    def setUpClass(cls):
        super(CinderApiTest, cls).setUpClass()
        cls.emulator = base.emulator_fixture.EmulatorProcess()
        cls.emulator.start()

    @classmethod
    def tearDownClass(cls):
        cls.emulator.cleanup()
        super(CinderApiTest, cls).tearDownClass()

    def setUp(self):
        self.emulator.admin.reset()
        CONF.register_opts(options.ALL_OPTS, group=SHARED)
        self.image_service = ImageService()
        # Before the services start: cinder-api keeps the image service it
        # was built with.
        self.mock_object(fake_image, 'FakeImageService',
                         lambda: self.image_service)
        fake_image.mock_image_service(self)
        super(CinderApiTest, self).setUp()
        self.admin = self.emulator.admin
        self.client = self.emulator.prism_client()
        self.volume_type = self.api.create_type('nutanix')
        self.group_type = self.api.create_group_type('nutanix-cg')
        self.api.create_group_type_specs(
            self.group_type['id'],
            {'consistent_group_snapshot_enabled': '<is> True'})

    def _start_api_service(self):
        # As the parent does, with the installed api-paste.ini.
        CONF.api_paste_config = CINDER_ETC + '/api-paste.ini'
        from cinder import service
        self.osapi = service.WSGIService("osapi_volume")
        self.osapi.start()
        self.auth_url = 'http://%s:%s/v%s' % (
            self.osapi.host, self.osapi.port,
            self._osapi_version.split('.')[0])

    def _get_flags(self):
        f = super(CinderApiTest, self)._get_flags()
        emu = self.emulator
        for name, value in (
                ('volume_driver',
                 'nutanix_openstack.cinder.driver.NutanixVolumeDriver'),
                ('volume_backend_name', 'nutanix'),
                ('nutanix_endpoints', [emu.endpoint]),
                ('nutanix_username', emu.username),
                ('nutanix_password', emu.password),
                ('nutanix_verify_ssl', False),
                ('nutanix_task_poll_interval', 0.05),
                ('nutanix_api_retry_interval', 0.05),
                ('nutanix_storage_container', emu.container_name)):
            f[name] = {'v': value, 'g': SHARED}
        f['default_volume_type'] = {'v': 'nutanix'}
        f['default_group_type'] = {'v': 'nutanix-cg'}
        return f

    # -- helpers -----------------------------------------------------------

    def wait_volume(self, volume_id, status='available'):
        return self._poll_volume_while(volume_id, ['creating', 'extending',
                                                   'downloading', 'uploading',
                                                   'reverting', 'deleting',
                                                   'detaching', 'managing'],
                                       expected_end_status=status,
                                       max_retries=50)

    def create_volume(self, **body):
        body.setdefault('size', 1)
        vol = self.api.post_volume({'volume': body})
        return self.wait_volume(vol['id'])

    def vg_of(self, volume):
        """The backend volume group of an API volume (by its name)."""
        name = 'volume-%s' % volume['id']
        found = [vg for vg in self.client.volume_groups.list()
                 if vg['name'] == name]
        self.assertEqual(1, len(found), name)
        return found[0]

    def disk_of(self, volume):
        [disk] = self.client.volume_groups.list_disks(
            self.vg_of(volume)['extId'])
        return disk

    # -- the scenario --------------------------------------------------------

    def test_volume_lifecycle_through_cinder_api(self):
        # Create: one volume group, scheduled onto the container's pool.
        vol = self.create_volume(size=1)
        self.assertTrue(vol['os-vol-host-attr:host'].endswith(
            '#' + self.emulator.container_name))
        payload = base.random_bytes(MiB)
        self.write(vol, 0, payload)

        # Snapshot: a recovery point.
        snap = self.api.post_snapshot({'snapshot': {'volume_id': vol['id']}})
        snap = self._poll_snapshot_while(snap['id'], ['creating'],
                                         expected_end_status='available')
        self.assertEqual(1, len(self.objects('recovery_point')))
        self.write(vol, 0, b'after the snapshot')

        # Volume from snapshot, bigger: the snapshot's bytes.
        from_snap = self.create_volume(size=2, snapshot_id=snap['id'])
        self.assertEqual(2 * GiB, self.disk_of(from_snap)['diskSizeBytes'])
        self.assertEqual(payload, self.read(from_snap, 0, MiB))

        # Clone: the source's current bytes.
        clone = self.create_volume(size=1, source_volid=vol['id'])
        self.assertEqual(b'after the snapshot', self.read(clone, 0, 18))

        # Extend.
        self.api.api_post('/volumes/%s/action' % vol['id'],
                          {'os-extend': {'new_size': 3}})
        vol = self.wait_volume(vol['id'])
        self.assertEqual(3, vol['size'])
        self.assertEqual(3 * GiB, self.disk_of(vol)['diskSizeBytes'])
        self.assertEqual(b'after the snapshot', self.read(vol, 0, 18))

        # Delete everything: nothing left on the backend.
        for v in (from_snap, clone):
            self.api.delete_volume(v['id'])
            self._poll_volume_while(v['id'], ['deleting'])
        self.api.delete_snapshot(snap['id'])
        self._poll_snapshot_while(snap['id'], ['deleting'])
        self.api.delete_volume(vol['id'])
        self._poll_volume_while(vol['id'], ['deleting'])
        self.assertEqual(set(), self.objects('volume_group'))
        self.assertEqual(set(), self.objects('recovery_point'))

    def test_volume_from_image_through_cinder_api(self):
        raw = base.random_bytes(MiB)
        image = self.client.images.create_for_upload(
            'glance-image', cluster_ext_id=self.emulator.cluster_ext_id)
        self.client.images.upload(image['extId'], iter([raw]),
                                  size=len(raw))
        image_id = str(uuid.uuid4())
        self.image_service.create(None, {
            'id': image_id, 'name': 'nutanix-image', 'status': 'active',
            'disk_format': 'raw', 'container_format': 'bare',
            'size': len(raw), 'visibility': 'public', 'protected': False,
            'min_disk': 0, 'properties': {}})
        self.image_service.image_locations[image_id] = [
            locations.make_location(self.emulator.cluster_ext_id,
                                    image['extId'])]
        vol = self.create_volume(size=1, imageRef=image_id)
        self.assertTrue(vol['bootable'] in (True, 'true'))
        self.assertEqual(raw, self.read(vol, 0, MiB))
        disk = self.disk_of(vol)
        # Cloned from the Glance image's own cluster image (copy-on-write):
        # not through a temporary image of downloaded bytes.
        source = disk.get('diskDataSourceReference') or {}
        self.assertEqual(('IMAGE', image['extId']),
                         (source.get('entityType'), source.get('extId')))
        self.assertEqual({image['extId']}, self.objects('image'))
        self.api.delete_volume(vol['id'])
        self._poll_volume_while(vol['id'], ['deleting'])
        self.assertEqual(set(), self.objects('volume_group'))

    def test_group_snapshot_through_cinder_api(self):
        group = self.api.post_group({'group': {
            'group_type': self.group_type['id'],
            'volume_types': [self.volume_type['id']]}})
        group = self._poll_group_while(group['id'], ['creating'],
                                       expected_end_status='available')
        vols = [self.create_volume(size=1, group_id=group['id'],
                                   volume_type=self.volume_type['id'])
                for _i in range(2)]
        for i, v in enumerate(vols):
            self.write(v, 0, b'member-%d' % i)
        gsnap = self.api.post_group_snapshot({'group_snapshot': {
            'group_id': group['id']}})
        gsnap = self._poll_group_snapshot_while(
            gsnap['id'], ['creating'], expected_end_status='available',
            max_retries=50)
        # ONE recovery point over both volume groups.
        [rp_id] = self.objects('recovery_point')
        rp = self.client.recovery_points.get(rp_id)
        self.assertEqual({self.vg_of(v)['extId'] for v in vols},
                         {g['volumeGroupExtId']
                          for g in rp['volumeGroupRecoveryPoints']})
        for v in vols:
            self.write(v, 0, b'overwritten')

        # Group from the group snapshot.
        copy = self.api.post_group_from_src({'create-from-src': {
            'group_snapshot_id': gsnap['id']}})
        copy = self._poll_group_while(copy['id'], ['creating'],
                                      expected_end_status='available',
                                      max_retries=50)
        copies = [v for v in self.api.get_volumes()
                  if v.get('group_id') == copy['id']]
        self.assertEqual(2, len(copies))
        self.assertEqual({b'member-0', b'member-1'},
                         {self.read(v, 0, 8) for v in copies})

        # Delete: group snapshot, then both groups with their volumes.
        self.api.delete_group_snapshot(gsnap['id'])
        self._poll_group_snapshot_while(gsnap['id'], ['deleting'],
                                        max_retries=50)
        self.assertEqual(set(), self.objects('recovery_point'))
        for g in (copy, group):
            self.api.delete_group(g['id'], {'delete': {
                'delete-volumes': True}})
            self._poll_group_while(g['id'], ['deleting'], max_retries=50)
        self.assertEqual(set(), self.objects('volume_group'))

    def test_revert_upload_attach_manage_through_cinder_api(self):
        vol = self.create_volume(size=1)
        self.write(vol, 0, b'version-1')
        snap = self.api.post_snapshot({'snapshot': {'volume_id': vol['id']}})
        snap = self._poll_snapshot_while(snap['id'], ['creating'],
                                         expected_end_status='available')
        self.write(vol, 0, b'version-2')

        # Revert to the latest snapshot (microversion 3.40).
        self.api.api_post('/volumes/%s/action' % vol['id'],
                          {'revert': {'snapshot_id': snap['id']}})
        self.wait_volume(vol['id'])
        self.assertEqual(b'version-1', self.read(vol, 0, 9))

        # Upload to a raw image: registered as a nutanix:// location.
        resp = self.api.api_post('/volumes/%s/action' % vol['id'], {
            'os-volume_upload_image': {'image_name': 'from-volume',
                                       'disk_format': 'raw',
                                       'container_format': 'bare'}})
        image_id = resp['os-volume_upload_image']['image_id']
        self.wait_volume(vol['id'])
        [url] = self.image_service.image_locations[image_id]
        cluster, image_ext_id = locations.parse_location(url)
        self.assertEqual(self.emulator.cluster_ext_id, cluster)
        self.assertEqual(b'version-1', b''.join(
            self.client.images.download(image_ext_id, 0, 9)))
        self.assertEqual(set(), self.objects('vm'))

        # Attach through the attachments API: os-brick iSCSI info plus the
        # volume group for the Nova driver.
        connector = {'initiator': 'iqn.1993-08.org.debian:01:api',
                     'host': 'compute-1', 'ip': '10.0.0.9',
                     'multipath': False, 'platform': 'x86_64',
                     'os_type': 'linux'}
        att = self.api.api_post('/attachments', {'attachment': {
            'volume_uuid': vol['id'], 'instance_uuid': str(uuid.uuid4()),
            'connector': connector}})['attachment']
        info = att['connection_info']
        self.assertEqual('iscsi', info['driver_volume_type'])
        self.assertEqual(self.vg_of(vol)['extId'],
                         info['volume_group_ext_id'])
        self.assertTrue(info['target_iqn'].startswith(
            'iqn.2010-06.com.nutanix:'))
        self.assertEqual(1, len(self.client.volume_groups
                                .list_iscsi_attachments(
                                    self.vg_of(vol)['extId'])))
        # Since bug 2004555 Cinder asks Nova whether the server still uses
        # the attachment; there is no Nova here: the server is gone.
        self.mock_object(nova_api.API, 'get_server_volume',
                         side_effect=nova_api.API.NotFound('gone'))
        self.api.api_delete('/attachments/%s' % att['id'])
        self.wait_volume(vol['id'])
        self.assertEqual([], self.client.volume_groups
                         .list_iscsi_attachments(self.vg_of(vol)['extId']))

        # Manage an existing volume group.
        legacy = self.client.volume_groups.create(
            'legacy', disks=[pvg.volume_disk(GiB,
                                             self.emulator.container_ext_id)],
            cluster_ext_id=self.emulator.cluster_ext_id)
        managed = self.api.post_manage_volume(
            host=vol['os-vol-host-attr:host'],
            ref={'source-id': legacy['extId']})['volume']
        managed = self.wait_volume(managed['id'])
        self.assertEqual(1, managed['size'])
        self.assertEqual('volume-%s' % managed['id'], self.client
                         .volume_groups.get(legacy['extId'])['name'])
