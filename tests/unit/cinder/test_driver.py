"""Unit tests of the driver facade, volumes, stats and groups."""

from unittest import mock

from cinder import exception
from cinder import interface

from nutanix_openstack.cinder import driver
from nutanix_openstack.prism import exceptions as prism_exc
from tests.unit.cinder import base


class SetupTest(base.DriverTestCase):

    def test_registered_as_volume_driver(self):
        self.assertIn(driver.NutanixVolumeDriver,
                      interface._volume_register)

    def test_resolves_cluster_and_container(self):
        self.assertEqual(base.CLUSTER, self.driver.volume_ops.cluster_ext_id)
        self.assertEqual(base.CONTAINER,
                         self.driver.volume_ops.container_ext_id)
        self.client.clusters.find_storage_container.assert_called_once_with(
            'ctr', cluster_ext_id=base.CLUSTER)

    def test_missing_container_option(self):
        self.conf_fixture.config(group=base.BACKEND,
                                 nutanix_storage_container=None)
        drv = driver.NutanixVolumeDriver(configuration=self.configuration)
        self.assertRaises(exception.InvalidConfigurationValue,
                          drv.do_setup, self.ctx)

    def test_unknown_container_is_backend_error(self):
        self.client.clusters.find_storage_container.side_effect = (
            prism_exc.NotFound('no storage container named ctr'))
        drv = driver.NutanixVolumeDriver(configuration=self.configuration)
        with mock.patch.object(drv, '_make_client', return_value=self.client):
            self.assertRaises(exception.VolumeBackendAPIException,
                              drv.do_setup, self.ctx)

    def test_driver_options_include_connection_and_container(self):
        names = [o.name for o in driver.NutanixVolumeDriver
                 .get_driver_options()]
        for name in ('nutanix_endpoints', 'nutanix_password',
                     'nutanix_storage_container', 'use_chap_auth'):
            self.assertIn(name, names)

    def test_password_option_is_secret(self):
        opts = {o.name: o for o in driver.NutanixVolumeDriver
                .get_driver_options()}
        self.assertTrue(opts['nutanix_password'].secret)


class StatsTest(base.DriverTestCase):

    def test_stats_from_container_capacity(self):
        self.client.clusters.container_capacity.return_value = {
            'total_bytes': 100 * base.GiB, 'free_bytes': 60 * base.GiB,
            'used_bytes': 40 * base.GiB, 'provisioned_bytes': 75 * base.GiB}
        stats = self.driver.get_volume_stats(refresh=True)
        self.assertEqual('nutanix', stats['volume_backend_name'])
        self.assertEqual('iSCSI', stats['storage_protocol'])
        self.assertEqual('up', stats['backend_state'])
        pool = stats['pools'][0]
        self.assertEqual('ctr', pool['pool_name'])
        self.assertEqual(100, pool['total_capacity_gb'])
        self.assertEqual(60, pool['free_capacity_gb'])
        self.assertEqual(75, pool['provisioned_capacity_gb'])
        self.assertTrue(pool['thin_provisioning_support'])
        self.assertTrue(pool['multiattach'])
        self.assertTrue(pool['consistent_group_snapshot_enabled'])

    def test_stats_backend_down(self):
        self.client.clusters.container_capacity.side_effect = (
            prism_exc.ConnectionFailed('no endpoint answered'))
        stats = self.driver.get_volume_stats(refresh=True)
        self.assertEqual('down', stats['backend_state'])
        self.assertEqual('unknown', stats['pools'][0]['total_capacity_gb'])


class VolumeTest(base.DriverTestCase):

    def test_create_volume(self):
        vol = self.volume(size=3)
        self.vgs.create.return_value = {'extId': 'vg-1'}
        self.vgs.list_disks.return_value = [
            {'extId': 'd1', 'diskSizeBytes': 3 * base.GiB}]
        update = self.driver.create_volume(vol)
        self.assertEqual({'provider_id': 'vg-1'}, update)
        args, kwargs = self.vgs.create.call_args
        self.assertEqual(vol.name, args[0])
        disk = kwargs['disks'][0]
        self.assertEqual(3 * base.GiB, disk['diskSizeBytes'])
        self.assertEqual(base.CONTAINER, disk['storageContainerId'])
        self.assertNotIn('diskDataSourceReference', disk)
        self.assertEqual('SHARED', kwargs['sharing_status'])
        self.assertEqual(base.CLUSTER, kwargs['cluster_ext_id'])
        self.vgs.resize_disk.assert_not_called()

    def test_create_failure_removes_leftover_and_raises(self):
        vol = self.volume()
        self.vgs.create.side_effect = prism_exc.TaskFailed('no space')
        self.vgs.list.return_value = [{'extId': 'half', 'name': vol.name}]
        self.vgs.list_iscsi_attachments.return_value = []
        self.assertRaises(exception.VolumeBackendAPIException,
                          self.driver.create_volume, vol)
        self.vgs.delete.assert_called_once_with('half')

    def test_delete_volume(self):
        vol = self.volume(provider_id='vg-1')
        self.vgs.get.return_value = {'extId': 'vg-1'}
        self.vgs.list_iscsi_attachments.return_value = []
        self.driver.delete_volume(vol)
        self.vgs.delete.assert_called_once_with('vg-1')

    def test_delete_missing_volume_is_success(self):
        vol = self.volume(provider_id='vg-gone')
        self.vgs.get.side_effect = prism_exc.NotFound('gone')
        self.vgs.list.return_value = []
        self.driver.delete_volume(vol)
        self.vgs.delete.assert_not_called()

    def test_delete_detaches_stale_iscsi_clients_first(self):
        vol = self.volume(provider_id='vg-1')
        self.vgs.get.return_value = {'extId': 'vg-1'}
        self.vgs.list_iscsi_attachments.return_value = [{'extId': 'c1'}]
        self.vgs.get_iscsi_client.return_value = {
            'extId': 'c1', 'iscsiInitiatorName': 'iqn.host'}
        self.driver.delete_volume(vol)
        self.vgs.detach_iscsi_client.assert_called_once_with('vg-1',
                                                             'iqn.host')
        self.vgs.delete.assert_called_once_with('vg-1')

    def test_delete_backend_failure(self):
        vol = self.volume(provider_id='vg-1')
        self.vgs.get.return_value = {'extId': 'vg-1'}
        self.vgs.list_iscsi_attachments.return_value = []
        self.vgs.delete.side_effect = prism_exc.ServerError('internal')
        self.assertRaises(exception.VolumeBackendAPIException,
                          self.driver.delete_volume, vol)

    def test_delete_in_use_volume_is_busy(self):
        vol = self.volume(provider_id='vg-1')
        self.vgs.get.return_value = {'extId': 'vg-1'}
        self.vgs.list_iscsi_attachments.return_value = []
        self.vgs.delete.side_effect = prism_exc.Conflict('attached to a VM')
        self.assertRaises(exception.VolumeIsBusy,
                          self.driver.delete_volume, vol)

    def test_extend_volume(self):
        vol = self.volume(size=1, provider_id='vg-1')
        disk = self.stub_vg('vg-1', disk_size=base.GiB)
        self.driver.extend_volume(vol, 5)
        self.vgs.resize_disk.assert_called_once_with('vg-1', disk['extId'],
                                                     5 * base.GiB)

    def test_extend_missing_volume(self):
        vol = self.volume(provider_id='vg-gone')
        self.vgs.get.side_effect = prism_exc.NotFound('gone')
        self.vgs.list.return_value = []
        self.assertRaises(exception.VolumeNotFound,
                          self.driver.extend_volume, vol, 2)

    def test_clone_is_cow_from_source_disk_and_grown(self):
        src = self.volume(size=1, provider_id='vg-src')
        dst = self.volume(size=4)
        src_disk = self.stub_vg('vg-src', disk_size=base.GiB)
        self.vgs.create.return_value = {'extId': 'vg-dst'}
        update = self.driver.create_cloned_volume(dst, src)
        self.assertEqual({'provider_id': 'vg-dst'}, update)
        disk = self.vgs.create.call_args[1]['disks'][0]
        self.assertEqual({'$objectType': 'common.v1.config.EntityReference',
                          'extId': src_disk['extId'],
                          'entityType': 'VOLUME_DISK'},
                         disk['diskDataSourceReference'])
        self.assertEqual(4 * base.GiB, disk['diskSizeBytes'])
        # The cluster made the clone at the source's size: grown after.
        self.vgs.resize_disk.assert_called_once_with(
            'vg-dst', src_disk['extId'], 4 * base.GiB)

    def test_no_op_exports(self):
        vol = self.volume()
        self.assertIsNone(self.driver.create_export(self.ctx, vol, {}))
        self.assertIsNone(self.driver.ensure_export(self.ctx, vol))
        self.assertIsNone(self.driver.remove_export(self.ctx, vol))


class GroupTest(base.DriverTestCase):

    def test_create_and_update_group_are_cinder_only(self):
        group = mock.Mock(id='g1')
        self.assertEqual({'status': 'available'},
                         self.driver.create_group(self.ctx, group))
        self.assertEqual((None, None, None),
                         self.driver.update_group(self.ctx, group, [], []))
        self.vgs.create.assert_not_called()

    def test_delete_group_deletes_members(self):
        v1 = self.volume(provider_id='vg-1')
        v2 = self.volume(provider_id='vg-2')
        self.vgs.get.side_effect = lambda x: {'extId': x}
        self.vgs.list_iscsi_attachments.return_value = []
        model, updates = self.driver.delete_group(self.ctx, mock.Mock(),
                                                  [v1, v2])
        self.assertEqual('deleted', model['status'])
        self.assertEqual({'deleted'}, {u['status'] for u in updates})
        self.assertEqual(2, self.vgs.delete.call_count)

    def test_create_group_from_src_rolls_back(self):
        src1 = self.volume(provider_id='vg-s1')
        src2 = self.volume(provider_id='vg-s2')
        d1 = self.volume(source_volid=src1.id)
        d2 = self.volume(source_volid=src2.id)
        self.stub_vg('vg-s1')
        self.vgs.create.side_effect = [{'extId': 'vg-d1'},
                                       prism_exc.TaskFailed('boom')]
        self.vgs.list.return_value = []
        self.vgs.list_iscsi_attachments.return_value = []
        self.assertRaises(exception.VolumeBackendAPIException,
                          self.driver.create_group_from_src, self.ctx,
                          mock.Mock(), [d1, d2], source_vols=[src1, src2])
        # The first clone is removed again.
        self.vgs.delete.assert_called_once_with('vg-d1')


class MultiattachTest(base.DriverTestCase):

    def test_other_attachments_on_same_host(self):
        att = [mock.Mock(attached_host='h1', attach_status='attached'),
               mock.Mock(attached_host='h1', attach_status='attached'),
               mock.Mock(attached_host='h2', attach_status='attached')]
        vol = mock.Mock(multiattach=True, volume_attachment=att)
        self.assertEqual(1, driver._other_attachments_on_host(
            vol, {'host': 'h1'}))
        self.assertEqual(0, driver._other_attachments_on_host(
            vol, {'host': 'h2'}))
        vol.multiattach = False
        self.assertEqual(0, driver._other_attachments_on_host(
            vol, {'host': 'h1'}))
