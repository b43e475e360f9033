"""VM NICs through the client, against the emulator: create with the VM,
add, update, find by MAC, delete; the cluster's MAC and IP rules."""

from nutanix_openstack.prism import exceptions as exc
from nutanix_openstack.prism import nics
from tests.functional.prism import base

MIB = 1024 * 1024
MAC1 = 'fa:16:3e:00:00:01'
MAC2 = 'fa:16:3e:00:00:02'
MAC3 = 'fa:16:3e:00:00:03'


class NicTest(base.EmulatorTestCase):

    def setUp(self):
        super(NicTest, self).setUp()
        cluster = self.emulator.cluster_ext_id
        self.managed = self.client.subnets.create(
            'managed', 100, cluster,
            ipv4={'cidr': '192.0.2.0/24', 'gateway': '192.0.2.1',
                  'pools': [('192.0.2.10', '192.0.2.20')]})['extId']
        self.flat = self.client.subnets.create('flat', 0, cluster)['extId']

    def _vm(self, name='inst', nic_specs=None):
        return self.client.vms.create(name, memory_size_bytes=512 * MIB,
                                      nics=nic_specs)

    def test_create_with_nics(self):
        vm = self._vm(nic_specs=[
            nics.nic_spec(MAC1.upper(), self.managed, '192.0.2.77'),
            nics.nic_spec(MAC2, self.flat)])
        found = self.client.vms.list_nics(vm['extId'])
        self.assertEqual([MAC1, MAC2], [nics.nic_mac(n) for n in found])
        self.assertEqual([self.managed, self.flat],
                         [nics.nic_subnet_ext_id(n) for n in found])
        self.assertEqual(['192.0.2.77', None],
                         [nics.nic_ipv4_address(n) for n in found])
        self.assertEqual('VIRTIO', nics.nic_model(found[0]))
        self.assertEqual(found[0], self.client.vms.get_nic(
            vm['extId'], found[0]['extId']))
        self.assertEqual(2, len(self.inventory('nic')))

    def test_add_update_find_delete(self):
        vm = self._vm()
        self.assertEqual([], self.client.vms.list_nics(vm['extId']))
        nic = self.client.vms.add_nic(
            vm['extId'], nics.nic_spec(MAC1, self.managed, '192.0.2.30'))
        self.assertEqual(MAC1, nics.nic_mac(nic))
        self.assertEqual('192.0.2.30', nics.nic_ipv4_address(nic))
        vm_ext_id, found = self.client.vms.find_nic_by_mac(MAC1.upper())
        self.assertEqual((vm['extId'], nic['extId'], '192.0.2.30'),
                         (vm_ext_id, found['extId'],
                          nics.nic_ipv4_address(found)))
        self.assertIsNone(self.client.vms.find_nic_by_mac(MAC2))

        nic = self.client.vms.update_nic(
            vm['extId'], nic['extId'],
            nics.nic_spec(MAC1, self.managed, '192.0.2.31', model='E1000'))
        self.assertEqual('192.0.2.31', nics.nic_ipv4_address(nic))
        self.assertEqual('E1000', nics.nic_model(nic))
        # The old address is free again.
        other = self.client.vms.add_nic(
            vm['extId'], nics.nic_spec(MAC2, self.managed, '192.0.2.30'))
        self.assertEqual('192.0.2.30', nics.nic_ipv4_address(other))
        nic = self.client.vms.update_nic(
            vm['extId'], nic['extId'], nics.nic_spec(MAC3, self.flat))
        self.assertEqual(MAC3, nics.nic_mac(nic))
        self.assertIsNone(nics.nic_ipv4_address(nic))
        self.assertIsNone(self.client.vms.find_nic_by_mac(MAC1))

        self.client.vms.delete_nic(vm['extId'], nic['extId'])
        self.assertRaises(exc.NotFound, self.client.vms.delete_nic,
                          vm['extId'], nic['extId'])
        self.assertRaises(exc.NotFound, self.client.vms.get_nic,
                          vm['extId'], nic['extId'])
        self.assertEqual([other['extId']], self.inventory('nic'))

    def test_conflicts_and_bad_input_leave_nothing(self):
        vm = self._vm(nic_specs=[nics.nic_spec(MAC1, self.managed,
                                               '192.0.2.40')])
        before = self.admin.inventory()['objects']
        self.assertRaises(exc.Conflict, self._vm, 'dup-mac',
                          [nics.nic_spec(MAC1, self.flat)])
        self.assertRaises(exc.Conflict, self._vm, 'dup-ip',
                          [nics.nic_spec(MAC2, self.managed, '192.0.2.40')])
        self.assertRaises(exc.Conflict, self.client.vms.add_nic,
                          vm['extId'], nics.nic_spec(MAC1, self.flat))
        self.assertRaises(exc.BadRequest, self.client.vms.add_nic,
                          vm['extId'],
                          nics.nic_spec(MAC2, self.managed, '10.0.0.5'))
        self.assertRaises(exc.BadRequest, self.client.vms.add_nic,
                          vm['extId'],
                          nics.nic_spec(MAC2, self.managed, '192.0.2.1'))
        self.assertRaises(exc.BadRequest, self.client.vms.add_nic,
                          vm['extId'],
                          nics.nic_spec(MAC2, self.flat, '192.0.2.5'))
        self.assertRaises(exc.NotFound, self.client.vms.add_nic,
                          vm['extId'], nics.nic_spec(
                              MAC2, '00000000-0000-4000-8000-00000000dead'))
        self.assertRaises(exc.NotFound, self.client.vms.add_nic,
                          '00000000-0000-4000-8000-00000000dead',
                          nics.nic_spec(MAC2, self.flat))
        after = self.admin.inventory()['objects']
        self.assertEqual(before['vm'], after['vm'])
        self.assertEqual(before['nic'], after['nic'])

    def test_vm_delete_frees_mac_and_ip(self):
        spec = nics.nic_spec(MAC1, self.managed, '192.0.2.50')
        vm = self._vm(nic_specs=[spec])
        self.client.vms.delete(vm['extId'])
        self.assertEqual([], self.inventory('nic'))
        again = self._vm(nic_specs=[spec])
        self.assertEqual('192.0.2.50', nics.nic_ipv4_address(
            self.client.vms.list_nics(again['extId'])[0]))


class NicFaultTest(NicTest):
    """The same calls with tasks in background threads, and failing tasks."""

    task_mode = 'async'

    def test_failed_nic_task_leaves_nothing(self):
        vm = self._vm()
        self.admin.add_fault(fail_task='kVmNicCreate', times=1)
        self.assertRaises(exc.TaskFailed, self.client.vms.add_nic,
                          vm['extId'], nics.nic_spec(MAC1, self.managed,
                                                     '192.0.2.12'))
        self.assertEqual([], self.client.vms.list_nics(vm['extId']))
        # The MAC and the address were not taken.
        nic = self.client.vms.add_nic(
            vm['extId'], nics.nic_spec(MAC1, self.managed, '192.0.2.12'))
        self.assertEqual('192.0.2.12', nics.nic_ipv4_address(nic))

    def test_failed_vm_create_with_nics_leaves_nothing(self):
        self.admin.add_fault(fail_task='kVmCreate', times=1)
        self.assertRaises(exc.TaskFailed, self._vm, 'x',
                          [nics.nic_spec(MAC1, self.managed, '192.0.2.12')])
        self.assertEqual([], self.inventory('vm'))
        self.assertEqual([], self.inventory('nic'))

    def test_failed_subnet_tasks(self):
        self.admin.add_fault(fail_task='kCreateSubnet', times=1)
        self.assertRaises(exc.TaskFailed, self.client.subnets.create,
                          'x', 7, self.emulator.cluster_ext_id)
        self.assertEqual(2, len(self.inventory('subnet')))
        self.admin.add_fault(fail_task='kDeleteSubnet', times=1)
        self.assertRaises(exc.TaskFailed, self.client.subnets.delete,
                          self.flat)
        self.client.subnets.get(self.flat)
