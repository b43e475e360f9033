"""The DevStack plugin, run phase by phase under bash against stand-ins of
the DevStack functions it calls (fake_devstack/functions), checking the
glance-api.conf, cinder.conf, nova.conf and tempest.conf it leaves key by
key, and that the nutanix-emulator it starts (the real console script)
answers on its port with its credentials."""

import os
import subprocess

from oslo_config import cfg
import pytest
import requests

from nutanix_openstack.cinder import options as cinder_options
from nutanix_openstack.glance import options as glance_options
from nutanix_openstack.neutron import config as neutron_config
from nutanix_openstack.nova import conf as nova_conf
from nutanix_openstack.prism import client
from tests.unit.devstack import harness

# The emulator's password in emulator mode (the same as the quick start's).
SECRET = 'Nutanix/4u'


def client_from(path, group, opts, prefix=''):
    """The Prism client a service builds from the file the plugin wrote."""
    conf = cfg.ConfigOpts()
    conf.register_opts(opts, group=group)
    conf(['--config-file', path], project='devstack-test',
         default_config_files=[])
    return conf[group], client.PrismClient.from_conf(conf[group], prefix)


def check_services_reach_the_cluster(n):
    """Check that every service's section works with the real driver options.

    It parses with the driver's options and gives a client that finds the
    cluster and the storage container.
    """
    sections = [
        (n.nova_conf, 'nutanix', [o for _, opts in nova_conf.list_opts()
                                  for o in opts], '', 'storage_container'),
        (n.cinder_conf, 'nutanix', cinder_options.ALL_OPTS, 'nutanix_',
         'nutanix_storage_container'),
        (n.glance_api_conf, 'nutanix', glance_options.store_opts(),
         'nutanix_', 'nutanix_storage_container'),
    ]
    # Neutron's ML2 driver: the connection, no storage container.
    group_conf, prism = client_from(
        n.ml2_conf, 'ml2_nutanix', neutron_config.list_opts()[0][1])
    assert prism.cluster_ext_id()
    for path, group, opts, prefix, container_opt in sections:
        group_conf, prism = client_from(path, group, opts, prefix)
        assert prism.cluster_ext_id()
        container = prism.clusters.find_storage_container(
            getattr(group_conf, container_opt),
            cluster_ext_id=prism.cluster_ext_id())
        assert container['name'] == getattr(group_conf, container_opt)


CLUSTERS = '/api/clustermgmt/v4.3/config/clusters'


def without_empty_sections(ini):
    return {name: keys for name, keys in ini.items() if keys}


@pytest.fixture
def node(tmp_path):
    nodes = []

    def make(**env):
        n = harness.DevStack(tmp_path / ('node%d' % len(nodes)), **env)
        nodes.append(n)
        return n

    yield make
    for n in nodes:
        n.kill_leftovers()


def stacked_emulator_node(root):
    """A node stacked in emulator mode (DevStack single-store Glance)."""
    n = harness.DevStack(root)
    n.write_devstack_configs()
    n.before = {path: harness.parse_ini(path) for path in (
        n.glance_api_conf, n.cinder_conf, n.nova_conf, n.nova_cpu_conf,
        n.tempest_conf, n.ml2_conf)}
    try:
        n.result = n.stack()
    except Exception:
        n.kill_leftovers()
        raise
    return n


@pytest.fixture(scope='class')
def stacked(tmp_path_factory):
    """One stacked node shared by the tests that only look at it."""
    n = stacked_emulator_node(tmp_path_factory.mktemp('stacked'))
    yield n
    n.kill_leftovers()


@pytest.fixture
def emulator_node(tmp_path):
    """A stacked node of the test's own, for tests that change it."""
    n = stacked_emulator_node(tmp_path / 'node')
    yield n
    n.kill_leftovers()


def endpoint_of(n):
    return 'http://127.0.0.1:%s' % n.env['NUTANIX_EMULATOR_PORT']


class TestEmulatorMode(object):

    def test_installs_the_package(self, stacked):
        assert 'setup_develop %s' % harness.REPO in stacked.calls()

    def test_emulator_runs_as_a_devstack_service(self, stacked):
        n = stacked
        assert 'nutanix-emulator' in n.result.stdout.split(
            'ENABLED_SERVICES=')[1].strip().split(',')
        started = [c for c in n.calls()
                   if c.startswith('run_process nutanix-emulator ')]
        assert started == [
            'run_process nutanix-emulator %s/nutanix-emulator --config-file '
            '%s/nutanix-emulator.conf' % (
                harness.BIN_DIR, n.env['NUTANIX_EMULATOR_CONF_DIR'])]
        assert harness.process_alive(n.pid('nutanix-emulator'))

    def test_emulator_config(self, stacked):
        n = stacked
        conf = harness.parse_ini(os.path.join(
            n.env['NUTANIX_EMULATOR_CONF_DIR'], 'nutanix-emulator.conf'))
        assert conf == {'emulator': {
            'listen_host': '127.0.0.1',
            'listen_port': n.env['NUTANIX_EMULATOR_PORT'],
            'data_dir': os.path.join(n.data, 'nutanix-emulator'),
            'task_mode': 'async',
            'username': 'admin',
            'password': SECRET,
        }}

    def test_emulator_answers_with_its_credentials(self, stacked):
        url = endpoint_of(stacked) + CLUSTERS
        ok = requests.get(url, auth=('admin', SECRET), timeout=10)
        assert ok.status_code == 200
        clusters = ok.json()['data']
        assert clusters
        bad = requests.get(url, auth=('admin', 'wrong'), timeout=10)
        assert bad.status_code == 401

    def test_services_reach_the_emulator(self, stacked):
        check_services_reach_the_cluster(stacked)

    def test_glance_multistore(self, stacked):
        n = stacked
        conf = harness.parse_ini(n.glance_api_conf)
        assert conf['DEFAULT'] == {
            'debug': 'True',
            'image_cache_dir': '%s/glance/cache/' % n.data,
            'enabled_backends': 'nutanix:nutanix',
            'show_image_direct_url': 'True',
            'show_multiple_locations': 'True',
        }
        assert conf['glance_store'] == {
            'filesystem_store_datadir': '%s/glance/images/' % n.data,
            'default_backend': 'nutanix',
        }
        assert conf['nutanix'] == {
            'nutanix_endpoints': endpoint_of(n),
            'nutanix_username': 'admin',
            'nutanix_password': SECRET,
            'nutanix_verify_ssl': 'True',
            'nutanix_storage_container': 'default-container',
        }
        for store in ('os_glance_staging_store', 'os_glance_tasks_store'):
            assert conf[store] == {
                'filesystem_store_datadir': '%s/glance/%s/' % (n.data, store)}

    def test_cinder_backend(self, stacked):
        n = stacked
        conf = harness.parse_ini(n.cinder_conf)
        assert conf['DEFAULT'] == {'debug': 'True',
                                   'default_volume_type': 'nutanix',
                                   'enabled_backends': 'nutanix'}
        assert conf['nutanix'] == {
            'volume_backend_name': 'nutanix',
            'volume_driver':
                'nutanix_openstack.cinder.driver.NutanixVolumeDriver',
            'nutanix_endpoints': endpoint_of(n),
            'nutanix_username': 'admin',
            'nutanix_password': SECRET,
            'nutanix_verify_ssl': 'True',
            'nutanix_storage_container': 'default-container',
            'nutanix_glance_store_id': 'nutanix',
        }

    def test_nova_driver(self, stacked):
        n = stacked
        conf = harness.parse_ini(n.nova_conf)
        assert conf == {
            'DEFAULT': {'debug': 'True',
                        'compute_driver': 'nutanix.NutanixDriver'},
            'glance': {'api_servers': 'http://x/image'},
            'nutanix': {
                'endpoints': endpoint_of(n),
                'username': 'admin',
                'password': SECRET,
                'verify_ssl': 'True',
                'storage_container': 'default-container',
            },
        }

    def test_nova_compute_config(self, stacked):
        n = stacked
        conf = harness.parse_ini(n.nova_cpu_conf)
        assert conf['DEFAULT'] == {'debug': 'True',
                                   'compute_driver': 'nutanix.NutanixDriver'}
        assert conf['key_manager'] == {'fixed_key': 'k'}
        assert conf['nutanix'] == harness.parse_ini(n.nova_conf)['nutanix']

    def test_nova_shim_linked_into_editable_nova(self, stacked):
        link = os.path.join(stacked.nova_src, 'nova', 'virt',
                            'nutanix')
        assert os.path.islink(link)
        assert os.readlink(link) == os.path.join(harness.REPO, 'nova',
                                                 'virt', 'nutanix')

    def test_tempest(self, stacked):
        conf = harness.parse_ini(stacked.tempest_conf)
        disabled = {feature: 'False' for feature in (
            'pause', 'suspend', 'console_output',
            'swap_volume', 'attach_encrypted_volume', 'live_migration',
            'block_migration_for_live_migration',
            'volume_backed_live_migration', 'vnc_console', 'serial_console',
            'spice_console')}
        # Rescue is implemented: left as DevStack set it.
        assert conf['compute-feature-enabled'] == dict(disabled,
                                                       rescue='True')
        assert conf['validation'] == {'run_validation': 'False'}
        assert conf['volume'] == {'storage_protocol': 'iSCSI',
                                  'vendor_name': 'Nutanix'}
        assert conf['volume-feature-enabled'] == {'backup': 'False'}
        assert conf['network-feature-enabled'] == {
            'ipv6': 'False', 'ipv6_subnet_attributes': 'False',
            'port_security': 'False'}

    def test_neutron_ml2_driver(self, stacked):
        conf = harness.parse_ini(stacked.ml2_conf)
        assert conf['ml2'] == {'type_drivers': 'flat,vlan',
                               'mechanism_drivers': 'nutanix'}
        assert conf['ml2_nutanix'] == {
            'endpoints': endpoint_of(stacked),
            'username': 'admin',
            'password': SECRET,
            'verify_ssl': 'True',
            'compute_hosts': subprocess.run(
                ['hostname', '-s'], capture_output=True,
                text=True).stdout.strip(),
            'physical_networks': 'physnet1',
        }

    def test_devstack_ml2_and_provider_network_defaults(self, stacked):
        assert stacked.devstack_vars(stacked.result.stdout) == {
            'Q_ML2_PLUGIN_MECHANISM_DRIVERS': 'nutanix',
            'Q_ML2_PLUGIN_TYPE_DRIVERS': 'flat,vlan',
            'Q_ML2_TENANT_NETWORK_TYPE': 'vlan',
            'PHYSICAL_NETWORK': 'physnet1',
            'ML2_VLAN_RANGES': 'physnet1:100:199',
            'Q_ML2_PLUGIN_FLAT_TYPE_OPTIONS': 'flat_networks=physnet1',
            'Q_USE_PROVIDER_NETWORKING': 'True',
            'PROVIDER_NETWORK_TYPE': 'flat',
        }

    def test_no_credential_in_the_trace(self, stacked):
        # stack.sh runs with xtrace on and logs it all.
        assert SECRET not in stacked.result.stdout
        assert SECRET not in stacked.result.stderr

    def test_unstack_stops_the_emulator_and_restores_configs(
            self, emulator_node):
        n = emulator_node
        pid = n.pid('nutanix-emulator')
        n.unstack()
        assert not harness.process_alive(pid)
        assert n.pid('nutanix-emulator') is None
        with pytest.raises(requests.ConnectionError):
            requests.get(endpoint_of(n) + CLUSTERS, timeout=5)
        for path in (n.glance_api_conf, n.nova_conf, n.nova_cpu_conf,
                     n.tempest_conf, n.ml2_conf):
            assert without_empty_sections(harness.parse_ini(path)) == \
                n.before[path], path
        # enabled_backends is lib/cinder's own, not the plugin's.
        assert without_empty_sections(harness.parse_ini(n.cinder_conf)) == {
            'DEFAULT': {'debug': 'True', 'default_volume_type': 'nutanix',
                        'enabled_backends': 'nutanix'}}
        # The emulator's data survive unstack (stack.sh restarts it).
        assert os.path.isdir(os.path.join(n.data, 'nutanix-emulator'))

    def test_restack_after_unstack_keeps_the_data(self, emulator_node):
        n = emulator_node
        data_dir = os.path.join(n.data, 'nutanix-emulator')
        state_files = set(os.listdir(data_dir))
        assert state_files
        n.unstack()
        n.stack()
        assert state_files <= set(os.listdir(data_dir))
        conf = harness.parse_ini(n.nova_conf)
        assert conf['DEFAULT']['compute_driver'] == 'nutanix.NutanixDriver'
        ok = requests.get(endpoint_of(n) + CLUSTERS, auth=('admin', SECRET),
                          timeout=10)
        assert ok.status_code == 200

    def test_clean_removes_everything(self, emulator_node):
        n = emulator_node
        n.clean()
        assert not os.path.exists(os.path.join(n.data, 'nutanix-emulator'))
        assert not os.path.exists(n.env['NUTANIX_EMULATOR_CONF_DIR'])
        assert not os.path.lexists(os.path.join(n.nova_src, 'nova', 'virt',
                                                'nutanix'))
        # Only the link went, not the shim it pointed to.
        assert os.path.isfile(os.path.join(harness.REPO, 'nova', 'virt',
                                           'nutanix', '__init__.py'))
        assert not os.path.exists(os.path.join(n.data, 'nutanix-openstack'))
        assert without_empty_sections(harness.parse_ini(n.nova_conf)) == \
            n.before[n.nova_conf]


class TestGlanceModes(object):

    def test_single_store_adds_the_store_only(self, node):
        n = node(NUTANIX_GLANCE_MULTISTORE='False')
        n.write_devstack_configs()
        n.stack()
        conf = harness.parse_ini(n.glance_api_conf)
        assert 'enabled_backends' not in conf['DEFAULT']
        # default_store only accepts glance_store's in-tree names.
        assert conf['glance_store'] == {
            'filesystem_store_datadir': '%s/glance/images/' % n.data,
            'stores': 'file,http,nutanix',
            'nutanix_endpoints': endpoint_of(n),
            'nutanix_username': 'admin',
            'nutanix_password': SECRET,
            'nutanix_verify_ssl': 'True',
            'nutanix_storage_container': 'default-container',
        }
        assert 'nutanix' not in conf

    def test_joins_devstack_multistore(self, node):
        n = node()
        n.write_devstack_configs(glance_multistore=True)
        n.stack()
        conf = harness.parse_ini(n.glance_api_conf)
        assert conf['DEFAULT']['enabled_backends'] == \
            'fast:file,nutanix:nutanix'
        assert conf['glance_store'] == {'default_backend': 'nutanix'}
        assert conf['fast'] == {
            'filesystem_store_datadir': '%s/glance/fast/' % n.data}
        assert conf['nutanix']['nutanix_endpoints'] == endpoint_of(n)
        n.unstack()
        conf = harness.parse_ini(n.glance_api_conf)
        assert conf['DEFAULT']['enabled_backends'] == 'fast:file'
        assert conf['glance_store'] == {'default_backend': 'fast'}

    def test_not_default_backend_when_asked(self, node):
        n = node(NUTANIX_GLANCE_DEFAULT_STORE='False',
                 NUTANIX_GLANCE_STORE_ID='ntnx')
        n.write_devstack_configs(glance_multistore=True)
        n.stack()
        conf = harness.parse_ini(n.glance_api_conf)
        assert conf['DEFAULT']['enabled_backends'] == 'fast:file,ntnx:nutanix'
        assert conf['glance_store'] == {'default_backend': 'fast'}
        assert conf['ntnx']['nutanix_username'] == 'admin'


class TestServiceSelection(object):

    def test_extra_cinder_backend_name(self, node):
        n = node(CINDER_ENABLED_BACKENDS='lvm:lvmdriver-1,nutanix:ntnx-1')
        n.write_devstack_configs()
        n.stack()
        conf = harness.parse_ini(n.cinder_conf)
        assert conf['DEFAULT']['enabled_backends'] == 'lvmdriver-1,ntnx-1'
        assert conf['ntnx-1']['volume_backend_name'] == 'ntnx-1'
        assert conf['ntnx-1']['nutanix_endpoints'] == endpoint_of(n)
        assert 'lvmdriver-1' not in conf

    def test_cinder_disabled_keeps_devstack_default_backend(self, node):
        n = node(NUTANIX_ENABLE_CINDER='False')
        n.write_devstack_configs()
        n.stack()
        conf = harness.parse_ini(n.cinder_conf)
        assert conf['DEFAULT']['enabled_backends'] == 'lvmdriver-1'
        assert 'nutanix' not in conf
        tempest = harness.parse_ini(n.tempest_conf)
        assert tempest['volume'] == {'storage_protocol': 'iSCSI'}
        assert 'volume-feature-enabled' not in tempest

    def test_nutanix_added_to_other_mechanism_drivers(self, node):
        n = node(Q_ML2_PLUGIN_MECHANISM_DRIVERS='ovn',
                 PHYSICAL_NETWORK='datacentre')
        n.write_devstack_configs()
        result = n.stack()
        values = n.devstack_vars(result.stdout)
        assert values['Q_ML2_PLUGIN_MECHANISM_DRIVERS'] == 'ovn,nutanix'
        assert values['ML2_VLAN_RANGES'] == 'datacentre:100:199'
        conf = harness.parse_ini(n.ml2_conf)
        assert conf['ml2_nutanix']['physical_networks'] == 'datacentre'

    def test_neutron_disabled(self, node):
        n = node(NUTANIX_ENABLE_NEUTRON='False')
        n.write_devstack_configs()
        before = harness.parse_ini(n.ml2_conf)
        result = n.stack()
        assert harness.parse_ini(n.ml2_conf) == before
        assert n.devstack_vars(result.stdout)[
            'Q_ML2_PLUGIN_MECHANISM_DRIVERS'] == ''
        assert 'network-feature-enabled' not in harness.parse_ini(
            n.tempest_conf)

    def test_nova_and_glance_disabled(self, node):
        n = node(NUTANIX_ENABLE_NOVA='False', NUTANIX_ENABLE_GLANCE='False')
        n.write_devstack_configs()
        before_nova = harness.parse_ini(n.nova_conf)
        before_glance = harness.parse_ini(n.glance_api_conf)
        n.stack()
        assert harness.parse_ini(n.nova_conf) == before_nova
        assert harness.parse_ini(n.glance_api_conf) == before_glance
        tempest = harness.parse_ini(n.tempest_conf)
        assert tempest['compute-feature-enabled'] == {'rescue': 'True'}
        assert 'validation' not in tempest
        # No Glance store to register volume uploads in.
        assert 'nutanix_glance_store_id' not in harness.parse_ini(
            n.cinder_conf)['nutanix']
        assert not os.path.lexists(os.path.join(n.nova_src, 'nova', 'virt',
                                                'nutanix'))


class TestRealClusterMode(object):
    """The same plugin pointed at a cluster.

    Here the emulator of another node stands in for Prism Central.
    """

    @pytest.fixture
    def cluster(self, node):
        c = node(NUTANIX_PASSWORD='cluster-pass-9')
        c.write_devstack_configs()
        c.stack()
        return c

    def test_no_emulator_and_services_point_at_the_cluster(
            self, node, cluster):
        endpoint = endpoint_of(cluster)
        n = node(NUTANIX_ENDPOINTS=endpoint, NUTANIX_USERNAME='admin',
                 NUTANIX_PASSWORD='cluster-pass-9',
                 NUTANIX_STORAGE_CONTAINER='SelfServiceContainer',
                 NUTANIX_CLUSTER='emulated-cluster',
                 NUTANIX_VERIFY_SSL='False')
        n.write_devstack_configs()
        result = n.stack()
        assert 'nutanix-emulator' not in result.stdout.split(
            'ENABLED_SERVICES=')[1]
        assert not [c for c in n.calls() if 'nutanix-emulator' in c]
        assert n.pid('nutanix-emulator') is None
        assert not os.path.exists(n.env['NUTANIX_EMULATOR_CONF_DIR'])
        expected = {
            'endpoints': endpoint, 'username': 'admin',
            'password': 'cluster-pass-9', 'verify_ssl': 'False',
            'cluster': 'emulated-cluster',
            'storage_container': 'SelfServiceContainer'}
        assert harness.parse_ini(n.nova_conf)['nutanix'] == expected
        prefixed = {'nutanix_' + k: v for k, v in expected.items()}
        cinder = harness.parse_ini(n.cinder_conf)['nutanix']
        assert {k: v for k, v in cinder.items()
                if k.startswith('nutanix_')} == dict(
                    prefixed, nutanix_glance_store_id='nutanix')
        assert harness.parse_ini(n.glance_api_conf)['nutanix'] == prefixed
        check_services_reach_the_cluster(n)
        assert 'cluster-pass-9' not in result.stderr
        n.unstack()
        # Unstacking this node leaves the cluster alone.
        assert harness.process_alive(cluster.pid('nutanix-emulator'))

    def test_wrong_credentials_stop_the_stack(self, node, cluster):
        n = node(NUTANIX_ENDPOINTS=endpoint_of(cluster),
                 NUTANIX_USERNAME='admin', NUTANIX_PASSWORD='not-it-7')
        n.write_devstack_configs()
        result = n.stack(check=False)
        assert result.returncode != 0
        assert 'does not answer with the configured credentials' in \
            result.stderr
        assert 'not-it-7' not in result.stderr + result.stdout
        # Nothing was configured with the bad credentials.
        assert 'nutanix' not in harness.parse_ini(n.nova_conf)

    def test_bare_host_port_means_https(self, node):
        cluster = node(NUTANIX_PASSWORD='cluster-pass-9',
                       NUTANIX_EMULATOR_TLS='True')
        cluster.write_devstack_configs()
        cluster.stack()
        cert = os.path.join(cluster.env['NUTANIX_EMULATOR_CONF_DIR'],
                            'emulator.crt')
        bare = '127.0.0.1:%s' % cluster.env['NUTANIX_EMULATOR_PORT']
        n = node(NUTANIX_ENDPOINTS=bare, NUTANIX_USERNAME='admin',
                 NUTANIX_PASSWORD='cluster-pass-9', NUTANIX_CA_FILE=cert,
                 NUTANIX_STORAGE_CONTAINER='default-container')
        n.write_devstack_configs()
        n.stack()
        assert harness.parse_ini(n.nova_conf)['nutanix']['endpoints'] == bare
        check_services_reach_the_cluster(n)

    def test_endpoint_without_credentials_is_refused(self, node):
        n = node(NUTANIX_ENDPOINTS='https://10.0.0.1:9440')
        n.write_devstack_configs()
        result = n.stack(check=False)
        assert result.returncode != 0
        assert 'set NUTANIX_USERNAME and NUTANIX_PASSWORD' in result.stderr
        assert 'setup_develop %s' % harness.REPO not in n.calls()


def test_bashate():
    files = [os.path.join(harness.REPO, 'devstack', f) for f in (
        'plugin.sh', 'settings', 'override-defaults')]
    lib = os.path.join(harness.REPO, 'devstack', 'lib')
    files += sorted(os.path.join(lib, f) for f in os.listdir(lib))
    result = subprocess.run(
        [os.path.join(harness.BIN_DIR, 'bashate'), '-i', 'E006', '-e', 'E*']
        + files, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_tls_emulator_with_a_trusted_certificate(node):
    n = node(NUTANIX_EMULATOR_TLS='True')
    n.write_devstack_configs()
    n.stack()
    cert = os.path.join(n.env['NUTANIX_EMULATOR_CONF_DIR'], 'emulator.crt')
    endpoint = 'https://127.0.0.1:%s' % n.env['NUTANIX_EMULATOR_PORT']
    nova = harness.parse_ini(n.nova_conf)['nutanix']
    assert nova['endpoints'] == endpoint
    assert nova['verify_ssl'] == 'True'
    assert nova['ca_file'] == cert
    cinder = harness.parse_ini(n.cinder_conf)['nutanix']
    assert cinder['nutanix_ca_file'] == cert
    ok = requests.get(endpoint + CLUSTERS, auth=('admin', SECRET),
                      verify=cert, timeout=10)
    assert ok.status_code == 200
    check_services_reach_the_cluster(n)
    n.clean()
    assert not os.path.exists(cert)
