"""Run the DevStack plugin's phases under bash, as stack.sh, unstack.sh and
clean.sh source it, against the stand-ins of fake_devstack/functions.

Each run is a fresh ``bash`` that sources the stand-ins, then the plugin's
``override-defaults`` and ``settings`` (as DevStack does before every
phase), then ``plugin.sh <phase>`` for each phase asked, with ``errexit``
and ``xtrace`` on as in stack.sh.

With ``DEVSTACK_INI_CONFIG`` pointing at a DevStack checkout's
``inc/ini-config``, DevStack's own iniset/iniget/inidelete/ini_has_option
replace the stand-ins (to check the plugin against the real ones).
"""

import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, '..', '..', '..'))
FAKE_DEVSTACK_DIR = os.path.join(HERE, 'fake_devstack')
BIN_DIR = os.path.dirname(sys.executable)

STACK_PHASES = ('stack pre-install', 'stack install', 'cinder',
                'stack post-config', 'stack extra', 'stack test-config')

SECTION_RE = re.compile(r'^\s*\[([^\]]+)\]\s*$')
OPTION_RE = re.compile(r'^\s*([^#;=\s][^=]*?)\s*=\s?(.*)$')


def parse_ini(path):
    """Parse an ini file into {section: {key: value}}.

    [DEFAULT] is an ordinary section (no configparser inheritance), so a
    key is checked in its own section.
    """
    result = {}
    section = None
    if not os.path.exists(path):
        return result
    with open(path) as f:
        for line in f:
            m = SECTION_RE.match(line)
            if m:
                section = result.setdefault(m.group(1), {})
                continue
            m = OPTION_RE.match(line)
            if m and section is not None:
                section[m.group(1)] = m.group(2).rstrip('\n')
    return result


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class DevStack(object):
    """One fake DevStack node in ``root`` (a temporary directory)."""

    def __init__(self, root, **env):
        self.root = str(root)
        self.etc = os.path.join(self.root, 'etc')
        self.state = os.path.join(self.root, 'fake-state')
        self.data = os.path.join(self.root, 'data')
        for d in (self.etc, self.state, self.data):
            os.makedirs(d, exist_ok=True)
        self.glance_api_conf = os.path.join(self.etc, 'glance-api.conf')
        self.cinder_conf = os.path.join(self.etc, 'cinder.conf')
        self.nova_conf = os.path.join(self.etc, 'nova.conf')
        self.nova_cpu_conf = os.path.join(self.etc, 'nova-cpu.conf')
        self.tempest_conf = os.path.join(self.etc, 'tempest.conf')
        self.ml2_conf = os.path.join(self.etc, 'ml2_conf.ini')
        self.nova_src = os.path.join(self.root, 'nova-src')
        self.env = {
            'FAKE_DEVSTACK_DIR': FAKE_DEVSTACK_DIR,
            'FAKE_PYTHON': sys.executable,
            'FAKE_STATE_DIR': self.state,
            'FAKE_PYTHON_EXEC_PREFIX': BIN_DIR,
            'DEST': self.root,
            'DATA_DIR': self.data,
            'STACK_USER': str(os.getuid()),
            'SERVICE_PASSWORD': 'service-secret-1',
            'ENABLED_SERVICES': 'key,g-api,c-api,c-sch,c-vol,n-api,n-cpu,'
                                'q-svc,tempest',
            'GLANCE_API_CONF': self.glance_api_conf,
            'CINDER_CONF': self.cinder_conf,
            'NOVA_CONF': self.nova_conf,
            'NOVA_CPU_CONF': self.nova_cpu_conf,
            'TEMPEST_CONFIG': self.tempest_conf,
            # DevStack's is relative to / ("etc/neutron/plugins/ml2/...").
            'Q_PLUGIN_CONF_FILE': self.ml2_conf.lstrip('/'),
            'PYTHON': sys.executable,
            'NUTANIX_OPENSTACK_DIR': REPO,
            'NUTANIX_EMULATOR_CONF_DIR': os.path.join(self.etc, 'emulator'),
            'NUTANIX_EMULATOR_PORT': str(free_port()),
            'NUTANIX_EMULATOR_START_TIMEOUT': '60',
        }
        self.env.update({k: str(v) for k, v in env.items()})
        self.make_editable_nova()

    def make_editable_nova(self):
        """Stand in for DevStack's editable nova checkout ($DEST/nova).

        A ``nova.virt`` package without our shim, first on PYTHONPATH.
        """
        virt = os.path.join(self.nova_src, 'nova', 'virt')
        os.makedirs(virt, exist_ok=True)
        for d in (os.path.dirname(virt), virt):
            open(os.path.join(d, '__init__.py'), 'a').close()
        self.env['PYTHONPATH'] = self.nova_src

    def write_devstack_configs(self, glance_multistore=False):
        """Write what DevStack's own lib/* write before post-config."""
        glance = ['[DEFAULT]', 'debug = True',
                  'image_cache_dir = %s/glance/cache/' % self.data]
        if glance_multistore:
            glance += ['enabled_backends = fast:file', '',
                       '[glance_store]', 'default_backend = fast', '',
                       '[fast]',
                       'filesystem_store_datadir = %s/glance/fast/' % (
                           self.data)]
        else:
            glance += ['', '[glance_store]',
                       'filesystem_store_datadir = %s/glance/images/' % (
                           self.data)]
        files = {
            self.glance_api_conf: glance,
            self.cinder_conf: ['[DEFAULT]', 'debug = True',
                               'default_volume_type = nutanix'],
            self.nova_conf: ['[DEFAULT]', 'debug = True',
                             'compute_driver = libvirt.LibvirtDriver', '',
                             '[glance]', 'api_servers = http://x/image'],
            self.nova_cpu_conf: ['[DEFAULT]', 'debug = True',
                                 'compute_driver = libvirt.LibvirtDriver',
                                 '', '[key_manager]', 'fixed_key = k'],
            self.ml2_conf: ['[ml2]', 'type_drivers = flat,vlan',
                            'mechanism_drivers = nutanix'],
            self.tempest_conf: ['[compute-feature-enabled]',
                                'rescue = True', '', '[volume]',
                                'storage_protocol = iSCSI'],
        }
        for path, lines in files.items():
            with open(path, 'w') as f:
                f.write('\n'.join(lines) + '\n')

    def script(self, phases):
        q = shlex.quote
        lines = ['set -o errexit', 'set -o xtrace',
                 'source %s' % q(os.path.join(FAKE_DEVSTACK_DIR,
                                              'functions')),
                 'if [[ -n "${DEVSTACK_INI_CONFIG:-}" ]]; then '
                 'source "$DEVSTACK_INI_CONFIG"; fi',
                 'source %s' % q(os.path.join(REPO, 'devstack',
                                              'override-defaults')),
                 # lib/cinder's own default comes after override-defaults.
                 'CINDER_ENABLED_BACKENDS=${CINDER_ENABLED_BACKENDS:-'
                 'lvm:lvmdriver-1}',
                 'source %s' % q(os.path.join(REPO, 'devstack', 'settings'))]
        for phase in phases:
            if phase == 'cinder':
                lines.append('fake_configure_cinder_backends')
            else:
                lines.append('source %s %s' % (
                    q(os.path.join(REPO, 'devstack', 'plugin.sh')), phase))
        for var in ('Q_ML2_PLUGIN_MECHANISM_DRIVERS',
                    'Q_ML2_PLUGIN_TYPE_DRIVERS', 'Q_ML2_TENANT_NETWORK_TYPE',
                    'PHYSICAL_NETWORK', 'ML2_VLAN_RANGES',
                    'Q_ML2_PLUGIN_FLAT_TYPE_OPTIONS',
                    'Q_USE_PROVIDER_NETWORKING', 'PROVIDER_NETWORK_TYPE'):
            lines.append('echo "DEVSTACK %s=${%s:-}"' % (var, var))
        lines.append('echo "ENABLED_SERVICES=$ENABLED_SERVICES"')
        return '\n'.join(lines) + '\n'

    def run(self, phases, check=True, timeout=180):
        env = {'PATH': os.environ.get('PATH', '/usr/bin:/bin'),
               'HOME': self.root, 'LANG': 'C.UTF-8',
               'DEVSTACK_INI_CONFIG': os.environ.get('DEVSTACK_INI_CONFIG',
                                                     '')}
        env.update(self.env)
        proc = subprocess.run(['bash', '-c', self.script(phases)], env=env,
                              capture_output=True, text=True,
                              timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError('phases %s failed (%d)\nstdout:\n%s\n'
                                 'stderr:\n%s' % (phases, proc.returncode,
                                                  proc.stdout, proc.stderr))
        return proc

    def stack(self, **kw):
        return self.run(STACK_PHASES, **kw)

    def unstack(self, **kw):
        return self.run(['unstack'], **kw)

    def clean(self, **kw):
        return self.run(['clean'], **kw)

    def devstack_vars(self, stdout):
        """The DevStack variables the plugin's defaults left (see script)."""
        prefix = 'DEVSTACK '
        return dict(line[len(prefix):].split('=', 1)
                    for line in stdout.splitlines()
                    if line.startswith(prefix))

    def calls(self):
        path = os.path.join(self.state, 'calls.log')
        if not os.path.exists(path):
            return []
        with open(path) as f:
            return f.read().splitlines()

    def pid(self, service):
        path = os.path.join(self.state, '%s.pid' % service)
        if not os.path.exists(path):
            return None
        with open(path) as f:
            return int(f.read().strip())

    def kill_leftovers(self):
        """Stop what the fake run_process started and the test did not."""
        for name in os.listdir(self.state):
            if not name.endswith('.pid'):
                continue
            pid = self.pid(name[:-4])
            try:
                os.killpg(pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
            for _ in range(50):
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.1)


def process_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not reaped) is not alive.
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().split()[2] != 'Z'
    except OSError:
        return False
