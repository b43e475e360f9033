"""A one-machine OpenStack on loopback, with our plugins and the emulator.

Real services from PyPI, started as a deployment starts them: the API
services are WSGI applications under gunicorn, the others their own console
scripts, RPC over a real RabbitMQ, state in SQLite files, identity in a real
Keystone.  Nothing listens beyond 127.0.0.1.
"""

import json
import os
import shutil
import subprocess
import sys
import time

from quickstart import configs
from quickstart import procs

DEFAULT_PORTS = {
    'emulator': 9440,
    'keystone': 5000,
    'glance': 9292,
    'placement': 8778,
    'nova': 8774,
    'cinder': 8776,
    'neutron': 9696,
    'mysql': 3307,
    'rabbit': 5672,
    'rabbit_dist': 25672,
    # Erlang's port mapper: our own, on loopback, stopped with the stack
    # (started by RabbitMQ it would listen on every interface and outlive
    # it).
    'epmd': 4369,
    # The emulator's VM consoles (RFB), relayed by nova-novncproxy.
    'vnc': 5900,
    'novncproxy': 6080,
    'horizon': 8080,
}

DATABASES = ('keystone', 'glance', 'placement', 'nova_api', 'nova',
             'nova_cell0', 'cinder', 'neutron')

# The quick start's provider network and subnet (flat, on physnet1).
PROVIDER_NETWORK = 'qs-provider'
PROVIDER_SUBNET = 'qs-provider-v4'
PROVIDER_CIDR = '10.20.0.0/22'
PROVIDER_GATEWAY = '10.20.0.1'

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CEPH_SH = os.path.join(REPO, 'tools', 'ceph.sh')


def ceph_port(ports):
    """The Ceph monitor's port.

    Beside the stack's ports when they come from a base, tools/ceph.sh's
    default otherwise.
    """
    if ports['emulator'] == DEFAULT_PORTS['emulator']:
        return 23300
    return max(ports.values()) + 1


def ports_from_base(base):
    """Ports for a stack that must not clash with another one (tests)."""
    if not base:
        return dict(DEFAULT_PORTS)
    return {name: base + i for i, name in enumerate(sorted(DEFAULT_PORTS))}


class Stack(object):

    def __init__(self, workdir, ports=None, nutanix=None, say=print,
                 overrides=None, storage='local', horizon=False):
        self.workdir = os.path.abspath(workdir)
        self.horizon = horizon
        self.ports = ports or dict(DEFAULT_PORTS)
        # 'rbd': the emulator keeps its disks in a one-node Ceph that
        # tools/ceph.sh starts under the work dir (and stops and wipes).
        self.storage = storage
        self.ceph_started = False
        self.real_cluster = nutanix is not None
        self.nutanix = nutanix or {
            'endpoint': 'http://127.0.0.1:%d' % self.ports['emulator'],
            'username': configs.EMULATOR_USERNAME,
            'password': configs.EMULATOR_PASSWORD,
            'storage_container': 'default-container',
            'verify_ssl': False,
        }
        self.lay = configs.Layout(self.workdir, self.ports, self.nutanix,
                                  overrides)
        self.ceph_env = dict(os.environ,
                             NUTANIX_CEPH_DIR=self.lay.path('ceph'),
                             NUTANIX_CEPH_PORT=str(ceph_port(self.ports)))
        # Services import our plugins from this tree, also when the
        # environment holds an older non-editable install of it (which
        # Nova needs for the nova.virt.nutanix shim).
        self.group = procs.ProcessGroup(self.lay.path('logs'), env={
            'PYTHONPATH': REPO + os.pathsep + os.environ.get('PYTHONPATH',
                                                             '')})
        self.say = say
        self.timings = []

    # -- helpers -----------------------------------------------------------
    def _step(self, name, fn):
        start = time.time()
        self.say('  - %s ...' % name)
        fn()
        took = time.time() - start
        self.timings.append((name, took))
        self.say('    %s: ready in %.1fs' % (name, took))

    def _write(self, relpath, text):
        path = self.lay.path(relpath)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'w') as f:
            f.write(text)
        return path

    def _copy_paste_ini(self, project, name, dest_dir):
        src = os.path.join(sys.prefix, 'etc', project, name)
        os.makedirs(dest_dir, exist_ok=True)
        shutil.copy(src, os.path.join(dest_dir, name))

    def _gunicorn(self, name, app, argv, env=None):
        env = dict(env or {})
        env.update({
            'QS_WSGI_APP': app,
            'QS_WSGI_ARGV': json.dumps(argv),
            'PYTHONPATH': REPO + os.pathsep + os.environ.get('PYTHONPATH',
                                                             ''),
        })
        self.group.start(name, [
            procs.bin_path('gunicorn'),
            '--bind', '127.0.0.1:%d' % self.ports[name],
            '--workers', '1', '--threads', '8', '--timeout', '600',
            '--graceful-timeout', '5',
            'quickstart.wsgi_loader:application'], env=env)

    def _log(self, name):
        return self.lay.path('logs', '%s-setup.log' % name)

    # -- services ----------------------------------------------------------
    def start(self):
        os.makedirs(self.lay.path('logs'), exist_ok=True)
        os.makedirs(self.lay.path('locks'), exist_ok=True)
        self.say('Starting services (work dir %s, logs in %s)'
                 % (self.workdir, self.lay.path('logs')))
        if not self.real_cluster:
            if self.storage == 'rbd':
                self._step('ceph', self.start_ceph)
            self._step('nutanix-emulator', self.start_emulator)
        self._step('mariadb', self.start_mysql)
        self._step('rabbitmq', self.start_rabbit)
        self._step('keystone', self.start_keystone)
        self._step('service catalog', self.register_catalog)
        self._step('glance-api', self.start_glance)
        self._step('placement-api', self.start_placement)
        self._step('neutron', self.start_neutron)
        self._step('provider network', self.create_provider_network)
        self._step('nova', self.start_nova)
        self._step('cinder', self.start_cinder)
        if self.horizon:
            self._step('horizon', self.start_horizon)

    def start_ceph(self):
        self.ceph_started = True
        with open(self._log('ceph'), 'w') as log:
            subprocess.run(['bash', CEPH_SH, 'start'], env=self.ceph_env,
                           stdout=log, stderr=subprocess.STDOUT, check=True)

    def start_emulator(self):
        data_dir = self.lay.path('emulator')
        os.makedirs(data_dir, exist_ok=True)
        ceph = None
        if self.storage == 'rbd':
            ceph = {'ceph_conf': self.lay.path('ceph', 'ceph.conf'),
                    'rbd_pool': 'nutanix-emulator',
                    'rbd_user': 'nutanix-emulator'}
        conf = self._write('etc/nutanix-emulator.conf',
                           configs.emulator_conf(self.lay, data_dir, ceph))
        self.group.start('emulator', [procs.bin_path('nutanix-emulator'),
                                      '--config-file', conf])
        procs.wait_http(self.nutanix['endpoint'] +
                        '/api/clustermgmt/v4.3/config/clusters',
                        self.group, 'emulator', ok=(200, 401))

    def start_mysql(self):
        server = shutil.which('mariadbd') or shutil.which('mysqld') or \
            '/usr/sbin/mariadbd'
        install = shutil.which('mariadb-install-db') or \
            shutil.which('mysql_install_db')
        if not os.path.exists(server) or not install:
            raise procs.ServiceFailed(
                'MariaDB is not installed (apt-get install mariadb-server); '
                'tools/quickstart.sh installs it as root')
        data = self.lay.path('mysql')
        os.makedirs(data, exist_ok=True)
        user = ['--user=root'] if os.getuid() == 0 else []
        procs.run([install, '--datadir=' + data, '--auth-root-authentication'
                   '-method=normal', '--skip-test-db'] + user,
                  self._log('mysql'))
        sock = os.path.join(data, 'mysqld.sock')
        self.group.start('mysql', [
            server, '--no-defaults', '--datadir=' + data, '--socket=' + sock,
            '--bind-address=127.0.0.1', '--port=%d' % self.ports['mysql'],
            '--pid-file=' + os.path.join(data, 'mysqld.pid'),
            '--max-connections=500', '--innodb-flush-log-at-trx-commit=2',
            '--skip-log-bin'] + user)
        client = shutil.which('mariadb') or shutil.which('mysql')
        sql = [client, '--no-defaults', '--socket=' + sock, '-uroot']
        deadline = time.time() + 60
        while True:
            self.group.check_alive()
            try:
                procs.run(sql + ['-e', 'SELECT 1'], self._log('mysql'))
                break
            except procs.ServiceFailed:
                if time.time() > deadline:
                    raise
                time.sleep(0.5)
        statements = ['CREATE DATABASE %s CHARACTER SET utf8' % name
                      for name in DATABASES]
        statements.append(
            "CREATE USER 'openstack'@'127.0.0.1' IDENTIFIED BY '%s'"
            % configs.DB_PASSWORD)
        statements.append(
            "GRANT ALL PRIVILEGES ON *.* TO 'openstack'@'127.0.0.1'")
        procs.run(sql + ['-e', '; '.join(statements)], self._log('mysql'))

    def start_rabbit(self):
        # The Debian wrapper in /usr/sbin switches to the rabbitmq user; run
        # the server script itself so it can use our work directory.
        server = '/usr/lib/rabbitmq/bin/rabbitmq-server'
        if not os.path.exists(server):
            raise procs.ServiceFailed(
                'rabbitmq-server is not installed (apt-get install '
                'rabbitmq-server); tools/quickstart.sh installs it as root')
        base = self.lay.path('rabbitmq')
        os.makedirs(base, exist_ok=True)
        epmd = shutil.which('epmd') or '/usr/bin/epmd'
        self.group.start('epmd', [epmd, '-address', '127.0.0.1',
                                  '-port', str(self.ports['epmd'])])
        deadline = time.time() + 30
        while not procs.port_open(self.ports['epmd']):
            self.group.check_alive()
            if time.time() > deadline:
                raise procs.ServiceFailed('epmd did not start:\n%s'
                                          % self.group.tail('epmd'))
            time.sleep(0.2)
        env = {
            # Register with our epmd (Erlang would otherwise start its own,
            # daemonized, on every interface).
            'ERL_EPMD_ADDRESS': '127.0.0.1',
            'ERL_EPMD_PORT': str(self.ports['epmd']),
            # The distribution listener (RABBITMQ_DIST_PORT) on loopback too.
            'RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS':
                '-kernel inet_dist_use_interface {127,0,0,1}',
            'RABBITMQ_CTL_ERL_ARGS':
                '-kernel inet_dist_use_interface {127,0,0,1}',
            'RABBITMQ_NODENAME': 'qs%d@localhost' % self.ports['rabbit'],
            'RABBITMQ_NODE_IP_ADDRESS': '127.0.0.1',
            'RABBITMQ_NODE_PORT': str(self.ports['rabbit']),
            'RABBITMQ_DIST_PORT': str(self.ports['rabbit_dist']),
            'RABBITMQ_MNESIA_BASE': os.path.join(base, 'mnesia'),
            'RABBITMQ_LOG_BASE': os.path.join(base, 'log'),
            'RABBITMQ_PID_FILE': os.path.join(base, 'rabbit.pid'),
            'RABBITMQ_ENABLED_PLUGINS_FILE': os.path.join(base, 'plugins'),
            'RABBITMQ_FEATURE_FLAGS_FILE': os.path.join(base, 'feature_flags'),
            'RABBITMQ_QUORUM_DIR': os.path.join(base, 'quorum'),
            'HOME': base,
        }
        with open(env['RABBITMQ_ENABLED_PLUGINS_FILE'], 'w') as f:
            f.write('[].\n')
        self.group.start('rabbitmq', [server], env=env)
        deadline = time.time() + 120
        while not procs.port_open(self.ports['rabbit']):
            self.group.check_alive()
            if time.time() > deadline:
                raise procs.ServiceFailed('rabbitmq did not start:\n%s'
                                          % self.group.tail('rabbitmq'))
            time.sleep(0.5)

    def start_keystone(self):
        conf = self._write('etc/keystone/keystone.conf',
                           configs.keystone_conf(self.lay))
        env = {'OS_KEYSTONE_CONFIG_FILES': conf}
        manage = procs.bin_path('keystone-manage')
        log = self._log('keystone')
        for d in ('fernet-keys', 'credential-keys'):
            os.makedirs(self.lay.path('keystone', d), exist_ok=True)
        procs.run([manage, '--config-file', conf, 'db_sync'], log)
        procs.run([manage, '--config-file', conf, 'fernet_setup',
                   '--keystone-user', str(os.getuid()),
                   '--keystone-group', str(os.getgid())], log)
        procs.run([manage, '--config-file', conf, 'credential_setup',
                   '--keystone-user', str(os.getuid()),
                   '--keystone-group', str(os.getgid())], log)
        url = self.lay.url('keystone', '/v3')
        procs.run([manage, '--config-file', conf, 'bootstrap',
                   '--bootstrap-password', configs.ADMIN_PASSWORD,
                   '--bootstrap-admin-url', url,
                   '--bootstrap-internal-url', url,
                   '--bootstrap-public-url', url,
                   '--bootstrap-region-id', configs.REGION], log)
        self._gunicorn('keystone', 'keystone.wsgi.api:application',
                       ['keystone'], env=env)
        procs.wait_http(url, self.group, 'keystone')

    def connection(self):
        import openstack
        return openstack.connect(
            auth_url=self.lay.auth_url, username='admin',
            password=configs.ADMIN_PASSWORD, project_name='admin',
            user_domain_name='Default', project_domain_name='Default',
            region_name=configs.REGION, identity_api_version='3')

    def register_catalog(self):
        conn = self.connection()
        # Services send service tokens (``[service_user]``); keystonemiddleware
        # accepts them only from users holding the "service" role.
        role = conn.identity.find_role('service')
        user = conn.identity.find_user('admin')
        project = conn.identity.find_project('admin')
        conn.identity.assign_project_role_to_user(project, user, role)
        services = [
            ('glance', 'image', self.lay.url('glance')),
            ('placement', 'placement', self.lay.url('placement')),
            ('neutron', 'network', self.lay.url('neutron')),
            ('nova', 'compute', self.lay.url('nova', '/v2.1')),
            ('cinderv3', 'block-storage',
             self.lay.url('cinder', '/v3/$(project_id)s')),
            ('cinder', 'volumev3',
             self.lay.url('cinder', '/v3/$(project_id)s')),
        ]
        # A project and user of the operator's own, as a cloud gives one.
        demo = conn.identity.create_project(name='demo', domain_id='default',
                                            description='quick start demo')
        demo_user = conn.identity.create_user(
            name='demo', password=configs.DEMO_PASSWORD,
            default_project_id=demo.id, domain_id='default')
        member = conn.identity.find_role('member')
        conn.identity.assign_project_role_to_user(demo, demo_user, member)
        for name, stype, url in services:
            svc = conn.identity.create_service(name=name, type=stype)
            for iface in ('public', 'internal', 'admin'):
                conn.identity.create_endpoint(
                    service_id=svc.id, interface=iface, url=url,
                    region_id=configs.REGION)

    def start_glance(self):
        etc = self.lay.path('etc', 'glance')
        self._write('etc/glance/glance-api.conf',
                    configs.glance_conf(self.lay))
        self._copy_paste_ini('glance', 'glance-api-paste.ini', etc)
        for d in ('staging', 'tasks'):
            os.makedirs(self.lay.path('glance', d), exist_ok=True)
        procs.run([procs.bin_path('glance-manage'), '--config-file',
                   os.path.join(etc, 'glance-api.conf'), 'db_sync'],
                  self._log('glance'))
        # The metadata definitions catalog (OS::Glance::Image, ...), as a
        # deployment loads it; the image API's metadefs answer from it.
        procs.run([procs.bin_path('glance-manage'), '--config-file',
                   os.path.join(etc, 'glance-api.conf'), 'db_load_metadefs',
                   os.path.join(sys.prefix, 'etc', 'glance', 'metadefs')],
                  self._log('glance'))
        self._gunicorn('glance', 'glance.wsgi.api:application',
                       ['glance-api'], env={'OS_GLANCE_CONFIG_DIR': etc})
        procs.wait_http(self.lay.url('glance', '/healthcheck'),
                        self.group, 'glance', ok=(200, 300, 401))

    def start_placement(self):
        etc = self.lay.path('etc', 'placement')
        conf = self._write('etc/placement/placement.conf',
                           configs.placement_conf(self.lay))
        procs.run([procs.bin_path('placement-manage'), '--config-file', conf,
                   'db', 'sync'], self._log('placement'))
        self._gunicorn('placement', 'placement.wsgi.api:application',
                       ['placement-api'],
                       env={'OS_PLACEMENT_CONFIG_DIR': etc})
        procs.wait_http(self.lay.url('placement'), self.group, 'placement')

    def start_neutron(self):
        etc = self.lay.path('etc', 'neutron')
        conf = self._write('etc/neutron/neutron.conf',
                           configs.neutron_conf(self.lay))
        self._copy_paste_ini('neutron', 'api-paste.ini', etc)
        os.makedirs(self.lay.path('neutron'), exist_ok=True)
        procs.run([procs.bin_path('neutron-db-manage'), '--config-file',
                   conf, 'upgrade', 'heads'], self._log('neutron'))
        self._gunicorn('neutron', 'neutron.wsgi.api:application',
                       ['neutron-api'],
                       env={'OS_NEUTRON_CONFIG_DIR': etc,
                            'OS_NEUTRON_CONFIG_FILES': 'neutron.conf'})
        self.group.start('neutron-rpc-server', [
            procs.bin_path('neutron-rpc-server'), '--config-file', conf])
        # The ML2 plugin's workers (the nutanix driver's NIC poller, which
        # sets ports ACTIVE) run here, not in the API or RPC server.
        self.group.start('neutron-periodic-workers', [
            procs.bin_path('neutron-periodic-workers'), '--config-file',
            conf])
        procs.wait_http(self.lay.url('neutron', '/'), self.group, 'neutron')

    def create_provider_network(self):
        """The shared flat network servers boot on (an AHV subnet).

        Shared, so every project boots on it; external too, as DevStack's
        ``public`` network (Tempest's public_network_id), although the
        quick start runs no router.
        """
        conn = self.connection()
        net = conn.network.create_network(
            name=PROVIDER_NETWORK, shared=True, is_router_external=True,
            provider_network_type='flat',
            provider_physical_network=configs.PHYSNET)
        conn.network.create_subnet(
            name=PROVIDER_SUBNET, network_id=net.id, ip_version=4,
            cidr=PROVIDER_CIDR, gateway_ip=PROVIDER_GATEWAY)
        self.provider_network = net.id

    def start_nova(self):
        etc = self.lay.path('etc', 'nova')
        conf = self._write('etc/nova/nova.conf', configs.nova_conf(self.lay))
        self._copy_paste_ini('nova', 'api-paste.ini', etc)
        os.makedirs(self.lay.path('nova', 'instances'), exist_ok=True)
        manage = procs.bin_path('nova-manage')
        log = self._log('nova')
        procs.run([manage, '--config-file', conf, 'api_db', 'sync'], log)
        procs.run([manage, '--config-file', conf, 'cell_v2', 'map_cell0',
                   '--database_connection',
                   configs.db(self.lay, 'nova_cell0')], log)
        procs.run([manage, '--config-file', conf, 'db', 'sync'], log)
        procs.run([manage, '--config-file', conf, 'cell_v2', 'create_cell',
                   '--name', 'cell1'], log)
        self._gunicorn('nova', 'nova.wsgi.osapi_compute:application',
                       ['nova-api'], env={'OS_NOVA_CONFIG_DIR': etc})
        if not os.path.exists(os.path.join(configs.NOVNC_WEB,
                                           'vnc_lite.html')):
            raise procs.ServiceFailed(
                'noVNC is not installed (apt-get install novnc); '
                'tools/quickstart.sh installs it as root')
        for svc in ('nova-conductor', 'nova-scheduler', 'nova-compute',
                    'nova-novncproxy'):
            self.group.start(svc, [procs.bin_path(svc), '--config-file', conf])
        procs.wait_http(self.lay.url('nova', '/v2.1'), self.group, 'nova')
        procs.wait_http(self.lay.novnc_url(), self.group, 'nova-novncproxy',
                        ok=(200,))
        # The compute service registers itself; map it into cell1.
        deadline = time.time() + 180
        conn = self.connection()
        while True:
            self.group.check_alive()
            up = [s for s in conn.compute.services()
                  if s.binary == 'nova-compute' and s.state == 'up']
            if up:
                break
            if time.time() > deadline:
                raise procs.ServiceFailed('nova-compute did not come up:\n%s'
                                          % self.group.tail('nova-compute'))
            time.sleep(1)
        procs.run([manage, '--config-file', conf, 'cell_v2',
                   'discover_hosts', '--verbose'], log)
        conn.compute.create_flavor(name='qs.small', ram=512, vcpus=1, disk=2)

    def start_cinder(self):
        etc = self.lay.path('etc', 'cinder')
        conf = self._write('etc/cinder/cinder.conf',
                           configs.cinder_conf(self.lay))
        self._write('etc/cinder/policy.yaml', configs.cinder_policy())
        self._copy_paste_ini('cinder', 'api-paste.ini', etc)
        os.makedirs(self.lay.path('cinder', 'coordination'), exist_ok=True)
        procs.run([procs.bin_path('cinder-manage'), '--config-file', conf,
                   'db', 'sync'], self._log('cinder'))
        self._gunicorn('cinder', 'cinder.wsgi.api:application',
                       ['cinder-api', '--config-file', conf])
        for svc in ('cinder-scheduler', 'cinder-volume'):
            self.group.start(svc, [procs.bin_path(svc), '--config-file', conf])
        procs.wait_http(self.lay.url('cinder', '/'), self.group, 'cinder')
        conn = self.connection()
        deadline = time.time() + 180
        while True:
            self.group.check_alive()
            up = [s for s in conn.block_storage.services()
                  if s.binary == 'cinder-volume' and s.state == 'up']
            if up:
                break
            if time.time() > deadline:
                raise procs.ServiceFailed('cinder-volume did not come up:\n%s'
                                          % self.group.tail('cinder-volume'))
            time.sleep(1)
        # "up" is not enough: the scheduler places volumes only once the
        # volume service has sent it its pool stats (at start or on its
        # next periodic report).
        deadline = time.time() + 180
        while not list(conn.block_storage.backend_pools()):
            self.group.check_alive()
            if time.time() > deadline:
                raise procs.ServiceFailed(
                    'cinder-scheduler got no pool from cinder-volume:\n%s'
                    % self.group.tail('cinder-volume'))
            time.sleep(1)
        vtype = conn.block_storage.create_type(
            name='nutanix', extra_specs={'volume_backend_name': 'nutanix'})
        self.volume_type = vtype.id

    def start_horizon(self):
        from quickstart import horizon
        settings_dir = horizon.write_settings(self.lay)
        self.group.start('horizon', [
            procs.bin_path('gunicorn'),
            '--bind', '127.0.0.1:%d' % self.ports['horizon'],
            '--workers', '1', '--threads', '8', '--timeout', '600',
            '--graceful-timeout', '5', 'quickstart.horizon:application'],
            env={'QS_HORIZON_WSGI': '1',
                 'DJANGO_SETTINGS_MODULE': 'openstack_dashboard.settings',
                 'PYTHONPATH': os.pathsep.join(
                     [settings_dir, REPO, os.environ.get('PYTHONPATH', '')])})
        # The first page compiles and compresses the stylesheets.
        procs.wait_http(self.lay.url('horizon', '/auth/login/'), self.group,
                        'horizon', timeout=300, ok=(200,))

    def stop(self):
        self.group.stop_all()
        if self.ceph_started:
            subprocess.run(['bash', CEPH_SH, 'stop'], env=self.ceph_env,
                           stdout=subprocess.DEVNULL)
            self.ceph_started = False

    # -- for the operator --------------------------------------------------
    def openrc(self):
        return '\n'.join([
            'export OS_AUTH_URL=%s' % self.lay.auth_url,
            'export OS_USERNAME=admin',
            'export OS_PASSWORD=%s' % configs.ADMIN_PASSWORD,
            'export OS_PROJECT_NAME=admin',
            'export OS_USER_DOMAIN_NAME=Default',
            'export OS_PROJECT_DOMAIN_NAME=Default',
            'export OS_REGION_NAME=%s' % configs.REGION,
            'export OS_IDENTITY_API_VERSION=3',
            'export OS_IMAGE_API_VERSION=2',
            'export OS_VOLUME_API_VERSION=3',
        ]) + '\n'

    @property
    def backend(self):
        """A Prism v4 client of the backend (emulator or cluster)."""
        if getattr(self, '_backend', None) is None:
            from nutanix_openstack.prism import client
            n = self.nutanix
            self._backend = client.PrismClient(
                endpoints=[n['endpoint']], username=n['username'],
                password=n['password'], verify=n.get('verify_ssl', False),
                task_poll_interval=0.2)
        return self._backend

    def backend_counts(self):
        return {
            'images': len(self.backend.images.list()),
            'vms': len(self.backend.vms.list()),
            'volume_groups': len(self.backend.volume_groups.list()),
            'recovery_points': len(self.backend.recovery_points.list()),
        }

    def backend_vm(self, instance_uuid):
        """The VM of an instance (the driver names it after the uuid)."""
        vms = self.backend.vms.find_by_name(instance_uuid)
        return vms[0] if vms else None

    def banner(self, openrc_path):
        """What an operator needs to use the cloud left running."""
        osc = procs.bin_path('openstack')
        n = self.nutanix
        lines = [
            'The cloud keeps running. Use it with:',
            '  source %s' % openrc_path,
            '  %s image list' % osc,
            '  (project "demo": OS_USERNAME=demo OS_PROJECT_NAME=demo '
            'OS_PASSWORD=%s)' % configs.DEMO_PASSWORD,
        ]
        if self.real_cluster:
            lines += ['Nutanix cluster: %s (user %s)'
                      % (n['endpoint'], n['username'])]
        else:
            inventory = n['endpoint'] + '/_emulator/v1/inventory'
            lines += [
                'Nutanix emulator (v4 API): %s' % n['endpoint'],
                '  user %s, password %s' % (n['username'], n['password']),
                'What the backend holds:',
                "  curl -s -u '%s:%s' %s"
                % (n['username'], n['password'], inventory),
            ]
        if self.horizon:
            lines += ['Dashboard: %s (admin / %s, demo / %s)'
                      % (self.lay.url('horizon', '/'),
                         configs.ADMIN_PASSWORD, configs.DEMO_PASSWORD)]
        lines += ['Logs: %s' % self.lay.path('logs'),
                  'Press Ctrl-C to stop everything.']
        return '\n'.join(lines)

    def cli_env(self):
        env = dict(os.environ)
        for line in self.openrc().splitlines():
            key, _, value = line[len('export '):].partition('=')
            env[key] = value
        return env
