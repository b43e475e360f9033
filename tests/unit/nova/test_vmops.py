"""vmops: the VM an instance becomes, its power and its shape."""

import base64
import json
from unittest import mock

from nova.compute import power_state
from nova import exception
from nova import objects
from nova.virt import fake

from nutanix_openstack.nova import vifops
from nutanix_openstack.nova import vmops
from nutanix_openstack.prism import exceptions as prism_exc
from tests.unit.nova import base

IMAGE_ID = '6f2d9e1c-5f6b-4d43-9a51-6a3f0b1e2c11'


class VMOpsTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.conf = mock.Mock(clean_shutdown_poll_interval=0,
                              endpoints=['https://prism.example:9440'],
                              console_proxy_host=None,
                              console_proxy_port=None)
        self.images = mock.Mock()
        self.images.image_for_boot.return_value = ('img-raw', 'DISK_IMAGE')
        self.client.images.get.return_value = {'sizeBytes': 2 * base.GiB}
        self.volumes = mock.Mock()
        # The real VifOps (no port in these tests unless one is given).
        self.virtapi = fake.FakeVirtAPI()
        self.vifs = vifops.VifOps(self.client, self.virtapi, base.CLUSTER)
        self.ops = vmops.VMOps(self.client, self.conf, base.CLUSTER,
                               base.CONTAINER, self.images, self.volumes,
                               self.vifs)
        self.instance = base.make_instance()
        self.client.vms.create.return_value = {'extId': 'vm-new'}
        self.client.vms.list.return_value = []

    def _image_meta(self, fmt='qcow2'):
        return objects.ImageMeta.from_dict({'id': IMAGE_ID,
                                            'disk_format': fmt})

    # -- lookup and state --

    def test_find_vm_by_uuid_name(self):
        vm = base.vm_dict(self.instance)
        other = dict(vm, name='someone-else', extId='vm-2')
        self.client.vms.list.return_value = [other, vm]
        self.client.vms.get.return_value = vm
        self.assertEqual(vm, self.ops.find_vm(self.instance))
        self.client.vms.get.assert_called_once_with('vm-1')
        self.assertIn(self.instance.uuid,
                      self.client.vms.list.call_args.kwargs['filter'])

    def test_get_vm_missing_is_instance_not_found(self):
        self.expect_vm(None)
        self.assertRaises(exception.InstanceNotFound, self.ops.get_vm,
                          self.instance)

    def test_get_info_maps_power_states(self):
        for backend, nova in (('ON', power_state.RUNNING),
                              ('OFF', power_state.SHUTDOWN),
                              ('PAUSED', power_state.PAUSED),
                              ('UNDETERMINED', power_state.NOSTATE)):
            self.expect_vm(base.vm_dict(self.instance, power=backend))
            self.assertEqual(nova, self.ops.get_info(self.instance).state)

    def test_list_instances_only_nova_vms(self):
        mine = base.vm_dict(self.instance)
        foreign = {'extId': 'x', 'name': 'db-server', 'description': 'DBA'}
        self.client.vms.list.return_value = [mine, foreign]
        self.assertEqual([self.instance.name], self.ops.list_instances())
        self.assertEqual([self.instance.uuid],
                         self.ops.list_instance_uuids())

    # -- spawn --

    def test_spawn_clones_root_and_adds_ephemeral_and_swap(self):
        self.instance.flavor = base.make_flavor(root_gb=20, ephemeral_gb=5,
                                                swap=512, vcpus=4,
                                                memory_mb=2048)
        self.instance.user_data = 'I2Nsb3VkLWNvbmZpZw=='
        self.instance.key_data = 'ssh-rsa AAA'
        self.instance.key_name = 'k'
        self.ops.spawn('ctx', self.instance, self._image_meta(), 'pw', None)

        self.images.image_for_boot.assert_called_once_with(
            'ctx', IMAGE_ID, 'qcow2')
        kw = self.client.vms.create.call_args.kwargs
        self.assertEqual(self.instance.uuid,
                         self.client.vms.create.call_args.args[0])
        self.assertEqual(4, kw['num_sockets'])
        self.assertEqual(2048 * base.MiB, kw['memory_size_bytes'])
        root, eph, swap = kw['disks']
        ref = root['backingInfo']['dataSource']['reference']
        self.assertEqual('img-raw', ref['imageExtId'])
        self.assertEqual(20 * base.GiB, root['backingInfo']['diskSizeBytes'])
        self.assertEqual(0, root['diskAddress']['index'])
        self.assertEqual(5 * base.GiB, eph['backingInfo']['diskSizeBytes'])
        self.assertNotIn('dataSource', eph['backingInfo'])
        self.assertEqual(512 * base.MiB, swap['backingInfo']['diskSizeBytes'])
        self.assertEqual([1, 2], [eph['diskAddress']['index'],
                                  swap['diskAddress']['index']])
        config = kw['guest_customization']['config']
        self.assertEqual('CONFIG_DRIVE_V2', config['datasourceType'])
        self.assertEqual('I2Nsb3VkLWNvbmZpZw==',
                         config['cloudInitScript']['value'])
        meta = json.loads(base64.b64decode(config['metadata']))
        self.assertEqual(self.instance.uuid, meta['uuid'])
        self.assertEqual({'k': 'ssh-rsa AAA'}, meta['public_keys'])
        self.assertEqual('pw', meta['admin_pass'])
        self.client.vms.power_on.assert_called_once_with('vm-new')

    def test_spawn_refuses_a_second_vm_for_an_instance(self):
        self.client.vms.list.return_value = [base.vm_dict(self.instance)]
        self.client.vms.get.return_value = base.vm_dict(self.instance)
        self.assertRaises(exception.InstanceExists, self.ops.spawn, 'ctx',
                          self.instance, self._image_meta(), None, None)
        self.client.vms.create.assert_not_called()

    def test_spawn_root_gb_zero_uses_image_size(self):
        self.instance.flavor = base.make_flavor(root_gb=0)
        self.ops.spawn('ctx', self.instance, self._image_meta(), None, None)
        root = self.client.vms.create.call_args.kwargs['disks'][0]
        self.assertEqual(2 * base.GiB, root['backingInfo']['diskSizeBytes'])

    def test_spawn_flavor_smaller_than_image(self):
        self.instance.flavor = base.make_flavor(root_gb=1)
        self.assertRaises(exception.FlavorDiskSmallerThanImage,
                          self.ops.spawn, 'ctx', self.instance,
                          self._image_meta(), None, None)
        self.client.vms.create.assert_not_called()

    def test_spawn_iso_mounts_cdrom_and_boots_from_it(self):
        self.images.image_for_boot.return_value = ('iso-1', 'ISO_IMAGE')
        self.ops.spawn('ctx', self.instance, self._image_meta('iso'), None,
                       None)
        kw = self.client.vms.create.call_args.kwargs
        (cd,) = kw['cd_roms']
        self.assertEqual('iso-1', cd['backingInfo']['dataSource']
                         ['reference']['imageExtId'])
        self.assertEqual('CDROM', kw['boot_config']['bootOrder'][0])
        (root,) = kw['disks']
        self.assertNotIn('dataSource', root['backingInfo'])
        self.assertEqual(10 * base.GiB, root['backingInfo']['diskSizeBytes'])

    def test_spawn_unsupported_format(self):
        self.images.image_for_boot.side_effect = (
            vmops.imagecache.UnsupportedImageFormat('ami'))
        self.assertRaises(exception.ImageUnacceptable, self.ops.spawn,
                          'ctx', self.instance, self._image_meta('ami'),
                          None, None)

    def test_spawn_boot_from_volume_attaches_and_clones_nothing(self):
        conn = {'driver_volume_type': 'iscsi',
                'data': {'volume_group_ext_id': 'vg-1'}}
        bdi = {'block_device_mapping': [{'boot_index': 0,
                                         'connection_info': conn}],
               'ephemerals': [], 'swap': None}
        self.ops.spawn('ctx', self.instance, self._image_meta(), None, bdi)
        self.images.image_for_boot.assert_not_called()
        self.assertEqual([], self.client.vms.create.call_args.kwargs['disks'])
        self.volumes.attach.assert_called_once_with(conn, 'vm-new',
                                                    self.instance)
        self.client.vms.power_on.assert_called_once_with('vm-new')

    def test_spawn_failure_deletes_vm(self):
        self.client.vms.power_on.side_effect = prism_exc.TaskFailed('boom')
        vm = base.vm_dict(self.instance, ext_id='vm-new', power='OFF')
        self.client.vms.get.return_value = vm
        self.assertRaises(prism_exc.TaskFailed, self.ops.spawn, 'ctx',
                          self.instance, self._image_meta(), None, None)
        self.client.vms.delete.assert_called_once_with('vm-new')

    def test_spawn_failure_cleanup_error_keeps_original_error(self):
        self.client.vms.power_on.side_effect = prism_exc.TaskFailed('boom')
        self.client.vms.get.side_effect = prism_exc.ServerError('500')
        e = self.assertRaises(prism_exc.TaskFailed, self.ops.spawn, 'ctx',
                              self.instance, self._image_meta(), None, None)
        self.assertIn('boom', str(e))

    def assertRaises(self, exc, f, *args, **kwargs):
        with super().assertRaises(exc) as cm:
            f(*args, **kwargs)
        return cm.exception

    # -- destroy --

    def test_destroy_detaches_volume_groups_first(self):
        vm = base.vm_dict(self.instance,
                          disks=[base.root_disk(), base.vg_disk('vg-9')])
        self.expect_vm(vm)
        calls = mock.Mock()
        self.volumes.detach_group.side_effect = (
            lambda *a: calls.detach(*a))
        self.client.vms.delete.side_effect = lambda *a: calls.delete(*a)
        self.ops.destroy(self.instance)
        self.assertEqual([mock.call.detach('vg-9', 'vm-1'),
                          mock.call.delete('vm-1')], calls.mock_calls)
        self.client.vms.power_off.assert_called_once_with('vm-1')

    def test_destroy_missing_vm_is_noop(self):
        self.expect_vm(None)
        self.ops.destroy(self.instance)
        self.client.vms.delete.assert_not_called()

    def test_destroy_vm_vanishing_meanwhile(self):
        self.expect_vm(base.vm_dict(self.instance, power='OFF'))
        self.client.vms.delete.side_effect = prism_exc.NotFound('gone')
        self.ops.destroy(self.instance)

    # -- power --

    def test_soft_reboot_falls_back_to_reset(self):
        self.expect_vm(base.vm_dict(self.instance))
        self.client.vms.reboot.side_effect = prism_exc.TaskFailed('no acpi')
        self.ops.reboot(self.instance, 'SOFT')
        self.client.vms.reset.assert_called_once_with('vm-1')

    def test_hard_reboot_resets(self):
        self.expect_vm(base.vm_dict(self.instance))
        self.ops.reboot(self.instance, 'HARD')
        self.client.vms.reset.assert_called_once_with('vm-1')
        self.client.vms.reboot.assert_not_called()

    def test_reboot_of_stopped_vm_powers_on(self):
        self.expect_vm(base.vm_dict(self.instance, power='OFF'))
        self.ops.reboot(self.instance, 'SOFT')
        self.client.vms.power_on.assert_called_once_with('vm-1')

    def test_power_off_clean_then_waits(self):
        on = base.vm_dict(self.instance)
        off = base.vm_dict(self.instance, power='OFF')
        self.client.vms.list.return_value = [on]
        self.client.vms.get.side_effect = [on, on, off]
        self.ops.power_off(self.instance, timeout=30)
        self.client.vms.shutdown.assert_called_once_with('vm-1')
        self.client.vms.power_off.assert_not_called()

    def test_power_off_hard_after_timeout(self):
        on = base.vm_dict(self.instance)
        self.expect_vm(on)
        with mock.patch('time.monotonic', side_effect=[0, 0, 100]):
            self.ops.power_off(self.instance, timeout=30)
        self.client.vms.power_off.assert_called_once_with('vm-1')

    def test_power_off_without_timeout_is_hard(self):
        self.expect_vm(base.vm_dict(self.instance))
        self.ops.power_off(self.instance)
        self.client.vms.shutdown.assert_not_called()
        self.client.vms.power_off.assert_called_once_with('vm-1')

    def test_power_on_running_vm_is_noop(self):
        self.expect_vm(base.vm_dict(self.instance))
        self.ops.power_on(self.instance)
        self.client.vms.power_on.assert_not_called()

    # -- resize --

    def test_resize_refuses_root_shrink(self):
        self.expect_vm(base.vm_dict(self.instance))
        flavor = base.make_flavor(root_gb=5)
        self.assertRaises(exception.InstanceFaultRollback,
                          self.ops.migrate_disk_and_power_off,
                          self.instance, flavor, 0, 0)
        self.client.vms.power_off.assert_not_called()

    def test_finish_migration_sets_shape_and_grows_root(self):
        self.expect_vm(base.vm_dict(self.instance, power='OFF'))
        self.instance.flavor = base.make_flavor(vcpus=8, memory_mb=4096,
                                                root_gb=40)
        self.ops.finish_migration(self.instance, True, True)
        self.client.vms.update.assert_called_once_with(
            'vm-1', numSockets=8, numCoresPerSocket=1,
            memorySizeBytes=4096 * base.MiB)
        self.client.vms.resize_disk.assert_called_once_with(
            'vm-1', 'disk-root', 40 * base.GiB)
        self.client.vms.power_on.assert_called_once_with('vm-1')

    def test_revert_restores_shape(self):
        self.expect_vm(base.vm_dict(self.instance, power='OFF',
                                    numSockets=8))
        self.ops.finish_revert_migration(self.instance, True)
        self.client.vms.update.assert_called_once_with(
            'vm-1', numSockets=2, numCoresPerSocket=1,
            memorySizeBytes=1024 * base.MiB)
        self.client.vms.resize_disk.assert_not_called()

    def test_revert_of_running_vm_stops_it_first(self):
        running = base.vm_dict(self.instance, power='ON', numSockets=8)
        stopped = dict(running, powerState='OFF')
        self.client.vms.list.return_value = [running]
        self.client.vms.get.side_effect = [running, stopped]
        calls = mock.Mock()
        self.client.vms.power_off.side_effect = (
            lambda *a: calls.power_off(*a))
        self.client.vms.update.side_effect = (
            lambda *a, **kw: calls.update(*a))
        self.client.vms.power_on.side_effect = lambda *a: calls.power_on(*a)
        self.ops.finish_revert_migration(self.instance, True)
        self.assertEqual([mock.call.power_off('vm-1'),
                          mock.call.update('vm-1'),
                          mock.call.power_on('vm-1')], calls.mock_calls)

    # -- console --

    def test_vnc_console(self):
        self.expect_vm(base.vm_dict(self.instance))
        self.client.vms.console_token.return_value = {'token': 'a b'}
        console = self.ops.get_vnc_console(self.instance)
        self.assertEqual(('prism.example', 9440), (console.host,
                                                   console.port))
        self.assertEqual('/vnc/vm/vm-1/proxy?token=a%20b',
                         console.internal_access_path)

    def test_vnc_console_bare_endpoint(self):
        self.conf.endpoints = ['10.0.0.1']
        self.expect_vm(base.vm_dict(self.instance))
        self.client.vms.console_token.return_value = {'token': 't'}
        console = self.ops.get_vnc_console(self.instance)
        self.assertEqual(('10.0.0.1', 9440), (console.host, console.port))

    def test_vnc_console_needs_running_vm(self):
        self.expect_vm(base.vm_dict(self.instance, power='OFF'))
        self.assertRaises(exception.InstanceNotReady,
                          self.ops.get_vnc_console, self.instance)
