"""The driver's one error boundary: no client exception reaches Nova."""

import itertools
from unittest import mock

from oslo_config import fixture as config_fixture
from oslo_utils import uuidutils

from nova.compute import provider_tree
from nova import conf as nova_conf
from nova import exception
from nova import objects
from nova.virt import fake

from nutanix_openstack.nova import conf as nutanix_conf
from nutanix_openstack.nova import driver
from nutanix_openstack.prism import exceptions as prism_exc
from tests.unit import client_errors
from tests.unit.nova import base

CONF = nova_conf.CONF

# Methods that never call the backend (or only say "not on AHV").
NO_BACKEND = {'cleanup', 'cleanup_host', 'confirm_migration',
              'get_host_ip_addr', 'get_volume_connector', 'pause',
              'unpause', 'suspend', 'resume', 'get_console_output'}


class BoundaryTest(base.TestCase):

    def setUp(self):
        super().setUp()
        cfg = self.useFixture(config_fixture.Config(CONF))
        nutanix_conf.register_opts(CONF)
        cfg.config(endpoints=['https://prism:9440'], username='u',
                   password='secret-pw', storage_container='ctr',
                   group='nutanix')
        self.instance = base.make_instance()

    def useFixture(self, fixture):
        fixture.setUp()
        self.addCleanup(fixture.cleanUp)
        return fixture

    def _driver(self, raising, resolved):
        """A driver whose client calls fail.

        ``resolved``: the cluster and container were resolved before (with
        a working client), else the first call resolves them.
        """
        good = base.make_client()
        good.clusters.find_storage_container.return_value = {
            'extId': base.CONTAINER}
        with mock.patch.object(driver.prism_client.PrismClient,
                               'from_conf', return_value=good):
            drv = driver.NutanixDriver(fake.FakeVirtAPI())
        if resolved:
            drv.ops
        drv._client = raising
        if drv._ops is not None:
            for ops in vars(drv._ops).values():
                for attr, value in list(getattr(ops, '__dict__',
                                                {}).items()):
                    if value is good:
                        setattr(ops, attr, raising)
        return drv

    def _arguments(self):
        tree = provider_tree.ProviderTree()
        tree.new_root('c1', uuidutils.generate_uuid())
        return {
            'context': mock.Mock(), 'instance': self.instance,
            'host': 'compute1', 'refresh': True, 'nodename': 'c1',
            'provider_tree': tree,
            'image_meta': objects.ImageMeta.from_dict(
                {'id': uuidutils.generate_uuid(), 'disk_format': 'raw'}),
            'injected_files': [], 'admin_password': None,
            'allocations': {}, 'network_info': [],
            'block_device_info': None, 'reboot_type': 'SOFT',
            'rescue_password': 'pw', 'share_info': None,
            'dest': 'compute1', 'flavor': base.make_flavor(),
            'migration': mock.Mock(), 'disk_info': {},
            'resize_instance': True, 'image_id': 'img-1',
            'update_task_state': lambda **kw: None,
            'connection_info': {'driver_volume_type': 'iscsi',
                                'data': {'volume_group_ext_id': 'vg-1'}},
            'mountpoint': '/dev/sdb', 'requested_size': 1,
            # An evacuation (a plain rebuild is Nova's default, no backend).
            'bdms': [], 'evacuate': True,
            'detach_block_devices': lambda *a, **kw: None,
            'attach_block_devices': lambda *a, **kw: None,
            # A build a dead nova-compute interrupted: start-up removes
            # its VM (and logs, never raises, a backend failure).
            'instances': [base.make_instance(vm_state='building',
                                             task_state='spawning')],
            'vif': {'id': 'port-1', 'type': 'nutanix',
                    'address': 'fa:16:3e:00:00:01',
                    'details': {'nutanix_subnet_ext_id': 'subnet-1'}},
        }

    def test_only_nova_exceptions_come_out(self):
        names = client_errors.public_methods(driver.NutanixDriver)
        reached = set()
        for cls, resolved, name in itertools.product(
                client_errors.client_exception_types(), (True, False),
                names):
            raising = client_errors.RaisingClient(
                client_errors.make_error(cls))
            drv = self._driver(raising, resolved)
            try:
                client_errors.call_with(getattr(drv, name),
                                        self._arguments())
            except (exception.NovaException, NotImplementedError):
                pass
            except prism_exc.PrismError as e:
                self.fail('%s let %r through' % (name, e))
            if raising.calls:
                reached.add(name)
        self.assertEqual(set(names) - NO_BACKEND, reached)
