"""The v4 HTTP conventions the emulator honours, over real HTTP."""

import uuid

import requests

from tests.functional.emulator import helpers

CLUSTERS = '/api/clustermgmt/v4.3/config/clusters'
HOSTS = '/api/clustermgmt/v4.3/config/hosts'
CONTAINERS = '/api/clustermgmt/v4.3/config/storage-containers'


def test_requests_without_credentials_get_401_with_v4_error(emulator):
    resp = requests.get(emulator.endpoint + CLUSTERS, timeout=10)
    assert resp.status_code == 401
    assert resp.headers['WWW-Authenticate'].startswith('Basic')
    err = helpers.error_of(resp)
    assert err['$objectType'] == 'clustermgmt.v4.error.AppMessage'
    assert err['severity'] == 'ERROR'
    assert err['code'] == 'CLUSTERMGMT-40100'


def test_wrong_password_gets_401_everywhere(emulator):
    for path in (CLUSTERS, helpers.V4_IMAGES, '/_emulator/v1/inventory',
                 '/api/nutanix/v3/tasks/x'):
        resp = requests.get(emulator.endpoint + path, timeout=10,
                            auth=(emulator.username, 'wrong'))
        assert resp.status_code == 401, path


def test_any_v4_minor_version_is_served(api):
    for version in ('v4.0', 'v4.1', 'v4.2', 'v4.3', 'v4.4'):
        resp = api.get('/api/clustermgmt/%s/config/clusters' % version)
        assert resp.status_code == 200, version
    assert api.get('/api/clustermgmt/v5.0/config/clusters').status_code == \
        404


def test_unknown_path_and_entity_get_404_v4_body(api):
    resp = api.get('/api/vmm/v4.3/content/nothing-here')
    assert resp.status_code == 404
    assert helpers.error_of(resp)['$objectType'] == 'vmm.v4.error.AppMessage'
    resp = api.get(helpers.V4_IMAGES + '/' + str(uuid.uuid4()))
    assert resp.status_code == 404
    body = resp.json()
    assert body['data']['$objectType'] == 'vmm.v4.error.ErrorResponse'
    assert 'does not exist' in body['data']['error'][0]['message']


def test_list_envelope_and_pagination(api):
    resp = api.get(HOSTS, params={'$limit': 1, '$page': 0})
    body = resp.json()
    assert body['$objectType'] == \
        'clustermgmt.v4.config.ListHostsApiResponse'
    assert len(body['data']) == 1
    assert body['metadata']['totalAvailableResults'] == 2
    rels = {link['rel'] for link in body['metadata']['links']}
    assert {'self', 'first', 'last', 'next'} <= rels
    assert 'prev' not in rels
    second = api.get(HOSTS, params={'$limit': 1, '$page': 1}).json()
    assert second['data'][0]['extId'] != body['data'][0]['extId']
    # Past the end: no data key at all, like the real API.
    past = api.get(HOSTS, params={'$limit': 1, '$page': 5}).json()
    assert 'data' not in past
    assert past['metadata']['totalAvailableResults'] == 2


def test_bad_pagination_values_get_400(api):
    assert api.get(HOSTS, params={'$limit': 0}).status_code == 400
    assert api.get(HOSTS, params={'$limit': 'x'}).status_code == 400
    assert api.get(HOSTS, params={'$page': -1}).status_code == 400


def test_filters(api):
    def names(flt):
        resp = api.get(CONTAINERS, params={'$filter': flt})
        assert resp.status_code == 200, resp.text
        return sorted(c['name'] for c in resp.json().get('data', []))

    assert names("name eq 'default-container'") == ['default-container']
    assert names("name ne 'default-container'") == ['SelfServiceContainer']
    assert names("startswith(name, 'Self')") == ['SelfServiceContainer']
    assert names("contains(name, 'container')") == ['default-container']
    assert names("name eq 'x' or name eq 'default-container'") == \
        ['default-container']
    assert names("name eq 'default-container' and isShared eq true") == []
    assert names("extId in ('%s')" % api.emulator.container_ext_id) == \
        ['default-container']
    assert names("not (name eq 'default-container')") == \
        ['SelfServiceContainer']
    assert api.get(CONTAINERS, params={'$filter': "name eq"}).status_code \
        == 400
    assert api.get(CONTAINERS,
                   params={'$filter': "name gt 'a'"}).status_code == 400


def test_orderby(api):
    resp = api.get(HOSTS, params={'$orderby': 'hostName desc'})
    names = [h['hostName'] for h in resp.json()['data']]
    assert names == sorted(names, reverse=True)
    resp = api.get(HOSTS, params={'$orderby': 'hostName'})
    assert [h['hostName'] for h in resp.json()['data']] == sorted(names)


def test_v4_writes_need_request_id(api):
    resp = api.post(helpers.V4_IMAGES, request_id=False, json={})
    assert resp.status_code == 400
    assert 'NTNX-Request-Id' in helpers.error_of(resp)['message']


def test_etag_required_and_checked_on_update(api):
    ext_id = api.upload_image(b'a' * 1000, name='etag')
    resp = api.get(helpers.V4_IMAGES + '/' + ext_id)
    etag = resp.headers['ETag']
    image = resp.json()['data']
    assert image['$reserved']['$fv']
    image['name'] = 'renamed'
    path = helpers.V4_IMAGES + '/' + ext_id
    no_etag = api.put(path, json=image)
    assert no_etag.status_code == 428
    wrong = api.put(path, json=image, headers={'If-Match': 'stale'})
    assert wrong.status_code == 412
    assert api.image(ext_id)['name'] == 'etag'
    ok = api.put(path, json=image, headers={'If-Match': etag})
    assert api.wait_task(api.accepted_task(ok))['status'] == 'SUCCEEDED'
    assert api.image(ext_id)['name'] == 'renamed'
    # The old ETag is now stale.
    again = api.put(path, json=image, headers={'If-Match': etag})
    assert again.status_code == 412
    assert api.get(path).headers['ETag'] != etag


def test_repeated_request_id_returns_same_task_and_creates_nothing(api):
    source = api.upload_image(b'b' * 4096, name='src')
    url = api.url('%s/%s/file' % (helpers.V4_IMAGES, source))
    body = {'name': 'dup', 'type': 'DISK_IMAGE',
            'source': {'$objectType': 'vmm.v4.content.UrlSource',
                       'url': url,
                       'basicAuth': {'username': api.emulator.username,
                                     'password': api.emulator.password}}}
    request_id = str(uuid.uuid4())
    first = api.post(helpers.V4_IMAGES, request_id=request_id, json=body)
    second = api.post(helpers.V4_IMAGES, request_id=request_id, json=body)
    assert first.status_code == second.status_code == 202
    assert first.json()['data']['extId'] == second.json()['data']['extId']
    api.wait_task(first.json()['data']['extId'])
    dups = api.get(helpers.V4_IMAGES,
                   params={'$filter': "name eq 'dup'"}).json()['data']
    assert len(dups) == 1
    # Same id on another path is a client bug: 409, nothing done.
    other = api.delete(helpers.V4_IMAGES + '/' + source,
                       request_id=request_id)
    assert other.status_code == 409
    assert api.image(source)['name'] == 'src'


def test_failed_write_does_not_burn_its_request_id(api):
    request_id = str(uuid.uuid4())
    bad = api.post(helpers.V4_IMAGES, request_id=request_id,
                   json={'name': 'x', 'type': 'BOGUS'})
    assert bad.status_code == 400
    good_source = api.upload_image(b'c' * 100, name='s2')
    url = api.url('%s/%s/file' % (helpers.V4_IMAGES, good_source))
    retry = api.post(helpers.V4_IMAGES, request_id=request_id, json={
        'name': 'x', 'type': 'DISK_IMAGE',
        'source': {'$objectType': 'vmm.v4.content.UrlSource', 'url': url,
                   'basicAuth': {'username': api.emulator.username,
                                 'password': api.emulator.password}}})
    assert retry.status_code == 202


def test_immediate_tasks_are_done_when_202_returns(api):
    ext_id = api.upload_image(b'd' * 10, name='t')
    resp = api.delete(helpers.V4_IMAGES + '/' + ext_id)
    task = api.task(api.accepted_task(resp))
    assert task['status'] == 'SUCCEEDED'
    assert task['progressPercentage'] == 100
    assert task['entitiesAffected'][0]['extId'] == ext_id
    assert task['$objectType'] == 'prism.v4.config.Task'
    assert api.get(helpers.V4_IMAGES + '/' + ext_id).status_code == 404


def test_async_tasks_progress_through_states(async_api):
    api = async_api
    api.emulator.admin.set_task_mode('async', delay=0.5)
    resp = api.post(helpers.V3_IMAGES, request_id=False, json={
        'spec': {'name': 'slow', 'resources': {'image_type': 'ISO_IMAGE'}},
        'metadata': {'kind': 'image'}})
    task_id = 'ZXJnb24=:' + resp.json()['status']['execution_context'][
        'task_uuid']
    seen = api.task(task_id)
    assert seen['status'] in ('QUEUED', 'RUNNING')
    assert 'completedTime' not in seen
    done = api.wait_task(task_id)
    assert done['status'] == 'SUCCEEDED'
    assert done['completedTime'] >= done['createdTime']
    assert api.image(resp.json()['metadata']['uuid'])['type'] == 'ISO_IMAGE'


def test_task_listing_and_v3_task(api):
    ext_id = api.upload_image(b'e' * 10, name='v3t')
    tasks = api.get(helpers.TASKS).json()
    assert tasks['metadata']['totalAvailableResults'] >= 2
    task = tasks['data'][0]
    flt = "status eq 'SUCCEEDED'"
    filtered = api.get(helpers.TASKS, params={'$filter': flt}).json()
    assert all(t['status'] == 'SUCCEEDED' for t in filtered['data'])
    uuid_part = task['extId'].split(':', 1)[1]
    v3 = api.get('/api/nutanix/v3/tasks/' + uuid_part).json()
    assert v3['uuid'] == uuid_part
    assert v3['status'] == 'SUCCEEDED'
    assert v3['percentage_complete'] == 100
    assert ext_id in [r['uuid'] for r in v3['entity_reference_list']]
    assert api.get('/api/nutanix/v3/tasks/%s' % uuid.uuid4()).status_code \
        == 404


def test_clusters_hosts_containers(api):
    clusters = api.get(CLUSTERS).json()['data']
    functions = {c['name']: c['config']['clusterFunction'] for c in clusters}
    assert ['PRISM_CENTRAL'] in functions.values()
    pe = [c for c in clusters if c['extId'] == api.emulator.cluster_ext_id]
    assert pe[0]['network']['externalDataServiceIp']['ipv4']['value']
    resp = api.get('%s/%s' % (CLUSTERS, api.emulator.cluster_ext_id))
    assert resp.json()['data']['name'] == pe[0]['name']
    hosts = api.get('%s/%s/hosts' % (CLUSTERS,
                                     api.emulator.cluster_ext_id)).json()
    host = hosts['data'][0]
    assert host['memorySizeBytes'] > 0 and host['numberOfCpuCores'] > 0
    one = api.get('%s/%s/hosts/%s' % (CLUSTERS, api.emulator.cluster_ext_id,
                                      host['extId']))
    assert one.json()['data']['hostName'] == host['hostName']
    assert api.get('%s/%s/hosts/%s' % (CLUSTERS, uuid.uuid4(),
                                       host['extId'])).status_code == 404
    container = api.get('%s/%s' % (CONTAINERS,
                                   api.emulator.container_ext_id)).json()
    assert container['data']['name'] == api.emulator.container_name
    assert container['data']['maxCapacityBytes'] > 0


def test_container_used_bytes_are_real(api):
    stats_path = '/api/clustermgmt/v4.3/stats/storage-containers/%s' % (
        api.emulator.container_ext_id)
    params = {'$startTime': '2026-01-01T00:00:00Z',
              '$endTime': '2026-01-01T00:05:00Z'}
    before = api.get(stats_path, params=params).json()['data']
    used_before = before['storageUsageBytes'][0]['value']
    api.upload_image(b'\x01' * (3 * 1024 * 1024), name='fill')
    after = api.get(stats_path, params=params).json()['data']
    assert after['storageUsageBytes'][0]['value'] - used_before >= \
        3 * 1024 * 1024
    assert after['storageFreeBytes'][0]['value'] < \
        before['storageFreeBytes'][0]['value']
