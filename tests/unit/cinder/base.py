"""Shared set-up for the Cinder driver's unit tests (mocked PrismClient)."""

import functools
from unittest import mock
import uuid

from cinder import context
from cinder import coordination
from cinder import objects
from cinder.tests.unit import fake_snapshot
from cinder.tests.unit import fake_volume
from cinder.volume import configuration as conf
import fixtures
from oslo_config import cfg
from oslo_config import fixture as config_fixture
from oslotest import base

from nutanix_openstack.cinder import driver
from nutanix_openstack.cinder import options
from nutanix_openstack.prism import recovery_points
from nutanix_openstack.prism import volume_groups

objects.register_all()

GiB = 1024 ** 3
CLUSTER = '00000000-0000-0000-0000-0000000000c1'
CONTAINER = '00000000-0000-0000-0000-0000000000c2'
BACKEND = 'nutanix-unit'


def ext_id():
    return str(uuid.uuid4())


class DriverTestCase(base.BaseTestCase):
    """A driver set up against a ``mock.Mock`` client."""

    def setUp(self):
        super(DriverTestCase, self).setUp()
        self.ctx = context.get_admin_context()
        self.conf_fixture = self.useFixture(config_fixture.Config(cfg.CONF))
        self.configuration = conf.Configuration(driver.driver.volume_opts,
                                                config_group=BACKEND)
        self.configuration.append_config_values(options.ALL_OPTS)
        for name, value in (('nutanix_endpoints', ['https://10.0.0.1']),
                            ('nutanix_username', 'admin'),
                            ('nutanix_password', 'secret'),
                            ('nutanix_storage_container', 'ctr'),
                            ('volume_backend_name', 'nutanix')):
            self.conf_fixture.config(group=BACKEND, **{name: value})
        self.client = mock.Mock(name='PrismClient')
        self.client.cluster_ext_id.return_value = CLUSTER
        self.client.clusters.find_storage_container.return_value = {
            'containerExtId': CONTAINER, 'name': 'ctr'}
        self.client.clusters.get_cluster.return_value = {
            'extId': CLUSTER, 'network': {'externalDataServiceIp': {
                'ipv4': {'value': '10.0.0.50'}}}}
        # No temporary objects of interrupted transfers on the cluster.
        self.client.images.list.return_value = []
        self.client.vms.list.return_value = []
        # cinder-volume starts Cinder's coordinator; the driver's locks
        # (initialize/terminate_connection) come from it.
        self.conf_fixture.config(
            backend_url='file://' + self.useFixture(fixtures.TempDir()).path,
            group='coordination')
        coordination.COORDINATOR.start()
        self.addCleanup(coordination.COORDINATOR.stop)
        self.driver = driver.NutanixVolumeDriver(
            configuration=self.configuration)
        with mock.patch.object(driver.NutanixVolumeDriver, '_make_client',
                               return_value=self.client):
            self.driver.do_setup(self.ctx)
        self.driver.check_for_setup_error()
        self.vgs = self.client.volume_groups
        self.rps = self.client.recovery_points
        # Lookups by name are the client's own, over the mocked list().
        self.vgs.find_by_name.side_effect = functools.partial(
            volume_groups.VolumeGroupsAPI.find_by_name, self.vgs)
        self.rps.find_by_name.side_effect = functools.partial(
            recovery_points.RecoveryPointsAPI.find_by_name, self.rps)

    def volume(self, size=1, provider_id=None, **kw):
        return fake_volume.fake_volume_obj(
            self.ctx, id=ext_id(), size=size, provider_id=provider_id, **kw)

    def snapshot(self, volume, provider_id=None, **kw):
        return fake_snapshot.fake_snapshot_obj(
            self.ctx, id=ext_id(), volume=volume, volume_id=volume.id,
            volume_size=volume.size, provider_id=provider_id, **kw)

    def stub_vg(self, vg_ext_id, disk_size=GiB, name='volume-x',
                index=0):
        """Make volume_groups.get/list_disks answer for one group."""
        disk = {'extId': ext_id(), 'diskSizeBytes': disk_size,
                'index': index}
        self.vgs.get.return_value = {'extId': vg_ext_id, 'name': name,
                                     'targetName': name + '-tgt'}
        self.vgs.list_disks.return_value = [disk]
        return disk
