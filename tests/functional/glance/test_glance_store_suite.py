"""glance_store's own functional suite, run against this store.

``glance_store.tests.functional.base.BaseFunctionalTests`` (shipped in the
glance_store wheel) adds, reads, sizes and deletes an image through the
store loaded by entry point.  Two things need adapting (PEER_SUITES.md):
its constructor reads the ``devstack-admin`` cloud from clouds.yaml (a
dummy file here), and its ``setUp`` sets the legacy ``default_store``,
whose choices are hard-coded and do not include out-of-tree stores, so
the store is set up here the same way without that one line.
"""

import os
import shutil

import glance_store
from glance_store.tests.functional import base as gs_base
from oslo_config import cfg
import testtools

from nutanix_openstack.emulator import fixture as emu_fixture
from tests.functional.glance import base

# Forced (not setdefault): a developer's own clouds.yaml may lack the
# "devstack-admin" cloud the base class insists on reading.
os.environ['OS_CLIENT_CONFIG_FILE'] = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), 'clouds.yaml')
os.environ.pop('OS_TEST_GLANCE_STORE_FUNC_TEST_CLOUD', None)

CONF = cfg.CONF


class TestNutanixGlanceStoreSuite(gs_base.BaseFunctionalTests):

    def __init__(self, *args, **kwargs):
        super(TestNutanixGlanceStoreSuite, self).__init__('nutanix', *args,
                                                          **kwargs)

    def setUp(self):
        # Base.setUp without its default_store override (see above).
        testtools.TestCase.setUp(self)
        if not shutil.which('qemu-img'):
            self.skipTest('qemu-img (qemu-utils) is required by the '
                          'emulator image import')
        self.emu = self.useFixture(emu_fixture.EmulatorFixture())
        self.addCleanup(CONF.reset)
        CONF.set_override('stores', [self.driver_name], group='glance_store')
        for k, v in base.store_options(self.emu).items():
            CONF.set_override(k, v, group='glance_store')
        glance_store.create_stores()
        self.store = glance_store.backend._load_store(CONF, self.driver_name)
        self.store.configure(re_raise_bsc=True)

    def test_store_is_ours_and_writable(self):
        from nutanix_openstack.glance import store as nstore
        self.assertIsInstance(self.store, nstore.Store)
        self.assertTrue(self.store.is_capable(
            glance_store.capabilities.BitMasks.WRITE_ACCESS))
