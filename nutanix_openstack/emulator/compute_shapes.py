"""JSON shapes of emulated AHV VMs (``vmm.v4.ahv.config``) and parsing of
the request bodies that create or change them.

The emulator stores a VM as its v4 JSON (camelCase, ``$objectType`` kept)
so that a GET returns what the official SDK models expect.  Functions here
are pure: they never touch storage or the database, they raise
:class:`BadRequest` for a body the real API would refuse with 400.
"""

import copy
import uuid

from nutanix_openstack.emulator import errors
from nutanix_openstack.emulator import input_limits

NS = 'vmm.v4.ahv.config.'
VM_TYPE = NS + 'Vm'
DISK_TYPE = NS + 'Disk'
VM_DISK_TYPE = NS + 'VmDisk'
VG_BACKING_TYPE = NS + 'ADSFVolumeGroupReference'
DISK_BUSES = ('SCSI', 'IDE', 'PCI', 'SATA', 'SPAPR')
CDROM_BUSES = ('IDE', 'SATA')

# The data-source references that VmDisk.dataSource.reference may hold
# (OneOfDataSourcereference in the SDK), by $objectType suffix.
SOURCE_KINDS = {
    'ImageReference': 'image',
    'VmDiskReference': 'vm_disk',
    'VolumeDiskReference': 'volume_disk',
    'VmDiskRecoveryPointReference': 'disk_recovery_point',
    'VolumeDiskRecoveryPointReference': 'disk_recovery_point',
    'ExternalDataSourceDiskReference': 'external',
}
SOURCE_TYPES = dict((v, NS + k) for k, v in SOURCE_KINDS.items()
                    if k not in ('VolumeDiskRecoveryPointReference',))


class BadRequest(errors.BadRequest):
    """The body is malformed in a way the real API rejects with 400."""

    def __init__(self, message, argument=None):
        super(BadRequest, self).__init__(message)
        self.argument = argument


def new_ext_id():
    return str(uuid.uuid4())


def _type_suffix(obj):
    return (obj.get('$objectType') or '').rsplit('.', 1)[-1]


def _require_int(body, key, minimum=1, required=False, default=None,
                 maximum=input_limits.MAX_INT64):
    value = body.get(key, default)
    if value is None:
        if required:
            raise BadRequest("'%s' is required" % key, key)
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest("'%s' must be an integer" % key, key)
    if value < minimum:
        raise BadRequest("'%s' must be at least %d" % (key, minimum), key)
    if value > maximum:
        raise BadRequest("'%s' must be at most %d" % (key, maximum), key)
    return value


def ref_ext_id(obj, key):
    ref = obj.get(key)
    if ref is None:
        return None
    if not isinstance(ref, dict) or not ref.get('extId'):
        raise BadRequest("'%s' must be a reference with an extId" % key, key)
    return ref['extId']


# ---------------------------------------------------------------- sources

def parse_data_source(data_source):
    """VmDisk.dataSource -> ``{'kind', 'extId', ...}`` or None.

    ``kind`` is image, vm_disk, volume_disk or disk_recovery_point: the
    storage id of each is its own extId, so the disk's bytes are a clone
    of that id.  A VM disk may also be named by its VM and disk address.
    """
    if not data_source:
        return None
    ref = data_source.get('reference') if isinstance(data_source,
                                                     dict) else None
    if not isinstance(ref, dict):
        raise BadRequest("dataSource.reference is required",
                         'dataSource.reference')
    kind = SOURCE_KINDS.get(_type_suffix(ref))
    if kind is None:
        # Bodies written by hand may omit $objectType: infer from fields.
        if 'imageExtId' in ref:
            kind = 'image'
        elif 'diskRecoveryPointExtId' in ref:
            kind = 'disk_recovery_point'
        elif 'volumeGroupExtId' in ref:
            kind = 'volume_disk'
        elif 'diskExtId' in ref or 'vmReference' in ref:
            kind = 'vm_disk'
        else:
            raise BadRequest("Unknown data source reference",
                             'dataSource.reference')
    if kind == 'external':
        raise BadRequest("External data sources are not supported",
                         'dataSource.reference')
    if kind == 'image':
        ext_id = ref.get('imageExtId')
    elif kind == 'disk_recovery_point':
        ext_id = ref.get('diskRecoveryPointExtId')
    else:
        ext_id = ref.get('diskExtId')
    result = {'kind': kind, 'extId': ext_id}
    if kind == 'vm_disk' and not ext_id:
        vm_ext_id = ref_ext_id(ref, 'vmReference')
        address = ref.get('diskAddress') or {}
        if not vm_ext_id or 'index' not in address:
            raise BadRequest("A VM disk reference needs diskExtId or "
                             "vmReference and diskAddress",
                             'dataSource.reference')
        result.update(vmExtId=vm_ext_id,
                      busType=address.get('busType', 'SCSI'),
                      index=address['index'])
    elif not ext_id:
        raise BadRequest("The data source reference has no extId",
                         'dataSource.reference')
    return result


def data_source_json(kind, ext_id, **extra):
    """A VmDisk.dataSource naming ``ext_id`` (for restored VMs)."""
    ref = {'$objectType': SOURCE_TYPES[kind]}
    if kind == 'image':
        ref['imageExtId'] = ext_id
    elif kind == 'disk_recovery_point':
        ref['diskRecoveryPointExtId'] = ext_id
        ref['vmRecoveryPointExtId'] = extra.get('vmRecoveryPointExtId')
    else:
        ref['diskExtId'] = ext_id
        ref.update(extra)
    return {'$objectType': NS + 'DataSource', 'reference': ref}


# ------------------------------------------------------------------ disks

def parse_disk(disk, default_container=None):
    """A ``Disk`` request body -> a plan dict.

    Returns ``{'address': (bus, index|None), 'backing': 'vm_disk' or
    'volume_group', 'sizeBytes', 'containerExtId', 'source', 'vgExtId',
    'body'}``; storage work is left to the caller.
    """
    if not isinstance(disk, dict):
        raise BadRequest("A disk must be an object", 'disks')
    address = disk.get('diskAddress') or {}
    bus = address.get('busType', 'SCSI')
    if bus not in DISK_BUSES:
        raise BadRequest("Unknown disk bus type %s" % bus,
                         'diskAddress.busType')
    index = address.get('index')
    if index is not None and (isinstance(index, bool)
                              or not isinstance(index, int) or index < 0):
        raise BadRequest("diskAddress.index must be a non-negative integer",
                         'diskAddress.index')
    backing = disk.get('backingInfo')
    if not isinstance(backing, dict):
        raise BadRequest("backingInfo is required", 'backingInfo')
    plan = {'address': (bus, index), 'body': disk}
    suffix = _type_suffix(backing)
    if suffix == 'ADSFVolumeGroupReference' or (
            not suffix and 'volumeGroupExtId' in backing):
        if not backing.get('volumeGroupExtId'):
            raise BadRequest("backingInfo.volumeGroupExtId is required",
                             'backingInfo.volumeGroupExtId')
        plan.update(backing='volume_group',
                    vgExtId=backing['volumeGroupExtId'])
        return plan
    if suffix and suffix != 'VmDisk':
        raise BadRequest("Unsupported disk backing %s" % suffix,
                         'backingInfo')
    source = parse_data_source(backing.get('dataSource'))
    size = _require_int(backing, 'diskSizeBytes', minimum=1,
                        required=source is None,
                        maximum=input_limits.MAX_DISK_SIZE_BYTES)
    container = (ref_ext_id(backing, 'storageContainer')
                 or default_container)
    plan.update(backing='vm_disk', sizeBytes=size, containerExtId=container,
                source=source)
    return plan


def assign_address(used, bus, index):
    """Pick (or check) a free index on ``bus``.

    ``used`` is the set of (bus, index) pairs the VM's disks and CD-ROMs
    already take; the chosen pair is added to it.
    """
    if index is None:
        index = 0
        while (bus, index) in used:
            index += 1
    elif (bus, index) in used:
        raise BadRequest("Disk address %s.%d is already in use"
                         % (bus, index), 'diskAddress')
    used.add((bus, index))
    return index


def vm_disk_json(ext_id, bus, index, size_bytes, container_ext_id,
                 data_source=None, storage_config=None):
    backing = {
        '$objectType': VM_DISK_TYPE,
        'diskExtId': ext_id,
        'diskSizeBytes': size_bytes,
        'storageContainer': {'$objectType': NS + 'VmDiskContainerReference',
                             'extId': container_ext_id},
        'isMigrationInProgress': False,
    }
    if data_source:
        backing['dataSource'] = data_source
    if storage_config:
        backing['storageConfig'] = storage_config
    return {
        '$objectType': DISK_TYPE,
        'extId': ext_id,
        'diskAddress': address_json(bus, index),
        'backingInfo': backing,
    }


def vg_disk_json(ext_id, bus, index, vg_ext_id):
    """A VM Disk whose backing is a directly attached volume group."""
    return {
        '$objectType': DISK_TYPE,
        'extId': ext_id,
        'diskAddress': address_json(bus, index),
        'backingInfo': {'$objectType': VG_BACKING_TYPE,
                        'volumeGroupExtId': vg_ext_id},
    }


def address_json(bus, index):
    return {'$objectType': NS + 'DiskAddress', 'busType': bus,
            'index': index}


def is_vm_disk(disk):
    return _type_suffix(disk.get('backingInfo') or {}) == 'VmDisk'


def is_vg_disk(disk):
    return _type_suffix(disk.get('backingInfo') or {}) == \
        'ADSFVolumeGroupReference'


def used_addresses(vm):
    used = set()
    for dev in (vm.get('disks') or []) + (vm.get('cdRoms') or []):
        addr = dev.get('diskAddress') or {}
        used.add((addr.get('busType'), addr.get('index')))
    return used


# -------------------------------------------------------------------- VMs

def _cdrom_json(cdrom, used):
    if not isinstance(cdrom, dict):
        raise BadRequest("A CD-ROM must be an object", 'cdRoms')
    cdrom = copy.deepcopy(cdrom)
    address = cdrom.get('diskAddress') or {}
    bus = address.get('busType', 'IDE')
    if bus not in CDROM_BUSES:
        raise BadRequest("Unknown CD-ROM bus type %s" % bus,
                         'cdRoms.diskAddress.busType')
    index = assign_address(used, bus, address.get('index'))
    cdrom['$objectType'] = NS + 'CdRom'
    cdrom['extId'] = new_ext_id()
    cdrom['diskAddress'] = {'$objectType': NS + 'CdRomAddress',
                            'busType': bus, 'index': index}
    return cdrom


DEFAULT_BOOT = {'$objectType': NS + 'LegacyBoot',
                'bootOrder': ['CDROM', 'DISK', 'NETWORK']}

# Fields a PUT may change; the rest is owned by sub-resources or actions.
UPDATABLE = ('name', 'description', 'numSockets', 'numCoresPerSocket',
             'numThreadsPerCore', 'memorySizeBytes', 'bootConfig',
             'guestCustomization', 'hardwareClockTimezone', 'machineType',
             'isVcpuHardPinningEnabled', 'isMemoryOvercommitEnabled',
             'isCpuPassthroughEnabled', 'isVgaConsoleEnabled',
             'isGpuConsoleEnabled', 'isBrandingEnabled', 'categories',
             'isAgentVm', 'isScsiControllerEnabled', 'vtpmConfig',
             'apcConfig', 'isCpuHotplugEnabled')


def validate_vm_fields(body, creating):
    name = body.get('name')
    if creating and (not isinstance(name, str) or not name.strip()):
        raise BadRequest("'name' is required", 'name')
    if name is not None and (not isinstance(name, str) or len(name) > 80):
        raise BadRequest("'name' must be a string of at most 80 "
                         "characters", 'name')
    input_limits.check_name(name, max_length=80, required=False)
    for key in ('numSockets', 'numCoresPerSocket', 'numThreadsPerCore'):
        _require_int(body, key, minimum=1)
    _require_int(body, 'memorySizeBytes', minimum=1024 * 1024)
    for key in ('disks', 'cdRoms', 'nics'):
        if body.get(key) is not None and not isinstance(body[key], list):
            raise BadRequest("'%s' must be a list" % key, key)


def new_vm(body, ext_id, cluster_ext_id, now):
    """The stored VM (without disks, added by the caller after cloning)."""
    validate_vm_fields(body, creating=True)
    used = set()
    vm = {
        '$objectType': VM_TYPE,
        'extId': ext_id,
        'name': body['name'],
        'description': body.get('description') or '',
        'createTime': now,
        'updateTime': now,
        'numSockets': body.get('numSockets') or 1,
        'numCoresPerSocket': body.get('numCoresPerSocket') or 1,
        'numThreadsPerCore': body.get('numThreadsPerCore') or 1,
        'numNumaNodes': body.get('numNumaNodes') or 0,
        'memorySizeBytes': body.get('memorySizeBytes') or 4 * 1024 ** 3,
        'isVcpuHardPinningEnabled': False,
        'isCpuPassthroughEnabled': False,
        'isMemoryOvercommitEnabled': False,
        'isGpuConsoleEnabled': False,
        'isCpuHotplugEnabled': True,
        'isScsiControllerEnabled': True,
        'isVgaConsoleEnabled': True,
        'isBrandingEnabled': True,
        'isAgentVm': False,
        'isLiveMigrateCapable': True,
        'isCrossClusterMigrationInProgress': False,
        'generationUuid': new_ext_id(),
        'biosUuid': new_ext_id(),
        'hardwareClockTimezone': body.get('hardwareClockTimezone') or 'UTC',
        'machineType': body.get('machineType') or 'PC',
        'powerState': 'OFF',
        'cluster': {'$objectType': NS + 'ClusterReference',
                    'extId': cluster_ext_id},
        'bootConfig': copy.deepcopy(body.get('bootConfig') or DEFAULT_BOOT),
        'protectionType': 'UNPROTECTED',
        'disks': [],
        # Filled by the caller (compute_nics) once MACs and IPs are checked.
        'nics': [],
        'cdRoms': [],
        'gpus': [],
        'serialPorts': [],
        'pcieDevices': [],
        'categories': copy.deepcopy(body.get('categories') or []),
    }
    # cloud-init userData/metadata are kept exactly as sent: the guest (and
    # the Nova driver's tests) read them back unchanged.
    if body.get('guestCustomization') is not None:
        vm['guestCustomization'] = copy.deepcopy(body['guestCustomization'])
    for cdrom in body.get('cdRoms') or []:
        vm['cdRoms'].append(_cdrom_json(cdrom, used))
    return vm, used


def apply_update(vm, body, now):
    """Apply a PUT body's changeable fields to ``vm`` (in place)."""
    validate_vm_fields(body, creating=False)
    changed = {}
    for key in UPDATABLE:
        if key in body and body[key] != vm.get(key):
            changed[key] = (vm.get(key), body[key])
            vm[key] = copy.deepcopy(body[key])
    vm['updateTime'] = now
    return changed


def vcpus(vm):
    return (int(vm.get('numSockets') or 1)
            * int(vm.get('numCoresPerSocket') or 1)
            * int(vm.get('numThreadsPerCore') or 1))


def render_vm(vm):
    """The VM as a GET returns it."""
    out = copy.deepcopy(vm)
    if not out.get('host'):
        out.pop('host', None)
    return out
