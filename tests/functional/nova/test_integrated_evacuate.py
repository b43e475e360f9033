"""``openstack server evacuate`` onto another cluster, through Nova.

Nova's in-process services (API, conductor, scheduler, placement) with two
compute services running this driver: ``compute`` for cluster A and
``compute2`` for cluster B, two emulator processes paired A -> B.  A server
is booted on cluster A, bytes are written into its root disk and into its
Cinder volume, both are replicated to cluster B, cluster A is SIGKILLed,
``compute`` is forced down, Cinder's failover is played (the volume's
replica restored on cluster B, the connection info Cinder's nutanix driver
then gives naming it), and the server is evacuated through the API.

Cinder is Nova's stub fixture here (Cinder and Nova cannot share one
process); the Cinder driver's own failover is tested in
tests/functional/cinder/test_replication.py.
"""

import hashlib
import os
import sys

from oslo_utils import uuidutils

from nova import conf as nova_conf
from nova.tests.functional import integrated_helpers
from nova.virt import node

from nutanix_openstack.nova import conf as nutanix_conf
from nutanix_openstack.nova import utils
from nutanix_openstack.prism import locations
from nutanix_openstack.prism import volume_groups as prism_vgs
from tests.functional.nova import base
from tests.functional.nova import test_virt_driver_suite as suite

CONF = nova_conf.CONF
MiB = base.MiB
IMAGE_BYTES = b'\xeb\x63\x90evacuate-root'.ljust(4 * MiB, b'\0')


def sha256(data):
    return hashlib.sha256(data).hexdigest()


class EvacuateToAnotherClusterTest(suite.KeepTestMethodMixin,
                                   integrated_helpers._IntegratedTestBase):

    ADMIN_API = True
    microversion = 'latest'
    # The API casts the evacuation to the target compute, as in a real
    # cloud: a failure there reaches the server and its migration, never
    # the API response.
    CAST_AS_CALL = False

    def setUp(self):
        self.site_a = base.emulator_fixture.EmulatorProcess()
        self.site_b = base.emulator_fixture.EmulatorProcess(site=2)
        for site in (self.site_a, self.site_b):
            self.addCleanup(site.cleanup)
            site.start()
        self.site_a.pair(self.site_b)
        self.a = self.site_a.prism_client()
        self.b = self.site_b.prism_client()
        base.use_shim(self)
        nutanix_conf.register_opts(CONF)
        self.flags(compute_driver='nutanix.NutanixDriver')
        self.flags(group='wsgi', api_paste_config=os.path.join(
            sys.prefix, 'etc', 'nova', 'api-paste.ini'))
        self._point_at(self.site_a)
        # Starts the services, with ``compute`` for cluster A.
        super().setUp()

    def _point_at(self, site):
        self.flags(group='nutanix', endpoints=[site.endpoint],
                   username=site.username, password=site.password,
                   storage_container=site.container_name,
                   task_poll_interval=0.05, api_retry_interval=0.05,
                   api_retries=1)

    def _start_compute_for_b(self):
        self._point_at(self.site_b)
        # Another host: its own node identity (Nova keeps one per process;
        # the harness never writes it to disk).
        node.LOCAL_NODE_UUID = None
        self.compute2 = self.start_service('compute', host='compute2')

    def _vm(self, client, server_id):
        found = client.vms.find_by_name(server_id)
        return client.vms.get(found[0]['extId']) if found else None

    def _boot_on_a(self):
        img = self.a.images.create_for_upload(
            'glance-image', cluster_ext_id=self.site_a.cluster_ext_id)
        self.a.images.upload(img['extId'], iter([IMAGE_BYTES]),
                             size=len(IMAGE_BYTES))
        image_id = uuidutils.generate_uuid()
        self.glance.create(None, {
            'id': image_id, 'name': 'on-cluster-a', 'status': 'active',
            'disk_format': 'raw', 'container_format': 'bare',
            'size': len(IMAGE_BYTES), 'min_disk': 0, 'min_ram': 0,
            'visibility': 'public', 'properties': {},
            'locations': [{'url': locations.make_location(
                self.site_a.cluster_ext_id, img['extId']), 'metadata': {}}]})
        server = self._create_server(image_uuid=image_id, flavor_id='1',
                                     networks='none')
        self.assertEqual('compute', server['OS-EXT-SRV-ATTR:host'])
        return server

    def _replicate_vm(self, server):
        """What a protection policy does on cluster A."""
        rp = self.a.recovery_points.create(
            'protect-%s' % server['id'],
            vm_ext_ids=[self._vm(self.a, server['id'])['extId']])
        self.a.replication.replicate(
            rp['extId'], cluster_ext_id=self.site_b.cluster_ext_id)

    def _lose_cluster_a(self):
        self.site_a.kill()
        self.compute.stop()
        (service,) = self.admin_api.get_services(
            host='compute', binary='nova-compute')
        self.admin_api.put_service_force_down(service['id'], True)

    def test_server_comes_back_on_b_with_its_disk_and_volume(self):
        server = self._boot_on_a()
        root_a = utils.root_disk(self._vm(self.a, server['id']))
        self.site_a.admin.write_disk(root_a['extId'], 8 * MiB,
                                     os.urandom(MiB))
        # m1.tiny: a 1 GiB root disk; the bytes are in its first 16 MiB.
        root_bytes = self.site_a.admin.read_disk(root_a['extId'], 0,
                                                 16 * MiB)

        # A volume of Cinder's nutanix driver, attached through the API.
        volume_id = uuidutils.generate_uuid()
        vg = self.a.volume_groups.create(
            'volume-%s' % volume_id, disks=[prism_vgs.volume_disk(
                4 * MiB, self.site_a.container_ext_id)])
        self.cinder.VOLUME_CONNECTION_INFO = dict(
            self.cinder.VOLUME_CONNECTION_INFO,
            **{volume_id: {'driver_volume_type': 'iscsi',
                           'data': {'volume_group_ext_id': vg['extId']}}})
        self._attach_volume(server, volume_id)
        vol_disk = self.a.volume_groups.list_disks(vg['extId'])[0]['extId']
        vol_bytes = os.urandom(MiB)
        self.site_a.admin.write_disk(vol_disk, 0, vol_bytes)
        vol_rp = self.a.recovery_points.create(
            'replica-volume-%s.20261205T130000' % volume_id,
            volume_group_ext_ids=[vg['extId']])
        self.a.replication.replicate(
            vol_rp['extId'], cluster_ext_id=self.site_b.cluster_ext_id)
        self._replicate_vm(server)

        self._lose_cluster_a()
        self._start_compute_for_b()
        # cinder failover-host: the replica restored on cluster B; Cinder
        # now answers with the new volume group.
        (restored,) = self.b.recovery_points.restore(
            self.b.replication.latest('replica-volume-%s.'
                                      % volume_id)['extId'])
        self.cinder.VOLUME_CONNECTION_INFO[volume_id] = {
            'driver_volume_type': 'iscsi',
            'data': {'volume_group_ext_id': restored['extId']}}

        # Microversion 2.95+: an evacuated server ends stopped.
        server = self._evacuate_server(server, expected_host='compute2',
                                       expected_state='SHUTOFF')
        self.assertEqual('emulated-cluster-site2',
                         server['OS-EXT-SRV-ATTR:hypervisor_hostname'])
        vm_b = self._vm(self.b, server['id'])
        self.assertEqual(self.site_b.cluster_ext_id,
                         vm_b['cluster']['extId'])
        root_b = utils.root_disk(vm_b)
        self.assertEqual(sha256(root_bytes), sha256(
            self.site_b.admin.read_disk(root_b['extId'], 0, 16 * MiB)))
        # The disk came from the replica, no image was brought to B.
        self.assertEqual([], self.b.images.list())
        self.assertEqual(
            [vm_b['extId']],
            [a['extId'] for a in self.b.volume_groups.list_vm_attachments(
                restored['extId'])])
        b_vol_disk = self.b.volume_groups.list_disks(
            restored['extId'])[0]['extId']
        self.assertEqual(sha256(vol_bytes), sha256(
            self.site_b.admin.read_disk(b_vol_disk, 0, MiB)))
        self._start_server(server)
        self.assertEqual('ON', self._vm(self.b, server['id'])['powerState'])

    def test_no_replica_fails_and_leaves_the_server_as_it_was(self):
        server = self._boot_on_a()
        self._lose_cluster_a()
        self._start_compute_for_b()
        server = self._evacuate_server(
            server, expected_host='compute', expected_state='ACTIVE',
            expected_migration_status='failed')
        self.assertIsNone(self._vm(self.b, server['id']))
        self.assertEqual([], self.b.vms.list())
        actions = self.admin_api.api_get(
            '/servers/%s/os-instance-actions' % server['id']
        ).body['instanceActions']
        evacuate = [a for a in actions if a['action'] == 'evacuate'][0]
        events = self.admin_api.api_get(
            '/servers/%s/os-instance-actions/%s' % (
                server['id'], evacuate['request_id'])
        ).body['instanceAction']['events']
        (event,) = [e for e in events
                    if e['event'] == 'compute_rebuild_instance']
        self.assertEqual('Error', event['result'])
        # The message names the instance and the cluster (microversion
        # 2.84+: the event's details).
        self.assertIn('Instance %s cannot be evacuated to cluster %s'
                      % (server['id'], self.site_b.cluster_ext_id),
                      event['details'])
        # The server is as it was: ACTIVE on its host, its VM on
        # cluster A only.
        server = self.api.get_server(server['id'])
        self.assertEqual(('ACTIVE', None),
                         (server['status'],
                          server['OS-EXT-STS:task_state']))
