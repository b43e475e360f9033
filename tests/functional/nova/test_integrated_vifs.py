"""Servers with Neutron ports through Nova's own services, with this driver.

Nova's in-process harness (see test_integrated) with its NeutronFixture,
whose ports are bound here as Neutron's nutanix mechanism driver binds them:
``binding:vif_type`` ``nutanix`` and the extId of the network's AHV subnet
(made through the prism client, as that driver makes it) in
``binding:vif_details``.  The driver talks HTTP to the emulator.

The fixture turns the plug wait off (``vif_plugging_timeout = 0``) and
reports its ports ACTIVE.  :class:`NutanixVifPluggedWaitTest` turns it on
with DOWN ports and plays the mechanism driver's NIC poller: when the
cluster has a NIC with a port's MAC, the port goes ACTIVE and Nova gets
``network-vif-plugged`` through its external events API.
"""

import threading
import time

from nutanix_openstack.prism import nics as prism_nics
from tests.functional.nova import test_integrated


class _NetworkingTestBase(test_integrated._NutanixComputeTestBase):

    def setUp(self):
        super().setUp()
        network = self.neutron.network_1
        self.subnet_ext_id = self.client.subnets.create(
            'openstack-net-' + network['id'], 0, self.emu.cluster_ext_id,
            ipv4={'cidr': '192.168.1.0/24', 'gateway': '192.168.1.1',
                  'pools': [('192.168.1.2', '192.168.1.254')],
                  'dns_servers': []})['extId']
        self.port_1 = self._bind(self.neutron.port_1['id'])
        self.image_id, _ = self._image_on_the_nutanix_store()

    def _bind(self, port_id):
        """Bind a fixture port as the nutanix mechanism driver does."""
        port = self.neutron._ports[port_id]
        port['binding:vif_type'] = prism_nics.VIF_TYPE
        port['binding:vif_details'] = {
            prism_nics.VIF_DETAIL_SUBNET: self.subnet_ext_id,
            prism_nics.VIF_DETAIL_CLUSTER: self.emu.cluster_ext_id,
            prism_nics.VIF_DETAIL_VLAN: 0,
            'port_filter': False}
        return port

    def _nics(self, server_id):
        vm = self._vm(server_id)
        return [(prism_nics.nic_mac(n), prism_nics.nic_subnet_ext_id(n),
                 prism_nics.nic_ipv4_address(n))
                for n in self.client.vms.list_nics(vm['extId'])]

    def _expected(self, port):
        return (port['mac_address'], self.subnet_ext_id,
                port['fixed_ips'][0]['ip_address'])

    def _boot(self, expected_state='ACTIVE'):
        return self._create_server(
            image_uuid=self.image_id, flavor_id='1',
            networks=[{'port': self.port_1['id']}],
            expected_state=expected_state)


class NutanixServerWithPortTest(_NetworkingTestBase):

    def test_boot_with_port_attach_detach_delete(self):
        server = self._boot()
        self.assertEqual([self._expected(self.port_1)],
                         self._nics(server['id']))
        self.assertEqual('ON', self._vm(server['id'])['powerState'])

        # A second port (the fixture's port_2), bound by the same driver.
        port_2 = self.neutron.create_port(
            {'port': {'network_id': self.neutron.network_1['id']}})['port']
        port_2 = self._bind(port_2['id'])
        self._attach_interface(server, port_2['id'])
        self.assertEqual([self._expected(self.port_1),
                          self._expected(port_2)], self._nics(server['id']))
        attachments = self.api.get_port_interfaces(server['id'])
        self.assertEqual(sorted([self.port_1['id'], port_2['id']]),
                         sorted(a['port_id'] for a in attachments))

        self._detach_interface(server, port_2['id'])
        self.assertEqual([self._expected(self.port_1)],
                         self._nics(server['id']))

        # Resize on the one node (and confirm): the NIC stays.
        server = self._resize_server(server, '2')
        server = self._confirm_resize(server)
        self.assertEqual([self._expected(self.port_1)],
                         self._nics(server['id']))

        self._delete_server(server)
        self._wait_until_deleted(server)
        inventory = self.emu.admin.inventory()['objects']
        self.assertEqual([], inventory.get('vm', []))
        self.assertEqual([], inventory.get('nic', []))
        self.assertIn(self.subnet_ext_id, inventory['subnet'])

    def test_resize_revert_stop_start_keep_the_nic(self):
        server = self._boot()
        expected = [self._expected(self.port_1)]
        server = self._resize_server(server, '2')
        self.assertEqual(expected, self._nics(server['id']))
        server = self._revert_resize(server)
        self.assertEqual(expected, self._nics(server['id']))
        self._stop_server(server)
        self._start_server(server)
        self.assertEqual(expected, self._nics(server['id']))
        self.assertEqual('ON', self._vm(server['id'])['powerState'])

    def test_port_of_another_driver_fails_the_build(self):
        self.neutron._ports[self.port_1['id']]['binding:vif_type'] = 'ovs'
        server = self._boot(expected_state='ERROR')
        self.assertIn('vif_type',
                      self.api.get_server(server['id'])['fault']['message']
                      + self._fault_details(server))
        inventory = self.emu.admin.inventory()['objects']
        self.assertEqual([], inventory.get('vm', []))
        self.assertEqual([], inventory.get('nic', []))

    def _fault_details(self, server):
        return self.admin_api.get_server(server['id'])['fault'].get(
            'details', '')


class NutanixVifPluggedWaitTest(_NetworkingTestBase):
    """The spawn waits for network-vif-plugged, as with an L2 agent."""

    def setUp(self):
        super().setUp()
        self.flags(vif_plugging_timeout=30, vif_plugging_is_fatal=True)
        self.port_1['status'] = 'DOWN'
        self.plugged = []
        self.stop = threading.Event()

    def _neutron_nic_poller(self, port):
        """Play the mechanism driver: NIC on the cluster -> port ACTIVE."""
        def run():
            while not self.stop.is_set():
                found = self.client.vms.find_nic_by_mac(port['mac_address'])
                if found is not None:
                    vm = self.client.vms.get(found[0])
                    self.plugged.append((vm['name'], vm['powerState']))
                    port['status'] = 'ACTIVE'
                    self.admin_api.create_server_external_events([{
                        'name': 'network-vif-plugged',
                        'server_uuid': vm['name'],
                        'tag': port['id'], 'status': 'completed'}])
                    return
                time.sleep(0.1)
        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        self.addCleanup(thread.join, 30)
        self.addCleanup(self.stop.set)

    def test_spawn_waits_for_the_port_then_powers_on(self):
        self._neutron_nic_poller(self.port_1)
        server = self._boot()
        # The NIC existed on a VM still powered off when Neutron saw it;
        # the VM was powered on after the event.
        self.assertEqual([(server['id'], 'OFF')], self.plugged)
        self.assertEqual('ON', self._vm(server['id'])['powerState'])
        self.assertEqual([self._expected(self.port_1)],
                         self._nics(server['id']))

    def test_no_event_fails_the_build_and_leaves_nothing(self):
        # Neutron never reports the port plugged.
        self.flags(vif_plugging_timeout=2)
        server = self._boot(expected_state='ERROR')
        fault = self.admin_api.get_server(server['id'])['fault']
        self.assertIn('Failed to allocate the network', fault['message'])
        self.assertIn('Neutron did not report port(s) %s plugged within 2 '
                      'seconds' % self.port_1['id'], fault['details'])
        inventory = self.emu.admin.inventory()['objects']
        self.assertEqual([], inventory.get('vm', []))
        self.assertEqual([], inventory.get('nic', []))
