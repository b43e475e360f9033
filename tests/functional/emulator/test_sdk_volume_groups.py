"""SDK conformance: ntnx_volumes_py_client's VolumeGroupsApi and
IscsiClientsApi against the emulator (strict parse of every answer).
"""

import ntnx_volumes_py_client as volumes
from ntnx_volumes_py_client import rest as volumes_rest

from tests.functional.emulator import test_vms_base as base
from tests.functional.emulator.test_vms_base import DP
from tests.functional.emulator.test_vms_base import MiB

REL_VG = 'volumes:config:volume-group'
REL_DISK = 'volumes:config:volume-group:disk'
REL_CLIENT = 'volumes:config:iscsi-client'
INITIATOR = 'iqn.1994-05.com.redhat:sdk-client'


class TestSdkVolumeGroupsApi(base.SdkTestCase):

    def setUp(self):
        super().setUp()
        self.client = self.sdk(volumes)
        self.api = volumes.VolumeGroupsApi(api_client=self.client)
        self.clients_api = volumes.IscsiClientsApi(api_client=self.client)

    def _create(self, name='sdk-vg', **kwargs):
        body = volumes.VolumeGroup(name=name, **kwargs)
        task = self.sdk_wait(self.api.create_volume_group(body))
        return self.sdk_created(task, REL_VG)[0]

    def test_group_crud_and_metadata(self):
        vg = self._create(description='from the SDK',
                          sharing_status='SHARED', target_prefix='sdk',
                          iscsi_features=volumes.IscsiFeatures(
                              enabled_authentications='CHAP',
                              target_secret='target-secret1'))
        resp = self.api.get_volume_group_by_id(vg)
        self.assertEqual('GetVolumeGroupApiResponse', type(resp).__name__)
        group = resp.data
        self.assert_parsed(group, 'VolumeGroup')
        self.assertEqual('sdk-%s' % vg, group.target_name)
        self.assertEqual('CHAP', group.iscsi_features.enabled_authentications)
        self.assertIsNone(group.iscsi_features.target_secret)
        listed = self.api.list_volume_groups(_filter="name eq 'sdk-vg'")
        self.assertEqual([vg], [g.ext_id for g in listed.data])
        for item in listed.data:
            self.assert_parsed(item, 'VolumeGroup')
        group.description = 'changed'
        self.sdk_wait(self.api.update_volume_group_by_id(
            vg, group, if_match=self.client.get_etag(resp)))
        self.assertEqual('changed', self.api.get_volume_group_by_id(
            vg).data.description)
        meta = self.api.get_volume_group_metadata_by_id(vg).data
        self.assert_parsed(meta, 'VolumeGroupMetadata')
        self.sdk_wait(self.api.delete_volume_group_by_id(vg))
        try:
            self.api.get_volume_group_by_id(vg)
        except volumes_rest.ApiException as exc:
            self.assertEqual(404, exc.status)
        else:
            self.fail('deleted group still found')

    def test_disks(self):
        vg = self._create()
        task = self.sdk_wait(self.api.create_volume_disk(
            vg, volumes.VolumeDisk(disk_size_bytes=MiB)))
        first = self.sdk_created(task, REL_DISK)[0]
        self.emu.admin.write_disk(first, 0, b'sdk-bytes')
        task = self.sdk_wait(self.api.create_volume_disk(
            vg, volumes.VolumeDisk(
                disk_size_bytes=2 * MiB,
                disk_data_source_reference=volumes.EntityReference(
                    ext_id=first, entity_type='VOLUME_DISK'))))
        second = self.sdk_created(task, REL_DISK)[0]
        self.assertEqual(b'sdk-bytes',
                         self.emu.admin.read_disk(second, 0, 9))
        listed = self.api.list_volume_disks_by_volume_group_id(vg)
        self.assertEqual('ListVolumeDisksApiResponse', type(listed).__name__)
        self.assertEqual([first, second], [d.ext_id for d in listed.data])
        for item in listed.data:
            self.assert_parsed(item, 'VolumeDisk')
        resp = self.api.get_volume_disk_by_id(vg, second)
        disk = resp.data
        self.assert_parsed(disk, 'VolumeDisk')
        self.assertEqual('VOLUME_DISK',
                         disk.disk_data_source_reference.entity_type)
        disk.disk_size_bytes = 4 * MiB
        self.sdk_wait(self.api.update_volume_disk_by_id(
            vg, second, disk, if_match=self.client.get_etag(resp)))
        self.assertEqual(4 * MiB, self.api.get_volume_disk_by_id(
            vg, second).data.disk_size_bytes)
        self.sdk_wait(self.api.delete_volume_disk_by_id(vg, second))
        self.assertEqual([first], [
            d.ext_id for d in
            self.api.list_volume_disks_by_volume_group_id(vg).data])

    def test_vm_and_iscsi_attachments_and_revert(self):
        vg = self._create(disks=[volumes.VolumeDisk(disk_size_bytes=MiB)])
        disk_id = self.vg_disks(vg)[0]['extId']
        vm_id = self.create_vm()
        self.sdk_wait(self.api.attach_vm(vg, volumes.VmAttachment(
            ext_id=vm_id, index=2)))
        attachments = self.api.list_vm_attachments_by_volume_group_id(vg)
        self.assertEqual('ListVmAttachmentsApiResponse',
                         type(attachments).__name__)
        for item in attachments.data:
            self.assert_parsed(item, 'VmAttachment')
        self.assertEqual([(vm_id, 2)], [(a.ext_id, a.index)
                                        for a in attachments.data])
        self.sdk_wait(self.api.detach_vm(vg, volumes.VmAttachment(
            ext_id=vm_id)))
        self.assertIsNone(
            self.api.list_vm_attachments_by_volume_group_id(vg).data)

        task = self.sdk_wait(self.api.attach_iscsi_client(
            vg, volumes.IscsiClient(iscsi_initiator_name=INITIATOR)))
        client_id = self.sdk_created(task, REL_CLIENT)[0]
        external = self.api.list_external_iscsi_attachments_by_volume_group_id(
            vg)
        for item in external.data:
            self.assert_parsed(item, 'IscsiClientAttachment')
        self.assertEqual([client_id], [a.ext_id for a in external.data])
        resp = self.clients_api.get_iscsi_client_by_id(client_id)
        self.assertEqual('GetIscsiClientApiResponse', type(resp).__name__)
        client = resp.data
        self.assert_parsed(client, 'IscsiClient')
        self.assertEqual(['iqn.2010-06.com.nutanix:sdk-vg-%s' % vg],
                         [t.iscsi_target_name
                          for t in client.attached_targets])
        listed = self.clients_api.list_iscsi_clients()
        for item in listed.data:
            self.assert_parsed(item, 'IscsiClient')
        client.client_secret = 'client-secret1'
        self.sdk_wait(self.clients_api.update_iscsi_client_by_id(
            client_id, client, if_match=self.client.get_etag(resp)))
        self.sdk_wait(self.api.detach_iscsi_client(
            vg, volumes.IscsiClientAttachment(ext_id=client_id)))
        self.assertIsNone(
            self.api.list_external_iscsi_attachments_by_volume_group_id(
                vg).data)

        self.emu.admin.write_disk(disk_id, 0, b'one')
        task = self.run_ok('POST', DP + '/recovery-points', {
            'volumeGroupRecoveryPoints': [{'volumeGroupExtId': vg}]})
        rp, _ = self.get('%s/recovery-points/%s' % (DP, self.created(
            task, 'dataprotection:config:recovery-point')[0]))
        self.emu.admin.write_disk(disk_id, 0, b'two')
        self.sdk_wait(self.api.revert_volume_group(vg, volumes.RevertSpec(
            volume_group_recovery_point_ext_id=rp[
                'volumeGroupRecoveryPoints'][0]['extId'])))
        self.assertEqual(b'one', self.emu.admin.read_disk(disk_id, 0, 3))
