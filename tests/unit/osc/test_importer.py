"""The URL import flow with a fake Glance and a mocked PrismClient."""

import functools
import hashlib
import subprocess
import sys
from unittest import mock

import testtools

from nutanix_openstack.osc import glance_rest
from nutanix_openstack.osc import importer
from nutanix_openstack.prism import exceptions as prism_exc
from nutanix_openstack.prism import images as prism_images

CLUSTER = '00000000-0000-4000-8000-000000000001'
FETCHED = '11111111-1111-4111-8111-111111111111'
DISK = '22222222-2222-4222-8222-222222222222'
IMAGE_ID = '33333333-3333-4333-8333-333333333333'
QCOW2_HEAD = b'QFI\xfb' + b'\0' * 508


class FakeGlance(object):
    """Glance v2 as the importer sees it; ``states`` drive get()."""

    def __init__(self, states=None, add_error=None, patch_error=None):
        self.calls = []
        self.states = list(states or [])
        self.add_error = add_error
        self.patch_error = patch_error
        self.deleted = False

    def store_ids(self):
        return ['cluster', 'files']

    def create(self, fields):
        self.calls.append(('create', fields))
        return dict(fields, id=IMAGE_ID, status='queued')

    def add_location(self, image_id, url, validation_data=None):
        self.calls.append(('add', url))
        if self.add_error:
            raise self.add_error

    def patch_add_location(self, image_id, url, metadata=None,
                           validation_data=None):
        self.calls.append(('patch', url, metadata, validation_data))
        if self.patch_error:
            raise self.patch_error

    def get(self, image_id):
        state = self.states.pop(0) if len(self.states) > 1 else self.states[0]
        return dict(state, id=image_id)

    def delete(self, image_id):
        self.calls.append(('delete', image_id))
        self.deleted = True


def active(size=4096, hashed=True, **extra):
    image = {'status': 'active', 'size': size, 'stores': 'cluster'}
    if hashed:
        image.update(checksum='c', os_hash_value='h')
    image.update(extra)
    return image


class ImporterTestCase(testtools.TestCase):

    def setUp(self):
        super(ImporterTestCase, self).setUp()
        self.prism = mock.Mock()
        self.prism.cluster_ext_id.return_value = CLUSTER
        self.prism.session.credentials = ('u', 'p')
        images = self.prism.images
        images.create_from_url.side_effect = [
            {'extId': FETCHED, 'sizeBytes': 4096, 'type': 'ISO_IMAGE'},
            {'extId': DISK, 'sizeBytes': 4096, 'type': 'DISK_IMAGE'}]
        images.download.side_effect = lambda ext_id, *a: iter([QCOW2_HEAD])
        images.file_url.side_effect = lambda e: 'https://pc/file/' + e
        # The client's own copy helper, over the fake's create_from_url.
        images._session.credentials = ('u', 'p')
        images.copy_as_disk_image.side_effect = functools.partial(
            prism_images.ImagesAPI.copy_as_disk_image, images)
        images.find_by_name.return_value = []
        images.list_derived.return_value = []
        self.reports = []

    def run_import(self, glance, disk_format='qcow2', store=None, **kwargs):
        job = importer.UrlImport(glance, self.prism, self.reports.append,
                                 poll_interval=0, sleep=lambda s: None,
                                 **kwargs)
        image = job.run('http://example.com/disk', {
            'name': 'n', 'disk_format': disk_format,
            'container_format': 'bare'}, store=store, wait=True)
        return job, image

    def test_names_and_uris_are_the_stores(self):
        # Both name through prism.locations (the names themselves are
        # asserted below); the importer loads no Glance store code.
        code = ('import sys; import nutanix_openstack.osc.importer; '
                'print(sorted(m for m in sys.modules if m.startswith('
                '("glance_store", "nutanix_openstack.glance"))))')
        out = subprocess.check_output([sys.executable, '-c', code])
        self.assertEqual(b'[]', out.strip())

    def test_qcow2_stays_the_fetched_iso_image(self):
        glance = FakeGlance([{'status': 'queued',
                              importer._IMPORT_LOCK: 't'}, active()])
        job, image = self.run_import(glance)
        self.assertEqual('add', job.method_used)
        self.assertEqual('active', image['status'])
        self.prism.images.create_from_url.assert_called_once_with(
            'glance-' + IMAGE_ID, 'http://example.com/disk',
            image_type='ISO_IMAGE', description=mock.ANY,
            cluster_ext_id=CLUSTER, allow_insecure_url=False,
            progress_callback=mock.ANY)
        self.prism.images.download.assert_called_once_with(FETCHED, 0, 512)
        self.assertIn(('add', 'nutanix://%s/%s' % (CLUSTER, FETCHED)),
                      glance.calls)
        self.assertFalse(glance.deleted)
        self.prism.images.delete.assert_not_called()

    def test_qcow2_is_checked_and_converted_by_the_cluster(self):
        glance = FakeGlance([active()])
        self.run_import(glance)
        self.prism.images.ensure_disk_image.assert_called_once_with(
            FETCHED, progress_callback=mock.ANY)

    def test_damaged_image_refused_by_the_cluster_is_rolled_back(self):
        self.prism.images.ensure_disk_image.side_effect = (
            prism_exc.TaskFailed('CreateImage failed: Invalid qcow2 image: '
                                 'qemu-img check found 17 corruptions'))
        self.prism.images.find_by_name.return_value = [{'extId': FETCHED}]
        self.prism.images.list_derived.return_value = [{'extId': DISK}]
        glance = FakeGlance([active()])
        e = self.assertRaises(importer.ImportFailed, self.run_import, glance)
        self.assertIn('the cluster refused the qcow2 image', str(e))
        self.assertIn('17 corruptions', str(e))
        self.assertFalse([c for c in glance.calls if c[0] == 'add'])
        self.assert_rolled_back(glance)
        self.prism.images.delete.assert_has_calls(
            [mock.call(DISK), mock.call(FETCHED)])

    def test_raw_content_is_copied_to_a_disk_image_by_the_cluster(self):
        self.prism.images.download.side_effect = (
            lambda ext_id, *a: iter([b'\0' * 512]))
        glance = FakeGlance([active()])
        job, image = self.run_import(glance, disk_format='raw')
        second = self.prism.images.create_from_url.call_args_list[1]
        self.assertEqual(('glance-' + IMAGE_ID, 'https://pc/file/' + FETCHED),
                         second.args)
        self.assertEqual('DISK_IMAGE', second.kwargs['image_type'])
        self.assertEqual(('u', 'p'), second.kwargs['basic_auth'])
        self.prism.images.delete.assert_called_once_with(FETCHED)
        self.assertIn(('add', 'nutanix://%s/%s' % (CLUSTER, DISK)),
                      glance.calls)

    def test_check_format(self):
        importer.check_format('qcow2', 'qcow2')
        importer.check_format('raw', None)
        importer.check_format('iso', None)
        self.assertRaises(importer.ImportFailed, importer.check_format,
                          'raw', 'qcow2')
        self.assertRaises(importer.ImportFailed, importer.check_format,
                          'vmdk', None)
        self.assertRaises(importer.ImportFailed, importer.check_format,
                          'vmdk', 'qcow2')

    def test_patch_fallback_hashes_the_cluster_copy(self):
        data = [QCOW2_HEAD, b'x' * 3584]
        self.prism.images.download.side_effect = (
            lambda ext_id, *a: iter(data[:1] if a else data))
        glance = FakeGlance([active()], add_error=glance_rest.GlanceError(
            'no service role', status=403))
        job, _image = self.run_import(glance, store='cluster')
        self.assertEqual('patch', job.method_used)
        patch = [c for c in glance.calls if c[0] == 'patch'][0]
        whole = b''.join(data)
        self.assertEqual({'checksum': hashlib.md5(whole).hexdigest(),
                          'os_hash_algo': 'sha512',
                          'os_hash_value': hashlib.sha512(whole).hexdigest()},
                         patch[3])
        self.assertEqual({'store': 'cluster'}, patch[2])

    def test_add_only_does_not_fall_back(self):
        glance = FakeGlance([active()], add_error=glance_rest.GlanceError(
            'no service role', status=403))
        self.assertRaises(importer.ImportFailed, self.run_import, glance,
                          location_api='add')
        self.assertFalse([c for c in glance.calls if c[0] == 'patch'])
        self.assertTrue(glance.deleted)

    def test_other_add_errors_do_not_fall_back(self):
        glance = FakeGlance([active()], add_error=glance_rest.GlanceError(
            'bad', status=400))
        self.assertRaises(importer.ImportFailed, self.run_import, glance)
        self.assertFalse([c for c in glance.calls if c[0] == 'patch'])

    def assert_rolled_back(self, glance):
        self.assertTrue(glance.deleted)
        self.prism.images.find_by_name.assert_called_with(
            'glance-' + IMAGE_ID)

    def test_rollback_deletes_every_backend_image_of_the_import(self):
        self.prism.images.find_by_name.return_value = [
            {'extId': FETCHED}, {'extId': DISK}]
        glance = FakeGlance([{'status': 'queued'}])
        e = self.assertRaises(importer.ImportFailed, self.run_import, glance)
        self.assertIn('did not accept the location', str(e))
        self.assert_rolled_back(glance)
        self.prism.images.delete.assert_has_calls(
            [mock.call(FETCHED), mock.call(DISK)])

    def test_failed_fetch_task_is_rolled_back(self):
        self.prism.images.create_from_url.side_effect = prism_exc.TaskFailed(
            'fetch failed: 404')
        glance = FakeGlance([active()])
        e = self.assertRaises(importer.ImportFailed, self.run_import, glance)
        self.assertIn('404', str(e))
        self.assert_rolled_back(glance)

    def test_interrupt_is_rolled_back_and_reraised(self):
        self.prism.images.create_from_url.side_effect = KeyboardInterrupt
        glance = FakeGlance([active()])
        self.assertRaises(KeyboardInterrupt, self.run_import, glance)
        self.assert_rolled_back(glance)

    def test_active_without_hash_after_the_task_fails(self):
        glance = FakeGlance([active(hashed=False)])
        e = self.assertRaises(importer.ImportFailed, self.run_import, glance)
        self.assertIn('could not hash', str(e))

    def test_size_mismatch_fails(self):
        glance = FakeGlance([active(size=1)])
        e = self.assertRaises(importer.ImportFailed, self.run_import, glance)
        self.assertIn('Glance recorded 1 bytes', str(e))

    def test_wrong_store_fails(self):
        glance = FakeGlance([active(stores='other')])
        e = self.assertRaises(importer.ImportFailed, self.run_import, glance,
                              store='cluster')
        self.assertIn('not on cluster', str(e))

    def test_unknown_store_fails_before_anything_is_created(self):
        glance = FakeGlance([active()])
        e = self.assertRaises(importer.ImportFailed, self.run_import, glance,
                              store='nope')
        self.assertIn('no store nope (stores: cluster, files)', str(e))
        self.assertEqual([], glance.calls)
        self.prism.images.create_from_url.assert_not_called()

    def test_timeout(self):
        clock = iter(range(0, 10000, 100))
        glance = FakeGlance([{'status': 'importing',
                              importer._IMPORT_LOCK: 't'}])
        job = importer.UrlImport(glance, self.prism, self.reports.append,
                                 poll_interval=0, timeout=250,
                                 clock=lambda: next(clock),
                                 sleep=lambda s: None)
        e = self.assertRaises(importer.ImportFailed, job.run, 'http://x',
                              {'name': 'n', 'disk_format': 'qcow2'})
        self.assertIn('still importing', str(e))
        self.assertTrue(glance.deleted)

    def test_unknown_container_fails_before_anything_is_created(self):
        self.prism.clusters.find_storage_container.side_effect = (
            prism_exc.NotFound('no storage container named nope'))
        glance = FakeGlance([active()])
        job = importer.UrlImport(glance, self.prism, self.reports.append)
        self.assertRaises(importer.ImportFailed, job.run, 'http://x',
                          {'name': 'n', 'disk_format': 'raw'},
                          container='nope')
        self.assertEqual([], glance.calls)

    def test_bad_arguments(self):
        self.assertRaises(ValueError, importer.UrlImport, None, None, None,
                          location_api='copy')
        self.assertRaises(ValueError, importer.UrlImport, None, None, None,
                          hash_algo='nope')
