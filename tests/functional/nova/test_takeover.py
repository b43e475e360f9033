"""nova-compute killed mid-operation, then started again (or a standby).

A kill is played by ``SystemExit`` raised from a backend call: like a
SIGKILL it runs none of the driver's ``except Exception`` cleanup, so the
cluster is left exactly as a dead nova-compute leaves it.  The restarted
service is a new driver with no shared state (``new_driver``), given the
host's instances as nova-compute gives them at start-up
(``process_instances_at_startup``).
"""

from unittest import mock

from nova.compute import power_state
from nova.compute import task_states
from nova.compute import vm_states
from nova import exception

from nutanix_openstack.nova import snapshotops
from nutanix_openstack.prism import locations
from nutanix_openstack.prism import volume_groups as prism_vgs
from tests.functional.nova import base


class Killed(SystemExit):
    """nova-compute died here."""


class TakeoverTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        # An instance that was fine before the kill.
        self.running = self.spawn()

    def vms(self):
        return sorted(self.inventory().get('vm', []))

    def vm_of(self, instance):
        return self.driver.ops.vm.find_vm(instance)

    def kill_during_spawn(self):
        """Spawn an instance and die after its VM exists, before power-on."""
        instance = base.make_instance(vm_state=vm_states.BUILDING,
                                      task_state=task_states.SPAWNING)
        with mock.patch.object(self.client.vms, 'power_on',
                               side_effect=Killed):
            self.assertRaises(Killed, self.spawn, instance)
        return instance

    def test_interrupted_spawn_is_removed_and_running_vms_adopted(self):
        building = self.kill_during_spawn()
        half_made = self.vm_of(building)
        disks_before = (self.emu.admin.inventory()['storage']['disks'] -
                        len(half_made['disks']))
        self.assertEqual('OFF', half_made['powerState'])
        self.assertEqual(2, len(self.vms()))

        restarted = self.new_driver()
        instances = [self.running, building]
        self.assertEqual(instances, restarted.process_instances_at_startup(
            self.context, instances))
        # The half-made VM and its disks are gone; the other is untouched.
        self.assertIsNone(self.vm_of(building))
        self.assertEqual(
            disks_before, self.emu.admin.inventory()['storage']['disks'])
        self.assertEqual(power_state.RUNNING,
                         restarted.get_info(self.running).state)
        # Nova errors the instance out; a rebuild spawns it again: one VM.
        building.vm_state, building.task_state = (vm_states.ACTIVE, None)
        restarted.spawn(self.context, building,
                        self.image_meta(self.glance.add(b'x' * 512)),
                        [], None, {})
        self.assertEqual(2, len(self.vms()))
        self.assertEqual(power_state.RUNNING,
                         restarted.get_info(building).state)

    def test_a_second_start_or_a_standby_changes_nothing(self):
        self.client.vms.power_off(self.vm_of(self.running)['extId'])
        before = self.vms()
        for _ in range(2):
            self.new_driver().process_instances_at_startup(
                self.context, [self.running])
        self.assertEqual(before, self.vms())
        # Adopted in the power state the cluster reports.
        self.assertEqual(power_state.SHUTDOWN,
                         self.new_driver().get_info(self.running).state)

    def test_spawn_never_makes_a_second_vm_for_an_instance(self):
        self.assertRaises(exception.InstanceExists, self.spawn, self.running)
        self.assertEqual(1, len(self.vms()))

    def test_backend_failure_at_start_up_is_not_fatal(self):
        building = self.kill_during_spawn()
        restarted = self.new_driver()
        with mock.patch.object(restarted._client.vms, 'delete',
                               side_effect=ConnectionError('cluster away')):
            restarted.process_instances_at_startup(self.context, [building])
        # Left for the next start (or the instance's deletion).
        self.assertIsNotNone(self.vm_of(building))
        restarted.process_instances_at_startup(self.context, [building])
        self.assertIsNone(self.vm_of(building))

    def snapshot_killed_before_glance_had_it(self):
        snap_id = self.glance.add(b'', status='queued')
        self.glance.images[snap_id]['status'] = 'queued'

        def update_task_state(task_state, expected_state=None):
            if task_state == task_states.IMAGE_UPLOADING:
                raise Killed()
        self.assertRaises(Killed, self.driver.snapshot, self.context,
                          self.running, snap_id, update_task_state)
        return snap_id

    def snapshot_images(self):
        return [i for i in self.client.images.list()
                if i['name'].startswith(snapshotops.SNAPSHOT_PREFIX)]

    def test_interrupted_snapshot_image_is_removed(self):
        self.snapshot_killed_before_glance_had_it()
        self.assertEqual(1, len(self.snapshot_images()))
        self.running.task_state = task_states.IMAGE_UPLOADING
        self.new_driver().process_instances_at_startup(self.context,
                                                       [self.running])
        self.assertEqual([], self.snapshot_images())
        # The instance's VM is untouched.
        self.assertIsNotNone(self.vm_of(self.running))

    def test_finished_snapshot_glance_uses_is_kept(self):
        snap_id = self.snapshot_killed_before_glance_had_it()
        (image,) = self.snapshot_images()
        # Glance got its location before the kill: the snapshot is done.
        self.glance.images[snap_id]['status'] = 'active'
        self.glance.images[snap_id]['locations'].append({
            'url': locations.make_location(self.emu.cluster_ext_id,
                                           image['extId']),
            'metadata': {}})
        self.running.task_state = task_states.IMAGE_UPLOADING
        self.new_driver().process_instances_at_startup(self.context,
                                                       [self.running])
        self.assertEqual([image['extId']],
                         [i['extId'] for i in self.snapshot_images()])

    def test_interrupted_resize_is_adopted_and_finished(self):
        new_flavor = base.make_flavor(vcpus=4, memory_mb=2048, root_gb=2,
                                      id=2, flavorid='2', name='m2')
        self.driver.migrate_disk_and_power_off(
            self.context, self.running, '', new_flavor, None, None)
        # Killed before finish_migration: the VM is off, nothing was made.
        self.running.task_state = task_states.RESIZE_MIGRATED
        restarted = self.new_driver()
        restarted.process_instances_at_startup(self.context, [self.running])
        self.assertEqual(1, len(self.vms()))
        self.assertEqual(power_state.SHUTDOWN,
                         restarted.get_info(self.running).state)
        # Nova (or the operator's reset) carries the resize on.
        self.running.flavor = new_flavor
        restarted.finish_migration(self.context, None, self.running, '',
                                   None, self.image_meta(
                                       self.glance.add(b'y')),
                                   True, None, power_on=True)
        vm = self.vm_of(self.running)
        self.assertEqual('ON', vm['powerState'])
        self.assertEqual(4, vm['numSockets'] * vm['numCoresPerSocket'])

    def test_interrupted_attach_is_not_attached_twice(self):
        vg = self.client.volume_groups.create(
            'volume-1', disks=[prism_vgs.volume_disk(
                base.GiB, self.emu.container_ext_id)],
            cluster_ext_id=self.emu.cluster_ext_id)
        conn = {'driver_volume_type': 'iscsi', 'serial': 'vol-1',
                'data': {'volume_group_ext_id': vg['extId']}}
        # The attach reached the cluster; nova-compute died before it
        # recorded it.  The retried attach after the restart is a no-op.
        self.driver.attach_volume(self.context, conn, self.running,
                                  '/dev/sdb')
        restarted = self.new_driver()
        restarted.process_instances_at_startup(self.context, [self.running])
        restarted.attach_volume(self.context, conn, self.running, '/dev/sdb')
        self.assertEqual(
            [self.vm_of(self.running)['extId']],
            [a['extId'] for a in
             self.client.volume_groups.list_vm_attachments(vg['extId'])])
