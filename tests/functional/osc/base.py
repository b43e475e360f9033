"""glance-api + emulator + a loopback URL server, for the OSC plugin.

glance-api is the real glance 33 of tests/functional/glance/glance_api.py,
with one change to its paste pipeline: ``fake_keystone`` stands where
keystonemiddleware's authtoken would, so that the real ``openstack`` CLI
(token + endpoint) gets a project-scoped context with or without the
``service`` role.
"""

import functools
import http.server
import os
import shutil
import subprocess
import threading

import fixtures
import requests
import testtools

from nutanix_openstack.emulator import fixture as emu_fixture
from tests.functional.glance import base as glance_base
from tests.functional.glance import glance_api
from tests.functional.osc import fake_keystone

OPENSTACK = os.path.join(glance_api.VENV_BIN, 'openstack')
SERVICE_TOKEN = 'service-token'
MEMBER_TOKEN = 'member-token'


def paste_ini(path):
    """glance's paste config with a ``trusted`` flavor using fake_keystone."""
    with open(glance_api.PASTE_INI) as f:
        paste = f.read()
    paste = paste.replace(
        '[composite:api]\n',
        '[composite:api]\ntrusted = cors http_proxy_to_wsgi '
        'versionnegotiation osprofiler fakeauth context rootapp\n', 1)
    paste += ('\n[composite:glance-api-trusted]\n'
              'paste.composite_factory = glance.api:root_app_factory\n'
              '/: api\n/healthcheck: healthcheck\n'
              '\n[filter:fakeauth]\npaste.filter_factory = '
              'osc_fake_keystone:filter_factory\n')
    with open(path, 'w') as f:
        f.write(paste)
    return path


class CountingHandler(http.server.SimpleHTTPRequestHandler):
    """Serves a directory and records every request (method, path, peer)."""

    def __init__(self, *args, log=None, fail_status=None, **kwargs):
        self._requests = log
        self._fail_status = fail_status
        super(CountingHandler, self).__init__(*args, **kwargs)

    def _record(self):
        self._requests.append((self.command, self.path,
                               self.headers.get('User-Agent', '')))

    def do_GET(self):
        self._record()
        if self._fail_status:
            self.send_error(self._fail_status[0])
            return
        return super(CountingHandler, self).do_GET()

    def do_HEAD(self):
        self._record()
        return super(CountingHandler, self).do_HEAD()

    def log_message(self, *args):
        pass


class OscTestCase(testtools.TestCase):
    """One emulator, one glance-api and one URL server per test."""

    glance_extra = {}
    emulator_kwargs = {}

    def glance_backends(self):
        """glance-api's enabled_backends; the first is the default."""
        return {'cluster': ('nutanix', self.store_opts)}

    def setUp(self):
        super(OscTestCase, self).setUp()
        for tool in ('qemu-img', 'gunicorn', 'openstack'):
            if not shutil.which(tool) and not shutil.which(
                    tool, path=glance_api.VENV_BIN):
                self.skipTest('%s is required' % tool)
        self.tmp = self.useFixture(fixtures.TempDir()).path
        # The image files these tests import are served on 127.0.0.1.
        self.emu = self.useFixture(emu_fixture.EmulatorFixture(
            allow_local_url_sources=True, **self.emulator_kwargs))
        self.prism = self.emu.prism_client()
        self.addCleanup(self.prism.close)
        # gunicorn must import the filter: a copy in a directory of its
        # own (the source tree on the path would bring its stale egg-info
        # metadata, hiding the plugin's entry points from the CLI).
        pydir = os.path.join(self.tmp, 'pythonpath')
        os.makedirs(pydir)
        shutil.copy(fake_keystone.__file__,
                    os.path.join(pydir, 'osc_fake_keystone.py'))
        self.useFixture(fixtures.EnvironmentVariable(
            'PYTHONPATH', os.pathsep.join(
                p for p in (pydir, os.environ.get('PYTHONPATH')) if p)))
        self.store_opts = glance_base.store_options(
            self.emu, nutanix_progress_interval=0)
        backends = self.glance_backends()
        # glance's task cancellation tracker (location import hashing,
        # image delete) takes an external lock.
        extra = {'paste_deploy': {'config_file': paste_ini(
            os.path.join(self.tmp, 'paste.ini'))},
            'oslo_concurrency': {'lock_path': os.path.join(self.tmp,
                                                           'locks')}}
        for section, opts in self.glance_extra.items():
            extra.setdefault(section, {}).update(opts)
        self.glance = self.useFixture(glance_api.GlanceApi(
            backends, next(iter(backends)), extra_sections=extra))
        self.addOnException(self._attach_logs)
        self.staging = os.path.join(self.glance.workdir, 'staging')
        self.www = os.path.join(self.tmp, 'www')
        os.makedirs(self.www)
        self.url_requests = []
        self.url_fail = []
        handler = functools.partial(CountingHandler, directory=self.www,
                                    log=self.url_requests,
                                    fail_status=self.url_fail)
        server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        self.url_base = 'http://127.0.0.1:%d/' % server.server_address[1]

    def _attach_logs(self, exc_info):
        self.addDetail('glance-api-log', testtools.content.text_content(
            self.glance.logs(tail=20000)))

    def publish(self, name, data):
        with open(os.path.join(self.www, name), 'wb') as f:
            f.write(data)
        return self.url_base + name

    def cli_env(self):
        env = dict((k, v) for k, v in os.environ.items()
                   if not k.startswith(('OS_', 'NUTANIX_')))
        env['NUTANIX_PASSWORD'] = self.emu.password
        return env

    def openstack(self, *args, token=SERVICE_TOKEN, env=None, timeout=300):
        """Run the real ``openstack`` CLI; returns the CompletedProcess."""
        cmd = [OPENSTACK, '--os-token', token,
               '--os-endpoint', self.glance.endpoint + '/v2'] + list(args)
        return subprocess.run(cmd, capture_output=True, text=True,
                              env=env or self.cli_env(), timeout=timeout)

    def nutanix_args(self):
        return ['--nutanix-endpoint', self.emu.endpoint,
                '--nutanix-username', self.emu.username]

    def glance_images(self):
        resp = requests.get(self.glance.endpoint + '/v2/images',
                            headers={'X-Auth-Token': SERVICE_TOKEN},
                            timeout=30)
        resp.raise_for_status()
        return resp.json()['images']

    def download(self, image_id):
        resp = requests.get(
            self.glance.endpoint + '/v2/images/%s/file' % image_id,
            headers={'X-Auth-Token': SERVICE_TOKEN}, timeout=120)
        resp.raise_for_status()
        return resp.content

    def backend_images(self):
        return self.prism.images.list()

    def staging_files(self):
        found = []
        for root, _dirs, files in os.walk(self.staging):
            found.extend(os.path.join(root, f) for f in files)
        return found
