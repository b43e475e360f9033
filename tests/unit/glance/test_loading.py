"""The store loads the way Glance loads it and shows its options."""

import subprocess
import sys

from glance_store import backend
from glance_store import multi_backend
from oslo_config import cfg
from stevedore import driver
import testtools

from nutanix_openstack.glance import store
from nutanix_openstack import opts


class TestLoading(testtools.TestCase):

    def test_entry_point_loads_store_class(self):
        mgr = driver.DriverManager('glance_store.drivers', 'nutanix',
                                   invoke_on_load=False)
        self.assertIs(store.Store, mgr.driver)

    def test_glance_store_lists_our_options(self):
        # What Glance's sample config (namespace glance.store) is built of.
        names = {o.name for _group, group_opts in backend._list_opts()
                 for o in group_opts}
        self.assertIn('nutanix_endpoints', names)
        self.assertIn('nutanix_storage_container', names)
        names = {o.name for o in
                 multi_backend._list_driver_opts().get('nutanix', [])}
        self.assertIn('nutanix_password', names)

    def test_oslo_config_opts_entry_point(self):
        groups = dict(opts.list_glance_opts())
        self.assertEqual(['coordination', 'glance_store'], sorted(groups))
        by_name = {o.name: o for o in groups['glance_store']}
        self.assertTrue(by_name['nutanix_password'].secret)
        # The etcd URL may carry credentials.
        self.assertTrue({o.name: o for o in groups['coordination']}[
            'backend_url'].secret)
        for o in groups['glance_store'] + groups['coordination']:
            self.assertTrue(o.help and len(o.help) > 20, o.name)

    def test_import_is_cheap(self):
        # No HTTP stack or client built at import time.
        code = ('import sys; import nutanix_openstack.glance.store; '
                'print("requests" in sys.modules)')
        out = subprocess.check_output([sys.executable, '-c', code])
        self.assertEqual(b'False', out.strip())

    def test_store_registers_options_once(self):
        conf = cfg.ConfigOpts()
        conf.register_group(cfg.OptGroup('glance_store'))
        store.Store(conf)
        store.Store(conf)   # a second instance must not fail
        self.assertIsNone(conf.glance_store.nutanix_storage_container)
