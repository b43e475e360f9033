"""Tasks: ``/api/prism/v4.x/config/tasks`` and v3 ``/api/nutanix/v3/tasks``.

Task bodies are written by :mod:`nutanix_openstack.emulator.tasks`; this
module only reads them.
"""

import flask

from nutanix_openstack.emulator import backend
from nutanix_openstack.emulator import errors
from nutanix_openstack.emulator import responses
from nutanix_openstack.emulator import tasks

blueprint = flask.Blueprint('tasks', __name__)

_V3_STATUS = {'QUEUED': 'QUEUED', 'RUNNING': 'RUNNING',
              'SUCCEEDED': 'SUCCEEDED', 'FAILED': 'FAILED',
              'CANCELED': 'ABORTED', 'CANCELING': 'RUNNING',
              'SUSPENDED': 'SUSPENDED'}


def _get_task(ext_id):
    state = backend.get().state
    task = state.get(tasks.KIND, ext_id)
    if task is None and ':' not in ext_id:
        # Accept the bare uuid too, as the real API does.
        task = state.get(tasks.KIND, tasks.TASK_PREFIX + ext_id)
    if task is None:
        raise errors.NotFound("Task %s does not exist." % ext_id,
                              code='PRISM-40401')
    return task


@blueprint.route(responses.v4_path('prism', '/config/tasks/<ext_id>'),
                 methods=['GET'])
def get_task(ext_id):
    return responses.entity(_get_task(ext_id),
                            'prism.v4.config.GetTaskApiResponse')


@blueprint.route(responses.v4_path('prism', '/config/tasks'),
                 methods=['GET'])
def list_tasks():
    # Newest first, like Prism's task list.
    items = list(reversed(backend.get().state.list(tasks.KIND)))
    return responses.listing(items, 'prism.v4.config.ListTasksApiResponse')


@blueprint.route('/api/nutanix/v3/tasks/<task_uuid>', methods=['GET'])
def get_task_v3(task_uuid):
    task = _get_task(task_uuid)
    body = {
        'uuid': tasks.task_uuid(task['extId']),
        'status': _V3_STATUS.get(task['status'], task['status']),
        'percentage_complete': task.get('progressPercentage', 0),
        'operation_type': task.get('operation'),
        'entity_reference_list': [
            {'uuid': ref['extId'], 'kind': ref.get('rel', '')}
            for ref in task.get('entitiesAffected', [])],
        'creation_time': task.get('createdTime'),
        'start_time': task.get('startedTime'),
        'completion_time': task.get('completedTime'),
        'api_version': '3.1',
    }
    if task.get('errorMessages'):
        body['error_detail'] = task['errorMessages'][0]['message']
        body['error_code'] = task['errorMessages'][0].get('code')
    return flask.jsonify(body)
