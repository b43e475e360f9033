"""rescueops: boot from a clone of the rescue image, then back."""

from unittest import mock

from nova import exception
from nova import objects

from nutanix_openstack.nova import rescueops
from nutanix_openstack.prism import exceptions as prism_exc
from tests.unit.nova import base

RESCUE_IMAGE = '0f6d9e1c-5f6b-4d43-9a51-6a3f0b1e2c22'


class RescueOpsTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.instance = base.make_instance()
        self.vm = base.vm_dict(self.instance)
        self.vmops = mock.Mock()
        self.vmops.get_vm.return_value = self.vm
        self.images = mock.Mock()
        self.images.image_for_boot.return_value = ('img-r', 'DISK_IMAGE')
        self.client.vms.add_disk.return_value = {'extId': 'rescue-disk'}
        self.ops = rescueops.RescueOps(self.client, base.CONTAINER,
                                       self.images, self.vmops)
        self.meta = objects.ImageMeta.from_dict({'id': RESCUE_IMAGE,
                                                 'disk_format': 'raw'})

    def test_rescue(self):
        self.ops.rescue('ctx', self.instance, self.meta, None)
        self.client.vms.power_off.assert_called_once_with('vm-1')
        vm_id, spec = self.client.vms.add_disk.call_args[0]
        self.assertEqual(('SATA', 0), (spec['diskAddress']['busType'],
                                       spec['diskAddress']['index']))
        self.assertEqual('img-r', spec['backingInfo']['dataSource']
                         ['reference']['imageExtId'])
        boot = self.client.vms.update.call_args.kwargs['bootConfig']
        self.assertEqual('SATA',
                         boot['bootDevice']['diskAddress']['busType'])
        self.client.vms.power_on.assert_called_once_with('vm-1')

    def test_failed_rescue_removes_the_rescue_disk(self):
        self.client.vms.power_on.side_effect = prism_exc.TaskFailed('x')
        self.assertRaises(prism_exc.TaskFailed, self.ops.rescue, 'ctx',
                          self.instance, self.meta, None)
        self.client.vms.delete_disk.assert_called_once_with('vm-1',
                                                            'rescue-disk')

    def test_iso_cannot_rescue(self):
        meta = objects.ImageMeta.from_dict({'id': RESCUE_IMAGE,
                                            'disk_format': 'iso'})
        self.assertRaises(exception.InstanceNotRescuable, self.ops.rescue,
                          'ctx', self.instance, meta, None)
        self.client.vms.add_disk.assert_not_called()

    def test_unrescue(self):
        self.vm['disks'].append({'extId': 'rescue-disk', 'diskAddress': {
            'busType': 'SATA', 'index': 0}, 'backingInfo': {}})
        self.ops.unrescue(self.instance)
        boot = self.client.vms.update.call_args.kwargs['bootConfig']
        self.assertEqual(('SCSI', 0),
                         (boot['bootDevice']['diskAddress']['busType'],
                          boot['bootDevice']['diskAddress']['index']))
        self.client.vms.delete_disk.assert_called_once_with('vm-1',
                                                            'rescue-disk')
        self.client.vms.power_on.assert_called_once_with('vm-1')
