"""``/api/volumes/v4.x/config/volume-groups`` and ``.../iscsi-clients``.

Volume groups with disks (empty, or copy-on-write clones of an image, a VM
disk, a volume disk or a disk recovery point), direct VM attachments,
iSCSI client attachments and revert to a volume-group recovery point.
Writes answer 202 with a task; bodies and references are checked before
the task exists.  A volume disk's bytes live under the disk's extId.
"""

import copy

import flask

from nutanix_openstack.emulator import backend as backend_mod
from nutanix_openstack.emulator import compute_shapes
from nutanix_openstack.emulator import errors
from nutanix_openstack.emulator import input_limits
from nutanix_openstack.emulator import responses
from nutanix_openstack.emulator import volumes_attach
from nutanix_openstack.emulator import volumes_iscsi
from nutanix_openstack.emulator import volumes_recovery
from nutanix_openstack.emulator import volumes_shapes as shapes
from nutanix_openstack.emulator import volumes_sources as sources

blueprint = flask.Blueprint('volume_groups', __name__)

T = 'volumes.v4.config.'
VGS = responses.v4_path('volumes', '/config/volume-groups')
VG = VGS + '/<ext_id>'
DISKS = VGS + '/<vg_ext_id>/disks'
DISK = DISKS + '/<ext_id>'
CLIENTS = responses.v4_path('volumes', '/config/iscsi-clients')
CLIENT = CLIENTS + '/<ext_id>'


def _be():
    return backend_mod.get()


def _record(ext_id):
    return _be().state.require_record(sources.KIND_VG, ext_id,
                                      sources.vg_not_found)


def _find_disk(vg, disk_ext_id):
    for disk in vg['_disks']:
        if disk['extId'] == disk_ext_id:
            return disk
    raise errors.NotFound("Volume group %s has no disk %s."
                          % (vg['extId'], disk_ext_id), code='VOL-40402',
                          error_group='VOLUME_DISK_NOT_FOUND')


def _submit(operation, fn, object_type, entities):
    task = _be().tasks.submit(operation, fn, entities_affected=entities)
    return responses.task_accepted(task, T + object_type)


def _plan_disk(be, vg, body, used_indexes):
    p = shapes.parse_volume_disk(body)
    p['containerExtId'] = sources.container_ext_id(
        be.state, be.inventory, p['containerExtId'])
    if p['source']:
        p['sourceId'], src_size = sources.resolve_source(be, p['source'])
        p['sizeBytes'] = sources.check_size(p['sizeBytes'], src_size,
                                            'volume disk')
    if p['index'] is None:
        p['index'] = 0
        while p['index'] in used_indexes:
            p['index'] += 1
    elif p['index'] in used_indexes:
        raise compute_shapes.BadRequest(
            "Disk index %d is already in use" % p['index'], 'index')
    used_indexes.add(p['index'])
    p['extId'] = compute_shapes.new_ext_id()
    return p


def _build_disks(be, plans):
    """Create the bytes of planned disks; returns their VolumeDisk JSON."""
    created, out = [], []
    try:
        for p in plans:
            sources.materialize(be.disks, p['extId'], p['sizeBytes'],
                                p.get('sourceId'))
            created.append(p['extId'])
            out.append(shapes.volume_disk_json(
                p['extId'], p['index'], be.disks.size(p['extId']),
                p['containerExtId'], p['source'], p['description'],
                p['diskStorageFeatures']))
    except Exception:
        sources.delete_bytes(be.disks, created)
        raise
    return out


# ------------------------------------------------------------ groups

@blueprint.route(VGS, methods=['POST'])
def create_volume_group():
    be = _be()
    body = responses.json_body()
    ext_id = compute_shapes.new_ext_id()
    vg = shapes.new_vg(body, ext_id, be.inventory.cluster_ext_id)
    if be.state.get('cluster', vg['clusterReference']) is None:
        raise errors.NotFound("Cluster %s not found."
                              % vg['clusterReference'])
    used = set()
    plans = [_plan_disk(be, vg, d, used) for d in body.get('disks') or []]

    def work(ctx):
        with sources.LOCK:
            vg['_disks'] = _build_disks(be, plans)
            be.state.put(sources.KIND_VG, ext_id, vg)
    return _submit('kVolumeGroupCreate', work,
                   'CreateVolumeGroupApiResponse', [(ext_id, sources.REL_VG)])


@blueprint.route(VGS, methods=['GET'])
def list_volume_groups():
    items = [shapes.public(vg) for vg in _be().state.list(sources.KIND_VG)]
    return responses.listing(items, T + 'ListVolumeGroupsApiResponse')


@blueprint.route(VG, methods=['GET'])
def get_volume_group(ext_id):
    record = _record(ext_id)
    return responses.entity(shapes.public(record.body),
                            T + 'GetVolumeGroupApiResponse',
                            etag=record.etag)


@blueprint.route(VG, methods=['PUT'])
def update_volume_group(ext_id):
    be = _be()
    record = _record(ext_id)
    responses.check_if_match(record.etag)
    body = responses.json_body()
    # Dry run on a copy: a bad body is a 400 now, not a failed task.
    shapes.apply_update(copy.deepcopy(record.body), body)

    def work(ctx):
        if be.state.update(sources.KIND_VG, ext_id,
                           lambda vg: shapes.apply_update(vg, body)) is None:
            raise sources.vg_not_found(ext_id)
    return _submit('kVolumeGroupUpdate', work,
                   'UpdateVolumeGroupApiResponse', [(ext_id, sources.REL_VG)])


def _check_detached(vg):
    if vg['_vmAttachments'] or vg['_iscsiAttachments']:
        # The real API refuses to delete a group that is still in use.
        raise errors.Conflict(
            "Volume group %s is attached to %d VM(s) and %d iSCSI "
            "client(s); detach it first." % (
                vg['extId'], len(vg['_vmAttachments']),
                len(vg['_iscsiAttachments'])),
            code='VOL-40901', error_group='VOLUME_GROUP_IN_USE')


@blueprint.route(VG, methods=['DELETE'])
def delete_volume_group(ext_id):
    be = _be()
    record = _record(ext_id)
    sources.check_if_match_when_sent(record.etag)
    _check_detached(record.body)

    def work(ctx):
        with sources.LOCK:
            with be.state.transaction():
                vg = be.state.get(sources.KIND_VG, ext_id)
                if vg is None:
                    raise sources.vg_not_found(ext_id)
                _check_detached(vg)
                be.state.delete(sources.KIND_VG, ext_id)
            sources.delete_bytes(be.disks, [d['extId'] for d in vg['_disks']])
    return _submit('kVolumeGroupDelete', work,
                   'DeleteVolumeGroupApiResponse', [(ext_id, sources.REL_VG)])


@blueprint.route(VGS + '/<vg_ext_id>/metadata', methods=['GET'])
def get_metadata(vg_ext_id):
    vg = _record(vg_ext_id).body
    return responses.entity(
        {'$objectType': T + 'VolumeGroupMetadata',
         'ownerReference': vg.get('createdBy'), 'categoryIds': []},
        T + 'GetVolumeGroupMetadataApiResponse')


# ------------------------------------------------------------- disks

@blueprint.route(DISKS, methods=['GET'])
def list_disks(vg_ext_id):
    vg = _record(vg_ext_id).body
    return responses.listing(vg['_disks'], T + 'ListVolumeDisksApiResponse')


@blueprint.route(DISK, methods=['GET'])
def get_disk(vg_ext_id, ext_id):
    record = _record(vg_ext_id)
    return responses.entity(_find_disk(record.body, ext_id),
                            T + 'GetVolumeDiskApiResponse', etag=record.etag)


@blueprint.route(DISKS, methods=['POST'])
def create_disk(vg_ext_id):
    be = _be()
    record = _record(vg_ext_id)
    sources.check_if_match_when_sent(record.etag)
    vg = record.body
    body = responses.json_body()
    plan = _plan_disk(be, vg, body, set(d['index'] for d in vg['_disks']))

    def work(ctx):
        with sources.LOCK:
            disks = _build_disks(be, [plan])

            def mutate(stored):
                shapes.next_disk_index(stored, plan['index'])
                stored['_disks'].append(disks[0])
            try:
                if be.state.update(sources.KIND_VG, vg_ext_id,
                                   mutate) is None:
                    raise sources.vg_not_found(vg_ext_id)
            except Exception:
                sources.delete_bytes(be.disks, [plan['extId']])
                raise
    return _submit('kVolumeDiskCreate', work, 'CreateVolumeDiskApiResponse',
                   [(vg_ext_id, sources.REL_VG),
                    (plan['extId'], sources.REL_VOLUME_DISK)])


@blueprint.route(DISK, methods=['PUT'])
def update_disk(vg_ext_id, ext_id):
    be = _be()
    record = _record(vg_ext_id)
    responses.check_if_match(record.etag)
    disk = _find_disk(record.body, ext_id)
    body = responses.json_body()
    new_size = body.get('diskSizeBytes')
    if new_size is not None:
        input_limits.check_disk_size(new_size)
        if new_size < disk['diskSizeBytes']:
            raise errors.BadRequest(
                "A volume disk cannot shrink (%d -> %d bytes)."
                % (disk['diskSizeBytes'], new_size), code='VOL-40003',
                error_group='VOLUME_DISK_SHRINK_NOT_ALLOWED')

    def work(ctx):
        with sources.LOCK:
            def mutate(vg):
                stored = _find_disk(vg, ext_id)
                if new_size is not None and new_size > \
                        be.disks.size(ext_id):
                    be.disks.resize(ext_id, new_size)
                stored['diskSizeBytes'] = be.disks.size(ext_id)
                if body.get('description') is not None:
                    stored['description'] = body['description']
            if be.state.update(sources.KIND_VG, vg_ext_id, mutate) is None:
                raise sources.vg_not_found(vg_ext_id)
    return _submit('kVolumeDiskUpdate', work, 'UpdateVolumeDiskApiResponse',
                   [(vg_ext_id, sources.REL_VG),
                    (ext_id, sources.REL_VOLUME_DISK)])


@blueprint.route(DISK, methods=['DELETE'])
def delete_disk(vg_ext_id, ext_id):
    be = _be()
    record = _record(vg_ext_id)
    sources.check_if_match_when_sent(record.etag)
    _find_disk(record.body, ext_id)

    def work(ctx):
        with sources.LOCK:
            def mutate(vg):
                _find_disk(vg, ext_id)
                vg['_disks'] = [d for d in vg['_disks']
                                if d['extId'] != ext_id]
            if be.state.update(sources.KIND_VG, vg_ext_id, mutate) is None:
                raise sources.vg_not_found(vg_ext_id)
            sources.delete_bytes(be.disks, [ext_id])
    return _submit('kVolumeDiskDelete', work, 'DeleteVolumeDiskApiResponse',
                   [(vg_ext_id, sources.REL_VG),
                    (ext_id, sources.REL_VOLUME_DISK)])


# ----------------------------------------------------------- actions

@blueprint.route(VG + '/$actions/<action>', methods=['POST'])
def vg_action(ext_id, action):
    handlers = {'attach-vm': _attach_vm, 'detach-vm': _detach_vm,
                'attach-iscsi-client': _attach_iscsi,
                'detach-iscsi-client': _detach_iscsi, 'revert': _revert}
    if action not in handlers:
        raise errors.ApiError("Action %s is not supported by the emulator."
                              % action, status=404)
    record = _record(ext_id)
    sources.check_if_match_when_sent(record.etag)
    return handlers[action](_be(), record.body, responses.json_body())


def _vm_ext_id(be, body):
    vm_ext_id = body.get('extId')
    if not vm_ext_id:
        raise compute_shapes.BadRequest("'extId' of the VM is required",
                                        'extId')
    if be.state.get(sources.KIND_VM, vm_ext_id) is None:
        raise sources.vm_not_found(vm_ext_id)
    return vm_ext_id


def _attach_vm(be, vg, body):
    vm_ext_id = _vm_ext_id(be, body)
    volumes_attach.check_attachable(vg, vm_ext_id)
    index = body.get('index')

    def work(ctx):
        with sources.LOCK:
            volumes_attach.attach(be.state, vg['extId'], vm_ext_id, index)
    return _submit('kVolumeGroupAttachVm', work, 'AttachVmApiResponse',
                   [(vg['extId'], sources.REL_VG),
                    (vm_ext_id, sources.REL_VM)])


def _detach_vm(be, vg, body):
    vm_ext_id = body.get('extId')
    if vm_ext_id not in [a['extId'] for a in vg['_vmAttachments']]:
        raise errors.NotFound("Volume group %s is not attached to VM %s."
                              % (vg['extId'], vm_ext_id))

    def work(ctx):
        with sources.LOCK:
            volumes_attach.detach(be.state, vg['extId'], vm_ext_id)
    return _submit('kVolumeGroupDetachVm', work, 'DetachVmApiResponse',
                   [(vg['extId'], sources.REL_VG),
                    (vm_ext_id, sources.REL_VM)])


def _attach_iscsi(be, vg, body):
    volumes_iscsi.validate_attach(vg, body)
    client, _name = volumes_iscsi.resolve_client(be.state, body, create=True)
    volumes_iscsi.check_attachable(vg, client)

    def work(ctx):
        client = volumes_iscsi.attach(be.state, vg['extId'], body,
                                      be.inventory.cluster_ext_id)
        ctx.add_entity(client, sources.REL_ISCSI_CLIENT)
    return _submit('kVolumeGroupAttachExternal', work,
                   'AttachIscsiClientApiResponse',
                   [(vg['extId'], sources.REL_VG)])


def _detach_iscsi(be, vg, body):
    client, name = volumes_iscsi.resolve_client(be.state, body)
    if client['extId'] not in [a['extId'] for a in vg['_iscsiAttachments']]:
        raise errors.NotFound("iSCSI client %s is not attached to volume "
                              "group %s." % (name, vg['extId']))

    def work(ctx):
        volumes_iscsi.detach(be.state, vg['extId'], body)
    return _submit('kVolumeGroupDetachExternal', work,
                   'DetachIscsiClientApiResponse',
                   [(vg['extId'], sources.REL_VG),
                    (client['extId'], sources.REL_ISCSI_CLIENT)])


def _revert(be, vg, body):
    vgrp_ext_id = body.get('volumeGroupRecoveryPointExtId')
    if not vgrp_ext_id:
        raise compute_shapes.BadRequest(
            "'volumeGroupRecoveryPointExtId' is required",
            'volumeGroupRecoveryPointExtId')
    rp, vgrp = volumes_recovery.find_vg_recovery_point(be.state, vgrp_ext_id)
    if vgrp['volumeGroupExtId'] != vg['extId']:
        raise compute_shapes.BadRequest(
            "Recovery point %s is not of volume group %s."
            % (vgrp_ext_id, vg['extId']), 'volumeGroupRecoveryPointExtId')

    def work(ctx):
        with sources.LOCK:
            volumes_recovery.revert_volume_group(be, vg['extId'], vgrp)
    return _submit('kVolumeGroupRevert', work, 'RevertVolumeGroupApiResponse',
                   [(vg['extId'], sources.REL_VG),
                    (rp['extId'], sources.REL_RP)])


@blueprint.route(VGS + '/<vg_ext_id>/vm-attachments', methods=['GET'])
def list_vm_attachments(vg_ext_id):
    vg = _record(vg_ext_id).body
    return responses.listing(vg['_vmAttachments'],
                             T + 'ListVmAttachmentsApiResponse')


@blueprint.route(VGS + '/<vg_ext_id>/external-iscsi-attachments',
                 methods=['GET'])
def list_iscsi_attachments(vg_ext_id):
    vg = _record(vg_ext_id).body
    return responses.listing(vg['_iscsiAttachments'],
                             T + 'ListExternalIscsiAttachmentsApiResponse')


# ------------------------------------------------------ iSCSI clients

def _client_record(ext_id):
    return _be().state.require_record(sources.KIND_ISCSI_CLIENT, ext_id,
                                      volumes_iscsi.client_not_found)


@blueprint.route(CLIENTS, methods=['GET'])
def list_iscsi_clients():
    items = [shapes.public(c)
             for c in _be().state.list(sources.KIND_ISCSI_CLIENT)]
    return responses.listing(items, T + 'ListIscsiClientsApiResponse')


@blueprint.route(CLIENT, methods=['GET'])
def get_iscsi_client(ext_id):
    record = _client_record(ext_id)
    return responses.entity(shapes.public(record.body),
                            T + 'GetIscsiClientApiResponse',
                            etag=record.etag)


@blueprint.route(CLIENT, methods=['PUT'])
def update_iscsi_client(ext_id):
    be = _be()
    record = _client_record(ext_id)
    responses.check_if_match(record.etag)
    body = responses.json_body()
    volumes_iscsi.update_client(record.body, body)

    def work(ctx):
        if be.state.update(
                sources.KIND_ISCSI_CLIENT, ext_id,
                lambda c: volumes_iscsi.update_client(c, body)) is None:
            raise volumes_iscsi.client_not_found(ext_id)
    return _submit('kIscsiClientUpdate', work, 'UpdateIscsiClientApiResponse',
                   [(ext_id, sources.REL_ISCSI_CLIENT)])
