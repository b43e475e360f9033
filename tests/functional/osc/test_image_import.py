"""``openstack nutanix image import`` with the real CLI, glance-api and
the emulator: the cluster fetches the URL, Glance gets the location.
"""

import hashlib
import json

from tests import badimages
from tests.functional.glance import base as glance_base
from tests.functional.osc import base


class ImageImportTestCase(base.OscTestCase):

    def setUp(self):
        super(ImageImportTestCase, self).setUp()
        self.raw = glance_base.pattern(2 * 1024 * 1024 + 4096, seed=5)
        self.qcow2 = glance_base.make_qcow2(self.tmp, self.raw)

    def import_image(self, url, disk_format, *extra, token=base.SERVICE_TOKEN,
                     name='imported', debug=False):
        args = ['--debug'] if debug else []
        args += ['nutanix', 'image', 'import', '--url', url,
                 '--disk-format', disk_format, '--container-format', 'bare',
                 '--wait', '-f', 'json', '--timeout', '60']
        args += self.nutanix_args() + list(extra) + [name]
        return self.openstack(*args, token=token)

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

    def assert_nothing_left(self, proc):
        self.assertNotEqual(0, proc.returncode, proc.stdout)
        self.assertEqual([], self.glance_images())
        self.assertEqual([], self.backend_images())
        self.assertEqual([], self.staging_files())
        self.assertNotIn(self.emu.password, proc.stderr + proc.stdout)

    def test_raw_import_becomes_a_disk_image(self):
        url = self.publish('disk.raw', self.raw)
        # --debug: the cluster's copy carries the Prism credentials
        # (UrlBasicAuth); no log line may show the password.
        proc = self.import_image(url, 'raw', debug=True)
        shown = self.assert_imported(proc, self.raw, 'DISK_IMAGE')
        self.assertIn('Prism request POST', proc.stderr)
        # The ISO_IMAGE the cluster fetched into is gone: only the
        # DISK_IMAGE the cluster copied from it is left.
        self.assertEqual(1, len(self.backend_images()))
        self.assertEqual('add', shown['location_api'])

    def test_failing_url_leaves_nothing(self):
        url = self.publish('disk.qcow2', self.qcow2)
        self.url_fail.append(404)
        proc = self.import_image(url, 'qcow2')
        self.assert_nothing_left(proc)
        self.assertIn('404', proc.stderr, proc.stderr)

    def test_failing_cluster_task_leaves_nothing(self):
        url = self.publish('disk.qcow2', self.qcow2)
        self.emu.admin.add_fault(path='content/images',
                                 fail_task='injected import failure')
        proc = self.import_image(url, 'qcow2')
        self.assert_nothing_left(proc)
        self.assertIn('injected import failure', proc.stderr)

    def test_content_not_matching_disk_format_leaves_nothing(self):
        url = self.publish('disk.qcow2', self.qcow2)
        proc = self.import_image(url, 'raw')
        self.assert_nothing_left(proc)
        self.assertIn('holds a qcow2 image but --disk-format is raw',
                      proc.stderr)

    def test_damaged_images_leave_nothing(self):
        for fmt in badimages.FORMATS:
            url = self.publish('t.' + fmt, badimages.make(
                fmt, 'truncated', self.tmp))
            proc = self.import_image(url, fmt)
            self.assert_nothing_left(proc)
            self.assertIn('the cluster refused the %s image: ' % fmt,
                          proc.stderr)
            self.assertIn('Invalid %s image' % fmt, proc.stderr)

    def test_glance_refusing_both_location_apis_leaves_nothing(self):
        # No service role and show_multiple_locations off (the default):
        # Glance refuses the add-location API and the JSON patch.
        url = self.publish('disk.qcow2', self.qcow2)
        proc = self.import_image(url, 'qcow2', token=base.MEMBER_TOKEN)
        self.assert_nothing_left(proc)
        self.assertIn('Glance refused the add-location API', proc.stderr)
        self.assertIn('locations are invisible', proc.stderr)

    def test_credentials_from_the_glance_store_configuration(self):
        url = self.publish('disk.qcow2', self.qcow2)
        env = self.cli_env()
        del env['NUTANIX_PASSWORD']
        proc = self.openstack(
            'nutanix', 'image', 'import', '--url', url, '--disk-format',
            'qcow2', '--wait', '-f', 'json', '--glance-config',
            self.glance.config_file, '--store', 'cluster', 'from-config',
            env=env)
        self.assert_imported(proc, self.qcow2, 'ISO_IMAGE')

    def test_missing_credentials_create_nothing(self):
        env = self.cli_env()
        del env['NUTANIX_PASSWORD']
        proc = self.openstack(
            'nutanix', 'image', 'import', '--url', self.url_base + 'x',
            '--disk-format', 'raw', 'nothing', *self.nutanix_args(),
            env=env)
        self.assertNotEqual(0, proc.returncode)
        self.assertIn('NUTANIX_PASSWORD', proc.stderr)
        self.assertEqual([], self.glance_images())
        self.assertEqual([], self.url_requests)


class JsonPatchImportTestCase(base.OscTestCase):
    """A user without the service role, Glance with show_multiple_locations.

    Glance refuses the add-location API for a nutanix:// URL; the plugin
    falls back to the JSON patch with checksum and hash computed from the
    cluster's copy.
    """

    glance_extra = {'DEFAULT': {'show_multiple_locations': 'true'}}

    def test_qcow2_import_with_json_patch(self):
        raw = glance_base.pattern(1024 * 1024, seed=3)
        data = glance_base.make_qcow2(self.tmp, raw)
        url = self.publish('disk.qcow2', data)
        proc = self.openstack(
            'nutanix', 'image', 'import', '--url', url, '--disk-format',
            'qcow2', '--wait', '-f', 'json', '--store', 'cluster',
            'patched', *self.nutanix_args(), token=base.MEMBER_TOKEN)
        self.assertEqual(0, proc.returncode, proc.stderr)
        shown = json.loads(proc.stdout)
        self.assertEqual('patch', shown['location_api'])
        self.assertEqual('active', shown['status'])
        self.assertEqual(hashlib.sha512(data).hexdigest(),
                         shown['os_hash_value'])
        self.assertEqual(hashlib.md5(data).hexdigest(), shown['checksum'])
        self.assertEqual('cluster', shown['stores'])
        self.assertEqual(data, self.download(shown['id']))
        self.assertEqual([], self.staging_files())
        self.assertEqual(1, len(self.url_requests), self.url_requests)


class LocationTaskFailureTestCase(base.OscTestCase):
    """Glance accepts POST /locations, then its location task fails.

    This glance-api has no nutanix store, so the location_import task
    cannot map nutanix:// to a backend: the image goes back to queued and
    the plugin removes it and the backend image.
    """

    def glance_backends(self):
        return {'files': ('file', {'filesystem_store_datadir':
                                   self.tmp + '/files'})}

    def test_failed_location_task_leaves_nothing(self):
        raw = glance_base.pattern(1024 * 1024, seed=9)
        url = self.publish('disk.raw', raw)
        proc = self.openstack(
            'nutanix', 'image', 'import', '--url', url, '--disk-format',
            'raw', '--timeout', '60', 'refused', *self.nutanix_args())
        self.assertNotEqual(0, proc.returncode, proc.stdout)
        self.assertIn('Glance did not accept the location', proc.stderr)
        self.assertEqual([], self.glance_images())
        self.assertEqual([], self.backend_images())


class MultiStoreTestCase(base.OscTestCase):
    """The cluster next to a file store, tasks with real progress."""

    emulator_kwargs = {'task_mode': 'async', 'task_delay': 0.5}

    def glance_backends(self):
        return {'cluster': ('nutanix', self.store_opts),
                'files': ('file', {'filesystem_store_datadir':
                                   self.tmp + '/files'})}

    def run_import(self, *extra):
        raw = glance_base.pattern(1024 * 1024, seed=13)
        self.data = glance_base.make_qcow2(self.tmp, raw)
        url = self.publish('disk.qcow2', self.data)
        return self.openstack(
            'nutanix', 'image', 'import', '--url', url, '--disk-format',
            'qcow2', '--wait', '-f', 'json', 'multi',
            *(self.nutanix_args() + list(extra)))

    def test_async_task_progress_and_store(self):
        proc = self.run_import('--store', 'cluster')
        self.assertEqual(0, proc.returncode, proc.stderr)
        shown = json.loads(proc.stdout)
        self.assertEqual('cluster', shown['stores'])
        self.assertEqual(self.data, self.download(shown['id']))
        progress = [line for line in proc.stderr.splitlines()
                    if line.startswith('cluster fetch: ')]
        self.assertEqual('cluster fetch: 100%', progress[-1])
        self.assertGreater(len(progress), 1, proc.stderr)

    def test_location_on_another_store_is_rolled_back(self):
        # The location maps to "cluster", not to the "files" asked for:
        # the image was already active, Glance deletes it and its data.
        proc = self.run_import('--store', 'files')
        self.assertNotEqual(0, proc.returncode, proc.stdout)
        self.assertIn('landed on Glance store cluster, not on files',
                      proc.stderr)
        self.assertEqual([], self.glance_images())
        self.assertEqual([], self.backend_images())

    def test_unknown_store_creates_nothing(self):
        proc = self.run_import('--store', 'nope')
        self.assertNotEqual(0, proc.returncode, proc.stdout)
        self.assertIn('Glance has no store nope', proc.stderr)
        self.assertEqual([], self.glance_images())
        self.assertEqual([], self.url_requests)
