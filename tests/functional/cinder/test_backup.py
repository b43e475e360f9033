"""The Nutanix backup driver against two emulators (volume and backup
clusters), with Cinder's database objects (cinder.tests.unit.test)."""

import os

from cinder import context
from cinder import exception
from cinder.tests.unit import test
from cinder.tests.unit import utils

from nutanix_openstack.cinder import backup as backup_mod
from nutanix_openstack.emulator import fixture as emulator_fixture
from nutanix_openstack.prism import volume_groups as pvg
from tests.functional.cinder import test_cinder_api as api_base

MiB = 1024 ** 2
GiB = 1024 ** 3


class BackupDriverTest(api_base._KeepTestMethod, test.TestCase):

    @classmethod
    def setUpClass(cls):
        super(BackupDriverTest, cls).setUpClass()
        cls.site_a = emulator_fixture.EmulatorProcess(task_mode='immediate')
        cls.site_b = emulator_fixture.EmulatorProcess(task_mode='immediate',
                                                      site=2)
        cls.site_a.start()
        cls.site_b.start()

    @classmethod
    def tearDownClass(cls):
        cls.site_a.cleanup()
        cls.site_b.cleanup()
        super(BackupDriverTest, cls).tearDownClass()

    def setUp(self):
        super(BackupDriverTest, self).setUp()
        for site in (self.site_a, self.site_b):
            site.admin.reset()
            site.admin.clear_faults()
        self.site_a.pair(self.site_b)
        self.site_b.pair(self.site_a)
        for prefix, site in ((backup_mod.SOURCE_PREFIX, self.site_a),
                             (backup_mod.TARGET_PREFIX, self.site_b)):
            for name, value in (('endpoints', [site.endpoint]),
                                ('username', site.username),
                                ('password', site.password),
                                ('verify_ssl', False),
                                ('task_poll_interval', 0.05),
                                ('api_retries', 0)):
                self.override_config(prefix + name, value)
        self.ctx = context.get_admin_context()
        self.driver = backup_mod.NutanixBackupDriver(self.ctx)
        self.driver.check_for_setup_error()
        self.a = self.site_a.prism_client()
        self.b = self.site_b.prism_client()

    def volume(self):
        vol = utils.create_volume(self.ctx, size=1)
        vg = self.a.volume_groups.create(vol.name, disks=[
            pvg.volume_disk(GiB, self.site_a.container_ext_id)])
        vol.provider_id = vg['extId']
        vol.save()
        return vol

    def disk(self, vol):
        return self.a.volume_groups.list_disks(vol.provider_id)[0]['extId']

    def read(self, vol, length=3 * MiB):
        return self.site_a.admin.read_disk(self.disk(vol), 0, length)

    def backup(self, vol, parent=None):
        b = utils.create_backup(self.ctx, volume_id=vol.id,
                                parent_id=parent and parent.id)
        self.driver.backup(b, None)
        b.refresh()
        return b, self.driver.export_record(b)['bytesSent']

    def rps(self, client):
        return sorted(rp['name'] for rp in client.recovery_points.list())

    def test_full_incremental_restore_survive_source_deletion(self):
        vol = self.volume()
        self.site_a.admin.write_disk(self.disk(vol), 0, os.urandom(MiB))
        b1, sent = self.backup(vol)
        self.assertEqual(MiB, sent)
        first = self.read(vol)
        self.site_a.admin.write_disk(self.disk(vol), 2 * MiB, b'x' * 4096)
        b2, sent = self.backup(vol, parent=b1)
        # Incremental: the one 4 KiB block written, cluster to cluster.
        self.assertEqual(4096, sent)
        second = self.read(vol)
        # Only the newest backup's point stays on the source.
        self.assertEqual(['backup-%s' % b2.id], self.rps(self.a))
        self.assertEqual(sorted(['backup-%s' % b1.id, 'backup-%s' % b2.id]),
                         self.rps(self.b))

        # Restore the first backup into the same volume.
        self.site_a.admin.write_disk(self.disk(vol), 0, b'garbage')
        self.driver.restore(b1, vol.id, None, False)
        self.assertEqual(first, self.read(vol))

        # The source volume and every point of it go; the backups stay.
        self.a.volume_groups.delete(vol.provider_id)
        for rp in self.a.recovery_points.list():
            self.a.recovery_points.delete(rp['extId'])
        self.driver.delete_backup(b1)
        new = self.volume()
        self.driver.restore(b2, new.id, None, True)
        self.assertEqual(second, self.read(new))
        # The copy brought back for the restore does not linger.
        self.assertEqual([], self.rps(self.a))
        self.driver.delete_backup(b2)
        self.assertEqual([], self.rps(self.b))

    def test_link_down_fails_the_backup_and_leaves_nothing(self):
        vol = self.volume()
        self.site_a.admin.write_disk(self.disk(vol), 0, os.urandom(MiB))
        self.site_b.admin.add_fault(path='/_replication/v1/', status=503)
        b = utils.create_backup(self.ctx, volume_id=vol.id)
        self.assertRaises(exception.BackupOperationError,
                          self.driver.backup, b, None)
        self.assertEqual([], self.rps(self.a))
        self.assertEqual([], self.rps(self.b))

    def test_source_gone_before_the_backup(self):
        vol = self.volume()
        self.a.volume_groups.delete(vol.provider_id)
        b = utils.create_backup(self.ctx, volume_id=vol.id)
        self.assertRaises(exception.BackupDriverException,
                          self.driver.backup, b, None)
        self.assertEqual([], self.rps(self.a))
        self.assertEqual([], self.rps(self.b))
