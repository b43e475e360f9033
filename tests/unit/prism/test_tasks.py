"""Task waiting: progress, success, failure, timeout, v3 tasks."""

from nutanix_openstack.prism import exceptions as exc
from nutanix_openstack.prism import paths
from nutanix_openstack.prism import tasks
from tests.unit.prism import base

T = 'ZXJnb24=:task-1'


class TaskWaitTest(base.PrismTestCase):

    def test_progress_then_success(self):
        self.m.get(self.url(paths.TASKS + '/' + T), [
            {'json': base.task(T, 'QUEUED', 0)},
            {'json': base.task(T, 'RUNNING', 40)},
            {'json': base.task(T, 'RUNNING', 40)},
            {'json': base.task(T, 'SUCCEEDED', 100)}])
        seen = []
        result = self.client.tasks.wait(T, progress_callback=seen.append)
        self.assertEqual('SUCCEEDED', result['status'])
        self.assertEqual([0, 40, 100], seen)
        self.assertEqual([0.5, 0.5, 0.5], self.time.sleeps)

    def test_failed_task_raises_with_backend_message_and_code(self):
        self.m.get(self.url(paths.TASKS + '/' + T), json=base.task(
            T, 'FAILED', 30, operation='kCreateImage',
            errorMessages=[{'$objectType': 'prism.v4.error.AppMessage',
                            'message': 'Container is full',
                            'code': 'VMM-30410', 'severity': 'ERROR'}]))
        with self.assertRaises(exc.TaskFailed) as ctx:
            self.client.tasks.wait(T)
        e = ctx.exception
        self.assertIn('Container is full', e.message)
        self.assertIn('kCreateImage', e.message)
        self.assertEqual('VMM-30410', e.code)
        self.assertEqual(T, e.task_ext_id)
        self.assertEqual('FAILED', e.task['status'])

    def test_canceled_task_legacy_message(self):
        self.m.get(self.url(paths.TASKS + '/' + T), json=base.task(
            T, 'CANCELED', 10, legacyErrorMessage='canceled by admin'))
        with self.assertRaises(exc.TaskFailed) as ctx:
            self.client.tasks.wait(T)
        self.assertIn('canceled by admin', ctx.exception.message)

    def test_timeout(self):
        self.m.get(self.url(paths.TASKS + '/' + T),
                   json=base.task(T, 'RUNNING', 5))
        with self.assertRaises(exc.TaskTimeout) as ctx:
            self.client.tasks.wait(T, timeout=3)
        self.assertEqual('RUNNING', ctx.exception.task['status'])
        self.assertGreaterEqual(sum(self.time.sleeps), 3)

    def test_default_timeout_from_constructor(self):
        c = self.make_client(task_timeout=2, task_poll_interval=1)
        self.m.get(self.url(paths.TASKS + '/' + T),
                   json=base.task(T, 'RUNNING', 5))
        self.assertRaises(exc.TaskTimeout, c.tasks.wait, T)
        self.assertEqual([1, 1], self.time.sleeps)

    def test_wait_false_returns_reference(self):
        self.m.delete(self.url(paths.IMAGES + '/i'), status_code=202,
                      json=base.task_ref(T))
        self.m.get(self.url(paths.IMAGES + '/i'), json={'data': {}})
        self.assertEqual({'extId': T},
                         self.client.images.delete('i', wait=False))
        self.assertEqual([], self.requests(path=paths.TASKS + '/' + T))

    def test_write_answer_without_task(self):
        self.assertRaises(exc.UnexpectedResponse, tasks.task_ext_id,
                          {'data': []})

    def test_created_ext_id(self):
        t = base.task(entities=[(paths.REL_VM, 'vm-1'),
                                (paths.REL_IMAGE, 'img-1')])['data']
        self.assertEqual('img-1', tasks.created_ext_id(t, paths.REL_IMAGE))
        self.assertRaises(exc.UnexpectedResponse, tasks.created_ext_id, t,
                          paths.REL_VOLUME_GROUP)
        t['completionDetails'] = [{'name': 'volumeGroupExtId',
                                   'value': 'vg-9'}]
        self.assertEqual('vg-9', tasks.created_ext_id(
            t, paths.REL_VOLUME_GROUP))

    def test_v3_task_through_v4_ergon_id(self):
        self.m.get(self.url(paths.TASKS + '/ZXJnb24=:u-1'),
                   json=base.task('ZXJnb24=:u-1'))
        self.assertEqual('SUCCEEDED',
                         self.client.tasks.wait_v3('u-1')['status'])

    def test_v3_task_fallback_endpoint(self):
        self.m.get(self.url(paths.TASKS + '/ZXJnb24=:u-1'), status_code=404,
                   json={})
        self.m.get(self.url(paths.V3_TASKS + '/u-1'), [
            {'json': {'status': 'RUNNING', 'percentage_complete': 50}},
            {'json': {'status': 'FAILED', 'error_detail': 'bad image',
                      'error_code': '13'}}])
        with self.assertRaises(exc.TaskFailed) as ctx:
            self.client.tasks.wait_v3('u-1')
        self.assertEqual('bad image', ctx.exception.message)
