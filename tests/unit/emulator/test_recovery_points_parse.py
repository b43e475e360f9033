"""Unit tests of recovery point request parsing."""

import testtools

from nutanix_openstack.emulator import compute_shapes
from nutanix_openstack.emulator import errors
from nutanix_openstack.emulator import volumes_recovery as recovery


class FakeState(object):

    def __init__(self, **kinds):
        self.kinds = kinds

    def get(self, kind, ext_id):
        return self.kinds.get(kind, {}).get(ext_id)


class TestParseCreate(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.state = FakeState(vm={'vm1': {}}, volume_group={'vg1': {}})

    def test_valid(self):
        name, rp_type, expiration, vms, vgs = recovery.parse_create(
            self.state, {'name': 'n', 'expirationTime':
                         '2030-01-01T01:02:03+01:00',
                         'vmRecoveryPoints': [{'vmExtId': 'vm1'}],
                         'volumeGroupRecoveryPoints': [
                             {'volumeGroupExtId': 'vg1'}]})
        self.assertEqual(('n', 'CRASH_CONSISTENT', '2030-01-01T00:02:03Z',
                          ['vm1'], ['vg1']),
                         (name, rp_type, expiration, vms, vgs))

    def test_invalid(self):
        for body in ({}, {'vmRecoveryPoints': 'vm1'},
                     {'vmRecoveryPoints': [{}]},
                     {'vmRecoveryPoints': [{'vmExtId': 'vm1'},
                                           {'vmExtId': 'vm1'}]},
                     {'vmRecoveryPoints': [{'vmExtId': 'vm1'}],
                      'recoveryPointType': 'NOPE'},
                     {'vmRecoveryPoints': [{'vmExtId': 'vm1'}],
                      'expirationTime': 'tomorrow'}):
            self.assertRaises(compute_shapes.BadRequest,
                              recovery.parse_create, self.state, body)

    def test_missing_entities(self):
        exc = self.assertRaises(errors.NotFound, recovery.parse_create,
                                self.state,
                                {'vmRecoveryPoints': [{'vmExtId': 'x'}]})
        self.assertEqual('VMM-30100', exc.code)
        self.assertRaises(errors.NotFound, recovery.parse_create, self.state,
                          {'volumeGroupRecoveryPoints': [
                              {'volumeGroupExtId': 'x'}]})


class TestParseRestore(testtools.TestCase):

    RP = {'extId': 'rp', 'vmRecoveryPoints': [{'extId': 'vmrp'}],
          'volumeGroupRecoveryPoints': [{'extId': 'vgrp'}]}

    def test_overrides(self):
        vm_names, vg_names = recovery.parse_restore(self.RP, {
            'vmRecoveryPointRestoreOverrides': [{
                'vmRecoveryPointExtId': 'vmrp',
                'vmOverrideSpec': {'name': 'a'}}],
            'volumeGroupRecoveryPointRestoreOverrides': [{
                'volumeGroupRecoveryPointExtId': 'vgrp',
                'volumeGroupOverrideSpec': {'name': 'b'}}]})
        self.assertEqual(({'vmrp': 'a'}, {'vgrp': 'b'}),
                         (vm_names, vg_names))
        self.assertEqual(({}, {}), recovery.parse_restore(self.RP, {}))

    def test_unknown_member(self):
        self.assertRaises(compute_shapes.BadRequest, recovery.parse_restore,
                          self.RP, {'vmRecoveryPointRestoreOverrides': [{
                              'vmRecoveryPointExtId': 'other',
                              'vmOverrideSpec': {'name': 'a'}}]})
        self.assertRaises(compute_shapes.BadRequest, recovery.parse_restore,
                          self.RP, {'vmRecoveryPointRestoreOverrides': [{}]})
