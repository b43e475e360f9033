"""Images: create, v3 upload, download with Range, derived disk images."""

import re
import threading

import requests
import urllib3

from nutanix_openstack.prism import exceptions as exc
from nutanix_openstack.prism import images
from nutanix_openstack.prism import paths
from tests.unit.prism import base

IMG = paths.IMAGES + '/img-1'


def requests_mock_any_image(test):
    """A matcher for GET of any single image by extId."""
    return re.compile(re.escape(test.url(paths.IMAGES)) + '/[^/]+$')


class _BreakingBody(object):
    """A raw body that fails after ``limit`` bytes, like a dropped TCP."""

    def __init__(self, data, limit):
        self.data = data
        self.limit = limit
        self.pos = 0
        self.closed = False

    def read(self, n=-1, *args, **kwargs):
        if self.pos >= self.limit:
            raise urllib3.exceptions.ProtocolError('Connection broken')
        end = self.limit if n is None or n < 0 else min(self.limit,
                                                        self.pos + n)
        chunk = self.data[self.pos:end]
        self.pos = end
        return chunk

    def close(self):
        self.closed = True


class CreateTest(base.PrismTestCase):

    def _created(self, ext_id='img-9'):
        self.m.post(self.url(paths.IMAGES), status_code=202,
                    json=base.task_ref())
        self.mock_task(entities=[(paths.REL_IMAGE, ext_id)])
        self.m.get(self.url(paths.IMAGES + '/' + ext_id),
                   json={'data': {'extId': ext_id}})

    def test_from_url(self):
        self._created()
        img = self.client.images.create_from_url(
            'cirros', 'https://example/cirros.img', description='d',
            cluster_ext_ids=['c-1'], allow_insecure_url=True)
        self.assertEqual('img-9', img['extId'])
        self.assertEqual({
            '$objectType': 'vmm.v4.content.Image', 'name': 'cirros',
            'type': 'DISK_IMAGE', 'description': 'd',
            'clusterLocationExtIds': ['c-1'],
            'source': {'$objectType': 'vmm.v4.content.UrlSource',
                       'url': 'https://example/cirros.img',
                       'shouldAllowInsecureUrl': True}},
            self.requests('POST')[0].json())
        self.assertEqual('application/json',
                         self.requests('POST')[0].headers['Content-Type'])

    def test_from_vm_disk(self):
        self._created()
        self.client.images.create_from_vm_disk('snap', 'vm-1', 'disk-1',
                                               image_type='DISK_IMAGE',
                                               cluster_ext_id='c-1')
        body = self.requests('POST')[0].json()
        self.assertEqual(['c-1'], body['clusterLocationExtIds'])
        self.assertEqual({'$objectType': 'vmm.v4.content.VmDiskSource',
                          'extId': 'disk-1', 'vmExtId': 'vm-1'},
                         body['source'])

    def test_progress_callback(self):
        self.m.post(self.url(paths.IMAGES), status_code=202,
                    json=base.task_ref())
        self.m.get(self.url(paths.TASKS + '/ZXJnb24=:task-1'), [
            {'json': base.task(status='RUNNING', progress=50)},
            {'json': base.task(entities=[(paths.REL_IMAGE, 'i')])}])
        self.m.get(self.url(paths.IMAGES + '/i'), json={'data': {}})
        seen = []
        self.client.images.create_from_url('n', 'http://u',
                                           progress_callback=seen.append)
        self.assertEqual([50, 100], seen)

    def test_failed_task(self):
        self.m.post(self.url(paths.IMAGES), status_code=202,
                    json=base.task_ref())
        self.mock_task(status='FAILED', errorMessages=[
            {'message': 'URL unreachable', 'code': 'VMM-1'}])
        self.assertRaises(exc.TaskFailed, self.client.images.create_from_url,
                          'n', 'http://u')
        self.assertEqual([], self.requests('DELETE'))

    def test_failed_task_removes_the_half_made_image(self):
        self.m.post(self.url(paths.IMAGES), status_code=202,
                    json=base.task_ref())
        self.mock_task(status='FAILED',
                       entities=[(paths.REL_IMAGE, 'img-9')],
                       errorMessages=[{'message': 'fetch failed'}])
        self.m.get(self.url(paths.IMAGES + '/img-9'), json={'data': {}},
                   headers={'ETag': 'e'})
        self.m.delete(self.url(paths.IMAGES + '/img-9'), status_code=202,
                      json=base.task_ref('ZXJnb24=:del'))
        self.m.get(self.url(paths.TASKS + '/ZXJnb24=:del'),
                   json=base.task('ZXJnb24=:del'))
        with self.assertRaises(exc.TaskFailed) as ctx:
            self.client.images.create_from_url('n', 'http://u')
        self.assertIn('fetch failed', str(ctx.exception))
        self.assertEqual(1, len(self.requests('DELETE')))


class UploadTest(base.PrismTestCase):

    def _v3_create(self):
        self.m.post(self.url(paths.V3_IMAGES), status_code=202, json={
            'metadata': {'kind': 'image', 'uuid': 'u-1'},
            'status': {'state': 'PENDING',
                       'execution_context': {'task_uuid': 'v3t'}}})

    def test_create_for_upload(self):
        self._v3_create()
        self.m.get(self.url(paths.TASKS + '/ZXJnb24=:v3t'),
                   json=base.task('ZXJnb24=:v3t'))
        self.m.get(self.url(paths.IMAGES + '/u-1'),
                   json={'data': {'extId': 'u-1', 'type': 'ISO_IMAGE'}})
        img = self.client.images.create_for_upload(
            'glance-1', image_type='ISO_IMAGE', description='from glance',
            cluster_ext_id='c-1')
        self.assertEqual('u-1', img['extId'])
        body = self.requests('POST')[0].json()
        # Chosen by the client, so that a retried POST cannot make two.
        self.assertEqual(36, len(body['metadata'].pop('uuid')))
        self.assertEqual({'api_version': '3.1.0',
                          'metadata': {'kind': 'image'},
                          'spec': {'name': 'glance-1',
                                   'description': 'from glance',
                                   'resources': {
                                       'image_type': 'ISO_IMAGE',
                                       'initial_placement_ref_list': [
                                           {'kind': 'cluster',
                                            'uuid': 'c-1'}]}}}, body)
        self.assertIn('NTNX-Request-Id', self.requests('POST')[0].headers)

    def test_create_for_upload_retry_finds_the_first_attempts_image(self):
        # The first POST made the image but its answer was lost; the retry
        # (same uuid) answers 409: the image made is returned, no second.
        made = {}

        def conflict(request, context):
            made['uuid'] = request.json()['metadata']['uuid']
            context.status_code = 409
            return base.error_body('exists', 'VMM-40900', 409)
        self.m.post(self.url(paths.V3_IMAGES), [
            {'exc': requests.exceptions.ChunkedEncodingError('cut')},
            {'json': conflict}])
        self.m.get(requests_mock_any_image(self), json=lambda r, c: {
            'data': {'extId': made['uuid'], 'name': 'glance-1'}})
        img = self.client.images.create_for_upload('glance-1')
        self.assertEqual(made['uuid'], img['extId'])
        uuids = {r.json()['metadata']['uuid']
                 for r in self.requests('POST')}
        self.assertEqual(1, len(uuids))

    def test_create_for_upload_conflict_on_another_name_is_raised(self):
        self.m.post(self.url(paths.V3_IMAGES), status_code=409,
                    json=base.error_body('exists', 'VMM-40900', 409))
        self.m.get(requests_mock_any_image(self),
                   json={'data': {'extId': 'x', 'name': 'someone-else'}})
        self.assertRaises(exc.Conflict,
                          self.client.images.create_for_upload, 'glance-1')

    def test_create_for_upload_failed_task_removes_image(self):
        self._v3_create()
        self.m.get(self.url(paths.TASKS + '/ZXJnb24=:v3t'),
                   json=base.task('ZXJnb24=:v3t', 'FAILED',
                                  errorMessages=[{'message': 'no space'}]))
        self.m.get(self.url(paths.IMAGES + '/u-1'), json={'data': {}})
        self.m.delete(self.url(paths.IMAGES + '/u-1'), status_code=202,
                      json=base.task_ref())
        self.mock_task()
        self.assertRaises(exc.TaskFailed,
                          self.client.images.create_for_upload, 'x')
        self.assertEqual(1, len(self.requests('DELETE')))

    def test_upload_chunked_when_size_unknown(self):
        got = []

        def server(request, context):
            got.append(b''.join(request.body))
            return {}
        self.m.put(self.url(paths.V3_IMAGES + '/u-1/file'), json=server)
        self.m.get(self.url(paths.IMAGES + '/u-1'), json={'data': {'a': 1}})
        chunks = (bytes([i]) * 1000 for i in range(5))
        self.assertEqual({'a': 1}, self.client.images.upload('u-1', chunks))
        req = self.requests('PUT')[0]
        self.assertEqual('application/octet-stream',
                         req.headers['Content-Type'])
        self.assertEqual('chunked', req.headers['Transfer-Encoding'])
        self.assertNotIn('Content-Length', req.headers)
        self.assertIn('NTNX-Request-Id', req.headers)
        self.assertEqual(b''.join(bytes([i]) * 1000 for i in range(5)),
                         got[0])

    def test_upload_sized_iterator_sends_content_length(self):
        got = []

        def server(request, context):
            got.append(b''.join(request.body))
            return {}
        self.m.put(self.url(paths.V3_IMAGES + '/u-1/file'), json=server)
        self.m.get(self.url(paths.IMAGES + '/u-1'), json={'data': {}})
        seen = []
        self.client.images.upload('u-1', iter([b'a' * 50, b'b' * 50]),
                                  size=100, progress_callback=seen.append)
        req = self.requests('PUT')[0]
        self.assertEqual('100', req.headers['Content-Length'])
        self.assertNotIn('Transfer-Encoding', req.headers)
        self.assertEqual(b'a' * 50 + b'b' * 50, got[0])
        self.assertEqual([50, 99, 100], seen)

    def test_upload_waits_for_v3_task(self):
        self.m.put(self.url(paths.V3_IMAGES + '/u-1/file'), json={
            'status': {'execution_context': {'task_uuid': 'put-t'}}})
        self.m.get(self.url(paths.TASKS + '/ZXJnb24=:put-t'),
                   json=base.task('ZXJnb24=:put-t', 'FAILED',
                                  errorMessages=[{'message': 'bad bytes'}]))
        with self.assertRaises(exc.TaskFailed):
            self.client.images.upload('u-1', iter([b'x']))


class DownloadTest(base.PrismTestCase):

    def test_whole_file(self):
        self.m.get(self.url(IMG + '/file'), content=b'x' * 10000)
        data = b''.join(self.client.images.download('img-1', chunk_size=999))
        self.assertEqual(b'x' * 10000, data)
        req = self.m.request_history[0]
        self.assertNotIn('Range', req.headers)
        self.assertEqual('application/octet-stream', req.headers['Accept'])

    def test_range(self):
        self.m.get(self.url(IMG + '/file'), status_code=206,
                   content=b'bcdef')
        self.assertEqual(b'bcdef', b''.join(
            self.client.images.download('img-1', offset=1, length=5)))
        self.assertEqual('bytes=1-5',
                         self.m.request_history[0].headers['Range'])

    def test_open_ended_offset(self):
        self.m.get(self.url(IMG + '/file'), status_code=206, content=b'ef')
        list(self.client.images.download('img-1', offset=4))
        self.assertEqual('bytes=4-',
                         self.m.request_history[0].headers['Range'])

    def test_server_ignoring_range(self):
        self.m.get(self.url(IMG + '/file'), status_code=200,
                   content=b'0123456789')
        self.assertEqual(b'345', b''.join(
            self.client.images.download('img-1', offset=3, length=3,
                                        chunk_size=2)))

    def test_not_found_raised_at_call(self):
        self.m.get(self.url(IMG + '/file'), status_code=404,
                   json=base.error_body('no image', 'VMM-404'))
        self.assertRaises(exc.NotFound, self.client.images.download, 'img-1')

    def test_early_exit_closes_response(self):
        raw = _BreakingBody(b'y' * 1000, 1000)
        self.m.get(self.url(IMG + '/file'), body=raw)
        stream = self.client.images.download('img-1', chunk_size=100)
        with stream:
            self.assertEqual(b'y' * 100, next(stream))
        self.assertTrue(raw.closed)
        self.assertRaises(StopIteration, next, stream)

    def test_dropped_connection_resumes_with_range(self):
        data = bytes(range(256)) * 40
        self.m.get(self.url(IMG + '/file'), [
            {'body': _BreakingBody(data, 3000)},
            {'status_code': 206, 'content': data[3000:]}])
        got = b''.join(self.client.images.download('img-1', chunk_size=512))
        self.assertEqual(data, got)
        self.assertEqual('bytes=3000-',
                         self.m.request_history[1].headers['Range'])

    def test_dropped_too_often_raises(self):
        data = b'z' * 100
        # A fresh broken body for every request.
        self.m.get(self.url(IMG + '/file'),
                   body=lambda request, context: _BreakingBody(data, 10))
        c = self.make_client(retries=1)
        with self.assertRaises(exc.ConnectionFailed):
            b''.join(c.images.download('img-1'))

    def test_negative_offset(self):
        self.assertRaises(ValueError, self.client.images.download, 'i', -1)


class EnsureDiskImageTest(base.PrismTestCase):

    def test_disk_image_is_its_own_answer(self):
        self.m.get(self.url(IMG), json={'data': {'extId': 'img-1',
                                                 'type': 'DISK_IMAGE'}})
        self.assertEqual('img-1',
                         self.client.images.ensure_disk_image('img-1'))
        self.assertEqual(1, len(self.m.request_history))

    def test_reuses_existing_derived(self):
        name = images.derived_disk_image_name('img-1')
        self.m.get(self.url(IMG), json={'data': {'extId': 'img-1',
                                                 'type': 'ISO_IMAGE'}})
        self.m.get(self.url(paths.IMAGES), json={
            'data': [{'extId': 'd-1', 'name': name, 'type': 'DISK_IMAGE'}],
            'metadata': {'totalAvailableResults': 1}})
        self.assertEqual('d-1', self.client.images.ensure_disk_image('img-1'))
        self.assertEqual(["name eq '%s'" % name],
                         self.requests('GET', paths.IMAGES)[0].qs['$filter'])
        self.assertEqual([], self.requests('POST'))

    def _derive_mocks(self):
        self.m.get(self.url(IMG), json={'data': {
            'extId': 'img-1', 'type': 'ISO_IMAGE',
            'clusterLocationExtIds': ['c-1']}})
        listing = {'data': [], 'metadata': {'totalAvailableResults': 0}}
        self.m.get(self.url(paths.IMAGES), json=lambda r, c: listing)
        name = images.derived_disk_image_name('img-1')

        def create(request, context):
            # Once created, the derived image shows up in lists.
            listing['data'] = [{'extId': 'd-2', 'name': name,
                                'type': 'DISK_IMAGE'}]
            context.status_code = 202
            return base.task_ref()
        self.m.post(self.url(paths.IMAGES), json=create)
        self.mock_task(entities=[(paths.REL_IMAGE, 'd-2')])
        self.m.get(self.url(paths.IMAGES + '/d-2'),
                   json={'data': {'extId': 'd-2'}})

    def test_creates_derived_from_own_file_url(self):
        self._derive_mocks()
        self.assertEqual('d-2', self.client.images.ensure_disk_image('img-1'))
        body = self.requests('POST')[0].json()
        self.assertEqual(images.derived_disk_image_name('img-1'),
                         body['name'])
        self.assertEqual('DISK_IMAGE', body['type'])
        self.assertEqual(['c-1'], body['clusterLocationExtIds'])
        self.assertEqual(base.EP1 + IMG + '/file', body['source']['url'])
        self.assertEqual('admin', body['source']['basicAuth']['username'])
        # Second call reuses it.
        self.assertEqual('d-2', self.client.images.ensure_disk_image('img-1'))
        self.assertEqual(1, len(self.requests('POST')))

    def test_concurrent_callers_create_once(self):
        self._derive_mocks()
        results = []
        threads = [threading.Thread(target=lambda: results.append(
            self.client.images.ensure_disk_image('img-1')))
            for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(['d-2'] * 4, results)
        self.assertEqual(1, len(self.requests('POST')))

    def test_the_derivation_request_id_is_the_same_everywhere(self):
        self._derive_mocks()
        self.client.images.ensure_disk_image('img-1')
        (post,) = self.requests('POST')
        self.assertEqual(images.derive_request_id('img-1'),
                         post.headers['NTNX-Request-Id'])
        self.assertNotEqual(images.derive_request_id('img-1'),
                            images.derive_request_id('img-2'))

    def test_a_replayed_failed_derivation_is_derived_again(self):
        self._derive_mocks()
        answers = [base.task(status='FAILED', errorMessages=[
            {'message': 'an earlier derivation failed'}])]
        self.m.get(self.url(paths.TASKS + '/ZXJnb24=:task-1'),
                   json=lambda r, c: answers.pop(0) if answers else
                   base.task(entities=[(paths.REL_IMAGE, 'd-2')]))
        self.assertEqual('d-2', self.client.images.ensure_disk_image('img-1'))
        first, second = self.requests('POST')
        self.assertEqual(images.derive_request_id('img-1'),
                         first.headers['NTNX-Request-Id'])
        self.assertNotEqual(images.derive_request_id('img-1'),
                            second.headers['NTNX-Request-Id'])

    def test_a_request_still_in_progress_elsewhere_is_joined(self):
        self._derive_mocks()
        name = images.derived_disk_image_name('img-1')
        calls = []

        def post(request, context):
            calls.append(request.headers['NTNX-Request-Id'])
            if len(calls) == 1:
                context.status_code = 409
                return {'data': {'error': [{'message': 'A request with '
                                            'NTNX-Request-Id x is still '
                                            'being processed.'}]}}
            context.status_code = 202
            return base.task_ref()
        self.m.post(self.url(paths.IMAGES), json=post)
        self.m.get(self.url(paths.IMAGES), json=lambda r, c: {
            'data': [{'extId': 'd-2', 'name': name, 'type': 'DISK_IMAGE'}]
            if len(calls) > 1 else [],
            'metadata': {'totalAvailableResults': int(len(calls) > 1)}})
        self.assertEqual('d-2', self.client.images.ensure_disk_image('img-1'))
        self.assertEqual([images.derive_request_id('img-1')] * 2, calls)


class MiscTest(base.PrismTestCase):

    def test_odata_quote(self):
        self.assertEqual("'it''s'", paths.odata_quote("it's"))

    def test_delete(self):
        self.m.delete(self.url(IMG), status_code=202, json=base.task_ref())
        self.m.get(self.url(IMG), json={'data': {}}, headers={'ETag': 'e'})
        self.mock_task()
        self.assertEqual('SUCCEEDED',
                         self.client.images.delete('img-1')['status'])
        self.assertEqual('e', self.requests('DELETE')[0].headers['If-Match'])

    def test_requests_error_type_is_not_leaked(self):
        self.m.get(self.url(IMG), exc=requests.exceptions.ConnectionError(
            'Failed to establish a new connection'))
        self.assertRaises(exc.ConnectionFailed, self.client.images.get,
                          'img-1')
