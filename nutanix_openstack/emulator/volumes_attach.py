"""Direct attachments of volume groups to VMs, kept on both sides.

The volume group lists the VM in its ``vm-attachments``; the VM shows the
group as a disk whose ``backingInfo`` is an ``ADSFVolumeGroupReference``
(how the VMM SDK models a directly attached group).  Both records change in
one state transaction.
"""

from nutanix_openstack.emulator import compute_shapes
from nutanix_openstack.emulator import errors
from nutanix_openstack.emulator import volumes_shapes
from nutanix_openstack.emulator import volumes_sources as sources


def check_attachable(vg, vm_ext_id):
    """409 when ``vm_ext_id`` cannot get ``vg``.

    That is when it is already attached there, or when a NOT_SHARED group
    is attached elsewhere.
    """
    vms = [a['extId'] for a in vg['_vmAttachments']]
    if vm_ext_id in vms:
        raise errors.Conflict("Volume group %s is already attached to VM %s."
                              % (vg['extId'], vm_ext_id))
    if vg.get('sharingStatus') == 'NOT_SHARED' and (
            vms or vg['_iscsiAttachments']):
        raise errors.Conflict(
            "Volume group %s is not shared and is already attached."
            % vg['extId'])


def attach(state, vg_ext_id, vm_ext_id, index=None, disk_ext_id=None):
    """Attach the group to the VM; returns the VM's new disk dict."""
    with state.transaction():
        vg = state.get(sources.KIND_VG, vg_ext_id)
        if vg is None:
            raise sources.vg_not_found(vg_ext_id)
        vm = state.get(sources.KIND_VM, vm_ext_id)
        if vm is None:
            raise sources.vm_not_found(vm_ext_id)
        check_attachable(vg, vm_ext_id)
        used = compute_shapes.used_addresses(vm)
        index = compute_shapes.assign_address(used, 'SCSI', index)
        disk = compute_shapes.vg_disk_json(
            disk_ext_id or compute_shapes.new_ext_id(), 'SCSI', index,
            vg_ext_id)
        vm.setdefault('disks', []).append(disk)
        vg['_vmAttachments'].append(
            volumes_shapes.vm_attachment_json(vm_ext_id, index))
        volumes_shapes.refresh_attachment_type(vg)
        state.put(sources.KIND_VM, vm_ext_id, vm)
        state.put(sources.KIND_VG, vg_ext_id, vg)
        return disk


def detach(state, vg_ext_id, vm_ext_id):
    """Remove the attachment from both sides (404 when not attached)."""
    with state.transaction():
        vg = state.get(sources.KIND_VG, vg_ext_id)
        if vg is None:
            raise sources.vg_not_found(vg_ext_id)
        before = len(vg['_vmAttachments'])
        vg['_vmAttachments'] = [a for a in vg['_vmAttachments']
                                if a['extId'] != vm_ext_id]
        if len(vg['_vmAttachments']) == before:
            raise errors.NotFound("Volume group %s is not attached to VM %s."
                                  % (vg_ext_id, vm_ext_id))
        volumes_shapes.refresh_attachment_type(vg)
        state.put(sources.KIND_VG, vg_ext_id, vg)
        vm = state.get(sources.KIND_VM, vm_ext_id)
        if vm is not None:
            vm['disks'] = [d for d in vm.get('disks') or [] if not (
                compute_shapes.is_vg_disk(d) and
                d['backingInfo']['volumeGroupExtId'] == vg_ext_id)]
            state.put(sources.KIND_VM, vm_ext_id, vm)


def forget_vm(state, vm):
    """Drop ``vm`` from the attachments of every group it has.

    On VM delete the groups are detached, never deleted.
    """
    for disk in vm.get('disks') or []:
        if not compute_shapes.is_vg_disk(disk):
            continue
        vg_ext_id = disk['backingInfo']['volumeGroupExtId']
        vg = state.get(sources.KIND_VG, vg_ext_id)
        if vg is None:
            continue
        vg['_vmAttachments'] = [a for a in vg['_vmAttachments']
                                if a['extId'] != vm['extId']]
        volumes_shapes.refresh_attachment_type(vg)
        state.put(sources.KIND_VG, vg_ext_id, vg)
