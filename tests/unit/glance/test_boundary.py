"""The store's one error boundary: only glance_store exceptions come out."""

import io
from unittest import mock

from glance_store import exceptions
from glance_store import location as g_location
from glance_store.tests import base
from oslo_config import cfg

from nutanix_openstack.glance import store as nstore
from nutanix_openstack.prism import exceptions as prism_exc
from tests.unit import client_errors
from tests.unit.glance import fakes

IMAGE_ID = '961973d8-3360-4364-919e-2c197825dbb4'
IMAGE_EXT_ID = '11111111-2222-4333-8444-555555555555'
# Methods that never call the backend.
NO_BACKEND = {'get_schemes'}
# How the walk calls each public method (glance_store's decorators hide
# their signatures); a new method must be added here.
CALLS = {
    'add': lambda store, a: store.add(a['image_id'], a['image_file'],
                                      a['image_size'], a['hashing_algo']),
    'get': lambda store, a: store.get(a['location'], offset=1,
                                      chunk_size=10),
    'get_size': lambda store, a: store.get_size(a['location']),
    'delete': lambda store, a: store.delete(a['location']),
    'configure_add': lambda store, a: store.configure_add(),
    'get_schemes': lambda store, a: store.get_schemes(),
}


class BoundaryTest(base.StoreBaseTest):

    _CONF = cfg.ConfigOpts()

    def _store(self, client):
        with mock.patch.object(nstore.Store, '_make_client',
                               return_value=client):
            store = nstore.Store(self.conf)
            for k, v in dict(nutanix_endpoints=['https://10.0.0.1:9440'],
                             nutanix_username='admin',
                             nutanix_password='secret',
                             nutanix_storage_container='images').items():
                self.conf.set_override(k, v, 'glance_store')
            store.configure()
        self.register_store_schemes(store, 'nutanix')
        return store

    def _arguments(self):
        uri = 'nutanix://%s/%s' % (fakes.CLUSTER, IMAGE_EXT_ID)
        return {'image_id': IMAGE_ID, 'image_file': io.BytesIO(b'x' * 600),
                'image_size': 600, 'hashing_algo': 'sha256',
                'location': g_location.get_location_from_uri(
                    uri, conf=self.conf)}

    def test_only_glance_store_exceptions_come_out(self):
        names = client_errors.public_methods(nstore.Store)
        self.assertEqual(sorted(CALLS), names)
        reached = set()
        for cls in client_errors.client_exception_types():
            for name in names:
                # A store that knows its cluster, then a failing cluster.
                store = self._store(fakes.FakeClient())
                client = client_errors.RaisingClient(
                    client_errors.make_error(cls))
                store._client = client
                try:
                    CALLS[name](store, self._arguments())
                except (exceptions.GlanceStoreException,
                        exceptions.BackendException):
                    pass
                except prism_exc.PrismError as e:
                    self.fail('%s let %r through' % (name, e))
                if client.calls:
                    reached.add(name)
        self.assertEqual(set(names) - NO_BACKEND, reached)

    def test_configure_add_reason_is_the_store_translation(self):
        store = self._store(fakes.FakeClient())
        error = prism_exc.ConnectionFailed('refused')
        store._client = client_errors.RaisingClient(error)
        e = self.assertRaises(exceptions.BadStoreConfiguration,
                              store.configure_add)
        self.assertIn(store._error_reason(error), str(e))
