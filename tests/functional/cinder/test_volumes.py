"""Volumes, clones, snapshots and data integrity against the emulator."""

from cinder import exception

from tests.functional.cinder import base

GiB = base.GiB
MiB = base.MiB


class VolumeLifecycleTest(base.DriverFunctionalTestCase):

    def test_create_is_a_volume_group_with_one_disk(self):
        vol = self.create_volume(size=2)
        vg = self.client.volume_groups.get(vol.provider_id)
        self.assertEqual(vol.name, vg['name'])
        disk = self.disk_of(vol)
        self.assertEqual(2 * GiB, disk['diskSizeBytes'])
        self.assertEqual(self.emulator.container_ext_id,
                         disk['storageContainerId'])
        # A new volume reads as zeros.
        self.assertEqual(b'\0' * 4096, self.read(vol, GiB, 4096))

    def test_delete_removes_the_group_and_is_idempotent(self):
        vol = self.create_volume()
        self.driver.delete_volume(vol)
        self.assertNotIn(vol.provider_id, self.objects('volume_group'))
        self.driver.delete_volume(vol)      # already gone: no error

    def test_extend_while_attached(self):
        vol = self.create_volume(size=1)
        self.driver.initialize_connection(vol, {'initiator': 'iqn.h1',
                                                'host': 'h1'})
        self.write(vol, 0, b'keep me')
        self.driver.extend_volume(vol, 3)
        self.assertEqual(3 * GiB, self.disk_of(vol)['diskSizeBytes'])
        self.assertEqual(b'keep me', self.read(vol, 0, 7))

    def test_delete_volume_attached_to_a_vm_is_busy(self):
        vol = self.create_volume()
        vm = self.client.vms.create('instance-1', memory_size_bytes=MiB * 256,
                                    cluster_ext_id=self.emulator
                                    .cluster_ext_id)
        self.client.volume_groups.attach_vm(vol.provider_id, vm['extId'])
        self.assertRaises(exception.VolumeIsBusy,
                          self.driver.delete_volume, vol)
        self.assertIn(vol.provider_id, self.objects('volume_group'))
        self.client.volume_groups.detach_vm(vol.provider_id, vm['extId'])
        self.driver.delete_volume(vol)
        self.assertNotIn(vol.provider_id, self.objects('volume_group'))

    def test_stats_report_the_container(self):
        stats = self.driver.get_volume_stats(refresh=True)
        pool = stats['pools'][0]
        self.assertEqual('up', stats['backend_state'])
        self.assertEqual(self.emulator.container_name, pool['pool_name'])
        self.assertGreater(pool['total_capacity_gb'], 0)
        self.assertGreater(pool['free_capacity_gb'], 0)
        self.assertLessEqual(pool['free_capacity_gb'],
                             pool['total_capacity_gb'])
        self.assertTrue(pool['thin_provisioning_support'])

    def test_create_failure_leaves_no_group(self):
        before = self.objects('volume_group')
        # One task makes the group and its disk: failing it leaves neither.
        self.admin.add_fault(method='POST', path='/volume-groups$',
                             fail_task='no space left', times=1)
        vol = self.volume()
        self.assertRaises(exception.VolumeBackendAPIException,
                          self.driver.create_volume, vol)
        self.assertEqual(before, self.objects('volume_group'))


class CloneAndSnapshotTest(base.DriverFunctionalTestCase):
    """Data integrity of snapshots, clones and restores.

    What was written is what every copy reads, and later writes to one
    never show up in another.
    """

    def test_snapshot_clone_restore_and_isolation(self):
        src = self.create_volume(size=1)
        first = base.random_bytes(MiB)
        self.write(src, 0, first)
        self.write(src, 512 * MiB, b'tail-marker')

        snap = self.create_snapshot(src)
        self.assertIn(snap.provider_id, self.objects('recovery_point'))

        # Overwrite the source after the snapshot.
        second = base.random_bytes(MiB)
        self.write(src, 0, second)

        # Volume from snapshot (bigger): reads the snapshot-time bytes.
        restored = self.volume(size=2)
        restored.update(self.driver.create_volume_from_snapshot(restored,
                                                                snap))
        self.assertEqual(2 * GiB, self.disk_of(restored)['diskSizeBytes'])
        self.assertEqual(first, self.read(restored, 0, MiB))
        self.assertEqual(b'tail-marker', self.read(restored, 512 * MiB, 11))
        self.assertEqual(b'\0' * 16, self.read(restored, GiB + 5, 16))

        # Clone of the source (bigger): reads the current bytes.
        clone = self.volume(size=3)
        clone.update(self.driver.create_cloned_volume(clone, src))
        self.assertEqual(3 * GiB, self.disk_of(clone)['diskSizeBytes'])
        self.assertEqual(second, self.read(clone, 0, MiB))

        # Writes to one never leak into another.
        self.write(clone, 0, b'clone-write')
        self.write(restored, 0, b'restored-write')
        self.write(src, 512 * MiB, b'source-write')
        self.assertEqual(second, self.read(src, 0, MiB))
        self.assertEqual(b'clone-write', self.read(clone, 0, 11))
        self.assertEqual(second[11:MiB], self.read(clone, 11, MiB - 11))
        self.assertEqual(b'restored-write', self.read(restored, 0, 14))
        self.assertEqual(first[14:MiB], self.read(restored, 14, MiB - 14))
        self.assertEqual(b'tail-marker', self.read(clone, 512 * MiB, 11))
        self.assertEqual(b'tail-marker', self.read(restored, 512 * MiB, 11))

        # A second volume from the same snapshot still sees the snapshot.
        again = self.volume(size=1)
        again.update(self.driver.create_volume_from_snapshot(again, snap))
        self.assertEqual(first, self.read(again, 0, MiB))

        # Deleting the source keeps its clones and snapshot readable.
        self.driver.delete_volume(src)
        self.assertEqual(b'clone-write', self.read(clone, 0, 11))
        self.assertEqual(first, self.read(again, 0, MiB))

        self.driver.delete_snapshot(snap)
        self.assertNotIn(snap.provider_id, self.objects('recovery_point'))
        self.driver.delete_snapshot(snap)   # idempotent
        self.assertEqual(first[14:MiB], self.read(restored, 14, MiB - 14))

    def test_revert_to_snapshot(self):
        vol = self.create_volume(size=1)
        self.write(vol, 0, b'version-1')
        snap = self.create_snapshot(vol)
        self.write(vol, 0, b'version-2')
        self.write(vol, 100 * MiB, b'after')
        self.driver.revert_to_snapshot(self.ctx, vol, snap)
        self.assertEqual(b'version-1', self.read(vol, 0, 9))
        self.assertEqual(b'\0' * 5, self.read(vol, 100 * MiB, 5))

    def test_snapshot_failure_leaves_no_recovery_point(self):
        vol = self.create_volume()
        before = self.objects('recovery_point')
        self.admin.add_fault(method='POST', path='recovery-points$',
                             status=500, times=10)
        snap = self.snapshot(vol)
        self.assertRaises(exception.VolumeBackendAPIException,
                          self.driver.create_snapshot, snap)
        self.admin.clear_faults()
        self.assertEqual(before, self.objects('recovery_point'))

    def test_snapshot_of_missing_volume(self):
        vol = self.create_volume()
        self.driver.delete_volume(vol)
        self.assertRaises(exception.VolumeNotFound,
                          self.driver.create_snapshot, self.snapshot(vol))
