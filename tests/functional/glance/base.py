"""The nutanix store, configured for an emulator served on loopback."""

import io
import os
import shutil
import subprocess

import glance_store
from glance_store import location as g_location
from oslo_config import cfg
import testtools

from nutanix_openstack.emulator import fixture as emu_fixture
from nutanix_openstack.glance import store as nstore

IMAGE_ID = '961973d8-3360-4364-919e-2c197825dbb4'


def store_options(emu, **overrides):
    opts = dict(nutanix_endpoints=[emu.endpoint],
                nutanix_ca_file=getattr(emu, 'ca_file', None),
                nutanix_username=emu.username,
                nutanix_password=emu.password,
                nutanix_storage_container=emu.container_name,
                nutanix_task_poll_interval=0.05,
                nutanix_api_retry_interval=0.05)
    opts.update(overrides)
    return opts


def make_qcow2(directory, raw_bytes, name='disk'):
    """A real qcow2 file (qemu-img convert) holding ``raw_bytes``."""
    raw = os.path.join(directory, name + '.raw')
    qcow2 = os.path.join(directory, name + '.qcow2')
    with open(raw, 'wb') as f:
        f.write(raw_bytes)
    subprocess.check_call(['qemu-img', 'convert', '-q', '-f', 'raw', '-O',
                           'qcow2', raw, qcow2])
    with open(qcow2, 'rb') as f:
        return f.read()


def pattern(size, seed=7):
    """Non-repeating-looking, non-zero bytes (zero chunks are not stored)."""
    block = bytes((i * seed + (i >> 8)) % 251 + 1 for i in range(65536))
    return (block * (size // len(block) + 1))[:size]


class EmulatorStoreTestCase(testtools.TestCase):
    """A single-store glance_store config whose only store is ours."""

    backend = None
    emulator_kwargs = {}

    def setUp(self):
        super(EmulatorStoreTestCase, self).setUp()
        if not shutil.which('qemu-img'):
            self.skipTest('qemu-img (qemu-utils) is required by the '
                          'emulator image import')
        self.emu = self.useFixture(emu_fixture.EmulatorFixture(
            **self.emulator_kwargs))
        self.client = self.emu.prism_client()
        self.conf = cfg.ConfigOpts()
        self.conf(args=[])
        glance_store.register_opts(self.conf)
        saved = dict(g_location.SCHEME_TO_CLS_MAP)
        self.addCleanup(setattr, g_location, 'SCHEME_TO_CLS_MAP', saved)
        self.store = self.make_store()

    def make_store(self, **overrides):
        store = nstore.Store(self.conf)
        for k, v in store_options(self.emu, **overrides).items():
            self.conf.set_override(k, v, 'glance_store')
        store.configure()
        g_location.register_scheme_map({'nutanix': {
            'store': store, 'location_class': nstore.StoreLocation,
            'store_entry': 'nutanix'}})
        return store

    def location(self, uri):
        return g_location.get_location_from_uri(uri, conf=self.conf)

    def add(self, data, size=None, algo='sha512', image_id=IMAGE_ID,
            store=None):
        return (store or self.store).add(
            image_id, io.BytesIO(data), len(data) if size is None else size,
            algo)

    def read(self, uri, **kw):
        it, _size = self.store.get(self.location(uri), **kw)
        return b''.join(it)

    def images(self):
        """extIds of every image the emulator holds."""
        return set(self.emu.admin.inventory()['objects'].get('image', []))
