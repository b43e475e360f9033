"""The driver's one error boundary: no client exception reaches Cinder."""

from unittest import mock

from cinder import exception

from nutanix_openstack.cinder import driver
from nutanix_openstack.prism import exceptions as prism_exc
from nutanix_openstack.prism import locations
from tests.unit.cinder import base
from tests.unit import client_errors

IMG = '11111111-2222-3333-4444-555555555555'

# Methods that never call the backend (Cinder-only bookkeeping).
NO_BACKEND = {'check_for_setup_error', 'create_export', 'ensure_export',
              'remove_export', 'create_group', 'update_group', 'unmanage',
              'unmanage_snapshot', 'get_driver_options',
              'get_replication_error_status', 'failover_replication',
              # without a replication_device it refuses before any call
              'failover_host',
              # back to the primary, whose client is not the injected one
              'failover_completed'}
# Arguments that differ for one method (a group from its source volumes).
OVERRIDES = {'create_group_from_src': {'group_snapshot': None}}


class BoundaryTest(base.DriverTestCase):

    def _arguments(self):
        vol = self.volume(provider_id='vg-1')
        snap = self.snapshot(vol, provider_id='rp-1')
        url = locations.make_location(base.CLUSTER, IMG)
        return {
            'context': self.ctx, 'volume': vol, 'new_size': 2,
            'src_vref': self.volume(provider_id='vg-2'),
            'snapshot': snap,
            'connector': {'initiator': 'iqn.1993-08.org.debian:01:h1',
                          'host': 'h1'},
            'image_location': (url, [{'url': url}]),
            'image_meta': {'id': 'g-1', 'disk_format': 'raw',
                           'container_format': 'bare'},
            'image_service': mock.Mock(), 'image_id': 'g-1',
            'existing_ref': {'source-name': 'vg-x'},
            'cinder_volumes': [], 'cinder_snapshots': [], 'marker': None,
            'limit': 10, 'offset': 0, 'sort_keys': ['size'],
            'sort_dirs': ['asc'], 'group': mock.Mock(id='g-1'),
            'volumes': [self.volume(provider_id='vg-3',
                                    source_volid=vol.id)],
            'group_snapshot': mock.Mock(id='gs-1'), 'snapshots': [snap],
            'source_vols': [vol], 'refresh': True,
            'groups': [], 'secondary_id': None,
            'secondary_backend_id': None,
        }

    def _wire(self, client):
        self.driver.client = client
        for ops in (self.driver.volume_ops, self.driver.snapshot_ops,
                    self.driver.image_ops, self.driver.connection_ops,
                    self.driver.manage_ops):
            ops.client = client
        self.driver._make_client = lambda: client

    def test_only_cinder_exceptions_come_out(self):
        names = client_errors.public_methods(driver.NutanixVolumeDriver)
        names.append('get_volume_stats')    # inherited, reads capacity
        reached = set()
        for cls in client_errors.client_exception_types():
            for name in names:
                client = client_errors.RaisingClient(
                    client_errors.make_error(cls))
                self._wire(client)
                method = getattr(self.driver, name)
                try:
                    client_errors.call_with(method, dict(
                        self._arguments(), **OVERRIDES.get(name, {})))
                except exception.CinderException:
                    pass
                except prism_exc.PrismError as e:
                    self.fail('%s let %r through' % (name, e))
                if client.calls:
                    reached.add(name)
        # The walk is not vacuous: every method that talks to the cluster
        # met the failing client.
        self.assertEqual(set(names) - NO_BACKEND, reached)

    def test_in_use_is_busy(self):
        busy = client_errors.RaisingClient(prism_exc.Conflict('in use'))
        args = self._arguments()
        self._wire(busy)
        self.assertRaises(exception.SnapshotIsBusy, client_errors.call_with,
                          self.driver.delete_snapshot, args)
        self.assertRaises(exception.VolumeBackendAPIException,
                          client_errors.call_with,
                          self.driver.create_snapshot, args)

    def test_message_names_method_object_and_request(self):
        self._wire(client_errors.RaisingClient(
            client_errors.make_error(prism_exc.ServerError)))
        vol = self.volume(provider_id='vg-1')
        e = self.assertRaises(exception.VolumeBackendAPIException,
                              self.driver.extend_volume, vol, 2)
        self.assertIn('extend_volume of volume %s' % vol.id, str(e))
        self.assertIn('req-injected', str(e))
