"""Test fixtures: the emulator in-process or as a real subprocess.

* :class:`EmulatorFixture` (a ``fixtures.Fixture``) serves the emulator on
  127.0.0.1:<free port> from a thread, with a temporary data dir.
  ``allow_local_url_sources=True`` lets images be imported from URLs on
  loopback (tests that serve image files on 127.0.0.1).
  ``tls=True`` serves HTTPS with a self-signed certificate made on the fly
  (:attr:`ca_file` is its path); ``task_mode`` is ``'immediate'`` (default)
  or ``'async'``.
* :class:`EmulatorProcess` runs ``nutanix-emulator --config-file F`` as a
  child process (for kill -9 / restart tests), same attributes.
* :class:`AdminClient` talks to the admin API (``/_emulator/v1/``).

Both expose ``endpoint``, ``username``, ``password``, ``cluster_ext_id``,
``container_ext_id``, ``container_name``, ``admin`` and
``prism_client(**kw)``.
"""

import datetime
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import fixtures
import requests

from nutanix_openstack.emulator import inventory as inventory_mod

USERNAME = 'admin'
PASSWORD = 'Nutanix/4u'
ADMIN_PREFIX = '/_emulator/v1'


class AdminClient(object):
    """Client of the emulator's admin API."""

    def __init__(self, endpoint, username, password, verify=False):
        self.endpoint = endpoint.rstrip('/')
        self.session = requests.Session()
        self.session.auth = (username, password)
        self.session.verify = verify

    def _url(self, path):
        return '%s%s%s' % (self.endpoint, ADMIN_PREFIX, path)

    def _call(self, method, path, **kwargs):
        # verify per request: a session-level verify loses against
        # REQUESTS_CA_BUNDLE in the environment (requests issue #3829).
        resp = self.session.request(method, self._url(path), timeout=120,
                                    verify=self.session.verify, **kwargs)
        if resp.status_code >= 400:
            raise RuntimeError("admin %s %s failed: %d %s"
                               % (method, path, resp.status_code,
                                  resp.text[:500]))
        return resp

    def reset(self):
        self._call('POST', '/reset')

    def read_disk(self, disk_ext_id, offset=0, length=None):
        params = {'offset': offset}
        if length is not None:
            params['length'] = length
        return self._call('GET', '/disks/%s' % disk_ext_id,
                          params=params).content

    def write_disk(self, disk_ext_id, offset, data):
        return self._call('PUT', '/disks/%s' % disk_ext_id,
                          params={'offset': offset}, data=data,
                          headers={'Content-Type':
                                   'application/octet-stream'}).json()

    def disk_info(self, disk_ext_id):
        return self._call('GET', '/disks/%s/info' % disk_ext_id).json()

    def add_remote_site(self, cluster_ext_id, endpoint, username, password,
                        verify=False, pc_ext_id=None):
        """Pair with the emulator of another cluster (replication)."""
        body = dict(endpoint=endpoint, username=username, password=password,
                    verify=verify)
        if pc_ext_id:
            body['pcExtId'] = pc_ext_id
        return self._call('PUT', '/remote-sites/%s' % cluster_ext_id,
                          json=body).json()

    def inventory(self):
        """``{'objects': {kind: [extId...]}, 'storage': {...stats}}``."""
        return self._call('GET', '/inventory').json()

    def add_fault(self, method=None, path='.*', status=None, latency=None,
                  drop_after_bytes=None, fail_task=None, times=None,
                  retry_after=None):
        body = {'method': method, 'path': path, 'status': status,
                'latency': latency, 'drop_after_bytes': drop_after_bytes,
                'fail_task': fail_task, 'times': times,
                'retry_after': retry_after}
        return self._call('POST', '/faults', json=body).json()

    def list_faults(self):
        return self._call('GET', '/faults').json()['faults']

    def clear_faults(self):
        self._call('DELETE', '/faults')

    def set_task_mode(self, mode, delay=None):
        return self._call('PUT', '/task-mode',
                          json={'mode': mode, 'delay': delay}).json()


def make_self_signed_cert(directory, hostname='127.0.0.1'):
    """Write cert.pem/key.pem for ``hostname``; returns their paths."""
    import ipaddress

    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives import serialization
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    now = datetime.datetime.now(datetime.timezone.utc)
    alt_names = [x509.DNSName('localhost')]
    try:
        alt_names.append(x509.IPAddress(ipaddress.ip_address(hostname)))
    except ValueError:
        alt_names.append(x509.DNSName(hostname))
    cert = (x509.CertificateBuilder()
            .subject_name(name).issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName(alt_names),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None),
                           critical=True)
            .sign(key, hashes.SHA256()))
    cert_path = os.path.join(directory, 'cert.pem')
    key_path = os.path.join(directory, 'key.pem')
    with open(cert_path, 'wb') as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, 'wb') as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return cert_path, key_path


class _EmulatorAttributes(object):
    """What both fixtures expose once started."""

    username = USERNAME
    password = PASSWORD
    endpoint = None
    ca_file = None
    tls = False

    site = 1

    def _inventory_file(self, directory):
        """The inventory file of site ``self.site`` (None for site 1)."""
        if self.site == 1:
            return None
        path = os.path.join(directory, 'inventory-site%d.json' % self.site)
        with open(path, 'w') as f:
            json.dump(inventory_mod.site_inventory(self.site), f)
        return path

    def _set_inventory_attributes(self):
        inv = inventory_mod.Inventory(inventory_mod.site_inventory(self.site))
        self.cluster_ext_id = inv.cluster_ext_id
        self.pc_ext_id = inv.prism_central['ext_id']
        self.container_ext_id = inv.default_container['ext_id']
        self.container_name = inv.default_container['name']
        self.admin = AdminClient(self.endpoint, self.username, self.password,
                                 verify=self.ca_file or False)

    def pair(self, other):
        """Make ``other`` (another fixture) a remote site of this one."""
        self.admin.add_remote_site(other.cluster_ext_id, other.endpoint,
                                   other.username, other.password,
                                   verify=other.ca_file or False,
                                   pc_ext_id=other.pc_ext_id)

    def prism_client(self, **kwargs):
        """A PrismClient for this emulator (kwargs override defaults)."""
        from nutanix_openstack.prism import client
        params = dict(endpoints=[self.endpoint], username=self.username,
                      password=self.password,
                      verify=bool(self.ca_file), ca_file=self.ca_file,
                      task_poll_interval=0.05, retry_interval=0.05)
        params.update(kwargs)
        return client.PrismClient(**params)


class EmulatorFixture(fixtures.Fixture, _EmulatorAttributes):
    """The emulator served from a thread of this process."""

    def __init__(self, tls=False, task_mode='immediate', task_delay=0.0,
                 chunk_size=None, allow_local_url_sources=False, site=1,
                 storage=None, **options):
        super().__init__()
        self.site = site
        self.options = options
        # storage: [storage] options, e.g. dict(backend='rbd', ...).
        self.storage = dict(storage or {})
        self.allow_local_url_sources = allow_local_url_sources
        self.tls = tls
        self.task_mode = task_mode
        self.task_delay = task_delay
        self.chunk_size = chunk_size

    def _setUp(self):
        from nutanix_openstack.emulator import app as app_mod
        from nutanix_openstack.emulator import config
        from nutanix_openstack.emulator import server

        self.data_dir = self.useFixture(fixtures.TempDir()).path
        overrides = dict(data_dir=os.path.join(self.data_dir, 'data'),
                         username=self.username, password=self.password,
                         task_mode=self.task_mode,
                         task_delay=self.task_delay, listen_port=0,
                         allow_local_url_sources=self.allow_local_url_sources)
        if self.chunk_size:
            overrides['chunk_size'] = self.chunk_size
        inventory_file = self._inventory_file(self.data_dir)
        if inventory_file:
            overrides['inventory_file'] = inventory_file
        overrides.update(self.options)
        for name, value in self.storage.items():
            overrides['storage_' + name] = value
        cert = key = None
        if self.tls:
            cert, key = make_self_signed_cert(self.data_dir)
            overrides.update(tls_cert_file=cert, tls_key_file=key)
            self.ca_file = cert
        self.conf = config.make_conf(**overrides)
        self.app = app_mod.create_app(self.conf)
        self.backend = self.app.extensions['nutanix_emulator']
        self.server = server.EmulatorServer(self.app, '127.0.0.1', 0,
                                            cert, key, join_on_close=True)
        self.server.start_in_thread()
        self.addCleanup(self._stop)
        self.endpoint = self.server.url
        self._set_inventory_attributes()

    def _stop(self):
        self.server.shutdown()
        self.backend.close()


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class EmulatorProcess(_EmulatorAttributes):
    """``nutanix-emulator`` as a child process on a persistent data dir.

    ``start()``, ``stop()`` (SIGTERM), ``kill()`` (SIGKILL) and
    ``restart()`` keep the same data dir and port.  Usable as a context
    manager; ``cleanup()`` stops it and removes a data dir it created.
    """

    def __init__(self, data_dir=None, tls=False, task_mode='immediate',
                 task_delay=0.0, port=None, allow_local_url_sources=False,
                 console_port=None, site=1, **options):
        self._own_dir = data_dir is None
        self.site = site
        self.base_dir = data_dir or tempfile.mkdtemp(prefix='ntnx-emu-')
        self.tls = tls
        self.task_mode = task_mode
        self.task_delay = task_delay
        self.port = port or free_port()
        self.proc = None
        self.config_file = os.path.join(self.base_dir, 'emulator.conf')
        self.log_file = os.path.join(self.base_dir, 'emulator.log')
        cert = key = None
        if tls:
            cert, key = make_self_signed_cert(self.base_dir)
            self.ca_file = cert
        with open(self.config_file, 'w') as f:
            f.write('[emulator]\n'
                    'listen_host = 127.0.0.1\n'
                    'listen_port = %d\n'
                    'data_dir = %s\n'
                    'username = %s\n'
                    'password = %s\n'
                    'task_mode = %s\n'
                    'task_delay = %s\n'
                    'allow_local_url_sources = %s\n'
                    % (self.port, os.path.join(self.base_dir, 'data'),
                       self.username, self.password, task_mode,
                       task_delay, allow_local_url_sources))
            if tls:
                f.write('tls_cert_file = %s\ntls_key_file = %s\n'
                        % (cert, key))
            # The VM console server (console.py); 0: a free port of ours.
            self.console_port = None
            if console_port is not None:
                self.console_port = console_port or free_port()
                f.write('console_port = %d\n' % self.console_port)
            inventory_file = self._inventory_file(self.base_dir)
            if inventory_file:
                f.write('inventory_file = %s\n' % inventory_file)
            for name, value in sorted(options.items()):
                f.write('%s = %s\n' % (name, value))
        self.endpoint = '%s://127.0.0.1:%d' % ('https' if tls else 'http',
                                               self.port)
        self._set_inventory_attributes()

    def command(self):
        # The console script of this interpreter's environment; when the
        # package is not installed with its scripts, the same entry point
        # through the interpreter.
        script = os.path.join(os.path.dirname(sys.executable),
                              'nutanix-emulator')
        if os.access(script, os.X_OK):
            return [script, '--config-file', self.config_file]
        return [sys.executable, '-c',
                'import sys; from nutanix_openstack.emulator import cmd; '
                'sys.exit(cmd.main())',
                '--config-file', self.config_file]

    def start(self, timeout=30):
        log = open(self.log_file, 'ab')
        self.proc = subprocess.Popen(self.command(), stdout=log,
                                     stderr=subprocess.STDOUT)
        log.close()
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("nutanix-emulator exited with %s; log: %s"
                                   % (self.proc.returncode, self.read_log()))
            try:
                resp = requests.get(
                    self.endpoint + '/api/clustermgmt/v4.3/config/clusters',
                    auth=(self.username, self.password),
                    verify=self.ca_file or False, timeout=2)
                if resp.status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.kill()
        raise RuntimeError("nutanix-emulator did not start; log: %s"
                           % self.read_log())

    def read_log(self):
        try:
            with open(self.log_file) as f:
                return f.read()[-4000:]
        except OSError:
            return ''

    def _wait(self, timeout):
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self, timeout=15):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self._wait(timeout)
        self.proc = None

    def kill(self):
        """SIGKILL: no chance to clean up, like a power cut of the process."""
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        self.proc = None

    def restart(self):
        self.stop()
        return self.start()

    def cleanup(self):
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.base_dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()
