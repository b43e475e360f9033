"""Options, the console script's conf parsing and the WSGI entry point."""

import pytest
from werkzeug.test import Client

from nutanix_openstack.emulator import cmd
from nutanix_openstack.emulator import config
from nutanix_openstack.emulator import inventory
from nutanix_openstack.emulator import wsgi
from nutanix_openstack import opts
from tests.unit.emulator import memstore


def test_list_opts_have_help():
    groups = opts.list_emulator_opts()
    assert groups[0][0] == 'emulator'
    for opt in groups[0][1]:
        assert opt.help and len(opt.help) > 20, opt.name


def test_make_conf_is_private_and_overridable():
    conf = config.make_conf(task_mode='immediate', listen_port=1234)
    assert conf.emulator.task_mode == 'immediate'
    assert conf.emulator.listen_port == 1234
    assert config.make_conf().emulator.task_mode == 'async'


def test_cmd_reads_config_file(tmp_path):
    conf_file = tmp_path / 'e.conf'
    conf_file.write_text('[emulator]\nlisten_port = 9555\n'
                         'data_dir = %s\n' % tmp_path)
    conf = cmd.build_conf(['--config-file', str(conf_file)])
    assert conf.emulator.listen_port == 9555
    assert conf.emulator.data_dir == str(tmp_path)


def test_wsgi_application_from_env(tmp_path, monkeypatch):
    conf_file = tmp_path / 'e.conf'
    conf_file.write_text('[emulator]\ndata_dir = %s\nusername = u\n'
                         'password = p\n' % (tmp_path / 'data'))
    monkeypatch.setenv(wsgi.CONFIG_ENV, str(conf_file))
    monkeypatch.setattr('nutanix_openstack.emulator.backend.'
                        'default_disk_store', memstore.MemoryDiskStore)
    app = wsgi._LazyApplication()
    resp = Client(app).get('/api/clustermgmt/v4.3/config/clusters',
                           headers={'Authorization': 'Basic dTpw'})
    assert resp.status_code == 200
    assert len(resp.get_json()['data']) == 2


def test_second_wsgi_worker_on_one_data_dir_refuses_and_says_why(
        tmp_path, monkeypatch):
    conf_file = tmp_path / 'e.conf'
    conf_file.write_text('[emulator]\ndata_dir = %s\nusername = u\n'
                         'password = p\n' % (tmp_path / 'data'))
    monkeypatch.setenv(wsgi.CONFIG_ENV, str(conf_file))
    monkeypatch.setattr('nutanix_openstack.emulator.backend.'
                        'default_disk_store', memstore.MemoryDiskStore)
    first, second = wsgi._LazyApplication(), wsgi._LazyApplication()
    path = '/api/clustermgmt/v4.3/config/clusters'
    auth = {'Authorization': 'Basic dTpw'}
    assert Client(first).get(path, headers=auth).status_code == 200
    resp = Client(second).get(path, headers=auth)
    assert resp.status_code == 503
    error = resp.get_json()['data']['error'][0]
    assert 'already served by another process' in error['message']
    assert error['errorGroup'] == 'EMULATOR_DATA_DIR_IN_USE'
    first._app.extensions['nutanix_emulator'].close()


def test_wsgi_without_config_fails_clearly(tmp_path, monkeypatch):
    monkeypatch.setenv(wsgi.CONFIG_ENV, str(tmp_path / 'missing.conf'))
    with pytest.raises(RuntimeError, match='not found'):
        wsgi.init_application()


def test_inventory_sample_file_loads():
    import os
    sample = os.path.join(os.path.dirname(__file__), '..', '..', '..',
                          'etc', 'nutanix-emulator-inventory.yaml.sample')
    inv = inventory.load(sample)
    assert inv.cluster['name']
    assert inv.default_container['ext_id']
    assert inv.hosts
    assert [s['name'] for s in inv.virtual_switches] == ['vs0']


def test_inventory_virtual_switches_need_name_and_ext_id(tmp_path):
    bad = tmp_path / 'inv.yaml'
    bad.write_text('cluster: {name: c, ext_id: x}\n'
                   'storage_containers: [{name: s, ext_id: y}]\n'
                   'virtual_switches: [{name: vs1}]\n')
    with pytest.raises(ValueError, match='virtual switch'):
        inventory.load(str(bad))


def test_inventory_needs_cluster(tmp_path):
    bad = tmp_path / 'inv.yaml'
    bad.write_text('hosts: []\n')
    with pytest.raises(ValueError):
        inventory.load(str(bad))
