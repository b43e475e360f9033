"""A server's life through Nova's own services, with this driver.

Nova's in-process functional harness
(``nova.tests.functional.integrated_helpers._IntegratedTestBase``) runs the
real API, conductor, scheduler and placement, and a compute service whose
``compute_driver`` is ``nutanix.NutanixDriver`` -- loaded by Nova's loader
through the ``nova.virt.nutanix`` shim.  The driver talks HTTP to the
emulator.  Glance and Cinder are Nova's stub fixtures, given what the
nutanix Glance store and Cinder driver would hand over: an image with a
``nutanix://`` location on this cluster, and a volume's connection info
naming its volume group.
"""

import os
import sys
from unittest import mock

from oslo_utils import uuidutils

from nova import conf as nova_conf
from nova import context as nova_context
from nova.tests.functional import integrated_helpers

from nutanix_openstack.nova import conf as nutanix_conf
from nutanix_openstack.nova import utils
from nutanix_openstack.prism import locations
from nutanix_openstack.prism import volume_groups as prism_vgs
from tests.functional.nova import base
from tests.functional.nova import test_virt_driver_suite as suite

CONF = nova_conf.CONF
IMAGE_BYTES = b'\xeb\x63\x90integrated-root' * 8192


class _NutanixComputeTestBase(suite.KeepTestMethodMixin,
                              integrated_helpers._IntegratedTestBase):
    """Nova's services with a compute service running this driver."""

    ADMIN_API = True
    microversion = 'latest'

    def setUp(self):
        self.emu = base.emulator()
        self.emu.admin.reset()
        self.client = self.emu.prism_client()
        # Before the services start: the compute service loads the driver
        # by name as Nova does, through the shim.
        base.use_shim(self)
        nutanix_conf.register_opts(CONF)
        self.flags(compute_driver='nutanix.NutanixDriver',
                   allow_resize_to_same_host=True)
        # A wheel installs Nova's etc/ under sys.prefix; the fixture looks
        # next to site-packages (see shared PEER_SUITES notes).
        self.flags(group='wsgi', api_paste_config=os.path.join(
            sys.prefix, 'etc', 'nova', 'api-paste.ini'))
        self.flags(group='nutanix', endpoints=[self.emu.endpoint],
                   username=self.emu.username, password=self.emu.password,
                   storage_container=self.emu.container_name,
                   task_poll_interval=0.05, api_retry_interval=0.05)
        super().setUp()
        self.addCleanup(self.emu.admin.clear_faults)

    def _vm(self, server_id):
        found = [vm for vm in self.client.vms.list()
                 if vm.get('name') == server_id]
        return self.client.vms.get(found[0]['extId']) if found else None

    def _image_on_the_nutanix_store(self):
        """Leave what the nutanix Glance store leaves.

        Bytes in the cluster and a ``nutanix://`` location in Glance.
        """
        img = self.client.images.create_for_upload(
            'glance-image', cluster_ext_id=self.emu.cluster_ext_id)
        self.client.images.upload(img['extId'], iter([IMAGE_BYTES]),
                                  size=len(IMAGE_BYTES))
        image_id = uuidutils.generate_uuid()
        self.glance.create(None, {
            'id': image_id, 'name': 'cirros-on-nutanix', 'status': 'active',
            'disk_format': 'raw', 'container_format': 'bare',
            'size': len(IMAGE_BYTES), 'min_disk': 0, 'min_ram': 0,
            'visibility': 'public', 'properties': {},
            'locations': [{'url': locations.make_location(
                self.emu.cluster_ext_id, img['extId']), 'metadata': {}}]})
        return image_id, img['extId']

    def _volume(self, volume_id=None):
        vg = self.client.volume_groups.create(
            'volume-integrated', disks=[prism_vgs.volume_disk(
                base.GiB, self.emu.container_ext_id)],
            cluster_ext_id=self.emu.cluster_ext_id)
        volume_id = volume_id or uuidutils.generate_uuid()
        # What Cinder's nutanix driver answers to initialize_connection.
        self.cinder.VOLUME_CONNECTION_INFO = dict(
            self.cinder.VOLUME_CONNECTION_INFO,
            **{volume_id: {'driver_volume_type': 'iscsi',
                           'data': {'volume_group_ext_id': vg['extId']}}})
        return volume_id, vg['extId']

    def _attached_vms(self, vg_ext_id):
        return [a['extId'] for a in
                self.client.volume_groups.list_vm_attachments(vg_ext_id)]


class NutanixServerLifecycleTest(_NutanixComputeTestBase):

    def test_boot_snapshot_attach_resize_delete(self):
        # The compute node is the cluster.
        (hyp,) = self.admin_api.api_get(
            '/os-hypervisors/detail').body['hypervisors']
        self.assertEqual('emulated-cluster', hyp['hypervisor_hostname'])

        image_id, image_ext_id = self._image_on_the_nutanix_store()
        with mock.patch.object(self.glance, 'download',
                               side_effect=AssertionError('downloaded')):
            server = self._create_server(image_uuid=image_id, flavor_id='1',
                                         networks='none')
        self.assertEqual('ACTIVE', server['status'])
        self.assertEqual(hyp['hypervisor_hostname'],
                         server['OS-EXT-SRV-ATTR:hypervisor_hostname'])
        vm = self._vm(server['id'])
        self.assertEqual('ON', vm['powerState'])
        root = utils.root_disk(vm)
        self.assertEqual(image_ext_id, root['backingInfo']['dataSource']
                         ['reference']['imageExtId'])
        self.assertEqual(1 * base.GiB, utils.disk_size(root))   # m1.tiny
        self.assertEqual(IMAGE_BYTES, self.emu.admin.read_disk(
            root['extId'], 0, len(IMAGE_BYTES)))

        # Snapshot: a nutanix:// location, no bytes through nova-compute.
        self.api.post_server_action(server['id'],
                                    {'createImage': {'name': 'snap'}})
        server = self._wait_for_server_parameter(
            server, {'OS-EXT-STS:task_state': None, 'status': 'ACTIVE'})
        (snap,) = [i for i in self.glance.images.values()
                   if i.get('name') == 'snap']
        cluster, snap_ext_id = locations.split_location(snap['location'])
        self.assertEqual(self.emu.cluster_ext_id, cluster)
        snap_bytes = self.client.images.download(snap_ext_id, 0,
                                                 len(IMAGE_BYTES))
        self.assertEqual(IMAGE_BYTES, b''.join(snap_bytes))
        self.assertNotIn(snap['id'], self.glance._imagedata)

        # A Cinder volume of the nutanix driver: its volume group attaches.
        volume_id, vg_ext_id = self._volume()
        self._attach_volume(server, volume_id)
        self.assertEqual([vm['extId']], self._attached_vms(vg_ext_id))

        # Resize on the one node to m1.small (2 GiB RAM, 20 GiB root).
        server = self._resize_server(server, '2')
        server = self._confirm_resize(server)
        vm = self._vm(server['id'])
        self.assertEqual(2048 * base.MiB, vm['memorySizeBytes'])
        self.assertEqual(20 * base.GiB, utils.disk_size(utils.root_disk(vm)))
        self.assertEqual('ON', vm['powerState'])
        self.assertEqual([vm['extId']], self._attached_vms(vg_ext_id))

        # Stop and start go through the cluster.
        self._stop_server(server)
        self.assertEqual('OFF', self._vm(server['id'])['powerState'])
        self._start_server(server)
        self.assertEqual('ON', self._vm(server['id'])['powerState'])

        # Delete: the VM and its disks go, the volume stays (detached).
        self._delete_server(server)
        self._wait_until_deleted(server)
        self.assertIsNone(self._vm(server['id']))
        self.assertEqual([], self._attached_vms(vg_ext_id))
        inventory = self.emu.admin.inventory()['objects']
        self.assertEqual([], inventory.get('vm', []))
        self.assertIn(vg_ext_id, inventory['volume_group'])
        self.assertIn(image_ext_id, inventory['image'])

    def test_resize_revert_keeps_the_vm(self):
        image_id, image_ext_id = self._image_on_the_nutanix_store()
        server = self._create_server(image_uuid=image_id, flavor_id='1',
                                     networks='none')
        vm_ext_id = self._vm(server['id'])['extId']
        server = self._resize_server(server, '2')
        self.assertEqual(2048 * base.MiB,
                         self._vm(server['id'])['memorySizeBytes'])
        server = self._revert_resize(server)
        vm = self._vm(server['id'])
        self.assertEqual(vm_ext_id, vm['extId'])
        self.assertEqual(512 * base.MiB, vm['memorySizeBytes'])
        self.assertEqual('ON', vm['powerState'])
        self.assertEqual('ACTIVE', server['status'])

    def test_glance_only_image_is_fetched_once_for_two_servers(self):
        image_id = uuidutils.generate_uuid()
        self.glance.create(None, {
            'id': image_id, 'name': 'only-in-glance', 'status': 'active',
            'disk_format': 'raw', 'container_format': 'bare',
            'size': len(IMAGE_BYTES), 'min_disk': 0, 'min_ram': 0,
            'visibility': 'public', 'properties': {}})
        downloads = []

        def download(context, image_id, data=None, dst_path=None,
                     trusted_certs=None):
            # Nova's real image API hands out an iterator of chunks.
            downloads.append(image_id)
            return iter([IMAGE_BYTES[i:i + 65536]
                         for i in range(0, len(IMAGE_BYTES), 65536)])

        with mock.patch.object(self.glance, 'download',
                               side_effect=download):
            first = self._create_server(image_uuid=image_id, flavor_id='1',
                                        networks='none')
            second = self._create_server(image_uuid=image_id, flavor_id='1',
                                         networks='none')
        self.assertEqual([image_id], downloads)
        for server in (first, second):
            root = utils.root_disk(self._vm(server['id']))
            self.assertEqual(IMAGE_BYTES, self.emu.admin.read_disk(
                root['extId'], 0, len(IMAGE_BYTES)))

    def test_boot_from_volume(self):
        volume_id = self.cinder.IMAGE_BACKED_VOL
        vg_ext_id = self._volume(volume_id)[1]
        server = self._build_server(image_uuid='', flavor_id='1',
                                    networks='none')
        server['block_device_mapping_v2'] = [{
            'boot_index': 0, 'uuid': volume_id, 'source_type': 'volume',
            'destination_type': 'volume'}]
        server = self._wait_for_state_change(
            self.api.post_server({'server': server}), 'ACTIVE')
        vm = self._vm(server['id'])
        self.assertIsNone(utils.root_disk(vm))
        self.assertEqual([vm['extId']], self._attached_vms(vg_ext_id))
        self._delete_server(server)
        self._wait_until_deleted(server)
        self.assertEqual([], self._attached_vms(vg_ext_id))


class NutanixPowerSyncTest(_NutanixComputeTestBase):
    """Power-state sync, with RPC casts left as casts.

    The sync holds the instance lock while it asks the compute service to
    stop the instance; turned into a call (the harness default) that would
    wait for the lock it holds.
    """

    CAST_AS_CALL = False

    def test_power_off_in_the_cluster_shows_in_nova(self):
        image_id, _ = self._image_on_the_nutanix_store()
        server = self._create_server(image_uuid=image_id, flavor_id='1',
                                     networks='none')
        # Someone stops the VM in Prism; Nova's power-state sync sees it.
        self.client.vms.power_off(self._vm(server['id'])['extId'])
        self.compute.manager._sync_power_states(
            nova_context.get_admin_context())
        server = self._wait_for_state_change(server, 'SHUTOFF')
        self.assertEqual('OFF', self._vm(server['id'])['powerState'])
