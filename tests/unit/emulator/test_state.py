"""The SQLite entity store."""

import threading

import pytest

from nutanix_openstack.emulator import state as state_mod


@pytest.fixture
def store(tmp_path):
    s = state_mod.StateStore(str(tmp_path / 'state.sqlite'))
    yield s
    s.close()


def test_put_get_list_delete(store):
    etag1 = store.put('image', 'a', {'extId': 'a', 'name': 'one'})
    store.put('image', 'b', {'extId': 'b', 'name': 'two'})
    store.put('vm', 'c', {'extId': 'c'})
    assert store.get('image', 'a')['name'] == 'one'
    assert store.get('image', 'zzz') is None
    assert [b['extId'] for b in store.list('image')] == ['a', 'b']
    assert [b['extId'] for b in store.list(
        'image', where=lambda b: b['name'] == 'two')] == ['b']
    etag2 = store.put('image', 'a', {'extId': 'a', 'name': 'uno'})
    record = store.get_record('image', 'a')
    assert etag2 != etag1 and record.etag == etag2 and record.version == 2
    assert record.updated >= record.created
    assert store.kinds() == ['image', 'vm']
    assert store.count('image') == 2
    assert store.delete('image', 'a') is True
    assert store.delete('image', 'a') is False


def test_require_record_raises_the_resources_own_not_found(store):
    store.put('image', 'a', {'extId': 'a'})
    assert store.require_record('image', 'a', KeyError).body == {'extId': 'a'}

    class Gone(Exception):
        pass
    with pytest.raises(Gone) as info:
        store.require_record('image', 'zzz', Gone)
    assert info.value.args == ('zzz',)


def test_transaction_rolls_back(store):
    store.put('image', 'a', {'v': 1})
    with pytest.raises(RuntimeError):
        with store.transaction():
            store.put('image', 'a', {'v': 2})
            store.put('image', 'b', {'v': 3})
            # Nested blocks join the outer transaction.
            with store.transaction():
                store.delete('image', 'a')
            raise RuntimeError('boom')
    assert store.get('image', 'a') == {'v': 1}
    assert store.get('image', 'b') is None


def test_update_is_atomic_across_threads(store):
    store.put('counter', 'x', {'n': 0})

    def bump():
        for _ in range(25):
            store.update('counter', 'x',
                         lambda body: body.update(n=body['n'] + 1))

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.get('counter', 'x')['n'] == 100
    assert store.update('counter', 'missing', lambda b: None) is None


def test_request_ids(store):
    assert store.claim_request('r1', 'POST', '/p') is None
    pending = store.claim_request('r1', 'POST', '/p')
    assert pending == (None, None, 'POST', '/p')
    store.complete_request('r1', 202, '{"x": 1}')
    done = store.claim_request('r1', 'POST', '/p')
    assert done == (202, '{"x": 1}', 'POST', '/p')
    assert store.claim_request('r2', 'PUT', '/q') is None
    store.release_request('r2')
    assert store.claim_request('r2', 'PUT', '/q') is None


def test_survives_reopen_and_reset(tmp_path):
    path = str(tmp_path / 's.sqlite')
    s = state_mod.StateStore(path)
    s.put('image', 'a', {'x': 1})
    s.set_setting('task_mode', 'async')
    s.close()
    s = state_mod.StateStore(path)
    assert s.get('image', 'a') == {'x': 1}
    assert s.get_setting('task_mode') == 'async'
    assert s.get_setting('nothing', 'dflt') == 'dflt'
    s.reset()
    assert s.kinds() == [] and s.get_setting('task_mode') is None
    s.close()


def test_list_json_items_walks_arrays_of_one_kind(store):
    store.put('vm', 'a', {'nics': [{'extId': 'n1'}, {'extId': 'n2'}]})
    store.put('vm', 'b', {'nics': None})
    store.put('vm', 'c', {})
    store.put('vm', 'd', {'nics': {'extId': 'not-a-list'}})
    store.put('image', 'e', {'nics': [{'extId': 'other-kind'}]})
    assert store.list_json_items('vm', '$.nics') == [
        ('a', {'extId': 'n1'}), ('a', {'extId': 'n2'})]


def test_ext_ids_with_field_finds_nested_values_of_one_kind(store):
    store.put('vm', 'a', {'disks': [{'extId': 'd1'}, {'extId': 'd2'}]})
    store.put('vm', 'b', {'disks': [{'backingInfo': {'extId': 'd1'}}]})
    store.put('vm', 'c', {'disks': [{'extId': 'd3'}], 'extId': 'c'})
    store.put('volume_group', 'g', {'_disks': [{'extId': 'd1'}]})
    assert sorted(store.ext_ids_with_field('vm', 'extId', 'd1')) == [
        'a', 'b']
    assert store.ext_ids_with_field('vm', 'extId', 'd3') == ['c']
    assert store.ext_ids_with_field('vm', 'extId', 'zz') == []
    assert store.ext_ids_with_field('vm', 'name', 'd1') == []
