"""A real glance-api process for functional tests.

Glance 33 has no standalone server: ``glance.wsgi.api:application`` runs
under gunicorn, configured through ``OS_GLANCE_CONFIG_DIR``, on SQLite
(``glance-manage db_sync``) and without keystone.  The paste pipeline is
glance's own keystone pipeline minus ``authtoken``: the ``context``
middleware builds a real request context (project, user, roles) from the
identity headers keystonemiddleware would have set, which the test client
sends itself.  Without a project, policy refuses uploads and imports.
"""

import os
import socket
import subprocess
import sys
import time

import fixtures
import requests

PROJECT_ID = 'b0b0b0b0b0b04b0b8b0b0b0b0b0b0b0b'
USER_ID = 'a1a1a1a1a1a14a1a8a1a1a1a1a1a1a1a'
VENV_BIN = os.path.dirname(sys.executable)
PASTE_INI = os.path.join(sys.prefix, 'etc', 'glance', 'glance-api-paste.ini')


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _ini(sections):
    lines = []
    for name, options in sections.items():
        lines.append('[%s]' % name)
        for key, value in options.items():
            if isinstance(value, (list, tuple)):
                value = ','.join(value)
            lines.append('%s = %s' % (key, value))
        lines.append('')
    return '\n'.join(lines)


class GlanceApi(fixtures.Fixture):
    """glance-api under gunicorn on 127.0.0.1:<free port>.

    :param backends: ``{name: (store type, {option: value})}``, in the
        order of ``enabled_backends``
    :param default_backend: the backend uploads go to by default
    :param extra_sections: more ``{section: {option: value}}``
    """

    def __init__(self, backends, default_backend, workdir=None,
                 startup_timeout=90, extra_sections=None):
        super(GlanceApi, self).__init__()
        self.extra_sections = extra_sections or {}
        self.backends = backends
        self.default_backend = default_backend
        self.workdir = workdir
        self.startup_timeout = startup_timeout

    def _setUp(self):
        if self.workdir is None:
            self.workdir = self.useFixture(fixtures.TempDir()).path
        d = self.workdir
        self.port = free_port()
        self.endpoint = 'http://127.0.0.1:%d' % self.port
        for sub in ('staging', 'tasks'):
            os.makedirs(os.path.join(d, sub), exist_ok=True)
        with open(PASTE_INI) as f:
            paste = f.read()
        # A "trusted" flavor: keystone's pipeline without authtoken.
        paste = paste.replace(
            '[composite:api]\n',
            '[composite:api]\ntrusted = cors http_proxy_to_wsgi '
            'versionnegotiation osprofiler context rootapp\n', 1)
        paste += ('\n[composite:glance-api-trusted]\n'
                  'paste.composite_factory = glance.api:root_app_factory\n'
                  '/: api\n/healthcheck: healthcheck\n')
        with open(os.path.join(d, 'glance-api-paste.ini'), 'w') as f:
            f.write(paste)
        sections = {
            'DEFAULT': {
                'enabled_backends': ['%s:%s' % (name, kind) for name, (
                    kind, _opts) in self.backends.items()],
                'debug': 'true',
                'log_file': os.path.join(d, 'glance-api.log'),
                'worker_self_reference_url': self.endpoint,
                'image_size_cap': 8 * 1024 ** 4,
            },
            'database': {
                'connection': 'sqlite:///%s' % os.path.join(
                    d, 'glance.sqlite')},
            'glance_store': {'default_backend': self.default_backend},
            'os_glance_staging_store': {
                'filesystem_store_datadir': os.path.join(d, 'staging')},
            'os_glance_tasks_store': {
                'filesystem_store_datadir': os.path.join(d, 'tasks')},
            'paste_deploy': {
                'flavor': 'trusted',
                'config_file': os.path.join(d, 'glance-api-paste.ini')},
        }
        for name, (_kind, opts) in self.backends.items():
            sections[name] = opts
        for name, opts in self.extra_sections.items():
            sections.setdefault(name, {}).update(opts)
        self.config_file = os.path.join(d, 'glance-api.conf')
        with open(self.config_file, 'w') as f:
            f.write(_ini(sections))
        env = dict(os.environ, OS_GLANCE_CONFIG_DIR=d)
        subprocess.run([os.path.join(VENV_BIN, 'glance-manage'),
                        '--config-file', self.config_file, 'db_sync'],
                       check=True, env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, timeout=300)
        self.log_path = os.path.join(d, 'gunicorn.log')
        self._log = open(self.log_path, 'wb')
        self.addCleanup(self._log.close)
        self.process = subprocess.Popen(
            [os.path.join(VENV_BIN, 'gunicorn'), '--bind',
             '127.0.0.1:%d' % self.port, '--workers', '1', '--threads', '4',
             '--timeout', '900', 'glance.wsgi.api:application'],
            env=env, stdout=self._log, stderr=subprocess.STDOUT,
            cwd=d)
        self.addCleanup(self._stop)
        self._wait_ready()

    def _wait_ready(self):
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError('glance-api exited with %s:\n%s' % (
                    self.process.returncode, self.logs()))
            try:
                if requests.get(self.endpoint + '/healthcheck',
                                timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise RuntimeError('glance-api did not answer in %ss:\n%s'
                           % (self.startup_timeout, self.logs()))

    def _stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def logs(self, tail=4000):
        text = ''
        for path in (getattr(self, 'log_path', None),
                     os.path.join(self.workdir, 'glance-api.log')):
            if path and os.path.exists(path):
                with open(path, 'rb') as f:
                    text += f.read().decode('utf-8', 'replace')[-tail:]
        return text

    def identity_headers(self):
        # One role: glanceclient percent-encodes header values, so a
        # comma-separated list would arrive as one unknown role.
        return {'X-Identity-Status': 'Confirmed',
                'X-User-Id': USER_ID, 'X-Tenant-Id': PROJECT_ID,
                'X-Project-Id': PROJECT_ID, 'X-Roles': 'admin',
                'X-Auth-Token': 'no-keystone'}

    def glance_client(self):
        """python-glanceclient v2 with the identity headers."""
        from glanceclient import client as gclient
        return gclient.Client('2', endpoint=self.endpoint,
                              identity_headers=self.identity_headers())
