"""Functional tests of the emulator's recovery point API over loopback."""

import struct
import threading
import uuid

from nutanix_openstack.emulator import fixture
from tests.functional.emulator import test_vms_base as base
from tests.functional.emulator.test_vms_base import DP
from tests.functional.emulator.test_vms_base import MiB
from tests.functional.emulator.test_vms_base import VMM
from tests.functional.emulator.test_vms_base import VOLUMES

RPS = DP + '/recovery-points'
REL_RP = 'dataprotection:config:recovery-point'


class RecoveryPointTestCase(base.ApiTestCase):

    def setUp(self):
        super().setUp()
        self.vm = self.create_vm('app', disks=[base.vm_disk(size=MiB),
                                               base.vm_disk(size=2 * MiB)])
        self.vm_disk_ids = [d['extId'] for d in self.vm_disks(self.vm)]
        self.vg = self.create_vg('data', disks=[{'diskSizeBytes': MiB}])
        self.vg_disk = self.vg_disks(self.vg)[0]['extId']
        for disk_id in self.vm_disk_ids + [self.vg_disk]:
            self.emu.admin.write_disk(disk_id, 0, b'before')

    def snapshot(self, name='rp', **extra):
        body = {'name': name,
                'vmRecoveryPoints': [{'vmExtId': self.vm}],
                'volumeGroupRecoveryPoints': [{'volumeGroupExtId': self.vg}]}
        body.update(extra)
        task = self.run_ok('POST', RPS, body)
        rp_id = self.created(task, REL_RP)[0]
        rp, _ = self.get('%s/%s' % (RPS, rp_id))
        return rp


class TestCreate(RecoveryPointTestCase):

    def test_one_call_covers_vms_and_groups(self):
        rp = self.snapshot(expirationTime='2030-01-01T00:00:00Z')
        self.assertEqual('dataprotection.v4.config.RecoveryPoint',
                         rp['$objectType'])
        self.assertEqual(('rp', 'COMPLETE', 'CRASH_CONSISTENT'),
                         (rp['name'], rp['status'],
                          rp['recoveryPointType']))
        self.assertEqual('2030-01-01T00:00:00Z', rp['expirationTime'])
        vmrp = rp['vmRecoveryPoints'][0]
        vgrp = rp['volumeGroupRecoveryPoints'][0]
        self.assertEqual(self.vm, vmrp['vmExtId'])
        self.assertEqual(self.vg, vgrp['volumeGroupExtId'])
        self.assertEqual(self.vm_disk_ids,
                         [d['diskExtId'] for d in vmrp['diskRecoveryPoints']])
        self.assertEqual([self.vg_disk],
                         [d['diskExtId'] for d in vgrp['diskRecoveryPoints']])
        ids = [rp['extId'], vmrp['extId'], vgrp['extId']] + [
            d['diskRecoveryPointExtId'] for m in (vmrp, vgrp)
            for d in m['diskRecoveryPoints']]
        self.assertEqual(len(ids), len(set(ids)))
        self.assertFalse('_' in ''.join(k[0] for k in vmrp))
        member, _ = self.get('%s/%s/vm-recovery-points/%s'
                             % (RPS, rp['extId'], vmrp['extId']))
        self.assertEqual(self.vm, member['vmExtId'])
        self.assert_error(self.call('GET', '%s/%s/vm-recovery-points/%s' % (
            RPS, rp['extId'], uuid.uuid4())), 404)

    def test_disk_recovery_points_are_immutable_cow_copies(self):
        rp = self.snapshot()
        for disk_id in self.vm_disk_ids + [self.vg_disk]:
            self.emu.admin.write_disk(disk_id, 0, b'after!')
        drps = [d['diskRecoveryPointExtId']
                for m in rp['vmRecoveryPoints'] +
                rp['volumeGroupRecoveryPoints']
                for d in m['diskRecoveryPoints']]
        for drp in drps:
            self.assertEqual(b'before', self.emu.admin.read_disk(drp, 0, 6))
        self.assertEqual(2 * MiB, self.emu.admin.disk_info(drps[1])['size'])

    def test_bad_requests(self):
        self.assert_error(self.call('POST', RPS, {'name': 'x'}), 400)
        self.assert_error(self.call('POST', RPS, {
            'vmRecoveryPoints': [{'vmExtId': str(uuid.uuid4())}]}), 404,
            'VMM-30100')
        self.assert_error(self.call('POST', RPS, {
            'volumeGroupRecoveryPoints': [
                {'volumeGroupExtId': str(uuid.uuid4())}]}), 404)
        self.assert_error(self.call('POST', RPS, {
            'vmRecoveryPoints': [{'vmExtId': self.vm}, {'vmExtId': self.vm}]}),
            400)
        self.assert_error(self.call('POST', RPS, {
            'vmRecoveryPoints': [{'vmExtId': self.vm}],
            'recoveryPointType': 'WHATEVER'}), 400)
        self.assertEqual([], self.list(RPS))

    def test_list_filter_expiration_and_delete(self):
        rp1 = self.snapshot('first')
        self.snapshot('second')
        self.assertEqual(['second'], [r['name'] for r in self.list(
            RPS, **{'$filter': "name eq 'second'"})])
        self.run_ok('POST', '%s/%s/$actions/set-expiration-time'
                    % (RPS, rp1['extId']),
                    {'expirationTime': '2031-05-05T10:00:00Z'})
        got, _ = self.get('%s/%s' % (RPS, rp1['extId']))
        self.assertEqual('2031-05-05T10:00:00Z', got['expirationTime'])
        self.assertEqual('2031-05-05T10:00:00Z',
                         got['vmRecoveryPoints'][0]['expirationTime'])
        self.assert_error(self.call(
            'POST', '%s/%s/$actions/set-expiration-time' % (RPS,
                                                            rp1['extId']),
            {'expirationTime': 'soon'}), 400)
        drps = [d['diskRecoveryPointExtId']
                for m in rp1['vmRecoveryPoints'] +
                rp1['volumeGroupRecoveryPoints']
                for d in m['diskRecoveryPoints']]
        # A disk cloned from a disk recovery point outlives the recovery
        # point (the store keeps shared chunks).
        task = self.run_ok('POST', '%s/volume-groups/%s/disks'
                           % (VOLUMES, self.vg), {
                               'diskDataSourceReference': {
                                   'extId': drps[0],
                                   'entityType': 'DISK_RECOVERY_POINT'}})
        clone = self.created(task, 'volumes:config:volume-group:disk')[0]
        self.run_ok('DELETE', '%s/%s' % (RPS, rp1['extId']))
        self.assert_error(self.call('GET', '%s/%s' % (RPS, rp1['extId'])),
                          404)
        for drp in drps:
            self.assertFalse(self.disk_exists(drp))
        self.assertEqual(b'before', self.emu.admin.read_disk(clone, 0, 6))
        # The protected entities are untouched.
        for disk_id in self.vm_disk_ids + [self.vg_disk]:
            self.assertEqual(b'before',
                             self.emu.admin.read_disk(disk_id, 0, 6))
        self.assertEqual(1, len(self.list(RPS)))


class TestRestore(RecoveryPointTestCase):

    def test_restore_creates_new_vm_and_group_from_snapshot_bytes(self):
        rp = self.snapshot()
        for disk_id in self.vm_disk_ids + [self.vg_disk]:
            self.emu.admin.write_disk(disk_id, 0, b'after!')
        vmrp = rp['vmRecoveryPoints'][0]
        vgrp = rp['volumeGroupRecoveryPoints'][0]
        task = self.run_ok('POST', '%s/%s/$actions/restore' % (RPS,
                                                               rp['extId']), {
            'vmRecoveryPointRestoreOverrides': [{
                'vmRecoveryPointExtId': vmrp['extId'],
                'vmOverrideSpec': {
                    '$objectType': 'dataprotection.v4.config.'
                                   'AhvVmOverrideSpec',
                    'name': 'app-restored'}}],
            'volumeGroupRecoveryPointRestoreOverrides': [{
                'volumeGroupRecoveryPointExtId': vgrp['extId'],
                'volumeGroupOverrideSpec': {'name': 'data-restored'}}]})
        new_vm = self.created(task, 'vmm:ahv:config:vm')
        new_vg = self.created(task, 'volumes:config:volume-group')
        self.assertEqual(1, len(new_vm))
        self.assertEqual(1, len(new_vg))
        self.assertNotIn(self.vm, new_vm)
        vm, _ = self.get('%s/vms/%s' % (VMM, new_vm[0]))
        self.assertEqual(('app-restored', 'OFF'),
                         (vm['name'], vm['powerState']))
        self.assertEqual([MiB, 2 * MiB], [d['backingInfo']['diskSizeBytes']
                                          for d in vm['disks']])
        for disk in vm['disks']:
            self.assertNotIn(disk['extId'], self.vm_disk_ids)
            ref = disk['backingInfo']['dataSource']['reference']
            self.assertEqual(vmrp['extId'], ref['vmRecoveryPointExtId'])
            self.assertEqual(b'before',
                             self.emu.admin.read_disk(disk['extId'], 0, 6))
        group, _ = self.get('%s/volume-groups/%s' % (VOLUMES, new_vg[0]))
        self.assertEqual('data-restored', group['name'])
        disks = self.vg_disks(new_vg[0])
        self.assertEqual(b'before',
                         self.emu.admin.read_disk(disks[0]['extId'], 0, 6))
        self.assertEqual('DISK_RECOVERY_POINT',
                         disks[0]['diskDataSourceReference']['entityType'])
        # Restored copies are independent of the originals and of each
        # other.
        self.emu.admin.write_disk(disks[0]['extId'], 0, b'NEW...')
        self.assertEqual(b'after!',
                         self.emu.admin.read_disk(self.vg_disk, 0, 6))
        # Restoring again makes more copies with default names.
        task = self.run_ok('POST', '%s/%s/$actions/restore' % (RPS,
                                                               rp['extId']))
        again = self.created(task, 'volumes:config:volume-group')[0]
        self.assertEqual('data', self.get('%s/volume-groups/%s' % (
            VOLUMES, again))[0]['name'])
        self.assertEqual(b'before', self.emu.admin.read_disk(
            self.vg_disks(again)[0]['extId'], 0, 6))

    def test_restore_after_the_sources_are_gone(self):
        rp = self.snapshot()
        self.run_ok('DELETE', '%s/vms/%s' % (VMM, self.vm))
        self.run_ok('DELETE', '%s/volume-groups/%s' % (VOLUMES, self.vg))
        task = self.run_ok('POST', '%s/%s/$actions/restore' % (RPS,
                                                               rp['extId']))
        vm_id = self.created(task, 'vmm:ahv:config:vm')[0]
        vg_id = self.created(task, 'volumes:config:volume-group')[0]
        for disk in self.vm_disks(vm_id) + self.vg_disks(vg_id):
            self.assertEqual(b'before',
                             self.emu.admin.read_disk(disk['extId'], 0, 6))

    def test_vm_disk_from_disk_recovery_point(self):
        rp = self.snapshot()
        vmrp = rp['vmRecoveryPoints'][0]
        drp = vmrp['diskRecoveryPoints'][1]['diskRecoveryPointExtId']
        vm_id = self.create_vm('from-drp', disks=[base.vm_disk(source={
            '$objectType': 'vmm.v4.ahv.config.VmDiskRecoveryPointReference',
            'diskRecoveryPointExtId': drp,
            'vmRecoveryPointExtId': vmrp['extId']})])
        disk = self.vm_disks(vm_id)[0]
        self.assertEqual(2 * MiB, disk['backingInfo']['diskSizeBytes'])
        self.assertEqual(b'before',
                         self.emu.admin.read_disk(disk['extId'], 0, 6))

    def test_restored_vm_has_empty_cdroms_and_owns_nothing_of_source(self):
        image = self.make_image(b'iso' * 100)
        vm_id = self.create_vm('with-cd', cdRoms=[{'backingInfo': {
            'dataSource': {'reference': base.image_ref(image)}}}])
        medium = self.get('%s/vms/%s' % (VMM, vm_id))[0]['cdRoms'][0][
            'extId']
        task = self.run_ok('POST', RPS, {'vmRecoveryPoints': [
            {'vmExtId': vm_id}]})
        rp_id = self.created(task, REL_RP)[0]
        task = self.run_ok('POST', '%s/%s/$actions/restore' % (RPS, rp_id))
        copy_id = self.created(task, 'vmm:ahv:config:vm')[0]
        copy, _ = self.get('%s/vms/%s' % (VMM, copy_id))
        self.assertEqual(1, len(copy['cdRoms']))
        self.assertNotIn('backingInfo', copy['cdRoms'][0])
        self.run_ok('DELETE', '%s/vms/%s' % (VMM, copy_id))
        self.assertTrue(self.disk_exists(medium))

    def test_restore_errors(self):
        rp = self.snapshot()
        self.assert_error(self.call(
            'POST', '%s/%s/$actions/restore' % (RPS, uuid.uuid4()), {}), 404)
        self.assert_error(self.call(
            'POST', '%s/%s/$actions/restore' % (RPS, rp['extId']), {
                'vmRecoveryPointRestoreOverrides': [{
                    'vmRecoveryPointExtId': str(uuid.uuid4()),
                    'vmOverrideSpec': {'name': 'x'}}]}), 400)
        self.assertEqual(1, len(self.list(VMM + '/vms')))


class TestCrashConsistency(base.ApiTestCase):

    def test_snapshot_is_one_instant_across_groups(self):
        # A "guest" writes counter n to disk A, then to disk B, over and
        # over: at any instant A == B or A == B + 1.  A recovery point of
        # both groups must show one such instant, never B ahead of A.
        vg_a = self.create_vg('a', disks=[{'diskSizeBytes': MiB}])
        vg_b = self.create_vg('b', disks=[{'diskSizeBytes': MiB}])
        disk_a = self.vg_disks(vg_a)[0]['extId']
        disk_b = self.vg_disks(vg_b)[0]['extId']
        stop = threading.Event()
        admin = fixture.AdminClient(self.emu.endpoint, self.emu.username,
                                    self.emu.password)

        def guest():
            n = 0
            while not stop.is_set():
                n += 1
                data = struct.pack('>Q', n)
                admin.write_disk(disk_a, 0, data)
                admin.write_disk(disk_b, 0, data)
        writer = threading.Thread(target=guest)
        writer.start()
        self.addCleanup(writer.join)
        self.addCleanup(stop.set)
        pairs = []
        for _ in range(20):
            rp = self.snapshot_groups(vg_a, vg_b)
            a, b = [struct.unpack('>Q', self.emu.admin.read_disk(
                m['diskRecoveryPoints'][0]['diskRecoveryPointExtId'], 0,
                8))[0] for m in rp['volumeGroupRecoveryPoints']]
            pairs.append((a, b))
        stop.set()
        for a, b in pairs:
            self.assertIn(a - b, (0, 1), pairs)
        self.assertGreater(pairs[-1][0], 0)

    def snapshot_groups(self, *vgs):
        task = self.run_ok('POST', RPS, {'volumeGroupRecoveryPoints': [
            {'volumeGroupExtId': vg} for vg in vgs]})
        rp, _ = self.get('%s/%s' % (RPS, self.created(task, REL_RP)[0]))
        return rp


class TestRestoreAsync(TestRestore):
    """The same with tasks running in background threads."""

    task_mode = 'async'
