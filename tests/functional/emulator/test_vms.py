"""Functional tests of the emulator's AHV VM API over loopback HTTP."""

import uuid

from tests.functional.emulator import test_vms_base as base
from tests.functional.emulator.test_vms_base import GiB
from tests.functional.emulator.test_vms_base import MiB
from tests.functional.emulator.test_vms_base import VMM
from tests.functional.emulator.test_vms_base import VOLUMES

HOST1 = '00000000-0000-4000-8000-000000000101'
HOST2 = '00000000-0000-4000-8000-000000000102'


class TestVmCreate(base.ApiTestCase):

    def test_disk_from_image_is_a_cow_clone_grown_to_size(self):
        data = b'boot-sector' * 1000
        image = self.make_image(data)
        vm_id = self.create_vm(disks=[base.vm_disk(
            size=8 * MiB, source=base.image_ref(image))])
        disk = self.vm_disks(vm_id)[0]
        backing = disk['backingInfo']
        self.assertEqual(8 * MiB, backing['diskSizeBytes'])
        self.assertEqual(image,
                         backing['dataSource']['reference']['imageExtId'])
        self.assertEqual(disk['extId'], backing['diskExtId'])
        self.assertEqual(data, self.emu.admin.read_disk(disk['extId'], 0,
                                                        len(data)))
        # Writes to the VM disk never reach the image (copy-on-write).
        self.emu.admin.write_disk(disk['extId'], 0, b'X' * 100)
        self.assertEqual(data[:100], self.emu.admin.read_disk(image, 0, 100))
        self.assertEqual(8 * MiB,
                         self.emu.admin.disk_info(disk['extId'])['size'])

    def test_size_defaults_to_source_and_smaller_is_refused(self):
        image = self.make_image(b'a' * (2 * MiB))
        vm_id = self.create_vm(disks=[base.vm_disk(
            source=base.image_ref(image))])
        self.assertEqual(2 * MiB,
                         self.vm_disks(vm_id)[0]['backingInfo'][
                             'diskSizeBytes'])
        resp = self.call('POST', VMM + '/vms', self.vm_body(disks=[
            base.vm_disk(size=MiB, source=base.image_ref(image))]))
        self.assert_error(resp, 400)
        self.assertEqual(1, len(self.list(VMM + '/vms')))

    def test_missing_sources_and_bad_bodies(self):
        resp = self.call('POST', VMM + '/vms', self.vm_body(disks=[
            base.vm_disk(source=base.image_ref(str(uuid.uuid4())))]))
        self.assert_error(resp, 404)
        resp = self.call('POST', VMM + '/vms', self.vm_body(disks=[
            base.vg_backing(str(uuid.uuid4()))]))
        self.assert_error(resp, 404)
        resp = self.call('POST', VMM + '/vms', {'numSockets': 1})
        self.assert_error(resp, 400)
        resp = self.call('POST', VMM + '/vms', self.vm_body(numSockets=0))
        self.assert_error(resp, 400)
        resp = self.call('POST', VMM + '/vms', self.vm_body(disks=[
            {'backingInfo': {'$objectType': 'vmm.v4.ahv.config.VmDisk'}}]))
        self.assert_error(resp, 400)
        self.assertEqual([], self.list(VMM + '/vms'))
        self.assertEqual({}, {k: v for k, v in self.emu.admin.inventory()[
            'objects'].items() if k in ('vm',) and v})

    def test_image_without_data_is_not_cloneable(self):
        image = str(uuid.uuid4())
        resp = self.call('POST', '/api/nutanix/v3/images', {
            'spec': {'name': 'empty', 'resources': {}},
            'metadata': {'kind': 'image', 'uuid': image}})
        self.assertEqual(202, resp.status_code, resp.text)
        resp = self.call('POST', VMM + '/vms', self.vm_body(disks=[
            base.vm_disk(size=MiB, source=base.image_ref(image))]))
        self.assert_error(resp, 409, 'VMM-40901')
        self.assertEqual([], self.list(VMM + '/vms'))

    def test_cdrom_medium_is_a_clone_owned_by_the_vm(self):
        image = self.make_image(b'config-drive' * 100)
        vm_id = self.create_vm(cdRoms=[{'backingInfo': {
            'dataSource': {'reference': base.image_ref(image)}}}])
        vm, _ = self.get('%s/vms/%s' % (VMM, vm_id))
        cdrom = vm['cdRoms'][0]
        self.assertEqual(cdrom['extId'], cdrom['backingInfo']['diskExtId'])
        self.assertEqual(1200, cdrom['backingInfo']['diskSizeBytes'])
        self.assertEqual(b'config-drive',
                         self.emu.admin.read_disk(cdrom['extId'], 0, 12))
        self.run_ok('DELETE', '%s/vms/%s' % (VMM, vm_id))
        self.assertFalse(self.disk_exists(cdrom['extId']))
        self.assertTrue(self.disk_exists(image))

    def test_config_is_stored_and_cloud_init_kept_as_sent(self):
        user_data = 'I2Nsb3VkLWNvbmZpZwpwYXNzd29yZDogeAo='
        gc = {'config': {
            '$objectType': 'vmm.v4.ahv.config.CloudInit',
            'datasourceType': 'CONFIG_DRIVE_V2',
            'metadata': 'eyJ1dWlkIjogIngifQ==',
            'cloudInitScript': {'$objectType': 'vmm.v4.ahv.config.Userdata',
                                'value': user_data}}}
        nic = {'nicBackingInfo': {
            '$objectType': 'vmm.v4.ahv.config.VirtualEthernetNic',
            'isConnected': True}}
        boot = {'$objectType': 'vmm.v4.ahv.config.UefiBoot',
                'isSecureBootEnabled': False}
        vm_id = self.create_vm(
            name='configured', guestCustomization=gc, nics=[nic],
            bootConfig=boot, cdRoms=[{}], numSockets=2,
            disks=[base.vm_disk(size=MiB), base.vm_disk(size=MiB)])
        vm, etag = self.get('%s/vms/%s' % (VMM, vm_id))
        self.assertTrue(etag)
        self.assertEqual('configured', vm['name'])
        self.assertEqual(2, vm['numSockets'])
        self.assertEqual(2 * GiB, vm['memorySizeBytes'])
        self.assertEqual('OFF', vm['powerState'])
        self.assertNotIn('host', vm)
        self.assertEqual(self.emu.cluster_ext_id, vm['cluster']['extId'])
        self.assertEqual(gc, vm['guestCustomization'])
        self.assertEqual(boot, vm['bootConfig'])
        self.assertTrue(vm['nics'][0]['extId'])
        self.assertTrue(vm['nics'][0]['nicBackingInfo']['macAddress'])
        self.assertEqual('IDE', vm['cdRoms'][0]['diskAddress']['busType'])
        self.assertEqual([0, 1], [d['diskAddress']['index']
                                  for d in vm['disks']])
        self.assertEqual(self.emu.container_ext_id,
                         vm['disks'][0]['backingInfo']['storageContainer'][
                             'extId'])

    def test_disk_from_vm_disk_by_id_and_by_address(self):
        src = self.create_vm(disks=[base.vm_disk(size=MiB)])
        src_disk = self.vm_disks(src)[0]['extId']
        self.emu.admin.write_disk(src_disk, 0, b'source-bytes')
        by_id = self.create_vm(disks=[base.vm_disk(
            source=base.vm_disk_ref(src_disk))])
        by_address = self.create_vm(disks=[base.vm_disk(source={
            '$objectType': 'vmm.v4.ahv.config.VmDiskReference',
            'vmReference': {'extId': src},
            'diskAddress': {'busType': 'SCSI', 'index': 0}})])
        for vm_id in (by_id, by_address):
            disk = self.vm_disks(vm_id)[0]
            self.assertEqual(src_disk, disk['backingInfo']['dataSource'][
                'reference']['diskExtId'])
            self.assertEqual(b'source-bytes',
                             self.emu.admin.read_disk(disk['extId'], 0, 12))

    def test_request_id_makes_create_idempotent(self):
        rid = str(uuid.uuid4())
        first = self.call('POST', VMM + '/vms', self.vm_body(), request_id=rid)
        second = self.call('POST', VMM + '/vms', self.vm_body(),
                           request_id=rid)
        self.assertEqual(first.json(), second.json())
        self.assertEqual(1, len(self.list(VMM + '/vms')))


class TestVmReadUpdateDelete(base.ApiTestCase):

    def test_get_missing_vm_is_vmm_404(self):
        resp = self.call('GET', '%s/vms/%s' % (VMM, uuid.uuid4()))
        error = self.assert_error(resp, 404, 'VMM-30100')
        self.assertEqual('VM_NOT_FOUND', error['errorGroup'])

    def test_list_with_filter_and_pages(self):
        for name in ('alpha', 'beta', 'alphabet'):
            self.create_vm(name=name)
        names = [v['name'] for v in self.list(
            VMM + '/vms', **{'$filter': "startswith(name, 'alpha')"})]
        self.assertEqual(['alpha', 'alphabet'], names)
        self.assertEqual(['beta'], [v['name'] for v in self.list(
            VMM + '/vms', **{'$filter': "name eq 'beta'"})])
        self.assertEqual(1, len(self.list(VMM + '/vms', **{'$limit': 1,
                                                           '$page': 2})))

    def test_update_needs_matching_etag(self):
        vm_id = self.create_vm()
        path = '%s/vms/%s' % (VMM, vm_id)
        vm, etag = self.get(path)
        vm.update(name='renamed', numSockets=4, memorySizeBytes=8 * GiB)
        self.assert_error(self.call('PUT', path, vm), 428)
        self.assert_error(self.call('PUT', path, vm,
                                    headers={'If-Match': 'stale'}), 412)
        self.run_ok('PUT', path, vm, headers={'If-Match': etag})
        updated, new_etag = self.get(path)
        self.assertEqual(('renamed', 4, 8 * GiB),
                         (updated['name'], updated['numSockets'],
                          updated['memorySizeBytes']))
        self.assertNotEqual(etag, new_etag)
        # The old ETag is now stale.
        self.assert_error(self.call('PUT', path, vm,
                                    headers={'If-Match': etag}), 412)

    def test_running_vm_can_grow_but_not_shrink(self):
        vm_id = self.create_vm()
        path = '%s/vms/%s' % (VMM, vm_id)
        self.run_ok('POST', path + '/$actions/power-on')
        vm, etag = self.get(path)
        vm['memorySizeBytes'] = GiB
        resp = self.call('PUT', path, vm, headers={'If-Match': etag})
        self.assertEqual(202, resp.status_code)
        task = self.wait_task(resp)
        self.assertEqual('FAILED', task['status'])
        self.assertEqual('VMM-30304', task['errorMessages'][0]['code'])
        vm['memorySizeBytes'] = 4 * GiB
        self.run_ok('PUT', path, vm, headers={'If-Match': etag})
        self.assertEqual(4 * GiB, self.get(path)[0]['memorySizeBytes'])

    def test_delete_removes_own_disks_and_detaches_groups(self):
        image = self.make_image(b'i' * MiB)
        vg = self.create_vg(disks=[{'diskSizeBytes': MiB}])
        vm_id = self.create_vm(disks=[
            base.vm_disk(size=2 * MiB, source=base.image_ref(image)),
            base.vm_disk(size=MiB), base.vg_backing(vg)])
        own = [d['extId'] for d in self.vm_disks(vm_id)]
        self.assertEqual(2, len(own))
        self.assertEqual([vm_id], [a['extId'] for a in self.list(
            '%s/volume-groups/%s/vm-attachments' % (VOLUMES, vg))])
        self.assert_error(self.call('DELETE', '%s/vms/%s' % (VMM, vm_id),
                                    headers={'If-Match': 'stale'}), 412)
        self.run_ok('DELETE', '%s/vms/%s' % (VMM, vm_id))
        self.assert_error(self.call('GET', '%s/vms/%s' % (VMM, vm_id)), 404)
        for disk_id in own:
            self.assertFalse(self.disk_exists(disk_id))
        # The image and the volume group (and its disk) are untouched.
        self.assertTrue(self.disk_exists(image))
        group, _ = self.get('%s/volume-groups/%s' % (VOLUMES, vg))
        self.assertEqual('NONE', group['attachmentType'])
        self.assertEqual([], self.list(
            '%s/volume-groups/%s/vm-attachments' % (VOLUMES, vg)))
        self.assertTrue(self.disk_exists(self.vg_disks(vg)[0]['extId']))
        self.assert_error(self.call('DELETE', '%s/vms/%s' % (VMM, vm_id)),
                          404)


class TestVmPower(base.ApiTestCase):

    def _action(self, vm_id, action):
        return self.call('POST',
                         '%s/vms/%s/$actions/%s' % (VMM, vm_id, action))

    def _state(self, vm_id):
        vm, _ = self.get('%s/vms/%s' % (VMM, vm_id))
        return vm['powerState'], (vm.get('host') or {}).get('extId')

    def test_state_machine(self):
        vm_id = self.create_vm()
        self.assertEqual(('OFF', None), self._state(vm_id))
        for action in ('power-off', 'shutdown', 'guest-shutdown', 'reboot',
                       'guest-reboot', 'reset', 'power-cycle'):
            error = self.assert_error(self._action(vm_id, action), 409,
                                      'VMM-30303')
            self.assertIn(action, error['message'])
        self.wait_task(self._action(vm_id, 'power-on'))
        state, host = self._state(vm_id)
        self.assertEqual('ON', state)
        self.assertIn(host, (HOST1, HOST2))
        self.assert_error(self._action(vm_id, 'power-on'), 409, 'VMM-30303')
        for action in ('reboot', 'guest-reboot', 'reset', 'power-cycle'):
            task = self.wait_task(self._action(vm_id, action))
            self.assertEqual('SUCCEEDED', task['status'])
            self.assertEqual(('ON', host), self._state(vm_id))
        for action in ('shutdown', 'guest-shutdown', 'power-off'):
            task = self.wait_task(self._action(vm_id, action))
            self.assertEqual('SUCCEEDED', task['status'])
            self.assertEqual(('OFF', None), self._state(vm_id))
            self.wait_task(self._action(vm_id, 'power-on'))
        self.assert_error(self._action(vm_id, 'no-such-action'), 404)

    def test_stale_if_match_on_action_is_refused(self):
        vm_id = self.create_vm()
        resp = self.call('POST', '%s/vms/%s/$actions/power-on' % (VMM, vm_id),
                         headers={'If-Match': 'stale'})
        self.assert_error(resp, 412)
        _, etag = self.get('%s/vms/%s' % (VMM, vm_id))
        self.run_ok('POST', '%s/vms/%s/$actions/power-on' % (VMM, vm_id),
                    headers={'If-Match': etag})

    def test_placement_needs_free_memory(self):
        # Each emulated host has 256 GiB: two 200 GiB VMs land on
        # different hosts and a third has nowhere to run.
        vms = [self.create_vm(name='big%d' % i, memorySizeBytes=200 * GiB)
               for i in range(3)]
        self.wait_task(self._action(vms[0], 'power-on'))
        self.wait_task(self._action(vms[1], 'power-on'))
        hosts = {self._state(vms[0])[1], self._state(vms[1])[1]}
        self.assertEqual({HOST1, HOST2}, hosts)
        task = self.wait_task(self._action(vms[2], 'power-on'))
        self.assertEqual('FAILED', task['status'])
        self.assertEqual(('OFF', None), self._state(vms[2]))
        self.wait_task(self._action(vms[0], 'power-off'))
        self.assertEqual('SUCCEEDED', self.wait_task(
            self._action(vms[2], 'power-on'))['status'])

    def test_migrate_to_host(self):
        vm_id = self.create_vm()
        path = '%s/vms/%s/$actions/migrate-to-host' % (VMM, vm_id)
        body = {'host': {'extId': HOST2}}
        self.assert_error(self.call('POST', path, body), 409, 'VMM-30303')
        self.wait_task(self._action(vm_id, 'power-on'))
        _, host = self._state(vm_id)
        other = HOST2 if host == HOST1 else HOST1
        self.assert_error(self.call('POST', path, {'host': {'extId': host}}),
                          400)
        self.assert_error(self.call('POST', path,
                                    {'host': {'extId': str(uuid.uuid4())}}),
                          404)
        self.run_ok('POST', path, {'host': {'extId': other}})
        self.assertEqual(('ON', other), self._state(vm_id))

    def test_console_token(self):
        vm_id = self.create_vm()
        task = self.run_ok('POST', '%s/vms/%s/$actions/generate-console-token'
                           % (VMM, vm_id))
        details = dict((kv['name'], kv['value'])
                       for kv in task['completionDetails'])
        self.assertGreater(len(details['token']), 20)
        self.assertTrue(details['expirationTime'].endswith('Z'))


class TestVmDisks(base.ApiTestCase):

    def test_add_get_resize_delete(self):
        vm_id = self.create_vm(disks=[base.vm_disk(size=MiB)])
        path = '%s/vms/%s/disks' % (VMM, vm_id)
        vg = self.create_vg(disks=[{'diskSizeBytes': 3 * MiB}])
        vol_disk = self.vg_disks(vg)[0]['extId']
        self.emu.admin.write_disk(vol_disk, 0, b'volume-data')
        task = self.run_ok('POST', path, base.vm_disk(
            source=base.volume_disk_ref(vg, vol_disk)))
        new_id = self.created(task, 'vmm:ahv:config:vm:disk')[0]
        disk, etag = self.get('%s/%s' % (path, new_id))
        self.assertEqual(1, disk['diskAddress']['index'])
        self.assertEqual(3 * MiB, disk['backingInfo']['diskSizeBytes'])
        self.assertEqual(b'volume-data',
                         self.emu.admin.read_disk(new_id, 0, 11))
        self.assertEqual(2, len(self.list(path)))
        # Address clash.
        self.assert_error(self.call('POST', path, base.vm_disk(
            size=MiB, index=0)), 400)
        # Resize: grow only, with the ETag.
        disk['backingInfo']['diskSizeBytes'] = 5 * MiB
        self.assert_error(self.call('PUT', '%s/%s' % (path, new_id), disk),
                          428)
        self.run_ok('PUT', '%s/%s' % (path, new_id), disk,
                    headers={'If-Match': etag})
        disk, etag = self.get('%s/%s' % (path, new_id))
        self.assertEqual(5 * MiB, disk['backingInfo']['diskSizeBytes'])
        self.assertEqual(5 * MiB, self.emu.admin.disk_info(new_id)['size'])
        disk['backingInfo']['diskSizeBytes'] = MiB
        self.assert_error(self.call('PUT', '%s/%s' % (path, new_id), disk,
                                    headers={'If-Match': etag}), 400,
                          'VMM-30102')
        self.run_ok('DELETE', '%s/%s' % (path, new_id))
        self.assertFalse(self.disk_exists(new_id))
        self.assertTrue(self.disk_exists(vol_disk))
        self.assert_error(self.call('GET', '%s/%s' % (path, new_id)), 404)
        self.assertEqual(1, len(self.list(path)))

    def test_volume_group_disk_add_and_remove(self):
        vm_id = self.create_vm()
        vg = self.create_vg(disks=[{'diskSizeBytes': MiB}])
        path = '%s/vms/%s/disks' % (VMM, vm_id)
        self.run_ok('POST', path, base.vg_backing(vg, index=3))
        disks = self.list(path)
        self.assertEqual(1, len(disks))
        self.assertEqual(vg, disks[0]['backingInfo']['volumeGroupExtId'])
        self.assertEqual(3, disks[0]['diskAddress']['index'])
        self.assertEqual([{'extId': vm_id, 'index': 3}], [
            {'extId': a['extId'], 'index': a['index']} for a in self.list(
                '%s/volume-groups/%s/vm-attachments' % (VOLUMES, vg))])
        self.assert_error(self.call('POST', path, base.vg_backing(vg)), 409)
        self.run_ok('DELETE', '%s/%s' % (path, disks[0]['extId']))
        self.assertEqual([], self.list(path))
        self.assertEqual([], self.list(
            '%s/volume-groups/%s/vm-attachments' % (VOLUMES, vg)))


class TestVmAsyncTasks(base.ApiTestCase):

    task_mode = 'async'

    def test_create_and_power_on_complete_later(self):
        self.emu.admin.set_task_mode('async', delay=0.2)
        resp = self.call('POST', VMM + '/vms', self.vm_body(
            disks=[base.vm_disk(size=MiB)]))
        self.assertEqual(202, resp.status_code)
        task, _ = self.get('%s/%s' % (base.TASKS, resp.json()['data'][
            'extId']))
        self.assertIn(task['status'], ('QUEUED', 'RUNNING'))
        task = self.wait_task(resp)
        self.assertEqual('SUCCEEDED', task['status'])
        vm_id = self.created(task, 'vmm:ahv:config:vm')[0]
        task = self.wait_task(self.call(
            'POST', '%s/vms/%s/$actions/power-on' % (VMM, vm_id)))
        self.assertEqual('SUCCEEDED', task['status'])


class TestVmPowerAsync(TestVmPower):
    """The same with tasks running in background threads."""

    task_mode = 'async'
