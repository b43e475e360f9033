"""Unit tests of the VM JSON shapes and request parsing."""

import testtools

from nutanix_openstack.emulator import compute_shapes as shapes

NS = 'vmm.v4.ahv.config.'


class TestDataSources(testtools.TestCase):

    def test_by_object_type(self):
        cases = [
            ({'$objectType': NS + 'ImageReference', 'imageExtId': 'i'},
             'image', 'i'),
            ({'$objectType': NS + 'VmDiskReference', 'diskExtId': 'd'},
             'vm_disk', 'd'),
            ({'$objectType': NS + 'VolumeDiskReference', 'diskExtId': 'v',
              'volumeGroupExtId': 'g'}, 'volume_disk', 'v'),
            ({'$objectType': NS + 'VmDiskRecoveryPointReference',
              'diskRecoveryPointExtId': 'r', 'vmRecoveryPointExtId': 'x'},
             'disk_recovery_point', 'r'),
            ({'$objectType': NS + 'VolumeDiskRecoveryPointReference',
              'diskRecoveryPointExtId': 'r',
              'volumeGroupRecoveryPointExtId': 'y'},
             'disk_recovery_point', 'r'),
        ]
        for ref, kind, ext_id in cases:
            source = shapes.parse_data_source({'reference': ref})
            self.assertEqual((kind, ext_id), (source['kind'],
                                              source['extId']))
            # The same without $objectType (bodies written by hand).
            bare = dict((k, v) for k, v in ref.items() if k[0] != '$')
            source = shapes.parse_data_source({'reference': bare})
            self.assertEqual((kind, ext_id), (source['kind'],
                                              source['extId']))

    def test_vm_disk_by_address(self):
        source = shapes.parse_data_source({'reference': {
            'vmReference': {'extId': 'vm'},
            'diskAddress': {'busType': 'SCSI', 'index': 2}}})
        self.assertEqual(('vm_disk', None, 'vm', 'SCSI', 2),
                         (source['kind'], source['extId'], source['vmExtId'],
                          source['busType'], source['index']))

    def test_refused(self):
        for data_source in (
                {'reference': {'$objectType':
                               NS + 'ExternalDataSourceDiskReference'}},
                {'reference': {'something': 1}},
                {'reference': {'imageExtId': ''}},
                {'noreference': True}):
            self.assertRaises(shapes.BadRequest, shapes.parse_data_source,
                              data_source)
        self.assertIsNone(shapes.parse_data_source(None))


class TestDisks(testtools.TestCase):

    def test_vm_disk_plan(self):
        plan = shapes.parse_disk({
            'diskAddress': {'busType': 'SATA', 'index': 1},
            'backingInfo': {'$objectType': NS + 'VmDisk',
                            'diskSizeBytes': 10,
                            'storageContainer': {'extId': 'c'}}})
        self.assertEqual(('vm_disk', ('SATA', 1), 10, 'c', None),
                         (plan['backing'], plan['address'],
                          plan['sizeBytes'], plan['containerExtId'],
                          plan['source']))

    def test_volume_group_plan(self):
        plan = shapes.parse_disk({'backingInfo': {
            '$objectType': NS + 'ADSFVolumeGroupReference',
            'volumeGroupExtId': 'g'}})
        self.assertEqual(('volume_group', 'g'),
                         (plan['backing'], plan['vgExtId']))

    def test_bad_disks(self):
        for disk in ({}, {'backingInfo': {}},
                     {'backingInfo': {'diskSizeBytes': 0}},
                     {'backingInfo': {'diskSizeBytes': True}},
                     {'diskAddress': {'busType': 'USB'},
                      'backingInfo': {'diskSizeBytes': 1}},
                     {'diskAddress': {'index': -1},
                      'backingInfo': {'diskSizeBytes': 1}},
                     {'backingInfo': {'$objectType': NS + 'Other'}}):
            self.assertRaises(shapes.BadRequest, shapes.parse_disk, disk)

    def test_assign_address(self):
        used = {('SCSI', 0), ('SCSI', 1)}
        self.assertEqual(2, shapes.assign_address(used, 'SCSI', None))
        self.assertEqual(0, shapes.assign_address(used, 'IDE', None))
        self.assertRaises(shapes.BadRequest, shapes.assign_address, used,
                          'SCSI', 1)
        self.assertIn(('SCSI', 2), used)


class TestVm(testtools.TestCase):

    def test_new_vm_defaults(self):
        vm, used = shapes.new_vm({'name': 'x', 'cdRoms': [{}]}, 'id', 'c',
                                 'now')
        self.assertEqual(('OFF', 1, 1, 'c'),
                         (vm['powerState'], vm['numSockets'],
                          vm['numCoresPerSocket'], vm['cluster']['extId']))
        self.assertEqual({('IDE', 0)}, used)
        self.assertEqual(shapes.DEFAULT_BOOT, vm['bootConfig'])

    def test_validation(self):
        for body in ({}, {'name': ''}, {'name': 'x' * 81},
                     {'name': 'x', 'numSockets': 0},
                     {'name': 'x', 'memorySizeBytes': 10},
                     {'name': 'x', 'disks': {}}):
            self.assertRaises(shapes.BadRequest, shapes.new_vm, body, 'id',
                              'c', 'now')

    def test_update_only_changes_updatable_fields(self):
        vm, _ = shapes.new_vm({'name': 'x'}, 'id', 'c', 'now')
        changed = shapes.apply_update(vm, {'name': 'y', 'powerState': 'ON',
                                           'extId': 'other',
                                           'numSockets': 3}, 'later')
        self.assertEqual({'name', 'numSockets'}, set(changed))
        self.assertEqual(('y', 'OFF', 'id', 3),
                         (vm['name'], vm['powerState'], vm['extId'],
                          vm['numSockets']))
        self.assertEqual(3, shapes.vcpus(vm))
