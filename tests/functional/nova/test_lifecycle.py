"""Power, state sync, destroy, resize, console and resources of the node."""

import socket

import os_resource_classes as orc
from oslo_utils import uuidutils

from nova.compute import power_state
from nova.compute import provider_tree
from nova import exception

from nutanix_openstack.nova import utils
from tests.functional.nova import base


class LifecycleTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.instance = self.spawn()
        self.vm_ext_id = self.driver.ops.vm.get_vm(self.instance)['extId']

    def state(self):
        return self.driver.get_info(self.instance).state

    def test_power_cycle(self):
        self.assertEqual(power_state.RUNNING, self.state())
        self.driver.power_off(self.instance)
        self.assertEqual(power_state.SHUTDOWN, self.state())
        self.driver.power_off(self.instance)    # already off: no error
        self.driver.power_on(self.context, self.instance, None)
        self.assertEqual(power_state.RUNNING, self.state())
        self.driver.reboot(self.context, self.instance, None, 'SOFT')
        self.driver.reboot(self.context, self.instance, None, 'HARD')
        self.assertEqual(power_state.RUNNING, self.state())

    def test_clean_shutdown_with_timeout(self):
        self.driver.power_off(self.instance, timeout=10, retry_interval=1)
        self.assertEqual(power_state.SHUTDOWN, self.state())

    def test_power_changes_made_by_the_cluster_show_in_nova(self):
        # Someone powers the VM off in Prism (or HA restarts it).
        self.client.vms.power_off(self.vm_ext_id)
        self.assertEqual(power_state.SHUTDOWN, self.state())
        self.client.vms.power_on(self.vm_ext_id)
        self.assertEqual(power_state.RUNNING, self.state())

    def test_resume_state_on_host_boot(self):
        self.client.vms.power_off(self.vm_ext_id)
        self.driver.resume_state_on_host_boot(self.context, self.instance,
                                              None, None)
        self.assertEqual(power_state.RUNNING, self.state())

    def test_listing(self):
        self.assertEqual([self.instance.name], self.driver.list_instances())
        self.assertEqual([self.instance.uuid],
                         self.driver.list_instance_uuids())
        self.assertTrue(self.driver.instance_exists(self.instance))
        other = base.make_instance()
        self.assertFalse(self.driver.instance_exists(other))
        self.assertRaises(exception.InstanceNotFound, self.driver.get_info,
                          other)
        self.assertRaises(exception.InstanceNotFound, self.driver.power_on,
                          self.context, other, None)

    def test_another_compute_takes_over_with_nothing_lost(self):
        # A nova-compute started elsewhere for the same cluster: a new
        # driver with the same configuration and no shared state.
        other = self.new_driver()
        self.assertEqual([self.instance.uuid], other.list_instance_uuids())
        self.assertEqual(power_state.RUNNING,
                         other.get_info(self.instance).state)
        other.power_off(self.instance)
        self.assertEqual(power_state.SHUTDOWN, self.state())
        other.destroy(self.context, self.instance, None)
        self.assertEqual([], self.driver.list_instances())

    def test_destroy_removes_vm_and_disks_and_is_idempotent(self):
        disks_with_vm = self.emu.admin.inventory()['storage']['disks']
        self.driver.destroy(self.context, self.instance, None)
        inv = self.emu.admin.inventory()
        self.assertEqual([], inv['objects'].get('vm', []))
        # Only the cached image's disk is left.
        self.assertEqual(1, inv['storage']['disks'])
        self.assertLess(inv['storage']['disks'], disks_with_vm)
        self.driver.destroy(self.context, self.instance, None)
        self.assertEqual([], self.driver.list_instances())

    def test_resize_grows_root_and_changes_shape_then_reverts(self):
        new = base.make_flavor(vcpus=4, memory_mb=2048, root_gb=3, id=2,
                               flavorid='2')
        self.driver.migrate_disk_and_power_off(
            self.context, self.instance, 'same-node', new, None)
        self.assertEqual(power_state.SHUTDOWN, self.state())
        old = self.instance.flavor
        self.instance.flavor = new
        self.driver.finish_migration(self.context, None, self.instance, '',
                                     None, None, True, {})
        vm = self.driver.ops.vm.get_vm(self.instance)
        self.assertEqual((4, 2048 * base.MiB),
                         (vm['numSockets'], vm['memorySizeBytes']))
        self.assertEqual(3 * base.GiB, utils.disk_size(utils.root_disk(vm)))
        self.assertEqual('ON', vm['powerState'])

        self.driver.power_off(self.instance)
        self.instance.flavor = old
        self.driver.finish_revert_migration(self.context, self.instance,
                                            None, None)
        vm = self.driver.ops.vm.get_vm(self.instance)
        self.assertEqual((2, 1024 * base.MiB),
                         (vm['numSockets'], vm['memorySizeBytes']))
        self.assertEqual('ON', vm['powerState'])
        self.driver.confirm_migration(self.context, None, self.instance,
                                      None)

    def test_resize_cannot_shrink_root(self):
        tiny = base.make_flavor(root_gb=1, id=4, flavorid='4')
        vm = self.driver.ops.vm.get_vm(self.instance)
        self.client.vms.resize_disk(vm['extId'],
                                    utils.root_disk(vm)['extId'],
                                    2 * base.GiB)
        self.assertRaises(exception.InstanceFaultRollback,
                          self.driver.migrate_disk_and_power_off,
                          self.context, self.instance, 'same-node', tiny,
                          None)
        self.assertEqual(power_state.RUNNING, self.state())

    def test_vnc_console(self):
        console = self.driver.get_vnc_console(self.context, self.instance)
        self.assertEqual('127.0.0.1', console.host)
        self.assertIn('/vnc/vm/%s/proxy?token=' % self.vm_ext_id,
                      console.internal_access_path)
        self.assertGreater(len(console.internal_access_path.split('=')[1]),
                           8)

    def test_vnc_console_is_what_nova_novncproxy_relays(self):
        # nova-novncproxy connects to host:port, sends CONNECT with the
        # internal access path, wants a 200 line, then relays RFB.
        self.cfg.config(group='nutanix', console_proxy_host='127.0.0.1',
                        console_proxy_port=self.emu.console_port)
        console = self.driver.get_vnc_console(self.context, self.instance)
        self.assertEqual(self.emu.console_port, console.port)
        with socket.create_connection((console.host, console.port),
                                      timeout=10) as sock:
            sock.sendall(b'CONNECT %s HTTP/1.1\r\n\r\n'
                         % console.internal_access_path.encode())
            answer = b''
            while not answer.endswith(b'\r\n\r\n'):
                answer += sock.recv(1)
            self.assertEqual(b'HTTP/1.1 200 OK\r\n\r\n', answer)
            self.assertEqual(b'RFB 003.008\n', sock.recv(12))
        # A stopped instance has no console.
        self.driver.power_off(self.instance)
        self.assertRaises(exception.InstanceNotReady,
                          self.driver.get_vnc_console, self.context,
                          self.instance)

    def test_node_resources_from_the_cluster(self):
        (node,) = self.driver.get_available_nodes()
        res = self.driver.get_available_resource(node)
        hosts = self.client.clusters.list_hosts(self.emu.cluster_ext_id)
        self.assertEqual(sum(h['numberOfCpuThreads'] for h in hosts),
                         res['vcpus'])
        self.assertEqual(2, res['vcpus_used'])
        self.assertEqual(1024, res['memory_mb_used'])
        tree = provider_tree.ProviderTree()
        tree.new_root(node, uuidutils.generate_uuid())
        self.driver.update_provider_tree(tree, node)
        inv = tree.data(node).inventory
        self.assertEqual(max(h['numberOfCpuThreads'] for h in hosts),
                         inv[orc.VCPU]['max_unit'])
        cap = self.client.clusters.container_capacity(
            self.driver.ops.container_ext_id)
        self.assertEqual(cap['free_bytes'] // base.GiB,
                         inv[orc.DISK_GB]['max_unit'])


class RescueTestCase(base.TestCase):

    def test_rescue_boots_the_rescue_image_with_the_root_attached(self):
        instance = self.spawn(data=b'broken-root' * 100)
        rescue_data = b'rescue-system' * 100
        rescue_id = self.glance.add(rescue_data)
        self.driver.rescue(self.context, instance, None,
                           self.image_meta(rescue_id), 'pw', None, None)
        vm = self.driver.ops.vm.get_vm(instance)
        self.assertEqual('ON', vm['powerState'])
        (rescue,) = [d for d in vm['disks']
                     if utils.disk_address(d) == ('SATA', 0)]
        self.assertEqual(rescue_data, self.emu.admin.read_disk(
            rescue['extId'], 0, len(rescue_data)))
        self.assertEqual({'busType': 'SATA', 'index': 0}, {
            k: v for k, v in vm['bootConfig']['bootDevice']['diskAddress']
            .items() if not k.startswith('$')})
        root = utils.root_disk(vm)
        self.assertEqual(b'broken-root', self.emu.admin.read_disk(
            root['extId'], 0, 11))
        self.assertRaises(exception.InstanceNotRescuable,
                          self.driver.rescue, self.context, instance, None,
                          self.image_meta(rescue_id), None, None, None)

        self.driver.unrescue(self.context, instance)
        vm = self.driver.ops.vm.get_vm(instance)
        self.assertEqual([], [d for d in vm['disks']
                              if utils.disk_address(d) == ('SATA', 0)])
        self.assertEqual('SCSI', vm['bootConfig']['bootDevice']
                         ['diskAddress']['busType'])
        self.assertEqual('ON', vm['powerState'])
