"""Connection options and PrismClient.from_conf()."""

import unittest

from oslo_config import cfg

from nutanix_openstack import opts
from nutanix_openstack.prism import client
from nutanix_openstack.prism import options

NAMES = ['endpoints', 'username', 'password', 'verify_ssl', 'ca_file',
         'connect_timeout', 'read_timeout', 'api_retries',
         'api_retry_interval', 'task_timeout', 'task_poll_interval',
         'cluster']


class OptionsTest(unittest.TestCase):

    def test_contract_names_and_help(self):
        got = dict((o.name, o) for o in options.connection_opts())
        for name in NAMES:
            self.assertIn(name, got)
        for opt in got.values():
            self.assertGreater(len(opt.help), 20, opt.name)
        self.assertTrue(got['password'].secret)
        self.assertIs(True, got['verify_ssl'].default)

    def test_prefix_makes_new_objects(self):
        a = options.connection_opts('nutanix_')
        b = options.connection_opts('nutanix_')
        self.assertEqual(['nutanix_' + n for n in NAMES],
                         [o.name for o in a if o.name[8:] in NAMES])
        self.assertIsNot(a[0], b[0])
        self.assertEqual('endpoints', options.connection_opts()[0].name)

    def test_list_opts(self):
        groups = dict(opts.list_prism_opts())
        self.assertIn('nutanix', groups)
        self.assertIn('endpoints', [o.name for o in groups['nutanix']])

    def _conf(self, group, prefix):
        conf = cfg.ConfigOpts()
        conf.register_opts(options.connection_opts(prefix), group=group)
        conf([])
        conf.set_override(prefix + 'endpoints', ['10.0.0.1', '10.0.0.2:9441'],
                          group=group)
        conf.set_override(prefix + 'username', 'admin', group=group)
        conf.set_override(prefix + 'password', 'pw', group=group)
        conf.set_override(prefix + 'api_retries', 7, group=group)
        conf.set_override(prefix + 'ca_file', '/ca.pem', group=group)
        conf.set_override(prefix + 'task_timeout', 99, group=group)
        return getattr(conf, group)

    def test_from_conf_nova_style(self):
        c = client.PrismClient.from_conf(self._conf('nutanix', ''))
        self.assertEqual(['https://10.0.0.1:9440', 'https://10.0.0.2:9441'],
                         c.session.endpoints)
        self.assertEqual(7, c.session.retries)
        self.assertEqual('/ca.pem', c.session.http.verify)
        self.assertEqual(99, c.tasks.timeout)

    def test_from_conf_prefixed(self):
        c = client.PrismClient.from_conf(self._conf('backend', 'nutanix_'),
                                         prefix='nutanix_')
        self.assertEqual(('admin', 'pw'), c.session.credentials)
        self.assertEqual((10.0, 120.0), c.session.timeout)

    def test_from_conf_overrides(self):
        # A replication target: its own cluster and credentials, this
        # backend's retries and timeouts.
        c = client.PrismClient.from_conf(
            self._conf('backend', 'nutanix_'), prefix='nutanix_',
            endpoints=['pc-b'], username='b', password='pb')
        self.assertEqual(['https://pc-b:9440'], c.session.endpoints)
        self.assertEqual(('b', 'pb'), c.session.credentials)
        self.assertEqual(7, c.session.retries)
        self.assertEqual(99, c.tasks.timeout)
