"""Unit tests of the iSCSI export."""

from unittest import mock

from cinder import coordination
from cinder import exception

from nutanix_openstack.cinder import connection
from nutanix_openstack.prism import exceptions as prism_exc
from tests.unit.cinder import base

CONNECTOR = {'initiator': 'iqn.1993-08.org.debian:01:abc', 'host': 'h1'}


class ConnectionTest(base.DriverTestCase):

    def test_data_services_ip(self):
        self.assertEqual('10.0.0.50', connection.data_services_ip(
            self.client.clusters.get_cluster.return_value))
        self.assertEqual('fd00::5', connection.data_services_ip(
            {'network': {'externalDataServiceIp': {
                'ipv6': {'value': 'fd00::5'}}}}))
        self.assertIsNone(connection.data_services_ip({}))

    def test_initialize_connection_attaches_and_returns_iscsi_info(self):
        vol = self.volume(provider_id='vg-1')
        disk = self.stub_vg('vg-1', name='volume-x', index=0)
        self.vgs.find_iscsi_client.side_effect = prism_exc.NotFound('none')
        info = self.driver.initialize_connection(vol, CONNECTOR)
        self.vgs.attach_iscsi_client.assert_called_once_with(
            'vg-1', CONNECTOR['initiator'], chap_secret=None)
        self.assertEqual('iscsi', info['driver_volume_type'])
        self.assertEqual({
            'target_discovered': False,
            'target_portal': '10.0.0.50:3260',
            'target_iqn': 'iqn.2010-06.com.nutanix:volume-x-tgt',
            'target_lun': 0,
            'volume_id': vol.id,
            'discard': True,
            'volume_group_ext_id': 'vg-1',
            'volume_disk_ext_id': disk['extId']}, info['data'])

    def test_vm_on_this_cluster_gets_no_iscsi_export(self):
        vol = self.volume(provider_id='vg-1')
        self.stub_vg('vg-1', name='volume-x', index=0)
        cluster = self.driver.volume_ops.cluster_ext_id
        for connector in ({'host': 'c1', 'nutanix_cluster_ext_id': cluster},
                          dict(CONNECTOR, nutanix_cluster_ext_id=cluster)):
            info = self.driver.initialize_connection(vol, connector)
            self.assertEqual('vg-1', info['data']['volume_group_ext_id'])
            self.assertEqual('vm-attach', info['data']['access'])
            self.driver.terminate_connection(vol, connector)
        self.vgs.attach_iscsi_client.assert_not_called()
        self.vgs.detach_iscsi_client.assert_not_called()

    def test_vm_on_another_cluster_needs_an_initiator(self):
        vol = self.volume(provider_id='vg-1')
        self.stub_vg('vg-1')
        self.assertRaises(exception.InvalidConnectorException,
                          self.driver.initialize_connection, vol,
                          {'host': 'c1', 'nutanix_cluster_ext_id': 'other'})

    def test_already_attached_initiator_is_not_attached_again(self):
        vol = self.volume(provider_id='vg-1')
        self.stub_vg('vg-1')
        self.vgs.find_iscsi_client.return_value = {'extId': 'c1'}
        self.vgs.list_iscsi_attachments.return_value = [{'extId': 'c1'}]
        self.driver.initialize_connection(vol, CONNECTOR)
        self.vgs.attach_iscsi_client.assert_not_called()

    def test_portal_override_and_ipv6(self):
        self.conf_fixture.config(group=base.BACKEND,
                                 nutanix_iscsi_portal_address='fd00::7')
        self.assertEqual('[fd00::7]:3260',
                         self.driver.connection_ops.portal())
        self.client.clusters.get_cluster.assert_not_called()

    def test_cluster_without_data_services_ip(self):
        self.client.clusters.get_cluster.return_value = {'network': {}}
        vol = self.volume(provider_id='vg-1')
        self.stub_vg('vg-1')
        self.assertRaises(exception.VolumeBackendAPIException,
                          self.driver.initialize_connection, vol, CONNECTOR)
        self.vgs.attach_iscsi_client.assert_not_called()

    def test_attach_failure_is_backend_error(self):
        vol = self.volume(provider_id='vg-1')
        self.stub_vg('vg-1')
        self.vgs.find_iscsi_client.side_effect = prism_exc.NotFound('none')
        self.vgs.attach_iscsi_client.side_effect = prism_exc.Conflict(
            'not shared')
        self.assertRaises(exception.VolumeBackendAPIException,
                          self.driver.initialize_connection, vol, CONNECTOR)

    def test_terminate_keeps_export_for_other_attachment_on_host(self):
        vol = self.volume(provider_id='vg-1')
        self.stub_vg('vg-1')
        self.driver.connection_ops.terminate_connection(
            vol, CONNECTOR, other_attachments=1)
        self.vgs.detach_iscsi_client.assert_not_called()

    def test_terminate_detaches(self):
        vol = self.volume(provider_id='vg-1')
        self.stub_vg('vg-1')
        self.vgs.find_iscsi_client.return_value = {'extId': 'c1'}
        self.vgs.list_iscsi_attachments.return_value = [{'extId': 'c1'}]
        self.driver.terminate_connection(vol, CONNECTOR)
        self.vgs.detach_iscsi_client.assert_called_once_with(
            'vg-1', CONNECTOR['initiator'])

    def test_terminate_missing_volume_is_noop(self):
        vol = self.volume(provider_id='vg-gone')
        self.vgs.get.side_effect = prism_exc.NotFound('gone')
        self.vgs.list.return_value = []
        self.driver.terminate_connection(vol, CONNECTOR)
        self.vgs.detach_iscsi_client.assert_not_called()


class ConnectionLockTest(base.DriverTestCase):
    """Attach and detach of a volume hold a lock of Cinder's coordinator."""

    def test_initialize_and_terminate_hold_the_volume_s_lock(self):
        vol = self.volume(provider_id='vg-1')
        names = []
        real = coordination.COORDINATOR.get_lock

        def get_lock(name):
            names.append(name)
            return real(name)
        with mock.patch.object(coordination.COORDINATOR, 'get_lock',
                               side_effect=get_lock), \
                mock.patch.object(self.driver.connection_ops,
                                  'initialize_connection'), \
                mock.patch.object(self.driver.connection_ops,
                                  'terminate_connection'):
            self.driver.initialize_connection(vol, {'host': 'h'})
            self.driver.terminate_connection(vol, None)
        self.assertEqual(['nutanix-connection-%s' % vol.id] * 2, names)
