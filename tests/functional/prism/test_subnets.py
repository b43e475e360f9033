"""AHV VLAN subnets through the client, against the emulator."""

from nutanix_openstack.prism import exceptions as exc
from nutanix_openstack.prism import nics
from nutanix_openstack.prism import subnets
from tests.functional.prism import base

IPV4 = {'cidr': '192.0.2.0/24', 'gateway': '192.0.2.1',
        'pools': [('192.0.2.10', '192.0.2.20'),
                  ('192.0.2.100', '192.0.2.110')],
        'dns_servers': ['192.0.2.53', '198.51.100.53']}


class SubnetTest(base.EmulatorTestCase):

    def _create(self, name='openstack-net-1', vlan=100, ipv4=None, **kw):
        return self.client.subnets.create(
            name, vlan, self.emulator.cluster_ext_id, ipv4=ipv4, **kw)

    def test_create_with_ipam_and_read_back(self):
        subnet = self._create(ipv4=IPV4, description='neutron network')
        self.assertEqual('openstack-net-1', subnet['name'])
        self.assertEqual('VLAN', subnet['subnetType'])
        self.assertEqual(100, subnets.subnet_vlan_id(subnet))
        self.assertEqual(self.emulator.cluster_ext_id,
                         subnet['clusterReference'])
        self.assertEqual(self.client.subnets.default_virtual_switch(
            self.emulator.cluster_ext_id), subnet['virtualSwitchReference'])
        self.assertEqual(IPV4, subnets.subnet_ipv4(subnet))
        self.assertEqual(subnet, self.client.subnets.get(subnet['extId']))
        self.assertEqual([subnet['extId']], self.inventory('subnet'))

    def test_flat_subnet_without_ipam(self):
        subnet = self._create(vlan=0)
        self.assertEqual(0, subnets.subnet_vlan_id(subnet))
        self.assertIsNone(subnets.subnet_ipv4(subnet))

    def test_find_by_name_and_vlan(self):
        a = self._create('net-a', vlan=10)
        b = self._create("it's b", vlan=20)
        c = self._create('net-c', vlan=10)
        self.assertEqual(b['extId'],
                         self.client.subnets.find_by_name("it's b")['extId'])
        self.assertIsNone(self.client.subnets.find_by_name('nope'))
        self.assertEqual(
            sorted([a['extId'], c['extId']]),
            sorted(s['extId'] for s in self.client.subnets.find_by_vlan(10)))
        self.assertEqual([], self.client.subnets.find_by_vlan(
            10, cluster_ext_id='00000000-0000-4000-8000-00000000dead'))
        self.assertEqual(3, len(self.client.subnets.list()))

    def test_update_ipv4_add_change_and_remove(self):
        subnet = self._create()
        new = dict(IPV4, pools=[('192.0.2.30', '192.0.2.40')],
                   dns_servers=[])
        updated = self.client.subnets.update_ipv4(subnet['extId'], new)
        self.assertEqual(new, subnets.subnet_ipv4(updated))
        self.assertNotIn('dhcpOptions', updated)
        updated = self.client.subnets.update_ipv4(subnet['extId'], None)
        self.assertIsNone(subnets.subnet_ipv4(updated))
        self.assertEqual('openstack-net-1', updated['name'])

    def test_update_ipv4_refused_while_a_nic_holds_an_address(self):
        subnet = self._create(ipv4=IPV4)
        self.client.vms.create('vm', memory_size_bytes=512 * 1024 ** 2,
                               nics=[nics.nic_spec('fa:16:3e:00:00:01',
                                                   subnet['extId'],
                                                   '192.0.2.15')])
        self.assertRaises(exc.Conflict, self.client.subnets.update_ipv4,
                          subnet['extId'], None)
        self.assertRaises(
            exc.Conflict, self.client.subnets.update_ipv4, subnet['extId'],
            dict(IPV4, cidr='198.51.100.0/24', gateway=None, pools=[]))
        self.assertEqual(IPV4, subnets.subnet_ipv4(
            self.client.subnets.get(subnet['extId'])))

    def test_delete_and_in_use(self):
        subnet = self._create(ipv4=IPV4)
        vm = self.client.vms.create(
            'vm', memory_size_bytes=512 * 1024 ** 2,
            nics=[nics.nic_spec('fa:16:3e:00:00:02', subnet['extId'])])
        self.assertRaises(exc.Conflict, self.client.subnets.delete,
                          subnet['extId'])
        self.client.vms.delete(vm['extId'])
        self.client.subnets.delete(subnet['extId'])
        self.assertRaises(exc.NotFound, self.client.subnets.get,
                          subnet['extId'])
        self.assertRaises(exc.NotFound, self.client.subnets.delete,
                          subnet['extId'])
        self.assertEqual([], self.inventory('subnet'))

    def test_bad_input(self):
        self.assertRaises(ValueError, self._create,
                          ipv4=dict(IPV4, cidr='192.0.2.1/24'))
        self.assertRaises(exc.BadRequest, self._create, vlan=4095)
        self.assertRaises(exc.BadRequest, self._create,
                          ipv4=dict(IPV4, gateway='10.0.0.1'))
        self.assertRaises(exc.BadRequest, self._create,
                          ipv4=dict(IPV4, pools=[('192.0.2.1',
                                                  '192.0.2.5')]))
        self.assertRaises(exc.NotFound, self._create,
                          virtual_switch_ext_id='00000000-0000-4000-8000-'
                                                '00000000dead')
        self.assertRaises(
            exc.NotFound, self.client.subnets.create, 'x', 5,
            '00000000-0000-4000-8000-00000000dead',
            virtual_switch_ext_id=self.client.subnets.default_virtual_switch(
                self.emulator.cluster_ext_id))
        self.assertEqual([], self.inventory('subnet'))


class AsyncSubnetTest(SubnetTest):
    """The same with tasks in background threads (as in a deployment)."""

    task_mode = 'async'
