"""Planning and creating the disks of emulated VMs.

A request is validated up front (:func:`plan`: bad body -> 400, missing
data source or volume group -> 404, before any task exists), then the task
creates the bytes (:func:`build`) and removes them again if anything later
fails, so a failed create leaves no orphaned disk behind.
"""

from nutanix_openstack.emulator import compute_shapes as shapes
from nutanix_openstack.emulator import errors
from nutanix_openstack.emulator import volumes_attach
from nutanix_openstack.emulator import volumes_sources as sources


def plan(backend, vm, disk_bodies, used):
    """Validate ``disk_bodies`` for ``vm``; returns plans for :func:`build`.

    ``used`` is the set of taken (bus, index) addresses; it is updated.
    """
    state = backend.state
    plans = []
    for body in disk_bodies:
        p = shapes.parse_disk(body)
        bus, index = p['address']
        p['index'] = shapes.assign_address(used, bus, index)
        p['bus'] = bus
        p['extId'] = shapes.new_ext_id()
        if p['backing'] == 'volume_group':
            vg = state.get(sources.KIND_VG, p['vgExtId'])
            if vg is None:
                raise sources.vg_not_found(p['vgExtId'])
            if bus != 'SCSI':
                raise errors.BadRequest("A volume group attaches on the SCSI "
                                        "bus only.")
            volumes_attach.check_attachable(vg, vm['extId'])
        else:
            p['containerExtId'] = sources.container_ext_id(
                state, backend.inventory, p['containerExtId'])
            if p['source']:
                p['sourceId'], src_size = sources.resolve_source(
                    backend, p['source'])
                p['sizeBytes'] = sources.check_size(p['sizeBytes'],
                                                    src_size)
        plans.append(p)
    return plans


def _data_source_json(p):
    src = p['body']['backingInfo'].get('dataSource')
    if not src:
        return None
    out = dict(src)
    out.setdefault('$objectType', shapes.NS + 'DataSource')
    ref = dict(out['reference'])
    if not ref.get('$objectType'):
        ref['$objectType'] = shapes.SOURCE_TYPES.get(p['source']['kind'])
    if p['source']['kind'] == 'vm_disk':
        ref['diskExtId'] = p['source']['extId']
    out['reference'] = ref
    return out


def build(backend, vm, plans):
    """Create the bytes of the VM-disk plans, append their JSON to the VM.

    Returns the storage ids created (for cleanup).  Volume-group plans are
    attached later by :func:`attach_groups`, once the VM is stored.
    """
    created = []
    try:
        for p in plans:
            if p['backing'] != 'vm_disk':
                continue
            sources.materialize(backend.disks, p['extId'], p['sizeBytes'],
                                p.get('sourceId'))
            created.append(p['extId'])
            storage_config = p['body']['backingInfo'].get('storageConfig')
            vm['disks'].append(shapes.vm_disk_json(
                p['extId'], p['bus'], p['index'],
                backend.disks.size(p['extId']), p['containerExtId'],
                _data_source_json(p), storage_config))
    except Exception:
        sources.delete_bytes(backend.disks, created)
        raise
    return created


def attach_groups(backend, vm_ext_id, plans):
    for p in plans:
        if p['backing'] == 'volume_group':
            volumes_attach.attach(backend.state, p['vgExtId'], vm_ext_id,
                                  p['index'], p['extId'])


def find_disk(vm, disk_ext_id):
    for disk in vm.get('disks') or []:
        if disk.get('extId') == disk_ext_id:
            return disk
    raise errors.NotFound("VM %s has no disk %s." % (vm['extId'],
                                                     disk_ext_id),
                          code='VMM-30101', error_group='VM_DISK_NOT_FOUND')


def plan_cdroms(backend, vm):
    """Check the media of the VM's new CD-ROMs (an image, usually).

    Like AHV, a CD-ROM with a medium gets its own copy-on-write disk of
    it, stored under the CD-ROM's extId.  Returns plans for
    :func:`build_cdroms`.
    """
    plans = []
    for cdrom in vm.get('cdRoms') or []:
        backing = cdrom.get('backingInfo')
        if not isinstance(backing, dict) or not backing.get('dataSource'):
            continue
        source = shapes.parse_data_source(backing['dataSource'])
        source_id, size = sources.resolve_source(backend, source)
        container = sources.container_ext_id(
            backend.state, backend.inventory,
            (backing.get('storageContainer') or {}).get('extId'))
        plans.append({'cdrom': cdrom, 'sourceId': source_id, 'size': size,
                      'container': container})
    return plans


def build_cdroms(backend, plans):
    """Clone the planned media; returns the storage ids made."""
    created = []
    try:
        for p in plans:
            cdrom = p['cdrom']
            sources.materialize(backend.disks, cdrom['extId'], None,
                                p['sourceId'])
            created.append(cdrom['extId'])
            backing = cdrom['backingInfo']
            backing.update({
                '$objectType': shapes.VM_DISK_TYPE,
                'diskExtId': cdrom['extId'],
                'diskSizeBytes': backend.disks.size(cdrom['extId']),
                'storageContainer': {
                    '$objectType': shapes.NS + 'VmDiskContainerReference',
                    'extId': p['container']}})
            backing['dataSource'].setdefault('$objectType',
                                             shapes.NS + 'DataSource')
    except Exception:
        sources.delete_bytes(backend.disks, created)
        raise
    return created


def owned_storage_ids(vm):
    """Storage ids the VM owns: its VM disks and its CD-ROM media."""
    ids = [d['extId'] for d in vm.get('disks') or [] if shapes.is_vm_disk(d)]
    ids += [c['extId'] for c in vm.get('cdRoms') or []
            if (c.get('backingInfo') or {}).get('diskExtId')]
    return ids
