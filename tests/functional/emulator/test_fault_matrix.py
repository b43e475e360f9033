"""SIGKILL mid-operation, restart: nothing acknowledged lost, none left.

The emulator runs as a child process (``EmulatorProcess``) so that the kill
is real: no handler, no cleanup.  Every case counts the backend's objects
and stored bytes (the admin inventory) before the operation and after the
restart (issue 11, items 1-4).
"""

import http.server
import os
import threading
import time

import pytest
import requests

from nutanix_openstack.emulator import fixture as emu_fixture
from nutanix_openstack.emulator import storage
from nutanix_openstack.prism import vms as prism_vms
from nutanix_openstack.prism import volume_groups as prism_vg
from tests.functional.emulator import helpers

MiB = 1024 * 1024


@pytest.fixture
def emu():
    proc = emu_fixture.EmulatorProcess(allow_local_url_sources=True)
    proc.start()
    yield proc
    proc.cleanup()


def _counts(emu):
    inventory = emu.admin.inventory()
    objects = {kind: sorted(ids) for kind, ids in
               inventory['objects'].items() if kind != 'task'}
    storage_stats = inventory['storage']
    return objects, storage_stats['disks'], storage_stats['bytes_stored']


def _kill_and_restart(emu):
    emu.kill()
    emu.start()


def _wait_for(predicate, timeout=30):
    deadline = time.time() + timeout
    while not predicate():
        if time.time() > deadline:
            raise AssertionError('timed out')
        time.sleep(0.05)


def test_everything_acknowledged_survives_with_its_disks(emu):
    """The restart's garbage collection keeps every owned disk."""
    client = emu.prism_client()
    api = helpers.Api(emu)
    data = os.urandom(2 * MiB)
    image = api.upload_image(data, name='base')
    vg = client.volume_groups.create('vg', disks=[
        prism_vg.volume_disk(MiB, emu.container_ext_id),
        prism_vg.volume_disk(2 * MiB, emu.container_ext_id,
                             prism_vg.image_source(image))])
    vm = client.vms.create('vm', memory_size_bytes=512 * MiB, disks=[
        prism_vms.disk_from_image(image),
        prism_vms.empty_disk(MiB, emu.container_ext_id)],
        cd_roms=[prism_vms.cd_rom_from_image(image)])
    disk_id = client.vms.get(vm['extId'])['disks'][1]['extId']
    emu.admin.write_disk(disk_id, 0, b'guest data')
    rp = client.recovery_points.create('rp', vm_ext_ids=[vm['extId']],
                                       volume_group_ext_ids=[vg['extId']])
    client.close()
    before = _counts(emu)

    _kill_and_restart(emu)

    assert _counts(emu) == before
    client = emu.prism_client()
    assert client.recovery_points.get(rp['extId'])['extId'] == rp['extId']
    assert api.image_bytes(image) == data
    assert emu.admin.read_disk(disk_id, 0, 10) == b'guest data'
    client.close()


class _Blocking(object):
    """An upload body that sends ``head`` bytes, then waits for ``go``."""

    def __init__(self, head):
        self.head = head
        self.go = threading.Event()

    def __iter__(self):
        for i in range(0, len(self.head), MiB):
            yield self.head[i:i + MiB]
        self.go.wait(60)
        yield b'never-complete'


def test_upload_killed_mid_stream_leaves_no_image_and_no_bytes(emu):
    """Item 1: no 0-byte image holding partial bytes; a retry makes one."""
    api = helpers.Api(emu)
    before = _counts(emu)
    ext_id = api.create_empty_image('glance-image-1')
    body = _Blocking(os.urandom(9 * MiB))
    thread = threading.Thread(target=lambda: _swallow(api.upload, ext_id,
                                                      iter(body)))
    thread.start()
    try:
        # Partial bytes are stored when the process dies.
        _wait_for(lambda: emu.admin.disk_info(ext_id)['allocated_bytes'] >=
                  4 * MiB)
        _kill_and_restart(emu)
    finally:
        body.go.set()
        thread.join(30)

    assert _counts(emu) == before
    assert api.get('%s/%s' % (helpers.V4_IMAGES, ext_id)).status_code == 404
    # The caller's retry makes exactly one image of that name.
    client = emu.prism_client()
    created = client.images.create_for_upload('glance-image-1')
    client.images.upload(created['extId'], [b'a' * MiB])
    assert [i['extId'] for i in client.images.find_by_name(
        'glance-image-1')] == [created['extId']]
    client.close()


def _swallow(fn, *args):
    try:
        fn(*args)
    except requests.RequestException:
        pass


class _StallingHandler(http.server.BaseHTTPRequestHandler):
    """Announces 8 MiB, sends 5 MiB, then stalls until released."""

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.send_response(200)
        self.send_header('Content-Length', str(8 * MiB))
        self.end_headers()
        try:
            self.wfile.write(b'\x01' * (5 * MiB))
            self.wfile.flush()
        except OSError:
            return
        self.server.release.wait(60)


def test_url_import_killed_mid_task_leaves_no_disk(emu):
    """Item 2: the import's disk goes; its RUNNING task ends FAILED."""
    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0),
                                            _StallingHandler)
    httpd.release = threading.Event()
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        api = helpers.Api(emu)
        emu.admin.set_task_mode('async')
        before = _counts(emu)
        url = 'http://127.0.0.1:%d/disk.raw' % httpd.server_address[1]
        resp = api.post(helpers.V4_IMAGES, json={
            'name': 'imported', 'type': 'DISK_IMAGE',
            'source': {'$objectType': 'vmm.v4.content.UrlSource',
                       'url': url}})
        task_id = api.accepted_task(resp)
        _wait_for(lambda: emu.admin.inventory()['storage'][
            'bytes_stored'] > before[2])
        assert api.task(task_id)['status'] == 'RUNNING'

        _kill_and_restart(emu)

        assert _counts(emu) == before
        task = api.task(task_id)
        assert task['status'] == 'FAILED'
        assert task['errorMessages'][0]['code'] == 'PRISM-50001'
        assert 'restart' in task['errorMessages'][0]['message']
    finally:
        httpd.release.set()
        httpd.shutdown()
        httpd.server_close()


def test_create_killed_before_its_record_leaves_no_disk(emu):
    """Items 3-4: disks made by a create whose record never came are freed.

    The window between a task making its disks and recording its object
    is too short to hit with a signal, so the disks such a kill leaves are
    made directly in the stopped emulator's disk store.
    """
    before = _counts(emu)
    emu.kill()
    disks = storage.DiskStore(os.path.join(emu.base_dir, 'data', 'disks'))
    for disk_id in ('11111111-1111-4111-8111-111111111111',
                    '22222222-2222-4222-8222-222222222222'):
        disks.create(disk_id, 3 * MiB)
        disks.write(disk_id, 0, b'\x07' * (3 * MiB))
    disks.close()
    emu.start()
    assert _counts(emu) == before


def test_queued_volume_group_create_leaves_nothing(emu):
    """Item 3: one task for the group and its disks; killed, it is FAILED."""
    client = emu.prism_client()
    before = _counts(emu)
    emu.admin.set_task_mode('async', delay=30)
    task = client.volume_groups.create('vg-killed', disks=[
        prism_vg.volume_disk(MiB, emu.container_ext_id)], wait=False)
    client.close()

    _kill_and_restart(emu)

    assert _counts(emu) == before
    assert helpers.Api(emu).task(task['extId'])['status'] == 'FAILED'
