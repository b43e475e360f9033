"""Recovery points: crash-consistent snapshots of VMs and volume groups.

A recovery point clones (copy-on-write, metadata only) every disk of every
VM and volume group it covers into a disk recovery point stored under its
own extId.  The clones are one disk-store transaction (``clone_group``),
taken while :data:`volumes_sources.LOCK` is held: no write to any of the
disks and no VM/volume-group operation lands between the first clone and
the last, which makes the recovery point crash-consistent.  Restoring
creates new VMs and volume groups whose disks are clones of the disk
recovery points; reverting a volume group makes its disks clones of them
again.

Each disk recovery point keeps, under the private ``_disk`` key, the disk
JSON it was taken from (address, container, size) for restore and revert.
"""

import copy
import datetime

from nutanix_openstack.emulator import compute_nics
from nutanix_openstack.emulator import compute_shapes
from nutanix_openstack.emulator import errors
from nutanix_openstack.emulator import input_limits
from nutanix_openstack.emulator import tasks as tasks_mod
from nutanix_openstack.emulator import volumes_shapes
from nutanix_openstack.emulator import volumes_sources as sources

NS = 'dataprotection.v4.config.'
RP_TYPES = ('CRASH_CONSISTENT', 'APPLICATION_CONSISTENT')


def rp_not_found(ext_id):
    return errors.NotFound("Recovery point %s not found." % ext_id,
                           code='DATAPROTECTION-40400',
                           error_group='RECOVERY_POINT_NOT_FOUND')


def find_vg_recovery_point(state, ext_id):
    for rp in state.list(sources.KIND_RP):
        for vgrp in rp.get('volumeGroupRecoveryPoints') or []:
            if vgrp['extId'] == ext_id:
                return rp, vgrp
    raise errors.NotFound("Volume group recovery point %s not found."
                          % ext_id, code='VOL-40403',
                          error_group='RECOVERY_POINT_NOT_FOUND')


def parse_time(value, key):
    if value is None:
        return None
    if not isinstance(value, str):
        raise compute_shapes.BadRequest("'%s' must be a date-time" % key, key)
    try:
        parsed = datetime.datetime.fromisoformat(value.replace('Z',
                                                               '+00:00'))
    except ValueError:
        raise compute_shapes.BadRequest("'%s' must be an ISO 8601 date-time"
                                        % key, key)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return parsed.astimezone(datetime.timezone.utc).isoformat(
        timespec='seconds').replace('+00:00', 'Z')


def parse_create(state, body):
    """Validate a RecoveryPoint create body.

    Returns ``(name, type, expiration, vm_ext_ids, vg_ext_ids)``.
    """
    rp_type = body.get('recoveryPointType') or 'CRASH_CONSISTENT'
    if rp_type not in RP_TYPES:
        raise compute_shapes.BadRequest(
            "'recoveryPointType' must be one of %s" % ', '.join(RP_TYPES),
            'recoveryPointType')
    name = body.get('name')
    if name is not None and not isinstance(name, str):
        raise compute_shapes.BadRequest("'name' must be a string", 'name')
    input_limits.check_name(name, max_length=256, required=False)
    vms, vgs = [], []
    for key, field, kind, out in (
            ('vmRecoveryPoints', 'vmExtId', sources.KIND_VM, vms),
            ('volumeGroupRecoveryPoints', 'volumeGroupExtId',
             sources.KIND_VG, vgs)):
        members = body.get(key) or []
        if not isinstance(members, list):
            raise compute_shapes.BadRequest("'%s' must be a list" % key, key)
        for member in members:
            ext_id = member.get(field) if isinstance(member, dict) else None
            if not ext_id:
                raise compute_shapes.BadRequest(
                    "Each of '%s' needs '%s'" % (key, field), key)
            if ext_id in out:
                raise compute_shapes.BadRequest(
                    "%s %s is listed twice" % (field, ext_id), key)
            if state.get(kind, ext_id) is None:
                raise (sources.vm_not_found(ext_id) if kind == 'vm'
                       else sources.vg_not_found(ext_id))
            out.append(ext_id)
    if not vms and not vgs:
        raise compute_shapes.BadRequest(
            "A recovery point needs at least one VM or volume group",
            'vmRecoveryPoints')
    return (name, rp_type, parse_time(body.get('expirationTime'),
                                      'expirationTime'), vms, vgs)


def _member(object_type, ext_id, now, rp_type, expiration):
    member = {
        '$objectType': NS + object_type,
        'extId': ext_id,
        'locationAgnosticId': compute_shapes.new_ext_id(),
        'creationTime': now,
        'status': 'COMPLETE',
        'recoveryPointType': rp_type,
        'totalExclusiveUsageBytes': 0,
        'diskRecoveryPoints': [],
    }
    if expiration:
        member['expirationTime'] = expiration
    return member


def _drp(disk_ext_id, disk_json):
    return {'$objectType': 'dataprotection.v4.common.DiskRecoveryPoint',
            'diskRecoveryPointExtId': compute_shapes.new_ext_id(),
            'diskExtId': disk_ext_id, '_disk': copy.deepcopy(disk_json)}


def take(backend, rp_ext_id, name, rp_type, expiration, vm_ext_ids,
         vg_ext_ids):
    """Snapshot the VMs and groups into a new stored recovery point.

    Must run under ``sources.LOCK``.  Removes its clones on failure.
    """
    state, disks = backend.state, backend.disks
    now = tasks_mod.now_iso()
    rp = _recovery_point(backend, rp_ext_id, name, now, rp_type, expiration)
    with state.transaction():
        rp['vmRecoveryPoints'] = [
            _vm_member(state, vm_ext_id, now, rp_type, expiration)
            for vm_ext_id in vm_ext_ids]
        rp['volumeGroupRecoveryPoints'] = [
            _vg_member(state, vg_ext_id, now, rp_type, expiration)
            for vg_ext_id in vg_ext_ids]
    clones = [(drp['diskExtId'], drp['diskRecoveryPointExtId'], None)
              for member in (rp['vmRecoveryPoints'] +
                             rp['volumeGroupRecoveryPoints'])
              for drp in member['diskRecoveryPoints']]
    _clone_all(disks, clones)
    try:
        state.put(sources.KIND_RP, rp_ext_id, rp)
    except Exception:
        sources.delete_bytes(disks, [c[1] for c in clones])
        raise
    return rp


def _recovery_point(backend, rp_ext_id, name, now, rp_type, expiration):
    """The RecoveryPoint JSON, with no member yet."""
    rp = {
        '$objectType': NS + 'RecoveryPoint',
        'extId': rp_ext_id,
        'name': name or 'rp-%s' % rp_ext_id[:8],
        'creationTime': now,
        'status': 'COMPLETE',
        'recoveryPointType': rp_type,
        'locationAgnosticId': compute_shapes.new_ext_id(),
        'locationReferences': [{'$objectType': NS + 'LocationReference',
                                'locationExtId':
                                backend.inventory.cluster_ext_id}],
        'totalExclusiveUsageBytes': 0,
        'vmRecoveryPoints': [],
        'volumeGroupRecoveryPoints': [],
    }
    if expiration:
        rp['expirationTime'] = expiration
    return rp


def _vm_member(state, vm_ext_id, now, rp_type, expiration):
    """A VmRecoveryPoint planning a disk recovery point per VM disk."""
    vm = state.get(sources.KIND_VM, vm_ext_id)
    if vm is None:
        raise sources.vm_not_found(vm_ext_id)
    member = _member('VmRecoveryPoint', compute_shapes.new_ext_id(),
                     now, rp_type, expiration)
    member.update(vmExtId=vm_ext_id, name=vm['name'],
                  hypervisorType='AHV', vmCategories=[],
                  _vm=compute_shapes.render_vm(vm))
    member['diskRecoveryPoints'] = [
        _drp(disk['extId'], disk) for disk in vm.get('disks') or []
        if compute_shapes.is_vm_disk(disk)]
    return member


def _vg_member(state, vg_ext_id, now, rp_type, expiration):
    """A VolumeGroupRecoveryPoint planning one per group disk."""
    vg = state.get(sources.KIND_VG, vg_ext_id)
    if vg is None:
        raise sources.vg_not_found(vg_ext_id)
    member = _member('VolumeGroupRecoveryPoint',
                     compute_shapes.new_ext_id(), now, rp_type,
                     expiration)
    member.update(volumeGroupExtId=vg_ext_id, name=vg['name'],
                  volumeGroupCategories=[],
                  _vg=volumes_shapes.public(vg))
    member['diskRecoveryPoints'] = [_drp(disk['extId'], disk)
                                    for disk in vg['_disks']]
    return member


def _clone_all(disks, clones):
    """Clone ``(source, new, size)`` disks as one storage transaction.

    No write (guest I/O through the admin API included) lands between the
    first clone and the last.
    """
    if hasattr(disks, 'clone_group'):
        disks.clone_group(clones)
        return
    # A store without group clones (test doubles): one by one, still
    # under LOCK.
    made = []
    try:
        for src, new, size in clones:
            disks.clone(src, new, size)
            made.append(new)
    except Exception:
        sources.delete_bytes(disks, made)
        raise


def drp_ids(rp):
    return [drp['diskRecoveryPointExtId']
            for member in (rp.get('vmRecoveryPoints') or []) +
            (rp.get('volumeGroupRecoveryPoints') or [])
            for drp in member['diskRecoveryPoints']]


def revert_volume_group(backend, vg_ext_id, vgrp):
    """Make the group's disks clones of the recovery point's disks again.

    Disks added since the recovery point are deleted; disks deleted since
    come back under their old extId.  Must run under ``sources.LOCK``.
    """
    state, disks = backend.state, backend.disks
    vg = state.get(sources.KIND_VG, vg_ext_id)
    if vg is None:
        raise sources.vg_not_found(vg_ext_id)
    for drp in vgrp['diskRecoveryPoints']:
        if not disks.exists(drp['diskRecoveryPointExtId']):
            raise errors.Conflict("Disk recovery point %s has no data."
                                  % drp['diskRecoveryPointExtId'])
    kept = set(drp['diskExtId'] for drp in vgrp['diskRecoveryPoints'])
    new_disks = []
    for drp in vgrp['diskRecoveryPoints']:
        disk_ext_id = drp['diskExtId']
        if disks.exists(disk_ext_id):
            disks.delete(disk_ext_id)
        disks.clone(drp['diskRecoveryPointExtId'], disk_ext_id)
        disk = copy.deepcopy(drp['_disk'])
        disk['diskSizeBytes'] = disks.size(disk_ext_id)
        new_disks.append(disk)
    sources.delete_bytes(disks, [d['extId'] for d in vg['_disks']
                                 if d['extId'] not in kept])

    def mutate(stored):
        stored['_disks'] = new_disks
    state.update(sources.KIND_VG, vg_ext_id, mutate)


def _override_names(spec, list_key, id_key, spec_key):
    names = {}
    for override in spec.get(list_key) or []:
        if not isinstance(override, dict) or not override.get(id_key):
            raise compute_shapes.BadRequest("Each of '%s' needs '%s'"
                                            % (list_key, id_key), list_key)
        name = (override.get(spec_key) or {}).get('name')
        if name:
            names[override[id_key]] = name
    return names


def parse_restore(rp, spec):
    """Validate a RecoveryPointRestorationSpec.

    Returns the name overrides as ``(vm names by VM RP extId, group names
    by VG RP extId)``.
    """
    vm_names = _override_names(spec, 'vmRecoveryPointRestoreOverrides',
                               'vmRecoveryPointExtId', 'vmOverrideSpec')
    vg_names = _override_names(
        spec, 'volumeGroupRecoveryPointRestoreOverrides',
        'volumeGroupRecoveryPointExtId', 'volumeGroupOverrideSpec')
    known = set(m['extId'] for m in rp['vmRecoveryPoints'] +
                rp['volumeGroupRecoveryPoints'])
    for ext_id in list(vm_names) + list(vg_names):
        if ext_id not in known:
            raise compute_shapes.BadRequest(
                "%s is not part of recovery point %s" % (ext_id,
                                                         rp['extId']))
    return vm_names, vg_names


def _restored_vm(vmrp, name, disks, created):
    vm = copy.deepcopy(vmrp['_vm'])
    vm_ext_id = compute_shapes.new_ext_id()
    now = tasks_mod.now_iso()
    vm.update(extId=vm_ext_id, name=name or vm['name'], powerState='OFF',
              createTime=now, updateTime=now,
              biosUuid=compute_shapes.new_ext_id(),
              generationUuid=compute_shapes.new_ext_id(), disks=[])
    vm.pop('host', None)
    vm.pop('$reserved', None)
    for nic in vm.get('nics') or []:
        nic['extId'] = compute_shapes.new_ext_id()
    for cdrom in vm.get('cdRoms') or []:
        cdrom['extId'] = compute_shapes.new_ext_id()
        # CD-ROM media are not part of a recovery point: the restored
        # drives are empty.
        cdrom.pop('backingInfo', None)
    # Only the VM's own disks are in the recovery point; directly attached
    # volume groups are separate entities and are not re-attached.
    for drp in vmrp['diskRecoveryPoints']:
        old = drp['_disk']
        disk_ext_id = compute_shapes.new_ext_id()
        disks.clone(drp['diskRecoveryPointExtId'], disk_ext_id)
        created.append(disk_ext_id)
        backing = old['backingInfo']
        vm['disks'].append(compute_shapes.vm_disk_json(
            disk_ext_id, old['diskAddress']['busType'],
            old['diskAddress']['index'], disks.size(disk_ext_id),
            backing['storageContainer']['extId'],
            compute_shapes.data_source_json(
                'disk_recovery_point', drp['diskRecoveryPointExtId'],
                vmRecoveryPointExtId=vmrp['extId']),
            backing.get('storageConfig')))
    return vm


def _restored_vg(vgrp, name, disks, created):
    vg_ext_id = compute_shapes.new_ext_id()
    config = copy.deepcopy(vgrp['_vg'])
    prefix = config.get('targetPrefix')
    vg = volumes_shapes.new_vg(
        {'name': name or config['name'],
         'description': config.get('description'),
         'sharingStatus': config.get('sharingStatus'),
         'targetPrefix': prefix,
         'usageType': config.get('usageType'),
         'storageFeatures': config.get('storageFeatures'),
         'shouldLoadBalanceVmAttachments': config.get(
             'shouldLoadBalanceVmAttachments', False)},
        vg_ext_id, config.get('clusterReference'))
    for drp in vgrp['diskRecoveryPoints']:
        old = drp['_disk']
        disk_ext_id = compute_shapes.new_ext_id()
        disks.clone(drp['diskRecoveryPointExtId'], disk_ext_id)
        created.append(disk_ext_id)
        vg['_disks'].append(volumes_shapes.volume_disk_json(
            disk_ext_id, old['index'], disks.size(disk_ext_id),
            old['storageContainerId'],
            {'kind': 'disk_recovery_point',
             'extId': drp['diskRecoveryPointExtId']},
            old.get('description'), old.get('diskStorageFeatures')))
    return vg


def restore(backend, rp, vm_names, vg_names, ctx):
    """New VMs and groups from ``rp`` (COW); reports them on the task.

    Must run under ``sources.LOCK``; on failure nothing is left behind.
    """
    state, disks = backend.state, backend.disks
    created_bytes, created = [], []
    try:
        for vmrp in rp['vmRecoveryPoints']:
            vm = _restored_vm(vmrp, vm_names.get(vmrp['extId']), disks,
                              created_bytes)
            # The source VM may still hold the NICs' MACs and addresses.
            compute_nics.readdress(state, vm.get('nics') or [])
            state.put(sources.KIND_VM, vm['extId'], vm)
            created.append((sources.KIND_VM, vm['extId'], sources.REL_VM,
                            vm['name']))
        for vgrp in rp['volumeGroupRecoveryPoints']:
            vg = _restored_vg(vgrp, vg_names.get(vgrp['extId']), disks,
                              created_bytes)
            state.put(sources.KIND_VG, vg['extId'], vg)
            created.append((sources.KIND_VG, vg['extId'], sources.REL_VG,
                            vg['name']))
    except Exception:
        for kind, ext_id, _rel, _name in created:
            state.delete(kind, ext_id)
        sources.delete_bytes(disks, created_bytes)
        raise
    for _kind, ext_id, rel, name in created:
        ctx.add_entity(ext_id, rel, name)
    return created


def set_expiration(rp, expiration):
    rp['expirationTime'] = expiration
    for member in rp['vmRecoveryPoints'] + rp['volumeGroupRecoveryPoints']:
        member['expirationTime'] = expiration
