"""The emulator with its disks on RBD ([storage] backend = rbd).

Needs the Ceph of ``bash tools/ceph.sh start`` (the ``ceph`` stage of
tools/run-tests.sh): images uploaded and downloaded through the v4/v3 API
are RBD images, clones of them are RBD clones, and an emulator whose Ceph
is down or whose pool is missing refuses to start, saying why.
"""

import hashlib
import os
import re
import subprocess
import sys
import textwrap

import pytest

from nutanix_openstack.emulator import fixture as emu_fixture
from nutanix_openstack.emulator.storage import rbdstore
from tests.functional.emulator import helpers
from tests.unit.emulator import backends

SETTINGS = backends.ceph_settings()


def _require_ceph():
    if SETTINGS is None:
        if os.environ.get(backends.SKIP_ENV) == '1':
            pytest.skip('%s=1 and no Ceph' % backends.SKIP_ENV)
        pytest.fail('no Ceph: bash tools/ceph.sh start (or %s=1 to skip)'
                    % backends.SKIP_ENV)


def _storage(**changes):
    conf, pool, user = SETTINGS
    opts = dict(backend='rbd', ceph_conf=conf, rbd_pool=pool, rbd_user=user)
    opts.update(changes)
    return opts


@pytest.fixture
def rbd_api():
    _require_ceph()
    fix = emu_fixture.EmulatorFixture(storage=_storage(),
                                      allow_local_url_sources=True)
    fix.setUp()
    fix.backend.reset()
    yield helpers.Api(fix)
    fix.backend.reset()
    fix.cleanUp()


def _pool_images():
    conf, pool, user = SETTINGS
    store = rbdstore.RbdDiskStore(conf, pool, user)
    try:
        return sorted(store._rbd.list(store._ioctx))
    finally:
        store.close()


def test_image_bytes_round_trip_through_an_rbd_image(rbd_api):
    data = os.urandom(3 * 1024 * 1024 + 17)
    ext_id = rbd_api.upload_image(data, name='on-rbd', image_type='ISO_IMAGE')
    assert rbd_api.image(ext_id)['sizeBytes'] == len(data)
    got = rbd_api.image_bytes(ext_id)
    assert hashlib.sha256(got).hexdigest() == hashlib.sha256(data).hexdigest()
    assert 'disk.%s' % ext_id in _pool_images()
    info = rbd_api.emulator.admin.disk_info(ext_id)
    assert info['chain'] == ['disk.%s' % ext_id]
    # Reset empties the pool.
    rbd_api.emulator.backend.reset()
    assert _pool_images() == []


def test_cluster_capacity_comes_from_the_pool(rbd_api):
    stats = rbd_api.emulator.backend.disks.stats()
    assert stats['capacity_bytes'] > 0
    assert stats['disks'] == 0


def _start_emulator(tmp_path, storage):
    conf = tmp_path / 'emulator.conf'
    lines = ['[emulator]', 'listen_port = 0',
             'data_dir = %s' % (tmp_path / 'data'), '[storage]']
    lines += ['%s = %s' % item for item in storage.items()]
    conf.write_text('\n'.join(lines) + '\n')
    code = textwrap.dedent('''
        import sys
        from nutanix_openstack.emulator import cmd
        sys.exit(cmd.main(['--config-file', sys.argv[1]]))
    ''')
    return subprocess.run([sys.executable, '-c', code, str(conf)],
                          capture_output=True, text=True, timeout=120)


def test_emulator_refuses_to_start_when_the_pool_is_missing(tmp_path):
    _require_ceph()
    proc = _start_emulator(tmp_path, _storage(rbd_pool='no-such-pool'))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert 'listening' not in proc.stdout
    assert "Ceph pool 'no-such-pool' does not exist" in proc.stderr


def test_emulator_refuses_to_start_when_ceph_is_down(tmp_path):
    _require_ceph()
    # A ceph.conf whose monitor address has nothing behind it.
    conf, _pool, _user = SETTINGS
    down = tmp_path / 'down.conf'
    with open(conf) as f:
        text = f.read()
    port = emu_fixture.free_port()
    down.write_text(re.sub(r'mon_host = .*', 'mon_host = [v2:127.0.0.1:%d]'
                           % port, text))
    proc = _start_emulator(tmp_path, _storage(ceph_conf=str(down),
                                              rbd_connect_timeout=3))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert 'listening' not in proc.stdout
    assert 'cannot connect to the Ceph cluster' in proc.stderr
    # The client's key never shows up in the message.
    assert 'key' not in proc.stderr.split('cannot start:')[-1].lower()


def test_emulator_refuses_to_start_without_a_ceph_conf(tmp_path):
    proc = _start_emulator(tmp_path, dict(backend='rbd',
                                          ceph_conf=str(tmp_path / 'none')))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert 'not found' in proc.stderr
