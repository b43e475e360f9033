"""kill -9 and restart: everything acknowledged is still there."""

import os
import subprocess

import pytest

from nutanix_openstack.emulator import fixture as emu_fixture
from tests.functional.emulator import helpers


@pytest.fixture
def process():
    proc = emu_fixture.EmulatorProcess()
    proc.start()
    yield proc
    proc.cleanup()


def test_sigkill_loses_nothing_acknowledged(process):
    api = helpers.Api(process)
    payloads = {}
    for i in range(3):
        data = os.urandom(1024 * 1024 + i)
        payloads[api.upload_image(data, name='img-%d' % i)] = data
    renamed = next(iter(payloads))
    resp = api.get('%s/%s' % (helpers.V4_IMAGES, renamed))
    image = resp.json()['data']
    image['name'] = 'renamed'
    api.wait_task(api.accepted_task(api.put(
        '%s/%s' % (helpers.V4_IMAGES, renamed), json=image,
        headers={'If-Match': resp.headers['ETag']})))
    deleted = list(payloads)[-1]
    api.wait_task(api.accepted_task(
        api.delete('%s/%s' % (helpers.V4_IMAGES, deleted))))
    payloads.pop(deleted)
    process.admin.write_disk(renamed, 4096, b'written by a guest')
    etag = api.get('%s/%s' % (helpers.V4_IMAGES, renamed)).headers['ETag']
    # A task in flight when the process dies.
    process.admin.set_task_mode('async', delay=30)
    pending = api.post(helpers.V3_IMAGES, request_id=False, json={
        'spec': {'name': 'in-flight',
                 'resources': {'image_type': 'DISK_IMAGE'}}}).json()
    pending_task = 'ZXJnb24=:' + pending['status']['execution_context'][
        'task_uuid']
    assert api.task(pending_task)['status'] == 'QUEUED'

    process.kill()
    process.start()

    api = helpers.Api(process)
    images = {i['extId']: i for i in
              api.get(helpers.V4_IMAGES).json()['data']}
    assert set(images) == set(payloads)
    assert images[renamed]['name'] == 'renamed'
    # ETags survive too: an update prepared before the kill still works.
    assert api.get('%s/%s' % (helpers.V4_IMAGES, renamed)).headers[
        'ETag'] == etag
    for ext_id, data in payloads.items():
        got = api.image_bytes(ext_id)
        if ext_id == renamed:
            data = data[:4096] + b'written by a guest' + data[4096 + 18:]
        assert got == data
    assert api.get('%s/%s' % (helpers.V4_IMAGES, deleted)).status_code == 404
    task = api.task(pending_task)
    assert task['status'] == 'FAILED'
    assert 'restart' in task['errorMessages'][0]['message']
    # The task mode set through the admin API persisted as well.
    assert api.session.get(api.url('/_emulator/v1/task-mode')).json() == {
        'mode': 'async', 'delay': 30.0}
    inventory = process.admin.inventory()
    assert inventory['storage']['disks'] == len(payloads)


def test_sigterm_stops_cleanly_and_restarts(process):
    api = helpers.Api(process)
    ext_id = api.upload_image(b'x' * 1000, name='kept')
    process.stop()
    assert process.proc is None
    process.start()
    assert helpers.Api(process).image(ext_id)['name'] == 'kept'


def test_second_process_on_the_data_dir_refuses_and_says_why(process):
    # Same configuration file (data directory, port) as the running one.
    second = subprocess.run(process.command(), capture_output=True,
                            timeout=120)
    assert second.returncode == 1
    assert ('already served by another process (pid %d)' % process.proc.pid
            ).encode() in second.stderr
    # The first one goes on serving, and a restart is not refused.
    api = helpers.Api(process)
    ext_id = api.upload_image(b'y' * 100, name='still-served')
    process.kill()
    process.start()
    assert helpers.Api(process).image(ext_id)['name'] == 'still-served'
