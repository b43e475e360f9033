"""Session behaviour over real HTTP: failover, retries, faults, TLS, auth."""

import time

from nutanix_openstack.emulator import fixture as emu_fixture
from nutanix_openstack.prism import exceptions as exc
from nutanix_openstack.prism import paths
from tests.functional.prism import base

MIB = 1024 * 1024


def dead_endpoint():
    # A port nobody listens on: connection refused at once.
    return 'http://127.0.0.1:%d' % emu_fixture.free_port()


class FailoverTest(base.EmulatorTestCase):

    def test_dead_endpoint_first_in_list(self):
        dead = dead_endpoint()
        client = self.emulator.prism_client(
            endpoints=[dead, self.emulator.endpoint])
        self.addCleanup(client.close)
        img = client.images.create_for_upload('via-second')
        self.assertEqual(img['extId'], client.images.get(img['extId'])
                         ['extId'])
        self.assertIn(dead, client.session._down_until)
        self.assertEqual(self.emulator.endpoint,
                         client.session.current_endpoint())
        self.assertEqual(1, len(self.inventory('image')))

    def test_all_endpoints_dead(self):
        client = self.emulator.prism_client(
            endpoints=[dead_endpoint(), dead_endpoint()], retries=1,
            retry_interval=0.01)
        self.addCleanup(client.close)
        with self.assertRaises(exc.ConnectionFailed) as ctx:
            client.clusters.list_clusters()
        self.assertIn('no Prism endpoint answered', str(ctx.exception))


class RetryTest(base.EmulatorTestCase):

    def test_503_then_success_makes_one_object(self):
        self.admin.add_fault(method='POST', path='/content/images$',
                             status=503, times=1)
        src = self.upload_image('src', b'a' * 4096)
        self.admin.add_fault(method='POST', path='/content/images$',
                             status=503, times=2)
        copy = self.client.images.create_from_url(
            'copy', self.client.images.file_url(src),
            basic_auth=self.client.session.credentials)
        self.assertEqual(sorted([src, copy['extId']]),
                         sorted(self.inventory('image')))
        self.assertEqual([], self.admin.list_faults())

    def test_dropped_answer_to_a_create_is_replayed_not_redone(self):
        # The server creates the group, then the answer is cut short; the
        # retry carries the same NTNX-Request-Id and gets the first answer.
        self.admin.add_fault(method='POST', path='/config/volume-groups$',
                             drop_after_bytes=10, times=1)
        vg = self.client.volume_groups.create('once')
        self.assertEqual([vg['extId']], self.inventory('volume_group'))

    def test_retries_exhausted(self):
        self.admin.add_fault(method='GET', path='/config/clusters',
                             status=503)
        client = self.emulator.prism_client(retries=2, retry_interval=0.01)
        self.addCleanup(client.close)
        with self.assertRaises(exc.ServiceUnavailable) as ctx:
            client.clusters.list_clusters()
        self.assertEqual(503, ctx.exception.status)

    def test_dropped_connection_mid_download_resumes(self):
        data = base.random_bytes(2 * MIB)
        ext_id = self.upload_image('big', data)
        self.admin.add_fault(method='GET', path='/images/.*/file',
                             drop_after_bytes=MIB // 2 + 17, times=1)
        got = b''.join(self.client.images.download(ext_id,
                                                   chunk_size=65536))
        self.assertEqual(data, got)
        self.assertEqual([], self.admin.list_faults())

    def test_read_timeout_is_retried(self):
        client = self.emulator.prism_client(read_timeout=0.3)
        self.addCleanup(client.close)
        self.admin.add_fault(method='GET', path='/config/clusters',
                             latency=1.0, times=1)
        start = time.time()
        self.assertTrue(client.clusters.list_clusters())
        self.assertLess(time.time() - start, 10)

    def test_one_shot_upload_is_not_resent(self):
        img = self.client.images.create_for_upload('one-shot')
        self.admin.add_fault(method='PUT', path='/file$', status=503,
                             times=1)

        def gen():
            for _ in range(4):
                yield b'x' * MIB
        with self.assertRaises(exc.UploadNotRetryable):
            self.client.images.upload(img['extId'], gen())

    def test_reopenable_upload_is_resent(self):
        img = self.client.images.create_for_upload('again')
        self.admin.add_fault(method='PUT', path='/file$', status=503,
                             times=1)
        data = base.random_bytes(MIB)
        self.client.images.upload(img['extId'], lambda: iter([data]))
        self.assertEqual(data, b''.join(
            self.client.images.download(img['extId'])))


class AuthTest(base.EmulatorTestCase):

    def test_wrong_password(self):
        client = self.emulator.prism_client(password='wrong')
        self.addCleanup(client.close)
        with self.assertRaises(exc.Unauthorized) as ctx:
            client.clusters.list_clusters()
        self.assertEqual(401, ctx.exception.status)
        self.assertNotIn('wrong', str(ctx.exception))


class TlsTest(base.EmulatorTestCase):
    tls = True

    def test_verify_with_ca_file(self):
        self.assertTrue(self.emulator.endpoint.startswith('https://'))
        client = self.emulator.prism_client(verify=True,
                                            ca_file=self.emulator.ca_file)
        self.addCleanup(client.close)
        data = base.random_bytes(MIB)
        img = client.images.create_for_upload('tls')
        client.images.upload(img['extId'], iter([data]))
        self.assertEqual(data, b''.join(client.images.download(
            img['extId'])))

    def test_verify_without_ca_fails_clearly(self):
        client = self.emulator.prism_client(verify=True, ca_file=None)
        self.addCleanup(client.close)
        with self.assertRaises(exc.ConnectionFailed) as ctx:
            client.clusters.list_clusters()
        self.assertIn('TLS', str(ctx.exception))

    def test_verify_off(self):
        client = self.emulator.prism_client(verify=False)
        self.addCleanup(client.close)
        self.assertTrue(client.clusters.list_clusters())


class TaskTest(base.EmulatorTestCase):
    task_mode = 'async'

    def test_progress_reported_while_task_runs(self):
        self.admin.set_task_mode('async', delay=0.5)
        data = base.random_bytes(MIB)
        src = self.upload_image('src', data)
        seen = []
        copy = self.client.images.create_from_url(
            'copy', self.client.images.file_url(src),
            basic_auth=self.client.session.credentials,
            progress_callback=seen.append)
        self.assertEqual(100, seen[-1])
        self.assertEqual(seen, sorted(seen))
        self.assertEqual(data, b''.join(
            self.client.images.download(copy['extId'])))

    def test_failed_task_carries_backend_message(self):
        # Async tasks match fail_task faults by their operation.
        self.admin.add_fault(path='kVolumeGroupCreate',
                             fail_task='Storage container is full', times=1)
        with self.assertRaises(exc.TaskFailed) as ctx:
            self.client.volume_groups.create('full')
        self.assertIn('Storage container is full', str(ctx.exception))
        self.assertTrue(ctx.exception.code)
        self.assertEqual('FAILED', ctx.exception.task['status'])

    def test_task_timeout(self):
        self.admin.set_task_mode('async', delay=5)
        client = self.emulator.prism_client(task_timeout=0.3)
        self.addCleanup(client.close)
        with self.assertRaises(exc.TaskTimeout):
            client.volume_groups.create('slow')

    def test_wait_false_returns_task_reference(self):
        ref = self.client.volume_groups.create('later', wait=False)
        task = self.client.tasks.wait(ref['extId'])
        self.assertEqual('SUCCEEDED', task['status'])
        self.assertTrue(task['extId'].startswith('ZXJnb24=:'))
        self.assertIn(paths.REL_VOLUME_GROUP,
                      [e['rel'] for e in task['entitiesAffected']])
