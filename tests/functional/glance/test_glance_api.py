"""A real glance-api process with the nutanix store, on the emulator.

glance 33 from PyPI is served as ``glance.wsgi.api:application`` under
gunicorn, on SQLite and without keystone (see glance_api.py), and
python-glanceclient drives it over loopback: the whole path an operator's
upload and download take, store loaded by entry point from a config file.
"""

import functools
import hashlib
import http.server
import io
import shutil
import threading
import time

import fixtures
from glanceclient import exc as glance_exc
import requests
import testtools

from nutanix_openstack.emulator import fixture as emu_fixture
from tests.functional.glance import base
from tests.functional.glance import glance_api


class GlanceApiTestCase(testtools.TestCase):

    def setUp(self):
        super(GlanceApiTestCase, self).setUp()
        for tool in ('qemu-img', 'gunicorn'):
            if not shutil.which(tool) and not shutil.which(
                    tool, path=glance_api.VENV_BIN):
                self.skipTest('%s is required' % tool)
        self.tmp = self.useFixture(fixtures.TempDir()).path
        self.emu = self.useFixture(emu_fixture.EmulatorFixture())
        self.client = self.emu.prism_client()
        raw = base.pattern(3 * 1024 * 1024 + 4096, seed=11)
        self.qcow2 = base.make_qcow2(self.tmp, raw)

    def nutanix_backend(self):
        opts = base.store_options(self.emu, nutanix_progress_interval=0)
        opts['store_description'] = 'Nutanix cluster (emulator)'
        return ('nutanix', opts)

    def start_glance(self, backends, default, **kwargs):
        self.api = self.useFixture(glance_api.GlanceApi(backends, default,
                                                        **kwargs))
        self.addOnException(self._attach_logs)
        return self.api.glance_client()

    def _attach_logs(self, exc_info):
        self.addDetail('glance-api-log', testtools.content.text_content(
            self.api.logs()))

    def wait_active(self, gc, image_id, timeout=120):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            image = gc.images.get(image_id)
            if image['status'] == 'active' and not image.get(
                    'os_glance_importing_to_stores'):
                return image
            if image['status'] in ('killed', 'deleted'):
                break
            time.sleep(0.5)
        self.fail('image %s not active: %s' % (image_id, dict(image)))

    def serve_directory(self, directory):
        """An HTTP server on loopback serving ``directory``; its port."""
        handler = functools.partial(http.server.SimpleHTTPRequestHandler,
                                    directory=directory)
        server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        return server.server_address[1]

    def backend_images(self):
        return set(self.emu.admin.inventory()['objects'].get('image', []))

    def uploaded_images(self):
        """Backend images of Glance images, without their derived disks.

        A qcow2/vmdk/vhdx upload also leaves the raw disk the cluster
        derived (and checked) at once (``openstack-raw-<extId>``).
        """
        return {ext_id for ext_id in self.backend_images()
                if self.client.images.get(ext_id)['name'].startswith(
                    'glance-')}

    def upload(self, gc, data, disk_format='qcow2', backend=None):
        image = gc.images.create(name='cirros-like', disk_format=disk_format,
                                 container_format='bare')
        kwargs = {'backend': backend} if backend else {}
        gc.images.upload(image['id'], io.BytesIO(data), len(data), **kwargs)
        return gc.images.get(image['id'])

    def check_round_trip(self, gc, image, data):
        self.assertEqual('active', image['status'])
        self.assertEqual(len(data), image['size'])
        self.assertEqual(hashlib.md5(data).hexdigest(), image['checksum'])
        self.assertEqual('sha512', image['os_hash_algo'])
        self.assertEqual(hashlib.sha512(data).hexdigest(),
                         image['os_hash_value'])
        self.assertIn(image['id'], [i['id'] for i in gc.images.list()])
        got = b''.join(gc.images.data(image['id']))
        self.assertEqual(len(data), len(got))
        self.assertTrue(got == data, 'downloaded bytes differ')
        self.assertEqual(image['os_hash_value'],
                         hashlib.sha512(got).hexdigest())


class TestGlanceApiSingleBackend(GlanceApiTestCase):
    """``enabled_backends = cluster:nutanix``, the default backend."""

    def test_upload_list_download_delete(self):
        gc = self.start_glance({'cluster': self.nutanix_backend()},
                               'cluster')
        image = self.upload(gc, self.qcow2)
        self.check_round_trip(gc, image, self.qcow2)
        self.assertEqual('cluster', image['stores'])

        # The bytes are a cluster image, kept exactly (ISO_IMAGE).
        (ext_id,) = self.uploaded_images()
        self.assertEqual(2, len(self.backend_images()))  # + derived disk
        backend = self.client.images.get(ext_id)
        self.assertEqual('ISO_IMAGE', backend['type'])
        self.assertEqual('glance-' + image['id'], backend['name'])
        self.assertIn('Upload of image %s to Nutanix: finished, %d bytes'
                      % (image['id'], len(self.qcow2)), self.api.logs(
                          tail=10 ** 7))

        # A ranged download through Glance.
        resp = requests.get(
            '%s/v2/images/%s/file' % (self.api.endpoint, image['id']),
            headers=dict(self.api.identity_headers(),
                         Range='bytes=1000-1999'))
        self.assertEqual(206, resp.status_code)
        self.assertTrue(resp.content == self.qcow2[1000:2000])

        gc.images.delete(image['id'])
        self.assertEqual(set(), self.backend_images())
        self.assertNotIn(image['id'], [i['id'] for i in gc.images.list()])

    def test_chunked_upload_of_unknown_size(self):
        gc = self.start_glance({'cluster': self.nutanix_backend()},
                               'cluster')
        image = gc.images.create(name='chunked', disk_format='raw',
                                 container_format='bare')
        data = base.pattern(5 * 1024 * 1024 + 3, seed=13)
        # No Content-Length: glance hands the store size 0 (unknown).
        resp = requests.put(
            '%s/v2/images/%s/file' % (self.api.endpoint, image['id']),
            data=(data[i:i + 65536] for i in range(0, len(data), 65536)),
            headers=dict(self.api.identity_headers(),
                         **{'Content-Type': 'application/octet-stream'}))
        self.assertEqual(204, resp.status_code, resp.text)
        self.check_round_trip(gc, gc.images.get(image['id']), data)

    def test_web_download_import(self):
        with open(self.tmp + '/disk.qcow2', 'wb') as f:
            f.write(self.qcow2)
        port = self.serve_directory(self.tmp)
        gc = self.start_glance(
            {'cluster': self.nutanix_backend()}, 'cluster',
            extra_sections={'import_filtering_opts': {
                # glance refuses loopback URLs unless the host is allowed
                'allowed_hosts': '[127.0.0.1]',
                'allowed_ports': '[%d]' % port}})
        image = gc.images.create(name='imported', disk_format='qcow2',
                                 container_format='bare')
        gc.images.image_import(image['id'], method='web-download',
                               uri='http://127.0.0.1:%d/disk.qcow2' % port)
        image = self.wait_active(gc, image['id'])
        self.check_round_trip(gc, image, self.qcow2)
        self.assertEqual(1, len(self.uploaded_images()))
        self.assertIn('Upload of image %s to Nutanix: finished' % image['id'],
                      self.api.logs(tail=10 ** 7))

    def test_failed_cluster_upload_leaves_nothing(self):
        gc = self.start_glance({'cluster': self.nutanix_backend()},
                               'cluster')
        self.emu.admin.add_fault(method='PUT', path='/api/nutanix/v3/.*',
                                 fail_task=True, times=1)
        image = gc.images.create(name='fails', disk_format='qcow2',
                                 container_format='bare')
        self.assertRaises(glance_exc.HTTPException, gc.images.upload,
                          image['id'], io.BytesIO(self.qcow2),
                          len(self.qcow2))
        self.assertEqual(set(), self.backend_images())
        self.assertNotEqual('active', gc.images.get(image['id'])['status'])
        # The next upload of the same image works.
        gc.images.upload(image['id'], io.BytesIO(self.qcow2),
                         len(self.qcow2))
        self.check_round_trip(gc, gc.images.get(image['id']), self.qcow2)

    def test_wrong_credentials_make_the_store_read_only(self):
        name, opts = self.nutanix_backend()
        opts = dict(opts, nutanix_password='wrong', nutanix_api_retries=0)
        gc = self.start_glance({'cluster': (name, opts)}, 'cluster')
        image = gc.images.create(name='refused', disk_format='raw',
                                 container_format='bare')
        # glance_store's StoreAddDisabled: 410 Gone.
        e = self.assertRaises(glance_exc.HTTPException, gc.images.upload,
                              image['id'], io.BytesIO(b'data'), 4)
        # (glanceclient has no class for 410: the message says it)
        self.assertIn('410 Gone', str(e))
        self.assertIn('Adding images to store is disabled', str(e))
        logs = self.api.logs(tail=10 ** 7)
        self.assertIn('rejected the credentials', logs)
        self.assertNotIn("nutanix_password = wrong", logs)
        self.assertEqual(set(), self.backend_images())

    def test_stores_info_lists_the_backend(self):
        self.start_glance({'cluster': self.nutanix_backend()}, 'cluster')
        resp = requests.get(self.api.endpoint + '/v2/info/stores',
                            headers=self.api.identity_headers())
        self.assertEqual(200, resp.status_code, resp.text)
        stores = resp.json()['stores']
        self.assertEqual([{'id': 'cluster', 'default': 'true',
                           'description': 'Nutanix cluster (emulator)'}],
                         stores)
        # KNOWN GLANCE LIMITATION, asserted so that a fix shows up here:
        # glance 33's /v2/info/stores/detail looks every store type up in a
        # hard-coded map (rbd, file, cinder, swift, s3) and calls None for
        # any other type, answering 500 for out-of-tree stores.
        resp = requests.get(self.api.endpoint + '/v2/info/stores/detail',
                            headers=self.api.identity_headers())
        self.assertEqual(500, resp.status_code)
        self.assertIn("'NoneType' object is not callable",
                      self.api.logs(tail=10 ** 6))


class TestGlanceApiMultiStore(GlanceApiTestCase):
    """``enabled_backends = fast:file,cluster:nutanix``."""

    def test_both_backends(self):
        gc = self.start_glance({
            'fast': ('file', {'filesystem_store_datadir':
                              self.tmp + '/images'}),
            'cluster': self.nutanix_backend()}, 'fast')
        on_cluster = self.upload(gc, self.qcow2, backend='cluster')
        raw = base.pattern(2 * 1024 * 1024, seed=5)
        on_file = self.upload(gc, raw, disk_format='raw')
        self.assertEqual('cluster', on_cluster['stores'])
        self.assertEqual('fast', on_file['stores'])
        self.check_round_trip(gc, on_cluster, self.qcow2)
        self.check_round_trip(gc, on_file, raw)
        self.assertEqual(1, len(self.uploaded_images()))

        # copy-image import: the file store's image copied to the cluster.
        before = self.backend_images()
        gc.images.image_import(on_file['id'], method='copy-image',
                               stores=['cluster'])
        deadline = time.monotonic() + 120
        while 'cluster' not in gc.images.get(on_file['id'])['stores']:
            self.assertLess(time.monotonic(), deadline, 'copy-image')
            time.sleep(0.5)
        self.assertEqual(2, len(self.uploaded_images()))
        (copy,) = self.backend_images() - before
        self.assertTrue(raw == b''.join(self.client.images.download(copy)))

        gc.images.delete(on_cluster['id'])
        gc.images.delete(on_file['id'])
        self.assertEqual(set(), self.backend_images())
        self.assertEqual([], list(gc.images.list()))
