"""volumeops: nutanix volumes attach to the VM as volume groups."""

import os
import tempfile

from nova import exception

from nutanix_openstack.nova import volumeops
from nutanix_openstack.prism import exceptions as prism_exc
from tests.unit.nova import base

CONN = {'driver_volume_type': 'iscsi',
        'data': {'volume_group_ext_id': 'vg-1', 'target_iqn': 'iqn.x'}}


class VolumeOpsTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.ops = volumeops.VolumeOps(self.client)
        self.instance = base.make_instance()
        self.client.volume_groups.list_vm_attachments.return_value = []

    def test_other_volume_types_are_refused_clearly(self):
        for conn in ({'driver_volume_type': 'rbd', 'data': {}},
                     {'driver_volume_type': 'iscsi', 'data': {}},
                     {'driver_volume_type': 'fake'}):
            e = self.assertRaises(exception.VolumeDriverNotFound,
                                  volumeops.volume_group_of, conn)
            self.assertIn('volume_group_ext_id', str(e))

    def assertRaises(self, exc, f, *a):
        with super().assertRaises(exc) as cm:
            f(*a)
        return cm.exception

    def test_attach(self):
        self.ops.attach(CONN, 'vm-1', self.instance)
        self.client.volume_groups.attach_vm.assert_called_once_with(
            'vg-1', 'vm-1')

    def test_attach_twice_is_idempotent(self):
        self.client.volume_groups.list_vm_attachments.return_value = [
            {'extId': 'vm-1'}]
        self.ops.attach(CONN, 'vm-1', self.instance)
        self.client.volume_groups.attach_vm.assert_not_called()

    def test_detach(self):
        self.client.volume_groups.list_vm_attachments.return_value = [
            {'extId': 'vm-1'}]
        self.ops.detach(CONN, 'vm-1', self.instance)
        self.client.volume_groups.detach_vm.assert_called_once_with(
            'vg-1', 'vm-1')

    def test_detach_not_attached_or_gone(self):
        self.ops.detach(CONN, 'vm-1', self.instance)
        self.client.volume_groups.detach_vm.assert_not_called()
        self.client.volume_groups.list_vm_attachments.side_effect = (
            prism_exc.NotFound('no vg'))
        self.ops.detach(CONN, 'vm-1', self.instance)

    def test_volume_size(self):
        self.client.volume_groups.list_disks.return_value = [
            {'diskSizeBytes': 5 * base.GiB}]
        self.assertEqual(5 * base.GiB, self.ops.volume_size(CONN))


class InitiatorTestCase(base.TestCase):

    def test_reads_open_iscsi_name(self):
        with tempfile.NamedTemporaryFile('w', delete=False) as f:
            f.write('## generated\n'
                    'InitiatorName=iqn.1993-08.org.debian:01:ab\n')
        self.assertEqual('iqn.1993-08.org.debian:01:ab',
                         volumeops.host_initiator(f.name))
        os.unlink(f.name)

    def test_no_open_iscsi(self):
        self.assertIsNone(volumeops.host_initiator('/nonexistent/initiator'))
