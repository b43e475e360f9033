"""``/api/dataprotection/v4.x/config/recovery-points``.

One create covers any number of VMs and volume groups, crash-consistent
across them (see :mod:`volumes_recovery`); restore makes new VMs and
volume groups from a recovery point, copy-on-write, and lists them in the
task's ``entitiesAffected``.  Deleting a recovery point frees only its
metadata and its copy-on-write references.
"""

import flask

from nutanix_openstack.emulator import backend as backend_mod
from nutanix_openstack.emulator import compute_shapes
from nutanix_openstack.emulator import errors
from nutanix_openstack.emulator import responses
from nutanix_openstack.emulator import volumes_recovery as recovery
from nutanix_openstack.emulator import volumes_shapes
from nutanix_openstack.emulator import volumes_sources as sources

blueprint = flask.Blueprint('recovery_points', __name__)

T = 'dataprotection.v4.config.'
RPS = responses.v4_path('dataprotection', '/config/recovery-points')
RP = RPS + '/<ext_id>'


def _be():
    return backend_mod.get()


def _record(ext_id):
    return _be().state.require_record(sources.KIND_RP, ext_id,
                                      recovery.rp_not_found)


def _submit(operation, fn, object_type, entities):
    task = _be().tasks.submit(operation, fn, entities_affected=entities)
    return responses.task_accepted(task, T + object_type)


@blueprint.route(RPS, methods=['POST'])
def create_recovery_point():
    be = _be()
    body = responses.json_body()
    name, rp_type, expiration, vms, vgs = recovery.parse_create(be.state,
                                                                body)
    ext_id = compute_shapes.new_ext_id()

    def work(ctx):
        with sources.LOCK:
            recovery.take(be, ext_id, name, rp_type, expiration, vms, vgs)
    entities = [(ext_id, sources.REL_RP)]
    entities += [(v, sources.REL_VM) for v in vms]
    entities += [(v, sources.REL_VG) for v in vgs]
    return _submit('kRecoveryPointCreate', work,
                   'CreateRecoveryPointApiResponse', entities)


@blueprint.route(RPS, methods=['GET'])
def list_recovery_points():
    items = [volumes_shapes.public(rp)
             for rp in _be().state.list(sources.KIND_RP)]
    return responses.listing(items, T + 'ListRecoveryPointsApiResponse')


@blueprint.route(RP, methods=['GET'])
def get_recovery_point(ext_id):
    record = _record(ext_id)
    return responses.entity(volumes_shapes.public(record.body),
                            T + 'GetRecoveryPointApiResponse',
                            etag=record.etag)


@blueprint.route(RPS + '/<rp_ext_id>/vm-recovery-points/<ext_id>',
                 methods=['GET'])
def get_vm_recovery_point(rp_ext_id, ext_id):
    record = _record(rp_ext_id)
    for member in record.body['vmRecoveryPoints']:
        if member['extId'] == ext_id:
            return responses.entity(volumes_shapes.public(member),
                                    T + 'GetVmRecoveryPointApiResponse',
                                    etag=record.etag)
    raise errors.NotFound("VM recovery point %s not found in %s."
                          % (ext_id, rp_ext_id))


@blueprint.route(RP, methods=['DELETE'])
def delete_recovery_point(ext_id):
    be = _be()
    _record(ext_id)

    def work(ctx):
        with sources.LOCK:
            with be.state.transaction():
                rp = be.state.get(sources.KIND_RP, ext_id)
                if rp is None:
                    raise recovery.rp_not_found(ext_id)
                be.state.delete(sources.KIND_RP, ext_id)
            # Disks cloned from these stay readable: the store keeps shared
            # chunks until their last user is gone.
            sources.delete_bytes(be.disks, recovery.drp_ids(rp))
    return _submit('kRecoveryPointDelete', work,
                   'DeleteRecoveryPointApiResponse',
                   [(ext_id, sources.REL_RP)])


@blueprint.route(RP + '/$actions/restore', methods=['POST'])
def restore_recovery_point(ext_id):
    be = _be()
    rp = _record(ext_id).body
    spec = flask.request.get_json(silent=True) or {}
    if not isinstance(spec, dict):
        raise compute_shapes.BadRequest("The body must be a "
                                        "RecoveryPointRestorationSpec")
    cluster = spec.get('clusterExtId')
    if cluster and be.state.get('cluster', cluster) is None:
        raise errors.NotFound("Cluster %s not found." % cluster)
    vm_names, vg_names = recovery.parse_restore(rp, spec)

    def work(ctx):
        with sources.LOCK:
            stored = be.state.get(sources.KIND_RP, ext_id)
            if stored is None:
                raise recovery.rp_not_found(ext_id)
            recovery.restore(be, stored, vm_names, vg_names, ctx)
    return _submit('kRecoveryPointRestore', work,
                   'RecoveryPointRestoreApiResponse',
                   [(ext_id, sources.REL_RP)])


@blueprint.route(RP + '/$actions/set-expiration-time', methods=['POST'])
def set_expiration_time(ext_id):
    be = _be()
    _record(ext_id)
    body = responses.json_body()
    expiration = recovery.parse_time(body.get('expirationTime'),
                                     'expirationTime')
    if not expiration:
        raise compute_shapes.BadRequest("'expirationTime' is required",
                                        'expirationTime')

    def work(ctx):
        if be.state.update(sources.KIND_RP, ext_id,
                           lambda rp: recovery.set_expiration(
                               rp, expiration)) is None:
            raise recovery.rp_not_found(ext_id)
    return _submit('kRecoveryPointSetExpiration', work,
                   'UpdateRecoveryPointExpirationTimeApiResponse',
                   [(ext_id, sources.REL_RP)])
