"""The official prism SDK (tasks API) against the emulator."""

import ntnx_prism_py_client as prism
import pytest

from tests.functional.emulator import helpers


@pytest.fixture
def tasks(emulator):
    return prism.TasksApi(helpers.sdk_client(prism, emulator))


def test_get_and_list_tasks(api, tasks):
    ext_id = api.upload_image(b'x' * 10, name='t')
    listed = tasks.list_tasks()
    assert listed.metadata.total_available_results >= 2
    task = listed.data[0]
    assert isinstance(task, prism.Task)
    one = tasks.get_task_by_id(task.ext_id).data
    assert isinstance(one, prism.Task)
    assert one.status == 'SUCCEEDED'
    assert one.progress_percentage == 100
    assert one.created_time and one.completed_time
    assert isinstance(one.entities_affected[0], prism.EntityReference)
    assert ext_id in [e.ext_id for e in one.entities_affected]
    filtered = tasks.list_tasks(_filter="status eq 'SUCCEEDED'", _limit=1)
    assert len(filtered.data) == 1


def test_failed_task_error_messages_parse(api, tasks):
    api.emulator.admin.add_fault(path='^CreateImage$', fail_task='boom')
    resp = api.post(helpers.V3_IMAGES, request_id=False, json={
        'spec': {'name': 'f', 'resources': {'image_type': 'DISK_IMAGE'}}})
    task_id = 'ZXJnb24=:' + resp.json()['status']['execution_context'][
        'task_uuid']
    task = tasks.get_task_by_id(task_id).data
    assert task.status == 'FAILED'
    assert isinstance(task.error_messages[0], prism.AppMessage)
    assert task.error_messages[0].message == 'boom'


def test_unknown_task_is_404(tasks):
    with pytest.raises(prism.rest.ApiException) as exc:
        tasks.get_task_by_id('ZXJnb24=:00000000-0000-0000-0000-000000000000')
    assert exc.value.status == 404
