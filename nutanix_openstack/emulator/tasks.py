"""Asynchronous tasks, stored in state (kind ``task``).

A write handler calls :meth:`TaskManager.submit` with the operation name,
a function doing the work and the entities it affects, and answers 202
with the returned task reference.  The function gets a
:class:`TaskContext` to report progress and created entities.  Task
bodies use the field names of the SDK's ``prism.v4.config.Task``:
``status`` QUEUED -> RUNNING -> SUCCEEDED / FAILED, ``progressPercentage``,
``entitiesAffected``, ``completionDetails``, ``errorMessages``,
``createdTime``/``startedTime``/``completedTime``.

Modes: ``immediate`` runs the work before the 202 is sent (fast tests);
``async`` runs it on a pool of task threads (``threads`` of them; more
tasks wait QUEUED), optionally after an artificial ``delay`` in seconds.
A task still QUEUED or RUNNING when the process starts was interrupted by
a kill: it is marked FAILED (one process serves a data directory, see
:mod:`datadir_lock`, so no live process is running it).
"""

import concurrent.futures
import datetime
import logging
import threading
import uuid

from nutanix_openstack.emulator import errors

LOG = logging.getLogger(__name__)

KIND = 'task'
TASK_PREFIX = 'ZXJnb24=:'
MODES = ('immediate', 'async')


def now_iso():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(
        timespec='milliseconds').replace('+00:00', 'Z')


def new_task_ext_id():
    return TASK_PREFIX + str(uuid.uuid4())


def task_uuid(task_ext_id):
    """The bare uuid (v3 ``task_uuid``) of a v4 task extId."""
    return task_ext_id.split(':', 1)[-1]


def entity_ref(ext_id, rel, name=None):
    ref = {'extId': ext_id, 'rel': rel,
           '$objectType': 'prism.v4.config.EntityReference',
           '$reserved': {'$fv': 'v4.r0'}}
    if name:
        ref['name'] = name
    return ref


def _kv(name, value):
    return {'name': name, 'value': value,
            '$objectType': 'common.v1.config.KVPair'}


class TaskContext(object):
    """Handed to a task function: progress and results reporting."""

    def __init__(self, manager, ext_id):
        self._manager = manager
        self.ext_id = ext_id
        self._last_percent = -1

    def progress(self, percent):
        """Record progress (0..100); writes to state only on change."""
        percent = max(0, min(99, int(percent)))
        if percent == self._last_percent:
            return
        self._last_percent = percent

        def mutate(task):
            task['progressPercentage'] = percent
            task['lastUpdatedTime'] = now_iso()
        self._manager.state.update(KIND, self.ext_id, mutate)

    def add_entity(self, ext_id, rel, name=None):
        """An entity the task created or touched (``entitiesAffected``)."""
        def mutate(task):
            refs = task.setdefault('entitiesAffected', [])
            if not any(r['extId'] == ext_id for r in refs):
                refs.append(entity_ref(ext_id, rel, name))
            task['numberOfEntitiesAffected'] = len(refs)
        self._manager.state.update(KIND, self.ext_id, mutate)

    def add_detail(self, name, value):
        """A ``completionDetails`` key/value pair."""
        def mutate(task):
            task.setdefault('completionDetails', []).append(_kv(name, value))
        self._manager.state.update(KIND, self.ext_id, mutate)


class TaskManager(object):
    """Runs and records tasks."""

    def __init__(self, state, mode='immediate', delay=0.0,
                 cluster_ext_id=None, fault_hook=None, threads=64,
                 recover=True):
        if mode not in MODES:
            raise ValueError("task mode must be one of %s" % (MODES,))
        self.state = state
        self.default_mode = mode
        self.default_delay = float(delay or 0)
        self.cluster_ext_id = cluster_ext_id
        # fault_hook(operation) -> error message or None: admin-injected
        # task failures.
        self.fault_hook = fault_hook
        # A pool, not a thread per task: starting a thread waits for it
        # to run, which under load cost more than many tasks themselves.
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=threads, thread_name_prefix='emulator-task')
        self._futures = set()
        self._lock = threading.Lock()
        # Bumped (and _cancelled set) by cancel_pending(): tasks still
        # waiting out their delay then never start.
        self._generation = 0
        self._cancelled = threading.Event()
        # recover=False: the caller (reconcile.py) decides whether this
        # process may touch other processes' tasks.
        if recover:
            self.fail_interrupted()

    # -- mode ----------------------------------------------------------------

    @property
    def mode(self):
        return self.state.get_setting('task_mode', self.default_mode)

    @property
    def delay(self):
        return float(self.state.get_setting('task_delay',
                                            self.default_delay) or 0)

    def set_mode(self, mode, delay=None):
        if mode not in MODES:
            raise errors.BadRequest("task mode must be one of %s" % (MODES,))
        self.state.set_setting('task_mode', mode)
        self.state.set_setting('task_delay', float(delay or 0))

    # -- lifecycle ----------------------------------------------------------

    def fail_interrupted(self):
        """Mark tasks left QUEUED/RUNNING by a killed process FAILED.

        Returns their extIds.
        """
        failed = []
        for task in self.state.list(KIND):
            if task.get('status') in ('QUEUED', 'RUNNING'):
                LOG.warning("Task %s was interrupted by a restart",
                            task['extId'])
                self._finish(task['extId'], 'FAILED',
                             "Task interrupted: the emulator restarted "
                             "while it ran.", 'PRISM-50001',
                             error_group='TASK_INTERRUPTED')
                failed.append(task['extId'])
        return failed

    def submit(self, operation, fn, entities_affected=(),
               description=None):
        """Record a task for ``fn(ctx)`` and run it per the task mode.

        ``entities_affected`` is a list of ``(ext_id, rel)`` or
        ``(ext_id, rel, name)`` tuples known up front.  Returns the task
        extId.
        """
        ext_id = new_task_ext_id()
        refs = [entity_ref(*e) for e in entities_affected]
        task = {
            'extId': ext_id,
            'operation': operation,
            'operationDescription': description or operation,
            'createdTime': now_iso(),
            'lastUpdatedTime': now_iso(),
            'status': 'QUEUED',
            'progressPercentage': 0,
            'entitiesAffected': refs,
            'numberOfEntitiesAffected': len(refs),
            'subTasks': [],
            'isCancelable': False,
            'isBackgroundTask': False,
            'completionDetails': [],
            'errorMessages': [],
            'clusterExtIds': ([self.cluster_ext_id]
                              if self.cluster_ext_id else []),
            '$objectType': 'prism.v4.config.Task',
        }
        self.state.put(KIND, ext_id, task)
        # Looked up here, in the request's thread, so that a fault can
        # match the request path even when the task runs elsewhere.
        injected = self.fault_hook(operation) if self.fault_hook else None
        mode, delay = self.mode, self.delay
        if mode == 'immediate':
            self._run(ext_id, operation, fn, 0, injected)
        else:
            with self._lock:
                generation, cancelled = self._generation, self._cancelled
                future = self._pool.submit(
                    self._run, ext_id, operation, fn, delay, injected,
                    generation, cancelled)
                self._futures.add(future)
            future.add_done_callback(self._forget)
        return ext_id

    def _run(self, ext_id, operation, fn, delay, injected=None,
             generation=None, cancelled=None):
        if delay and cancelled is not None and cancelled.wait(delay):
            return
        if generation is not None and generation != self._generation:
            # An admin reset forgot this task while it waited.
            return

        def start(task):
            task['status'] = 'RUNNING'
            task['startedTime'] = now_iso()
        self.state.update(KIND, ext_id, start)
        ctx = TaskContext(self, ext_id)
        try:
            if injected:
                raise errors.ApiError(injected, status=500,
                                      code='PRISM-50002',
                                      error_group='INJECTED_FAULT')
            fn(ctx)
        except errors.ApiError as exc:
            LOG.info("Task %(id)s (%(op)s) failed: %(msg)s",
                     {'id': ext_id, 'op': operation, 'msg': exc.message})
            code = exc.code if '-' in (exc.code or '') else \
                errors.error_code('prism', exc.status)
            self._finish(ext_id, 'FAILED', exc.message, code,
                         exc.error_group)
        except Exception as exc:
            LOG.exception("Task %(id)s (%(op)s) crashed",
                          {'id': ext_id, 'op': operation})
            self._finish(ext_id, 'FAILED', 'Internal error: %s' % exc,
                         'PRISM-50000')
        else:
            self._finish(ext_id, 'SUCCEEDED')

    def _finish(self, ext_id, status, message=None, code=None,
                error_group=None):
        def mutate(task):
            task['status'] = status
            task['completedTime'] = now_iso()
            task['lastUpdatedTime'] = task['completedTime']
            task.setdefault('startedTime', task['completedTime'])
            if status == 'SUCCEEDED':
                task['progressPercentage'] = 100
            if message:
                task['errorMessages'] = [
                    errors.app_message('prism', message, code, error_group)]
                task['legacyErrorMessage'] = message
        self.state.update(KIND, ext_id, mutate)

    def _forget(self, future):
        with self._lock:
            self._futures.discard(future)

    def get(self, ext_id):
        return self.state.get(KIND, ext_id)

    def cancel_pending(self, timeout=30):
        """Drop tasks not started yet and wait for running ones (reset)."""
        with self._lock:
            self._generation += 1
            self._cancelled.set()
        self.wait_idle(timeout)
        with self._lock:
            self._cancelled = threading.Event()

    def wait_idle(self, timeout=30):
        """Wait for queued and running tasks (tests, shutdown)."""
        with self._lock:
            futures = list(self._futures)
        concurrent.futures.wait(futures, timeout)

    def close(self, timeout=10):
        """Wait for running tasks, drop the ones not started, stop."""
        self.wait_idle(timeout)
        self._pool.shutdown(wait=False, cancel_futures=True)
