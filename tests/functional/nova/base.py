"""Functional tests of the Nova driver against the emulator, over HTTP.

The emulator runs as a real subprocess (``nutanix-emulator``): Nova's test
machinery monkey-patches eventlet, and an in-process server thread would
block the patched process.  One emulator serves the whole pytest process
and is reset between tests through its admin API.
"""

import atexit
import copy
import importlib
import os
import shutil
import sys
import tempfile
import unittest

from oslo_config import fixture as config_fixture
from oslo_utils import uuidutils

from nova import conf as nova_conf
from nova import context as nova_context
from nova import exception
from nova import objects
import nova.virt
from nova.virt import fake

from nutanix_openstack.emulator import fixture as emulator_fixture
from nutanix_openstack.nova import conf as nutanix_conf
from nutanix_openstack.nova import driver

CONF = nova_conf.CONF
objects.register_all()

GiB = 1024 ** 3
MiB = 1024 ** 2

_EMULATOR = None
# Taken at import: nova.test.TestCase points tempfile at a per-test
# directory that is removed after each test, and the shared emulator must
# outlive the test that starts it.
_TMP = tempfile.gettempdir()


def emulator():
    """The shared emulator subprocess, started on first use."""
    global _EMULATOR
    if _EMULATOR is None:
        data_dir = tempfile.mkdtemp(prefix='nova-emu-', dir=_TMP)
        emu = emulator_fixture.EmulatorProcess(data_dir=data_dir,
                                               console_port=0)
        emu.start()
        atexit.register(shutil.rmtree, data_dir, True)
        atexit.register(emu.stop)
        _EMULATOR = emu
    return _EMULATOR


REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
REPO_SHIM_DIR = os.path.join(REPO, 'nova', 'virt')


def installed_shim():
    """The ``nova.virt.nutanix`` module if it imports unaided, else None."""
    sys.modules.pop('nova.virt.nutanix', None)
    try:
        return importlib.import_module('nova.virt.nutanix')
    except ImportError:
        sys.modules.pop('nova.virt.nutanix', None)
        return None


def use_shim(test):
    """Make ``nova.virt.nutanix`` importable for the duration of a test.

    Installed (non-editable, as tools/run-tests.sh and production install
    the project), the shim sits in Nova's package directory and nothing is
    done.  In an editable development install pip puts nothing there, so
    the repository's ``nova/virt`` joins ``nova.virt.__path__``: the place
    an install puts the file.  Returns the installed module or None.
    """
    shim = installed_shim()
    if shim is None:
        original = list(nova.virt.__path__)
        nova.virt.__path__.append(REPO_SHIM_DIR)
        test.addCleanup(setattr, nova.virt, '__path__', original)
        test.addCleanup(sys.modules.pop, 'nova.virt.nutanix', None)
    return shim


def configure(conf_fixture, emu, **overrides):
    """Point ``[nutanix]`` at the emulator (and oslo locks at a temp dir)."""
    nutanix_conf.register_opts(CONF)
    values = dict(endpoints=[emu.endpoint], username=emu.username,
                  password=emu.password, verify_ssl=False,
                  storage_container=emu.container_name,
                  task_poll_interval=0.05, api_retry_interval=0.05,
                  clean_shutdown_poll_interval=1)
    values.update(overrides)
    conf_fixture.config(group='nutanix', **values)
    conf_fixture.config(lock_path=tempfile.mkdtemp(),
                        group='oslo_concurrency')


class FakeImageService(object):
    """A stand-in for Nova's Glance image API (the API the driver uses).

    ``accept_nutanix_locations`` plays a Glance whose nutanix store takes
    ``nutanix://`` locations (it checks, as the store would, that the
    backend image exists); without it a location is refused the way Glance
    refuses an unknown scheme.
    """

    def __init__(self, client=None, accept_nutanix_locations=True):
        self.images = {}
        self.data = {}
        self.downloads = []
        self.client = client
        self.accept = accept_nutanix_locations

    def add(self, data=b'', disk_format='raw', locations=(), **meta):
        image_id = meta.pop('id', None) or uuidutils.generate_uuid()
        self.images[image_id] = dict(
            meta, id=image_id, disk_format=disk_format,
            container_format='bare', size=len(data), status='active',
            locations=[{'url': u, 'metadata': {}} for u in locations],
            properties={})
        self.data[image_id] = data
        return image_id

    def get(self, context, image_id, include_locations=False):
        if image_id not in self.images:
            raise exception.ImageNotFound(image_id=image_id)
        image = copy.deepcopy(self.images[image_id])
        if not include_locations:
            image.pop('locations')
        return image

    def download(self, context, image_id, data=None, dst_path=None,
                 trusted_certs=None):
        self.downloads.append(image_id)
        payload = self.data[image_id]
        # Glance hands out chunks, as glanceclient does.
        return iter([payload[i:i + 65536]
                     for i in range(0, len(payload), 65536)])

    def update(self, context, image_id, image_meta, data=None,
               purge_props=True):
        if image_id not in self.images:
            raise exception.ImageNotFound(image_id=image_id)
        meta = dict(image_meta)
        location = meta.pop('location', None)
        if location:
            if not self.accept:
                raise exception.ImageBadRequest(
                    image_id=image_id, response='Invalid location')
            image_ext_id = location.rsplit('/', 1)[-1]
            self.client.images.get(image_ext_id)
        image = self.images[image_id]
        image.setdefault('properties', {}).update(
            meta.pop('properties', {}))
        image.update(meta)
        if location:
            image['locations'].append({'url': location, 'metadata': {}})
        if data is not None:
            chunks = []
            while True:
                chunk = data.read(65536)
                if not chunk:
                    break
                chunks.append(chunk)
            self.data[image_id] = b''.join(chunks)
            image['size'] = len(self.data[image_id])
        return copy.deepcopy(image)


def make_flavor(**kw):
    values = dict(vcpus=2, memory_mb=1024, root_gb=1, ephemeral_gb=0,
                  swap=0, extra_specs={}, name='m1', flavorid='1', id=1)
    values.update(kw)
    return objects.Flavor(**values)


def make_instance(**kw):
    values = dict(uuid=uuidutils.generate_uuid(), id=42,
                  flavor=make_flavor(), user_data=None, key_data=None,
                  key_name=None, metadata={}, launch_index=0,
                  hostname='vm1', display_name='vm one',
                  availability_zone='nova', project_id='proj',
                  system_metadata={}, task_state=None, vm_state='active')
    values.update(kw)
    return objects.Instance(**values)


class TestCase(unittest.TestCase):
    """A driver over the emulator, with a fresh backend per test."""

    def setUp(self):
        super().setUp()
        self.emu = emulator()
        self.emu.admin.reset()
        self.addCleanup(self.emu.admin.clear_faults)
        self.cfg = config_fixture.Config(CONF)
        self.cfg.setUp()
        self.addCleanup(self.cfg.cleanUp)
        configure(self.cfg, self.emu)
        self.context = nova_context.get_admin_context()
        self.glance = FakeImageService()
        self.driver = self.new_driver()
        self.client = self.driver._client
        self.glance.client = self.client

    def new_driver(self):
        """A driver as a (re)started nova-compute makes it."""
        d = driver.NutanixDriver(fake.FakeVirtAPI())
        d._image_api = self.glance
        d.init_host('compute1')
        return d

    def inventory(self):
        return self.emu.admin.inventory()['objects']

    def image_meta(self, image_id):
        return objects.ImageMeta.from_dict(self.glance.get(None, image_id))

    def spawn(self, instance=None, image_id=None, data=b'root-bytes' * 100,
              **kw):
        if image_id is None:
            image_id = self.glance.add(data)
        instance = instance or make_instance()
        self.driver.spawn(self.context, instance, self.image_meta(image_id),
                          [], None, {}, **kw)
        return instance
