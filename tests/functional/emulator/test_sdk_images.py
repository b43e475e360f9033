"""The official vmm SDK (images API) against the emulator."""

import os
import uuid

import ntnx_vmm_py_client as vmm
import pytest

from nutanix_openstack.emulator import fixture as emu_fixture
from tests.functional.emulator import helpers


@pytest.fixture
def images(emulator, tmp_path):
    return vmm.ImagesApi(helpers.sdk_client(vmm, emulator, tmp_path))


def _url_image(api, name, image_type='DISK_IMAGE'):
    ext_id = api.upload_image(b'sdk' * 1000, name='src-' + name)
    source = vmm.UrlSource(
        url=api.url('%s/%s/file' % (helpers.V4_IMAGES, ext_id)),
        basic_auth=vmm.UrlBasicAuth(username=api.emulator.username,
                                    password=api.emulator.password))
    return vmm.Image(name=name, type=image_type, source=source)


def test_create_get_list_update_delete(api, images):
    created = images.create_image(_url_image(api, 'sdk-img'))
    assert isinstance(created.data, vmm.TaskReference)
    task = api.wait_task(created.data.ext_id)
    assert task['status'] == 'SUCCEEDED'
    ext_id = task['entitiesAffected'][0]['extId']

    got = images.get_image_by_id(ext_id)
    assert isinstance(got.data, vmm.Image)
    assert got.data.name == 'sdk-img'
    assert got.data.size_bytes == 3000
    assert got.data.type == 'DISK_IMAGE'
    assert isinstance(got.data.source, vmm.UrlSource)
    # The SDK copies the ETag header into $reserved.
    assert vmm.ApiClient.get_etag(got.data)

    listed = images.list_images(_filter="name eq 'sdk-img'")
    assert [i.ext_id for i in listed.data] == [ext_id]
    assert listed.metadata.total_available_results == 1
    paged = images.list_images(_limit=1, _page=1, _orderby='name')
    assert len(paged.data) == 1

    # The SDK sends If-Match from the object it read.
    got.data.name = 'sdk-renamed'
    got.data.description = 'via sdk'
    updated = images.update_image_by_id(ext_id, got.data)
    assert api.wait_task(updated.data.ext_id)['status'] == 'SUCCEEDED'
    assert images.get_image_by_id(ext_id).data.name == 'sdk-renamed'

    deleted = images.delete_image_by_id(ext_id)
    assert api.wait_task(deleted.data.ext_id)['status'] == 'SUCCEEDED'
    with pytest.raises(vmm.rest.ApiException) as exc:
        images.get_image_by_id(ext_id)
    assert exc.value.status == 404


def test_stale_etag_is_refused_through_sdk(api, images):
    ext_id = api.upload_image(b'e' * 10, name='stale')
    first = images.get_image_by_id(ext_id).data
    second = images.get_image_by_id(ext_id).data
    first.name = 'one'
    api.wait_task(images.update_image_by_id(ext_id, first).data.ext_id)
    second.name = 'two'
    with pytest.raises(vmm.rest.ApiException) as exc:
        images.update_image_by_id(ext_id, second)
    assert exc.value.status == 412
    assert api.image(ext_id)['name'] == 'one'


def test_request_id_header_makes_sdk_create_idempotent(api, images):
    body = _url_image(api, 'once')
    request_id = str(uuid.uuid4())
    first = images.create_image(body, **{'NTNX-Request-Id': request_id})
    second = images.create_image(body, **{'NTNX-Request-Id': request_id})
    assert first.data.ext_id == second.data.ext_id
    found = images.list_images(_filter="name eq 'once'")
    assert len(found.data) == 1


def test_download_file(api, images, tmp_path):
    data = os.urandom(300000)
    ext_id = api.upload_image(data, name='dl')
    resp = images.get_file_by_image_id(ext_id)
    path = resp.data['path']
    assert str(path).startswith(str(tmp_path))
    with open(path, 'rb') as f:
        assert f.read() == data


def test_error_body_parses(images):
    with pytest.raises(vmm.rest.ApiException) as exc:
        images.get_image_by_id(str(uuid.uuid4()))
    import json
    body = json.loads(exc.value.body)
    err = vmm.ApiClient().deserialize(body['data'],
                                      'vmm.v4.error.ErrorResponse')
    assert isinstance(err.error[0], vmm.AppMessage)
    assert err.error[0].code == 'VMM-40401'


def test_sdk_over_https_without_verification(tmp_path):
    fix = emu_fixture.EmulatorFixture(tls=True)
    fix.setUp()
    try:
        api = helpers.Api(fix)
        ext_id = api.upload_image(b't' * 100, name='tls-sdk')
        images = vmm.ImagesApi(helpers.sdk_client(vmm, fix, tmp_path))
        assert images.get_image_by_id(ext_id).data.name == 'tls-sdk'
    finally:
        fix.cleanUp()
