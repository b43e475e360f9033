"""Unit tests of the volume group JSON shapes and request parsing."""

import testtools

from nutanix_openstack.emulator import compute_shapes
from nutanix_openstack.emulator import volumes_shapes as shapes


class TestVolumeGroupShapes(testtools.TestCase):

    def test_target_name_and_iqn(self):
        vg = shapes.new_vg({'name': 'vol'}, 'uuid-1', 'c')
        self.assertEqual('vol-uuid-1', vg['targetName'])
        self.assertEqual('iqn.2010-06.com.nutanix:vol-uuid-1',
                         shapes.target_iqn(vg))
        vg = shapes.new_vg({'name': 'vol', 'targetPrefix': 'p'}, 'u', 'c')
        self.assertEqual('p-u', vg['targetName'])

    def test_public_hides_private_keys_and_secrets(self):
        vg = shapes.new_vg({'name': 'v', 'iscsiFeatures': {
            'enabledAuthentications': 'CHAP',
            'targetSecret': 'x' * 12}}, 'u', 'c')
        public = shapes.public(vg)
        self.assertFalse([k for k in public if k.startswith('_')])
        self.assertNotIn('x' * 12, repr(public))
        self.assertEqual('x' * 12, vg['_targetSecret'])

    def test_validation(self):
        for body in ({}, {'name': 1}, {'name': 'v', 'sharingStatus': 'X'},
                     {'name': 'v', 'iscsiFeatures': {
                         'enabledAuthentications': 'CHAP'}},
                     {'name': 'v', 'iscsiFeatures': {
                         'enabledAuthentications': 'CHAP',
                         'targetSecret': 'short'}},
                     {'name': 'v', 'disks': 'no'}):
            self.assertRaises(compute_shapes.BadRequest, shapes.new_vg,
                              body, 'u', 'c')

    def test_update_keeps_stored_chap_secret(self):
        vg = shapes.new_vg({'name': 'v', 'iscsiFeatures': {
            'enabledAuthentications': 'CHAP',
            'targetSecret': 'y' * 12}}, 'u', 'c')
        shapes.apply_update(vg, {'description': 'd', 'iscsiFeatures': {
            'enabledAuthentications': 'CHAP'}})
        self.assertEqual(('d', 'y' * 12),
                         (vg['description'], vg['_targetSecret']))
        plain = shapes.new_vg({'name': 'v'}, 'u', 'c')
        self.assertRaises(compute_shapes.BadRequest, shapes.apply_update,
                          plain, {'iscsiFeatures': {
                              'enabledAuthentications': 'CHAP'}})

    def test_attachment_type(self):
        vg = shapes.new_vg({'name': 'v'}, 'u', 'c')
        shapes.refresh_attachment_type(vg)
        self.assertEqual('NONE', vg['attachmentType'])
        vg['_iscsiAttachments'].append({'extId': 'i'})
        shapes.refresh_attachment_type(vg)
        self.assertEqual(('EXTERNAL', 'ISCSI'),
                         (vg['attachmentType'], vg['protocol']))
        vg['_vmAttachments'].append({'extId': 'vm'})
        shapes.refresh_attachment_type(vg)
        self.assertEqual('DIRECT', vg['attachmentType'])


class TestVolumeDisks(testtools.TestCase):

    def test_parse(self):
        plan = shapes.parse_volume_disk({
            'diskSizeBytes': 5, 'storageContainerId': 'c',
            'diskDataSourceReference': {'extId': 'd',
                                        'entityType': 'VM_DISK'}})
        self.assertEqual((5, 'c', {'kind': 'vm_disk', 'extId': 'd'}),
                         (plan['sizeBytes'], plan['containerExtId'],
                          plan['source']))
        for body in ({}, {'diskSizeBytes': 0}, {'diskSizeBytes': 'x'},
                     {'diskSizeBytes': 1, 'index': -1},
                     {'diskDataSourceReference': {'extId': 'd',
                                                  'entityType': 'VM'}},
                     {'diskDataSourceReference': {'entityType': 'IMAGE'}}):
            self.assertRaises(compute_shapes.BadRequest,
                              shapes.parse_volume_disk, body)

    def test_json_and_indexes(self):
        disk = shapes.volume_disk_json('d', 0, 5, 'c', {
            'kind': 'disk_recovery_point', 'extId': 'r'})
        self.assertEqual('DISK_RECOVERY_POINT',
                         disk['diskDataSourceReference']['entityType'])
        vg = shapes.new_vg({'name': 'v'}, 'u', 'c')
        vg['_disks'] = [disk]
        self.assertEqual(1, shapes.next_disk_index(vg))
        self.assertRaises(compute_shapes.BadRequest, shapes.next_disk_index,
                          vg, 0)
