"""The emulator's admin API under ``/_emulator/v1/`` (basic auth too).

Not part of the Nutanix surface: tests and DevStack use it to reset the
emulator, read and write disk bytes (standing in for guest or iSCSI I/O),
inspect every stored object, inject faults and switch the task mode.

=======  ===================================  ================================
method   path                                 effect
=======  ===================================  ================================
POST     /_emulator/v1/reset                  forget all objects and bytes
GET      /_emulator/v1/disks/<id>             bytes; ``offset``, ``length``
PUT      /_emulator/v1/disks/<id>             write body at ``offset``
GET      /_emulator/v1/disks/<id>/info        size, allocated bytes, chain
GET      /_emulator/v1/inventory              extIds by kind (``nic`` too)
                                             + storage stats
GET      /_emulator/v1/faults                 active faults
POST     /_emulator/v1/faults                 add one (JSON, see faults.py)
DELETE   /_emulator/v1/faults                 clear all
GET/PUT  /_emulator/v1/task-mode              ``{"mode", "delay"}``
=======  ===================================  ================================
"""

import math

import flask

from nutanix_openstack.emulator import backend
from nutanix_openstack.emulator import compute_nics
from nutanix_openstack.emulator import errors
from nutanix_openstack.emulator import faults

PREFIX = '/_emulator/v1'

blueprint = flask.Blueprint('emulator_admin', __name__, url_prefix=PREFIX)


def _disk_or_404(disk_id):
    disks = backend.get().disks
    if not disks.exists(disk_id):
        raise errors.NotFound("Disk %s does not exist." % disk_id)
    return disks


def _int_arg(name, default=None):
    raw = flask.request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise errors.BadRequest("%s must be an integer" % name)
    if value < 0:
        raise errors.BadRequest("%s must be >= 0" % name)
    return value


@blueprint.route('/reset', methods=['POST'])
def reset():
    backend.get().reset()
    return flask.jsonify({'reset': True})


@blueprint.route('/disks/<disk_id>', methods=['GET'])
def read_disk(disk_id):
    disks = _disk_or_404(disk_id)
    size = disks.size(disk_id)
    offset = _int_arg('offset', 0)
    length = _int_arg('length', max(size - offset, 0))
    if offset + length > size:
        raise errors.BadRequest("Read past the end of disk %s (size %d)"
                                % (disk_id, size))
    return flask.Response(
        disks.iter_read(disk_id, offset, length),
        mimetype='application/octet-stream',
        headers={'Content-Length': str(length)})


@blueprint.route('/disks/<disk_id>', methods=['PUT'])
def write_disk(disk_id):
    disks = _disk_or_404(disk_id)
    offset = _int_arg('offset', 0)
    stream = flask.request.stream
    written = 0
    while True:
        block = stream.read(1024 * 1024)
        if not block:
            break
        if offset + written + len(block) > disks.size(disk_id):
            raise errors.BadRequest("Write past the end of disk %s"
                                    % disk_id)
        disks.write(disk_id, offset + written, block)
        written += len(block)
    return flask.jsonify({'written': written})


@blueprint.route('/disks/<disk_id>/info', methods=['GET'])
def disk_info(disk_id):
    disks = _disk_or_404(disk_id)
    return flask.jsonify({
        'id': disk_id,
        'size': disks.size(disk_id),
        'allocated_bytes': disks.allocated_bytes(disk_id),
        'chain': disks.chain(disk_id),
    })


@blueprint.route('/inventory', methods=['GET'])
def inventory():
    be = backend.get()
    kinds = {}
    for kind in be.state.kinds():
        kinds[kind] = [b.get('extId') for b in be.state.list(kind)]
    # NICs live inside their VMs; listed here so that tests can count them.
    nics = [nic.get('extId') for _, nic in compute_nics.all_nics(be.state)]
    if nics:
        kinds['nic'] = nics
    return flask.jsonify({'objects': kinds, 'storage': be.disks.stats()})


@blueprint.route('/faults', methods=['GET'])
def list_faults():
    return flask.jsonify({'faults': backend.get().faults.list()})


_FAULT_KEYS = ('method', 'path', 'status', 'latency', 'drop_after_bytes',
               'fail_task', 'times', 'message', 'retry_after')


@blueprint.route('/faults', methods=['POST'])
def add_fault():
    body = flask.request.get_json(silent=True)
    if not isinstance(body, dict):
        raise errors.BadRequest("Fault must be a JSON object")
    unknown = set(body) - set(_FAULT_KEYS)
    if unknown:
        raise errors.BadRequest("Unknown fault keys: %s"
                                % ', '.join(sorted(unknown)))
    try:
        fault = backend.get().faults.add(**body)
    except (TypeError, ValueError) as exc:
        raise errors.BadRequest("Invalid fault: %s" % exc)
    return flask.jsonify(fault.to_dict()), 201


@blueprint.route('/faults', methods=['DELETE'])
def clear_faults():
    backend.get().faults.clear()
    return flask.jsonify({'faults': []})


@blueprint.route('/task-mode', methods=['GET'])
def get_task_mode():
    tasks = backend.get().tasks
    return flask.jsonify({'mode': tasks.mode, 'delay': tasks.delay})


@blueprint.route('/task-mode', methods=['PUT'])
def set_task_mode():
    body = flask.request.get_json(silent=True)
    if not isinstance(body, dict):
        raise errors.BadRequest("Task mode must be a JSON object")
    tasks = backend.get().tasks
    delay = body.get('delay')
    if delay is None:
        delay = 0.0
    if isinstance(delay, bool) or not isinstance(delay, (int, float)) or \
            not math.isfinite(delay) or \
            not 0 <= delay <= faults.MAX_SECONDS:
        raise errors.BadRequest("delay must be a number of seconds from 0 "
                                "to %d" % faults.MAX_SECONDS)
    tasks.set_mode(body.get('mode'), delay)
    return flask.jsonify({'mode': tasks.mode, 'delay': tasks.delay})
