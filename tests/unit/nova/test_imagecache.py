"""imagecache: clone in place when the image is in the cluster, else fetch
once (streamed) under a per-image lock."""

import tempfile
import threading
from unittest import mock

from nova import exception
from oslo_concurrency import lockutils
from oslo_config import fixture as config_fixture

from nutanix_openstack.nova import imagecache
from nutanix_openstack.prism import exceptions as prism_exc
from nutanix_openstack.prism import images as prism_images
from nutanix_openstack.prism import locations
from tests.unit.nova import base


class LocationTestCase(base.TestCase):

    def test_parse(self):
        self.assertEqual(('c', 'i'),
                         locations.split_location('nutanix://c/i'))
        for bad in (None, '', 'rbd://a/b/c/d', 'nutanix://c', 'nutanix://c/',
                    'nutanix://c/i/x'):
            self.assertIsNone(locations.split_location(bad), bad)

    def test_kind(self):
        for fmt in ('raw', 'qcow2', None):
            self.assertEqual('DISK_IMAGE', imagecache.image_kind(fmt))
        self.assertEqual('ISO_IMAGE', imagecache.image_kind('iso'))
        # Only what the driver declares in its capabilities (traits).
        for fmt in ('ami', 'aki', 'vmdk', 'vhdx', 'vdi'):
            self.assertRaises(imagecache.UnsupportedImageFormat,
                              imagecache.image_kind, fmt)


class ImageCacheTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.conf = config_fixture.Config(lockutils.CONF)
        self.conf.setUp()
        self.addCleanup(self.conf.cleanUp)
        self.conf.config(lock_path=tempfile.mkdtemp(),
                         group='oslo_concurrency')
        self.image_api = mock.Mock()
        self.image_api.get.return_value = {'id': 'g1', 'size': 3,
                                           'locations': []}
        self.image_api.download.return_value = iter([b'a', b'bc'])
        self.client.images.ensure_disk_image.side_effect = lambda x: x
        self.client.images.create_for_upload.return_value = {'extId': 'new'}
        self.client.lock = prism_images.local_lock
        self.cache = imagecache.ImageCache(self.client, self.image_api,
                                           base.CLUSTER, 'openstack-glance-')

    def test_local_location_is_cloned_without_download(self):
        self.image_api.get.return_value = {
            'id': 'g1', 'locations': [
                {'url': 'nutanix://other-cluster/img-x'},
                {'url': 'nutanix://%s/img-1' % base.CLUSTER}]}
        self.client.images.ensure_disk_image.side_effect = None
        self.client.images.ensure_disk_image.return_value = 'img-1-raw'
        self.assertEqual(('img-1-raw', 'DISK_IMAGE'),
                         self.cache.image_for_boot('ctx', 'g1', 'qcow2'))
        self.client.images.get.assert_called_once_with('img-1')
        self.image_api.download.assert_not_called()
        self.client.images.create_for_upload.assert_not_called()

    def test_direct_url_counts_too(self):
        self.image_api.get.return_value = {
            'id': 'g1', 'direct_url': 'nutanix://%s/img-1' % base.CLUSTER}
        self.assertEqual('img-1',
                         self.cache.image_for_boot('ctx', 'g1', 'raw')[0])

    def test_location_of_missing_backend_image_falls_back_to_fetch(self):
        self.image_api.get.return_value = {
            'id': 'g1', 'locations': [
                {'url': 'nutanix://%s/gone' % base.CLUSTER}]}
        self.client.images.get.side_effect = prism_exc.NotFound('x')
        self.assertEqual('new',
                         self.cache.image_for_boot('ctx', 'g1', 'raw')[0])

    def test_cache_hit_reuses_image(self):
        self.client.images.find_by_name.return_value = [{'extId': 'cached'}]
        self.assertEqual('cached',
                         self.cache.image_for_boot('ctx', 'g1', 'raw')[0])
        self.client.images.find_by_name.assert_called_once_with(
            'openstack-glance-g1')
        self.image_api.download.assert_not_called()

    def test_cache_miss_streams_then_publishes_name(self):
        self.assertEqual(('new', 'DISK_IMAGE'),
                         self.cache.image_for_boot('ctx', 'g1', 'qcow2'))
        create = self.client.images.create_for_upload
        self.assertEqual('openstack-glance-g1.partial', create.call_args[0][0])
        self.assertEqual('DISK_IMAGE', create.call_args.kwargs['image_type'])
        ext_id, chunks = self.client.images.upload.call_args[0]
        self.assertEqual('new', ext_id)
        self.assertEqual([b'a', b'bc'], list(chunks))
        self.assertEqual(3, self.client.images.upload.call_args.kwargs['size'])
        self.client.images.update.assert_called_once_with(
            'new', name='openstack-glance-g1')

    def test_iso_is_uploaded_as_iso_and_not_converted(self):
        self.assertEqual(('new', 'ISO_IMAGE'),
                         self.cache.image_for_boot('ctx', 'g1', 'iso'))
        self.assertEqual('ISO_IMAGE', self.client.images.create_for_upload
                         .call_args.kwargs['image_type'])
        self.client.images.ensure_disk_image.assert_not_called()

    def test_failed_upload_removes_partial_image(self):
        self.client.images.upload.side_effect = prism_exc.ConnectionFailed(
            'reset')
        self.assertRaises(prism_exc.ConnectionFailed,
                          self.cache.image_for_boot, 'ctx', 'g1', 'raw')
        self.client.images.delete.assert_called_once_with('new')
        self.client.images.update.assert_not_called()

    def test_glance_without_data(self):
        self.image_api.download.return_value = None
        self.assertRaises(exception.ImageUnacceptable,
                          self.cache.image_for_boot, 'ctx', 'g1', 'raw')
        self.client.images.delete.assert_called_once_with('new')

    def test_the_fetch_holds_the_client_s_cross_host_lock(self):
        names = []

        def lock(name):
            names.append(name)
            return prism_images.local_lock(name)
        self.client.lock = lock
        self.cache.image_for_boot('ctx', 'g1', 'raw')
        self.assertEqual(['glance-image-g1'], names)

    def test_concurrent_boots_fetch_once(self):
        published = []
        state = {'calls': 0}
        gate = threading.Event()

        def find(name):
            return [{'extId': 'new'}] if published else []

        def upload(ext_id, chunks, size=None):
            state['calls'] += 1
            gate.wait(5)
            list(chunks)

        def update(ext_id, name):
            published.append(name)

        self.client.images.find_by_name.side_effect = find
        self.client.images.upload.side_effect = upload
        self.client.images.update.side_effect = update
        self.image_api.download.side_effect = lambda *a: iter([b'x'])
        results = []
        threads = [threading.Thread(target=lambda: results.append(
            self.cache.image_for_boot('ctx', 'g1', 'raw'))) for _ in range(4)]
        for t in threads:
            t.start()
        gate.set()
        for t in threads:
            t.join(10)
        self.assertEqual(1, state['calls'])
        self.assertEqual([('new', 'DISK_IMAGE')] * 4, results)
