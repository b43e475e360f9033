"""``openstack nutanix image import`` with the real CLI, glance-api and
the emulator: the cluster fetches the URL, Glance gets the location.
"""

import hashlib
import json

from tests.functional.glance import base as glance_base
from tests.functional.osc import base


class ImageImportTestCase(base.OscTestCase):

    def setUp(self):
        super(ImageImportTestCase, self).setUp()
        self.raw = glance_base.pattern(2 * 1024 * 1024 + 4096, seed=5)
        self.qcow2 = glance_base.make_qcow2(self.tmp, self.raw)

    def import_image(self, url, disk_format, *extra, token=base.SERVICE_TOKEN,
                     name='imported'):
        return self.openstack(
            'nutanix', 'image', 'import', '--url', url, '--disk-format',
            disk_format, '--container-format', 'bare', '--wait', '-f',
            'json', '--timeout', '60',
            *(self.nutanix_args() + list(extra) + [name]),
            token=token)

    def assert_imported(self, proc, data, image_type):
        self.assertEqual(0, proc.returncode, proc.stderr + proc.stdout)
        shown = json.loads(proc.stdout)
        self.assertEqual('active', shown['status'])
        self.assertEqual(len(data), shown['size'])
        self.assertEqual(hashlib.md5(data).hexdigest(), shown['checksum'])
        self.assertEqual('sha512', shown['os_hash_algo'])
        self.assertEqual(hashlib.sha512(data).hexdigest(),
                         shown['os_hash_value'])
        # Downloaded through Glance (the store's get()): the URL's bytes.
        self.assertEqual(data, self.download(shown['id']))
        # The backend image has the store's name and type.
        backend = [i for i in self.backend_images()
                   if i['name'] == 'glance-' + shown['id']]
        self.assertEqual(1, len(backend), backend)
        self.assertEqual(image_type, backend[0]['type'])
        self.assertEqual(len(data), backend[0]['sizeBytes'])
        # Nothing went through Glance: its staging area stayed empty and
        # the URL was read once, by the emulator's fetcher.
        self.assertEqual([], self.staging_files())
        self.assertEqual(1, len(self.url_requests), self.url_requests)
        method, _path, agent = self.url_requests[0]
        self.assertEqual('GET', method)
        self.assertIn('python-requests', agent)   # the emulator's fetcher
        return shown

    def test_qcow2_import_with_add_location_api(self):
        url = self.publish('disk.qcow2', self.qcow2)
        proc = self.import_image(url, 'qcow2', '--property', 'os_distro=x',
                                 '--public')
        shown = self.assert_imported(proc, self.qcow2, 'ISO_IMAGE')
        self.assertEqual('add', shown['location_api'])
        self.assertEqual('cluster', shown['stores'])
        self.assertEqual('public', shown['visibility'])
        self.assertIn('cluster fetch', proc.stderr)
        self.assertNotIn(self.emu.password, proc.stderr + proc.stdout)
