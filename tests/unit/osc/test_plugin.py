"""The OSC plugin's entry points and the command's argument handling."""

import importlib.metadata
import io
import subprocess
import sys
from unittest import mock

from osc_lib import exceptions
import testtools

from nutanix_openstack.osc import image
from nutanix_openstack.osc import importer
from nutanix_openstack.osc import plugin


def entry_points(group):
    return dict((ep.name, ep)
                for ep in importlib.metadata.entry_points(group=group))


class EntryPointTestCase(testtools.TestCase):

    def test_plugin_and_command_are_registered(self):
        ext = entry_points('openstack.cli.extension')
        self.assertIs(plugin, ext['nutanix'].load())
        cmds = entry_points('openstack.nutanix.v1')
        self.assertIs(image.ImportImage, cmds['nutanix_image_import'].load())

    def test_plugin_hooks(self):
        self.assertEqual('nutanix', plugin.API_NAME)
        self.assertIn(plugin.DEFAULT_API_VERSION, plugin.API_VERSIONS)
        self.assertEqual('os_nutanix_api_version', plugin.API_VERSION_OPTION)
        self.assertIsNone(plugin.make_client(mock.Mock()))

    def test_loading_the_plugin_stays_light(self):
        # OSC imports every plugin on every run (osc_lib itself brings
        # requests): none of our client stack or glance_store.
        code = ('import sys, nutanix_openstack.osc.plugin; '
                'print([m for m in ("glance_store", '
                '"nutanix_openstack.prism.client") if m in sys.modules])')
        out = subprocess.run([sys.executable, '-c', code], check=True,
                             capture_output=True, text=True).stdout
        self.assertEqual('[]', out.strip())


class ImportCommandTestCase(testtools.TestCase):

    def setUp(self):
        super(ImportCommandTestCase, self).setUp()
        self.app = mock.Mock(stderr=io.StringIO())
        self.cmd = image.ImportImage(self.app, None)
        self.parser = self.cmd.get_parser('openstack nutanix image import')
        self.resolve = self.useFixture_patch(
            'nutanix_openstack.osc.connection.resolve')
        self.run = self.useFixture_patch(
            'nutanix_openstack.osc.importer.UrlImport.run')
        self.run.return_value = {'id': 'i', 'status': 'active', 'size': 3}

    def useFixture_patch(self, target):
        patcher = mock.patch(target)
        self.addCleanup(patcher.stop)
        return patcher.start()

    def parse(self, *args):
        return self.parser.parse_args(list(args))

    def test_fields_and_options(self):
        args = self.parse('--url', 'http://u/x', '--disk-format', 'qcow2',
                          '--property', 'a=1', '--property', 'b=2',
                          '--public', '--store', 'cluster', '--wait',
                          '--nutanix-endpoint', 'https://e',
                          '--nutanix-username', 'u', '--glance-config',
                          '/etc/glance/glance-api.conf', 'img')
        columns, values = self.cmd.take_action(args)
        shown = dict(zip(columns, values))
        self.assertEqual('active', shown['status'])
        self.run.assert_called_once_with(
            'http://u/x', {'a': '1', 'b': '2', 'name': 'img',
                           'disk_format': 'qcow2',
                           'container_format': 'bare',
                           'visibility': 'public'},
            store='cluster', wait=True,
            container=self.resolve.return_value.container)
        kwargs = self.resolve.call_args.kwargs
        self.assertEqual('https://e', kwargs['endpoint'])
        # --store names the Glance config section unless --glance-store.
        self.assertEqual('cluster', kwargs['glance_store'])
        self.resolve.return_value.make_client.return_value.close\
            .assert_called_once_with()

    def test_name_option_or_positional(self):
        self.cmd.take_action(self.parse('--url', 'u', '--disk-format', 'raw',
                                        '--name', 'n'))
        self.assertEqual('n', self.run.call_args.args[1]['name'])
        self.assertRaises(exceptions.CommandError, self.cmd.take_action,
                          self.parse('--url', 'u', '--disk-format', 'raw'))
        self.assertRaises(exceptions.CommandError, self.cmd.take_action,
                          self.parse('--url', 'u', '--disk-format', 'raw',
                                     '--name', 'a', 'b'))

    def test_import_failure_is_a_command_error(self):
        self.run.side_effect = importer.ImportFailed('went wrong')
        e = self.assertRaises(exceptions.CommandError, self.cmd.take_action,
                              self.parse('--url', 'u', '--disk-format',
                                         'raw', 'n'))
        self.assertIn('went wrong', str(e))

    def test_connection_failure_is_a_command_error(self):
        from nutanix_openstack.osc import connection
        self.resolve.side_effect = connection.ConnectionError_('no creds')
        self.assertRaises(exceptions.CommandError, self.cmd.take_action,
                          self.parse('--url', 'u', '--disk-format', 'raw',
                                     'n'))
        self.run.assert_not_called()

    def test_there_is_no_password_option(self):
        self.assertRaises(SystemExit, self.parse, '--url', 'u',
                          '--disk-format', 'raw', '--nutanix-password', 'p',
                          'n')
