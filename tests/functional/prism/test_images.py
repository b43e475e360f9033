"""Images through the client against the emulator: real bytes on disk."""

import threading

from nutanix_openstack.prism import exceptions as exc
from nutanix_openstack.prism import images
from nutanix_openstack.prism import paths
from tests.functional.prism import base

MIB = 1024 * 1024


class ImageBytesTest(base.EmulatorTestCase):

    def test_chunked_upload_then_download_same_bytes(self):
        data = base.random_bytes(3 * MIB + 123)
        ext_id = self.upload_image('chunked', data, chunk=300000)
        img = self.client.images.get(ext_id)
        self.assertEqual(len(data), img['sizeBytes'])
        self.assertEqual('DISK_IMAGE', img['type'])
        self.assertEqual(data, b''.join(self.client.images.download(ext_id)))
        # The bytes are stored under the image's extId.
        self.assertEqual(data[:4096], self.admin.read_disk(ext_id, 0, 4096))

    def test_sized_upload_and_progress(self):
        data = base.random_bytes(2 * MIB)
        img = self.client.images.create_for_upload('sized',
                                                   image_type='ISO_IMAGE')
        seen = []
        self.client.images.upload(
            img['extId'], iter([data[:MIB], data[MIB:]]), size=len(data),
            progress_callback=seen.append)
        self.assertEqual(100, seen[-1])
        self.assertEqual(seen, sorted(seen))
        self.assertEqual('ISO_IMAGE',
                         self.client.images.get(img['extId'])['type'])
        self.assertEqual(data, b''.join(
            self.client.images.download(img['extId'])))

    def test_upload_from_file_object(self):
        import io
        data = base.random_bytes(MIB + 5)
        img = self.client.images.create_for_upload('file')
        self.client.images.upload(img['extId'], io.BytesIO(data),
                                  size=len(data))
        self.assertEqual(data, b''.join(
            self.client.images.download(img['extId'])))

    def test_ranged_download(self):
        data = base.random_bytes(MIB)
        ext_id = self.upload_image('ranged', data)
        dl = self.client.images.download
        self.assertEqual(data[1000:1500],
                         b''.join(dl(ext_id, offset=1000, length=500)))
        self.assertEqual(data[-10:], b''.join(dl(ext_id, offset=MIB - 10)))
        self.assertEqual(data[:1], b''.join(dl(ext_id, length=1)))

    def test_early_exit_releases_connection(self):
        data = base.random_bytes(4 * MIB)
        ext_id = self.upload_image('early', data)
        with self.client.images.download(ext_id, chunk_size=65536) as s:
            self.assertEqual(data[:65536], next(s))
        # The session is still usable (the pooled connection was released).
        self.assertEqual(ext_id, self.client.images.get(ext_id)['extId'])

    def test_create_from_url_of_another_image(self):
        data = base.random_bytes(MIB)
        src = self.upload_image('src', data)
        copy = self.client.images.create_from_url(
            'copy', self.client.images.file_url(src),
            basic_auth=self.client.session.credentials,
            allow_insecure_url=True)
        self.assertEqual(data, b''.join(
            self.client.images.download(copy['extId'])))
        self.assertEqual('vmm.v4.content.UrlSource',
                         copy['source']['$objectType'])


class ImageMetadataTest(base.EmulatorTestCase):

    def test_list_filter_and_pagination(self):
        ids = [self.client.images.create_for_upload('img-%d' % i)['extId']
               for i in range(5)]
        self.assertEqual(sorted(ids),
                         sorted(i['extId'] for i in self.client.images.list()))
        found = self.client.images.list(filter="name eq 'img-3'")
        self.assertEqual([ids[3]], [i['extId'] for i in found])
        # Two items per page: three real pages.
        paged = self.client.session.list_all(paths.IMAGES, page_size=2)
        self.assertEqual(sorted(ids), sorted(i['extId'] for i in paged))
        self.assertEqual(3, len(self.client.images.list(limit=3)))

    def test_update_with_etag(self):
        ext_id = self.client.images.create_for_upload('before')['extId']
        img = self.client.images.update(ext_id, name='after',
                                        description='renamed')
        self.assertEqual('after', img['name'])
        self.assertEqual('renamed', img['description'])

    def test_etag_rules_enforced(self):
        ext_id = self.client.images.create_for_upload('e')['extId']
        path = '%s/%s' % (paths.IMAGES, ext_id)
        data, etag = self.client.session.get_with_etag(path)
        self.assertTrue(etag)
        data['name'] = 'x'
        self.assertRaises(exc.PreconditionRequired, self.client.session.put,
                          path, data)
        self.assertRaises(exc.PreconditionFailed, self.client.session.put,
                          path, data, etag='"stale"')

    def test_delete_and_not_found(self):
        ext_id = self.client.images.create_for_upload('gone')['extId']
        self.client.images.delete(ext_id)
        with self.assertRaises(exc.NotFound) as ctx:
            self.client.images.get(ext_id)
        self.assertEqual(404, ctx.exception.status)
        self.assertTrue(ctx.exception.code)
        self.assertIn(ext_id, ctx.exception.message)
        self.assertNotIn(ext_id, self.inventory('image'))

    def test_write_error_keeps_request_id(self):
        with self.assertRaises(exc.NotFound) as ctx:
            self.client.images.delete('00000000-0000-4000-8000-00000000dead')
        self.assertEqual(404, ctx.exception.status)

    def test_bad_request_is_clear(self):
        with self.assertRaises(exc.BadRequest) as ctx:
            self.client.images.create_from_url('bad', 'not a url')
        self.assertTrue(ctx.exception.message)
        self.assertTrue(ctx.exception.request_id)
        self.assertEqual([], self.inventory('image'))


class EnsureDiskImageTest(base.EmulatorTestCase):

    def test_disk_image_is_returned_as_is(self):
        ext_id = self.upload_image('raw', base.random_bytes(MIB))
        self.assertEqual(ext_id,
                         self.client.images.ensure_disk_image(ext_id))
        self.assertEqual([ext_id], self.inventory('image'))

    def test_iso_gets_one_derived_disk_image(self):
        data = base.random_bytes(MIB)
        iso = self.upload_image('iso', data, image_type='ISO_IMAGE')
        results = []

        def ensure():
            results.append(self.client.images.ensure_disk_image(iso))
        threads = [threading.Thread(target=ensure) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(1, len(set(results)))
        derived = results[0]
        self.assertNotEqual(iso, derived)
        img = self.client.images.get(derived)
        self.assertEqual(images.derived_disk_image_name(iso), img['name'])
        self.assertEqual('DISK_IMAGE', img['type'])
        # Raw bytes are kept as they are by the conversion.
        self.assertEqual(data, b''.join(
            self.client.images.download(derived)))
        self.assertEqual(2, len(self.inventory('image')))
        self.assertEqual(derived,
                         self.client.images.ensure_disk_image(iso))
        self.assertEqual([derived], [i['extId'] for i in
                                     self.client.images.list_derived(iso)])
