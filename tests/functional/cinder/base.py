"""The Cinder driver against the emulator over loopback HTTP."""

import os
import uuid

from cinder import context
from cinder import coordination
from cinder import objects
from cinder import privsep
from cinder.tests.unit import fake_snapshot
from cinder.tests.unit import fake_volume
from cinder.volume import configuration as conf
import fixtures
from oslo_config import cfg
from oslo_config import fixture as config_fixture
from oslotest import base

from nutanix_openstack.cinder import driver
from nutanix_openstack.cinder import options
from nutanix_openstack.emulator import fixture as emulator_fixture

objects.register_all()

GiB = 1024 ** 3
MiB = 1024 ** 2
BACKEND = 'nutanix-func'


def new_id():
    return str(uuid.uuid4())


class BackendViews(object):
    """The emulator's view of a volume: its disk's bytes, leftovers.

    Needs ``self.admin`` (the emulator's AdminClient) and
    ``self.disk_of(volume)`` (the volume's one disk dict).
    """

    def write(self, volume, offset, data):
        self.admin.write_disk(self.disk_of(volume)['extId'], offset, data)

    def read(self, volume, offset, length):
        return self.admin.read_disk(self.disk_of(volume)['extId'], offset,
                                    length)

    def objects(self, kind):
        """ExtIds of every backend object of ``kind``.

        Kinds: ``volume_group``, ``recovery_point``, ``image``, ``vm``,
        ``iscsi_client``.
        """
        return set(self.admin.inventory()['objects'].get(kind) or [])


class DriverFunctionalTestCase(BackendViews, base.BaseTestCase):
    """A real driver, a real client, the emulator on 127.0.0.1.

    Importing Cinder's test objects monkey-patches the process with
    eventlet, as cinder-volume itself is; the emulator therefore runs as a
    child process (``nutanix-emulator``), one per test class, reset
    between tests.
    """

    task_mode = 'immediate'

    @classmethod
    def setUpClass(cls):
        super(DriverFunctionalTestCase, cls).setUpClass()
        cls.emulator = emulator_fixture.EmulatorProcess(
            task_mode=cls.task_mode)
        cls.emulator.start()

    @classmethod
    def tearDownClass(cls):
        cls.emulator.cleanup()
        super(DriverFunctionalTestCase, cls).tearDownClass()

    def setUp(self):
        super(DriverFunctionalTestCase, self).setUp()
        self.admin = self.emulator.admin
        self.admin.reset()
        # Cinder's image_utils inspects formats through privsep; tests run
        # as the user they are, without a privsep daemon (sudo rootwrap).
        privsep.sys_admin_pctxt.set_client_mode(False)
        self.addCleanup(privsep.sys_admin_pctxt.set_client_mode, True)
        self.addCleanup(self.admin.clear_faults)
        self.ctx = context.get_admin_context()
        self.conf_fixture = self.useFixture(config_fixture.Config(cfg.CONF))
        self.configuration = conf.Configuration(driver.driver.volume_opts,
                                                config_group=BACKEND)
        self.configuration.append_config_values(options.ALL_OPTS)
        self.configure(
            nutanix_endpoints=[self.emulator.endpoint],
            nutanix_username=self.emulator.username,
            nutanix_password=self.emulator.password,
            nutanix_verify_ssl=False,
            nutanix_task_poll_interval=0.05,
            nutanix_api_retry_interval=0.05,
            nutanix_storage_container=self.emulator.container_name,
            volume_backend_name='nutanix')
        self.conf_fixture.config(
            image_conversion_dir=self.useFixture(fixtures.TempDir()).path)
        # cinder-volume starts Cinder's coordinator (cinder.service); the
        # driver's cross-host locks are taken from it.
        self.conf_fixture.config(
            backend_url='file://' + self.useFixture(fixtures.TempDir()).path,
            group='coordination')
        coordination.COORDINATOR.start()
        self.addCleanup(coordination.COORDINATOR.stop)
        self.driver = self.make_driver()
        self.client = self.driver.client

    def configure(self, **kw):
        self.conf_fixture.config(group=BACKEND, **kw)

    def make_driver(self):
        drv = driver.NutanixVolumeDriver(configuration=self.configuration,
                                         host='cinder@nutanix')
        drv.do_setup(self.ctx)
        drv.check_for_setup_error()
        return drv

    # -- Cinder objects ------------------------------------------------------

    def volume(self, size=1, **kw):
        vol = fake_volume.fake_volume_obj(self.ctx, id=new_id(), size=size,
                                          **kw)
        return vol

    def create_volume(self, size=1, **kw):
        vol = self.volume(size=size, **kw)
        vol.update(self.driver.create_volume(vol))
        return vol

    def snapshot(self, volume, **kw):
        return fake_snapshot.fake_snapshot_obj(
            self.ctx, id=new_id(), volume=volume, volume_id=volume.id,
            volume_size=volume.size, **kw)

    def create_snapshot(self, volume, **kw):
        snap = self.snapshot(volume, **kw)
        snap.update(self.driver.create_snapshot(snap))
        return snap

    # -- backend views -------------------------------------------------------

    def disk_of(self, volume):
        disks = self.client.volume_groups.list_disks(volume.provider_id)
        self.assertEqual(1, len(disks))
        return disks[0]


def random_bytes(n):
    return os.urandom(n)
