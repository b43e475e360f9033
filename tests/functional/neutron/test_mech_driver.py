"""Neutron networks, subnets and ports on the emulated AHV cluster."""

import time

import fixtures
from neutron_lib.api.definitions import portbindings
from neutron_lib.db import api as db_api
from oslo_utils import uuidutils

from neutron.db import models_v2

from nutanix_openstack.neutron import poller
from nutanix_openstack.prism import nics
from nutanix_openstack.prism import subnets as prism_subnets
from tests.functional.neutron import base
from tests.unit.neutron import base as unit_base


class TestNetworksAndSubnets(base.EmulatorMl2TestCase):

    def test_network_and_subnet_make_ahv_subnet_with_ipam(self):
        net = self.create_network(vlan=42)
        ahv = self.ahv_subnet(net['id'])
        self.assertEqual(42, prism_subnets.subnet_vlan_id(ahv))
        self.assertEqual('VLAN', ahv['subnetType'])
        self.assertIsNone(prism_subnets.subnet_ipv4(ahv))

        sub = self.create_subnet(
            net['id'], '192.0.2.0/24', gateway_ip='192.0.2.1',
            allocation_pools=[{'start': '192.0.2.10', 'end': '192.0.2.99'}],
            dns_nameservers=['192.0.2.53'])
        self.assertEqual(
            {'cidr': '192.0.2.0/24', 'gateway': '192.0.2.1',
             'pools': [('192.0.2.10', '192.0.2.99')],
             'dns_servers': ['192.0.2.53']},
            prism_subnets.subnet_ipv4(self.prism.subnets.get(ahv['extId'])))

        self.update('subnet', sub['id'], {
            'allocation_pools': [{'start': '192.0.2.20',
                                  'end': '192.0.2.40'}],
            'dns_nameservers': []})
        ipv4 = prism_subnets.subnet_ipv4(self.prism.subnets.get(ahv['extId']))
        self.assertEqual([('192.0.2.20', '192.0.2.40')], ipv4['pools'])
        self.assertEqual([], ipv4['dns_servers'])

        self.delete('subnet', sub['id'])
        self.assertIsNone(prism_subnets.subnet_ipv4(
            self.prism.subnets.get(ahv['extId'])))
        self.delete('network', net['id'])
        self.assertEqual([], self.inventory('subnet'))

    def test_flat_network_is_untagged(self):
        net = self.create_network(network_type='flat', physnet='physnet2')
        self.assertEqual(0, prism_subnets.subnet_vlan_id(
            self.ahv_subnet(net['id'])))

    def test_overlay_and_foreign_physnet_make_nothing(self):
        self.create_network(network_type='vxlan', physnet=None, vlan=1001)
        self.create_network(physnet='physnet3', vlan=401)
        self.assertEqual([], self.inventory('subnet'))

    def test_vlan_of_foreign_subnet_refused(self):
        foreign = self.prism.subnets.create('prod-vlan-70', 70, self.cluster)
        body = self.create_network(vlan=70, expected=409)
        self.assertIn('prod-vlan-70', body['NeutronError']['message'])
        self.assertEqual([], self.list_networks())
        self.assertEqual([foreign['extId']], self.inventory('subnet'))

    def test_subnet_task_failure_leaves_nothing(self):
        self.admin.add_fault(method='POST', path='subnets',
                             fail_task='cluster busy', times=1)
        body = self.create_network(vlan=71, expected=500)
        self.assertIn('network', body['NeutronError']['message'])
        self.assertEqual([], self.list_networks())
        self.assertEqual([], self.inventory('subnet'))

    def test_backend_503_fails_network_cleanly(self):
        self.admin.add_fault(method='POST', path='subnets', status=503)
        self.create_network(vlan=72, expected=503)
        self.assertEqual([], self.list_networks())
        self.assertEqual([], self.inventory('subnet'))

    def test_ipam_failure_removes_neutron_subnet(self):
        net = self.create_network(vlan=73)
        self.admin.add_fault(method='PUT', path='subnets', status=500)
        self.create_subnet(net['id'], '192.0.2.0/24', expected=500)
        self.assertEqual([], self._list('subnets', as_admin=True)['subnets'])
        self.assertIsNone(prism_subnets.subnet_ipv4(
            self.ahv_subnet(net['id'])))


class TestAdoption(base.EmulatorMl2TestCase):
    adopt_existing_subnets = True

    def test_adopted_subnet_used_and_kept(self):
        foreign = self.prism.subnets.create('prod-vlan-80', 80, self.cluster)
        net = self.create_network(vlan=80)
        sub = self.create_subnet(net['id'], '198.51.100.0/24')
        self.assertEqual('198.51.100.0/24', prism_subnets.subnet_ipv4(
            self.prism.subnets.get(foreign['extId']))['cidr'])
        port = self.create_port(net['id'])
        self.assertEqual(foreign['extId'],
                         port[portbindings.VIF_DETAILS][
                             nics.VIF_DETAIL_SUBNET])
        self.delete('port', port['id'])
        self.delete('subnet', sub['id'])
        self.delete('network', net['id'])
        self.assertEqual([foreign['extId']], self.inventory('subnet'))


class TestPorts(base.EmulatorMl2TestCase):

    def setUp(self):
        super(TestPorts, self).setUp()
        self.net = self.create_network(vlan=90)
        self.sub = self.create_subnet(self.net['id'], '192.0.2.0/24')
        self.ahv = self.ahv_subnet(self.net['id'])

    def test_bind_port_vif_details(self):
        port = self.create_port(self.net['id'])
        self.assertEqual(nics.VIF_TYPE, port[portbindings.VIF_TYPE])
        details = port[portbindings.VIF_DETAILS]
        self.assertEqual(
            (self.ahv['extId'], self.cluster, 90, False),
            (details[nics.VIF_DETAIL_SUBNET],
             details[nics.VIF_DETAIL_CLUSTER],
             details[nics.VIF_DETAIL_VLAN],
             details[portbindings.CAP_PORT_FILTER]))

    def test_unsupported_segment_or_host_not_bound(self):
        vxlan = self.create_network(network_type='vxlan', physnet=None,
                                    vlan=1002)
        self.create_subnet(vxlan['id'], '198.51.100.0/24')
        port = self.create_port(vxlan['id'])
        self.assertEqual(portbindings.VIF_TYPE_BINDING_FAILED,
                         port[portbindings.VIF_TYPE])
        port = self.create_port(self.net['id'], host=unit_base.OTHER_HOST)
        self.assertEqual(portbindings.VIF_TYPE_BINDING_FAILED,
                         port[portbindings.VIF_TYPE])

    def test_port_active_when_nic_appears(self):
        port = self.create_port(self.net['id'])
        self.assertEqual([], self.mech.poller.poll(self.admin_ctx))
        self.assertEqual('DOWN', self.show('port', port['id'])['status'])
        vm = self.boot_vm_with_port(port)
        self.assertEqual([port['id']], self.mech.poller.poll(self.admin_ctx))
        self.assertEqual('ACTIVE', self.show('port', port['id'])['status'])
        self.assertEqual([], poller.pending_ports(self.admin_ctx))
        # The cluster gave the NIC exactly Neutron's address.
        nic = self.prism.vms.list_nics(vm['extId'])[0]
        self.assertEqual(port['fixed_ips'][0]['ip_address'],
                         nics.nic_ipv4_address(nic))

    def test_poller_worker_plugs_port_and_notifies_nova(self):
        # The worker neutron-periodic-workers starts: the plugin's workers
        # (the ML2 plugin collects them from its mechanism drivers).
        workers = [w for w in self.plugin.get_workers()
                   if w.desc == 'nutanix NIC poller']
        self.assertEqual(1, len(workers))
        self.assertEqual(0, workers[0].worker_process_count)
        # Neutron's test base turns notify_nova_on_port_status_changes
        # off; hook its notifier as neutron-server does by default.
        notifier = self.plugin.nova_notifier
        db_api.sqla_listen(models_v2.Port, 'after_update',
                           notifier.send_port_status)
        db_api.sqla_listen(models_v2.Port.status, 'set',
                           notifier.record_port_status_changed)
        queued = []
        self.useFixture(fixtures.MockPatchObject(
            notifier.batch_notifier, 'queue_event',
            side_effect=queued.append))
        instance = uuidutils.generate_uuid()
        port = self.create_port(self.net['id'], device_id=instance)
        self.boot_vm_with_port(port)
        # The test's in-memory SQLite is one connection: this greenthread
        # stays off the database while the worker's runs, and learns from
        # the poller's own answer when it completed the port.
        completed = []
        real_poll = self.mech.poller.poll

        def poll(*args, **kwargs):
            done = real_poll(*args, **kwargs)
            completed.extend(done)
            return done
        self.mech.poller.poll = poll
        workers[0].start()
        deadline = time.time() + 20
        while not completed and time.time() < deadline:
            time.sleep(0.1)
        workers[0].stop()
        workers[0].wait()
        self.assertEqual([port['id']], completed)
        self.assertEqual('ACTIVE', self.show('port', port['id'])['status'])
        self.assertEqual([], poller.pending_ports(self.admin_ctx))
        self.assertIn({'server_uuid': instance,
                       'name': 'network-vif-plugged', 'status': 'completed',
                       'tag': port['id']}, queued)

    def test_fixed_ip_update_pushed_to_nic(self):
        port = self.create_port(self.net['id'])
        vm = self.boot_vm_with_port(port)
        self.update('port', port['id'], {'fixed_ips': [
            {'subnet_id': self.sub['id'], 'ip_address': '192.0.2.200'}]})
        nic = self.prism.vms.list_nics(vm['extId'])[0]
        self.assertEqual('192.0.2.200', nics.nic_ipv4_address(nic))
        self.assertEqual(port['mac_address'], nics.nic_mac(nic))

    def test_delete_port_removes_leftover_nic_then_network_cleans(self):
        port = self.create_port(self.net['id'])
        vm = self.boot_vm_with_port(port)
        self.assertEqual(1, len(self.inventory('nic')))
        self.delete('port', port['id'])
        self.assertEqual([], self.inventory('nic'))
        self.assertEqual([vm['extId']], self.inventory('vm'))
        self.delete('subnet', self.sub['id'])
        self.delete('network', self.net['id'])
        self.assertEqual([], self.inventory('subnet'))

    def test_nic_delete_failure_does_not_block_port_delete(self):
        # ML2 only logs delete postcommit errors: the port is gone from
        # Neutron and the NIC (still on the instance's VM, which Nova
        # owns) stays until Nova removes the VM or its interface.
        port = self.create_port(self.net['id'])
        self.boot_vm_with_port(port)
        self.admin.add_fault(method='DELETE', path='nics', status=500)
        self.delete('port', port['id'])
        self.assertEqual(1, len(self.inventory('nic')))
