"""Session wire contract: auth, headers, retries, failover, ETags, paging."""

import base64
import email.utils
import io
import logging
import time
from unittest import mock

import requests

from nutanix_openstack.prism import exceptions as exc
from nutanix_openstack.prism import paths
from nutanix_openstack.prism import session as session_mod
from tests.unit.prism import base

IMG = paths.IMAGES + '/img-1'
REFUSED = requests.exceptions.ConnectionError(
    'HTTPSConnectionPool: Max retries exceeded (Caused by '
    'NewConnectionError: Failed to establish a new connection: '
    '[Errno 111] Connection refused)')


class EndpointTest(base.PrismTestCase):

    def test_normalize(self):
        n = session_mod.normalize_endpoint
        self.assertEqual('https://10.0.0.1:9440', n('10.0.0.1'))
        self.assertEqual('https://pc.example:9441', n('pc.example:9441'))
        self.assertEqual('http://127.0.0.1:8080', n('http://127.0.0.1:8080/'))
        self.assertEqual('https://h:9440', n('https://h'))
        for bad in ('', 'ftp://h', 'https://'):
            self.assertRaises(exc.ConfigurationError, n, bad)

    def test_endpoint_address(self):
        a = session_mod.endpoint_address
        self.assertEqual(('10.0.0.1', 9440), a('10.0.0.1'))
        self.assertEqual(('pc.example', 9441),
                         a('https://u:p@pc.example:9441'))

    def test_missing_credentials(self):
        self.assertRaises(exc.ConfigurationError, session_mod.Session,
                          ['h'], '', 'p')
        self.assertRaises(exc.ConfigurationError, session_mod.Session,
                          [], 'u', 'p')


class HeadersTest(base.PrismTestCase):

    def test_basic_auth_user_agent_accept(self):
        self.m.get(self.url(IMG), json={'data': {'extId': 'img-1'}})
        self.assertEqual({'extId': 'img-1'}, self.client.images.get('img-1'))
        req = self.m.request_history[0]
        expected = 'Basic ' + base64.b64encode(
            ('admin:%s' % base.PASSWORD).encode()).decode()
        self.assertEqual(expected, req.headers['Authorization'])
        self.assertTrue(req.headers['User-Agent'].startswith(
            'nutanix-openstack/'))
        self.assertEqual('application/json', req.headers['Accept'])
        # Reads carry no request id: only writes need idempotency.
        self.assertNotIn('NTNX-Request-Id', req.headers)

    def test_tls_verify_default_and_ca_file(self):
        self.assertIs(True, self.client.session.http.verify)
        c = self.make_client(ca_file='/etc/ssl/prism-ca.pem')
        self.assertEqual('/etc/ssl/prism-ca.pem', c.session.http.verify)
        c = self.make_client(verify=False, ca_file='/etc/ssl/x.pem')
        self.assertIs(False, c.session.http.verify)

    def test_every_write_has_its_own_request_id(self):
        self.m.delete(self.url(IMG), status_code=202, json=base.task_ref())
        self.m.get(self.url(IMG), json={'data': {}}, headers={'ETag': 'e'})
        self.mock_task()
        self.client.images.delete('img-1')
        self.client.images.delete('img-1')
        ids = [r.headers['NTNX-Request-Id']
               for r in self.requests('DELETE')]
        self.assertEqual(2, len(set(ids)))
        for rid in ids:
            self.assertEqual(36, len(rid))   # a uuid4


class RetryTest(base.PrismTestCase):

    def test_503_then_success_reuses_request_id(self):
        self.m.post(self.url(paths.IMAGES), [
            {'status_code': 503, 'json': {}},
            {'status_code': 502, 'json': {}},
            {'status_code': 202, 'json': base.task_ref()}])
        self.mock_task(entities=[(paths.REL_IMAGE, 'img-1')])
        self.m.get(self.url(IMG), json={'data': {'extId': 'img-1'}})
        self.client.images.create_from_url('n', 'http://x/y')
        posts = self.requests('POST')
        self.assertEqual(3, len(posts))
        ids = set(r.headers['NTNX-Request-Id'] for r in posts)
        self.assertEqual(1, len(ids), 'a retried write must reuse its id')
        self.assertEqual([1.0, 2.0], self.time.sleeps[:2])   # backoff

    def test_retry_after_is_honoured_and_capped(self):
        self.m.get(self.url(IMG), [
            {'status_code': 429, 'headers': {'Retry-After': '7'}},
            {'status_code': 503, 'headers': {'Retry-After': '9999'}},
            {'json': {'data': {'extId': 'img-1'}}}])
        self.client.images.get('img-1')
        self.assertEqual([7.0, 30.0], self.time.sleeps)

    def test_retry_after_http_date(self):
        when = email.utils.formatdate(time.time() + 5, usegmt=True)
        self.m.get(self.url(IMG), [
            {'status_code': 503, 'headers': {'Retry-After': when}},
            {'json': {'data': {}}}])
        self.client.images.get('img-1')
        self.assertEqual(1, len(self.time.sleeps))
        self.assertTrue(3 <= self.time.sleeps[0] <= 5.5, self.time.sleeps)

    def test_retries_exhausted_raises_mapped_error(self):
        self.m.get(self.url(IMG), status_code=503,
                   json=base.error_body('busy', 'PRISM-503', 503))
        with self.assertRaises(exc.ServiceUnavailable) as ctx:
            self.client.images.get('img-1')
        self.assertEqual('busy', ctx.exception.message)
        self.assertEqual(4, len(self.m.request_history))  # 1 + 3 retries
        self.assertEqual([1.0, 2.0, 4.0], self.time.sleeps)

    def test_no_retry_on_client_errors_or_500(self):
        for status, cls in ((400, exc.BadRequest), (404, exc.NotFound),
                            (409, exc.Conflict), (500, exc.ServerError)):
            self.m.reset_mock()
            self.m.get(self.url(IMG), status_code=status, json={})
            self.assertRaises(cls, self.client.images.get, 'img-1')
            self.assertEqual(1, len(self.m.request_history))

    def test_zero_retries(self):
        c = self.make_client(retries=0)
        self.m.get(self.url(IMG), status_code=503, json={})
        self.assertRaises(exc.ServiceUnavailable, c.images.get, 'img-1')
        self.assertEqual(1, len(self.m.request_history))

    def test_read_timeout_retried_on_same_endpoint(self):
        self.m.get(self.url(IMG), [
            {'exc': requests.exceptions.ReadTimeout('read timed out')},
            {'json': {'data': {'extId': 'img-1'}}}])
        self.assertEqual('img-1', self.client.images.get('img-1')['extId'])
        self.assertEqual(2, len(self.m.request_history))
        self.assertEqual({}, self.client.session._down_until)

    def test_dropped_write_retried_with_same_request_id(self):
        self.m.post(self.url(paths.VOLUME_GROUPS), [
            {'exc': requests.exceptions.ConnectionError(
                'Connection aborted. RemoteDisconnected')},
            {'status_code': 202, 'json': base.task_ref()}])
        self.mock_task(entities=[(paths.REL_VOLUME_GROUP, 'vg-1')])
        self.m.get(self.url(paths.VOLUME_GROUPS + '/vg-1'),
                   json={'data': {'extId': 'vg-1'}})
        self.client.volume_groups.create('vg')
        posts = self.requests('POST')
        self.assertEqual(2, len(posts))
        self.assertEqual(posts[0].headers['NTNX-Request-Id'],
                         posts[1].headers['NTNX-Request-Id'])

    def test_truncated_answer_is_retried_with_same_request_id(self):
        self.m.post(self.url(paths.VOLUME_GROUPS), [
            {'status_code': 202, 'text': '{"data": {"ext',
             'headers': {'Content-Length': '200'}},
            {'status_code': 202, 'json': base.task_ref()}])
        self.mock_task(entities=[(paths.REL_VOLUME_GROUP, 'vg-1')])
        self.m.get(self.url(paths.VOLUME_GROUPS + '/vg-1'),
                   json={'data': {'extId': 'vg-1'}})
        self.client.volume_groups.create('vg')
        posts = self.requests('POST')
        self.assertEqual(2, len(posts))
        self.assertEqual(posts[0].headers['NTNX-Request-Id'],
                         posts[1].headers['NTNX-Request-Id'])

    def test_tls_error_fails_fast(self):
        self.m.get(self.url(IMG), exc=requests.exceptions.SSLError(
            'CERTIFICATE_VERIFY_FAILED'))
        with self.assertRaises(exc.ConnectionFailed) as ctx:
            self.client.images.get('img-1')
        self.assertIn('ca_file', str(ctx.exception))
        self.assertEqual(1, len(self.m.request_history))
        self.assertEqual([], self.time.sleeps)

    def test_verify_passed_on_every_request(self):
        # A session-level verify alone loses against REQUESTS_CA_BUNDLE.
        c = self.make_client(ca_file='/etc/prism-ca.pem')
        self.m.get(self.url(IMG), json={'data': {}})
        with mock.patch.dict('os.environ',
                             {'REQUESTS_CA_BUNDLE': '/etc/other.pem'}):
            c.images.get('img-1')
        self.assertEqual('/etc/prism-ca.pem',
                         self.m.request_history[0].verify)
        self.assertEqual((10, 120), self.m.request_history[0].timeout)

    def test_connection_failed_after_retries(self):
        self.m.get(self.url(IMG), exc=REFUSED)
        with self.assertRaises(exc.ConnectionFailed) as ctx:
            self.client.images.get('img-1')
        self.assertIn('Connection refused', str(ctx.exception))
        self.assertEqual(4, len(self.m.request_history))


class FailoverTest(base.PrismTestCase):
    endpoints = (base.EP1, base.EP2)

    def test_down_endpoint_skipped_and_remembered(self):
        self.m.get(self.url(IMG, base.EP1), exc=REFUSED)
        self.m.get(self.url(IMG, base.EP2), json={'data': {'extId': 'i'}})
        self.client.images.get('img-1')
        self.assertEqual([base.EP1, base.EP2],
                         [r.scheme + '://' + r.netloc
                          for r in self.m.request_history])
        self.assertEqual([], self.time.sleeps, 'failover does not sleep')
        # Remembered: the next call goes straight to the second endpoint.
        self.client.images.get('img-1')
        self.assertEqual('10.0.0.2:9440', self.m.request_history[-1].netloc)
        self.assertEqual(3, len(self.m.request_history))
        # ... until the down time has passed.
        self.time.now += 61
        self.m.get(self.url(IMG, base.EP1), json={'data': {'extId': 'i'}})
        self.client.images.get('img-1')
        self.assertEqual('10.0.0.1:9440', self.m.request_history[-1].netloc)

    def test_connect_timeout_fails_over(self):
        self.m.get(self.url(IMG, base.EP1),
                   exc=requests.exceptions.ConnectTimeout('timed out'))
        self.m.get(self.url(IMG, base.EP2), json={'data': {'extId': 'i'}})
        self.client.images.get('img-1')
        self.assertIn(base.EP1, self.client.session._down_until)

    def test_all_down_then_retry_in_order(self):
        self.m.get(self.url(IMG, base.EP1), exc=REFUSED)
        self.m.get(self.url(IMG, base.EP2), [
            {'exc': REFUSED}, {'json': {'data': {'extId': 'i'}}}])
        self.client.images.get('img-1')
        self.assertEqual(['10.0.0.1:9440', '10.0.0.2:9440',
                          '10.0.0.1:9440', '10.0.0.2:9440'],
                         [r.netloc for r in self.m.request_history])
        self.assertEqual([1.0], self.time.sleeps)

    def test_write_failover_keeps_request_id(self):
        self.m.post(self.url(paths.IMAGES, base.EP1), exc=REFUSED)
        self.m.post(self.url(paths.IMAGES, base.EP2), status_code=202,
                    json=base.task_ref())
        self.m.get(self.url(paths.TASKS + '/ZXJnb24=:task-1', base.EP2),
                   json=base.task(entities=[(paths.REL_IMAGE, 'img-1')]))
        self.m.get(self.url(IMG, base.EP2), json={'data': {'extId': 'x'}})
        self.client.images.create_from_url('n', 'http://x')
        posts = self.requests('POST')
        self.assertEqual(posts[0].headers['NTNX-Request-Id'],
                         posts[1].headers['NTNX-Request-Id'])


class ETagTest(base.PrismTestCase):

    def test_update_sends_if_match_from_get(self):
        self.m.get(self.url(IMG), json={'data': {'extId': 'img-1',
                                                 'name': 'old'}},
                   headers={'ETag': 'W/"etag-1"'})
        self.m.put(self.url(IMG), status_code=202, json=base.task_ref())
        self.mock_task()
        self.client.images.update('img-1', name='new')
        put = self.requests('PUT')[0]
        self.assertEqual('W/"etag-1"', put.headers['If-Match'])
        self.assertEqual('new', put.json()['name'])
        self.assertIn('NTNX-Request-Id', put.headers)

    def test_etag_from_reserved_when_no_header(self):
        self.m.get(self.url(IMG), json={'data': {
            'extId': 'img-1', '$reserved': {'ETag': 'r-etag'}}})
        self.m.put(self.url(IMG), status_code=202, json=base.task_ref())
        self.mock_task()
        self.client.images.update('img-1', name='new')
        self.assertEqual('r-etag', self.requests('PUT')[0].headers['If-Match'])

    def test_412_rereads_and_retries_once(self):
        self.m.get(self.url(IMG), [
            {'json': {'data': {'name': 'a'}}, 'headers': {'ETag': 'e1'}},
            {'json': {'data': {'name': 'b'}}, 'headers': {'ETag': 'e2'}}])
        self.m.put(self.url(IMG), [
            {'status_code': 412, 'json': {}},
            {'status_code': 202, 'json': base.task_ref()}])
        self.mock_task()
        self.client.images.update('img-1', description='d')
        puts = self.requests('PUT')
        self.assertEqual(['e1', 'e2'], [p.headers['If-Match'] for p in puts])
        self.assertEqual('b', puts[1].json()['name'])

    def test_412_twice_raises(self):
        self.m.get(self.url(IMG), json={'data': {}}, headers={'ETag': 'e'})
        self.m.put(self.url(IMG), status_code=412,
                   json=base.error_body('stale', 'VMM-412', 412))
        self.assertRaises(exc.PreconditionFailed, self.client.images.update,
                          'img-1', name='x')
        self.assertEqual(2, len(self.requests('PUT')))


class PaginationTest(base.PrismTestCase):

    def _pages(self, total, page_size=100):
        pages = []
        for start in range(0, total, page_size):
            pages.append({'json': {
                'data': [{'extId': str(i)}
                         for i in range(start, min(total, start + page_size))],
                'metadata': {'totalAvailableResults': total}}})
        return pages or [{'json': {'metadata': {'totalAvailableResults': 0}}}]

    def test_all_pages(self):
        self.m.get(self.url(paths.IMAGES), self._pages(250))
        items = self.client.images.list(filter="name eq 'a'", orderby='name')
        self.assertEqual([str(i) for i in range(250)],
                         [i['extId'] for i in items])
        qs = [r.qs for r in self.m.request_history]
        self.assertEqual([['0'], ['1'], ['2']], [q['$page'] for q in qs])
        self.assertEqual(['100'], qs[0]['$limit'])
        self.assertEqual(["name eq 'a'"], qs[0]['$filter'])
        self.assertEqual(['name'], qs[0]['$orderby'])

    def test_exact_multiple_stops_on_total(self):
        self.m.get(self.url(paths.IMAGES), self._pages(200))
        self.assertEqual(200, len(self.client.images.list()))
        self.assertEqual(2, len(self.m.request_history))

    def test_empty(self):
        self.m.get(self.url(paths.IMAGES), self._pages(0))
        self.assertEqual([], self.client.images.list())

    def test_limit(self):
        self.m.get(self.url(paths.IMAGES), self._pages(250))
        self.assertEqual(120, len(self.client.images.list(limit=120)))
        self.assertEqual(2, len(self.m.request_history))


class StreamedBodyTest(base.PrismTestCase):

    def test_one_shot_iterator_is_not_resent(self):
        def consume(request, context):
            b''.join(request.body)     # the server read the stream
            context.status_code = 503
            return {}
        self.m.put(self.url(paths.V3_IMAGES + '/u1/file'), json=consume)
        with self.assertRaises(exc.UploadNotRetryable):
            self.client.images.upload('u1', iter([b'a' * 10, b'b' * 10]))
        self.assertEqual(1, len(self.m.request_history))

    def test_seekable_file_is_resent_whole(self):
        seen = []

        def consume(request, context):
            seen.append(b''.join(request.body))
            context.status_code = 503 if len(seen) == 1 else 200
            return {}
        self.m.put(self.url(paths.V3_IMAGES + '/u1/file'), json=consume)
        self.m.get(self.url(paths.IMAGES + '/u1'), json={'data': {}})
        self.client.images.upload('u1', io.BytesIO(b'x' * 10000), size=10000)
        self.assertEqual([b'x' * 10000] * 2, seen)

    def test_callable_source_is_resent(self):
        seen = []

        def consume(request, context):
            seen.append(b''.join(request.body))
            context.status_code = 502 if len(seen) == 1 else 200
            return {}
        self.m.put(self.url(paths.V3_IMAGES + '/u1/file'), json=consume)
        self.m.get(self.url(paths.IMAGES + '/u1'), json={'data': {}})
        self.client.images.upload('u1', lambda: iter([b'ab', b'cd']))
        self.assertEqual([b'abcd', b'abcd'], seen)


class NoPasswordInLogsTest(base.PrismTestCase):

    def test_password_never_logged(self):
        logger = logging.getLogger()
        stream = io.StringIO()
        handler = logging.StreamHandler(stream)
        handler.setLevel(logging.DEBUG)
        old_level = logger.level
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
        self.addCleanup(logger.removeHandler, handler)
        self.addCleanup(logger.setLevel, old_level)

        # A derived image sends the credentials in the request body.
        self.m.get(self.url(IMG), json={'data': {
            'extId': 'img-1', 'type': 'ISO_IMAGE'}})
        self.m.get(self.url(paths.IMAGES), json={'data': [],
                   'metadata': {'totalAvailableResults': 0}})
        self.m.post(self.url(paths.IMAGES), [
            {'status_code': 503, 'json': {}},
            {'status_code': 202, 'json': base.task_ref()}])
        self.mock_task(entities=[(paths.REL_IMAGE, 'img-2')])
        self.m.get(self.url(paths.IMAGES + '/img-2'),
                   json={'data': {'extId': 'img-2'}})
        self.client.images.ensure_disk_image('img-1')
        self.m.get(self.url(paths.IMAGES + '/bad'), status_code=401,
                   json=base.error_body('auth failed', 'AUTH-1', 401))
        self.assertRaises(exc.Unauthorized, self.client.images.get, 'bad')
        self.m.get(self.url(paths.IMAGES + '/down'), exc=REFUSED)
        self.assertRaises(exc.ConnectionFailed, self.client.images.get,
                          'down')

        logs = stream.getvalue()
        self.assertIn('Prism request POST', logs)   # we did log at DEBUG
        self.assertNotIn(base.PASSWORD, logs)
        self.assertNotIn(base64.b64encode(
            ('admin:%s' % base.PASSWORD).encode()).decode(), logs)
        self.assertNotIn(base.PASSWORD, repr(self.client))
        self.assertNotIn(base.PASSWORD, repr(self.client.session))
        # The cluster did get the credentials it needs to fetch the URL.
        body = self.requests('POST')[-1].json()
        self.assertEqual(base.PASSWORD,
                         body['source']['basicAuth']['password'])
