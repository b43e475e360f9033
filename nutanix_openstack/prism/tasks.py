"""``/api/prism/v4.x/config/tasks``: waiting for asynchronous writes."""

import logging
import time

from nutanix_openstack.prism import exceptions as exc
from nutanix_openstack.prism import paths

LOG = logging.getLogger(__name__)

RUNNING_STATES = frozenset(['QUEUED', 'RUNNING', 'CANCELING', 'SUSPENDED'])
FAILED_STATES = frozenset(['FAILED', 'CANCELED'])
# v3 task uuids are ergon task uuids; v4 names the same task
# "<base64('ergon')>:<uuid>".
ERGON_PREFIX = 'ZXJnb24=:'


def task_ext_id(write_response):
    """The task extId of a 202 answer (a v4 ``TaskReference``)."""
    data = write_response.get('data') if isinstance(
        write_response, dict) else None
    if isinstance(data, dict) and data.get('extId'):
        return data['extId']
    raise exc.UnexpectedResponse(
        'write answer carries no task reference: %.300r' % (write_response,))


def affected(task, rel=None):
    """The ``entitiesAffected`` of a task, optionally of one ``rel``."""
    entities = [e for e in (task.get('entitiesAffected') or [])
                if isinstance(e, dict)]
    if rel is None:
        return entities
    return [e for e in entities if e.get('rel') == rel]


def created_ext_id(task, rel):
    """extId of the entity a create task made (by ``rel``).

    Falls back to ``completionDetails`` entries whose name ends in
    ``ExtId`` when the task lists no entity of that kind.
    """
    found = affected(task, rel)
    if found:
        return found[-1]['extId']
    for kv in task.get('completionDetails') or []:
        name = (kv or {}).get('name') or ''
        if name.lower().endswith('extid') and isinstance(
                kv.get('value'), str):
            return kv['value']
    raise exc.UnexpectedResponse(
        'task %s does not say which %s it created (entitiesAffected=%r)'
        % (task.get('extId'), rel, task.get('entitiesAffected')))


class TasksAPI(object):
    """``/api/prism/v4.x/config/tasks``."""

    def __init__(self, session, timeout=3600, poll_interval=1.0,
                 sleep=time.sleep, clock=time.monotonic):
        self._session = session
        self.timeout = timeout
        self.poll_interval = poll_interval
        self._sleep = sleep
        self._clock = clock

    def get(self, ext_id):
        return self._session.get_data('%s/%s' % (paths.TASKS, ext_id))

    def wait(self, ext_id, timeout=None, progress_callback=None):
        """Wait for a task to end.

        Poll until SUCCEEDED (returns the task dict) or FAILED/CANCELED
        (raises TaskFailed with the backend's message and error codes).
        """
        timeout = self.timeout if timeout is None else timeout
        deadline = self._clock() + timeout
        last_progress = None
        while True:
            task = self.get(ext_id)
            status = task.get('status')
            progress = task.get('progressPercentage')
            if (progress_callback is not None and progress is not None and
                    progress != last_progress):
                last_progress = progress
                progress_callback(int(progress))
            if status == 'SUCCEEDED':
                if progress_callback is not None and last_progress != 100:
                    progress_callback(100)
                return task
            if status in FAILED_STATES:
                raise self._failure(task)
            if status not in RUNNING_STATES:
                LOG.debug('Task %(t)s in unknown state %(s)s, polling on',
                          {'t': ext_id, 's': status})
            if self._clock() >= deadline:
                raise exc.TaskTimeout(
                    'task %s (%s) did not end within %ss (status %s, %s%%)'
                    % (ext_id, task.get('operation'), timeout, status,
                       progress), task=task)
            self._sleep(self.poll_interval)

    def wait_v3(self, task_uuid, timeout=None, progress_callback=None):
        """Wait for a task returned by a v3 call.

        A v3 task uuid names the same ergon task as the v4 extId
        ``ZXJnb24=:<uuid>``; servers that do not know that form are polled
        on the v3 tasks endpoint instead.
        """
        try:
            return self.wait(ERGON_PREFIX + task_uuid, timeout=timeout,
                             progress_callback=progress_callback)
        except exc.NotFound:
            pass
        timeout = self.timeout if timeout is None else timeout
        deadline = self._clock() + timeout
        while True:
            task = self._session.get('%s/%s' % (paths.V3_TASKS, task_uuid))
            status = (task.get('status') or '').upper()
            if progress_callback and task.get('percentage_complete'):
                progress_callback(int(task['percentage_complete']))
            if status == 'SUCCEEDED':
                return task
            if status in FAILED_STATES or status == 'ABORTED':
                raise exc.TaskFailed(
                    task.get('error_detail') or 'v3 task %s %s'
                    % (task_uuid, status), task=task,
                    code=task.get('error_code'))
            if self._clock() >= deadline:
                raise exc.TaskTimeout('v3 task %s did not end within %ss'
                                      % (task_uuid, timeout), task=task)
            self._sleep(self.poll_interval)

    @staticmethod
    def _failure(task):
        message, code = exc.describe_messages(task.get('errorMessages') or [])
        message = message or task.get('legacyErrorMessage') or (
            'task %s %s' % (task.get('extId'), task.get('status')))
        return exc.TaskFailed(
            '%s failed: %s' % (task.get('operation') or 'task', message),
            task=task, code=code)

    def run(self, write_response, wait=True, timeout=None,
            progress_callback=None):
        """Wait for the task of a write answer (or return its reference)."""
        ext_id = task_ext_id(write_response)
        if not wait:
            return {'extId': ext_id}
        return self.wait(ext_id, timeout=timeout,
                         progress_callback=progress_callback)

    def run_create(self, write_response, rel, delete,
                   progress_callback=None):
        """Wait for a create task; return the extId of what it created.

        When the task fails after the entity was registered (it is listed
        in ``entitiesAffected``), ``delete(ext_id)`` removes it so that a
        failed create leaves nothing behind; the TaskFailed is re-raised.
        """
        try:
            task = self.run(write_response,
                            progress_callback=progress_callback)
        except exc.TaskFailed as failure:
            for entity in affected(failure.task, rel):
                try:
                    delete(entity['extId'])
                except exc.NotFound:
                    pass
                except exc.PrismError as e:
                    LOG.warning('Could not remove %(rel)s %(id)s left by '
                                'failed task %(task)s: %(e)s',
                                {'rel': rel, 'id': entity['extId'],
                                 'task': failure.task_ext_id, 'e': e})
            raise
        return created_ext_id(task, rel)
