"""Cinder volumes of the nutanix volume driver, attached to VMs directly.

Cinder's nutanix driver answers ``initialize_connection`` with
``driver_volume_type: 'iscsi'`` and the volume group's extId in
``data['volume_group_ext_id']``.  Nova does not log in to iSCSI here: the
volume group is attached to the instance VM inside the cluster
(volume_groups.attach_vm), as AHV does for its own VMs.
"""

from oslo_log import log as logging

from nova import exception

from nutanix_openstack.prism import exceptions as prism_exc
from nutanix_openstack.prism import volume_groups as prism_vg

LOG = logging.getLogger(__name__)

VOLUME_TYPE = prism_vg.ATTACH_VOLUME_TYPE
VG_KEY = prism_vg.ATTACH_VOLUME_GROUP
INITIATOR_FILE = '/etc/iscsi/initiatorname.iscsi'


def host_initiator(path=INITIATOR_FILE):
    """The compute host's iSCSI initiator name (open-iscsi), or None.

    Cinder's nutanix driver exports a volume to the connector's initiator
    before handing over the volume group; nothing on this host logs in
    (the group is attached to the VM inside the cluster), but the export
    needs a real initiator name: never a made-up one, which would grant
    iSCSI access to whoever claims it.
    """
    try:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line.startswith('InitiatorName='):
                    return line.split('=', 1)[1].strip() or None
    except OSError as e:
        LOG.debug('No iSCSI initiator name in %(path)s: %(err)s',
                  {'path': path, 'err': e})
    return None


def volume_group_of(connection_info):
    """The volume group extId of a nutanix volume.

    VolumeDriverNotFound for any other kind of volume (this driver cannot
    attach those).
    """
    vtype = connection_info.get('driver_volume_type')
    vg = (connection_info.get('data') or {}).get(VG_KEY)
    if vtype != VOLUME_TYPE or not vg:
        raise exception.VolumeDriverNotFound(
            driver_type='%s (only volumes of the Cinder nutanix driver, '
                        'which carry %s, can be attached to AHV VMs)'
                        % (vtype, VG_KEY))
    return vg


class VolumeOps(object):

    def __init__(self, client):
        self._client = client

    def _attached_vms(self, vg_ext_id):
        return {a.get('extId') for a in
                self._client.volume_groups.list_vm_attachments(vg_ext_id)}

    def attach(self, connection_info, vm_ext_id, instance):
        """volume_groups.attach_vm (skipped when already attached)."""
        vg = volume_group_of(connection_info)
        if vm_ext_id in self._attached_vms(vg):
            LOG.debug('Volume group %(vg)s already attached',
                      {'vg': vg}, instance=instance)
            return
        self._client.volume_groups.attach_vm(vg, vm_ext_id)
        LOG.info('Attached volume group %(vg)s to VM %(vm)s',
                 {'vg': vg, 'vm': vm_ext_id}, instance=instance)

    def detach(self, connection_info, vm_ext_id, instance):
        """Detach the volume group from the VM (volume_groups.detach_vm).

        A volume group or a VM that is already gone, or no longer attached,
        is not an error.
        """
        vg = volume_group_of(connection_info)
        self.detach_group(vg, vm_ext_id)
        LOG.info('Detached volume group %(vg)s from VM %(vm)s',
                 {'vg': vg, 'vm': vm_ext_id}, instance=instance)

    def detach_group(self, vg_ext_id, vm_ext_id):
        try:
            if vm_ext_id not in self._attached_vms(vg_ext_id):
                return
            self._client.volume_groups.detach_vm(vg_ext_id, vm_ext_id)
        except prism_exc.NotFound:
            LOG.debug('Volume group %(vg)s or VM %(vm)s is gone',
                      {'vg': vg_ext_id, 'vm': vm_ext_id})

    def volume_size(self, connection_info):
        """Return the size in bytes of a volume's disk.

        Size in bytes of the volume's disk (volume_groups.list_disks), as the
        guest sees it: AHV shows a grown volume-group disk to the VM without
        any host-side rescan.
        """
        vg = volume_group_of(connection_info)
        disks = self._client.volume_groups.list_disks(vg)
        return sum(d.get('diskSizeBytes') or 0 for d in disks)
