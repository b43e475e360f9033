"""Images, iSCSI exports, groups and manage against the emulator."""

import io
import os
import subprocess
import tempfile
from unittest import mock

from cinder import exception

from nutanix_openstack.prism import locations
from tests.functional.cinder import base

GiB = base.GiB
MiB = base.MiB


class FakeImageService(object):
    """What the driver uses of Cinder's GlanceImageService, in memory."""

    def __init__(self):
        self.images = {}
        self.data = {}
        self.locations = {}
        self.refuse_locations = False
        self.temp_images = None     # Cinder's image_utils caches here

    def add(self, image_id, disk_format='raw', data=None, locations=()):
        self.images[image_id] = {'id': image_id, 'disk_format': disk_format,
                                 'container_format': 'bare',
                                 'size': len(data or b''),
                                 'status': 'active'}
        self.data[image_id] = data
        self.locations[image_id] = list(locations)
        return self.images[image_id]

    def show(self, context, image_id):
        return dict(self.images[image_id])

    def get_location(self, context, image_id):
        return (None, [{'url': u, 'metadata': {}}
                       for u in self.locations[image_id]])

    def download(self, context, image_id, data=None):
        if data is None:
            return iter([self.data[image_id]])
        data.write(self.data[image_id])

    def add_location(self, context, image_id, url, metadata):
        if self.refuse_locations:
            raise exception.Invalid('location refused')
        self.locations[image_id].append(url)
        return self.images[image_id]

    def update(self, context, image_id, meta, data=None, **kw):
        buf = io.BytesIO()
        chunk = data.read(MiB)
        while chunk:
            buf.write(chunk)
            chunk = data.read(MiB)
        self.data[image_id] = buf.getvalue()
        return self.images[image_id]


def qcow2_of(raw):
    with tempfile.TemporaryDirectory() as d:
        src, dst = os.path.join(d, 'r'), os.path.join(d, 'q')
        with open(src, 'wb') as f:
            f.write(raw)
        subprocess.check_call(['qemu-img', 'convert', '-f', 'raw', '-O',
                               'qcow2', src, dst])
        with open(dst, 'rb') as f:
            return f.read()


class _ImageTestBase(base.DriverFunctionalTestCase):

    def setUp(self):
        super(_ImageTestBase, self).setUp()
        self.images = FakeImageService()

    def store_image(self, data, image_type='DISK_IMAGE'):
        """An image as the Nutanix Glance store keeps it."""
        img = self.client.images.create_for_upload(
            'glance-' + base.new_id(), image_type=image_type,
            cluster_ext_id=self.emulator.cluster_ext_id)
        self.client.images.upload(img['extId'], iter([data]),
                                  size=len(data))
        return img['extId']

    def location(self, image_ext_id, cluster=None):
        return locations.make_location(
            cluster or self.emulator.cluster_ext_id, image_ext_id)

    def patch_image_size(self, image_ext_id, size):
        real_get = self.client.images.get

        def get(ext_id):
            info = real_get(ext_id)
            if ext_id == image_ext_id:
                info['sizeBytes'] = size
            return info
        return mock.patch.object(self.client.images, 'get', side_effect=get)


class ImageTest(_ImageTestBase):

    def test_clone_image_raw_is_cow_clone(self):
        raw = base.random_bytes(2 * MiB)
        img = self.store_image(raw)
        glance = self.images.add(base.new_id(), 'raw', raw,
                                 [self.location(img)])
        vol = self.volume(size=1)
        update, cloned = self.driver.clone_image(
            self.ctx, vol, self.images.get_location(self.ctx, glance['id']),
            glance, self.images)
        self.assertTrue(cloned)
        vol.update(update)
        self.assertEqual(raw, self.read(vol, 0, 2 * MiB))
        disk = self.disk_of(vol)
        self.assertEqual(GiB, disk['diskSizeBytes'])
        self.assertEqual(img, disk['diskDataSourceReference']['extId'])
        self.assertEqual({img}, self.objects('image'))
        # Writes to the volume do not touch the image.
        self.write(vol, 0, b'volume-write')
        self.assertEqual(raw[:12], b''.join(
            self.client.images.download(img, 0, 12)))

    def test_clone_image_qcow2_derives_raw_once(self):
        raw = base.random_bytes(MiB) + b'\0' * MiB
        qcow2 = qcow2_of(raw)
        # The Glance store keeps qcow2 bytes as an ISO_IMAGE.
        img = self.store_image(qcow2, image_type='ISO_IMAGE')
        glance = self.images.add(base.new_id(), 'qcow2', qcow2,
                                 [self.location(img)])
        loc = self.images.get_location(self.ctx, glance['id'])
        vols = []
        for _i in range(2):
            vol = self.volume(size=1)
            update, cloned = self.driver.clone_image(self.ctx, vol, loc,
                                                     glance, self.images)
            self.assertTrue(cloned)
            vol.update(update)
            vols.append(vol)
        for vol in vols:
            self.assertEqual(raw, self.read(vol, 0, 2 * MiB))
        # One source image plus ONE derived raw image, reused.
        self.assertEqual(2, len(self.objects('image')))

    def test_clone_image_other_cluster_or_store_falls_back(self):
        img = self.store_image(b'x' * 4096)
        glance = self.images.add(base.new_id(), 'raw', b'x' * 4096,
                                 [self.location(img, cluster=base.new_id()),
                                  'rbd://fsid/pool/img/snap'])
        vol = self.volume()
        before = self.objects('volume_group')
        self.assertEqual((None, False), self.driver.clone_image(
            self.ctx, vol, self.images.get_location(self.ctx, glance['id']),
            glance, self.images))
        self.assertEqual(before, self.objects('volume_group'))

    def test_clone_image_too_big_for_volume(self):
        img = self.store_image(b'y' * (2 * MiB))
        self.client.images.get(img)
        glance = self.images.add(base.new_id(), 'raw', b'y',
                                 [self.location(img)])
        vol = self.volume(size=1)
        with self.patch_image_size(img, 2 * GiB):
            self.assertRaises(exception.ImageUnacceptable,
                              self.driver.clone_image, self.ctx, vol,
                              self.images.get_location(self.ctx,
                                                       glance['id']),
                              glance, self.images)
        self.assertEqual(set(), self.objects('volume_group'))

    def test_copy_image_to_volume_from_any_store(self):
        raw = base.random_bytes(MiB)
        glance = self.images.add(base.new_id(), 'qcow2', qcow2_of(raw))
        vol = self.create_volume(size=1)
        images_before = self.objects('image')
        self.driver.copy_image_to_volume(self.ctx, vol, self.images,
                                         glance['id'])
        self.assertEqual(raw, self.read(vol, 0, MiB))
        self.assertEqual(GiB, self.disk_of(vol)['diskSizeBytes'])
        # The temporary cluster image is gone again.
        self.assertEqual(images_before, self.objects('image'))

    def test_copy_volume_to_image_registers_location(self):
        vol = self.create_volume(size=1)
        data = base.random_bytes(MiB)
        self.write(vol, 0, data)
        glance = self.images.add(base.new_id(), 'raw')
        self.driver.copy_volume_to_image(self.ctx, vol, self.images, glance)
        [url] = self.images.locations[glance['id']]
        cluster, image_ext_id = locations.parse_location(url)
        self.assertEqual(self.emulator.cluster_ext_id, cluster)
        self.assertIsNone(self.images.data[glance['id']])  # no bytes moved
        self.assertEqual(data, b''.join(
            self.client.images.download(image_ext_id, 0, MiB)))
        self.assertEqual(set(), self.objects('vm'))  # VM removed
        # Later writes to the volume do not change the image.
        self.write(vol, 0, b'later')
        self.assertEqual(data[:5], b''.join(
            self.client.images.download(image_ext_id, 0, 5)))

    def test_copy_volume_to_image_streams_when_location_refused(self):
        vol = self.create_volume(size=1)
        data = base.random_bytes(MiB)
        self.write(vol, 0, data)
        self.images.refuse_locations = True
        glance = self.images.add(base.new_id(), 'raw')
        self.driver.copy_volume_to_image(self.ctx, vol, self.images, glance)
        uploaded = self.images.data[glance['id']]
        self.assertEqual(GiB, len(uploaded))
        self.assertEqual(data, uploaded[:MiB])
        self.assertEqual(set(), self.objects('vm'))
        self.assertEqual(set(), self.objects('image'))

    def test_copy_volume_to_image_qcow2_converts(self):
        vol = self.create_volume(size=1)
        self.write(vol, 0, b'qcow2 payload')
        glance = self.images.add(base.new_id(), 'qcow2')
        self.driver.copy_volume_to_image(self.ctx, vol, self.images, glance)
        self.assertEqual(b'QFI\xfb', self.images.data[glance['id']][:4])
        self.assertEqual(set(), self.objects('image'))


class ConnectionTest(base.DriverFunctionalTestCase):

    connector = {'initiator': 'iqn.1993-08.org.debian:01:host1',
                 'host': 'host1', 'ip': '10.0.0.9'}

    def test_initialize_and_terminate(self):
        vol = self.create_volume()
        info = self.driver.initialize_connection(vol, self.connector)
        self.assertEqual('iscsi', info['driver_volume_type'])
        data = info['data']
        cluster = self.client.clusters.get_cluster(
            self.emulator.cluster_ext_id)
        ip = cluster['network']['externalDataServiceIp']['ipv4']['value']
        self.assertEqual('%s:3260' % ip, data['target_portal'])
        vg = self.client.volume_groups.get(vol.provider_id)
        self.assertEqual('iqn.2010-06.com.nutanix:%s' % vg['targetName'],
                         data['target_iqn'])
        self.assertEqual(0, data['target_lun'])
        self.assertEqual(vol.provider_id, data['volume_group_ext_id'])
        iscsi = self.client.volume_groups.find_iscsi_client(
            self.connector['initiator'])
        self.assertIn(data['target_iqn'], [
            t['iscsiTargetName'] for t in iscsi['attachedTargets']])
        # Idempotent: a second call does not attach twice.
        self.driver.initialize_connection(vol, self.connector)
        self.assertEqual(1, len(self.client.volume_groups
                                .list_iscsi_attachments(vol.provider_id)))
        self.driver.terminate_connection(vol, self.connector)
        self.assertEqual([], self.client.volume_groups
                         .list_iscsi_attachments(vol.provider_id))
        # And again: nothing attached is fine.
        self.driver.terminate_connection(vol, self.connector)

    def test_multiattach_two_hosts_and_force_detach(self):
        vol = self.create_volume(multiattach=True)
        other = dict(self.connector, initiator='iqn.host2', host='host2')
        self.driver.initialize_connection(vol, self.connector)
        self.driver.initialize_connection(vol, other)
        self.assertEqual(2, len(self.client.volume_groups
                                .list_iscsi_attachments(vol.provider_id)))
        self.driver.terminate_connection(vol, None)     # force detach
        self.assertEqual([], self.client.volume_groups
                         .list_iscsi_attachments(vol.provider_id))

    def test_vm_on_this_cluster_is_not_exported_over_iscsi(self):
        vol = self.create_volume()
        connector = dict(self.connector,
                         nutanix_cluster_ext_id=self.emulator.cluster_ext_id)
        info = self.driver.initialize_connection(vol, connector)
        self.assertEqual(vol.provider_id, info['data']['volume_group_ext_id'])
        self.assertEqual([], self.client.volume_groups
                         .list_iscsi_attachments(vol.provider_id))
        self.driver.terminate_connection(vol, connector)

    def test_missing_initiator(self):
        vol = self.create_volume()
        self.assertRaises(exception.InvalidConnectorException,
                          self.driver.initialize_connection, vol,
                          {'host': 'h'})

    def test_delete_with_stale_export(self):
        vol = self.create_volume()
        self.driver.initialize_connection(vol, self.connector)
        self.driver.delete_volume(vol)
        self.assertEqual(set(), self.objects('volume_group'))


class GroupTest(base.DriverFunctionalTestCase):

    def test_group_snapshot_is_one_recovery_point(self):
        vols = [self.create_volume() for _i in range(3)]
        for i, vol in enumerate(vols):
            self.write(vol, 0, b'member-%d' % i)
        gsnap = type('GS', (), {'id': base.new_id()})()
        snaps = [self.snapshot(v, group_snapshot_id=gsnap.id) for v in vols]
        model, updates = self.driver.create_group_snapshot(self.ctx, gsnap,
                                                           snaps)
        self.assertEqual('available', model['status'])
        rp_ids = {u['provider_id'] for u in updates}
        self.assertEqual(1, len(rp_ids))
        self.assertEqual(rp_ids, self.objects('recovery_point'))
        rp = self.client.recovery_points.get(rp_ids.pop())
        self.assertEqual({v.provider_id for v in vols},
                         {g['volumeGroupExtId']
                          for g in rp['volumeGroupRecoveryPoints']})
        for vol in vols:
            self.write(vol, 0, b'overwritten')

        # Group from the group snapshot: each member restored.
        for snap, update in zip(snaps, updates):
            snap.provider_id = update['provider_id']
        new_vols = [self.volume(snapshot_id=s.id) for s in snaps]
        model, vol_updates = self.driver.create_group_from_src(
            self.ctx, object(), new_vols, group_snapshot=gsnap,
            snapshots=snaps)
        for i, (vol, update) in enumerate(zip(new_vols, vol_updates)):
            vol.provider_id = update['provider_id']
            self.assertEqual(b'member-%d' % i, self.read(vol, 0, 8))

        self.driver.delete_group_snapshot(self.ctx, gsnap, snaps)
        self.assertEqual(set(), self.objects('recovery_point'))


class ManageTest(base.DriverFunctionalTestCase):

    def test_manage_and_unmanage_volume(self):
        from nutanix_openstack.prism import volume_groups as pvg
        vg = self.client.volume_groups.create(
            'legacy-data', disks=[pvg.volume_disk(
                GiB + 1, self.emulator.container_ext_id)],
            cluster_ext_id=self.emulator.cluster_ext_id)
        listing = self.driver.get_manageable_volumes([], None, 10, 0,
                                                     ['size'], ['asc'])
        self.assertEqual([vg['extId']],
                         [e['reference']['source-id'] for e in listing])
        self.assertTrue(listing[0]['safe_to_manage'])
        ref = {'source-name': 'legacy-data'}
        vol = self.volume(size=2)
        self.assertEqual(2, self.driver.manage_existing_get_size(vol, ref))
        vol.update(self.driver.manage_existing(vol, ref))
        self.assertEqual(vg['extId'], vol.provider_id)
        self.assertEqual(vol.name,
                         self.client.volume_groups.get(vg['extId'])['name'])
        self.assertEqual(2 * GiB, self.disk_of(vol)['diskSizeBytes'])
        listing = self.driver.get_manageable_volumes([vol], None, 10, 0,
                                                     ['size'], ['asc'])
        self.assertFalse(listing[0]['safe_to_manage'])
        self.driver.unmanage(vol)
        self.assertIn(vg['extId'], self.objects('volume_group'))

    def test_manage_bad_reference(self):
        vol = self.volume()
        self.assertRaises(exception.ManageExistingInvalidReference,
                          self.driver.manage_existing, vol,
                          {'source-name': 'nope'})
        self.assertRaises(exception.ManageExistingInvalidReference,
                          self.driver.manage_existing, vol, {})

    def test_manage_snapshot(self):
        vol = self.create_volume()
        rp = self.client.recovery_points.create(
            'backup-rp', volume_group_ext_ids=[vol.provider_id])
        listing = self.driver.get_manageable_snapshots([], None, 10, 0,
                                                       ['size'], ['asc'])
        self.assertEqual([rp['extId']],
                         [e['reference']['source-id'] for e in listing])
        snap = self.snapshot(vol)
        ref = {'source-id': rp['extId']}
        self.assertEqual(1, self.driver.manage_existing_snapshot_get_size(
            snap, ref))
        snap.update(self.driver.manage_existing_snapshot(snap, ref))
        restored = self.volume()
        restored.update(self.driver.create_volume_from_snapshot(restored,
                                                                snap))
        self.assertEqual(GiB, self.disk_of(restored)['diskSizeBytes'])


class ChapConnectionTest(base.DriverFunctionalTestCase):

    def test_chap_credentials_in_connection_info(self):
        self.configure(use_chap_auth=True, chap_username='cinder-user',
                       chap_password='s3cret-chap-pw')
        vol = self.create_volume()
        info = self.driver.initialize_connection(
            vol, {'initiator': 'iqn.chap-host', 'host': 'h'})
        data = info['data']
        self.assertEqual('CHAP', data['auth_method'])
        self.assertEqual('cinder-user', data['auth_username'])
        self.assertEqual('s3cret-chap-pw', data['auth_password'])
        iscsi = self.client.volume_groups.find_iscsi_client('iqn.chap-host')
        self.assertEqual('CHAP', iscsi['enabledAuthentications'])
        # The secret is not readable back through the API.
        self.assertNotIn('s3cret-chap-pw', str(iscsi))

    def test_chap_without_password_is_a_config_error(self):
        self.configure(use_chap_auth=True, chap_username='u',
                       chap_password='')
        vol = self.create_volume()
        self.assertRaises(exception.InvalidConfigurationValue,
                          self.driver.initialize_connection, vol,
                          {'initiator': 'iqn.x', 'host': 'h'})
        self.assertEqual([], self.client.volume_groups
                         .list_iscsi_attachments(vol.provider_id))


class ImageFailureTest(_ImageTestBase):
    """Failures in the image paths leave nothing behind on the cluster."""

    def test_upload_image_creation_fails_leaves_no_vm_or_image(self):
        vol = self.create_volume(size=1)
        glance = self.images.add(base.new_id(), 'raw')
        self.admin.add_fault(method='POST', path='content/images$',
                             fail_task='image service down', times=1)
        self.assertRaises(exception.VolumeBackendAPIException,
                          self.driver.copy_volume_to_image, self.ctx, vol,
                          self.images, glance)
        self.assertEqual(set(), self.objects('vm'))
        self.assertEqual(set(), self.objects('image'))
        self.assertEqual({vol.provider_id}, self.objects('volume_group'))

    def test_upload_stream_failure_removes_cluster_image(self):
        vol = self.create_volume(size=1)
        self.images.refuse_locations = True
        glance = self.images.add(base.new_id(), 'raw')
        self.admin.add_fault(method='GET', path='/file$', status=500)
        self.assertRaises(exception.VolumeBackendAPIException,
                          self.driver.copy_volume_to_image, self.ctx, vol,
                          self.images, glance)
        self.admin.clear_faults()
        self.assertEqual(set(), self.objects('vm'))
        self.assertEqual(set(), self.objects('image'))

    def test_copy_image_to_volume_failure_keeps_volume_and_no_temp(self):
        raw = base.random_bytes(MiB)
        glance = self.images.add(base.new_id(), 'raw', raw)
        vol = self.create_volume(size=1)
        self.write(vol, 0, b'original')
        self.admin.add_fault(method='POST', path='/disks$',
                             fail_task='no space', times=1)
        self.assertRaises(exception.VolumeBackendAPIException,
                          self.driver.copy_image_to_volume, self.ctx, vol,
                          self.images, glance['id'])
        self.assertEqual(set(), self.objects('image'))
        # The volume still has its one original disk.
        self.assertEqual(b'original', self.read(vol, 0, 8))

    def test_clone_image_failure_leaves_no_volume_group(self):
        img = self.store_image(b'z' * 4096)
        glance = self.images.add(base.new_id(), 'raw', b'z',
                                 [self.location(img)])
        # The group and its disk are made by one task.
        self.admin.add_fault(method='POST', path='/volume-groups$',
                             fail_task='no space', times=1)
        self.assertRaises(exception.VolumeBackendAPIException,
                          self.driver.clone_image, self.ctx, self.volume(),
                          self.images.get_location(self.ctx, glance['id']),
                          glance, self.images)
        self.assertEqual(set(), self.objects('volume_group'))
        self.assertEqual({img}, self.objects('image'))


class AsyncTaskTest(base.DriverFunctionalTestCase):
    """Tasks that run in the background: the driver waits for them."""

    task_mode = 'async'

    def test_clone_snapshot_restore_with_async_tasks(self):
        src = self.create_volume(size=1)
        self.write(src, 0, b'async-data')
        snap = self.create_snapshot(src)
        restored = self.volume(size=2)
        restored.update(self.driver.create_volume_from_snapshot(restored,
                                                                snap))
        clone = self.volume(size=1)
        clone.update(self.driver.create_cloned_volume(clone, src))
        self.assertEqual(b'async-data', self.read(restored, 0, 10))
        self.assertEqual(b'async-data', self.read(clone, 0, 10))
        self.assertEqual(2 * GiB, self.disk_of(restored)['diskSizeBytes'])
