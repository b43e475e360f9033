"""Injected faults are real on the wire."""

import http.client
import os
import time
import urllib.parse

import pytest
import requests

from tests.functional.emulator import helpers

CLUSTERS = '/api/clustermgmt/v4.3/config/clusters'


def test_status_fault_with_v4_body_and_times(api):
    api.emulator.admin.add_fault(method='GET', path='/config/clusters$',
                                 status=503, times=2)
    for _ in range(2):
        resp = api.get(CLUSTERS)
        assert resp.status_code == 503
        assert helpers.error_of(resp)['$objectType'] == \
            'clustermgmt.v4.error.AppMessage'
    assert api.get(CLUSTERS).status_code == 200
    assert api.emulator.admin.list_faults() == []


def test_fault_matches_method(api):
    api.emulator.admin.add_fault(method='POST', path='content/images',
                                 status=500)
    assert api.get(helpers.V4_IMAGES).status_code == 200
    resp = api.post(helpers.V4_IMAGES, json={})
    assert resp.status_code == 500
    api.emulator.admin.clear_faults()
    assert api.post(helpers.V4_IMAGES, json={}).status_code == 400


def test_latency_fault(api):
    api.emulator.admin.add_fault(path='/config/hosts', latency=0.4, times=1)
    start = time.monotonic()
    resp = api.get('/api/clustermgmt/v4.3/config/hosts')
    assert resp.status_code == 200
    assert time.monotonic() - start >= 0.4
    start = time.monotonic()
    api.get('/api/clustermgmt/v4.3/config/hosts')
    assert time.monotonic() - start < 0.4


def test_latency_fault_triggers_client_read_timeout(api):
    api.emulator.admin.add_fault(path='/config/hosts', latency=1.0, times=1)
    with pytest.raises(requests.exceptions.ReadTimeout):
        api.get('/api/clustermgmt/v4.3/config/hosts', timeout=0.3)


def test_dropped_connection_mid_body(api):
    data = os.urandom(2 * 1024 * 1024)
    ext_id = api.upload_image(data, name='drop')
    path = '%s/%s/file' % (helpers.V4_IMAGES, ext_id)
    api.emulator.admin.add_fault(method='GET', path=path + '$',
                                 drop_after_bytes=100000, times=1)
    # Low level: the status line and headers arrive with the full length,
    # then exactly 100000 bytes, then the connection is gone.
    url = urllib.parse.urlparse(api.endpoint)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    auth = requests.auth._basic_auth_str(api.emulator.username,
                                         api.emulator.password)
    conn.request('GET', path, headers={'Authorization': auth})
    resp = conn.getresponse()
    assert resp.status == 200
    assert int(resp.getheader('Content-Length')) == len(data)
    with pytest.raises(http.client.IncompleteRead) as exc:
        resp.read()
    assert len(exc.value.partial) == 100000
    assert exc.value.partial == data[:100000]
    conn.close()
    # The fault was used up: the next download is whole.
    assert api.image_bytes(ext_id) == data


def test_dropped_connection_seen_by_requests(api):
    api.emulator.admin.add_fault(path='/config/clusters$',
                                 drop_after_bytes=10, times=1)
    # urllib3 1.x does not enforce Content-Length: what a client sees is
    # fewer bytes than announced (its own check must catch it).
    resp = api.get(CLUSTERS)
    assert len(resp.content) == 10
    assert int(resp.headers['Content-Length']) > 10
    with pytest.raises(ValueError):
        resp.json()


def test_failing_task_fault(api):
    api.emulator.admin.add_fault(path='content/images', method='DELETE',
                                 fail_task='disk on fire', times=1)
    ext_id = api.upload_image(b'z' * 100, name='keep')
    resp = api.delete(helpers.V4_IMAGES + '/' + ext_id)
    task = api.wait_task(api.accepted_task(resp))
    assert task['status'] == 'FAILED'
    assert task['errorMessages'][0]['message'] == 'disk on fire'
    # The failed task did nothing; the next one works.
    assert api.image(ext_id)['name'] == 'keep'
    resp = api.delete(helpers.V4_IMAGES + '/' + ext_id)
    assert api.wait_task(api.accepted_task(resp))['status'] == 'SUCCEEDED'


def test_failing_task_fault_by_operation_in_async_mode(async_api):
    api = async_api
    api.emulator.admin.add_fault(path='^CreateImage$', fail_task='no space')
    resp = api.post(helpers.V3_IMAGES, request_id=False, json={
        'spec': {'name': 'x', 'resources': {'image_type': 'DISK_IMAGE'}}})
    task = api.wait_task('ZXJnb24=:' + resp.json()['status'][
        'execution_context']['task_uuid'])
    assert task['status'] == 'FAILED'
    assert task['errorMessages'][0]['message'] == 'no space'
    assert api.get(helpers.V4_IMAGES + '/' +
                   resp.json()['metadata']['uuid']).status_code == 404


def test_invalid_faults_are_rejected(api):
    resp = api.session.post(api.url('/_emulator/v1/faults'),
                            json={'path': '('})
    assert resp.status_code == 400
    resp = api.session.post(api.url('/_emulator/v1/faults'),
                            json={'path': 'x'})
    assert resp.status_code == 400
    resp = api.session.post(api.url('/_emulator/v1/faults'),
                            json={'path': 'x', 'status': 200})
    assert resp.status_code == 400
    resp = api.session.post(api.url('/_emulator/v1/faults'),
                            json={'bogus': 1})
    assert resp.status_code == 400


def test_admin_api_is_never_faulted(api):
    api.emulator.admin.add_fault(path='.*', status=500)
    assert api.emulator.admin.inventory()['objects']
    api.emulator.admin.clear_faults()


def test_failing_task_fault_by_path_in_async_mode(async_api):
    api = async_api
    api.emulator.admin.add_fault(path='/content/images/', method='DELETE',
                                 fail_task='locked', times=1)
    ext_id = api.upload_image(b'q' * 10, name='locked')
    task = api.wait_task(api.accepted_task(
        api.delete(helpers.V4_IMAGES + '/' + ext_id)))
    assert task['status'] == 'FAILED'
    assert task['errorMessages'][0]['message'] == 'locked'
    assert api.image(ext_id)['name'] == 'locked'


def test_lost_answer_then_retry_with_same_request_id(api):
    """The write happens, its answer is lost; the retry creates nothing."""
    source = api.upload_image(b's' * 1000, name='src')
    body = {'name': 'once', 'type': 'DISK_IMAGE',
            'source': {'$objectType': 'vmm.v4.content.UrlSource',
                       'url': api.url('%s/%s/file' % (helpers.V4_IMAGES,
                                                      source)),
                       'basicAuth': {'username': api.emulator.username,
                                     'password': api.emulator.password}}}
    api.emulator.admin.add_fault(method='POST', path='/content/images$',
                                 drop_after_bytes=0, times=1)
    request_id = 'retry-' + source
    lost = api.post(helpers.V4_IMAGES, request_id=request_id, json=body)
    # Headers came, then the connection died: no task reference to read.
    assert lost.status_code == 202 and lost.content == b''
    retry = api.post(helpers.V4_IMAGES, request_id=request_id, json=body)
    assert retry.status_code == 202
    task = api.wait_task(retry.json()['data']['extId'])
    assert task['status'] == 'SUCCEEDED'
    found = api.get(helpers.V4_IMAGES,
                    params={'$filter': "name eq 'once'"}).json()['data']
    assert len(found) == 1
