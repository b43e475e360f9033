"""[ml2_nutanix] options, their parsing, and the entry points."""

import configparser
from importlib import metadata
import os

from oslo_config import cfg
from oslo_config import fixture as config_fixture
import stevedore
import testtools

from nutanix_openstack.neutron import config
from nutanix_openstack.neutron import mech_driver
from nutanix_openstack import opts


class TestConfig(testtools.TestCase):

    def setUp(self):
        super(TestConfig, self).setUp()
        self.conf = self.useFixture(config_fixture.Config(cfg.ConfigOpts()))
        config.register_opts(self.conf.conf)

    def test_physical_networks_with_and_without_switch(self):
        self.conf.config(group='ml2_nutanix',
                         physical_networks=['physnet1', ' physnet2 : vs-2 '])
        self.assertEqual(
            {'physnet1': None, 'physnet2': 'vs-2'},
            config.physical_network_switches(self.conf.conf.ml2_nutanix))

    def test_empty_physnet_refused(self):
        self.conf.config(group='ml2_nutanix', physical_networks=[':vs-2'])
        self.assertRaises(ValueError, config.physical_network_switches,
                          self.conf.conf.ml2_nutanix)

    def test_initialize_needs_endpoints(self):
        drv = mech_driver.NutanixMechanismDriver(conf=self.conf.conf)
        self.assertRaises(cfg.RequiredOptError, drv.initialize)

    def test_initialize_reads_hosts_and_physnets(self):
        self.conf.config(group='ml2_nutanix', endpoints=['https://pc:9440'],
                         compute_hosts=['c1', ' c2'],
                         physical_networks=['physnet1'])
        drv = mech_driver.NutanixMechanismDriver(conf=self.conf.conf)
        drv.initialize()
        self.assertEqual({'c1', 'c2'}, drv.compute_hosts)
        self.assertEqual({'physnet1': None}, drv.physnets)

    def test_list_opts_has_every_option_with_help(self):
        [(group, options)] = opts.list_neutron_opts()
        names = {o.name for o in options}
        self.assertTrue({'endpoints', 'password', 'compute_hosts',
                         'physical_networks', 'adopt_existing_subnets',
                         'nic_poll_interval'} <= names)
        self.assertTrue(all(o.help for o in options))
        self.assertTrue([o for o in options if o.name == 'password'][0]
                        .secret)

    def test_entry_points_load(self):
        mgr = stevedore.DriverManager('neutron.ml2.mechanism_drivers',
                                      'nutanix')
        self.assertIs(mech_driver.NutanixMechanismDriver, mgr.driver)
        # Looked up, not loaded: loading every oslo.config.opts entry point
        # would import nova and cinder into neutron's process.
        [ep] = [ep for ep in metadata.entry_points(group='oslo.config.opts')
                if ep.name == 'nutanix_openstack.neutron']
        self.assertEqual('nutanix_openstack.opts:list_neutron_opts', ep.value)


ETC = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__))))), 'etc')


class TestExample(testtools.TestCase):
    """etc/ml2_conf.ini.nutanix-example names only real options."""

    def test_example_options_exist(self):
        parser = configparser.ConfigParser()
        with open(os.path.join(ETC, 'ml2_conf.ini.nutanix-example')) as f:
            # Commented-out settings count too.
            parser.read_string(''.join(
                line.lstrip('#') for line in f
                if '=' in line or line.lstrip('#').startswith('[')))
        self.assertEqual('nutanix', parser['ml2']['mechanism_drivers'])
        names = {o.name for _g, options in config.list_opts()
                 for o in options}
        self.assertLessEqual(set(parser['ml2_nutanix']), names)
        self.assertIn('compute_hosts', parser['ml2_nutanix'])
        self.assertIn('physical_networks', parser['ml2_nutanix'])
