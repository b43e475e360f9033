"""Active-active bits of the driver that need no backend: the periodic
replication pass runs once per Cinder cluster, and peers follow a failover.
"""

from unittest import mock

from cinder import coordination

from nutanix_openstack.cinder import driver
from nutanix_openstack.cinder import replicationops
from tests.unit.cinder import base


class PeriodicReplicationTest(base.DriverTestCase):

    def setUp(self):
        super().setUp()
        self.driver.replication_ops = mock.Mock()
        self.conf_fixture.config(group=base.BACKEND,
                                 nutanix_replication_interval=300)

    def test_the_pass_runs_under_the_cluster_lock(self):
        self.driver._periodic_replication()
        self.driver.replication_ops.replicate_all.assert_called_once_with(
            min_age=150.0)
        # Released: the next pass (or a peer's) gets it.
        lock = coordination.COORDINATOR.get_lock(
            'nutanix-replication-nutanix')
        self.assertTrue(lock.acquire(blocking=False))
        lock.release()

    def test_a_peer_holding_the_lock_skips_the_pass(self):
        # The lock is a peer's: acquire(blocking=False) says no.
        with mock.patch.object(coordination.COORDINATOR, 'get_lock',
                               return_value=mock.Mock(**{
                                   'acquire.return_value': False})):
            self.driver._periodic_replication()
        self.driver.replication_ops.replicate_all.assert_not_called()

    def test_no_coordination_backend_skips_the_pass(self):
        with mock.patch.object(coordination.COORDINATOR, 'get_lock',
                               side_effect=RuntimeError('etcd down')):
            self.driver._periodic_replication()
        self.driver.replication_ops.replicate_all.assert_not_called()


class FailoverCompletedTest(base.DriverTestCase):

    def test_peers_follow_the_failover_and_the_failback(self):
        target = mock.Mock()
        self.driver.replication_ops = mock.Mock(**{
            'target.return_value': target})
        with mock.patch.object(self.driver, '_use_target') as use_target, \
                mock.patch.object(self.driver, '_use_primary') as primary:
            self.driver.failover_completed(self.ctx, 'secondary')
            use_target.assert_called_once_with(target)
            self.assertEqual('secondary', self.driver.active_backend_id)
            self.driver.failover_completed(self.ctx, replicationops.DEFAULT)
            primary.assert_called_once_with()
            self.assertEqual(replicationops.DEFAULT,
                             self.driver.active_backend_id)

    def test_the_driver_claims_active_active(self):
        self.assertTrue(driver.NutanixVolumeDriver.SUPPORTS_ACTIVE_ACTIVE)
