"""Configuration files of the quick start's OpenStack services.

Every service listens on 127.0.0.1 only, keeps its state (MariaDB databases,
keys, logs) under the stack's work directory, authenticates through the
stack's Keystone and talks to the Nutanix v4 API of the emulator (or of a
real cluster: only the ``nutanix`` connection settings change).
"""

import os
import sys

ADMIN_PASSWORD = 'quickstart-admin'
DB_PASSWORD = 'quickstart-db'
# The emulator's user and password: the same in the emulator's defaults,
# the docs and the DevStack plugin.
EMULATOR_USERNAME = 'admin'
EMULATOR_PASSWORD = 'Nutanix/4u'
DEMO_PASSWORD = 'quickstart-demo'
# Quotas of every project: the walk's servers plus a user's "--min 10".
QUOTA_INSTANCES = 100
QUOTA_CORES = 200
QUOTA_RAM_MB = 204800
REGION = 'RegionOne'
# The nova-compute service's host: the ML2 driver binds its ports.
NOVA_HOST = 'quickstart-compute'


def render(sections, overrides=None):
    """dict of sections -> ini text (values already strings)."""
    sections = {k: dict(v) for k, v in sections.items()}
    for section, values in (overrides or {}).items():
        sections.setdefault(section, {}).update(values)
    out = []
    for section, values in sections.items():
        out.append('[%s]' % section)
        for key, value in values.items():
            out.append('%s = %s' % (key, value))
        out.append('')
    return '\n'.join(out)


def db(lay, name):
    """The service's database on the stack's own MariaDB."""
    return 'mysql+pymysql://openstack:%s@127.0.0.1:%d/%s?charset=utf8' % (
        DB_PASSWORD, lay.ports['mysql'], name)


NOVNC_WEB = '/usr/share/novnc'


class Layout(object):
    """Ports and paths of one stack."""

    def __init__(self, workdir, ports, nutanix, overrides=None):
        self.workdir = os.path.abspath(workdir)
        # {service: {section: {key: value}}} merged over the defaults
        self.overrides = overrides or {}
        self.ports = ports
        # nutanix: dict(endpoint, username, password, storage_container)
        self.nutanix = nutanix

    def path(self, *parts):
        return os.path.join(self.workdir, *parts)

    def url(self, service, suffix=''):
        return 'http://127.0.0.1:%d%s' % (self.ports[service], suffix)

    @property
    def auth_url(self):
        return self.url('keystone', '/v3')

    @property
    def transport_url(self):
        return 'rabbit://guest:guest@127.0.0.1:%d/' % self.ports['rabbit']

    @property
    def emulated(self):
        return self.nutanix['endpoint'] == self.url('emulator')

    def novnc_url(self):
        return self.url('novncproxy', '/vnc_lite.html')

    def vnc(self):
        """nova.conf [vnc]: nova-novncproxy on loopback."""
        return {
            'enabled': 'True',
            'server_listen': '127.0.0.1',
            'server_proxyclient_address': '127.0.0.1',
            'novncproxy_host': '127.0.0.1',
            'novncproxy_port': str(self.ports['novncproxy']),
            'novncproxy_base_url': self.novnc_url(),
        }

    def console_proxy(self):
        """[nutanix] console options: the emulator's console server.

        A real cluster's consoles are relayed by Prism (its own host and
        port, the driver's defaults).
        """
        if not self.emulated:
            return {}
        return {'console_proxy_host': '127.0.0.1',
                'console_proxy_port': str(self.ports['vnc'])}

    def authtoken(self):
        return {
            'www_authenticate_uri': self.auth_url,
            'auth_url': self.auth_url,
            'auth_type': 'password',
            'project_domain_name': 'Default',
            'user_domain_name': 'Default',
            'project_name': 'admin',
            'username': 'admin',
            'password': ADMIN_PASSWORD,
            'region_name': REGION,
        }

    def service_auth(self, **extra):
        values = {
            'auth_url': self.auth_url,
            'auth_type': 'password',
            'project_domain_name': 'Default',
            'user_domain_name': 'Default',
            'project_name': 'admin',
            'username': 'admin',
            'password': ADMIN_PASSWORD,
            'region_name': REGION,
        }
        values.update(extra)
        return values

    def nutanix_opts(self, prefix):
        n = self.nutanix
        return {
            prefix + 'endpoints': n['endpoint'],
            prefix + 'username': n['username'],
            prefix + 'password': n['password'],
            prefix + 'verify_ssl': str(n.get('verify_ssl', False)),
            prefix + 'storage_container': n['storage_container'],
            prefix + 'task_poll_interval': '0.2',
        }


def keystone_conf(lay):
    return render(overrides=lay.overrides.get('keystone'), sections={
        'DEFAULT': {'log_file': lay.path('logs', 'keystone-app.log')},
        'database': {'connection': db(lay, 'keystone')},
        'token': {'provider': 'fernet'},
        'fernet_tokens': {'key_repository': lay.path('keystone',
                                                     'fernet-keys')},
        'credential': {'key_repository': lay.path('keystone',
                                                  'credential-keys')},
    })


def glance_conf(lay):
    return render(overrides=lay.overrides.get('glance'), sections={
        'DEFAULT': {
            'log_file': lay.path('logs', 'glance-app.log'),
            # "web": Glance's read-only http store, for images whose data
            # stays at a URL (Horizon's "create image from URL" adds such
            # a location); the cluster fetches the bytes at first use.
            'enabled_backends': 'cluster:nutanix,web:http',
            'show_image_direct_url': 'True',
            'show_multiple_locations': 'True',
            'enabled_import_methods': '[glance-direct,web-download]',
            'worker_self_reference_url': lay.url('glance'),
        },
        'database': {'connection': db(lay, 'glance')},
        'paste_deploy': {'flavor': 'keystone'},
        'keystone_authtoken': lay.authtoken(),
        'oslo_policy': {'enforce_new_defaults': 'False',
                        'enforce_scope': 'False'},
        'glance_store': {'default_backend': 'cluster'},
        'cluster': dict(lay.nutanix_opts('nutanix_'),
                        store_description='Nutanix AHV cluster'),
        # web-download from the walk's file server on a free loopback port
        # (Glance refuses loopback hosts and ports other than 80 and 443
        # by default).
        'import_filtering_opts': {'allowed_hosts': '[127.0.0.1]',
                                  'allowed_ports': '[]'},
        'os_glance_staging_store': {
            'filesystem_store_datadir': lay.path('glance', 'staging')},
        'os_glance_tasks_store': {
            'filesystem_store_datadir': lay.path('glance', 'tasks')},
        'oslo_concurrency': {'lock_path': lay.path('locks')},
    })


def placement_conf(lay):
    return render(overrides=lay.overrides.get('placement'), sections={
        'DEFAULT': {'log_file': lay.path('logs', 'placement-app.log')},
        'placement_database': {
            'connection': db(lay, 'placement')},
        'api': {'auth_strategy': 'keystone'},
        'keystone_authtoken': lay.authtoken(),
    })


def nova_conf(lay):
    return render(overrides=lay.overrides.get('nova'), sections={
        'DEFAULT': {
            'compute_driver': 'nutanix.NutanixDriver',
            'transport_url': lay.transport_url,
            'state_path': lay.path('nova'),
            'instances_path': lay.path('nova', 'instances'),
            'my_ip': '127.0.0.1',
            # One compute node: a resize can only stay where it is.
            'allow_resize_to_same_host': 'True',
            'host': NOVA_HOST,
            # Ports go ACTIVE when the NIC poller sees their NIC (within a
            # second or two); a port that never does fails the boot.
            'vif_plugging_timeout': '120',
            'vif_plugging_is_fatal': 'True',
            'use_rootwrap_daemon': 'False',
            'osapi_compute_workers': '1',
            'metadata_workers': '1',
            # noVNC's pages for nova-novncproxy (Debian's novnc).
            'web': NOVNC_WEB,
        },
        'api': {'auth_strategy': 'keystone'},
        'api_database': {'connection': db(lay, 'nova_api')},
        'database': {'connection': db(lay, 'nova')},
        'keystone_authtoken': lay.authtoken(),
        'placement': lay.service_auth(),
        'glance': {'region_name': REGION},
        'cinder': dict(lay.service_auth(), os_region_name=REGION,
                       catalog_info='block-storage:cinderv3:publicURL'),
        'neutron': lay.service_auth(),
        'service_user': dict(lay.service_auth(),
                             send_service_user_token='True'),
        'scheduler': {'discover_hosts_in_cells_interval': '2'},
        # Default quotas of every project: the walk's servers and a user's
        # "openstack server create --min 10" fit.
        'quota': {'instances': str(QUOTA_INSTANCES),
                  'cores': str(QUOTA_CORES),
                  'ram': str(QUOTA_RAM_MB)},
        'conductor': {'workers': '1'},
        'vnc': lay.vnc(),
        'oslo_concurrency': {'lock_path': lay.path('locks')},
        'oslo_policy': {'enforce_new_defaults': 'False',
                        'enforce_scope': 'False'},
        'nutanix': dict({
            'endpoints': lay.nutanix['endpoint'],
            'username': lay.nutanix['username'],
            'password': lay.nutanix['password'],
            'verify_ssl': str(lay.nutanix.get('verify_ssl', False)),
            'storage_container': lay.nutanix['storage_container'],
            'task_poll_interval': '0.2',
        }, **lay.console_proxy()),
    })


def cinder_conf(lay):
    return render(overrides=lay.overrides.get('cinder'), sections={
        'DEFAULT': {
            'transport_url': lay.transport_url,
            'auth_strategy': 'keystone',
            'enabled_backends': 'nutanix',
            'default_volume_type': 'nutanix',
            'state_path': lay.path('cinder'),
            'log_dir': lay.path('logs'),
            'osapi_volume_workers': '1',
            'host': 'quickstart',
            'glance_catalog_info': 'image:glance:publicURL',
            'allowed_direct_url_schemes': 'nutanix',
            'use_multipath_for_image_xfer': 'False',
            # Wheels install it under sys.prefix, not /etc/cinder; without
            # it cinder-api ignores every list filter (name, status...).
            'resource_query_filters_file': os.path.join(
                sys.prefix, 'etc', 'cinder', 'resource_filters.json'),
        },
        'database': {'connection': db(lay, 'cinder')},
        'keystone_authtoken': lay.authtoken(),
        'nova': lay.service_auth(),
        'service_user': dict(lay.service_auth(),
                             send_service_user_token='True'),
        'oslo_concurrency': {'lock_path': lay.path('locks')},
        # Backups are switched off in the policy (no cinder-backup runs
        # until a Nutanix backup driver exists): 403, and no backup record
        # that could never be deleted.
        'oslo_policy': {'enforce_new_defaults': 'False',
                        'enforce_scope': 'False',
                        'policy_file': lay.path('etc', 'cinder',
                                                'policy.yaml')},
        'coordination': {'backend_url': 'file://%s'
                         % lay.path('cinder', 'coordination')},
        'nutanix': dict(
            lay.nutanix_opts('nutanix_'),
            volume_driver=(
                'nutanix_openstack.cinder.driver.NutanixVolumeDriver'),
            volume_backend_name='nutanix'),
    })


# The quick start's provider network: a flat network on this physical
# network is an untagged AHV subnet; tenant networks get VLANs of the range.
PHYSNET = 'physnet1'
TENANT_VLANS = '100:199'


# Cinder policy rules that switch the backup API off ("!": nobody).
CINDER_BACKUP_OFF = ('backup:create', 'backup:restore', 'backup:update',
                     'backup:backup-import', 'backup:export-import')


def cinder_policy():
    lines = ['# The quick start runs no cinder-backup: backups are refused '
             '(403).']
    lines += ['"%s": "!"' % rule for rule in CINDER_BACKUP_OFF]
    return '\n'.join(lines) + '\n'


def neutron_conf(lay):
    # ML2 with the "nutanix" mechanism driver and no L2 agent: flat and
    # VLAN networks on physnet1 become AHV subnets of the cluster, ports of
    # the compute host become VM NICs, and the driver's NIC poller (in
    # neutron-periodic-workers) sets them ACTIVE, which sends Nova
    # network-vif-plugged.
    return render(overrides=lay.overrides.get('neutron'), sections={
        'DEFAULT': {
            'core_plugin': 'ml2',
            'service_plugins': '',
            'transport_url': lay.transport_url,
            'auth_strategy': 'keystone',
            'log_file': lay.path('logs', 'neutron-app.log'),
            'api_workers': '1',
            'rpc_workers': '1',
            'notify_nova_on_port_status_changes': 'True',
            'notify_nova_on_port_data_changes': 'True',
            'state_path': lay.path('neutron'),
        },
        'database': {'connection': db(lay, 'neutron')},
        'keystone_authtoken': lay.authtoken(),
        'nova': lay.service_auth(),
        'ml2': {'type_drivers': 'flat,vlan', 'tenant_network_types': 'vlan',
                'mechanism_drivers': 'nutanix', 'extension_drivers': ''},
        'ml2_type_flat': {'flat_networks': PHYSNET},
        'ml2_type_vlan': {'network_vlan_ranges': '%s:%s' % (PHYSNET,
                                                            TENANT_VLANS)},
        'ml2_nutanix': dict(
            {k: v for k, v in lay.nutanix_opts('').items()
             if k != 'storage_container'},
            compute_hosts=NOVA_HOST,
            physical_networks=PHYSNET,
            nic_poll_interval='0.5',
            nic_poll_initial_delay='0'),
        'oslo_concurrency': {'lock_path': lay.path('locks')},
        'oslo_policy': {'enforce_new_defaults': 'False',
                        'enforce_scope': 'False'},
    })


def emulator_conf(lay, data_dir, ceph=None):
    """``ceph``: dict(ceph_conf, rbd_pool, rbd_user) for disks on RBD."""
    sections = {
        'emulator': {
            'listen_host': '127.0.0.1',
            'listen_port': str(lay.ports['emulator']),
            'data_dir': data_dir,
            'username': lay.nutanix['username'],
            'password': lay.nutanix['password'],
            'task_mode': 'async',
            # VM consoles (RFB) for nova-novncproxy, on listen_host.
            'console_port': str(lay.ports['vnc']),
            # The walk's cluster-side URL import fetches from a file
            # server on 127.0.0.1 (refused by default: SSRF).
            'allow_local_url_sources': 'True',
        },
    }
    if ceph:
        sections['storage'] = dict(ceph, backend='rbd')
    return render(sections)
