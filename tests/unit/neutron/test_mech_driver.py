"""The nutanix ML2 driver inside Neutron's real ML2 plugin, mock backend.

The backend calls and their arguments are the contract shapes of
``prism.subnets``/``prism.vms``; tests/functional/neutron runs the same
flows against the emulator.
"""

from neutron_lib.api.definitions import portbindings

from nutanix_openstack.neutron import poller
from nutanix_openstack.prism import exceptions as prism_exc
from nutanix_openstack.prism import nics
from tests.unit.neutron import base


class MockBackendTestCase(base.NutanixMl2TestCase):

    def setUp(self):
        super(MockBackendTestCase, self).setUp()
        self.client = base.make_client()
        self.mech._client = self.client


class TestNetworks(MockBackendTestCase):

    def test_vlan_network_creates_ahv_subnet(self):
        net = self.create_network(vlan=42)
        self.client.subnets.create.assert_called_once_with(
            'openstack-net-' + net['id'], 42, base.CLUSTER, ipv4=None,
            virtual_switch_ext_id=None,
            description='Neutron network ' + net['id'])

    def test_flat_network_is_vlan_zero(self):
        net = self.create_network(network_type='flat', physnet='physnet2')
        args = self.client.subnets.create.call_args
        self.assertEqual(('openstack-net-' + net['id'], 0, base.CLUSTER),
                         args[0])

    def test_network_on_other_physnet_or_overlay_is_ignored(self):
        self.create_network(physnet='physnet3', vlan=401)
        self.create_network(network_type='vxlan', physnet=None,
                            vlan=1001)
        self.client.subnets.create.assert_not_called()

    def test_foreign_subnet_on_vlan_refuses_network(self):
        self.client.subnets.find_by_vlan.return_value = [
            {'extId': 'foreign-1', 'name': 'prod-vlan-42', 'networkId': 42,
             'virtualSwitchReference': 'vs0'}]
        body = self.create_network(vlan=42, expected=409)
        self.assertIn('VLAN 42', body['NeutronError']['message'])
        self.assertIn('adopt_existing_subnets',
                      body['NeutronError']['message'])
        self.client.subnets.create.assert_not_called()
        self.assertEqual([], self.list_networks())

    def test_foreign_subnet_on_another_switch_is_no_conflict(self):
        self.client.subnets.find_by_vlan.return_value = [
            {'extId': 'foreign-1', 'name': 'other', 'networkId': 42,
             'virtualSwitchReference': 'vs1'}]
        self.create_network(vlan=42)
        self.client.subnets.create.assert_called_once()

    def test_backend_down_fails_network_cleanly(self):
        self.client.subnets.create.side_effect = prism_exc.ConnectionFailed(
            'no endpoint answered')
        body = self.create_network(vlan=43, expected=503)
        self.assertIn('no endpoint answered',
                      body['NeutronError']['message'])
        self.assertEqual([], self.list_networks())

    def test_delete_network_deletes_our_subnet(self):
        net = self.create_network(vlan=44)
        self.client.subnets.find_by_name.return_value = {
            'extId': 'ours-1', 'name': 'openstack-net-' + net['id']}
        self.delete('network', net['id'])
        self.client.subnets.delete.assert_called_once_with('ours-1')

    def test_delete_network_leaves_adopted_subnet(self):
        net = self.create_network(vlan=45)
        self.client.subnets.find_by_name.return_value = None
        self.delete('network', net['id'])
        self.client.subnets.delete.assert_not_called()


class TestAdoption(MockBackendTestCase):
    adopt_existing_subnets = True

    def test_existing_subnet_adopted(self):
        self.client.subnets.find_by_vlan.return_value = [
            {'extId': 'foreign-1', 'name': 'prod-vlan-42', 'networkId': 42}]
        net = self.create_network(vlan=42)
        self.client.subnets.create.assert_not_called()
        self.create_subnet(net['id'], '10.0.42.0/24')
        self.assertEqual('foreign-1',
                         self.client.subnets.update_ipv4.call_args[0][0])

    def test_two_candidates_refused(self):
        self.client.subnets.find_by_vlan.return_value = [
            {'extId': 'a', 'name': 'a'}, {'extId': 'b', 'name': 'b'}]
        body = self.create_network(vlan=42, expected=409)
        self.assertIn('2 subnets', body['NeutronError']['message'])


class TestSubnets(MockBackendTestCase):

    def setUp(self):
        super(TestSubnets, self).setUp()
        self.net = self.create_network(vlan=50)
        self.ahv = {'extId': 'ahv-50', 'name': 'openstack-net-' +
                    self.net['id'], 'networkId': 50}
        self.client.subnets.find_by_name.return_value = self.ahv

    def test_subnet_mirrored_into_ipam(self):
        sub = self.create_subnet(
            self.net['id'], '192.0.2.0/24', gateway_ip='192.0.2.1',
            allocation_pools=[{'start': '192.0.2.10',
                               'end': '192.0.2.99'}],
            dns_nameservers=['192.0.2.53'])
        self.client.subnets.update_ipv4.assert_called_once_with(
            'ahv-50', {'cidr': '192.0.2.0/24', 'gateway': '192.0.2.1',
                       'pools': [('192.0.2.10', '192.0.2.99')],
                       'dns_servers': ['192.0.2.53']})
        self.client.subnets.update_ipv4.reset_mock()
        self.update('subnet', sub['id'],
                    {'allocation_pools': [{'start': '192.0.2.20',
                                           'end': '192.0.2.30'}]})
        self.assertEqual([('192.0.2.20', '192.0.2.30')],
                         self.client.subnets.update_ipv4.call_args[0][1][
                             'pools'])

    def test_second_ipv4_subnet_refused(self):
        self.create_subnet(self.net['id'], '192.0.2.0/24')
        body = self.create_subnet(self.net['id'], '198.51.100.0/24',
                                  expected=400)
        self.assertIn('one IPv4', body['NeutronError']['message'])

    def test_ipam_failure_removes_neutron_subnet(self):
        self.client.subnets.update_ipv4.side_effect = prism_exc.BadRequest(
            'bad pool')
        self.create_subnet(self.net['id'], '192.0.2.0/24', expected=400)
        self.assertEqual([], self._list('subnets',
                                        as_admin=True)['subnets'])

    def test_subnet_delete_clears_ipam(self):
        sub = self.create_subnet(self.net['id'], '192.0.2.0/24')
        self.ahv['ipConfig'] = [{'ipv4': {
            'ipSubnet': {'ip': {'value': '192.0.2.0'}, 'prefixLength': 24}}}]
        self.client.subnets.update_ipv4.reset_mock()
        self.delete('subnet', sub['id'])
        self.client.subnets.update_ipv4.assert_called_once_with('ahv-50',
                                                                None)

    def test_ipv6_subnet_not_mirrored(self):
        self.create_subnet(self.net['id'], '2001:db8::/64', ip_version=6)
        self.client.subnets.update_ipv4.assert_not_called()


class TestPorts(MockBackendTestCase):

    def setUp(self):
        super(TestPorts, self).setUp()
        self.net = self.create_network(vlan=60)
        self.ahv = {'extId': 'ahv-60', 'name': 'openstack-net-' +
                    self.net['id'], 'networkId': 60}
        self.client.subnets.find_by_name.return_value = self.ahv
        self.sub = self.create_subnet(self.net['id'], '192.0.2.0/24')

    def test_bind_port_on_compute_host(self):
        port = self.create_port(self.net['id'])
        self.assertEqual(nics.VIF_TYPE, port[portbindings.VIF_TYPE])
        details = dict(port[portbindings.VIF_DETAILS])
        details.pop('bound_drivers')     # ML2's own
        self.assertEqual({nics.VIF_DETAIL_SUBNET: 'ahv-60',
                          nics.VIF_DETAIL_CLUSTER: base.CLUSTER,
                          nics.VIF_DETAIL_VLAN: 60,
                          portbindings.CAP_PORT_FILTER: False}, details)
        self.assertEqual('DOWN', port['status'])

    def test_other_host_not_bound(self):
        port = self.create_port(self.net['id'], host=base.OTHER_HOST)
        self.assertEqual(portbindings.VIF_TYPE_BINDING_FAILED,
                         port[portbindings.VIF_TYPE])

    def test_overlay_segment_not_bound(self):
        net = self.create_network(network_type='vxlan', physnet=None,
                                  vlan=1001)
        self.create_subnet(net['id'], '198.51.100.0/24')
        port = self.create_port(net['id'])
        self.assertEqual(portbindings.VIF_TYPE_BINDING_FAILED,
                         port[portbindings.VIF_TYPE])
        self.assertEqual([], poller.pending_ports(self.admin_ctx))

    def test_direct_vnic_not_bound(self):
        port = self.create_port(self.net['id'],
                                arg_list=(portbindings.VNIC_TYPE,),
                                **{portbindings.VNIC_TYPE: 'direct'})
        self.assertEqual(portbindings.VIF_TYPE_BINDING_FAILED,
                         port[portbindings.VIF_TYPE])

    def test_backend_unavailable_at_binding_fails_binding(self):
        self.client.subnets.find_by_name.side_effect = \
            prism_exc.ConnectionFailed('down')
        port = self.create_port(self.net['id'])
        self.assertEqual(portbindings.VIF_TYPE_BINDING_FAILED,
                         port[portbindings.VIF_TYPE])

    def test_port_active_once_nic_exists(self):
        port = self.create_port(self.net['id'])
        self.assertEqual([(port['id'], port['mac_address'])],
                         poller.pending_ports(self.admin_ctx))
        self.assertEqual([], self.mech.poller.poll(self.admin_ctx))
        self.assertEqual('DOWN', self.show('port', port['id'])['status'])
        self.client.vms.list.return_value = [{'extId': 'vm-1', 'nics': [
            nics.nic_spec(port['mac_address'], 'ahv-60')]}]
        self.assertEqual([port['id']], self.mech.poller.poll(self.admin_ctx))
        self.assertEqual('ACTIVE', self.show('port', port['id'])['status'])
        self.assertEqual([], poller.pending_ports(self.admin_ctx))

    def test_active_port_update_adds_no_block(self):
        port = self.create_port(self.net['id'])
        self.client.vms.list.return_value = [{'extId': 'vm-1', 'nics': [
            nics.nic_spec(port['mac_address'], 'ahv-60')]}]
        self.mech.poller.poll(self.admin_ctx)
        self.update('port', port['id'], {'name': 'renamed'})
        self.assertEqual('ACTIVE', self.show('port', port['id'])['status'])
        self.assertEqual([], poller.pending_ports(self.admin_ctx))

    def test_poller_skips_cluster_when_nothing_waits(self):
        self.create_port(self.net['id'], host=None)
        self.assertEqual([], self.mech.poller.poll(self.admin_ctx))
        self.client.vms.list.assert_not_called()

    def test_poller_survives_backend_error(self):
        self.create_port(self.net['id'])
        self.client.vms.list.side_effect = prism_exc.ConnectionFailed('x')
        self.mech.poller()   # logged, not raised

    def test_binding_host_set_later_blocks_port(self):
        port = self.create_port(self.net['id'], host=None)
        self.assertEqual([], poller.pending_ports(self.admin_ctx))
        port = self.update('port', port['id'],
                           {portbindings.HOST_ID: base.COMPUTE_HOST})
        self.assertEqual(nics.VIF_TYPE, port[portbindings.VIF_TYPE])
        self.assertEqual([port['id']],
                         [p for p, _m in poller.pending_ports(
                             self.admin_ctx)])

    def test_fixed_ip_update_pushed_to_nic(self):
        port = self.create_port(self.net['id'])
        nic = dict(nics.nic_spec(port['mac_address'], 'ahv-60',
                                 port['fixed_ips'][0]['ip_address'],
                                 model='E1000'),
                   extId='nic-1')
        self.client.vms.find_nic_by_mac.return_value = ('vm-1', nic)
        self.update('port', port['id'], {'fixed_ips': [
            {'subnet_id': self.sub['id'], 'ip_address': '192.0.2.77'}]})
        self.client.vms.update_nic.assert_called_once_with(
            'vm-1', 'nic-1',
            nics.nic_spec(port['mac_address'], 'ahv-60', '192.0.2.77',
                          model='E1000'))

    def test_update_without_ip_change_does_not_touch_nic(self):
        port = self.create_port(self.net['id'])
        self.update('port', port['id'], {'name': 'renamed'})
        self.client.vms.find_nic_by_mac.assert_not_called()
        self.client.vms.update_nic.assert_not_called()

    def test_delete_port_removes_leftover_nic(self):
        port = self.create_port(self.net['id'])
        nic = dict(nics.nic_spec(port['mac_address'], 'ahv-60'),
                   extId='nic-1')
        self.client.vms.find_nic_by_mac.return_value = ('vm-1', nic)
        self.delete('port', port['id'])
        self.client.vms.delete_nic.assert_called_once_with('vm-1', 'nic-1')

    def test_delete_port_leaves_nic_of_other_subnet(self):
        port = self.create_port(self.net['id'])
        nic = dict(nics.nic_spec(port['mac_address'], 'someone-else'),
                   extId='nic-1')
        self.client.vms.find_nic_by_mac.return_value = ('vm-1', nic)
        self.delete('port', port['id'])
        self.client.vms.delete_nic.assert_not_called()

    def test_worker_is_periodic_poller(self):
        workers = self.mech.get_workers()
        self.assertEqual(1, len(workers))
        self.assertEqual(0, workers[0].worker_process_count)
