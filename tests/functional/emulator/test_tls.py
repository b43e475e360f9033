"""HTTPS with a self-signed certificate made by the test."""

import requests

from nutanix_openstack.emulator import fixture as emu_fixture
from tests.functional.emulator import helpers


def test_https_with_ca_file_and_insecure():
    fix = emu_fixture.EmulatorFixture(tls=True)
    fix.setUp()
    try:
        assert fix.endpoint.startswith('https://')
        api = helpers.Api(fix, verify=fix.ca_file)
        data = b'secret bytes' * 1000
        ext_id = api.upload_image(data, name='tls')
        assert api.image_bytes(ext_id) == data
        # Without the CA the certificate is refused...
        try:
            requests.get(fix.endpoint + helpers.V4_IMAGES, timeout=10,
                         auth=(fix.username, fix.password))
        except requests.exceptions.SSLError:
            pass
        else:
            raise AssertionError('self-signed certificate was accepted')
        # ...and accepted when verification is off.
        resp = requests.get(fix.endpoint + helpers.V4_IMAGES, timeout=10,
                            auth=(fix.username, fix.password), verify=False)
        assert resp.status_code == 200
        # Plain HTTP on the TLS port does not get an API answer.
        try:
            plain = requests.get(fix.endpoint.replace('https', 'http') +
                                 helpers.V4_IMAGES, timeout=10)
            assert plain.status_code >= 400
        except requests.exceptions.ConnectionError:
            pass
        # The emulator fetches its own HTTPS /file URL (derived images).
        task = api.create_from_url(
            api.url('%s/%s/file' % (helpers.V4_IMAGES, ext_id)),
            name='derived', shouldAllowInsecureUrl=True,
            basicAuth={'username': fix.username, 'password': fix.password})
        assert task['status'] == 'SUCCEEDED', task
        strict = api.create_from_url(
            api.url('%s/%s/file' % (helpers.V4_IMAGES, ext_id)),
            name='strict',
            basicAuth={'username': fix.username, 'password': fix.password})
        assert strict['status'] == 'FAILED'
    finally:
        fix.cleanUp()
