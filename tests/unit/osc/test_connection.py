"""Where the plugin gets the cluster connection from."""

import os

import fixtures
import testtools

from nutanix_openstack.osc import connection

ENV = {'NUTANIX_ENDPOINT': 'https://env:9440', 'NUTANIX_USERNAME': 'envuser',
       'NUTANIX_PASSWORD': 's3cret-env'}


class ResolveTestCase(testtools.TestCase):

    def test_options_override_the_environment(self):
        conn = connection.resolve(endpoint='https://a:9440,https://b:9440',
                                  username='opt', container='ctr',
                                  cluster='c1', insecure=True, environ=ENV)
        self.assertEqual(['https://a:9440', 'https://b:9440'],
                         conn.conf.nutanix_endpoints)
        self.assertEqual('opt', conn.conf.nutanix_username)
        self.assertEqual('s3cret-env', conn.conf.nutanix_password)
        self.assertEqual('c1', conn.conf.nutanix_cluster)
        self.assertFalse(conn.conf.nutanix_verify_ssl)
        self.assertEqual('ctr', conn.container)

    def test_environment_alone(self):
        conn = connection.resolve(environ=ENV)
        self.assertEqual(['https://env:9440'], conn.conf.nutanix_endpoints)
        self.assertEqual('envuser', conn.conf.nutanix_username)
        self.assertTrue(conn.conf.nutanix_verify_ssl)

    def test_missing_settings_are_named(self):
        e = self.assertRaises(connection.ConnectionError_,
                              connection.resolve, endpoint='https://a',
                              environ={})
        self.assertIn('NUTANIX_USERNAME', str(e))
        self.assertIn('NUTANIX_PASSWORD', str(e))
        self.assertNotIn('NUTANIX_ENDPOINT', str(e))

    def test_repr_never_shows_the_password(self):
        conn = connection.resolve(environ=ENV)
        self.assertNotIn('s3cret', repr(conn))


class GlanceConfigTestCase(testtools.TestCase):

    def setUp(self):
        super(GlanceConfigTestCase, self).setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path
        self.path = os.path.join(self.dir, 'glance-api.conf')
        with open(self.path, 'w') as f:
            f.write('[DEFAULT]\nenabled_backends = cluster:nutanix\n'
                    'debug = true\n\n'
                    '[database]\nconnection = sqlite://\n\n'
                    '[cluster]\nnutanix_endpoints = https://10.0.0.1:9440\n'
                    'nutanix_username = glance\n'
                    'nutanix_password = s3cret-conf\n'
                    'nutanix_storage_container = images\n'
                    'nutanix_cluster = prod\n'
                    'nutanix_task_timeout = 99\n')

    def test_store_section_is_read(self):
        conn = connection.resolve(glance_config=self.path,
                                  glance_store='cluster', environ={})
        self.assertEqual(['https://10.0.0.1:9440'],
                         conn.conf.nutanix_endpoints)
        self.assertEqual('glance', conn.conf.nutanix_username)
        self.assertEqual('s3cret-conf', conn.conf.nutanix_password)
        self.assertEqual(99, conn.conf.nutanix_task_timeout)
        self.assertEqual('prod', conn.conf.nutanix_cluster)
        self.assertEqual('images', conn.container)
        self.assertIn('[cluster]', conn.source)

    def test_the_import_locks_as_glance_api_does(self):
        locks = os.path.join(self.dir, 'locks')
        with open(self.path, 'a') as f:
            f.write('\n[coordination]\nbackend_url = file://%s\n' % locks)
        conn = connection.resolve(glance_config=self.path,
                                  glance_store='cluster', environ={})
        self.assertEqual('file://' + locks,
                         conn.lock.__self__.backend_url)
        self.assertIs(conn.lock, conn.make_client().lock)
        with conn.lock('derived-image-x'):
            self.assertTrue(os.listdir(locks))
        conn.lock.__self__.stop()

    def test_environment_overrides_the_glance_config(self):
        conn = connection.resolve(glance_config=self.path,
                                  glance_store='cluster', environ=ENV)
        self.assertEqual(['https://env:9440'], conn.conf.nutanix_endpoints)
        self.assertEqual('s3cret-env', conn.conf.nutanix_password)

    def test_single_store_section_without_options(self):
        e = self.assertRaises(connection.ConnectionError_,
                              connection.resolve, glance_config=self.path,
                              environ={})
        self.assertIn('[glance_store] of %s does not set' % self.path,
                      str(e))
        self.assertIn('--glance-store', str(e))

    def test_missing_file(self):
        e = self.assertRaises(connection.ConnectionError_,
                              connection.resolve,
                              glance_config=self.path + '.nope',
                              glance_store='cluster', environ={})
        self.assertIn('not found', str(e))

    def test_bad_value_names_the_option(self):
        with open(self.path, 'a') as f:
            f.write('nutanix_api_retries = many\n')
        e = self.assertRaises(connection.ConnectionError_,
                              connection.resolve, glance_config=self.path,
                              glance_store='cluster', environ={})
        self.assertIn('nutanix_api_retries', str(e))
        self.assertNotIn('s3cret', str(e))

    def test_make_client_uses_the_settings(self):
        conn = connection.resolve(glance_config=self.path,
                                  glance_store='cluster', environ={})
        client = conn.make_client()
        self.addCleanup(client.close)
        self.assertEqual('prod', client.cluster)
        self.assertEqual(('glance', 's3cret-conf'),
                         client.session.credentials)
