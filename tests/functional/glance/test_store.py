"""The nutanix glance_store driver against the emulator, over HTTP."""

import hashlib
import io
import logging
import threading
import tracemalloc
import uuid

import fixtures
from glance_store import capabilities
from glance_store import exceptions

from nutanix_openstack.prism import locations as prism_locations
from nutanix_openstack.prism import vms as prism_vms
from nutanix_openstack.prism import volume_groups as prism_vgs
from tests.functional.glance import base


class TestAddGetDelete(base.EmulatorStoreTestCase):

    def test_raw_image_round_trip(self):
        data = base.pattern(5 * 1024 * 1024 + 123)
        uri, size, checksum, multihash, meta = self.add(data)
        self.assertTrue(uri.startswith(
            'nutanix://%s/' % self.emu.cluster_ext_id))
        self.assertEqual(len(data), size)
        self.assertEqual(hashlib.md5(data).hexdigest(), checksum)
        self.assertEqual(hashlib.sha512(data).hexdigest(), multihash)
        self.assertEqual({}, meta)
        self.assertEqual(data, self.read(uri))
        self.assertEqual(len(data), self.store.get_size(self.location(uri)))
        image = self.client.images.get(uri.rsplit('/', 1)[1])
        self.assertEqual('DISK_IMAGE', image['type'])
        self.assertEqual('glance-' + base.IMAGE_ID, image['name'])

        self.store.delete(self.location(uri))
        self.assertEqual(set(), self.images())
        self.assertRaises(exceptions.NotFound, self.store.get_size,
                          self.location(uri))

    def test_qcow2_bytes_come_back_exactly(self):
        # The emulator converts qcow2 DISK_IMAGEs to raw, like the cluster:
        # the store must keep Glance's bytes (checksum, os_hash_value).
        raw = base.pattern(3 * 1024 * 1024)
        qcow2 = base.make_qcow2(self.useFixture(fixtures.TempDir()).path,
                                raw)
        uri, size, checksum, multihash = self.add(qcow2)[:4]
        got = self.read(uri)
        self.assertEqual(len(qcow2), size)
        self.assertEqual(qcow2, got)
        self.assertEqual(hashlib.md5(got).hexdigest(), checksum)
        self.assertEqual(hashlib.sha512(got).hexdigest(), multihash)
        image = self.client.images.get(uri.rsplit('/', 1)[1])
        self.assertEqual('ISO_IMAGE', image['type'])

    def test_derived_raw_disk_is_made_once_and_deleted_with_source(self):
        raw = base.pattern(2 * 1024 * 1024)
        qcow2 = base.make_qcow2(self.useFixture(fixtures.TempDir()).path,
                                raw)
        uri = self.add(qcow2)[0]
        ext_id = uri.rsplit('/', 1)[1]
        derived = self.client.images.ensure_disk_image(ext_id)
        self.assertNotEqual(ext_id, derived)
        self.assertEqual(derived, self.client.images.ensure_disk_image(
            ext_id))
        self.assertEqual(raw, b''.join(self.client.images.download(derived)))
        self.assertEqual({ext_id, derived}, self.images())

        self.store.delete(self.location(uri))
        self.assertEqual(set(), self.images())

    def test_delete_keeps_clones_alive(self):
        raw = base.pattern(1024 * 1024, seed=3)
        uri = self.add(raw)[0]
        ext_id = uri.rsplit('/', 1)[1]
        vm = self.client.vms.create(
            'clone-of-image', memory_size_bytes=512 * 1024 * 1024,
            disks=[prism_vms.disk_from_image(ext_id)],
            cluster_ext_id=self.emu.cluster_ext_id)
        vm_disk = self.client.vms.list_disks(vm['extId'])[0]
        vg = self.client.volume_groups.create(
            'volume-of-image', disks=[prism_vgs.volume_disk(
                len(raw), self.emu.container_ext_id,
                data_source=prism_vgs.image_source(ext_id))],
            cluster_ext_id=self.emu.cluster_ext_id)
        vg_disk = self.client.volume_groups.list_disks(vg['extId'])[0]

        self.store.delete(self.location(uri))

        self.assertNotIn(ext_id, self.images())
        self.assertEqual(raw, self.emu.admin.read_disk(
            vm_disk['extId'], 0, len(raw)))
        self.assertEqual(raw, self.emu.admin.read_disk(
            vg_disk['extId'], 0, len(raw)))

    def test_delete_keeps_clones_of_the_derived_disk(self):
        raw = base.pattern(1024 * 1024, seed=9)
        qcow2 = base.make_qcow2(self.useFixture(fixtures.TempDir()).path,
                                raw)
        uri = self.add(qcow2)[0]
        derived = self.client.images.ensure_disk_image(uri.rsplit('/', 1)[1])
        vm = self.client.vms.create(
            'boot-from-qcow2', memory_size_bytes=512 * 1024 * 1024,
            disks=[prism_vms.disk_from_image(derived)],
            cluster_ext_id=self.emu.cluster_ext_id)
        vm_disk = self.client.vms.list_disks(vm['extId'])[0]

        self.store.delete(self.location(uri))

        self.assertEqual(set(), self.images())
        self.assertTrue(raw == self.emu.admin.read_disk(
            vm_disk['extId'], 0, len(raw)))

    def test_concurrent_adds_through_one_store(self):
        # The store claims DRIVER_REUSABLE: one object serves concurrent
        # requests.
        blobs = [base.pattern(3 * 1024 * 1024 + i, seed=i + 2)
                 for i in range(4)]
        results = {}

        def add(i):
            results[i] = self.add(blobs[i], image_id=str(
                uuid.UUID(int=i + 1)))

        threads = [threading.Thread(target=add, args=(i,))
                   for i in range(len(blobs))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(len(blobs), len(results))
        for i, blob in enumerate(blobs):
            uri, size, checksum = results[i][:3]
            self.assertEqual(hashlib.md5(blob).hexdigest(), checksum)
            self.assertTrue(blob == self.read(uri))

    def test_add_and_get_stream_without_holding_the_image(self):
        data_size = 64 * 1024 * 1024
        block = base.pattern(1024 * 1024)

        class Source(object):
            sent = 0

            def read(self, n):
                n = min(n, len(block), data_size - self.sent)
                self.sent += n
                return block[:n]

        tracemalloc.start()
        self.addCleanup(tracemalloc.stop)
        uri, size = self.store.add(base.IMAGE_ID, Source(), data_size,
                                   'sha512')[:2]
        it, _size = self.store.get(self.location(uri))
        total = sum(len(chunk) for chunk in it)
        _current, peak = tracemalloc.get_traced_memory()
        self.assertEqual(data_size, size)
        self.assertEqual(data_size, total)
        # A few 4 MiB transfer chunks, in this process and in the
        # in-process emulator, never the 64 MiB image.
        self.assertLess(peak, 32 * 1024 * 1024)

    def test_unknown_size(self):
        data = base.pattern(6 * 1024 * 1024 + 5)
        uri, size, checksum = self.add(data, size=0)[:3]
        self.assertEqual(len(data), size)
        self.assertEqual(hashlib.md5(data).hexdigest(), checksum)
        self.assertEqual(data, self.read(uri))

    def test_empty_image(self):
        uri, size = self.add(b'', size=0)[:2]
        self.assertEqual(0, size)
        self.assertEqual(b'', self.read(uri))

    def test_ranged_reads(self):
        data = base.pattern(9 * 1024 * 1024)
        uri = self.add(data)[0]
        loc = self.location(uri)
        for offset, length in ((0, 10), (4 * 1024 * 1024 - 3, 7),
                               (5000, 4 * 1024 * 1024 + 17),
                               (len(data) - 100, None)):
            it, size = self.store.get(loc, offset=offset, chunk_size=length)
            want = data[offset:offset + length if length else None]
            self.assertEqual(want, b''.join(it), (offset, length))
            self.assertEqual(length or len(data), size)
        self.assertTrue(self.store.is_capable(
            capabilities.BitMasks.READ_RANDOM))

    def test_too_many_bytes_leaves_nothing(self):
        before = self.images()
        self.assertRaises(exceptions.Invalid, self.add,
                          base.pattern(5 * 1024 * 1024), size=4 * 1024 * 1024)
        self.assertEqual(before, self.images())

    def test_too_few_bytes_leaves_nothing(self):
        before = self.images()
        self.assertRaises(exceptions.Invalid, self.add,
                          base.pattern(1024 * 1024), size=8 * 1024 * 1024)
        self.assertEqual(before, self.images())

    def test_upload_refused_by_cluster_leaves_nothing(self):
        self.emu.admin.add_fault(method='PUT', path='/api/nutanix/v3/.*',
                                 status=503)
        self.assertRaises(exceptions.BackendException, self.add,
                          base.pattern(6 * 1024 * 1024))
        self.assertEqual(set(), self.images())

    def test_download_survives_dropped_connection(self):
        data = base.pattern(6 * 1024 * 1024)
        uri = self.add(data)[0]
        self.emu.admin.add_fault(method='GET', path='/file$',
                                 drop_after_bytes=1024 * 1024, times=1)
        got = self.read(uri)
        self.assertEqual(len(data), len(got))
        self.assertTrue(data == got, 'downloaded bytes differ')

    def test_failed_upload_task_leaves_nothing(self):
        self.emu.admin.add_fault(method='PUT', path='/api/nutanix/v3/.*',
                                 fail_task=True, times=1)
        self.assertRaises(exceptions.BackendException, self.add,
                          base.pattern(1024 * 1024))
        self.assertEqual(set(), self.images())

    def test_retry_after_failed_add_leaves_one_image_of_the_name(self):
        # An add whose clean-up could not reach the cluster left a
        # half-made image (sizeBytes 0) behind; Glance retries the upload.
        name = prism_locations.glance_image_name(base.IMAGE_ID)
        self.client.images.create_for_upload(
            name, description='Glance image %s (raw)' % base.IMAGE_ID)
        # Not ours: the CLI importer's image of the same Glance image.
        other = self.client.images.create_for_upload(
            name, description='Glance image %s (imported from a URL)'
            % base.IMAGE_ID)
        data = base.pattern(1024 * 1024)
        uri = self.add(data)[0]
        ext_id = self.location(uri).store_location.image_ext_id
        self.assertEqual(
            sorted([ext_id, other['extId']]),
            sorted(i['extId'] for i in self.client.images.find_by_name(name)))
        self.assertEqual(data, self.read(uri))

    def test_delete_missing_is_not_found(self):
        uri = 'nutanix://%s/%s' % (self.emu.cluster_ext_id, base.IMAGE_ID)
        self.assertRaises(exceptions.NotFound, self.store.delete,
                          self.location(uri))
        self.assertRaises(exceptions.NotFound, self.store.get,
                          self.location(uri))

    def test_location_of_another_cluster(self):
        uri = 'nutanix://%s/%s' % ('11111111-2222-4333-8444-555555555555',
                                   base.IMAGE_ID)
        e = self.assertRaises(exceptions.BadStoreUri, self.store.get,
                              self.location(uri))
        self.assertIn(self.emu.cluster_ext_id, str(e))

    def test_progress_in_log(self):
        logger = self.useFixture(fixtures.FakeLogger(
            name='nutanix_openstack.glance', level=logging.INFO))
        self.conf.set_override('nutanix_progress_interval', 0,
                               'glance_store')
        self.add(base.pattern(1024 * 1024))
        self.assertIn('finished, 1048576 bytes', logger.output)


class TestConfigure(base.EmulatorStoreTestCase):
    """Wrong endpoint/credentials/container: clear reason, read-only."""

    def _assert_read_only(self, store, *texts):
        self.assertFalse(store.is_capable(capabilities.BitMasks.WRITE_ACCESS))
        self.assertRaises(exceptions.StoreAddDisabled, store.add,
                          base.IMAGE_ID, io.BytesIO(b'abc'), 3, 'md5')
        e = self.assertRaises(exceptions.BadStoreConfiguration,
                              store.configure_add)
        for text in texts:
            self.assertIn(text, str(e))

    def test_wrong_password(self):
        logger = self.useFixture(fixtures.FakeLogger(level=logging.DEBUG))
        store = self.make_store(nutanix_password='not-the-password',
                                nutanix_api_retries=0)
        self._assert_read_only(store, 'rejected the credentials')
        self.assertNotIn('not-the-password', logger.output)

    def test_wrong_endpoint(self):
        from nutanix_openstack.emulator import fixture as emu_fixture
        port = emu_fixture.free_port()
        store = self.make_store(
            nutanix_endpoints=['http://127.0.0.1:%d' % port],
            nutanix_api_retries=0, nutanix_connect_timeout=1)
        self._assert_read_only(store, 'cannot reach', str(port))

    def test_wrong_container(self):
        store = self.make_store(nutanix_storage_container='no-such')
        self._assert_read_only(store, "'no-such'", 'not found')

    def test_wrong_cluster(self):
        store = self.make_store(nutanix_cluster='no-such-cluster')
        self._assert_read_only(store, 'no-such-cluster')

    def test_container_by_ext_id(self):
        store = self.make_store(
            nutanix_storage_container=self.emu.container_ext_id)
        self.assertTrue(store.is_capable(capabilities.BitMasks.WRITE_ACCESS))


class TestTls(base.EmulatorStoreTestCase):
    """HTTPS with the emulator's self-signed certificate."""

    emulator_kwargs = {'tls': True}

    def test_verified_with_ca_file(self):
        self.assertTrue(self.emu.endpoint.startswith('https://'))
        data = base.pattern(1024 * 1024 + 1)
        uri = self.add(data)[0]
        self.assertTrue(data == self.read(uri))

    def test_unknown_certificate_is_refused(self):
        store = self.make_store(nutanix_ca_file=None, nutanix_api_retries=0)
        self.assertFalse(store.is_capable(capabilities.BitMasks.WRITE_ACCESS))
        e = self.assertRaises(exceptions.BadStoreConfiguration,
                              store.configure_add)
        self.assertIn('CERTIFICATE_VERIFY_FAILED', str(e))


class TestAsyncTasks(base.EmulatorStoreTestCase):
    """Tasks that run for a while, as on a real cluster."""

    emulator_kwargs = {'task_mode': 'async', 'task_delay': 0.3}

    def test_add_waits_for_the_upload_task(self):
        data = base.pattern(2 * 1024 * 1024)
        uri, size = self.add(data)[:2]
        self.assertEqual(len(data), self.store.get_size(self.location(uri)))
        self.assertTrue(data == self.read(uri))
        self.store.delete(self.location(uri))
        self.assertEqual(set(), self.images())
