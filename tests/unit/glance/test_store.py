"""Unit tests of the nutanix glance_store driver with a fake PrismClient."""

import hashlib
import io
from unittest import mock

from glance_store import capabilities
from glance_store import exceptions
from glance_store import location as g_location
from glance_store.tests import base
from oslo_config import cfg

from nutanix_openstack.glance import store as nstore
from nutanix_openstack.prism import exceptions as prism_exc
from tests.unit.glance import fakes

IMAGE_ID = '961973d8-3360-4364-919e-2c197825dbb4'
QCOW2_HEAD = b'QFI\xfb\x00\x00\x00\x03' + b'\x00' * 504


class _StoreMixin(object):

    def _make_store(self, backend=None, **overrides):
        group = backend or 'glance_store'
        self.client = fakes.FakeClient()
        patcher = mock.patch.object(nstore.Store, '_make_client',
                                    side_effect=lambda: self.client)
        patcher.start()
        self.addCleanup(patcher.stop)
        store = nstore.Store(self.conf, backend=backend)
        opts = dict(nutanix_endpoints=['https://10.0.0.1:9440'],
                    nutanix_username='admin', nutanix_password='secret',
                    nutanix_transfer_chunk_size=4096,
                    nutanix_storage_container='images')
        opts.update(overrides)
        for k, v in opts.items():
            self.conf.set_override(k, v, group)
        store.configure()
        return store

    def _location(self, uri):
        return g_location.get_location_from_uri(uri, conf=self.conf)


class TestSingleStore(_StoreMixin, base.StoreBaseTest):

    _CONF = cfg.ConfigOpts()

    def setUp(self):
        super(TestSingleStore, self).setUp()
        self.store = self._make_store()
        self.register_store_schemes(self.store, 'nutanix')

    def _add(self, data, size=None, algo='sha256', verifier=None):
        return self.store.add(IMAGE_ID, io.BytesIO(data),
                              len(data) if size is None else size, algo,
                              verifier=verifier)

    def test_configure_sets_url_prefix_and_write_access(self):
        self.assertEqual('nutanix://%s/' % fakes.CLUSTER,
                         self.store.url_prefix)
        self.assertTrue(self.store.is_capable(
            capabilities.BitMasks.WRITE_ACCESS))
        self.assertTrue(self.store.is_capable(
            capabilities.BitMasks.READ_RANDOM))
        self.assertFalse(self.store.is_capable(
            capabilities.BitMasks.WRITE_OFFSET))

    def test_add_returns_location_hashes_and_size(self):
        data = b'raw disk bytes ' * 1000
        uri, size, checksum, multihash, meta = self._add(data)
        ext_id = uri.rsplit('/', 1)[1]
        self.assertEqual('nutanix://%s/%s' % (fakes.CLUSTER, ext_id), uri)
        self.assertEqual(len(data), size)
        self.assertEqual(hashlib.md5(data).hexdigest(), checksum)
        self.assertEqual(hashlib.sha256(data).hexdigest(), multihash)
        self.assertEqual({}, meta)
        self.assertEqual(data, self.client.images.data[ext_id])
        image = self.client.images.images[ext_id]
        self.assertEqual('DISK_IMAGE', image['type'])
        self.assertEqual('glance-' + IMAGE_ID, image['name'])
        self.assertEqual([fakes.CLUSTER], image['clusterLocationExtIds'])

    def test_add_back_compat_four_tuple(self):
        data = b'x' * 10
        res = self.store.add(IMAGE_ID, io.BytesIO(data), len(data))
        self.assertEqual(4, len(res))
        self.assertEqual(hashlib.md5(data).hexdigest(), res[2])

    def test_add_streams_in_chunks_and_feeds_verifier(self):
        data = bytes(range(256)) * 100   # 25600 bytes, chunk size 4096
        verifier = mock.Mock()
        self._add(data, algo='sha512', verifier=verifier)
        fed = b''.join(c.args[0] for c in verifier.update.call_args_list)
        self.assertEqual(data, fed)
        self.assertGreater(verifier.update.call_count, 5)
        self.assertTrue(all(len(c.args[0]) <= 4096
                            for c in verifier.update.call_args_list))

    def test_add_qcow2_is_kept_as_iso_image(self):
        data = QCOW2_HEAD + b'payload'
        uri = self._add(data)[0]
        image = self.client.images.images[uri.rsplit('/', 1)[1]]
        self.assertEqual('ISO_IMAGE', image['type'])
        self.assertIn('qcow2', image['description'])

    def test_add_qcow2_has_the_cluster_derive_its_disk_at_once(self):
        uri = self._add(QCOW2_HEAD + b'payload')[0]
        ext_id = uri.rsplit('/', 1)[1]
        self.assertIn(('ensure_disk_image', ext_id), self.client.images.calls)
        self.assertEqual(1, len(self.client.images.list_derived(ext_id)))

    def test_add_raw_needs_no_conversion(self):
        self._add(b'raw bytes')
        self.assertNotIn('ensure_disk_image',
                         [c[0] for c in self.client.images.calls])

    def test_add_refused_by_the_cluster_check_is_invalid(self):
        self.client.images.derive_error = prism_exc.TaskFailed(
            'CreateImage failed: Invalid qcow2 image: qemu-img check found '
            '17 corruptions', code='VMM-40011')
        e = self.assertRaises(exceptions.Invalid, self._add,
                              QCOW2_HEAD + b'payload')
        self.assertIn('the cluster refused the qcow2 image', str(e))
        self.assertIn('17 corruptions', str(e))
        # Neither the uploaded bytes nor a derived disk is left.
        self.assertEqual({}, self.client.images.images)

    def test_add_cluster_failure_while_deriving_is_backend_error(self):
        self.client.images.derive_error = prism_exc.ConnectionFailed('down')
        self.assertRaises(exceptions.BackendException, self._add,
                          QCOW2_HEAD + b'payload')
        self.assertEqual({}, self.client.images.images)

    def test_add_head_split_over_small_reads(self):
        # A reader returning tiny pieces must still be sniffed correctly.
        class Trickle(object):
            def __init__(self, data):
                self.buf = io.BytesIO(data)

            def read(self, n):
                return self.buf.read(min(n, 3))

        data = QCOW2_HEAD + b'rest'
        uri, size = self.store.add(IMAGE_ID, Trickle(data), len(data),
                                   'md5')[:2]
        ext_id = uri.rsplit('/', 1)[1]
        self.assertEqual('ISO_IMAGE', self.client.images.images[ext_id][
            'type'])
        self.assertEqual(data, self.client.images.data[ext_id])

    def test_add_unknown_size(self):
        data = b'z' * 9000
        uri, size, checksum = self._add(data, size=0)[:3]
        self.assertEqual(9000, size)
        self.assertEqual(hashlib.md5(data).hexdigest(), checksum)
        self.assertIn(('upload', uri.rsplit('/', 1)[1], None),
                      self.client.images.calls)

    def test_add_empty_image(self):
        uri, size, checksum = self._add(b'', size=0)[:3]
        self.assertEqual(0, size)
        self.assertEqual(hashlib.md5(b'').hexdigest(), checksum)

    def test_add_too_many_bytes_is_invalid_and_removes_image(self):
        self.assertRaises(exceptions.Invalid, self._add, b'a' * 5000,
                          size=4000)
        self.assertEqual({}, self.client.images.images)

    def test_add_too_few_bytes_is_invalid_and_removes_image(self):
        self.assertRaises(exceptions.Invalid, self._add, b'a' * 100,
                          size=4000)
        self.assertEqual({}, self.client.images.images)

    def test_add_stream_error_wins_over_transport_error(self):
        # The HTTP layer may wrap what the body iterator raised.
        class Wrapping(fakes.FakeImages):
            def upload(self, ext_id, data_iter, size=None,
                       progress_callback=None):
                try:
                    list(data_iter)
                except Exception as e:
                    raise prism_exc.UploadNotRetryable(str(e))

        self.client.images.__class__ = Wrapping
        self.assertRaises(exceptions.Invalid, self._add, b'a' * 100,
                          size=4000)
        self.assertEqual({}, self.client.images.images)

    def test_add_backend_failure_removes_image(self):
        self.client.images.upload_error = prism_exc.TaskFailed('boom')
        self.assertRaises(exceptions.BackendException, self._add, b'abc')
        self.assertEqual({}, self.client.images.images)

    def test_add_reader_failure_removes_image(self):
        class Broken(object):
            def __init__(self):
                self.n = 0

            def read(self, n):
                self.n += 1
                if self.n > 2:
                    raise IOError('client went away')
                return b'q' * n

        self.assertRaises(IOError, self.store.add, IMAGE_ID, Broken(), 0,
                          'md5')
        self.assertEqual({}, self.client.images.images)

    def test_add_size_changed_by_cluster_is_refused(self):
        self.client.images.stored_size_delta = 512
        self.assertRaises(exceptions.BackendException, self._add, b'abc')
        self.assertEqual({}, self.client.images.images)

    def test_add_full_container_is_storage_full(self):
        self.client.clusters.free_bytes = 10
        self.assertRaises(exceptions.StorageFull, self._add, b'a' * 100)
        self.assertFalse(any(c[0] == 'create_for_upload'
                             for c in self.client.images.calls))

    def test_get_whole_image(self):
        data = bytes(range(256)) * 40
        uri = self._add(data)[0]
        it, size = self.store.get(self._location(uri))
        self.assertEqual(len(data), size)
        self.assertEqual(data, b''.join(it))

    def test_get_ranged(self):
        data = bytes(range(256)) * 40
        uri = self._add(data)[0]
        it, size = self.store.get(self._location(uri), offset=100,
                                  chunk_size=1000)
        self.assertEqual(1000, size)
        self.assertEqual(data[100:1100], b''.join(it))
        it, size = self.store.get(self._location(uri), offset=10000)
        self.assertEqual(data[10000:], b''.join(it))

    def test_get_range_past_end_is_clipped(self):
        data = b'0123456789'
        uri = self._add(data)[0]
        it, _size = self.store.get(self._location(uri), offset=5,
                                   chunk_size=100)
        self.assertEqual(b'56789', b''.join(it))
        self.assertRaises(exceptions.Invalid, self.store.get,
                          self._location(uri), offset=10)

    def test_get_missing_is_not_found(self):
        uri = 'nutanix://%s/%s' % (fakes.CLUSTER, IMAGE_ID)
        self.assertRaises(exceptions.NotFound, self.store.get,
                          self._location(uri))
        self.assertRaises(exceptions.NotFound, self.store.get_size,
                          self._location(uri))

    def test_get_error_while_streaming_is_translated(self):
        uri = self._add(b'abcdef')[0]

        def broken(*a, **kw):
            yield b'ab'
            raise prism_exc.ConnectionFailed('reset')

        with mock.patch.object(self.client.images, 'download', broken):
            it, _size = self.store.get(self._location(uri))
            self.assertRaises(exceptions.BackendException, b''.join, it)

    def test_get_short_body_is_an_error(self):
        uri = self._add(b'abcdef')[0]
        with mock.patch.object(self.client.images, 'download',
                               return_value=iter([b'abc'])):
            it, _size = self.store.get(self._location(uri))
            self.assertRaises(exceptions.BackendException, b''.join, it)

    def test_get_size_is_one_metadata_call(self):
        uri = self._add(b'abcdef')[0]
        del self.client.images.calls[:]
        self.assertEqual(6, self.store.get_size(self._location(uri)))
        self.assertEqual(['get'], [c[0] for c in self.client.images.calls])

    def test_delete_removes_image_and_derived_image(self):
        uri = self._add(QCOW2_HEAD)[0]
        ext_id = uri.rsplit('/', 1)[1]
        (derived,) = [i['extId'] for i in
                      self.client.images.list_derived(ext_id)]
        self.store.delete(self._location(uri))
        self.assertNotIn(ext_id, self.client.images.images)
        self.assertNotIn(derived, self.client.images.images)

    def test_delete_missing_is_not_found(self):
        uri = 'nutanix://%s/%s' % (fakes.CLUSTER, IMAGE_ID)
        self.assertRaises(exceptions.NotFound, self.store.delete,
                          self._location(uri))

    def test_delete_in_use_conflict(self):
        uri = self._add(b'abc')[0]
        with mock.patch.object(self.client.images, 'delete',
                               side_effect=prism_exc.Conflict('in use')):
            self.assertRaises(exceptions.InUseByStore, self.store.delete,
                              self._location(uri))

    def test_location_of_another_cluster_is_refused(self):
        uri = 'nutanix://%s/%s' % ('11111111-2222-4333-8444-555555555555',
                                   IMAGE_ID)
        loc = self._location(uri)
        for call in (self.store.get, self.store.get_size, self.store.delete):
            e = self.assertRaises(exceptions.BadStoreUri, call, loc)
            self.assertIn(fakes.CLUSTER, str(e))
            self.assertIn('belongs to cluster', str(e))

    def test_malformed_uris(self):
        for uri in ('nutanix://%s' % IMAGE_ID,
                    'nutanix://%s/not-a-uuid' % fakes.CLUSTER,
                    'nutanix://%s/%s/extra' % (fakes.CLUSTER, IMAGE_ID),
                    'nutanix:///%s' % IMAGE_ID):
            self.assertRaises(exceptions.BadStoreUri, self._location, uri)

    def test_progress_is_logged(self):
        self.conf.set_override('nutanix_progress_interval', 1,
                               'glance_store')
        clock = iter(range(0, 1000, 5))
        with mock.patch('time.monotonic', lambda: next(clock)), \
                mock.patch.object(nstore.streams.LOG, 'info') as info:
            self._add(b'p' * 20000)
        lines = [c.args[0] % c.args[1] for c in info.call_args_list]
        self.assertTrue(any('bytes sent' in ln and '%' in ln
                            for ln in lines), lines)
        self.assertTrue(any('finished, 20000 bytes' in ln for ln in lines))


class TestConfigureFailures(_StoreMixin, base.StoreBaseTest):
    """configure_add() errors: clear reason, store left read-only."""

    _CONF = cfg.ConfigOpts()

    def _assert_read_only(self, store, *expected):
        self.assertFalse(store.is_capable(capabilities.BitMasks.WRITE_ACCESS))
        self.assertRaises(exceptions.StoreAddDisabled, store.add, IMAGE_ID,
                          io.BytesIO(b'abc'), 3, 'md5')
        e = self.assertRaises(exceptions.BadStoreConfiguration,
                              store.configure_add)
        for text in expected:
            self.assertIn(text, str(e))
        self.assertNotIn('secret', str(e))

    def _failing(self, error, **overrides):
        def make():
            raise error
        self.client = fakes.FakeClient()
        with mock.patch.object(nstore.Store, '_make_client',
                               side_effect=make):
            store = nstore.Store(self.conf)
            for k, v in dict(nutanix_endpoints=['h1'],
                             nutanix_username='admin',
                             nutanix_password='secret', **overrides).items():
                self.conf.set_override(k, v, 'glance_store')
            store.configure()
            self._assert_read_only(store)
        return store

    def test_missing_endpoints(self):
        self._failing(prism_exc.ConfigurationError('no Prism endpoint '
                                                   'configured'))

    def _real_client_store(self, **opts):
        # The real PrismClient validates its options without any I/O.
        store = nstore.Store(self.conf)
        for k, v in opts.items():
            self.conf.set_override(k, v, 'glance_store')
        store.configure()
        return store

    def test_bad_endpoint_option(self):
        store = self._real_client_store(
            nutanix_endpoints=['https://10.0.0.1:port'],
            nutanix_username='admin', nutanix_password='secret')
        self._assert_read_only(store, 'invalid options', 'port')

    def test_missing_password(self):
        store = self._real_client_store(nutanix_endpoints=['10.0.0.1'],
                                        nutanix_username='admin')
        self._assert_read_only(store, 'invalid options', 'password')

    def test_wrong_credentials(self):
        store = self._make_store()
        self.client.clusters.error = prism_exc.Unauthorized('bad auth',
                                                            status=401)
        store.configure()
        self._assert_read_only(store, 'rejected the credentials', "'admin'")

    def test_unreachable_endpoint(self):
        store = self._make_store()
        self.client.clusters.error = prism_exc.ConnectionFailed('refused')
        store.configure()
        self._assert_read_only(store, 'cannot reach', '10.0.0.1')

    def test_unknown_container(self):
        store = self._make_store(nutanix_storage_container='nope')
        self._assert_read_only(store, "'nope'", 'not found')
        # Existing locations still map to this store.
        self.assertEqual('nutanix://%s/' % fakes.CLUSTER, store.url_prefix)

    def test_unknown_cluster(self):
        store = self._make_store(nutanix_cluster='other')
        self._assert_read_only(store, "'other'")

    def test_ambiguous_cluster(self):
        store = self._make_store()
        self.client.clusters.clusters.append(
            {'extId': '22222222-2222-4333-8444-555555555555', 'name': 'b',
             'config': {'clusterFunction': ['AOS']}})
        store.configure()
        self._assert_read_only(store, 'found 2 clusters')

    def test_read_only_store_still_reads(self):
        store = self._make_store(nutanix_storage_container='nope')
        ext_id = self.client.images.create_for_upload('x')['extId']
        self.client.images.upload(ext_id, iter([b'hello']))
        self.register_store_schemes(store, 'nutanix')
        loc = self._location('nutanix://%s/%s' % (fakes.CLUSTER, ext_id))
        it, size = store.get(loc)
        self.assertEqual(b'hello', b''.join(it))


class TestMultiStore(_StoreMixin, base.MultiStoreBaseTest):

    _CONF = cfg.ConfigOpts()

    def setUp(self):
        super(TestMultiStore, self).setUp()
        import glance_store as gstore
        self.conf = self._CONF
        self.conf(args=[])
        self.conf.register_opt(cfg.DictOpt('enabled_backends'))
        self.config(enabled_backends={'fast': 'file', 'cluster': 'nutanix'})
        gstore.register_store_opts(self.conf)
        self.config(default_backend='cluster', group='glance_store')
        self.addCleanup(self.conf.reset)
        g_location.SCHEME_TO_CLS_BACKEND_MAP = {}
        self.addCleanup(setattr, g_location, 'SCHEME_TO_CLS_BACKEND_MAP',
                        dict())
        self.store = self._make_store(backend='cluster')
        self.register_store_backend_schemes(self.store, 'nutanix', 'cluster')

    def test_add_reports_store_and_reads_back(self):
        data = b'multi' * 1000
        uri, size, checksum, multihash, meta = self.store.add(
            IMAGE_ID, io.BytesIO(data), len(data), 'sha512')
        self.assertEqual({'store': 'cluster'}, meta)
        self.assertEqual(hashlib.sha512(data).hexdigest(), multihash)
        loc = g_location.get_location_from_uri_and_backend(
            uri, 'cluster', conf=self.conf)
        it, _size = self.store.get(loc)
        self.assertEqual(data, b''.join(it))
        self.assertTrue(uri.startswith(self.store.url_prefix))

    def test_options_read_from_backend_group(self):
        self.assertEqual(4096, self.store.WRITE_CHUNKSIZE)
        self.assertEqual('images',
                         self.conf.cluster.nutanix_storage_container)
