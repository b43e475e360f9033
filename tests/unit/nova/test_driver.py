"""driver: the facade, its configuration checks and its error boundary."""

import inspect
from unittest import mock

import os_resource_classes as orc
import os_traits
from oslo_config import fixture as config_fixture
from oslo_utils import uuidutils

from nova.compute import provider_tree
from nova.compute import task_states
from nova import conf as nova_conf
from nova import exception
from nova.virt import fake

from nutanix_openstack.nova import conf as nutanix_conf
from nutanix_openstack.nova import driver
from nutanix_openstack.prism import exceptions as prism_exc
from tests.unit.nova import base

CONF = nova_conf.CONF


class DriverTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.cfg = config_fixture.Config(CONF)
        self.cfg.setUp()
        self.addCleanup(self.cfg.cleanUp)
        nutanix_conf.register_opts(CONF)
        self.cfg.config(endpoints=['https://prism:9440'], username='u',
                        password='secret-pw', storage_container='ctr',
                        group='nutanix')
        patcher = mock.patch.object(driver.prism_client.PrismClient,
                                    'from_conf', return_value=self.client)
        self.from_conf = patcher.start()
        self.addCleanup(patcher.stop)
        self.client.clusters.find_storage_container.return_value = {
            'extId': base.CONTAINER}
        self.driver = driver.NutanixDriver(fake.FakeVirtAPI())
        self.instance = base.make_instance()

    def test_client_from_nutanix_group(self):
        self.from_conf.assert_called_once_with(CONF.nutanix)

    def test_missing_options_are_a_clear_error(self):
        self.cfg.config(storage_container=None, password=None,
                        group='nutanix')
        e = self._raises(exception.InvalidConfiguration,
                         driver.NutanixDriver, fake.FakeVirtAPI())
        self.assertIn('password', str(e))
        self.assertIn('storage_container', str(e))

    def _raises(self, exc, f, *a, **kw):
        with self.assertRaises(exc) as cm:
            f(*a, **kw)
        return cm.exception

    def test_constructing_needs_no_backend(self):
        self.client.cluster_ext_id.assert_not_called()

    def test_init_host_resolves_cluster_and_container(self):
        self.driver.init_host('compute1')
        self.client.clusters.find_storage_container.assert_called_once_with(
            'ctr', cluster_ext_id=base.CLUSTER)
        self.assertEqual(base.CONTAINER, self.driver.ops.container_ext_id)

    def test_unknown_container_is_invalid_configuration(self):
        self.client.clusters.find_storage_container.side_effect = (
            prism_exc.NotFound('no container ctr'))
        self._raises(exception.InvalidConfiguration, self.driver.init_host,
                     'compute1')

    def test_ambiguous_cluster_is_invalid_configuration(self):
        self.client.cluster_ext_id.side_effect = (
            prism_exc.ConfigurationError('found 2 clusters'))
        self._raises(exception.InvalidConfiguration, self.driver.init_host,
                     'compute1')

    def test_backend_not_found_is_instance_not_found(self):
        self.client.vms.list.return_value = [base.vm_dict(self.instance)]
        self.client.vms.get.return_value = base.vm_dict(self.instance,
                                                        power='OFF')
        self.client.vms.power_on.side_effect = prism_exc.NotFound(
            'vm gone', status=404, method='POST',
            url='https://p:9440/api/vmm/v4.3/ahv/config/vms/vm-1/$actions/'
                'power-on')
        e = self._raises(exception.InstanceNotFound, self.driver.power_on,
                         'ctx', self.instance, None)
        self.assertIn(self.instance.uuid, str(e))

    def test_other_missing_objects_are_backend_errors(self):
        self.client.vms.list.return_value = [base.vm_dict(self.instance)]
        self.client.vms.get.return_value = base.vm_dict(self.instance)
        self.client.volume_groups.list_vm_attachments.side_effect = (
            prism_exc.NotFound('no such volume group', status=404,
                               url='https://p:9440/api/volumes/v4.3/config/'
                                   'volume-groups/vg-x/vm-attachments'))
        self._raises(driver.NutanixBackendError, self.driver.attach_volume,
                     'ctx', {'driver_volume_type': 'iscsi',
                             'data': {'volume_group_ext_id': 'vg-x'}},
                     self.instance, '/dev/sdb')

    def test_connection_failure_is_hypervisor_unavailable(self):
        self.client.vms.list.side_effect = prism_exc.ConnectionFailed('down')
        self._raises(exception.HypervisorUnavailable,
                     self.driver.list_instances)

    def test_other_backend_errors_keep_their_message(self):
        self.client.vms.list.side_effect = prism_exc.ServerError(
            'internal', status=500, request_id='req-1')
        e = self._raises(driver.NutanixBackendError,
                         self.driver.list_instance_uuids)
        self.assertIn('req-1', str(e))

    def test_pause_and_suspend_are_not_supported(self):
        for call in (lambda: self.driver.pause(self.instance),
                     lambda: self.driver.unpause(self.instance),
                     lambda: self.driver.suspend('ctx', self.instance),
                     lambda: self.driver.resume('ctx', self.instance, None),
                     lambda: self.driver.get_console_output('ctx',
                                                            self.instance)):
            self.assertRaises(NotImplementedError, call)
        self.client.vms.assert_not_called()

    def test_attach_volume_of_other_driver(self):
        self._raises(exception.VolumeDriverNotFound,
                     self.driver.attach_volume, 'ctx',
                     {'driver_volume_type': 'rbd', 'data': {}},
                     self.instance, '/dev/sdb')
        self.client.vms.list.assert_not_called()

    def test_attach_volume_to_missing_instance(self):
        self.client.vms.list.return_value = []
        self._raises(exception.InstanceNotFound, self.driver.attach_volume,
                     'ctx', {'driver_volume_type': 'iscsi',
                             'data': {'volume_group_ext_id': 'vg'}},
                     self.instance, '/dev/sdb')

    def test_detach_volume_of_deleted_vm(self):
        self.client.vms.list.return_value = []
        self.driver.detach_volume('ctx', {'driver_volume_type': 'iscsi',
                                          'data': {'volume_group_ext_id':
                                                   'vg'}},
                                  self.instance, '/dev/sdb')
        self.client.volume_groups.detach_vm.assert_not_called()

    def test_attach_interface_to_missing_instance(self):
        self.client.vms.list.return_value = []
        self._raises(exception.InstanceNotFound, self.driver.attach_interface,
                     'ctx', self.instance, None, {'id': 'p'})
        self.client.vms.add_nic.assert_not_called()

    def test_attach_interface_to_vm_that_vanished(self):
        self.expect_vm(base.vm_dict(self.instance))
        self.client.vms.list_nics.return_value = []
        self.client.vms.add_nic.side_effect = prism_exc.NotFound(
            'no VM', url='https://p/api/vmm/v4.1/ahv/config/vms/vm-1/nics')
        vif = {'id': 'p', 'type': 'nutanix', 'address': 'fa:16:3e:0:0:1',
               'details': {'nutanix_subnet_ext_id': 's'}}
        self._raises(exception.InstanceNotFound, self.driver.attach_interface,
                     'ctx', self.instance, None, vif)

    def test_detach_interface_of_deleted_vm(self):
        self.client.vms.list.return_value = []
        self.driver.detach_interface('ctx', self.instance, {'id': 'p'})
        self.client.vms.list_nics.assert_not_called()

    def test_destroy_during_resize_revert_keeps_the_vm(self):
        self.instance.task_state = task_states.RESIZE_REVERTING
        self.driver.destroy('ctx', self.instance, None)
        self.client.vms.list.assert_not_called()
        self.client.vms.delete.assert_not_called()

    def test_snapshot_of_instance_without_vm(self):
        self.client.vms.list.return_value = []
        self._raises(exception.InstanceNotRunning, self.driver.snapshot,
                     'ctx', self.instance, 'img', lambda **kw: None)

    def test_capabilities_as_traits(self):
        traits = self.driver.capabilities_as_traits()
        for t in (os_traits.COMPUTE_IMAGE_TYPE_RAW,
                  os_traits.COMPUTE_IMAGE_TYPE_QCOW2,
                  os_traits.COMPUTE_IMAGE_TYPE_ISO,
                  os_traits.COMPUTE_VOLUME_EXTEND,
                  os_traits.COMPUTE_NET_ATTACH_INTERFACE):
            self.assertTrue(traits[t], t)
        for t in (os_traits.COMPUTE_IMAGE_TYPE_AMI,
                  os_traits.COMPUTE_VOLUME_MULTI_ATTACH):
            self.assertFalse(traits[t], t)

    def test_update_provider_tree(self):
        self.client.clusters.list_hosts.return_value = [
            {'numberOfCpuThreads': 8, 'memorySizeBytes': 16 * 1024 ** 3}]
        self.client.clusters.container_capacity.return_value = {
            'total_bytes': 100 * base.GiB, 'used_bytes': 0,
            'free_bytes': 60 * base.GiB, 'provisioned_bytes': 0}
        self.client.vms.list.return_value = []
        self.cfg.config(cpu_allocation_ratio=2.0, reserved_host_cpus=1,
                        reserved_host_memory_mb=512)
        tree = provider_tree.ProviderTree()
        tree.new_root('c1', uuidutils.generate_uuid())
        self.driver.update_provider_tree(tree, 'c1')
        inv = tree.data('c1').inventory
        self.assertEqual(8, inv[orc.VCPU]['total'])
        self.assertEqual(1, inv[orc.VCPU]['reserved'])
        self.assertEqual(2.0, inv[orc.VCPU]['allocation_ratio'])
        self.assertEqual(16 * 1024, inv[orc.MEMORY_MB]['total'])
        self.assertEqual(512, inv[orc.MEMORY_MB]['reserved'])
        self.assertEqual(60, inv[orc.DISK_GB]['max_unit'])

    def test_password_not_in_logged_config(self):
        opt = [o for o in nutanix_conf.list_opts()[0][1]
               if o.name == 'password'][0]
        self.assertTrue(opt.secret)

    def test_list_opts_has_connection_and_driver_options(self):
        group, opts = nutanix_conf.list_opts()[0]
        self.assertEqual('nutanix', group.name)
        names = {o.name for o in opts}
        self.assertLessEqual({'endpoints', 'username', 'password', 'cluster',
                              'storage_container', 'image_cache_prefix',
                              'direct_snapshot'}, names)
        for o in opts:
            self.assertTrue(o.help, o.name)

    def test_connector_for_cinder(self):
        self.cfg.config(my_block_storage_ip='10.1.1.1', host='compute-7')
        with mock.patch.object(driver.volumeops, 'host_initiator',
                               return_value='iqn.x:host'):
            self.driver.init_host('compute-7')
            conn = self.driver.get_volume_connector(self.instance)
        self.assertEqual({'ip': '10.1.1.1', 'host': 'compute-7',
                          'initiator': 'iqn.x:host', 'multipath': False,
                          'platform': 'x86_64', 'os_type': 'linux',
                          'nutanix_cluster_ext_id': base.CLUSTER}, conn)


class SignatureTestCase(base.TestCase):

    def test_overrides_take_the_arguments_nova_passes(self):
        for name, f in vars(driver.NutanixDriver).items():
            base_f = getattr(driver.driver.ComputeDriver, name, None)
            if name.startswith('_') or not callable(base_f):
                continue
            ours = inspect.signature(getattr(f, '__wrapped__', f))
            self.assertEqual(list(inspect.signature(base_f).parameters),
                             list(ours.parameters), name)
