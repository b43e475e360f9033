"""``/api/vmm/v4.x/ahv/config/vms`` and the v4 ``Disk`` spec builders.

A VM disk's ``backingInfo`` is a ``VmDisk`` whose ``dataSource.reference``
is one of the references the v4 SDK's ``DataSource`` defines:
``ImageReference``, ``VmDiskReference``, ``VolumeDiskReference``,
``VmDiskRecoveryPointReference``, ``VolumeDiskRecoveryPointReference``
and ``ExternalDataSourceDiskReference``; or an
``ADSFVolumeGroupReference`` for a volume group attached as a disk.
"""

import logging

from nutanix_openstack.prism import ambiguous
from nutanix_openstack.prism import disks as disks_mod
from nutanix_openstack.prism import entities
from nutanix_openstack.prism import nics as nics_mod
from nutanix_openstack.prism import paths

LOG = logging.getLogger(__name__)

NS = 'vmm.v4.ahv.config.'


def _obj(kind, **fields):
    body = {'$objectType': NS + kind}
    body.update((k, v) for k, v in fields.items() if v is not None)
    return body


def _disk_address(bus_type, index):
    if bus_type is None and index is None:
        return None
    return _obj('DiskAddress', busType=bus_type, index=index)


def _vm_disk(reference=None, size_bytes=None, container_ext_id=None):
    return _obj(
        'VmDisk',
        diskSizeBytes=size_bytes,
        storageContainer=(_obj('VmDiskContainerReference',
                               extId=container_ext_id)
                          if container_ext_id else None),
        dataSource=(_obj('DataSource', reference=reference)
                    if reference is not None else None))


def _disk(backing, bus_type, index):
    return _obj('Disk', diskAddress=_disk_address(bus_type, index),
                backingInfo=backing)


def disk_from_image(image_ext_id, size_bytes=None, container_ext_id=None,
                    bus_type='SCSI', index=None, cluster_ext_id=None):
    """A disk cloned (copy-on-write) from an image."""
    ref = _obj('ImageReference', imageExtId=image_ext_id,
               storageCluster=(_obj('ClusterReference', extId=cluster_ext_id)
                               if cluster_ext_id else None))
    return _disk(_vm_disk(ref, size_bytes, container_ext_id), bus_type, index)


def disk_from_vm_disk(vm_ext_id, disk_ext_id, size_bytes=None,
                      container_ext_id=None, bus_type='SCSI', index=None):
    """A disk cloned from another VM's disk."""
    ref = _obj('VmDiskReference', diskExtId=disk_ext_id,
               vmReference=_obj('VmReference', extId=vm_ext_id))
    return _disk(_vm_disk(ref, size_bytes, container_ext_id), bus_type, index)


def disk_from_volume_disk(volume_group_ext_id, disk_ext_id, size_bytes=None,
                          container_ext_id=None, bus_type='SCSI',
                          index=None):
    """A disk cloned from a volume group's disk."""
    ref = _obj('VolumeDiskReference', diskExtId=disk_ext_id,
               volumeGroupExtId=volume_group_ext_id)
    return _disk(_vm_disk(ref, size_bytes, container_ext_id), bus_type, index)


def disk_from_disk_recovery_point(disk_recovery_point_ext_id,
                                  vm_recovery_point_ext_id=None,
                                  volume_group_recovery_point_ext_id=None,
                                  size_bytes=None, container_ext_id=None,
                                  bus_type='SCSI', index=None):
    """A disk restored from a disk recovery point.

    A disk restored from a disk recovery point of a VM recovery point
    (``VmDiskRecoveryPointReference``) or of a volume group recovery point
    (``VolumeDiskRecoveryPointReference``): give exactly one parent.
    """
    if bool(vm_recovery_point_ext_id) == bool(
            volume_group_recovery_point_ext_id):
        raise ValueError('give exactly one of vm_recovery_point_ext_id and '
                         'volume_group_recovery_point_ext_id')
    if vm_recovery_point_ext_id:
        ref = _obj('VmDiskRecoveryPointReference',
                   diskRecoveryPointExtId=disk_recovery_point_ext_id,
                   vmRecoveryPointExtId=vm_recovery_point_ext_id)
    else:
        ref = _obj('VolumeDiskRecoveryPointReference',
                   diskRecoveryPointExtId=disk_recovery_point_ext_id,
                   volumeGroupRecoveryPointExtId=(
                       volume_group_recovery_point_ext_id))
    return _disk(_vm_disk(ref, size_bytes, container_ext_id), bus_type, index)


def disk_from_external_data_source(repository_ext_id, relative_path,
                                   size_bytes=None, container_ext_id=None,
                                   background_hydration=None,
                                   bus_type='SCSI', index=None):
    """A disk hydrated from an external repository.

    A disk hydrated from an external repository
    (``ExternalDataSourceDiskReference``).
    """
    ref = _obj('ExternalDataSourceDiskReference',
               externalRepositoryExtId=repository_ext_id,
               externalDiskRelativePath=relative_path,
               shouldEnableBackgroundHydration=background_hydration)
    return _disk(_vm_disk(ref, size_bytes, container_ext_id), bus_type, index)


def empty_disk(size_bytes, container_ext_id=None, bus_type='SCSI',
               index=None):
    """A new empty (thin) disk."""
    return _disk(_vm_disk(None, size_bytes, container_ext_id), bus_type,
                 index)


def volume_group_disk(volume_group_ext_id, bus_type='SCSI', index=None):
    """A volume group attached to the VM as its disks."""
    return _disk(_obj('ADSFVolumeGroupReference',
                      volumeGroupExtId=volume_group_ext_id),
                 bus_type, index)


def cd_rom_from_image(image_ext_id, bus_type='IDE', index=None):
    """A CD-ROM whose medium is an image (ISO, config drive)."""
    ref = _obj('ImageReference', imageExtId=image_ext_id)
    return _obj('CdRom',
                diskAddress=(_obj('CdRomAddress', busType=bus_type,
                                  index=index)),
                backingInfo=_vm_disk(ref))


def boot_from_disk(bus_type, index):
    """``LegacyBoot`` from the disk at ``bus_type``/``index`` first."""
    return _obj('LegacyBoot',
                bootDevice=_obj('BootDeviceDisk',
                                diskAddress=_disk_address(bus_type, index)),
                bootOrder=['DISK', 'CDROM', 'NETWORK'])


def boot_from_cd_rom():
    """``LegacyBoot`` trying the CD-ROM first (a VM booting an ISO)."""
    return _obj('LegacyBoot', bootOrder=['CDROM', 'DISK', 'NETWORK'])


def cloud_init(metadata_b64, user_data_b64=None,
               datasource_type='CONFIG_DRIVE_V2'):
    """``guestCustomization`` handing cloud-init its meta and user data.

    Both are base64, as the v4 API wants them.
    """
    config = _obj('CloudInit', datasourceType=datasource_type,
                  metadata=metadata_b64)
    if user_data_b64:
        config['cloudInitScript'] = _obj('Userdata', value=user_data_b64)
    return {'config': config}


def disk_size(disk):
    """``diskSizeBytes`` of a Disk dict (None for a volume group)."""
    return (disk.get('backingInfo') or {}).get('diskSizeBytes')


class VmsAPI(entities.UpdatableEntitiesAPI):
    """``/api/vmm/v4.x/ahv/config/vms``.

    Disk specs are v4 ``Disk`` dicts; build them with the module-level
    helpers in :mod:`nutanix_openstack.prism.vms`: ``disk_from_image``,
    ``disk_from_vm_disk``, ``disk_from_volume_disk``,
    ``disk_from_disk_recovery_point``, ``empty_disk``, ``volume_group_disk``.
    Actions and changes on an existing VM carry ``If-Match`` with the ETag
    of a GET made just before.
    """

    COLLECTION = paths.VMS

    def __init__(self, session, tasks):
        super().__init__(session, tasks)
        self._disks = disks_mod.DiskCollection(
            session, tasks, self._path, paths.REL_VM_DISK, 'VM')
        self._nics = disks_mod.DiskCollection(
            session, tasks, self._path, paths.REL_VM_NIC, 'VM',
            segment='nics')

    def create(self, name, num_sockets=1, num_cores_per_socket=1,
               memory_size_bytes=None, disks=(), cd_roms=(), nics=(),
               guest_customization=None, description=None,
               cluster_ext_id=None, boot_config=None, wait=True,
               **extra_fields):
        """POST vms; waits for the task and returns the VM.

        ``nics`` are :func:`nutanix_openstack.prism.nics.nic_spec` dicts,
        created with the VM in the same task (a MAC or IP already used
        answers Conflict, an unknown subnet NotFound).  ``extra_fields``
        are more v4 ``Vm`` fields (camelCase).
        """
        body = _obj('Vm', name=name, description=description,
                    numSockets=num_sockets,
                    numCoresPerSocket=num_cores_per_socket,
                    memorySizeBytes=memory_size_bytes,
                    disks=list(disks), cdRoms=list(cd_roms),
                    nics=list(nics or ()),
                    guestCustomization=guest_customization,
                    bootConfig=boot_config,
                    cluster=(_obj('ClusterReference', extId=cluster_ext_id)
                             if cluster_ext_id else None))
        body.update(extra_fields)
        outcome = ambiguous.post_create(self._session, paths.VMS, body,
                                        self.find_by_name, name)
        if not wait:
            return outcome.task_reference()
        return self.get(outcome.wait(self._tasks, paths.REL_VM,
                                     self.delete))

    def _action(self, ext_id, action, body=None, wait=True):
        resp = self._session.conditional(
            'POST', self._path(ext_id, '$actions', action),
            etag_path=self._path(ext_id), body=body)
        return self._tasks.run(resp, wait=wait)

    def power_on(self, ext_id, wait=True):
        return self._action(ext_id, 'power-on', wait=wait)

    def power_off(self, ext_id, wait=True):
        """Hard power off."""
        return self._action(ext_id, 'power-off', wait=wait)

    def shutdown(self, ext_id, wait=True):
        """ACPI shutdown (``$actions/shutdown``)."""
        return self._action(ext_id, 'shutdown', wait=wait)

    def reboot(self, ext_id, wait=True):
        """ACPI reboot (``$actions/reboot``)."""
        return self._action(ext_id, 'reboot', wait=wait)

    def reset(self, ext_id, wait=True):
        """Hard reset (``$actions/reset``)."""
        return self._action(ext_id, 'reset', wait=wait)

    def list_disks(self, vm_ext_id):
        return self._disks.list(vm_ext_id)

    def get_disk(self, vm_ext_id, disk_ext_id):
        return self._disks.get(vm_ext_id, disk_ext_id)

    def add_disk(self, vm_ext_id, disk, wait=True):
        """POST ``/vms/{vmExtId}/disks``; returns the new disk dict."""
        return self._disks.add(vm_ext_id, disk, wait=wait)

    def resize_disk(self, vm_ext_id, disk_ext_id, size_bytes, wait=True):
        """GET disk + PUT with If-Match and the new ``diskSizeBytes``."""
        def mutate(disk):
            backing = dict(disk.get('backingInfo') or {})
            current = backing.get('diskSizeBytes')
            if current is not None and size_bytes < current:
                raise ValueError('cannot shrink disk %s from %d to %d bytes'
                                 % (disk_ext_id, current, size_bytes))
            backing['diskSizeBytes'] = int(size_bytes)
            # The data source only matters at creation.
            backing.pop('dataSource', None)
            disk['backingInfo'] = backing
            return disk
        return self._disks.update(vm_ext_id, disk_ext_id, mutate, wait=wait)

    def delete_disk(self, vm_ext_id, disk_ext_id, wait=True):
        return self._disks.delete(vm_ext_id, disk_ext_id, wait=wait)

    # -- NICs (JSON from nutanix_openstack.prism.nics) --------------------

    def list_nics(self, vm_ext_id):
        return self._nics.list(vm_ext_id)

    def get_nic(self, vm_ext_id, nic_ext_id):
        return self._nics.get(vm_ext_id, nic_ext_id)

    def add_nic(self, vm_ext_id, nic, wait=True):
        """POST ``/vms/{vmExtId}/nics``; returns the new NIC dict.

        ``nic`` is a :func:`~nutanix_openstack.prism.nics.nic_spec`.  A
        MAC or IP already in use raises Conflict, an unknown subnet
        NotFound, an address outside the subnet BadRequest.
        """
        return self._nics.add(vm_ext_id, nic, wait=wait)

    def update_nic(self, vm_ext_id, nic_ext_id, nic, wait=True):
        """PUT the NIC (If-Match with the VM's ETag); returns it after."""
        def mutate(current):
            body = dict(nic)
            body['extId'] = nic_ext_id
            return body
        return self._nics.update(vm_ext_id, nic_ext_id, mutate, wait=wait)

    def delete_nic(self, vm_ext_id, nic_ext_id, wait=True):
        """DELETE the NIC (its MAC and IP are freed); NotFound if gone."""
        return self._nics.delete(vm_ext_id, nic_ext_id, wait=wait)

    def find_nic_by_mac(self, mac_address):
        """``(vm extId, NIC dict)`` of the NIC with that MAC, or None.

        Looks at every VM of the cluster (the VM list carries the NICs).
        """
        mac = (mac_address or '').lower()
        for vm in self.list():
            for nic in vm.get('nics') or []:
                if nics_mod.nic_mac(nic) == mac:
                    return vm.get('extId'), nic
        return None

    def migrate_to_host(self, ext_id, host_ext_id, wait=True):
        body = _obj('VmMigrateToHostParams',
                    host=_obj('HostReference', extId=host_ext_id))
        return self._action(ext_id, 'migrate-to-host', body=body, wait=wait)

    def console_token(self, ext_id):
        """``$actions/generate-console-token``: returns the token dict.

        v4.3 answers with a task whose ``completionDetails`` carry the
        token; older servers answer with the token itself.
        """
        resp = self._session.conditional(
            'POST', self._path(ext_id, '$actions', 'generate-console-token'),
            etag_path=self._path(ext_id))
        data = resp.get('data') if isinstance(resp, dict) else None
        if isinstance(data, dict) and (
                data.get('$objectType') == 'prism.v4.config.TaskReference'):
            task = self._tasks.run(resp)
            return dict((kv.get('name'), kv.get('value'))
                        for kv in task.get('completionDetails') or [])
        return data
