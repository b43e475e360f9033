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
