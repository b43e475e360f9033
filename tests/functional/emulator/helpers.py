"""Small HTTP helpers for the emulator's functional tests."""

import http.server
import threading
import time
import uuid

import requests

V4_IMAGES = '/api/vmm/v4.3/content/images'
V3_IMAGES = '/api/nutanix/v3/images'
TASKS = '/api/prism/v4.4/config/tasks'


class Api(object):
    """A requests session bound to one emulator."""

    def __init__(self, emulator, verify=None):
        self.emulator = emulator
        self.endpoint = emulator.endpoint
        self.session = requests.Session()
        self.session.auth = (emulator.username, emulator.password)
        self.session.verify = (emulator.ca_file or False) \
            if verify is None else verify

    def url(self, path):
        return self.endpoint + path

    def request(self, method, path, request_id=True, **kwargs):
        headers = dict(kwargs.pop('headers', None) or {})
        if request_id is True and method != 'GET':
            headers['NTNX-Request-Id'] = str(uuid.uuid4())
        elif isinstance(request_id, str):
            headers['NTNX-Request-Id'] = request_id
        kwargs.setdefault('timeout', 60)
        # Per request: requests lets REQUESTS_CA_BUNDLE override a
        # session-level verify.
        kwargs.setdefault('verify', self.session.verify)
        return self.session.request(method, self.url(path), headers=headers,
                                    **kwargs)

    def get(self, path, **kwargs):
        return self.request('GET', path, **kwargs)

    def post(self, path, **kwargs):
        return self.request('POST', path, **kwargs)

    def put(self, path, **kwargs):
        return self.request('PUT', path, **kwargs)

    def delete(self, path, **kwargs):
        return self.request('DELETE', path, **kwargs)

    def task(self, task_ext_id):
        resp = self.get('%s/%s' % (TASKS, task_ext_id))
        assert resp.status_code == 200, resp.text
        return resp.json()['data']

    def wait_task(self, task_ext_id, timeout=30):
        deadline = time.time() + timeout
        while True:
            task = self.task(task_ext_id)
            if task['status'] in ('SUCCEEDED', 'FAILED', 'CANCELED'):
                return task
            if time.time() > deadline:
                raise AssertionError('task %s still %s' % (task_ext_id,
                                                           task['status']))
            time.sleep(0.02)

    def accepted_task(self, resp):
        assert resp.status_code == 202, resp.text
        return resp.json()['data']['extId']

    # -- images -----------------------------------------------------------

    def create_empty_image(self, name='img', image_type='DISK_IMAGE'):
        resp = self.post(V3_IMAGES, request_id=False, json={
            'api_version': '3.1.0', 'metadata': {'kind': 'image'},
            'spec': {'name': name,
                     'resources': {'image_type': image_type}}})
        assert resp.status_code == 202, resp.text
        body = resp.json()
        task = self.wait_task('ZXJnb24=:' + body['status'][
            'execution_context']['task_uuid'])
        assert task['status'] == 'SUCCEEDED', task
        return body['metadata']['uuid']

    def upload(self, ext_id, data, **kwargs):
        resp = self.put('%s/%s/file' % (V3_IMAGES, ext_id), request_id=False,
                        data=data, headers={
                            'Content-Type': 'application/octet-stream'},
                        **kwargs)
        return resp

    def upload_image(self, data, name='img', image_type='DISK_IMAGE'):
        ext_id = self.create_empty_image(name, image_type)
        resp = self.upload(ext_id, data)
        assert resp.status_code == 202, resp.text
        task_uuid = resp.json()['status']['execution_context']['task_uuid']
        task = self.wait_task('ZXJnb24=:' + task_uuid)
        assert task['status'] == 'SUCCEEDED', task
        return ext_id

    def image(self, ext_id):
        resp = self.get('%s/%s' % (V4_IMAGES, ext_id))
        assert resp.status_code == 200, resp.text
        return resp.json()['data']

    def image_bytes(self, ext_id, **kwargs):
        resp = self.get('%s/%s/file' % (V4_IMAGES, ext_id), **kwargs)
        assert resp.status_code in (200, 206), resp.text
        return resp.content

    def create_from_url(self, url, name='from-url', image_type='DISK_IMAGE',
                        **source_extra):
        source = {'$objectType': 'vmm.v4.content.UrlSource', 'url': url}
        source.update(source_extra)
        resp = self.post(V4_IMAGES, json={
            'name': name, 'type': image_type, 'source': source})
        return self.wait_task(self.accepted_task(resp))


def error_of(resp):
    """The first v4 AppMessage of an error response."""
    return resp.json()['data']['error'][0]


class _Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        server = self.server
        server.requests.append(self.headers.get('Authorization'))
        if server.auth and self.headers.get('Authorization') != server.auth:
            self.send_response(401)
            self.send_header('Content-Length', '0')
            self.end_headers()
            return
        content = server.files.get(self.path)
        if content is None:
            self.send_response(404)
            self.send_header('Content-Length', '0')
            self.end_headers()
            return
        self.send_response(200)
        self.send_header('Content-Length', str(len(content)))
        self.end_headers()
        self.wfile.write(content)


class FileServer(object):
    """A tiny loopback HTTP server serving ``files`` (path -> bytes)."""

    def __init__(self, files, auth=None):
        self.httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0),
                                                     _Handler)
        self.httpd.files = files
        self.httpd.auth = auth
        self.httpd.requests = []
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       daemon=True)

    @property
    def requests(self):
        return self.httpd.requests

    def url(self, path):
        return 'http://127.0.0.1:%d%s' % (self.httpd.server_address[1], path)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def sdk_client(module, emulator, download_dir=None):
    """An official ``ntnx_*_py_client`` ApiClient aimed at the emulator.

    The SDKs take host, port and scheme separately and add the
    ``/api/<namespace>/v4.x`` paths themselves.
    """
    import urllib.parse
    url = urllib.parse.urlparse(emulator.endpoint)
    conf = module.Configuration()
    conf.host = url.hostname
    conf.port = url.port
    conf.scheme = url.scheme
    conf.username = emulator.username
    conf.password = emulator.password
    conf.verify_ssl = False
    conf.max_retry_attempts = 1
    conf.backoff_factor = 0
    if download_dir:
        conf.download_directory = str(download_dir)
    return module.ApiClient(configuration=conf)
