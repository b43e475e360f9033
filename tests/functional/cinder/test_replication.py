"""Cinder replication v2.1 through Cinder's own in-process API harness.

cinder-api, the scheduler and cinder-volume (``NutanixVolumeDriver`` with a
``replication_device``) run in this process; two ``nutanix-emulator``
processes are the primary and the secondary cluster, paired both ways.
Volumes are written through the emulator's disk I/O on the primary, the
primary is then SIGKILLed, and ``failover_host`` through the Cinder API
must bring the replicated bytes up on the secondary.
"""

from cinder.objects import fields
from cinder.tests.functional import functional_helpers
from oslo_config import cfg

from nutanix_openstack.cinder import options
from tests.functional.cinder import base
from tests.functional.cinder import test_cinder_api as api_base

CONF = cfg.CONF
MiB = base.MiB
SHARED = api_base.SHARED
TARGET = 'site-b'


class ReplicationApiTest(api_base._KeepTestMethod, base.BackendViews,
                         functional_helpers._FunctionalTestBase):
    _osapi_version = '3.38'
    RESOURCE_FILTER_PATH = api_base.CINDER_ETC + '/resource_filters.json'

    def setUp(self):
        # A fresh pair per test: the test kills the primary.
        self.site_a = base.emulator_fixture.EmulatorProcess()
        self.site_b = base.emulator_fixture.EmulatorProcess(site=2)
        self.site_a.start()
        self.addCleanup(self.site_a.cleanup)
        self.site_b.start()
        self.addCleanup(self.site_b.cleanup)
        self.site_a.pair(self.site_b)
        self.site_b.pair(self.site_a)
        CONF.register_opts(options.ALL_OPTS, group=SHARED)
        super(ReplicationApiTest, self).setUp()
        self.admin = self.site_a.admin
        self.client = self.site_a.prism_client()
        self.client_b = self.site_b.prism_client()
        self.driver = self.volume.manager.driver
        self.replicated = self.api.create_type('replicated')
        self.api.create_volume_type_extra_specs(
            self.replicated['id'], {'replication_enabled': '<is> True'})
        self.plain = self.api.create_type('plain')
        self.group_type = self.api.create_group_type('replicated-cg')
        self.api.create_group_type_specs(self.group_type['id'], {
            'consistent_group_snapshot_enabled': '<is> True',
            'consistent_group_replication_enabled': '<is> True'})

    _start_api_service = api_base.CinderApiTest._start_api_service

    def _get_flags(self):
        f = super(ReplicationApiTest, self)._get_flags()
        emu, sec = self.site_a, self.site_b
        for name, value in (
                ('volume_driver',
                 'nutanix_openstack.cinder.driver.NutanixVolumeDriver'),
                ('volume_backend_name', 'nutanix'),
                ('nutanix_endpoints', [emu.endpoint]),
                ('nutanix_username', emu.username),
                ('nutanix_password', emu.password),
                ('nutanix_verify_ssl', False),
                ('nutanix_task_poll_interval', 0.05),
                ('nutanix_api_retry_interval', 0.05),
                ('nutanix_api_retries', 1),
                ('nutanix_connect_timeout', 2),
                ('nutanix_replication_interval', 0),
                ('nutanix_storage_container', emu.container_name),
                ('replication_device', [{
                    'backend_id': TARGET, 'endpoints': sec.endpoint,
                    'username': sec.username, 'password': sec.password,
                    'verify_ssl': 'false'}])):
            f[name] = {'v': value, 'g': SHARED}
        f['default_volume_type'] = {'v': 'plain'}
        return f

    # -- helpers -----------------------------------------------------------

    def wait_volume(self, volume_id, status='available'):
        return self._poll_volume_while(
            volume_id, ['creating', 'deleting'], expected_end_status=status,
            max_retries=50)

    def create_volume(self, volume_type, **body):
        body.setdefault('size', 1)
        vol = self.api.post_volume({'volume': dict(
            body, volume_type=volume_type['id'])})
        return self.wait_volume(vol['id'])

    def disk_of(self, volume):
        """The volume's disk on the cluster the driver works on now."""
        client = self.client_b if self.driver.failed_over else self.client
        vg = self.driver.volume_ops.find_volume_group(
            self._volume_object(volume))
        [disk] = client.volume_groups.list_disks(vg['extId'])
        return disk

    def _volume_object(self, volume):
        from cinder import context
        from cinder import objects
        return objects.Volume.get_by_id(context.get_admin_context(),
                                        volume['id'])

    def read_b(self, volume, length):
        return self.site_b.admin.read_disk(self.disk_of(volume)['extId'], 0,
                                           length)

    def failover(self, backend_id):
        host = self.api.get_volumes()[0]['os-vol-host-attr:host']
        self.api.api_put('/os-services/failover_host', {
            'host': host.split('#')[0], 'backend_id': backend_id})

    def service(self):
        [svc] = [s for s in self.api.api_get('/os-services')['services']
                 if s['binary'] == 'cinder-volume']
        return svc

    def wait_service(self, status):
        self._wait_for(lambda: self.service()['replication_status'] ==
                       status)
        return self.service()

    def _wait_for(self, predicate, retries=100):
        import time
        for _i in range(retries):
            if predicate():
                return
            time.sleep(0.1)
        self.fail('condition not met')

    # -- the scenario --------------------------------------------------------

    def test_failover_brings_replicated_volumes_and_groups_up_on_b(self):
        stats = self.driver.get_volume_stats(refresh=True)
        self.assertTrue(stats['replication_enabled'])
        self.assertEqual([TARGET], stats['replication_targets'])

        # A replicated volume: its bytes replicated by the periodic pass.
        vol = self.create_volume(self.replicated)
        self.assertEqual(fields.ReplicationStatus.ENABLED,
                         vol['replication_status'])
        payload = base.random_bytes(MiB)
        self.write(vol, 0, payload)
        self.assertEqual(1, self.driver.replication_ops.replicate_all())
        lag = self.driver.get_volume_stats(refresh=True)[
            'replication_lag_seconds']
        self.assertLess(lag, 60)
        self.write(vol, 0, b'written after the last replication')

        # A plain volume: not replicated, lost with site A.
        plain = self.create_volume(self.plain)

        # A replicated group of two volumes: one point for both.
        group = self.api.post_group({'group': {
            'group_type': self.group_type['id'],
            'volume_types': [self.replicated['id']]}})
        group = self._poll_group_while(group['id'], ['creating'],
                                       expected_end_status='available')
        members = [self.create_volume(self.replicated, group_id=group['id'])
                   for _i in range(2)]
        for i, member in enumerate(members):
            self.write(member, 0, b'db-shard-%d' % i)
        self.api.api_post('/groups/%s/action' % group['id'],
                          {'enable_replication': {}})
        self._wait_for(lambda: self.api.get_group(group['id'])[
            'replication_status'] == 'enabled')
        for member in members:
            self.write(member, 0, b'too late!!!')

        # Unknown target: refused, nothing changes.
        self.failover('no-such-site')
        svc = self.wait_service('enabled')
        self.assertIsNone(svc.get('active_backend_id'))
        self.assertEqual(fields.ReplicationStatus.ENABLED,
                         self.api.get_volume(vol['id'])['replication_status'])
        self.assertFalse(self.driver.failed_over)

        # Site A dies; fail over to B.
        self.site_a.kill()
        self.failover(TARGET)
        svc = self.wait_service('failed-over')
        self.assertEqual(TARGET, svc['active_backend_id'])
        vol = self.api.get_volume(vol['id'])
        self.assertEqual(('available', 'failed-over'),
                         (vol['status'], vol['replication_status']))
        self.assertEqual(payload, self.read_b(vol, MiB))
        self.assertEqual('error', self.api.get_volume(plain['id'])['status'])
        for i, member in enumerate(members):
            member = self.api.get_volume(member['id'])
            self.assertEqual('failed-over', member['replication_status'])
            self.assertEqual(b'db-shard-%d' % i, self.read_b(member, 10))
        # The driver now works on B (its cluster, the volumes' groups).
        self.assertEqual(self.site_b.cluster_ext_id,
                         self.driver.volume_ops.cluster_ext_id)

        # Site A comes back (its data dir survived); fail back.
        self.site_a.start()
        self.write_b(vol, b'written on site B')
        self.failover('default')
        svc = self.wait_service('enabled')
        vol = self.api.get_volume(vol['id'])
        self.assertEqual('enabled', vol['replication_status'])
        self.assertEqual(b'written on site B', self.read(vol, 0, 17))

    def write_b(self, volume, data):
        self.site_b.admin.write_disk(self.disk_of(volume)['extId'], 0, data)


class ReplicationDriverTest(base.DriverFunctionalTestCase):
    """Faults of replication, on the driver directly (two emulators)."""

    @classmethod
    def setUpClass(cls):
        super(ReplicationDriverTest, cls).setUpClass()
        cls.site_b = base.emulator_fixture.EmulatorProcess(
            task_mode='immediate', site=2,
            replication_retries=0, replication_retry_interval=0)
        cls.site_b.start()

    @classmethod
    def tearDownClass(cls):
        cls.site_b.cleanup()
        super(ReplicationDriverTest, cls).tearDownClass()

    def setUp(self):
        self.site_b.admin.reset()
        self.addCleanup(self.site_b.admin.clear_faults)
        super(ReplicationDriverTest, self).setUp()

    def make_driver(self):
        self.emulator.pair(self.site_b)
        sec = self.site_b
        self.configure(nutanix_replication_interval=0,
                       replication_device=[{
                           'backend_id': TARGET, 'endpoints': sec.endpoint,
                           'username': sec.username,
                           'password': sec.password,
                           'verify_ssl': 'false'}])
        return super(ReplicationDriverTest, self).make_driver()

    def replicated_volume(self):
        from cinder import objects
        vol = self.volume(size=1)
        vol.volume_type = objects.VolumeType(
            self.ctx, id=base.new_id(), name='replicated',
            extra_specs={'replication_enabled': '<is> True'})
        return vol

    def test_link_down_fails_the_create_and_leaves_nothing(self):
        from cinder import exception
        self.site_b.admin.add_fault(path='/_replication/v1/', status=503)
        vol = self.replicated_volume()
        self.assertRaises(exception.VolumeBackendAPIException,
                          self.driver.create_volume, vol)
        self.assertEqual(set(), self.objects('volume_group'))
        self.assertEqual(set(), self.objects('recovery_point'))
        self.assertEqual(
            [], self.site_b.admin.inventory()['objects'].get(
                'recovery_point', []))

    def test_replicas_follow_the_volume_and_are_pruned(self):
        vol = self.replicated_volume()
        vol.update(self.driver.create_volume(vol))
        self.assertEqual('enabled', vol.replication_status)
        for i in range(3):
            self.write(vol, 0, b'round %d' % i)
            self.assertEqual(1, self.driver.replication_ops.replicate_all())
        # nutanix_replication_keep (2) points on each side.
        b_points = self.site_b.admin.inventory()['objects'].get(
            'recovery_point', [])
        self.assertEqual(2, len(self.objects('recovery_point')))
        self.assertEqual(2, len(b_points))
        stats = self.driver.get_volume_stats(refresh=True)
        self.assertLess(stats['replication_lag_seconds'], 60)
        self.driver.delete_volume(vol)
        self.assertEqual(set(), self.objects('recovery_point'))
        self.assertEqual([], self.site_b.admin.inventory()['objects'].get(
            'recovery_point', []))

    def test_failover_without_replication_device_is_refused(self):
        from cinder import exception
        self.configure(replication_device=[])
        drv = base.DriverFunctionalTestCase.make_driver(self)
        self.assertRaises(exception.UnableToFailOver, drv.failover_host,
                          self.ctx, [], None, [])
