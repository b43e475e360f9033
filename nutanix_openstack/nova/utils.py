"""Small helpers shared by the ops modules: VM naming and disk layout."""

from oslo_log import log as logging

from nutanix_openstack.prism import exceptions as prism_exc

LOG = logging.getLogger(__name__)

GiB = 1024 ** 3
MiB = 1024 ** 2

# A VM is named by its instance uuid (unique, and what Nova looks VMs up
# by); the description carries the instance name so that list_instances
# can answer with names and an operator sees which instance a VM is.
DESCRIPTION_PREFIX = 'OpenStack Nova instance '

# Disk layout of a VM made by this driver, on the SCSI bus: root disk at
# index 0, ephemeral disks next, swap last.  ISO images are mounted as an
# IDE CD-ROM.
ROOT_BUS, ROOT_INDEX = 'SCSI', 0


def vm_description(instance):
    return DESCRIPTION_PREFIX + instance.name


def instance_name_of(vm):
    """Instance name of a VM made by this driver, or None for other VMs."""
    desc = vm.get('description') or ''
    if desc.startswith(DESCRIPTION_PREFIX):
        return desc[len(DESCRIPTION_PREFIX):]
    return None


def disk_address(disk):
    addr = disk.get('diskAddress') or {}
    return addr.get('busType'), addr.get('index')


def backing_info(disk):
    return disk.get('backingInfo') or {}


def is_volume_group_disk(disk):
    """Tell whether a VM disk is an attached volume group.

    True for the disks through which an attached volume group shows in a VM
    (``ADSFVolumeGroupReference`` backing).
    """
    return 'volumeGroupExtId' in backing_info(disk)


def attached_volume_groups(vm):
    return [backing_info(d)['volumeGroupExtId']
            for d in vm.get('disks') or () if is_volume_group_disk(d)]


def root_disk(vm):
    """The VM's root disk dict (SCSI 0), or None (boot from volume)."""
    for disk in vm.get('disks') or ():
        if (disk_address(disk) == (ROOT_BUS, ROOT_INDEX)
                and not is_volume_group_disk(disk)):
            return disk
    return None


def disk_size(disk):
    return backing_info(disk).get('diskSizeBytes') or 0


class ignore_backend_errors(object):
    """Context manager for best-effort cleanups.

    Log and swallow backend errors of a best-effort cleanup, so that the error
    being handled is the one re-raised.
    """

    def __init__(self, what):
        self.what = what

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc is not None and isinstance(exc, prism_exc.PrismError):
            LOG.warning('Failed %(what)s: %(err)s',
                        {'what': self.what, 'err': exc})
            return True
        return False
