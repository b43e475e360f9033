"""Image transfers over HTTP: zero-copy downloads, the plain path, cut uploads.

Plain HTTP downloads are sent by the body itself (``os.sendfile`` from the
chunk files, zeros from a shared buffer); HTTPS and fault-counted
downloads yield byte strings.  Both must give exactly the disk's bytes,
for every range, and a client that leaves mid-body must leave nothing
open behind.
"""

import io
import os
import random
import socket
import time

import pytest
import requests

from nutanix_openstack.emulator import fixture as emu_fixture
from nutanix_openstack.prism import vms
from tests.functional.emulator import helpers

MiB = 1024 * 1024


def sparse_image(emulator, data, size):
    """An image of ``size`` bytes whose first bytes are ``data``.

    Made as a Nova snapshot of a fresh server is: a VM disk cloned (and
    grown) from an uploaded image, then an image of that disk.
    """
    client = emulator.prism_client()
    try:
        img = client.images.create_for_upload('src')
        client.images.upload(img['extId'], io.BytesIO(data),
                             size=len(data))
        vm = client.vms.create('vm', memory_size_bytes=MiB,
                               disks=[vms.disk_from_image(img['extId'],
                                                          size_bytes=size)])
        snap = client.images.create_from_vm_disk(
            'snap', vm['extId'], vm['disks'][0]['extId'])
        return snap['extId']
    finally:
        client.close()


def open_chunk_files():
    """Descriptors of this process open on chunk files of a disk store."""
    count = 0
    for fd in os.listdir('/proc/self/fd'):
        try:
            target = os.readlink('/proc/self/fd/' + fd)
        except OSError:
            continue
        count += '/disks/chunks/' in target
    return count


def wait_chunk_files_closed(timeout=10):
    deadline = time.time() + timeout
    while open_chunk_files() and time.time() < deadline:
        time.sleep(0.05)
    return open_chunk_files()


def check_ranges(api, ext_id, expected, count=25):
    path = '%s/%s/file' % (helpers.V4_IMAGES, ext_id)
    rnd = random.Random(5)
    size = len(expected)
    cs = 4 * MiB
    # Chunk edges, the data/zero edge, then random ones.
    spans = [(0, size - 1), (cs - 1, cs), (cs - 3, 2 * cs + 2),
             (MiB - 2, MiB + 2), (size - 1, size - 1)]
    for _ in range(count):
        start = rnd.randrange(size)
        spans.append((start, min(size - 1, start + rnd.randrange(3 * cs))))
    for start, end in spans:
        resp = api.get(path, headers={'Range': 'bytes=%d-%d' % (start, end)})
        assert resp.status_code == 206
        assert resp.headers['Content-Range'] == 'bytes %d-%d/%d' % (
            start, end, size)
        assert resp.content == expected[start:end + 1], (start, end)


def test_sparse_image_download_is_exact(emulator):
    api = helpers.Api(emulator)
    data = os.urandom(MiB + 17)
    size = 12 * MiB + 5
    ext_id = sparse_image(emulator, data, size)
    expected = data + bytes(size - len(data))
    assert api.image_bytes(ext_id) == expected
    check_ranges(api, ext_id, expected)
    assert wait_chunk_files_closed() == 0


def test_client_leaving_mid_download_leaks_nothing(emulator):
    api = helpers.Api(emulator)
    data = os.urandom(24 * MiB)
    ext_id = api.upload_image(data, name='leave')
    path = '%s/%s/file' % (helpers.V4_IMAGES, ext_id)
    for _ in range(3):
        sock = socket.create_connection(('127.0.0.1', emulator.server.port))
        auth = requests.auth._basic_auth_str(
            emulator.username, emulator.password)
        sock.sendall(('GET %s HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\n'
                      '\r\n' % (path, auth)).encode())
        got = sock.recv(65536)
        assert got.startswith(b'HTTP/1.1 200')
        # Reset rather than a clean close: the server's sendfile fails.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                        b'\x01\x00\x00\x00\x00\x00\x00\x00')
        sock.close()
    # Every chunk file the aborted downloads opened is closed again.
    assert wait_chunk_files_closed() == 0
    # And the emulator serves the next download whole.
    assert api.image_bytes(ext_id) == data


@pytest.fixture
def tls_emulator():
    fix = emu_fixture.EmulatorFixture(tls=True)
    fix.setUp()
    yield fix
    fix.cleanUp()


def test_tls_download_is_exact(tls_emulator):
    # No sendfile under TLS: the byte-string path, same bytes.
    api = helpers.Api(tls_emulator)
    data = os.urandom(MiB + 3)
    size = 9 * MiB + 1
    ext_id = sparse_image(tls_emulator, data, size)
    expected = data + bytes(size - len(data))
    assert api.image_bytes(ext_id) == expected
    check_ranges(api, ext_id, expected, count=8)


def test_upload_cut_mid_body_leaves_the_image_empty(emulator):
    # Bytes are read straight into the chunk buffer (readinto): a client
    # that dies mid-body still leaves no partial image, and the next
    # upload works.
    api = helpers.Api(emulator)
    ext_id = api.create_empty_image('cut')
    declared = 20 * MiB
    sock = socket.create_connection(('127.0.0.1', emulator.server.port))
    auth = requests.auth._basic_auth_str(emulator.username,
                                         emulator.password)
    sock.sendall(('PUT %s/%s/file HTTP/1.1\r\nHost: x\r\n'
                  'Authorization: %s\r\nContent-Length: %d\r\n'
                  'Content-Type: application/octet-stream\r\n\r\n'
                  % (helpers.V3_IMAGES, ext_id, auth, declared)).encode())
    sock.sendall(os.urandom(9 * MiB + 7))
    sock.shutdown(socket.SHUT_WR)
    answer = sock.recv(65536)
    sock.close()
    assert answer.startswith(b'HTTP/1.1 400'), answer[:200]
    assert api.image(ext_id).get('sizeBytes', 0) == 0
    assert emulator.admin.disk_info(ext_id)['size'] == 0
    assert api.image_bytes(ext_id) == b''
    data = os.urandom(5 * MiB + 1)
    resp = api.upload(ext_id, data)
    assert resp.status_code == 202, resp.text
    api.wait_task('ZXJnb24=:' +
                  resp.json()['status']['execution_context']['task_uuid'])
    assert api.image_bytes(ext_id) == data
