"""Neutron ports as NICs of the VM, against the emulator over HTTP.

The ports are what Neutron's nutanix mechanism driver binds: vif_type
``nutanix`` with the AHV subnet's extId in the vif details.  The AHV
subnets are made through the prism client, as that driver makes them.
"""

import contextlib
import time

from nova import exception
from nova.network import model as network_model
from nova.virt import fake

from nutanix_openstack.nova import driver
from nutanix_openstack.nova import utils
from nutanix_openstack.prism import nics as prism_nics
from tests.functional.nova import base

MAC_1 = 'fa:16:3e:11:11:01'
MAC_2 = 'fa:16:3e:11:11:02'
MAC_3 = 'fa:16:3e:11:11:03'
PORT_1 = 'a1a1a1a1-0000-4000-8000-000000000001'
PORT_2 = 'a1a1a1a1-0000-4000-8000-000000000002'
PORT_3 = 'a1a1a1a1-0000-4000-8000-000000000003'


class NeutronVirtAPI(fake.FakeVirtAPI):
    """Waits for ``network-vif-plugged`` as the compute manager does.

    Plays Neutron's nutanix mechanism driver too: an event is delivered
    once the cluster has a NIC with the port's MAC (the driver's
    provisioning block completes then).  Ports listed in ``never_plug``
    never get their event, so the wait times out.  What the cluster looked
    like when the wait ended is kept in ``seen``.
    """

    def __init__(self, client, macs):
        super().__init__()
        self.client = client
        self.macs = macs              # port id -> MAC
        self.never_plug = set()
        self.seen = []

    @contextlib.contextmanager
    def wait_for_instance_event(self, instance, event_names, timeout=300,
                                error_callback=None):
        yield
        deadline = time.monotonic() + timeout
        pending = {tag for _name, tag in event_names}
        while pending:
            for port in list(pending):
                if port in self.never_plug:
                    continue
                found = self.client.vms.find_nic_by_mac(self.macs[port])
                if found is not None:
                    vm = self.client.vms.get(found[0])
                    self.seen.append((port, vm['name'], vm['powerState']))
                    pending.discard(port)
            if pending and time.monotonic() >= deadline:
                raise exception.InstanceEventTimeout()
            if pending:
                time.sleep(0.1)


class VifTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        cluster = self.emu.cluster_ext_id
        self.subnet_a = self.client.subnets.create(
            'openstack-net-a', 100, cluster,
            ipv4={'cidr': '192.0.2.0/24', 'gateway': '192.0.2.1',
                  'pools': [('192.0.2.10', '192.0.2.200')],
                  'dns_servers': []})['extId']
        self.subnet_b = self.client.subnets.create(
            'openstack-net-b', 200, cluster,
            ipv4={'cidr': '198.51.100.0/24', 'gateway': None,
                  'pools': [('198.51.100.10', '198.51.100.100')],
                  'dns_servers': []})['extId']
        self.virtapi = NeutronVirtAPI(self.client, {})
        self.driver.virtapi = self.virtapi
        self.driver._ops = None     # rebuilt with this virtapi
        self.cfg.config(vif_plugging_timeout=20, vif_plugging_is_fatal=True)
        # One image for every spawn: cached once, so disk counts compare.
        self.image_id = self.glance.add(b'root-bytes' * 100)

    def spawn(self, instance=None, image_id=None, **kw):
        return super().spawn(instance=instance,
                             image_id=image_id or self.image_id, **kw)

    def vif(self, port_id, mac, subnet, ip=None, vif_type='nutanix',
            active=False, cidr='192.0.2.0/24'):
        self.virtapi.macs[port_id] = mac
        ips = [network_model.FixedIP(address=ip)] if ip else []
        return network_model.VIF(
            id=port_id, address=mac, type=vif_type, active=active,
            vnic_type=network_model.VNIC_TYPE_NORMAL,
            details={prism_nics.VIF_DETAIL_SUBNET: subnet,
                     prism_nics.VIF_DETAIL_CLUSTER: self.emu.cluster_ext_id,
                     'port_filter': False},
            network=network_model.Network(
                id='net-' + subnet, subnets=[network_model.Subnet(
                    cidr=cidr, ips=ips)]))

    def two_ports(self):
        return network_model.NetworkInfo([
            self.vif(PORT_1, MAC_1, self.subnet_a, '192.0.2.50'),
            self.vif(PORT_2, MAC_2, self.subnet_b, '198.51.100.60',
                     cidr='198.51.100.0/24')])

    def nics(self, instance):
        vm = self.driver.ops.vm.get_vm(instance)
        return [(prism_nics.nic_mac(n), prism_nics.nic_subnet_ext_id(n),
                 prism_nics.nic_ipv4_address(n))
                for n in self.client.vms.list_nics(vm['extId'])]

    def objects(self, kind):
        return sorted(self.inventory().get(kind, []))

    def assertNothingLeft(self, before):
        after = self.emu.admin.inventory()
        for kind in ('vm', 'nic'):
            self.assertEqual(sorted(before['objects'].get(kind, [])),
                             sorted(after['objects'].get(kind, [])), kind)
        self.assertEqual(before['storage']['disks'],
                         after['storage']['disks'])

    # -- spawn --

    def test_spawn_with_two_ports_makes_two_nics(self):
        instance = self.spawn(network_info=self.two_ports())
        self.assertEqual(
            [(MAC_1, self.subnet_a, '192.0.2.50'),
             (MAC_2, self.subnet_b, '198.51.100.60')], self.nics(instance))
        # The NICs existed, on a VM still powered off, when the plug wait
        # ended; the VM was powered on after it.
        self.assertEqual([(PORT_1, instance.uuid, 'OFF'),
                          (PORT_2, instance.uuid, 'OFF')],
                         sorted(self.virtapi.seen))
        self.assertEqual('ON',
                         self.driver.ops.vm.get_vm(instance)['powerState'])
        # get_info and list_instances are those of any instance.
        self.assertEqual([instance.name], self.driver.list_instances())
        self.driver.get_info(instance)

    def test_port_already_active_is_not_waited_for(self):
        self.virtapi.never_plug.add(PORT_1)
        instance = self.spawn(network_info=[self.vif(
            PORT_1, MAC_1, self.subnet_a, '192.0.2.51', active=True)])
        self.assertEqual([(MAC_1, self.subnet_a, '192.0.2.51')],
                         self.nics(instance))
        self.assertEqual([], self.virtapi.seen)

    def test_port_without_ipv4_gets_no_address(self):
        instance = self.spawn(network_info=[self.vif(
            PORT_1, MAC_1, self.subnet_a)])
        self.assertEqual([(MAC_1, self.subnet_a, None)], self.nics(instance))

    def test_plug_timeout_leaves_nothing(self):
        self.cfg.config(vif_plugging_timeout=1)
        self.spawn()        # the image is cached; another VM exists
        before = self.emu.admin.inventory()
        self.virtapi.never_plug.add(PORT_2)
        instance = base.make_instance()
        e = self.assertRaises(exception.VirtualInterfaceCreateException,
                              self.spawn, instance=instance,
                              network_info=self.two_ports())
        self.assertIn(PORT_2, str(e))
        self.assertNothingLeft(before)
        self.assertIsNone(self.driver.ops.vm.find_vm(instance))

    def test_plug_timeout_not_fatal_boots(self):
        self.cfg.config(vif_plugging_timeout=1, vif_plugging_is_fatal=False)
        self.virtapi.never_plug.add(PORT_1)
        instance = self.spawn(network_info=[self.vif(
            PORT_1, MAC_1, self.subnet_a, '192.0.2.52')])
        vm = self.driver.ops.vm.get_vm(instance)
        self.assertEqual('ON', vm['powerState'])
        self.assertEqual(1, len(self.nics(instance)))

    def test_foreign_vif_type_leaves_nothing(self):
        self.spawn()
        before = self.emu.admin.inventory()
        e = self.assertRaises(
            exception.VirtualInterfaceCreateException, self.spawn,
            network_info=[self.vif(PORT_1, MAC_1, self.subnet_a),
                          self.vif(PORT_2, MAC_2, self.subnet_a,
                                   vif_type='ovs')])
        self.assertIn("vif_type is 'ovs'", str(e))
        self.assertNothingLeft(before)

    def test_unknown_subnet_leaves_nothing(self):
        self.spawn()
        before = self.emu.admin.inventory()
        e = self.assertRaises(
            exception.VirtualInterfaceCreateException, self.spawn,
            network_info=[self.vif(PORT_1, MAC_1,
                                   '00000000-0000-4000-8000-00000000dead')])
        self.assertIn('does not exist', str(e))
        self.assertNothingLeft(before)

    def test_mac_conflict_at_spawn_leaves_nothing(self):
        first = self.spawn(network_info=[self.vif(
            PORT_1, MAC_1, self.subnet_a, '192.0.2.53')])
        before = self.emu.admin.inventory()
        e = self.assertRaises(
            exception.VirtualInterfaceCreateException, self.spawn,
            network_info=[self.vif(PORT_2, MAC_2, self.subnet_b),
                          self.vif(PORT_3, MAC_1, self.subnet_a)])
        self.assertIn(MAC_1, str(e))
        self.assertNothingLeft(before)
        self.assertEqual([(MAC_1, self.subnet_a, '192.0.2.53')],
                         self.nics(first))

    def test_ip_conflict_at_spawn_leaves_nothing(self):
        self.spawn(network_info=[self.vif(
            PORT_1, MAC_1, self.subnet_a, '192.0.2.54')])
        before = self.emu.admin.inventory()
        e = self.assertRaises(
            exception.VirtualInterfaceCreateException, self.spawn,
            network_info=[self.vif(PORT_2, MAC_2, self.subnet_a,
                                   '192.0.2.54')])
        self.assertIn('192.0.2.54', str(e))
        self.assertNothingLeft(before)

    def test_failed_create_task_leaves_nothing(self):
        self.spawn()
        before = self.emu.admin.inventory()
        self.emu.admin.add_fault(method='POST', path='.*/ahv/config/vms$',
                                 fail_task='injected task failure', times=1)
        self.assertRaises(driver.NutanixBackendError, self.spawn,
                          network_info=self.two_ports())
        self.assertNothingLeft(before)
        # The MACs and IPs are free again.
        instance = self.spawn(network_info=self.two_ports())
        self.assertEqual(2, len(self.nics(instance)))

    # -- destroy --

    def test_destroy_removes_the_nics(self):
        instance = self.spawn(network_info=self.two_ports())
        self.assertEqual(2, len(self.objects('nic')))
        self.driver.destroy(self.context, instance, self.two_ports())
        self.assertEqual([], self.objects('nic'))
        self.assertEqual([], self.objects('vm'))
        # The subnets stay (they are Neutron's networks).
        self.assertIn(self.subnet_a, self.objects('subnet'))
        # Same ports again (a rebuild): the MACs and IPs are free.
        again = self.spawn(network_info=self.two_ports())
        self.assertEqual(2, len(self.nics(again)))

    # -- attach / detach --

    def test_attach_and_detach_interface(self):
        instance = self.spawn(network_info=[self.vif(
            PORT_1, MAC_1, self.subnet_a, '192.0.2.55')])
        third = self.vif(PORT_3, MAC_3, self.subnet_b, '198.51.100.61',
                         cidr='198.51.100.0/24', active=True)
        self.driver.attach_interface(self.context, instance, None, third)
        self.assertEqual([(MAC_1, self.subnet_a, '192.0.2.55'),
                          (MAC_3, self.subnet_b, '198.51.100.61')],
                         self.nics(instance))
        # An attach retried after the NIC was made keeps the one NIC.
        self.driver.attach_interface(self.context, instance, None, third)
        self.assertEqual(2, len(self.nics(instance)))
        self.driver.detach_interface(self.context, instance, third)
        self.assertEqual([(MAC_1, self.subnet_a, '192.0.2.55')],
                         self.nics(instance))
        # Detaching again is not an error.
        self.driver.detach_interface(self.context, instance, third)
        self.assertEqual(['ON'], [self.driver.ops.vm.get_vm(
            instance)['powerState']])

    def test_attach_conflicts_add_nothing(self):
        other = self.spawn(network_info=[self.vif(
            PORT_1, MAC_1, self.subnet_a, '192.0.2.56')])
        instance = self.spawn()
        for vif, what in (
                (self.vif(PORT_2, MAC_1, self.subnet_b), MAC_1),
                (self.vif(PORT_2, MAC_2, self.subnet_a, '192.0.2.56'),
                 '192.0.2.56'),
                (self.vif(PORT_2, MAC_2, self.subnet_a, '203.0.113.5'),
                 '203.0.113.5'),
                (self.vif(PORT_2, MAC_2, self.subnet_a, vif_type='bridge'),
                 'bridge')):
            e = self.assertRaises(exception.InterfaceAttachFailed,
                                  self.driver.attach_interface,
                                  self.context, instance, None, vif)
            self.assertIn(what, str(e))
            self.assertEqual([], self.nics(instance))
        self.assertEqual(1, len(self.nics(other)))
        self.assertEqual(1, len(self.objects('nic')))

    def test_attach_failed_task_adds_nothing(self):
        instance = self.spawn()
        self.emu.admin.add_fault(method='POST', path='.*/nics$',
                                 fail_task='injected task failure', times=1)
        self.assertRaises(exception.InterfaceAttachFailed,
                          self.driver.attach_interface, self.context,
                          instance, None,
                          self.vif(PORT_1, MAC_1, self.subnet_a))
        self.assertEqual([], self.objects('nic'))

    def test_attach_to_deleted_instance(self):
        instance = base.make_instance()
        self.assertRaises(exception.InstanceNotFound,
                          self.driver.attach_interface, self.context,
                          instance, None,
                          self.vif(PORT_1, MAC_1, self.subnet_a))
        self.driver.detach_interface(self.context, instance,
                                     self.vif(PORT_1, MAC_1, self.subnet_a))

    # -- kept through the instance's life --

    def test_nics_kept_through_reboot_power_resize_revert_and_rescue(self):
        nw = self.two_ports()
        instance = self.spawn(network_info=nw)
        expected = self.nics(instance)
        vm_ext_id = self.driver.ops.vm.get_vm(instance)['extId']

        self.driver.reboot(self.context, instance, nw, 'SOFT')
        self.driver.reboot(self.context, instance, nw, 'HARD')
        self.driver.power_off(instance)
        self.driver.power_on(self.context, instance, nw)
        self.assertEqual(expected, self.nics(instance))

        # Resize to a bigger flavor, then revert.
        old_flavor = instance.flavor
        new_flavor = base.make_flavor(vcpus=4, memory_mb=2048, root_gb=2,
                                      flavorid='2', name='m2', id=2)
        self.driver.migrate_disk_and_power_off(self.context, instance, 'h',
                                               new_flavor, nw)
        self.assertEqual(expected, self.nics(instance))
        instance.flavor = new_flavor
        self.driver.finish_migration(self.context, None, instance, '', nw,
                                     None, True, {})
        self.assertEqual(expected, self.nics(instance))
        instance.task_state = 'resize_reverting'
        self.driver.destroy(self.context, instance, nw)
        instance.flavor = old_flavor
        self.driver.finish_revert_migration(self.context, instance, nw, None)
        instance.task_state = None
        vm = self.driver.ops.vm.get_vm(instance)
        self.assertEqual((vm_ext_id, 'ON', 1024 * base.MiB),
                         (vm['extId'], vm['powerState'],
                          vm['memorySizeBytes']))
        self.assertEqual(expected, self.nics(instance))

        # Rescue and unrescue.
        rescue_image = self.glance.add(b'rescue' * 100)
        self.driver.rescue(self.context, instance, nw,
                           self.image_meta(rescue_image), 'pw', None, None)
        self.assertEqual(expected, self.nics(instance))
        self.driver.unrescue(self.context, instance)
        self.assertEqual(expected, self.nics(instance))
        vm = self.driver.ops.vm.get_vm(instance)
        self.assertEqual('ON', vm['powerState'])
        self.assertIsNotNone(utils.root_disk(vm))

    def assertRaises(self, exc, f, *args, **kwargs):
        with super().assertRaises(exc) as cm:
            f(*args, **kwargs)
        return cm.exception
