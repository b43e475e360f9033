"""Damaged images never become disks: upload and URL import alike.

A DISK_IMAGE whose bytes are qcow2, vmdk or vhdx is checked (qemu-img
info, check and map) before its conversion to raw: a truncated or
corrupted one fails the task with a message naming the format and the
damage, and leaves no bytes behind.
"""

import pytest

from tests import badimages
from tests.functional.emulator import helpers

pytestmark = pytest.mark.skipif(badimages.QEMU_IMG is None,
                                reason='qemu-img is not installed')


def _message(task):
    assert task['status'] == 'FAILED', task
    return task['errorMessages'][0]['message']


@pytest.mark.parametrize('kind', badimages.KINDS)
@pytest.mark.parametrize('fmt', badimages.FORMATS)
def test_damaged_upload_fails_and_leaves_the_image_empty(api, tmp_path, fmt,
                                                         kind):
    data = badimages.make(fmt, kind, str(tmp_path))
    ext_id = api.create_empty_image('%s-%s' % (kind, fmt))
    resp = api.upload(ext_id, data)
    assert resp.status_code == 202, resp.text
    task = api.wait_task('ZXJnb24=:' + resp.json()['status'][
        'execution_context']['task_uuid'])
    message = _message(task)
    assert message.startswith('Invalid %s image: ' % fmt), message
    assert 'was not imported' in message
    # No temporary path of the emulator leaks into the message.
    assert str(api.emulator.data_dir) not in message
    assert api.image(ext_id)['sizeBytes'] == 0
    assert api.emulator.admin.disk_info(ext_id)['size'] == 0


@pytest.mark.parametrize('fmt', badimages.FORMATS)
def test_truncated_url_import_fails_and_leaves_nothing(api, tmp_path, fmt):
    data = badimages.make(fmt, 'truncated', str(tmp_path))
    before = set(api.emulator.admin.inventory()['objects'].get('image', []))
    with helpers.FileServer({'/t': data}) as files:
        task = _message(api.create_from_url(files.url('/t'), name='t'))
    assert 'Invalid %s image' % fmt in task
    after = set(api.emulator.admin.inventory()['objects'].get('image', []))
    assert after == before


def test_truncated_qcow2_message_says_what_is_wrong(api, tmp_path):
    data = badimages.make('qcow2', 'truncated', str(tmp_path))
    with helpers.FileServer({'/t.qcow2': data}) as files:
        message = _message(api.create_from_url(files.url('/t.qcow2')))
    assert 'qemu-img check found' in message, message
    assert 'corruptions' in message


def test_qcow2_with_a_backing_file_is_refused(api, tmp_path):
    import subprocess
    (tmp_path / 'base.raw').write_bytes(b'secret' * 1000)
    subprocess.run([badimages.QEMU_IMG, 'create', '-f', 'qcow2', '-F', 'raw',
                    '-b', str(tmp_path / 'base.raw'),
                    str(tmp_path / 'top.qcow2')], check=True,
                   stdout=subprocess.PIPE)
    ext_id = api.create_empty_image('backed')
    resp = api.upload(ext_id, (tmp_path / 'top.qcow2').read_bytes())
    message = _message(api.wait_task('ZXJnb24=:' + resp.json()['status'][
        'execution_context']['task_uuid']))
    assert 'backing file' in message, message
    assert api.image(ext_id)['sizeBytes'] == 0


@pytest.mark.parametrize('fmt', badimages.FORMATS)
def test_good_images_still_convert(api, tmp_path, fmt):
    data = badimages.make(fmt, 'good', str(tmp_path))
    ext_id = api.upload_image(data, name=fmt)
    raw = badimages.raw_content()
    assert api.image_bytes(ext_id)[:len(raw)] == raw
