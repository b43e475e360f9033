"""Rescue: boot the VM from a clone of a rescue image, its disks attached.

The rescue disk is a copy-on-write clone of the rescue image on the SATA
bus (so it never collides with the SCSI root, ephemeral, swap or volume
disks) and the VM's boot device points at it; the instance's own root disk
stays attached for repair.  Unrescue deletes the rescue disk and boots from
the root disk again.
"""

from oslo_log import log as logging

from nova import exception

from nutanix_openstack.nova import utils
from nutanix_openstack.prism import formats
from nutanix_openstack.prism import vms as prism_vms

LOG = logging.getLogger(__name__)

RESCUE_BUS, RESCUE_INDEX = 'SATA', 0


def rescue_disk(vm):
    for disk in vm.get('disks') or ():
        if utils.disk_address(disk) == (RESCUE_BUS, RESCUE_INDEX):
            return disk
    return None


class RescueOps(object):

    def __init__(self, client, container_ext_id, image_cache, vmops):
        self._client = client
        self._container_ext_id = container_ext_id
        self._image_cache = image_cache
        self._vmops = vmops

    def rescue(self, context, instance, image_meta, rescue_password):
        """Clone the rescue image as a SATA disk and boot from it.

        Backend calls: vms.power_off, the image cache (see imagecache),
        vms.add_disk, vms.update (bootConfig), vms.power_on.
        """
        vm = self._vmops.get_vm(instance)
        if rescue_disk(vm) is not None:
            raise exception.InstanceNotRescuable(
                instance_id=instance.uuid, reason='already rescued')
        image_id = image_meta.id if 'id' in image_meta else None
        image_id = image_id or instance.image_ref
        disk_format = (image_meta.disk_format
                       if 'disk_format' in image_meta else None)
        if not image_id or disk_format == formats.ISO_DISK_FORMAT:
            raise exception.InstanceNotRescuable(
                instance_id=instance.uuid,
                reason='a disk image is needed to rescue from')
        if rescue_password:
            LOG.warning('The rescue password is not applied: the rescue '
                        'image boots with its own credentials',
                        instance=instance)
        if vm.get('powerState') == 'ON':
            self._client.vms.power_off(vm['extId'])
        image_ext_id, _kind = self._image_cache.image_for_boot(
            context, image_id, disk_format)
        spec = prism_vms.disk_from_image(
            image_ext_id, container_ext_id=self._container_ext_id,
            bus_type=RESCUE_BUS, index=RESCUE_INDEX)
        disk = self._client.vms.add_disk(vm['extId'], spec)
        try:
            self._client.vms.update(
                vm['extId'],
                bootConfig=prism_vms.boot_from_disk(RESCUE_BUS, RESCUE_INDEX))
            self._client.vms.power_on(vm['extId'])
        except Exception:
            with utils.ignore_backend_errors('removing rescue disk'):
                self._client.vms.delete_disk(vm['extId'], disk['extId'])
            raise

    def unrescue(self, instance):
        """Delete the rescue disk, boot from the root disk again.

        Backend calls: vms.power_off, vms.update (bootConfig),
        vms.delete_disk, vms.power_on.
        """
        vm = self._vmops.get_vm(instance)
        disk = rescue_disk(vm)
        if vm.get('powerState') == 'ON':
            self._client.vms.power_off(vm['extId'])
        self._client.vms.update(
            vm['extId'],
            bootConfig=prism_vms.boot_from_disk(utils.ROOT_BUS,
                                                utils.ROOT_INDEX))
        if disk is not None:
            self._client.vms.delete_disk(vm['extId'], disk['extId'])
        self._client.vms.power_on(vm['extId'])
