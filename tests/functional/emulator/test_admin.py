"""The admin API: reset, disk bytes, inventory, task mode."""

import os

import pytest

from tests.functional.emulator import helpers


def test_disk_read_write_and_info(api):
    data = os.urandom(1024 * 1024)
    ext_id = api.upload_image(data, name='disk')
    admin = api.emulator.admin
    assert admin.read_disk(ext_id, 1000, 24) == data[1000:1024]
    assert admin.read_disk(ext_id) == data
    assert admin.write_disk(ext_id, 10, b'hello') == {'written': 5}
    assert admin.read_disk(ext_id, 8, 9) == data[8:10] + b'hello' + \
        data[15:17]
    info = admin.disk_info(ext_id)
    assert info['size'] == len(data)
    assert info['chain'] and info['allocated_bytes'] > 0
    with pytest.raises(RuntimeError):
        admin.read_disk(ext_id, len(data) - 1, 2)
    with pytest.raises(RuntimeError):
        admin.write_disk(ext_id, len(data) - 1, b'xx')
    with pytest.raises(RuntimeError):
        admin.disk_info('nope')


def test_inventory_and_reset(api):
    admin = api.emulator.admin
    ext_id = api.upload_image(b'x' * 5000, name='gone')
    inventory = admin.inventory()
    assert ext_id in inventory['objects']['image']
    assert inventory['objects']['task']
    assert inventory['storage']['disks'] == 1
    admin.add_fault(path='x', status=500)
    admin.set_task_mode('async', delay=0.1)
    admin.reset()
    after = admin.inventory()
    assert 'image' not in after['objects']
    assert 'task' not in after['objects']
    assert after['storage']['disks'] == 0
    # The inventory (cluster, hosts, containers) is seeded again.
    assert after['objects']['cluster'] and after['objects']['host']
    assert admin.list_faults() == []
    assert api.get(helpers.V4_IMAGES + '/' + ext_id).status_code == 404
    # Task mode is back to the configured one.
    assert api.session.get(api.url('/_emulator/v1/task-mode')).json()[
        'mode'] == 'immediate'


def test_task_mode_switch(api):
    admin = api.emulator.admin
    assert admin.set_task_mode('async', delay=0.3) == {'mode': 'async',
                                                       'delay': 0.3}
    resp = api.post(helpers.V3_IMAGES, request_id=False, json={
        'spec': {'name': 'x', 'resources': {'image_type': 'DISK_IMAGE'}}})
    task_id = 'ZXJnb24=:' + resp.json()['status']['execution_context'][
        'task_uuid']
    assert api.task(task_id)['status'] in ('QUEUED', 'RUNNING')
    assert api.wait_task(task_id)['status'] == 'SUCCEEDED'
    admin.set_task_mode('immediate')
    with pytest.raises(RuntimeError):
        admin.set_task_mode('sometimes')


def test_reset_drops_tasks_waiting_to_run(async_api):
    import time
    api = async_api
    admin = api.emulator.admin
    admin.set_task_mode('async', delay=20)
    api.post(helpers.V3_IMAGES, request_id=False, json={
        'spec': {'name': 'late', 'resources': {'image_type': 'DISK_IMAGE'}}})
    start = time.monotonic()
    admin.reset()
    assert time.monotonic() - start < 10
    time.sleep(0.2)
    objects = admin.inventory()['objects']
    assert 'image' not in objects and 'task' not in objects
