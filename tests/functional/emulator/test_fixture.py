"""The EmulatorFixture contract other teams' tests rely on."""

import os

from nutanix_openstack.emulator import fixture as emu_fixture


def test_fixture_attributes(emulator):
    assert emulator.endpoint.startswith('http://127.0.0.1:')
    assert emulator.username and emulator.password
    assert emulator.cluster_ext_id and emulator.container_ext_id
    assert emulator.container_name == 'default-container'
    assert isinstance(emulator.admin, emu_fixture.AdminClient)


def test_prism_client_round_trip(emulator):
    client = emulator.prism_client()
    clusters = client.clusters.list_clusters()
    assert emulator.cluster_ext_id in [c['extId'] for c in clusters]
    image = client.images.create_for_upload('fixture-image')
    data = os.urandom(200000)
    client.images.upload(image['extId'], iter([data]), size=len(data))
    assert b''.join(client.images.download(image['extId'])) == data
    assert emulator.admin.read_disk(image['extId'], 0, 16) == data[:16]
    client.images.delete(image['extId'])
    assert 'image' not in emulator.admin.inventory()['objects']


def test_async_fixture_with_prism_client(async_emulator):
    async_emulator.admin.set_task_mode('async', delay=0.2)
    client = async_emulator.prism_client()
    image = client.images.create_for_upload('async-image')
    assert image['sizeBytes'] == 0


def test_a_slow_request_does_not_hold_up_others(emulator):
    import concurrent.futures
    import time

    import requests

    emulator.admin.add_fault(method='GET', path='/clusters$', latency=3,
                             times=1)
    url = emulator.endpoint + '/api/clustermgmt/v4.3/config/'
    auth = (emulator.username, emulator.password)
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        slow = pool.submit(requests.get, url + 'clusters', auth=auth,
                           timeout=30)
        time.sleep(0.3)
        start = time.monotonic()
        for _ in range(5):
            assert requests.get(url + 'storage-containers', auth=auth,
                                timeout=30).status_code == 200
        assert time.monotonic() - start < 2.5
        assert slow.result().status_code == 200


def test_chunked_upload_of_small_pieces_is_exact(emulator):
    import os

    import requests

    c = emulator.prism_client()
    image = c.images.create_for_upload('chunked')
    pieces = [os.urandom(1000 + i) for i in range(2000)]
    resp = requests.put(
        emulator.endpoint + '/api/nutanix/v3/images/%s/file'
        % image['extId'], data=iter(pieces),
        auth=(emulator.username, emulator.password), timeout=120,
        headers={'Content-Type': 'application/octet-stream'})
    assert resp.status_code == 202
    assert emulator.admin.read_disk(image['extId']) == b''.join(pieces)
