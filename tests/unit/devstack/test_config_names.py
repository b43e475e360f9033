"""The option names the DevStack plugin writes and the annotated examples
in etc/ use are options the drivers really register (a typo would be
silently ignored by oslo.config)."""

import os

import pytest

from nutanix_openstack.cinder import options as cinder_options
from nutanix_openstack.glance import options as glance_options
from nutanix_openstack.nova import conf as nova_conf
from tests.unit.devstack import harness

ETC = os.path.join(harness.REPO, 'etc')

GLANCE_NAMES = {o.name for o in glance_options.OPTIONS}
CINDER_NAMES = {o.name for o in cinder_options.ALL_OPTS}
NOVA_NAMES = {o.name for _, opts in nova_conf.list_opts() for o in opts}


def uncommented(path):
    """The example with its commented-out settings enabled."""
    text = []
    with open(path) as f:
        for line in f:
            stripped = line.lstrip('#')
            if '=' in stripped or stripped.startswith('['):
                text.append(stripped)
    return ''.join(text)


def parse_example(tmp_path, name):
    copy = tmp_path / name
    copy.write_text(uncommented(os.path.join(ETC, name)))
    return harness.parse_ini(str(copy))


def nutanix_keys(section):
    return {k for k in section if k.startswith('nutanix_')}


def test_glance_example(tmp_path):
    conf = parse_example(tmp_path, 'glance-api.conf.nutanix-example')
    assert conf['DEFAULT']['enabled_backends'] == 'cluster1:nutanix'
    assert nutanix_keys(conf['cluster1']) <= GLANCE_NAMES
    assert nutanix_keys(conf['glance_store']) <= GLANCE_NAMES
    assert 'nutanix_storage_container' in conf['cluster1']


def test_cinder_example(tmp_path):
    conf = parse_example(tmp_path, 'cinder.conf.nutanix-example')
    backend = conf['nutanix-1']
    assert backend['volume_driver'] == \
        'nutanix_openstack.cinder.driver.NutanixVolumeDriver'
    assert nutanix_keys(backend) <= CINDER_NAMES
    assert 'nutanix_storage_container' in backend


def test_nova_example(tmp_path):
    conf = parse_example(tmp_path, 'nova.conf.nutanix-example')
    assert conf['DEFAULT']['compute_driver'] == 'nutanix.NutanixDriver'
    assert set(conf['nutanix']) <= NOVA_NAMES


@pytest.fixture(scope='module')
def stacked(tmp_path_factory):
    n = harness.DevStack(tmp_path_factory.mktemp('names'),
                         NUTANIX_CLUSTER='c', NUTANIX_CA_FILE='/ca.pem')
    n.write_devstack_configs()
    try:
        n.stack()
    finally:
        n.kill_leftovers()
    return n


def test_plugin_writes_registered_names(stacked):
    glance = harness.parse_ini(stacked.glance_api_conf)['nutanix']
    assert set(glance) <= GLANCE_NAMES
    cinder = harness.parse_ini(stacked.cinder_conf)['nutanix']
    assert nutanix_keys(cinder) <= CINDER_NAMES
    assert 'nutanix_cluster' in cinder and 'nutanix_ca_file' in cinder
    nova = harness.parse_ini(stacked.nova_conf)['nutanix']
    assert set(nova) <= NOVA_NAMES
    assert 'cluster' in nova and 'ca_file' in nova
