"""Hostile input over HTTP: a 400 (or 401), never a 500, a crash or worse.

Issue 11, items 9-14: deep JSON, control characters and path tricks in
names, sizes beyond 64 bits, a negative Content-Length, URL imports aimed
at loopback/the emulator itself (SSRF), and bad admin fault input.
"""

import os
import socket
import time

import ntnx_vmm_py_client as vmm
import pytest
import requests

from nutanix_openstack.emulator import fixture as emu_fixture
from tests.functional.emulator import helpers

VMS = '/api/vmm/v4.3/ahv/config/vms'
VGS = '/api/volumes/v4.1/config/volume-groups'
ADMIN = '/_emulator/v1'


@pytest.fixture
def strict():
    """An emulator with the default URL policy (loopback refused)."""
    fix = emu_fixture.EmulatorFixture()
    fix.setUp()
    yield fix
    fix.cleanUp()


@pytest.fixture
def strict_api(strict):
    return helpers.Api(strict)


def _still_serving(api):
    assert api.get(helpers.V4_IMAGES).status_code == 200


def _counts(emulator):
    inv = emulator.admin.inventory()
    return ({k: len(v) for k, v in inv['objects'].items() if k != 'task'},
            inv['storage']['disks'], inv['storage']['bytes_stored'])


# -- 9. deeply nested JSON ---------------------------------------------------

@pytest.mark.parametrize('depth', [100, 5000, 100000])
def test_deeply_nested_json_is_a_400(api, depth):
    body = '{"name": "x", "type": "DISK_IMAGE", "source": %s%s}' % (
        '[' * depth, ']' * depth)
    for path in (helpers.V4_IMAGES, VMS, VGS):
        resp = api.post(path, data=body,
                        headers={'Content-Type': 'application/json'})
        assert resp.status_code == 400, (path, resp.status_code, resp.text)
        assert 'nested' in helpers.error_of(resp)['message']
    resp = api.post(ADMIN + '/faults', data=body,
                    headers={'Content-Type': 'application/json'})
    assert resp.status_code == 400
    _still_serving(api)


# -- 10. names ---------------------------------------------------------------

@pytest.mark.parametrize('name', ['evil\r\nSet-Cookie: x=1', 'tab\tname',
                                  'nul\x00', 'x' * 100000, '', '   '])
def test_bad_names_are_refused_everywhere(api, emulator, name):
    before = _counts(emulator)
    image = api.post(helpers.V4_IMAGES, json={
        'name': name, 'type': 'DISK_IMAGE',
        'source': {'$objectType': 'vmm.v4.content.UrlSource',
                   'url': 'http://192.0.2.1/x.img'}})
    v3 = api.post(helpers.V3_IMAGES, request_id=False, json={
        'spec': {'name': name, 'resources': {'image_type': 'DISK_IMAGE'}}})
    vm = api.post(VMS, json={'name': name})
    vg = api.post(VGS, json={'name': name})
    for resp in (image, v3, vm, vg):
        assert resp.status_code == 400, (resp.status_code, resp.text[:300])
    assert _counts(emulator) == before


def test_names_never_reach_a_header_raw(api, tmp_path):
    ext_id = api.upload_image(b'inside' * 100, name='../../escape')
    resp = api.get('%s/%s/file' % (helpers.V4_IMAGES, ext_id))
    assert resp.status_code == 200
    disposition = resp.headers['Content-Disposition']
    assert '/' not in disposition and '..' not in disposition
    # Nutanix's official SDK writes the download under the header's
    # filename: it must land inside its download directory.
    download_dir = tmp_path / 'downloads'
    download_dir.mkdir()
    images = vmm.ImagesApi(helpers.sdk_client(vmm, api.emulator,
                                              download_dir))
    path = images.get_file_by_image_id(ext_id).data['path']
    assert os.path.dirname(os.path.realpath(path)) == \
        os.path.realpath(str(download_dir))
    assert not (tmp_path.parent / 'escape').exists()
    with open(path, 'rb') as f:
        assert f.read() == b'inside' * 100


def test_a_long_valid_name_downloads_with_a_short_header(api):
    name = 'n' * 256
    ext_id = api.upload_image(b'abc', name=name)
    resp = api.get('%s/%s/file' % (helpers.V4_IMAGES, ext_id))
    assert resp.status_code == 200 and resp.content == b'abc'
    assert len(resp.headers['Content-Disposition']) < 200
    too_long = api.post(helpers.V3_IMAGES, request_id=False, json={
        'spec': {'name': 'n' * 257,
                 'resources': {'image_type': 'DISK_IMAGE'}}})
    assert too_long.status_code == 400


# -- 11. sizes ---------------------------------------------------------------

@pytest.mark.parametrize('size', [2 ** 63, 2 ** 63 - 1, 2 ** 64 + 5,
                                  219902325555201, -1, 0])
def test_disk_sizes_are_bounded(api, emulator, size):
    before = _counts(emulator)
    vg = api.post(VGS, json={
        'name': 'vg-big', 'disks': [{'diskSizeBytes': size}]})
    vm = api.post(VMS, json={'name': 'vm-big', 'disks': [{
        '$objectType': 'vmm.v4.ahv.config.Disk',
        'backingInfo': {'$objectType': 'vmm.v4.ahv.config.VmDisk',
                        'diskSizeBytes': size}}]})
    for resp in (vg, vm):
        assert resp.status_code == 400, (resp.status_code, resp.text[:300])
    assert _counts(emulator) == before


def test_resizes_are_bounded(api):
    created = api.post(VGS, json={'name': 'vg', 'disks': [
        {'diskSizeBytes': 1024 * 1024}]})
    task = api.wait_task(api.accepted_task(created))
    assert task['status'] == 'SUCCEEDED', task
    vg_ext_id = task['entitiesAffected'][0]['extId']
    disk = api.get('%s/%s/disks' % (VGS, vg_ext_id)).json()['data'][0]
    path = '%s/%s/disks/%s' % (VGS, vg_ext_id, disk['extId'])
    etag = api.get(path).headers['ETag']
    resp = api.put(path, json={'diskSizeBytes': 2 ** 63},
                   headers={'If-Match': etag})
    assert resp.status_code == 400, resp.text
    assert api.get(path).json()['data']['diskSizeBytes'] == 1024 * 1024


# -- 12. Content-Length ------------------------------------------------------

@pytest.mark.parametrize('length', ['-1', '1e3', 'abc',
                                    '99999999999999999999'])
def test_bad_content_length_on_upload_is_a_400(api, emulator, length):
    ext_id = api.create_empty_image(name='cl')
    before = _counts(emulator)
    host, port = emulator.endpoint.split('//')[1].split(':')
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        import base64
        auth = base64.b64encode(('%s:%s' % (emulator.username,
                                            emulator.password)).encode())
        sock.sendall(('PUT %s/%s/file HTTP/1.1\r\nHost: x\r\n'
                      'Authorization: Basic %s\r\n'
                      'Content-Type: application/octet-stream\r\n'
                      'Content-Length: %s\r\nConnection: close\r\n\r\n'
                      'abc' % (helpers.V3_IMAGES, ext_id, auth.decode(),
                               length)).encode())
        answer = b''
        while True:
            data = sock.recv(65536)
            if not data:
                break
            answer += data
    assert answer.startswith(b'HTTP/1.1 400'), answer[:300]
    assert _counts(emulator) == before
    assert api.image(ext_id)['sizeBytes'] == 0


# -- 13. SSRF ----------------------------------------------------------------

def test_url_imports_of_loopback_and_link_local_are_refused(strict,
                                                            strict_api):
    api = strict_api
    before = _counts(strict)
    with helpers.FileServer({'/x.img': b'x' * 100}) as files:
        targets = [
            files.url('/x.img'),
            api.url(ADMIN + '/reset'),
            strict.endpoint.replace('127.0.0.1', 'localhost') +
            ADMIN + '/inventory',
            'http://[::1]:%d/x.img' % files.httpd.server_address[1],
            'http://169.254.169.254/latest/meta-data/',
            'http://0.0.0.0:%d/x.img' % files.httpd.server_address[1],
            # An image's /file path with a query is not "the image".
            api.url('%s/x/file?x=%s' % (helpers.V4_IMAGES,
                                        ADMIN + '/reset')),
            'file:///etc/passwd',
            'ftp://127.0.0.1/x',
        ]
        for url in targets:
            resp = api.post(helpers.V4_IMAGES, json={
                'name': 'ssrf', 'type': 'DISK_IMAGE',
                'source': {'$objectType': 'vmm.v4.content.UrlSource',
                           'url': url}})
            assert resp.status_code == 400, (url, resp.status_code,
                                             resp.text[:300])
        assert files.requests == []
    assert _counts(strict) == before


def test_redirects_to_loopback_are_refused(strict, strict_api):
    """A public-looking URL may not bounce the emulator onto loopback."""
    import http.server
    import threading

    class Redirect(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            self.send_response(302)
            self.send_header('Location', strict.endpoint + ADMIN + '/reset')
            self.send_header('Content-Length', '0')
            self.end_headers()

    ext_id = strict_api.upload_image(b'keep me', name='kept')
    # The redirector must itself be allowed: the policy is checked per
    # hop, so call open_url directly with the first hop allowed.
    from nutanix_openstack.emulator import errors
    from nutanix_openstack.emulator import url_policy
    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Redirect)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        first = 'http://127.0.0.1:%d/img' % httpd.server_address[1]
        calls = []
        real_check = url_policy.check_url

        def check(url, allow_local=False, shown=None):
            calls.append(url)
            return real_check(url, allow_local=url == first, shown=shown)
        url_policy.check_url, saved = check, url_policy.check_url
        try:
            with pytest.raises(errors.ApiError) as exc:
                url_policy.open_url(first, auth=('admin', 'secret'))
        finally:
            url_policy.check_url = saved
        assert exc.value.status == 400
        assert calls == [first, strict.endpoint + ADMIN + '/reset']
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert strict_api.image(ext_id)['name'] == 'kept'


def test_own_image_file_url_is_still_allowed(strict, strict_api):
    """Clients derive raw disks from an image's own /file URL."""
    api = strict_api
    ext_id = api.upload_image(b'raw bytes' * 1000, name='src')
    task = api.create_from_url(
        api.url('%s/%s/file' % (helpers.V4_IMAGES, ext_id)), name='derived',
        basicAuth={'username': strict.username,
                   'password': strict.password})
    assert task['status'] == 'SUCCEEDED', task


def test_option_allows_loopback(api):
    """The fixture of the other tests sets allow_local_url_sources."""
    with helpers.FileServer({'/x.img': b'y' * 1000}) as files:
        task = api.create_from_url(files.url('/x.img'), name='ok')
    assert task['status'] == 'SUCCEEDED', task


# -- 14. admin fault API -----------------------------------------------------

@pytest.mark.parametrize('fault', [
    {'latency': -1}, {'latency': 1e308}, {'latency': 'soon'},
    '{"latency": NaN}', '{"latency": Infinity}',
    {'status': 500, 'method': 7},
    {'status': 500, 'method': ['GET']}, {'status': 500, 'method': 'FETCH'},
    {'status': 200}, {'status': '500x'}, {'status': True},
    {'drop_after_bytes': -5}, {'drop_after_bytes': 'x'},
    {'status': 500, 'times': 0}, {'status': 500, 'times': 'twice'},
    {'status': 500, 'path': 5}, {'status': 500, 'path': '('},
    {'fail_task': 5}, {'status': 503, 'retry_after': -1},
    {'status': 503, 'retry_after': 1e308}, {'retry_after': 5},
    {'status': 500, 'message': {'a': 1}},
])
def test_bad_faults_are_refused(api, fault):
    if isinstance(fault, str):
        # Not JSON as Python's json.dumps writes it, but what a hostile
        # client may send.
        resp = api.post(ADMIN + '/faults', data=fault,
                        headers={'Content-Type': 'application/json'})
    else:
        resp = api.post(ADMIN + '/faults', json=fault)
    assert resp.status_code == 400, (fault, resp.status_code, resp.text)
    assert api.get(ADMIN + '/faults').json() == {'faults': []}
    _still_serving(api)


@pytest.mark.parametrize('delay', [-1, 1e308, float('inf'), 'x', True])
def test_bad_task_delay_is_refused(api, delay):
    resp = api.put(ADMIN + '/task-mode', data='{"mode": "async", '
                   '"delay": %s}' % (
                       'Infinity' if delay == float('inf') else
                       'true' if delay is True else
                       '"x"' if delay == 'x' else repr(delay)),
                   headers={'Content-Type': 'application/json'})
    assert resp.status_code == 400, resp.text
    assert api.get(ADMIN + '/task-mode').json()['delay'] == 0


def test_faults_apply_after_authentication(api, emulator):
    emulator.admin.add_fault(method='GET', path='/content/images$',
                             status=503, times=1)
    anonymous = requests.get(api.url(helpers.V4_IMAGES), timeout=10)
    assert anonymous.status_code == 401
    wrong = requests.get(api.url(helpers.V4_IMAGES), timeout=10,
                         auth=(emulator.username, 'wrong'))
    assert wrong.status_code == 401
    # The fault is still there for the first authenticated request.
    assert api.get(helpers.V4_IMAGES).status_code == 503
    assert api.get(helpers.V4_IMAGES).status_code == 200


def test_retry_after_is_sent_and_honoured_by_the_client(emulator):
    emulator.admin.add_fault(method='GET', path='/content/images$',
                             status=503, retry_after=1, times=1)
    resp = requests.get(emulator.endpoint + helpers.V4_IMAGES, timeout=10,
                        auth=(emulator.username, emulator.password))
    assert resp.status_code == 503
    assert resp.headers['Retry-After'] == '1'
    # Our client waits what the server says, not its own backoff.
    emulator.admin.add_fault(method='GET', path='/content/images$',
                             status=503, retry_after=1, times=1)
    client = emulator.prism_client(retry_interval=0.01)
    try:
        start = time.monotonic()
        client.images.list()
        assert time.monotonic() - start >= 0.9
    finally:
        client.close()
