"""Restart after a crash: nothing unacknowledged is left (reconcile.py)."""

import pytest

from nutanix_openstack.emulator import reconcile
from nutanix_openstack.emulator import state as state_mod
from nutanix_openstack.emulator import storage
from nutanix_openstack.emulator import tasks as tasks_mod

MiB = 1024 * 1024


@pytest.fixture
def stores(tmp_path):
    state = state_mod.StateStore(str(tmp_path / 'state.sqlite'))
    disks = storage.DiskStore(str(tmp_path / 'disks'), chunk_size=MiB)
    yield state, disks
    disks.close()
    state.close()


def _disk(disks, disk_id, data=b'x' * 1000):
    disks.create(disk_id, len(data))
    disks.write(disk_id, 0, data)


def _reconcile(state, disks):
    manager = tasks_mod.TaskManager(state, recover=False)
    return reconcile.reconcile(state, disks, manager)


def test_every_kind_of_owner_keeps_its_disks(stores):
    state, disks = stores
    owners = {
        'image': ('img-1', {'extId': 'img-1', 'name': 'i'}),
        'vm': ('vm-1', {'extId': 'vm-1', 'disks': [
            {'extId': 'vmd-1', 'backingInfo': {'vmDiskExtId': 'vmd-1'}}]}),
        'volume_group': ('vg-1', {'extId': 'vg-1', '_disks': [
            {'extId': 'vgd-1'}, {'extId': 'vgd-2'}]}),
        'recovery_point': ('rp-1', {'extId': 'rp-1', 'vmRecoveryPoints': [
            {'diskRecoveryPoints': [{'diskRecoveryPointExtId': 'drp-1'}]}]}),
    }
    for kind, (ext_id, body) in owners.items():
        state.put(kind, ext_id, body)
    owned = ['img-1', 'vmd-1', 'vgd-1', 'vgd-2', 'drp-1']
    for disk_id in owned + ['orphan-1', 'orphan-2']:
        _disk(disks, disk_id)
    # A task naming a disk does not own it.
    state.put(tasks_mod.KIND, 't-1', {'extId': 't-1', 'status': 'FAILED',
                                      'entitiesAffected': [
                                          {'extId': 'orphan-2'}]})
    before = disks.stats()['bytes_stored']
    report = _reconcile(state, disks)
    assert sorted(disks.list_disks()) == sorted(owned)
    assert report['disks_collected'] == 2
    assert disks.stats()['bytes_stored'] < before


def test_in_flight_upload_is_removed_with_its_disk(stores):
    state, disks = stores
    state.put('image', 'img-up', {'extId': 'img-up', 'name': 'half',
                                  'sizeBytes': 0})
    state.begin_in_flight('image', 'img-up', 'upload', ['img-up'])
    _disk(disks, 'img-up', b'partial bytes')
    state.put('image', 'img-done', {'extId': 'img-done', 'name': 'done'})
    state.begin_in_flight('image', 'img-done', 'upload', ['img-done'])
    state.end_in_flight('image', 'img-done')
    _disk(disks, 'img-done')
    report = _reconcile(state, disks)
    assert state.get('image', 'img-up') is None
    assert state.get('image', 'img-done') is not None
    assert disks.list_disks() == ['img-done']
    assert state.list_in_flight() == []
    assert report['in_flight_removed'] == 1


def test_running_tasks_fail_and_unfinished_requests_are_released(stores):
    state, disks = stores
    for ext_id, status in (('q', 'QUEUED'), ('r', 'RUNNING'),
                           ('s', 'SUCCEEDED')):
        state.put(tasks_mod.KIND, ext_id, {'extId': ext_id,
                                           'status': status})
    state.claim_request('rid-open', 'POST', '/x')
    state.claim_request('rid-done', 'POST', '/x')
    state.complete_request('rid-done', 202, '{}')
    report = _reconcile(state, disks)
    assert report['tasks_failed'] == 2
    for ext_id in ('q', 'r'):
        task = state.get(tasks_mod.KIND, ext_id)
        assert task['status'] == 'FAILED'
        assert task['errorMessages'][0]['code'] == 'PRISM-50001'
        assert task['errorMessages'][0]['$objectType'] == \
            'prism.v4.error.AppMessage'
    assert state.get(tasks_mod.KIND, 's')['status'] == 'SUCCEEDED'
    assert state.claim_request('rid-open', 'POST', '/x') is None
    assert state.claim_request('rid-done', 'POST', '/x')[0] == 202


def test_a_shared_store_keeps_unowned_disks(stores):
    state, disks = stores
    _disk(disks, 'someone-elses')
    manager = tasks_mod.TaskManager(state, recover=False)
    reconcile.reconcile(state, disks, manager, collect_unowned=False)
    assert disks.list_disks() == ['someone-elses']
