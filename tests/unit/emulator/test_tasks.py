"""Task manager: modes, results, failures, interrupted tasks."""

import threading

import pytest

from nutanix_openstack.emulator import errors
from nutanix_openstack.emulator import state as state_mod
from nutanix_openstack.emulator import tasks as tasks_mod


@pytest.fixture
def state(tmp_path):
    s = state_mod.StateStore(str(tmp_path / 'state.sqlite'))
    yield s
    s.close()


def test_immediate_task_runs_before_submit_returns(state):
    manager = tasks_mod.TaskManager(state, mode='immediate',
                                    cluster_ext_id='c1')

    def work(ctx):
        ctx.progress(40)
        ctx.add_entity('new-id', 'vmm:content:image', 'n')
        ctx.add_detail('imageExtId', 'new-id')

    ext_id = manager.submit('CreateImage', work, [('e1', 'rel1')])
    assert ext_id.startswith('ZXJnb24=:')
    task = manager.get(ext_id)
    assert task['status'] == 'SUCCEEDED'
    assert task['progressPercentage'] == 100
    assert [e['extId'] for e in task['entitiesAffected']] == ['e1', 'new-id']
    assert task['numberOfEntitiesAffected'] == 2
    assert task['completionDetails'][0]['value'] == 'new-id'
    assert task['clusterExtIds'] == ['c1']
    assert task['createdTime'] <= task['startedTime'] <= \
        task['completedTime']


def test_api_error_fails_task_with_message_and_code(state):
    manager = tasks_mod.TaskManager(state)

    def work(ctx):
        raise errors.NotFound('gone', code='VMM-40401')

    task = manager.get(manager.submit('Op', work))
    assert task['status'] == 'FAILED'
    assert task['errorMessages'][0]['message'] == 'gone'
    assert task['errorMessages'][0]['code'] == 'VMM-40401'
    assert task['errorMessages'][0]['$objectType'] == \
        'prism.v4.error.AppMessage'


def test_unexpected_exception_fails_task(state):
    manager = tasks_mod.TaskManager(state)
    task = manager.get(manager.submit('Op', lambda ctx: 1 / 0))
    assert task['status'] == 'FAILED'
    assert 'division' in task['errorMessages'][0]['message']


def test_async_task_runs_in_background(state):
    manager = tasks_mod.TaskManager(state, mode='async')
    release = threading.Event()
    started = threading.Event()

    def work(ctx):
        ctx.progress(50)
        started.set()
        release.wait(10)

    ext_id = manager.submit('Op', work)
    started.wait(10)
    task = manager.get(ext_id)
    assert task['status'] == 'RUNNING'
    assert task['progressPercentage'] == 50
    release.set()
    manager.wait_idle()
    assert manager.get(ext_id)['status'] == 'SUCCEEDED'


def test_mode_is_stored_in_state(state):
    manager = tasks_mod.TaskManager(state, mode='immediate')
    manager.set_mode('async', 0.25)
    again = tasks_mod.TaskManager(state, mode='immediate')
    assert again.mode == 'async' and again.delay == 0.25
    with pytest.raises(errors.BadRequest):
        manager.set_mode('later')
    with pytest.raises(ValueError):
        tasks_mod.TaskManager(state, mode='later')


def test_interrupted_tasks_fail_on_restart(state):
    state.put(tasks_mod.KIND, 'ZXJnb24=:x', {
        'extId': 'ZXJnb24=:x', 'status': 'RUNNING',
        'createdTime': tasks_mod.now_iso()})
    state.put(tasks_mod.KIND, 'ZXJnb24=:y', {
        'extId': 'ZXJnb24=:y', 'status': 'SUCCEEDED'})
    manager = tasks_mod.TaskManager(state)
    assert manager.get('ZXJnb24=:x')['status'] == 'FAILED'
    assert manager.get('ZXJnb24=:y')['status'] == 'SUCCEEDED'


def test_fault_hook_fails_task_without_running_it(state):
    ran = []
    manager = tasks_mod.TaskManager(
        state, fault_hook=lambda op: 'injected' if op == 'Bad' else None)
    task = manager.get(manager.submit('Bad', lambda ctx: ran.append(1)))
    assert task['status'] == 'FAILED' and not ran
    assert task['errorMessages'][0]['message'] == 'injected'
    assert manager.get(manager.submit('Good', lambda ctx: None))[
        'status'] == 'SUCCEEDED'


def test_cancel_pending_drops_delayed_tasks(state):
    import time
    manager = tasks_mod.TaskManager(state, mode='async', delay=30)
    ran = []
    manager.submit('Slow', lambda ctx: ran.append(1))
    start = time.monotonic()
    manager.cancel_pending(timeout=10)
    assert time.monotonic() - start < 5
    assert ran == []
    # Tasks submitted afterwards run normally.
    manager.set_mode('async', 0.01)
    ext_id = manager.submit('Fast', lambda ctx: ran.append(2))
    manager.wait_idle()
    assert ran == [2]
    assert manager.get(ext_id)['status'] == 'SUCCEEDED'


def test_async_tasks_beyond_the_pool_wait_queued(state):
    manager = tasks_mod.TaskManager(state, mode='async', threads=2)
    release = threading.Event()
    started = threading.Semaphore(0)

    def work(ctx):
        started.release()
        assert release.wait(30)

    ids = [manager.submit('Op', work) for _ in range(5)]
    try:
        assert started.acquire(timeout=10) and started.acquire(timeout=10)
        statuses = sorted(manager.get(i)['status'] for i in ids)
        assert statuses == ['QUEUED'] * 3 + ['RUNNING'] * 2
    finally:
        release.set()
    manager.wait_idle(30)
    assert [manager.get(i)['status'] for i in ids] == ['SUCCEEDED'] * 5
    manager.close()
