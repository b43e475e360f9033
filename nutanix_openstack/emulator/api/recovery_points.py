"""``/api/dataprotection/v4.x/config/recovery-points``.

One create covers any number of VMs and volume groups, crash-consistent
across them (see :mod:`volumes_recovery`); restore makes new VMs and
volume groups from a recovery point, copy-on-write, and lists them in the
task's ``entitiesAffected``; replicate ships one to a paired cluster
(:mod:`replication`); ``compute-changed-regions`` (the ``content``
namespace) lists the regions of a disk recovery point that differ from a
reference one.  Deleting a recovery point frees only its
metadata and its copy-on-write references.
"""

import flask

from nutanix_openstack.emulator import backend as backend_mod
from nutanix_openstack.emulator import changed_regions
from nutanix_openstack.emulator import compute_shapes
from nutanix_openstack.emulator import errors
from nutanix_openstack.emulator import replication
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


@blueprint.route(RP + '/$actions/replicate', methods=['POST'])
def replicate_recovery_point(ext_id):
    """Ship the recovery point to a paired cluster (see :mod:`replication`).

    ``RecoveryPointReplicationSpec``: ``clusterExtId`` and/or ``pcExtId``.
    The task lists the replica (on the remote cluster) among its
    ``entitiesAffected`` and the bytes sent in ``completionDetails``.
    """
    be = _be()
    _record(ext_id)
    body = responses.json_body()
    cluster, pc = body.get('clusterExtId'), body.get('pcExtId')
    for key, value in (('clusterExtId', cluster), ('pcExtId', pc)):
        if value is not None and not isinstance(value, str):
            raise compute_shapes.BadRequest("'%s' must be a string" % key,
                                            key)
    if not cluster and not pc:
        raise compute_shapes.BadRequest(
            "A replication needs 'clusterExtId' or 'pcExtId'",
            'clusterExtId')
    if cluster == be.inventory.cluster_ext_id:
        raise compute_shapes.BadRequest(
            "A recovery point cannot be replicated to its own cluster",
            'clusterExtId')
    cluster = replication.find_remote(be.state, cluster, pc)['clusterExtId']

    def work(ctx):
        replication.replicate(be, ext_id, cluster, ctx)
    return _submit('kRecoveryPointReplicate', work,
                   'RecoveryPointReplicateApiResponse',
                   [(ext_id, sources.REL_RP)])


CONTENT = responses.v4_path('dataprotection', '/content/recovery-points')


def _changed_regions(rp_ext_id, member_key, member_ext_id, drp_ext_id):
    """``$actions/compute-changed-regions`` of one disk recovery point."""
    be = _be()
    rp = _record(rp_ext_id).body
    body = responses.json_body()
    member = _find(rp, member_key, member_ext_id)
    drp = _find_drp(member, drp_ext_id)
    offset = _non_negative(body, 'offset', 0)
    length = _non_negative(body, 'length', None)
    block = _non_negative(body, 'blockSizeByte',
                          be.opts.replication_block_size)
    if block == 0:
        raise compute_shapes.BadRequest("'blockSizeByte' must be positive",
                                        'blockSizeByte')
    refs = [body.get(k) for k in ('referenceRecoveryPointExtId',
                                  'reference' + member_key[0].upper() +
                                  member_key[1:-1] + 'ExtId',
                                  'referenceDiskRecoveryPointExtId')]
    ref = None
    if any(refs):
        if not all(refs):
            raise compute_shapes.BadRequest(
                "A reference needs its recovery point, member and disk "
                "recovery point extIds", 'referenceRecoveryPointExtId')
        ref_rp = _record(refs[0]).body
        ref = _find_drp(_find(ref_rp, member_key, refs[1]), refs[2])
        ref = ref['diskRecoveryPointExtId']
    regions = [
        {'$objectType': 'dataprotection.v4.content.ChangedRegion',
         'offset': off, 'length': n, 'regionType': kind}
        for off, n, kind in changed_regions.compute(
            be.disks, drp['diskRecoveryPointExtId'], ref, offset, length,
            block)]
    kind = 'Vm' if member_key == 'vmRecoveryPoints' else 'VolumeGroup'
    return responses.json_response(responses.envelope(
        regions, 'dataprotection.v4.content.Changed%sRegionsApiResponse'
        % kind))


def _find(rp, member_key, ext_id):
    for member in rp.get(member_key) or []:
        if member['extId'] == ext_id:
            return member
    raise errors.NotFound("%s %s not found in recovery point %s."
                          % (member_key[:-1], ext_id, rp['extId']))


def _find_drp(member, ext_id):
    for drp in member['diskRecoveryPoints']:
        if drp['diskRecoveryPointExtId'] == ext_id:
            return drp
    raise errors.NotFound("Disk recovery point %s not found." % ext_id)


def _non_negative(body, key, default):
    value = body.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise compute_shapes.BadRequest("'%s' must be a non-negative "
                                        "integer" % key, key)
    return value


@blueprint.route(CONTENT + '/<rp_ext_id>/volume-group-recovery-points/'
                 '<member_ext_id>/disk-recovery-points/<drp_ext_id>/'
                 '$actions/compute-changed-regions', methods=['POST'])
def volume_group_changed_regions(rp_ext_id, member_ext_id, drp_ext_id):
    return _changed_regions(rp_ext_id, 'volumeGroupRecoveryPoints',
                            member_ext_id, drp_ext_id)


@blueprint.route(CONTENT + '/<rp_ext_id>/vm-recovery-points/'
                 '<member_ext_id>/disk-recovery-points/<drp_ext_id>/'
                 '$actions/compute-changed-regions', methods=['POST'])
def vm_changed_regions(rp_ext_id, member_ext_id, drp_ext_id):
    return _changed_regions(rp_ext_id, 'vmRecoveryPoints', member_ext_id,
                            drp_ext_id)
