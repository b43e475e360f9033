"""Replication of recovery points between two emulators (two clusters).

Site A is the test's emulator, site B a second emulator of another
cluster (another inventory, its own data dir), paired through the admin
API.  Bytes really travel from A to B over HTTP; every test reads them
back from B.
"""

import os

from nutanix_openstack.emulator import fixture
from tests.functional.emulator import test_vms_base as base
from tests.functional.emulator.test_vms_base import DP
from tests.functional.emulator.test_vms_base import MiB
from tests.functional.emulator.test_vms_base import VMM
from tests.functional.emulator.test_vms_base import VOLUMES

RPS = DP + '/recovery-points'
CONTENT = '/api/dataprotection/v4.4/content/recovery-points'
REL_RP = 'dataprotection:config:recovery-point'
REL_VG = 'volumes:config:volume-group'
REL_VM = 'vmm:ahv:config:vm'
KiB = 1024


class TwoSitesTestCase(base.ApiTestCase):
    """Site A (``self.emu``) paired with site B (``self.site_b``)."""

    site_b_options = {}

    def setUp(self):
        super().setUp()
        self.site_b = self.useFixture(fixture.EmulatorFixture(
            site=2, **self.site_b_options))
        self.emu.pair(self.site_b)
        self.vg = self.create_vg('db', disks=[{'diskSizeBytes': 8 * MiB},
                                              {'diskSizeBytes': 4 * MiB}])
        self.disks = [d['extId'] for d in self.vg_disks(self.vg)]

    def snapshot(self, name):
        task = self.run_ok('POST', RPS, {
            'name': name,
            'volumeGroupRecoveryPoints': [{'volumeGroupExtId': self.vg}]})
        return self.created(task, REL_RP)[0]

    def replicate(self, rp_id, cluster=None):
        return self.wait_task(self.call(
            'POST', '%s/%s/$actions/replicate' % (RPS, rp_id),
            {'clusterExtId': cluster or self.site_b.cluster_ext_id}))

    def replicate_ok(self, rp_id):
        task = self.replicate(rp_id)
        self.assertEqual('SUCCEEDED', task['status'],
                         task.get('errorMessages'))
        details = dict((d['name'], d['value'])
                       for d in task['completionDetails'])
        remote = [e['extId'] for e in task['entitiesAffected']
                  if e['rel'] == REL_RP and e['extId'] != rp_id]
        return remote[0], int(details.get('bytesSent', 0))

    def on_b(self, method, path, body=None):
        saved = self.emu
        self.emu = self.site_b
        try:
            if method == 'GET':
                return self.get(path)[0]
            return self.run_ok(method, path, body)
        finally:
            self.emu = saved

    def b_list(self, path):
        saved = self.emu
        self.emu = self.site_b
        try:
            return self.list(path)
        finally:
            self.emu = saved

    def restore_on_b(self, remote_rp):
        task = self.on_b('POST', '%s/%s/$actions/restore' % (RPS, remote_rp),
                         {})
        vg = self.created(task, REL_VG)[0]
        return [d['extId'] for d in
                self.b_list('%s/volume-groups/%s/disks' % (VOLUMES, vg))]

    def a_bytes(self):
        return [self.emu.admin.read_disk(d) for d in self.disks]

    def b_bytes(self, disk_ids):
        return [self.site_b.admin.read_disk(d) for d in disk_ids]


class TestReplicate(TwoSitesTestCase):

    def test_full_then_incremental_sends_only_changed_bytes(self):
        first = os.urandom(3 * MiB)
        self.emu.admin.write_disk(self.disks[0], MiB, first)
        self.emu.admin.write_disk(self.disks[1], 0, b'log' * 1000)
        rp1 = self.snapshot('rp1')
        before = self.a_bytes()
        remote1, sent = self.replicate_ok(rp1)
        # Full copy: the blocks holding data, nothing for the zeros.
        self.assertEqual(3 * MiB + 4 * KiB, sent)

        # 4 KiB rewritten, and a 64 KiB block zeroed.
        self.emu.admin.write_disk(self.disks[0], 2 * MiB + 5, b'\x01' * 4096)
        self.emu.admin.write_disk(self.disks[0], MiB, bytes(64 * KiB))
        rp2 = self.snapshot('rp2')
        after = self.a_bytes()
        remote2, sent = self.replicate_ok(rp2)
        # The two 4 KiB blocks the write touched; the zeroed region costs
        # no bytes.
        self.assertEqual(8 * KiB, sent)

        b_rps = dict((r['name'], r) for r in self.b_list(RPS))
        self.assertEqual({'rp1', 'rp2'}, set(b_rps))
        self.assertEqual(remote2, b_rps['rp2']['extId'])
        a_rp2 = self.get('%s/%s' % (RPS, rp2))[0]
        self.assertEqual(a_rp2['locationAgnosticId'],
                         b_rps['rp2']['locationAgnosticId'])
        self.assertEqual(a_rp2['creationTime'], b_rps['rp2']['creationTime'])
        self.assertIn(self.site_b.cluster_ext_id,
                      [r['locationExtId']
                       for r in a_rp2['locationReferences']])
        self.assertEqual([self.site_b.cluster_ext_id],
                         [r['locationExtId']
                          for r in b_rps['rp2']['locationReferences']])
        # Both points restore on B to exactly what A held at the time.
        self.assertEqual(after, self.b_bytes(self.restore_on_b(remote2)))
        self.assertEqual(before, self.b_bytes(self.restore_on_b(remote1)))

    def test_vm_recovery_point_restores_on_b(self):
        vm = self.create_vm('app', disks=[base.vm_disk(size=2 * MiB)])
        disk = self.vm_disks(vm)[0]['extId']
        self.emu.admin.write_disk(disk, 0, b'boot sector')
        task = self.run_ok('POST', RPS, {
            'name': 'vm-rp', 'vmRecoveryPoints': [{'vmExtId': vm}],
            'volumeGroupRecoveryPoints': [{'volumeGroupExtId': self.vg}]})
        remote, _ = self.replicate_ok(self.created(task, REL_RP)[0])
        task = self.on_b('POST', '%s/%s/$actions/restore' % (RPS, remote),
                         {})
        new_vm = self.created(task, REL_VM)[0]
        saved, self.emu = self.emu, self.site_b
        try:
            vm_b = self.get('%s/vms/%s' % (VMM, new_vm))[0]
            disks_b = self.vm_disks(new_vm)
        finally:
            self.emu = saved
        self.assertEqual('app', vm_b['name'])
        self.assertEqual(self.site_b.cluster_ext_id,
                         vm_b['cluster']['extId'])
        self.assertEqual(self.site_b.container_ext_id,
                         disks_b[0]['backingInfo']['storageContainer'][
                             'extId'])
        self.assertEqual(self.emu.admin.read_disk(disk),
                         self.site_b.admin.read_disk(disks_b[0]['extId']))

    def test_replica_uses_the_target_clusters_containers(self):
        self.emu.admin.write_disk(self.disks[0], 0, b'x')
        remote, _ = self.replicate_ok(self.snapshot('rp'))
        disks = self.b_list('%s/volume-groups' % VOLUMES)
        self.assertEqual([], disks)
        self.restore_on_b(remote)
        vg = self.b_list('%s/volume-groups' % VOLUMES)[0]
        self.assertEqual(self.site_b.cluster_ext_id, vg['clusterReference'])
        for disk in self.b_list('%s/volume-groups/%s/disks'
                                % (VOLUMES, vg['extId'])):
            self.assertEqual(self.site_b.container_ext_id,
                             disk['storageContainerId'])

    def test_replicating_twice_returns_the_same_replica(self):
        rp = self.snapshot('rp')
        remote, _ = self.replicate_ok(rp)
        again, sent = self.replicate_ok(rp)
        self.assertEqual((remote, 0), (again, sent))
        self.assertEqual(1, len(self.b_list(RPS)))

    def test_base_deleted_on_target_falls_back_to_full_copy(self):
        self.emu.admin.write_disk(self.disks[0], 0, os.urandom(MiB))
        remote1, _ = self.replicate_ok(self.snapshot('rp1'))
        self.on_b('DELETE', '%s/%s' % (RPS, remote1))
        self.emu.admin.write_disk(self.disks[0], 0, b'new')
        remote2, sent = self.replicate_ok(self.snapshot('rp2'))
        self.assertEqual(MiB, sent)
        self.assertEqual(self.a_bytes(),
                         self.b_bytes(self.restore_on_b(remote2)))

    def test_unknown_cluster_is_404_and_own_cluster_400(self):
        rp = self.snapshot('rp')
        unknown = '00000000-0000-4000-8000-00000000dead'
        resp = self.call('POST', '%s/%s/$actions/replicate' % (RPS, rp),
                         {'clusterExtId': unknown})
        self.assert_error(resp, 404)
        resp = self.call('POST', '%s/%s/$actions/replicate' % (RPS, rp),
                         {'clusterExtId': self.emu.cluster_ext_id})
        self.assert_error(resp, 400)
        resp = self.call('POST', '%s/%s/$actions/replicate' % (RPS, rp), {})
        self.assert_error(resp, 400)
        self.assertEqual([], self.b_list(RPS))

    def test_replicate_by_prism_central(self):
        rp = self.snapshot('rp')
        task = self.wait_task(self.call(
            'POST', '%s/%s/$actions/replicate' % (RPS, rp),
            {'pcExtId': self.site_b.pc_ext_id}))
        self.assertEqual('SUCCEEDED', task['status'])
        self.assertEqual(['rp'], [r['name'] for r in self.b_list(RPS)])


class TestLinkDown(TwoSitesTestCase):

    def setUp(self):
        super().setUp()
        self.emu.backend.conf.set_override('replication_retries', 1,
                                           group='emulator')
        self.emu.backend.conf.set_override('replication_retry_interval', 0,
                                           group='emulator')

    def test_link_down_mid_transfer_leaves_nothing_on_the_target(self):
        self.emu.admin.write_disk(self.disks[0], 0, os.urandom(8 * MiB))
        rp = self.snapshot('rp')
        disks_before = self.site_b.admin.inventory()['storage']['disks']
        # The first 4 MiB piece goes through, every later one fails.
        self.site_b.admin.add_fault(path=r'/_replication/v1/.*/extents/[1-9]',
                                    status=503)
        task = self.replicate(rp)
        self.assertEqual('FAILED', task['status'])
        error = task['errorMessages'][0]
        self.assertIn('partial copy was removed', error['message'])
        self.assertEqual([], self.b_list(RPS))
        self.assertEqual(disks_before,
                         self.site_b.admin.inventory()['storage']['disks'])
        self.assertNotIn(self.site_b.cluster_ext_id,
                         [r['locationExtId'] for r in self.get(
                             '%s/%s' % (RPS, rp))[0]['locationReferences']])
        # Once the link is back the same point replicates in full.
        self.site_b.admin.clear_faults()
        remote, sent = self.replicate_ok(rp)
        self.assertEqual(8 * MiB, sent)
        self.assertEqual(self.a_bytes(),
                         self.b_bytes(self.restore_on_b(remote)))

    def test_target_unreachable(self):
        rp = self.snapshot('rp')
        self.emu.admin.add_remote_site(self.site_b.cluster_ext_id,
                                       'http://127.0.0.1:%d'
                                       % fixture.free_port(),
                                       'admin', 'secret-password')
        task = self.replicate(rp)
        self.assertEqual('FAILED', task['status'])
        self.assertIn('connection failed',
                      task['errorMessages'][0]['message'])
        self.assertNotIn('secret-password', str(task))
        listed = self.emu.admin._call('GET', '/remote-sites').json()
        self.assertNotIn('secret-password', str(listed))


class TestChangedRegions(TwoSitesTestCase):

    def test_changed_regions_against_a_reference(self):
        self.emu.admin.write_disk(self.disks[0], 0, b'a' * (128 * KiB))
        rp1 = self.get('%s/%s' % (RPS, self.snapshot('rp1')))[0]
        self.emu.admin.write_disk(self.disks[0], 4 * MiB, b'b')
        self.emu.admin.write_disk(self.disks[0], 0, bytes(64 * KiB))
        rp2 = self.get('%s/%s' % (RPS, self.snapshot('rp2')))[0]

        def member(rp):
            vgrp = rp['volumeGroupRecoveryPoints'][0]
            return vgrp['extId'], vgrp['diskRecoveryPoints'][0][
                'diskRecoveryPointExtId']
        m1, d1 = member(rp1)
        m2, d2 = member(rp2)
        path = ('%s/%s/volume-group-recovery-points/%s/disk-recovery-points/'
                '%s/$actions/compute-changed-regions'
                % (CONTENT, rp2['extId'], m2, d2))
        resp = self.call('POST', path, {
            'referenceRecoveryPointExtId': rp1['extId'],
            'referenceVolumeGroupRecoveryPointExtId': m1,
            'referenceDiskRecoveryPointExtId': d1})
        self.assertEqual(200, resp.status_code, resp.text)
        regions = [(r['offset'], r['length'], r['regionType'])
                   for r in resp.json()['data']]
        self.assertEqual([(0, 64 * KiB, 'ZEROED'),
                          (4 * MiB, 4 * KiB, 'REGULAR')], regions)
        # Without a reference: where the data is.
        resp = self.call('POST', path, {'blockSizeByte': 64 * KiB})
        self.assertEqual([(64 * KiB, 64 * KiB, 'REGULAR'),
                          (4 * MiB, 64 * KiB, 'REGULAR')],
                         [(r['offset'], r['length'], r['regionType'])
                          for r in resp.json()['data']])
        resp = self.call('POST', path, {'referenceRecoveryPointExtId':
                                        rp1['extId']})
        self.assert_error(resp, 400)


class TestSiteAKilled(base.testtools.TestCase):
    """Two emulator processes; SIGKILL site A, read everything from B."""

    def test_everything_readable_on_b_after_a_is_killed(self):
        site_a = fixture.EmulatorProcess(task_mode='immediate')
        site_b = fixture.EmulatorProcess(task_mode='immediate', site=2)
        self.addCleanup(site_a.cleanup)
        self.addCleanup(site_b.cleanup)
        site_a.start()
        site_b.start()
        site_a.pair(site_b)
        a = site_a.prism_client()
        self.addCleanup(a.close)
        vg = a.volume_groups.create('db', disks=[{'diskSizeBytes': 8 * MiB}])
        disk = a.volume_groups.list_disks(vg['extId'])[0]['extId']
        data = os.urandom(5 * MiB)
        site_a.admin.write_disk(disk, MiB, data)
        rp = a.recovery_points.create('rp', volume_group_ext_ids=[
            vg['extId']])
        remote = a.replication.replicate(rp['extId'],
                                         site_b.cluster_ext_id)
        site_a.kill()
        b = site_b.prism_client()
        self.addCleanup(b.close)
        replica = b.recovery_points.get(remote['extId'])
        self.assertEqual(rp['locationAgnosticId'],
                         replica['locationAgnosticId'])
        restored = b.recovery_points.restore(remote['extId'])
        new_vg = [e['extId'] for e in restored if e['rel'] == REL_VG][0]
        new_disk = b.volume_groups.list_disks(new_vg)[0]['extId']
        self.assertEqual(bytes(MiB) + data + bytes(2 * MiB),
                         site_b.admin.read_disk(new_disk))


class TestTargetRestart(base.testtools.TestCase):
    """A target that dies mid-replication removes the partial copy."""

    def test_unfinished_session_is_removed_at_restart(self):
        import requests
        site_b = fixture.EmulatorProcess(task_mode='immediate', site=2)
        self.addCleanup(site_b.cleanup)
        site_b.start()
        auth = (site_b.username, site_b.password)
        url = site_b.endpoint + '/_replication/v1/sessions'
        resp = requests.post(url, auth=auth, timeout=30, json={
            'recoveryPoint': {'extId': 'src', 'name': 'half',
                              'locationAgnosticId': 'lai-1',
                              'creationTime': '2026-01-01T00:00:00Z',
                              'vmRecoveryPoints': [],
                              'volumeGroupRecoveryPoints': []},
            'disks': [{'diskRecoveryPointExtId': 'drp-1',
                       'diskExtId': 'disk-1', 'sizeBytes': 4 * MiB}]})
        self.assertEqual(201, resp.status_code, resp.text)
        session = resp.json()['sessionId']
        from nutanix_openstack.emulator import replication
        resp = requests.put('%s/%s/disks/drp-1/extents/0' % (url, session),
                            auth=auth, timeout=30,
                            data=replication.encode_extents(
                                [(0, b'partial')]))
        self.assertEqual(200, resp.status_code, resp.text)
        storage = site_b.admin.inventory()['storage']
        self.assertEqual(1, storage['disks'])
        # The source never commits: the target is killed and restarted.
        site_b.kill()
        site_b.start()
        inventory = site_b.admin.inventory()
        self.assertEqual(0, inventory['storage']['disks'])
        self.assertEqual([], inventory['objects'].get('recovery_point', []))
        self.assertEqual([], inventory['objects'].get(
            'replication_session', []))
        resp = requests.post('%s/%s/commit' % (url, session), auth=auth,
                             timeout=30)
        self.assertEqual(404, resp.status_code)
