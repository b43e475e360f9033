"""Disk data sources shared by VMs, volume groups and recovery points.

Every disk the emulator knows (an image's, a VM disk, a volume disk, a disk
recovery point) keeps its bytes in the disk store under its own extId, so
"a disk whose data source is X" is a copy-on-write ``clone(X, new)``.  This
module finds the entity behind a reference (to answer 404 for a missing
one, as the real API does before it accepts the task) and creates the new
disk's bytes.
"""

import threading

import flask

from nutanix_openstack.emulator import errors
from nutanix_openstack.emulator import responses
from nutanix_openstack.emulator.storage import errors as storage_errors

# Disk-changing work of VMs, volume groups and recovery points runs under
# this lock: a recovery point clones all its disks while no other of these
# operations can change them (crash consistency across entities).
LOCK = threading.RLock()

REL_VM = 'vmm:ahv:config:vm'
REL_VM_DISK = 'vmm:ahv:config:vm:disk'
REL_VG = 'volumes:config:volume-group'
REL_VOLUME_DISK = 'volumes:config:volume-group:disk'
REL_ISCSI_CLIENT = 'volumes:config:iscsi-client'
REL_RP = 'dataprotection:config:recovery-point'

KIND_VM = 'vm'
KIND_VG = 'volume_group'
KIND_ISCSI_CLIENT = 'iscsi_client'
KIND_RP = 'recovery_point'
KIND_IMAGE = 'image'


def vm_not_found(ext_id):
    # Code and group as the real VMM service reports them.
    return errors.NotFound(
        "Failed to perform the operation on the VM with UUID '%s', because "
        "it is not found." % ext_id, code='VMM-30100',
        error_group='VM_NOT_FOUND')


def vg_not_found(ext_id):
    return errors.NotFound("Volume group %s not found." % ext_id,
                           code='VOL-40400',
                           error_group='VOLUME_GROUP_NOT_FOUND')


def _candidates(state, kind, key, value):
    """Bodies of ``kind`` holding ``key: value`` somewhere (no full scan)."""
    if not isinstance(value, str) or not value:
        return []
    bodies = (state.get(kind, ext_id)
              for ext_id in state.ext_ids_with_field(kind, key, value))
    return [b for b in bodies if b is not None]


def find_vm_disk(state, disk_ext_id):
    """(vm, disk) holding VM disk ``disk_ext_id``, or (None, None)."""
    for vm in _candidates(state, KIND_VM, 'extId', disk_ext_id):
        for disk in vm.get('disks') or []:
            if disk.get('extId') == disk_ext_id and \
                    'diskSizeBytes' in (disk.get('backingInfo') or {}):
                return vm, disk
    return None, None


def find_vm_disk_by_address(state, vm_ext_id, bus, index):
    vm = state.get(KIND_VM, vm_ext_id)
    if vm is None:
        raise vm_not_found(vm_ext_id)
    for disk in vm.get('disks') or []:
        addr = disk.get('diskAddress') or {}
        if addr.get('busType') == bus and addr.get('index') == index and \
                'diskSizeBytes' in (disk.get('backingInfo') or {}):
            return disk['extId']
    raise errors.NotFound("VM %s has no disk at %s.%s"
                          % (vm_ext_id, bus, index))


def find_volume_disk(state, disk_ext_id):
    """(vg, disk) holding volume disk ``disk_ext_id``, or (None, None)."""
    for vg in _candidates(state, KIND_VG, 'extId', disk_ext_id):
        for disk in vg.get('_disks') or []:
            if disk['extId'] == disk_ext_id:
                return vg, disk
    return None, None


def find_disk_recovery_point(state, drp_ext_id):
    """(recovery point, VM/VG recovery point, disk recovery point)."""
    for rp in _candidates(state, KIND_RP, 'diskRecoveryPointExtId',
                          drp_ext_id):
        for member in (rp.get('vmRecoveryPoints') or []) + \
                (rp.get('volumeGroupRecoveryPoints') or []):
            for drp in member.get('diskRecoveryPoints') or []:
                if drp['diskRecoveryPointExtId'] == drp_ext_id:
                    return rp, member, drp
    return None, None, None


def resolve_source(backend, source):
    """Check that the data source exists; return ``(storage_id, size)``.

    ``source`` is a dict from ``compute_shapes.parse_data_source`` or
    ``volumes_shapes.parse_volume_disk``.  Raises a 404 ApiError when the
    referenced entity (or its bytes) does not exist.
    """
    state = backend.state
    kind, ext_id = source['kind'], source.get('extId')
    if kind == 'vm_disk':
        if not ext_id:
            ext_id = find_vm_disk_by_address(
                state, source['vmExtId'], source['busType'], source['index'])
            source['extId'] = ext_id
        elif find_vm_disk(state, ext_id)[0] is None:
            raise errors.NotFound("VM disk %s not found." % ext_id)
    elif kind == 'volume_disk':
        if find_volume_disk(state, ext_id)[0] is None:
            raise errors.NotFound("Volume disk %s not found." % ext_id)
    elif kind == 'disk_recovery_point':
        if find_disk_recovery_point(state, ext_id)[0] is None:
            raise errors.NotFound("Disk recovery point %s not found."
                                  % ext_id)
    elif kind == 'image':
        # The image service records an image once its import is done (an
        # uploaded one has sizeBytes 0 until its bytes are in): the bytes
        # of an image still importing are not cloneable yet.
        image = state.get(KIND_IMAGE, ext_id)
        if image is None:
            raise errors.NotFound("Image %s not found." % ext_id,
                                  code='VMM-40404',
                                  error_group='IMAGE_NOT_FOUND')
        if not image.get('sizeBytes'):
            raise errors.Conflict("Image %s has no data yet." % ext_id,
                                  code='VMM-40901',
                                  error_group='IMAGE_NOT_READY')
    else:
        raise errors.BadRequest("Unsupported data source %s" % kind)
    if not backend.disks.exists(ext_id):
        # The entity exists but has no bytes yet (an image still being
        # created): the real cluster refuses to clone it too.
        raise errors.Conflict("The data source %s has no data yet." % ext_id)
    return ext_id, backend.disks.size(ext_id)


def check_size(size, source_size, what='disk'):
    """Final size of a disk cloned from a source of ``source_size``."""
    if size is None:
        return source_size
    if source_size is not None and size < source_size:
        raise errors.BadRequest(
            "The %s size %d is smaller than its data source (%d bytes); "
            "a disk can only be as large or larger." % (what, size,
                                                        source_size))
    return size


def materialize(disks, disk_ext_id, size, source_id=None):
    """Create the bytes of a new disk.

    A COW clone of ``source_id`` grown to ``size``, or an empty (all-zero,
    unallocated) disk.
    """
    if source_id:
        try:
            src_size = disks.size(source_id)
            disks.clone(source_id, disk_ext_id,
                        size_bytes=size if size and size > src_size else None)
        except storage_errors.DiskNotFound:
            # Deleted between the request and its (asynchronous) task.
            raise errors.NotFound("The data source %s no longer exists."
                                  % source_id)
    else:
        disks.create(disk_ext_id, size)


def delete_bytes(disks, disk_ext_ids):
    """Delete disks' bytes, ignoring ids already gone (cleanup paths)."""
    for disk_ext_id in disk_ext_ids:
        try:
            if disks.exists(disk_ext_id):
                disks.delete(disk_ext_id)
        except Exception:  # noqa: broad; cleanup must go on
            pass


def container_ext_id(state, inventory, requested):
    """Validate a storage container reference (default: the first)."""
    if not requested:
        return inventory.default_container['ext_id']
    if state.get('storage_container', requested) is None:
        raise errors.NotFound("Storage container %s not found." % requested)
    return requested


def check_if_match_when_sent(etag):
    """412 for a stale ``If-Match`` on actions and deletes.

    The SDKs send it there when given one (and our client always does);
    a request without it is accepted.
    """
    if flask.request.headers.get('If-Match'):
        responses.check_if_match(etag)
