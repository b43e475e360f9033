"""Functional tests of the emulator's volume group API over loopback."""

import uuid

from tests.functional.emulator import test_vms_base as base
from tests.functional.emulator.test_vms_base import DP
from tests.functional.emulator.test_vms_base import MiB
from tests.functional.emulator.test_vms_base import VMM
from tests.functional.emulator.test_vms_base import VOLUMES

VGS = VOLUMES + '/volume-groups'
INITIATOR = 'iqn.1993-08.org.debian:01:compute-1'


class TestVolumeGroupCrud(base.ApiTestCase):

    def test_create_get_list_update_delete(self):
        vg = self.create_vg(name='volume-1', description='d',
                            sharingStatus='NOT_SHARED',
                            targetPrefix='cinder',
                            disks=[{'diskSizeBytes': 2 * MiB}])
        group, etag = self.get('%s/%s' % (VGS, vg))
        self.assertEqual('volumes.v4.config.VolumeGroup',
                         group['$objectType'])
        self.assertEqual(('volume-1', 'd', 'NOT_SHARED'),
                         (group['name'], group['description'],
                          group['sharingStatus']))
        self.assertEqual('cinder-%s' % vg, group['targetName'])
        self.assertEqual(self.emu.cluster_ext_id, group['clusterReference'])
        self.assertFalse([k for k in group if k.startswith('_')])
        self.create_vg(name='other')
        self.assertEqual(['volume-1'], [g['name'] for g in self.list(
            VGS, **{'$filter': "name eq 'volume-1'"})])
        group['name'] = 'volume-1-renamed'
        self.assert_error(self.call('PUT', '%s/%s' % (VGS, vg), group), 428)
        self.assert_error(self.call('PUT', '%s/%s' % (VGS, vg), group,
                                    headers={'If-Match': 'x'}), 412)
        self.run_ok('PUT', '%s/%s' % (VGS, vg), group,
                    headers={'If-Match': etag})
        self.assertEqual('volume-1-renamed',
                         self.get('%s/%s' % (VGS, vg))[0]['name'])
        disk_id = self.vg_disks(vg)[0]['extId']
        self.assertTrue(self.disk_exists(disk_id))
        self.run_ok('DELETE', '%s/%s' % (VGS, vg))
        self.assertFalse(self.disk_exists(disk_id))
        self.assert_error(self.call('GET', '%s/%s' % (VGS, vg)), 404)
        self.assert_error(self.call('DELETE', '%s/%s' % (VGS, vg)), 404)

    def test_bad_bodies(self):
        self.assert_error(self.call('POST', VGS, {'description': 'x'}), 400)
        self.assert_error(self.call('POST', VGS, {
            'name': 'v', 'sharingStatus': 'SOMETIMES'}), 400)
        self.assert_error(self.call('POST', VGS, {
            'name': 'v', 'iscsiFeatures': {
                'enabledAuthentications': 'CHAP', 'targetSecret': 'short'}}),
            400)
        self.assert_error(self.call('POST', VGS, {
            'name': 'v', 'disks': [{'diskDataSourceReference': {
                'extId': str(uuid.uuid4()), 'entityType': 'IMAGE'}}]}), 404)
        self.assert_error(self.call('POST', VGS, {
            'name': 'v', 'clusterReference': str(uuid.uuid4())}), 404)
        self.assertEqual([], self.list(VGS))

    def test_chap_secret_is_write_only(self):
        vg = self.create_vg(iscsiFeatures={
            'enabledAuthentications': 'CHAP',
            'targetSecret': 'target-secret1'})
        resp = self.call('GET', '%s/%s' % (VGS, vg))
        self.assertNotIn('target-secret1', resp.text)
        self.assertEqual('CHAP', resp.json()['data']['iscsiFeatures'][
            'enabledAuthentications'])

    def test_metadata(self):
        vg = self.create_vg()
        meta, _ = self.get('%s/%s/metadata' % (VGS, vg))
        self.assertEqual('volumes.v4.config.VolumeGroupMetadata',
                         meta['$objectType'])


class TestVolumeDisks(base.ApiTestCase):

    def test_disk_sources_are_cow_clones(self):
        image = self.make_image(b'image-bytes' + b'\0' * (MiB - 11))
        vm_id = self.create_vm(disks=[base.vm_disk(size=MiB)])
        vm_disk = self.vm_disks(vm_id)[0]['extId']
        self.emu.admin.write_disk(vm_disk, 0, b'vm-disk-bytes')
        vg = self.create_vg()
        path = '%s/%s/disks' % (VGS, vg)
        self.run_ok('POST', path, {'diskSizeBytes': 4 * MiB})
        self.run_ok('POST', path, {'diskSizeBytes': 2 * MiB,
                                   'diskDataSourceReference': {
                                       'extId': image, 'entityType': 'IMAGE'}})
        self.run_ok('POST', path, {'diskDataSourceReference': {
            'extId': vm_disk, 'entityType': 'VM_DISK'}})
        disks = self.vg_disks(vg)
        self.assertEqual([0, 1, 2], [d['index'] for d in disks])
        self.assertEqual([4 * MiB, 2 * MiB, MiB],
                         [d['diskSizeBytes'] for d in disks])
        self.assertEqual(b'\0' * 16,
                         self.emu.admin.read_disk(disks[0]['extId'], 0, 16))
        self.assertEqual(b'image-bytes',
                         self.emu.admin.read_disk(disks[1]['extId'], 0, 11))
        self.assertEqual(b'vm-disk-bytes',
                         self.emu.admin.read_disk(disks[2]['extId'], 0, 13))
        self.assertEqual('IMAGE', disks[1]['diskDataSourceReference'][
            'entityType'])
        # A volume disk from another volume disk; writes stay separate.
        task = self.run_ok('POST', path, {'diskDataSourceReference': {
            'extId': disks[2]['extId'], 'entityType': 'VOLUME_DISK'}})
        clone = self.created(task, 'volumes:config:volume-group:disk')[0]
        self.emu.admin.write_disk(clone, 0, b'CLONE')
        self.assertEqual(b'vm-di',
                         self.emu.admin.read_disk(disks[2]['extId'], 0, 5))
        self.assertEqual(b'vm-di', self.emu.admin.read_disk(vm_disk, 0, 5))
        self.assert_error(self.call('POST', path, {
            'diskSizeBytes': MiB // 2, 'diskDataSourceReference': {
                'extId': image, 'entityType': 'IMAGE'}}), 400)
        self.assert_error(self.call('POST', path, {'diskSizeBytes': MiB,
                                                   'index': 0}), 400)
        self.assert_error(self.call('POST', path, {}), 400)

    def test_resize_and_delete(self):
        vg = self.create_vg(disks=[{'diskSizeBytes': MiB}])
        disk_id = self.vg_disks(vg)[0]['extId']
        path = '%s/%s/disks/%s' % (VGS, vg, disk_id)
        disk, etag = self.get(path)
        disk['diskSizeBytes'] = 3 * MiB
        self.assert_error(self.call('PUT', path, disk), 428)
        self.run_ok('PUT', path, disk, headers={'If-Match': etag})
        disk, etag = self.get(path)
        self.assertEqual(3 * MiB, disk['diskSizeBytes'])
        self.assertEqual(3 * MiB, self.emu.admin.disk_info(disk_id)['size'])
        disk['diskSizeBytes'] = MiB
        self.assert_error(self.call('PUT', path, disk,
                                    headers={'If-Match': etag}), 400)
        self.run_ok('DELETE', path)
        self.assertFalse(self.disk_exists(disk_id))
        self.assertEqual([], self.vg_disks(vg))
        self.assert_error(self.call('GET', path), 404)


class TestAttachments(base.ApiTestCase):

    def test_attach_and_detach_vm(self):
        vg = self.create_vg(disks=[{'diskSizeBytes': MiB}])
        vm_id = self.create_vm()
        self.run_ok('POST', '%s/%s/$actions/attach-vm' % (VGS, vg),
                    {'extId': vm_id, 'index': 1})
        self.assertEqual([vm_id], [a['extId'] for a in self.list(
            '%s/%s/vm-attachments' % (VGS, vg))])
        vm, _ = self.get('%s/vms/%s' % (VMM, vm_id))
        self.assertEqual([(vg, 1)], [
            (d['backingInfo']['volumeGroupExtId'], d['diskAddress']['index'])
            for d in vm['disks']])
        self.assertEqual('DIRECT', self.get('%s/%s' % (VGS, vg))[0][
            'attachmentType'])
        self.assert_error(self.call('POST', '%s/%s/$actions/attach-vm'
                                    % (VGS, vg), {'extId': vm_id}), 409)
        self.assert_error(self.call('POST', '%s/%s/$actions/attach-vm' % (
            VGS, vg), {'extId': str(uuid.uuid4())}), 404)
        # In use: the real API refuses to delete it.
        self.assert_error(self.call('DELETE', '%s/%s' % (VGS, vg)), 409,
                          'VOL-40901')
        # A stale If-Match is refused; a fresh one (or none) is accepted.
        self.assert_error(self.call(
            'POST', '%s/%s/$actions/detach-vm' % (VGS, vg), {'extId': vm_id},
            headers={'If-Match': 'stale'}), 412)
        _, etag = self.get('%s/%s' % (VGS, vg))
        self.run_ok('POST', '%s/%s/$actions/detach-vm' % (VGS, vg),
                    {'extId': vm_id}, headers={'If-Match': etag})
        self.assertEqual([], self.get('%s/vms/%s' % (VMM, vm_id))[0]['disks'])
        self.assert_error(self.call('POST', '%s/%s/$actions/detach-vm'
                                    % (VGS, vg), {'extId': vm_id}), 404)
        self.run_ok('DELETE', '%s/%s' % (VGS, vg))

    def test_not_shared_group_attaches_once(self):
        vg = self.create_vg(sharingStatus='NOT_SHARED')
        vm1, vm2 = self.create_vm('a'), self.create_vm('b')
        self.run_ok('POST', '%s/%s/$actions/attach-vm' % (VGS, vg),
                    {'extId': vm1})
        self.assert_error(self.call('POST', '%s/%s/$actions/attach-vm'
                                    % (VGS, vg), {'extId': vm2}), 409)

    def test_iscsi_clients(self):
        vg1 = self.create_vg('one', disks=[{'diskSizeBytes': MiB},
                                           {'diskSizeBytes': MiB}])
        vg2 = self.create_vg('two')
        task = self.run_ok('POST', '%s/%s/$actions/attach-iscsi-client'
                           % (VGS, vg1), {'iscsiInitiatorName': INITIATOR})
        client_id = self.created(task, 'volumes:config:iscsi-client')[0]
        # The same initiator reuses its client entity.
        task = self.run_ok('POST', '%s/%s/$actions/attach-iscsi-client'
                           % (VGS, vg2), {'iscsiInitiatorName': INITIATOR})
        self.assertEqual([client_id],
                         self.created(task, 'volumes:config:iscsi-client'))
        clients = self.list(VOLUMES + '/iscsi-clients')
        self.assertEqual([client_id], [c['extId'] for c in clients])
        client, etag = self.get('%s/iscsi-clients/%s' % (VOLUMES, client_id))
        self.assertEqual(INITIATOR, client['iscsiInitiatorName'])
        self.assertEqual(
            ['iqn.2010-06.com.nutanix:one-%s' % vg1,
             'iqn.2010-06.com.nutanix:two-%s' % vg2],
            [t['iscsiTargetName'] for t in client['attachedTargets']])
        self.assertEqual([client_id], [a['extId'] for a in self.list(
            '%s/%s/external-iscsi-attachments' % (VGS, vg1))])
        self.assertEqual('EXTERNAL', self.get('%s/%s' % (VGS, vg1))[0][
            'attachmentType'])
        self.assert_error(self.call(
            'POST', '%s/%s/$actions/attach-iscsi-client' % (VGS, vg1),
            {'iscsiInitiatorName': INITIATOR}), 409)
        self.assert_error(self.call('DELETE', '%s/%s' % (VGS, vg1)), 409)
        # Update with ETag (CHAP secret write-only).
        client['clientSecret'] = 'client-secret1'
        client['enabledAuthentications'] = 'CHAP'
        self.assert_error(self.call('PUT', '%s/iscsi-clients/%s' % (
            VOLUMES, client_id), client), 428)
        self.run_ok('PUT', '%s/iscsi-clients/%s' % (VOLUMES, client_id),
                    client, headers={'If-Match': etag})
        resp = self.call('GET', '%s/iscsi-clients/%s' % (VOLUMES, client_id))
        self.assertEqual('CHAP', resp.json()['data']['enabledAuthentications'])
        self.assertNotIn('client-secret1', resp.text)
        # Detach by the client's extId (the SDK's IscsiClientAttachment).
        self.run_ok('POST', '%s/%s/$actions/detach-iscsi-client' % (VGS, vg1),
                    {'extId': client_id})
        self.assertEqual([], self.list(
            '%s/%s/external-iscsi-attachments' % (VGS, vg1)))
        client, _ = self.get('%s/iscsi-clients/%s' % (VOLUMES, client_id))
        self.assertEqual(['iqn.2010-06.com.nutanix:two-%s' % vg2],
                         [t['iscsiTargetName']
                          for t in client['attachedTargets']])
        self.assert_error(self.call(
            'POST', '%s/%s/$actions/detach-iscsi-client' % (VGS, vg1),
            {'extId': client_id}), 404)
        self.assert_error(self.call(
            'GET', '%s/iscsi-clients/%s' % (VOLUMES, uuid.uuid4())), 404)
        self.run_ok('DELETE', '%s/%s' % (VGS, vg1))


class TestRevert(base.ApiTestCase):

    def test_revert_restores_bytes_and_disk_set(self):
        vg = self.create_vg(disks=[{'diskSizeBytes': MiB}])
        disk_id = self.vg_disks(vg)[0]['extId']
        self.emu.admin.write_disk(disk_id, 0, b'AAAA')
        task = self.run_ok('POST', DP + '/recovery-points', {
            'name': 'snap', 'volumeGroupRecoveryPoints': [
                {'volumeGroupExtId': vg}]})
        rp_id = self.created(task, 'dataprotection:config:recovery-point')[0]
        rp, _ = self.get('%s/recovery-points/%s' % (DP, rp_id))
        vgrp = rp['volumeGroupRecoveryPoints'][0]
        self.emu.admin.write_disk(disk_id, 0, b'BBBB')
        self.run_ok('POST', '%s/%s/disks' % (VGS, vg), {'diskSizeBytes': MiB})
        added = [d['extId'] for d in self.vg_disks(vg)
                 if d['extId'] != disk_id][0]
        self.run_ok('POST', '%s/%s/$actions/revert' % (VGS, vg),
                    {'volumeGroupRecoveryPointExtId': vgrp['extId']})
        self.assertEqual(b'AAAA', self.emu.admin.read_disk(disk_id, 0, 4))
        self.assertEqual([disk_id], [d['extId'] for d in self.vg_disks(vg)])
        self.assertFalse(self.disk_exists(added))
        # Writing after the revert does not touch the recovery point.
        self.emu.admin.write_disk(disk_id, 0, b'CCCC')
        drp = vgrp['diskRecoveryPoints'][0]['diskRecoveryPointExtId']
        self.assertEqual(b'AAAA', self.emu.admin.read_disk(drp, 0, 4))
        self.run_ok('POST', '%s/%s/$actions/revert' % (VGS, vg),
                    {'volumeGroupRecoveryPointExtId': vgrp['extId']})
        self.assertEqual(b'AAAA', self.emu.admin.read_disk(disk_id, 0, 4))

    def test_revert_errors(self):
        vg = self.create_vg()
        other = self.create_vg('other')
        task = self.run_ok('POST', DP + '/recovery-points', {
            'volumeGroupRecoveryPoints': [{'volumeGroupExtId': other}]})
        rp, _ = self.get('%s/recovery-points/%s' % (DP, self.created(
            task, 'dataprotection:config:recovery-point')[0]))
        path = '%s/%s/$actions/revert' % (VGS, vg)
        self.assert_error(self.call('POST', path, {
            'volumeGroupRecoveryPointExtId': rp['volumeGroupRecoveryPoints'][
                0]['extId']}), 400)
        self.assert_error(self.call('POST', path, {
            'volumeGroupRecoveryPointExtId': str(uuid.uuid4())}), 404)
        self.assert_error(self.call('POST', path, {}), 400)


class TestAttachmentsAsync(TestAttachments):
    """The same with tasks running in background threads."""

    task_mode = 'async'


class TestRevertAsync(TestRevert):

    task_mode = 'async'
