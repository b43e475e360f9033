"""Images over real HTTP: uploads, downloads, URL imports, conversions."""

import base64
import os
import shutil
import subprocess
import uuid

import pytest

from tests.functional.emulator import helpers

QEMU_IMG = shutil.which('qemu-img')


def _blocks(data, size):
    for i in range(0, len(data), size):
        yield data[i:i + size]


def test_v3_create_returns_uuid_and_task(api):
    resp = api.post(helpers.V3_IMAGES, request_id=False, json={
        'spec': {'name': 'empty', 'description': 'd',
                 'resources': {'image_type': 'DISK_IMAGE'}},
        'metadata': {'kind': 'image'}})
    assert resp.status_code == 202
    body = resp.json()
    ext_id = body['metadata']['uuid']
    assert body['status']['execution_context']['task_uuid']
    image = api.image(ext_id)
    assert image['sizeBytes'] == 0
    assert image['description'] == 'd'
    assert image['clusterLocationExtIds'] == [api.emulator.cluster_ext_id]
    assert image['$objectType'] == 'vmm.v4.content.Image'


def test_v3_upload_with_content_length(api):
    data = os.urandom(9 * 1024 * 1024 + 3)
    ext_id = api.upload_image(data, name='sized')
    assert api.image(ext_id)['sizeBytes'] == len(data)
    assert api.image_bytes(ext_id) == data


def test_v3_upload_chunked(api):
    data = os.urandom(5 * 1024 * 1024 + 11)
    ext_id = api.create_empty_image('chunked')
    # A generator body makes requests use Transfer-Encoding: chunked.
    resp = api.upload(ext_id, _blocks(data, 300000))
    assert resp.status_code == 202, resp.text
    api.wait_task('ZXJnb24=:' + resp.json()['status']['execution_context'][
        'task_uuid'])
    assert api.image(ext_id)['sizeBytes'] == len(data)
    assert api.image_bytes(ext_id) == data


def test_truncated_upload_leaves_image_empty(api):
    import socket
    import urllib.parse
    ext_id = api.create_empty_image('truncated')
    url = urllib.parse.urlparse(api.endpoint)
    auth = base64.b64encode(('%s:%s' % (api.emulator.username,
                                        api.emulator.password)).encode())
    with socket.create_connection((url.hostname, url.port)) as sock:
        sock.sendall(b'PUT %s/%s/file HTTP/1.1\r\nHost: x\r\n'
                     b'Authorization: Basic %s\r\n'
                     b'Content-Type: application/octet-stream\r\n'
                     b'Content-Length: 1000000\r\n\r\n'
                     % (helpers.V3_IMAGES.encode(), ext_id.encode(), auth))
        sock.sendall(b'x' * 5000)
        sock.shutdown(socket.SHUT_WR)
        answer = sock.makefile('rb').read()
    assert answer.startswith(b'HTTP/1.1 400')
    assert api.image(ext_id)['sizeBytes'] == 0
    assert api.emulator.admin.disk_info(ext_id)['size'] == 0
    # A complete upload afterwards works.
    resp = api.upload(ext_id, b'y' * 100)
    assert resp.status_code == 202
    assert api.image_bytes(ext_id) == b'y' * 100


def test_url_credentials_are_not_stored_or_echoed(api):
    with helpers.FileServer({}) as files:
        url = files.url('/nothing').replace(
            'http://', 'http://user:s3cret@')
        task = api.create_from_url(url, name='cred')
    assert task['status'] == 'FAILED'
    assert 's3cret' not in task['errorMessages'][0]['message']


def test_v3_upload_to_unknown_image_is_404(api):
    resp = api.upload(str(uuid.uuid4()), b'abc')
    assert resp.status_code == 404


def test_iso_bytes_are_kept_as_sent(api):
    # Starts like a qcow2 but is an ISO: never converted.
    data = b'QFI\xfb' + os.urandom(70000)
    ext_id = api.upload_image(data, name='iso', image_type='ISO_IMAGE')
    assert api.image_bytes(ext_id) == data


def test_range_downloads(api):
    data = os.urandom(3 * 1024 * 1024)
    ext_id = api.upload_image(data, name='ranges')
    path = '%s/%s/file' % (helpers.V4_IMAGES, ext_id)
    full = api.get(path)
    assert full.status_code == 200
    assert full.headers['Content-Length'] == str(len(data))
    assert full.headers['Accept-Ranges'] == 'bytes'
    part = api.get(path, headers={'Range': 'bytes=1048570-1048590'})
    assert part.status_code == 206
    assert part.content == data[1048570:1048591]
    assert part.headers['Content-Range'] == 'bytes 1048570-1048590/%d' % (
        len(data))
    assert part.headers['Content-Length'] == '21'
    tail = api.get(path, headers={'Range': 'bytes=-10'})
    assert tail.status_code == 206 and tail.content == data[-10:]
    open_end = api.get(path, headers={'Range': 'bytes=%d-' % (len(data) - 5)})
    assert open_end.content == data[-5:]
    bad = api.get(path, headers={'Range': 'bytes=%d-' % len(data)})
    assert bad.status_code == 416
    assert bad.headers['Content-Range'] == 'bytes */%d' % len(data)


def test_download_is_streamed(api):
    data = os.urandom(4 * 1024 * 1024)
    ext_id = api.upload_image(data, name='stream')
    resp = api.get('%s/%s/file' % (helpers.V4_IMAGES, ext_id), stream=True)
    got = b''.join(resp.iter_content(65536))
    assert got == data


def test_url_import_with_basic_auth_and_progress(api):
    data = os.urandom(2 * 1024 * 1024 + 5)
    auth = 'Basic ' + base64.b64encode(b'u:p').decode()
    with helpers.FileServer({'/disk.raw': data}, auth=auth) as files:
        task = api.create_from_url(
            files.url('/disk.raw'), name='web',
            basicAuth={'username': 'u', 'password': 'p'})
        assert files.requests == [auth]
    assert task['status'] == 'SUCCEEDED', task
    assert task['progressPercentage'] == 100
    ext_id = task['entitiesAffected'][0]['extId']
    image = api.image(ext_id)
    assert image['sizeBytes'] == len(data)
    assert image['source']['url'].endswith('/disk.raw')
    # The URL password is never given back.
    assert 'password' not in image['source'].get('basicAuth', {})
    assert api.image_bytes(ext_id) == data


def test_url_import_failures_fail_the_task_and_leave_nothing(api):
    before = api.emulator.admin.inventory()
    with helpers.FileServer({'/x': b'x'}, auth='Basic nope') as files:
        unauthorized = api.create_from_url(files.url('/x'), name='nope')
    with helpers.FileServer({'/x': b'x'}) as files:
        missing = api.create_from_url(files.url('/missing'), name='nope')
    unreachable = api.create_from_url('http://127.0.0.1:1/x', name='nope')
    for task in (unauthorized, missing, unreachable):
        assert task['status'] == 'FAILED'
        assert task['errorMessages'][0]['message']
    assert '401' in unauthorized['errorMessages'][0]['message']
    assert '404' in missing['errorMessages'][0]['message']
    after = api.emulator.admin.inventory()
    assert after['objects'].get('image') == before['objects'].get('image')
    assert after['storage']['disks'] == before['storage']['disks']


def test_url_import_checksum_is_verified(api):
    import hashlib
    data = b'checksummed' * 1000
    with helpers.FileServer({'/c': data}) as files:
        ok = api.post(helpers.V4_IMAGES, json={
            'name': 'sum', 'type': 'ISO_IMAGE',
            'checksum': {'$objectType': 'vmm.v4.content.ImageSha256Checksum',
                         'hexDigest': hashlib.sha256(data).hexdigest()},
            'source': {'$objectType': 'vmm.v4.content.UrlSource',
                       'url': files.url('/c')}})
        bad = api.post(helpers.V4_IMAGES, json={
            'name': 'sum-bad', 'type': 'ISO_IMAGE',
            'checksum': {'$objectType': 'vmm.v4.content.ImageSha1Checksum',
                         'hexDigest': '0' * 40},
            'source': {'$objectType': 'vmm.v4.content.UrlSource',
                       'url': files.url('/c')}})
    assert api.wait_task(api.accepted_task(ok))['status'] == 'SUCCEEDED'
    failed = api.wait_task(api.accepted_task(bad))
    assert failed['status'] == 'FAILED'
    assert 'Checksum mismatch' in failed['errorMessages'][0]['message']


def test_create_validation_errors(api):
    cases = [
        {'type': 'DISK_IMAGE', 'source': {}},
        {'name': 'a', 'type': 'WHAT'},
        {'name': 'a', 'type': 'DISK_IMAGE'},
        {'name': 'a', 'type': 'DISK_IMAGE',
         'source': {'$objectType': 'vmm.v4.content.Nope'}},
        {'name': 'a', 'type': 'DISK_IMAGE',
         'source': {'$objectType': 'vmm.v4.content.UrlSource', 'url': 'x'}},
    ]
    for body in cases:
        resp = api.post(helpers.V4_IMAGES, json=body)
        assert resp.status_code == 400, body
        assert helpers.error_of(resp)['code'].startswith('VMM-')
    resp = api.post(helpers.V4_IMAGES, json={
        'name': 'a', 'type': 'DISK_IMAGE',
        'clusterLocationExtIds': [str(uuid.uuid4())],
        'source': {'$objectType': 'vmm.v4.content.UrlSource',
                   'url': 'http://127.0.0.1:1/'}})
    assert resp.status_code == 404


def _add_vm_with_disk(emulator, data):
    """Put a VM with one disk straight into the backend.

    The VM API belongs to another module; this only needs what an image
    from a VM disk reads: a ``vm`` entity whose ``disks`` carry extIds, and
    the disk's bytes in the disk store.
    """
    backend = emulator.backend
    vm_ext_id, disk_ext_id = str(uuid.uuid4()), str(uuid.uuid4())
    backend.disks.create(disk_ext_id, len(data))
    backend.disks.write(disk_ext_id, 0, data)
    backend.state.put('vm', vm_ext_id, {
        'extId': vm_ext_id, 'name': 'vm',
        'disks': [{'extId': disk_ext_id,
                   '$objectType': 'vmm.v4.ahv.config.Disk'}]})
    return vm_ext_id, disk_ext_id


def test_image_from_vm_disk_is_a_cow_clone(api):
    data = os.urandom(8 * 1024 * 1024)
    vm_ext_id, disk_ext_id = _add_vm_with_disk(api.emulator, data)
    resp = api.post(helpers.V4_IMAGES, json={
        'name': 'snap', 'type': 'DISK_IMAGE',
        'source': {'$objectType': 'vmm.v4.content.VmDiskSource',
                   'extId': disk_ext_id, 'vmExtId': vm_ext_id}})
    task = api.wait_task(api.accepted_task(resp))
    assert task['status'] == 'SUCCEEDED', task
    ext_id = task['entitiesAffected'][0]['extId']
    assert api.image(ext_id)['sizeBytes'] == len(data)
    info = api.emulator.admin.disk_info(ext_id)
    # Copy-on-write: the image's own layer holds nothing yet.
    assert info['allocated_bytes'] == 0
    assert len(info['chain']) >= 2
    # Writing the VM disk afterwards does not change the image.
    api.emulator.admin.write_disk(disk_ext_id, 0, b'\0' * 4096)
    assert api.image_bytes(ext_id) == data


def test_image_from_missing_vm_or_disk_is_404(api):
    vm_ext_id, disk_ext_id = _add_vm_with_disk(api.emulator, b'x' * 512)
    for source in ({'extId': disk_ext_id, 'vmExtId': str(uuid.uuid4())},
                   {'extId': str(uuid.uuid4()), 'vmExtId': vm_ext_id}):
        source['$objectType'] = 'vmm.v4.content.VmDiskSource'
        resp = api.post(helpers.V4_IMAGES, json={
            'name': 'n', 'type': 'DISK_IMAGE', 'source': source})
        assert resp.status_code == 404, source


def test_list_filter_and_delete(api):
    a = api.upload_image(b'a' * 100, name='alpha')
    b = api.upload_image(b'b' * 100, name='beta', image_type='ISO_IMAGE')
    listed = api.get(helpers.V4_IMAGES,
                     params={'$filter': "type eq 'ISO_IMAGE'"}).json()
    assert [i['extId'] for i in listed['data']] == [b]
    ordered = api.get(helpers.V4_IMAGES,
                      params={'$orderby': 'name desc'}).json()['data']
    assert [i['name'] for i in ordered] == ['beta', 'alpha']
    task = api.wait_task(api.accepted_task(
        api.delete(helpers.V4_IMAGES + '/' + a)))
    assert task['status'] == 'SUCCEEDED'
    assert api.get(helpers.V4_IMAGES + '/' + a).status_code == 404
    assert api.get(helpers.V4_IMAGES + '/%s/file' % a).status_code == 404
    assert api.delete(helpers.V4_IMAGES + '/' + a).status_code == 404
    inventory = api.emulator.admin.inventory()
    assert a not in inventory['objects']['image']
    assert inventory['storage']['disks'] == 1


def _qemu_img(*args):
    subprocess.run(['qemu-img'] + list(args), check=True,
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.mark.skipif(QEMU_IMG is None, reason='qemu-img is not installed')
@pytest.mark.parametrize('fmt', ['qcow2', 'vmdk', 'vhdx'])
def test_disk_image_formats_are_converted_to_raw(api, tmp_path, fmt):
    raw = os.urandom(1024 * 1024) + b'\0' * (1024 * 1024) + b'end' * 512
    raw_path = tmp_path / 'src.raw'
    raw_path.write_bytes(raw)
    img_path = tmp_path / ('src.' + fmt)
    _qemu_img('convert', '-f', 'raw', '-O', fmt, str(raw_path),
              str(img_path))
    encoded = img_path.read_bytes()
    assert encoded != raw
    ext_id = api.upload_image(encoded, name=fmt)
    got = api.image_bytes(ext_id)
    # qemu-img rounds the virtual size up to whole sectors (or more).
    assert got[:len(raw)] == raw
    assert not got[len(raw):].strip(b'\0')
    assert api.image(ext_id)['sizeBytes'] == len(got)


@pytest.mark.skipif(QEMU_IMG is None, reason='qemu-img is not installed')
def test_qcow2_url_import_is_converted_but_iso_kept(api, tmp_path):
    raw = b'boot' * 4096
    (tmp_path / 'a.raw').write_bytes(raw)
    _qemu_img('convert', '-f', 'raw', '-O', 'qcow2',
              str(tmp_path / 'a.raw'), str(tmp_path / 'a.qcow2'))
    qcow2 = (tmp_path / 'a.qcow2').read_bytes()
    with helpers.FileServer({'/a.qcow2': qcow2}) as files:
        disk = api.create_from_url(files.url('/a.qcow2'), name='d')
        iso = api.create_from_url(files.url('/a.qcow2'), name='i',
                                  image_type='ISO_IMAGE')
    disk_id = disk['entitiesAffected'][0]['extId']
    iso_id = iso['entitiesAffected'][0]['extId']
    assert api.image_bytes(disk_id) == raw
    assert api.image_bytes(iso_id) == qcow2


@pytest.mark.skipif(QEMU_IMG is None, reason='qemu-img is not installed')
def test_corrupt_qcow2_fails_the_upload_task(api):
    ext_id = api.create_empty_image('corrupt')
    resp = api.upload(ext_id, b'QFI\xfb' + b'\xff' * 4096)
    task = api.wait_task('ZXJnb24=:' + resp.json()['status'][
        'execution_context']['task_uuid'])
    assert task['status'] == 'FAILED'
    assert 'qcow2' in task['errorMessages'][0]['message']
    assert api.image(ext_id)['sizeBytes'] == 0


def test_image_derived_from_own_file_url(api):
    """What ensure_disk_image does: the cluster fetches its own /file."""
    data = os.urandom(1024 * 1024)
    src = api.upload_image(data, name='src', image_type='ISO_IMAGE')
    task = api.create_from_url(
        api.url('%s/%s/file' % (helpers.V4_IMAGES, src)), name='derived',
        basicAuth={'username': api.emulator.username,
                   'password': api.emulator.password},
        shouldAllowInsecureUrl=True)
    assert task['status'] == 'SUCCEEDED', task
    assert api.image_bytes(task['entitiesAffected'][0]['extId']) == data
