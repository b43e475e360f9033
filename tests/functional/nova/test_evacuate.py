"""Evacuation to the secondary cluster, from the instance's replica.

Two emulator processes are the primary cluster (site A) and the secondary
(site B), paired.  An instance is booted by a driver for site A, known
bytes are written into its root disk and into a Cinder volume attached to
it (the emulator's disk I/O, as a guest would), the VM and the volume are
replicated to site B, site A is SIGKILLed, and a driver for site B (a
nova-compute for cluster B) rebuilds the evacuated instance as Nova's
compute manager calls it (``rebuild(..., evacuate=True)``).  The bytes
are read back on site B.

The Cinder side is played with the Prism client, doing what the Cinder
driver does (a ``replica-volume-<id>.<time>`` recovery point of the
volume group replicated to B; ``failover-host`` restoring it on B as
``volume-<id>``, whose connection info then names the new volume group):
Cinder and Nova cannot share one process (see PEER_SUITES.md); the Cinder
driver's own failover is tested in tests/functional/cinder.
"""

import hashlib
import os

from oslo_config import fixture as config_fixture
from oslo_utils import uuidutils

from nova.compute import power_state
from nova.compute import task_states
from nova import context as nova_context
from nova import exception
from nova.network import model as network_model
from nova import objects
from nova.virt import fake

from nutanix_openstack.nova import driver
from nutanix_openstack.nova import utils
from nutanix_openstack.prism import nics as prism_nics
from nutanix_openstack.prism import paths
from nutanix_openstack.prism import volume_groups as prism_vgs
from tests.functional.nova import base

MiB = base.MiB


def sha256(data):
    return hashlib.sha256(data).hexdigest()


class NovaInstance(object):
    """What the compute manager does around ``driver.rebuild``.

    Records the task states the driver saves and the calls to the
    manager's block-device callbacks (Nova's database and Cinder are not
    here: the callbacks return the block device info Cinder's connection
    info gives after the failover).
    """

    def __init__(self, instance, block_device_info):
        self.instance = instance
        self.block_device_info = block_device_info
        self.saved = []
        self.calls = []
        instance.save = self.save

    def save(self, expected_task_state=None):
        self.saved.append((self.instance.task_state, expected_task_state))

    def detach_block_devices(self, context, bdms, detach_root_bdm=True):
        self.calls.append('detach')

    def attach_block_devices(self, context, instance, bdms):
        self.calls.append('attach')
        return self.block_device_info


class EvacuateTestCase(base.TestCase):

    def setUp(self):
        # Site A: the shared emulator of the Nova tests is not used, the
        # test kills its primary.
        self.site_a = base.emulator_fixture.EmulatorProcess()
        self.site_b = base.emulator_fixture.EmulatorProcess(site=2)
        for site in (self.site_a, self.site_b):
            self.addCleanup(site.cleanup)
            site.start()
        self.site_a.pair(self.site_b)
        self.cfg = config_fixture.Config(base.CONF)
        self.cfg.setUp()
        self.addCleanup(self.cfg.cleanUp)
        base.configure(self.cfg, self.site_a)
        self.context = nova_context.get_admin_context()
        self.glance = base.FakeImageService()
        self.driver_a = self.new_driver()
        self.a = self.driver_a._client
        self.glance.client = self.a
        self.b = self.site_b.prism_client()
        self.addCleanup(self.b.close)

    def new_driver(self):
        d = driver.NutanixDriver(fake.FakeVirtAPI())
        d._image_api = self.glance
        d.init_host('compute-%d' % id(d))
        return d

    def driver_for_b(self):
        """nova-compute for cluster B (its own ``[nutanix]`` options)."""
        base.configure(self.cfg, self.site_b)
        return self.new_driver()

    def boot_on_a(self, **kw):
        instance = base.make_instance(
            flavor=base.make_flavor(root_gb=0), **kw)
        # root_gb 0: the root disk is the image's size (4 MiB).
        image_id = self.glance.add(b'image bytes'.ljust(4 * MiB, b'\0'))
        instance.image_ref = image_id
        self.driver_a.spawn(self.context, instance,
                            objects.ImageMeta.from_dict(
                                self.glance.get(None, image_id)),
                            [], None, {})
        return instance, image_id

    def root_disk_of(self, client, instance):
        vm = client.vms.find_by_name(instance.uuid)[0]
        vm = client.vms.get(vm['extId'])
        return vm, utils.root_disk(vm)

    def replicate_vm(self, instance):
        """A recovery point of the instance's VM, replicated to site B.

        What a protection policy (or an operator's script) does on the
        primary.
        """
        vm, _ = self.root_disk_of(self.a, instance)
        rp = self.a.recovery_points.create(
            'protect-%s' % instance.uuid, vm_ext_ids=[vm['extId']])
        return self.a.replication.replicate(
            rp['extId'], cluster_ext_id=self.site_b.cluster_ext_id)

    def evacuate(self, driver_b, instance, block_device_info=None,
                 image_id=None, network_info=()):
        nova = NovaInstance(instance, block_device_info)
        instance.task_state = task_states.REBUILDING
        image_meta = objects.ImageMeta.from_dict(
            self.glance.get(None, image_id)) if image_id else (
            objects.ImageMeta())
        driver_b.rebuild(
            self.context, instance, image_meta, [], None, {}, bdms=[],
            detach_block_devices=nova.detach_block_devices,
            attach_block_devices=nova.attach_block_devices,
            network_info=network_model.NetworkInfo(network_info),
            evacuate=True, block_device_info=block_device_info)
        return nova

    def b_inventory(self):
        """Cluster B's objects and disks (task records left out)."""
        inventory = self.site_b.admin.inventory()
        inventory['objects'].pop('task', None)
        return inventory

    def test_evacuated_instance_comes_back_with_its_disk_and_volume(self):
        instance, image_id = self.boot_on_a()
        vm_a, root_a = self.root_disk_of(self.a, instance)
        written = os.urandom(2 * MiB)
        self.site_a.admin.write_disk(root_a['extId'], MiB, written)
        root_bytes = self.site_a.admin.read_disk(root_a['extId'])

        # A Cinder volume of the nutanix driver, attached to the instance.
        volume_id = uuidutils.generate_uuid()
        vg = self.a.volume_groups.create(
            'volume-%s' % volume_id, disks=[prism_vgs.volume_disk(
                4 * MiB, self.site_a.container_ext_id)])
        self.driver_a.attach_volume(
            self.context, {'driver_volume_type': 'iscsi',
                           'data': {'volume_group_ext_id': vg['extId']}},
            instance, '/dev/sdb')
        vol_disk = self.a.volume_groups.list_disks(vg['extId'])[0]['extId']
        vol_bytes = os.urandom(MiB)
        self.site_a.admin.write_disk(vol_disk, 0, vol_bytes)
        # Cinder's replication of the volume (replica-volume-<id>.<time>).
        vol_rp = self.a.recovery_points.create(
            'replica-volume-%s.20261205T130000' % volume_id,
            volume_group_ext_ids=[vg['extId']])
        self.a.replication.replicate(
            vol_rp['extId'], cluster_ext_id=self.site_b.cluster_ext_id)

        self.replicate_vm(instance)
        # Written after the replication: lost with site A (the RPO).
        self.site_a.admin.write_disk(root_a['extId'], 0, b'too late')
        self.site_a.kill()

        # cinder failover-host: the volume's newest replica restored on B
        # under its usual name; its connection info names the new group.
        vol_replica = self.b.replication.latest('replica-volume-%s.'
                                                % volume_id)
        (restored,) = self.b.recovery_points.restore(
            vol_replica['extId'])
        self.assertEqual(paths.REL_VOLUME_GROUP, restored['rel'])
        block_device_info = {
            'root_device_name': '/dev/sda', 'ephemerals': [], 'swap': None,
            'block_device_mapping': [{
                'connection_info': {
                    'driver_volume_type': 'iscsi',
                    'data': {'volume_group_ext_id': restored['extId']}},
                'mount_device': '/dev/sdb', 'boot_index': None,
                'delete_on_termination': False}]}

        driver_b = self.driver_for_b()
        self.assertFalse(driver_b.instance_exists(instance))
        self.assertTrue(driver_b.instance_on_disk(instance))
        self.assertTrue(driver_b.capabilities['supports_evacuate'])
        nova = self.evacuate(driver_b, instance, block_device_info,
                             image_id=image_id)

        self.assertEqual(['detach', 'attach'], nova.calls)
        self.assertEqual(
            [(task_states.REBUILD_BLOCK_DEVICE_MAPPING,
              [task_states.REBUILDING]),
             (task_states.REBUILD_SPAWNING,
              [task_states.REBUILD_BLOCK_DEVICE_MAPPING])], nova.saved)
        self.assertEqual(power_state.RUNNING,
                         driver_b.get_info(instance).state)
        vm_b, root_b = self.root_disk_of(self.b, instance)
        self.assertNotEqual(vm_a['extId'], vm_b['extId'])
        self.assertEqual(self.site_b.cluster_ext_id, vm_b['cluster']['extId'])
        self.assertEqual(
            self.site_b.container_ext_id,
            root_b['backingInfo']['storageContainer']['extId'])
        # Its disk, not the image: the bytes of the replica, byte for byte.
        self.assertEqual(sha256(root_bytes), sha256(
            self.site_b.admin.read_disk(root_b['extId'])))
        self.assertEqual(
            b'image bytes',
            self.site_b.admin.read_disk(root_b['extId'], 0, 11))
        # The image was never fetched for cluster B.
        self.assertEqual([], self.b.images.list())
        # The volume, through Cinder's connection info after failover.
        self.assertEqual(
            [vm_b['extId']],
            [a['extId'] for a in self.b.volume_groups.list_vm_attachments(
                restored['extId'])])
        b_vol_disk = self.b.volume_groups.list_disks(
            restored['extId'])[0]['extId']
        self.assertEqual(sha256(vol_bytes), sha256(
            self.site_b.admin.read_disk(b_vol_disk, 0, MiB)))
        # Deleting the instance keeps the volume group.
        driver_b.destroy(self.context, instance, [], block_device_info)
        self.assertIsNone(driver_b.ops.vm.find_vm(instance))
        self.b.volume_groups.get(restored['extId'])

    def test_newest_replica_wins(self):
        instance, image_id = self.boot_on_a()
        _, root_a = self.root_disk_of(self.a, instance)
        self.site_a.admin.write_disk(root_a['extId'], 0, b'first state')
        self.replicate_vm(instance)
        self.site_a.admin.write_disk(root_a['extId'], 0, b'second state')
        self.replicate_vm(instance)
        self.site_a.kill()
        driver_b = self.driver_for_b()
        self.evacuate(driver_b, instance, image_id=image_id)
        _, root_b = self.root_disk_of(self.b, instance)
        self.assertEqual(b'second state',
                         self.site_b.admin.read_disk(root_b['extId'], 0, 12))

    def test_no_replica_is_a_clear_error_and_nothing_is_made(self):
        instance, image_id = self.boot_on_a()
        # Another instance's VM is replicated, not this one's.
        other, _ = self.boot_on_a()
        self.replicate_vm(other)
        self.site_a.kill()
        driver_b = self.driver_for_b()
        self.assertFalse(driver_b.instance_on_disk(instance))
        before = self.b_inventory()
        nova = NovaInstance(instance, None)
        instance.task_state = task_states.REBUILDING
        with self.assertRaises(exception.InstanceFaultRollback) as caught:
            driver_b.rebuild(
                self.context, instance,
                objects.ImageMeta.from_dict(self.glance.get(None, image_id)),
                [], None, {}, bdms=[],
                detach_block_devices=nova.detach_block_devices,
                attach_block_devices=nova.attach_block_devices,
                network_info=[], evacuate=True, block_device_info=None)
        error = caught.exception.inner_exception
        self.assertIsInstance(error, driver.NoInstanceReplica)
        self.assertIn(instance.uuid, error.format_message())
        self.assertIn(self.site_b.cluster_ext_id, error.format_message())
        # Untouched: no task state saved, no block device moved, nothing
        # made on cluster B.
        self.assertEqual(([], []), (nova.saved, nova.calls))
        self.assertEqual(before, self.b_inventory())
        self.assertIsNone(driver_b.ops.vm.find_vm(instance))

    def test_a_rebuild_that_is_not_an_evacuation_is_novas_default(self):
        instance, image_id = self.boot_on_a()
        self.assertRaises(
            NotImplementedError, self.driver_a.rebuild, self.context,
            instance, objects.ImageMeta(), [], None, {}, [], None, None,
            evacuate=False)

    def test_volume_backed_instance_without_replica_is_spawned_again(self):
        instance = base.make_instance()
        self.site_a.kill()
        driver_b = self.driver_for_b()
        before = self.b_inventory()
        root = {'connection_info': {
            'driver_volume_type': 'iscsi',
            'data': {'volume_group_ext_id': uuidutils.generate_uuid()}},
            'mount_device': '/dev/sda', 'boot_index': 0,
            'delete_on_termination': False}
        bdi = {'root_device_name': '/dev/sda', 'ephemerals': [],
               'swap': None, 'block_device_mapping': [root]}
        # Nova's default rebuild then spawns the VM around its volumes.
        self.assertRaises(NotImplementedError, self.evacuate, driver_b,
                          instance, bdi)
        self.assertEqual(before, self.b_inventory())

    def port(self, site, subnet, mac='fa:16:3e:00:00:31'):
        """A port as Neutron's nutanix ML2 driver binds it for ``site``."""
        return network_model.VIF(
            id=uuidutils.generate_uuid(), address=mac, type='nutanix',
            active=True, vnic_type=network_model.VNIC_TYPE_NORMAL,
            details={prism_nics.VIF_DETAIL_SUBNET: subnet,
                     prism_nics.VIF_DETAIL_CLUSTER: site.cluster_ext_id,
                     'port_filter': False},
            network=network_model.Network(
                id='net-1', subnets=[network_model.Subnet(
                    cidr='192.0.2.0/24', ips=[])]))

    def subnet_on_b(self):
        return self.b.subnets.create(
            'openstack-net', 100, self.site_b.cluster_ext_id,
            ipv4={'cidr': '192.0.2.0/24', 'gateway': '192.0.2.1',
                  'pools': [('192.0.2.10', '192.0.2.200')],
                  'dns_servers': []})['extId']

    def test_ports_bound_for_cluster_b_become_the_nics(self):
        instance, image_id = self.boot_on_a()
        self.replicate_vm(instance)
        self.site_a.kill()
        driver_b = self.driver_for_b()
        subnet = self.subnet_on_b()
        self.evacuate(driver_b, instance, image_id=image_id,
                      network_info=[self.port(self.site_b, subnet)])
        vm_b, _ = self.root_disk_of(self.b, instance)
        self.assertEqual(
            [('fa:16:3e:00:00:31', subnet)],
            [(prism_nics.nic_mac(n), prism_nics.nic_subnet_ext_id(n))
             for n in self.b.vms.list_nics(vm_b['extId'])])

    def test_port_still_bound_for_cluster_a_fails_before_anything_moves(self):
        instance, image_id = self.boot_on_a()
        self.replicate_vm(instance)
        stale = self.port(self.site_a, uuidutils.generate_uuid())
        self.site_a.kill()
        driver_b = self.driver_for_b()
        before = self.b_inventory()
        nova = NovaInstance(instance, None)
        instance.task_state = task_states.REBUILDING
        self.assertRaises(
            exception.VirtualInterfaceCreateException, driver_b.rebuild,
            self.context, instance, objects.ImageMeta(), [], None, {},
            bdms=[], detach_block_devices=nova.detach_block_devices,
            attach_block_devices=nova.attach_block_devices,
            network_info=network_model.NetworkInfo([stale]), evacuate=True)
        self.assertEqual(([], []), (nova.saved, nova.calls))
        self.assertEqual(before, self.b_inventory())

    def test_failure_after_the_vm_was_made_leaves_nothing_on_b(self):
        # Cinder not failed over yet: the connection info still names the
        # volume group of cluster A, unknown on cluster B.
        instance, image_id = self.boot_on_a()
        self.replicate_vm(instance)
        self.site_a.kill()
        driver_b = self.driver_for_b()
        before = self.b_inventory()
        stale = {'root_device_name': '/dev/sda', 'ephemerals': [],
                 'swap': None, 'block_device_mapping': [{
                     'connection_info': {
                         'driver_volume_type': 'iscsi',
                         'data': {'volume_group_ext_id':
                                  uuidutils.generate_uuid()}},
                     'mount_device': '/dev/sdb', 'boot_index': None,
                     'delete_on_termination': False}]}
        self.assertRaises(driver.NutanixBackendError, self.evacuate,
                          driver_b, instance, stale, image_id=image_id)
        self.assertIsNone(driver_b.ops.vm.find_vm(instance))
        self.assertEqual(before, self.b_inventory())
