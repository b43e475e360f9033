"""vifops: Neutron ports as NICs, the plug wait at spawn, attach/detach."""

import contextlib
from unittest import mock

from oslo_config import fixture as config_fixture

from nova.compute import task_states
from nova import conf as nova_conf
from nova import exception
from nova.network import model as network_model
from nova import objects

from nutanix_openstack.nova import vifops
from nutanix_openstack.nova import vmops
from nutanix_openstack.prism import exceptions as prism_exc
from nutanix_openstack.prism import nics as prism_nics
from tests.unit.nova import base

CONF = nova_conf.CONF
PORT_1 = '0f0b0a64-9a43-4b7e-8e1c-6a5d3c2b1a01'
PORT_2 = '0f0b0a64-9a43-4b7e-8e1c-6a5d3c2b1a02'


def make_vif(port_id=PORT_1, mac='fa:16:3e:00:00:01', subnet='subnet-a',
             ips=('192.0.2.10',), vif_type=prism_nics.VIF_TYPE, active=False,
             cluster=base.CLUSTER, vnic_type=network_model.VNIC_TYPE_NORMAL):
    subnets = [network_model.Subnet(
        cidr='192.0.2.0/24',
        ips=[network_model.FixedIP(address=ip) for ip in ips if ':' not in ip]
    ), network_model.Subnet(
        cidr='2001:db8::/64', version=6,
        ips=[network_model.FixedIP(address=ip) for ip in ips if ':' in ip])]
    details = {prism_nics.VIF_DETAIL_SUBNET: subnet,
               prism_nics.VIF_DETAIL_CLUSTER: cluster,
               prism_nics.VIF_DETAIL_VLAN: 100,
               'port_filter': False}
    if subnet is None:
        del details[prism_nics.VIF_DETAIL_SUBNET]
    return network_model.VIF(
        id=port_id, address=mac, type=vif_type, active=active,
        vnic_type=vnic_type, details=details,
        network=network_model.Network(id='net-1', subnets=subnets))


class ModuleTestCase(base.TestCase):

    def test_nic_for_vif_has_mac_subnet_and_first_ipv4(self):
        vif = make_vif(ips=('2001:db8::5', '192.0.2.10', '192.0.2.11'))
        nic = vifops.nic_for_vif(vif)
        self.assertEqual(prism_nics.nic_spec(
            'fa:16:3e:00:00:01', 'subnet-a', ipv4_address='192.0.2.10'), nic)
        self.assertEqual('fa:16:3e:00:00:01', prism_nics.nic_mac(nic))
        self.assertEqual('subnet-a', prism_nics.nic_subnet_ext_id(nic))
        self.assertEqual('192.0.2.10', prism_nics.nic_ipv4_address(nic))

    def test_port_without_ipv4_gets_no_address(self):
        vif = make_vif(ips=('2001:db8::5',))
        self.assertIsNone(vifops.first_fixed_ipv4(vif))
        self.assertIsNone(prism_nics.nic_ipv4_address(
            vifops.nic_for_vif(vif)))

    def test_plain_dict_vif(self):
        vif = {'id': PORT_1, 'address': 'fa:16:3e:00:00:09',
               'type': 'nutanix',
               'details': {prism_nics.VIF_DETAIL_SUBNET: 's'},
               'network': {'subnets': [{'ips': [
                   {'address': '198.51.100.7', 'type': 'fixed'}]}]}}
        self.assertIsNone(vifops.nic_reason(vif, base.CLUSTER))
        self.assertEqual('198.51.100.7', vifops.first_fixed_ipv4(vif))

    def test_reasons_a_vif_cannot_be_plugged(self):
        self.assertIsNone(vifops.nic_reason(make_vif(), base.CLUSTER))
        self.assertIn("'ovs'", vifops.nic_reason(
            make_vif(vif_type='ovs'), base.CLUSTER))
        self.assertIn(prism_nics.VIF_DETAIL_SUBNET, vifops.nic_reason(
            make_vif(subnet=None), base.CLUSTER))
        self.assertIn('cluster other', vifops.nic_reason(
            make_vif(cluster='other'), base.CLUSTER))
        self.assertIn('MAC', vifops.nic_reason(make_vif(mac=None),
                                               base.CLUSTER))

    def test_plug_events_as_libvirt(self):
        nw = network_model.NetworkInfo([
            make_vif(PORT_1, active=False),
            make_vif(PORT_2, active=True),
            make_vif('p3', active=False,
                     vnic_type=network_model.VNIC_TYPE_REMOTE_MANAGED)])
        stale = {'id': 'p4', 'type': 'nutanix'}     # no 'active': up
        self.assertEqual([('network-vif-plugged', PORT_1)],
                         vifops.plug_events(list(nw) + [stale]))
        self.assertEqual([], vifops.plug_events(None))


class VifOpsTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.cfg = config_fixture.Config(CONF)
        self.cfg.setUp()
        self.addCleanup(self.cfg.cleanUp)
        self.virtapi = mock.Mock()
        self.ops = vifops.VifOps(self.client, self.virtapi, base.CLUSTER)
        self.instance = base.make_instance()
        self.client.vms.list_nics.return_value = []

    def raises(self, exc, f, *args, **kwargs):
        with self.assertRaises(exc) as cm:
            f(*args, **kwargs)
        return cm.exception

    # -- specs --

    def test_nic_specs_in_network_info_order(self):
        nw = [make_vif(PORT_1, mac='fa:16:3e:00:00:01', subnet='s1'),
              make_vif(PORT_2, mac='FA:16:3E:00:00:02', subnet='s2',
                       ips=('192.0.2.20',))]
        specs = self.ops.nic_specs(nw)
        self.assertEqual([('fa:16:3e:00:00:01', 's1', '192.0.2.10'),
                          ('fa:16:3e:00:00:02', 's2', '192.0.2.20')],
                         [(prism_nics.nic_mac(n),
                           prism_nics.nic_subnet_ext_id(n),
                           prism_nics.nic_ipv4_address(n)) for n in specs])
        self.assertEqual([mock.call('s1'), mock.call('s2')],
                         self.client.subnets.get.call_args_list)

    def test_foreign_vif_type_is_virtual_interface_create_exception(self):
        e = self.raises(exception.VirtualInterfaceCreateException,
                        self.ops.nic_specs, [make_vif(vif_type='ovs')])
        self.assertIn(PORT_1, str(e))
        self.assertIn("vif_type is 'ovs'", str(e))
        self.client.subnets.get.assert_not_called()

    def test_missing_subnet_is_virtual_interface_create_exception(self):
        self.client.subnets.get.side_effect = prism_exc.NotFound('gone')
        e = self.raises(exception.VirtualInterfaceCreateException,
                        self.ops.nic_specs, [make_vif()])
        self.assertIn('AHV subnet subnet-a', str(e))

    def test_no_network_info_no_nics(self):
        self.assertEqual([], self.ops.nic_specs(None))
        self.assertEqual([], self.ops.nic_specs(
            network_model.NetworkInfo()))

    def test_conflict_on_create_is_virtual_interface_create_exception(self):
        conflict = prism_exc.Conflict('MAC address fa:16:3e:00:00:01 is '
                                      'already used', status=409)
        with self.assertRaises(vifops.VifCreateFailed) as cm:
            with self.ops.creating_nics([make_vif()]):
                raise conflict
        self.assertIn('already used', str(cm.exception))
        self.assertIs(conflict, cm.exception.__cause__)
        # Without ports a conflict is not about NICs.
        with self.assertRaises(prism_exc.Conflict):
            with self.ops.creating_nics([]):
                raise conflict

    # -- the plug wait --

    @contextlib.contextmanager
    def _waiting(self, exc=None, on_event=None):
        """A virtapi whose wait raises ``exc`` at the end of the block."""
        calls = []

        @contextlib.contextmanager
        def wait(instance, events, timeout, error_callback):
            calls.append((events, timeout))
            yield
            if on_event is not None:
                on_event(error_callback)
            if exc is not None:
                raise exc
        self.virtapi.wait_for_instance_event.side_effect = wait
        yield calls

    def test_waits_for_unplugged_vifs_with_timeout(self):
        self.cfg.config(vif_plugging_timeout=42)
        nw = [make_vif(PORT_1, active=False), make_vif(PORT_2, active=True)]
        with self._waiting() as calls:
            with self.ops.wait_for_plugged(self.instance, nw):
                pass
        self.assertEqual([([('network-vif-plugged', PORT_1)], 42)], calls)

    def test_no_wait_when_timeout_zero_or_not_powering_on(self):
        nw = [make_vif(active=False)]
        self.cfg.config(vif_plugging_timeout=0)
        with self.ops.wait_for_plugged(self.instance, nw):
            pass
        self.cfg.config(vif_plugging_timeout=300)
        with self.ops.wait_for_plugged(self.instance, nw, power_on=False):
            pass
        with self.ops.wait_for_plugged(self.instance,
                                       [make_vif(active=True)]):
            pass
        self.virtapi.wait_for_instance_event.assert_not_called()

    def test_no_wait_when_rebuilding(self):
        # The rebuild's network_info is the boot-time cache (not active);
        # the port stays bound to the same host, so no event comes.
        self.cfg.config(vif_plugging_timeout=300)
        self.instance.task_state = task_states.REBUILD_SPAWNING
        with self._waiting() as calls:
            with self.ops.wait_for_plugged(self.instance,
                                           [make_vif(active=False)]):
                pass
        self.assertEqual([], calls)
        self.virtapi.wait_for_instance_event.assert_not_called()
        # A plain spawn of the same instance still waits.
        self.instance.task_state = task_states.SPAWNING
        with self._waiting() as calls:
            with self.ops.wait_for_plugged(self.instance,
                                           [make_vif(PORT_1, active=False)]):
                pass
        self.assertEqual([([('network-vif-plugged', PORT_1)], 300)], calls)

    def test_timeout_fatal(self):
        self.cfg.config(vif_plugging_timeout=5, vif_plugging_is_fatal=True)
        with self._waiting(exc=exception.InstanceEventTimeout()):
            e = self.raises(exception.VirtualInterfaceCreateException,
                            self._run_wait, [make_vif()])
        self.assertIn(PORT_1, str(e))
        self.assertIn('5 seconds', str(e))

    def test_timeout_not_fatal(self):
        self.cfg.config(vif_plugging_timeout=5, vif_plugging_is_fatal=False)
        with self._waiting(exc=exception.InstanceEventTimeout()):
            self._run_wait([make_vif()])

    def test_failed_event_fatal_or_not(self):
        def fail(callback):
            callback('network-vif-plugged-' + PORT_1, self.instance)
        self.cfg.config(vif_plugging_timeout=5, vif_plugging_is_fatal=True)
        with self._waiting(on_event=fail):
            e = self.raises(exception.VirtualInterfaceCreateException,
                            self._run_wait, [make_vif()])
        self.assertIn(PORT_1, str(e))
        self.cfg.config(vif_plugging_is_fatal=False)
        with self._waiting(on_event=fail):
            self._run_wait([make_vif()])

    def _run_wait(self, nw):
        with self.ops.wait_for_plugged(self.instance, nw):
            pass

    # -- attach / detach --

    def test_attach_adds_nic(self):
        self.client.vms.add_nic.return_value = {'extId': 'nic-1'}
        vif = make_vif()
        self.assertEqual({'extId': 'nic-1'}, self.ops.attach_interface(
            self.instance, 'vm-1', vif))
        self.client.vms.add_nic.assert_called_once_with(
            'vm-1', vifops.nic_for_vif(vif))

    def test_attach_is_idempotent(self):
        vif = make_vif()
        nic = dict(vifops.nic_for_vif(vif), extId='nic-1')
        self.client.vms.list_nics.return_value = [nic]
        self.assertEqual(nic, self.ops.attach_interface(
            self.instance, 'vm-1', vif))
        self.client.vms.add_nic.assert_not_called()

    def test_attach_conflict_is_interface_attach_failed(self):
        self.client.vms.add_nic.side_effect = prism_exc.Conflict(
            'IP address 192.0.2.10 is already used', status=409)
        e = self.raises(exception.InterfaceAttachFailed,
                        self.ops.attach_interface, self.instance, 'vm-1',
                        make_vif())
        self.assertIn('192.0.2.10 is already used', str(e))
        self.assertIn(self.instance.uuid, str(e))

    def test_attach_failed_task_is_interface_attach_failed(self):
        self.client.vms.add_nic.side_effect = prism_exc.TaskFailed('nope')
        self.raises(exception.InterfaceAttachFailed,
                    self.ops.attach_interface, self.instance, 'vm-1',
                    make_vif())

    def test_attach_foreign_vif_adds_nothing(self):
        e = self.raises(exception.InterfaceAttachFailed,
                        self.ops.attach_interface, self.instance, 'vm-1',
                        make_vif(vif_type='bridge'))
        self.assertIn("vif_type is 'bridge'", str(e))
        self.client.vms.add_nic.assert_not_called()

    def _nics(self, *macs):
        return [dict(prism_nics.nic_spec(mac, 's'), extId='nic-%d' % i)
                for i, mac in enumerate(macs)]

    def test_detach_deletes_nic_with_port_mac(self):
        self.client.vms.list_nics.return_value = self._nics(
            'fa:16:3e:00:00:09', 'fa:16:3e:00:00:01')
        self.ops.detach_interface(self.instance, 'vm-1',
                                  make_vif(mac='FA:16:3E:00:00:01'))
        self.client.vms.delete_nic.assert_called_once_with('vm-1', 'nic-1')

    def test_detach_nic_already_gone(self):
        self.client.vms.list_nics.return_value = self._nics(
            'fa:16:3e:00:00:09')
        self.ops.detach_interface(self.instance, 'vm-1', make_vif())
        self.client.vms.delete_nic.assert_not_called()
        self.client.vms.list_nics.return_value = self._nics(
            'fa:16:3e:00:00:01')
        self.client.vms.delete_nic.side_effect = prism_exc.NotFound('gone')
        self.ops.detach_interface(self.instance, 'vm-1', make_vif())


class SpawnWithPortsTestCase(base.TestCase):
    """vmops.spawn: NICs made with the VM, power on after the plug wait."""

    def setUp(self):
        super().setUp()
        self.cfg = config_fixture.Config(CONF)
        self.cfg.setUp()
        self.addCleanup(self.cfg.cleanUp)
        self.cfg.config(vif_plugging_timeout=300, vif_plugging_is_fatal=True)
        self.calls = mock.Mock()
        self.virtapi = mock.Mock()

        @contextlib.contextmanager
        def wait(instance, events, timeout, error_callback):
            self.calls.wait_start(events)
            yield
            self.calls.wait_end()
            if self.wait_error is not None:
                raise self.wait_error
        self.wait_error = None
        self.virtapi.wait_for_instance_event.side_effect = wait
        self.images = mock.Mock()
        self.images.image_for_boot.return_value = ('img-raw', 'DISK_IMAGE')
        self.client.images.get.return_value = {'sizeBytes': base.GiB}
        self.client.vms.list.return_value = []

        def create(*args, **kwargs):
            self.calls.create(*args, **kwargs)
            return {'extId': 'vm-new'}
        self.client.vms.create.side_effect = create
        self.client.vms.power_on.side_effect = self.calls.power_on
        self.instance = base.make_instance()
        self.client.vms.get.return_value = base.vm_dict(
            self.instance, ext_id='vm-new', power='OFF')
        self.ops = vmops.VMOps(
            self.client, mock.Mock(), base.CLUSTER, base.CONTAINER,
            self.images, mock.Mock(),
            vifops.VifOps(self.client, self.virtapi, base.CLUSTER))
        self.image_meta = objects.ImageMeta.from_dict(
            {'id': '6f2d9e1c-5f6b-4d43-9a51-6a3f0b1e2c11',
             'disk_format': 'raw'})

    def spawn(self, nw, **kw):
        self.ops.spawn('ctx', self.instance, self.image_meta, None, None,
                       network_info=nw, **kw)

    def test_nics_created_with_vm_then_wait_then_power_on(self):
        nw = network_model.NetworkInfo([
            make_vif(PORT_1), make_vif(PORT_2, mac='fa:16:3e:00:00:02',
                                       ips=('192.0.2.11',), active=True)])
        self.spawn(nw)
        nics = self.client.vms.create.call_args.kwargs['nics']
        self.assertEqual(vifops.VifOps(self.client, None, base.CLUSTER)
                         .nic_specs(nw), nics)
        self.assertEqual(2, len(nics))
        self.assertEqual(
            ['wait_start', 'create', 'wait_end', 'power_on'],
            [c[0] for c in self.calls.mock_calls])
        self.assertEqual([('network-vif-plugged', PORT_1)],
                         self.calls.wait_start.call_args.args[0])

    def test_not_powered_on_does_not_wait(self):
        self.spawn([make_vif()], power_on=False)
        self.virtapi.wait_for_instance_event.assert_not_called()
        self.client.vms.power_on.assert_not_called()
        self.assertEqual(1, len(
            self.client.vms.create.call_args.kwargs['nics']))

    def test_foreign_vif_creates_nothing(self):
        self.assertRaises(exception.VirtualInterfaceCreateException,
                          self.spawn, [make_vif(vif_type='ovs')])
        self.client.vms.create.assert_not_called()
        self.images.image_for_boot.assert_not_called()

    def test_plug_timeout_deletes_vm_and_never_powers_on(self):
        self.wait_error = exception.InstanceEventTimeout()
        self.assertRaises(vifops.VifPlugTimeout, self.spawn, [make_vif()])
        self.client.vms.delete.assert_called_once_with('vm-new')
        self.client.vms.power_on.assert_not_called()

    def test_plug_timeout_not_fatal_powers_on(self):
        self.cfg.config(vif_plugging_is_fatal=False)
        self.wait_error = exception.InstanceEventTimeout()
        self.spawn([make_vif()])
        self.client.vms.delete.assert_not_called()
        self.client.vms.power_on.assert_called_once_with('vm-new')

    def test_nic_conflict_aborts_build_without_vm(self):
        self.client.vms.create.side_effect = prism_exc.Conflict(
            'MAC address fa:16:3e:00:00:01 is already used', status=409)
        e = self.assertRaises(exception.VirtualInterfaceCreateException,
                              self.spawn, [make_vif()])
        self.assertIn('already used', str(e))
        self.client.vms.delete.assert_not_called()

    def test_volume_attach_failure_deletes_vm(self):
        self.ops._volumeops.attach.side_effect = prism_exc.ServerError('x')
        bdi = {'block_device_mapping': [{'boot_index': 1,
                                         'connection_info': {}}],
               'ephemerals': [], 'swap': None}
        self.assertRaises(prism_exc.ServerError, self.ops.spawn, 'ctx',
                          self.instance, self.image_meta, None, bdi,
                          network_info=[make_vif()])
        self.client.vms.delete.assert_called_once_with('vm-new')

    def assertRaises(self, exc, f, *args, **kwargs):
        with super().assertRaises(exc) as cm:
            f(*args, **kwargs)
        return cm.exception
