"""JSON shapes of emulated volume groups, volume disks and iSCSI clients
(``volumes.v4.config``), and parsing of the bodies that change them.

A volume group is stored as its v4 JSON plus private keys starting with
``_`` (its disks, attachments and CHAP secret) that :func:`public` strips:
secrets are write-only in the real API and disks/attachments have their own
sub-resources.  Pure functions; :class:`BadRequest` for bodies the real
API refuses with 400.
"""

import copy

from nutanix_openstack.emulator.compute_shapes import BadRequest
from nutanix_openstack.emulator import input_limits

NS = 'volumes.v4.config.'
VG_TYPE = NS + 'VolumeGroup'
DISK_TYPE = NS + 'VolumeDisk'
ISCSI_CLIENT_TYPE = NS + 'IscsiClient'
IQN_PREFIX = 'iqn.2010-06.com.nutanix:'
SHARING = ('SHARED', 'NOT_SHARED')
AUTH_TYPES = ('CHAP', 'NONE')
USAGE_TYPES = ('USER', 'INTERNAL', 'TEMPORARY', 'BACKUP_TARGET')
# diskDataSourceReference.entityType -> data source kind (see
# compute_shapes.parse_data_source: the storage id is the extId).
SOURCE_ENTITY_TYPES = {
    'IMAGE': 'image',
    'VM_DISK': 'vm_disk',
    'VOLUME_DISK': 'volume_disk',
    'DISK_RECOVERY_POINT': 'disk_recovery_point',
}
UPDATABLE = ('name', 'description', 'shouldLoadBalanceVmAttachments',
             'sharingStatus', 'usageType', 'isHidden', 'storageFeatures',
             'targetPrefix')


def public(body):
    """Drop the private ``_`` keys (recursively) of a stored body."""
    if isinstance(body, dict):
        return dict((k, public(v)) for k, v in body.items()
                    if not k.startswith('_'))
    if isinstance(body, list):
        return [public(v) for v in body]
    return body


def _check_enum(body, key, allowed):
    value = body.get(key)
    if value is not None and value not in allowed:
        raise BadRequest("'%s' must be one of %s" % (key, ', '.join(allowed)),
                         key)


def _check_str(body, key, max_len=256, required=False):
    value = body.get(key)
    if value is None:
        if required:
            raise BadRequest("'%s' is required" % key, key)
        return
    if not isinstance(value, str) or len(value) > max_len:
        raise BadRequest("'%s' must be a string of at most %d characters"
                         % (key, max_len), key)
    if required and not value.strip():
        raise BadRequest("'%s' is required" % key, key)


def check_chap_secret(secret, key):
    # iSCSI CHAP secrets are 12 to 16 characters (RFC 3720 recommends at
    # least 12; AOS enforces 12..16).
    if not isinstance(secret, str) or not 12 <= len(secret) <= 16:
        raise BadRequest("'%s' must be 12 to 16 characters" % key, key)


def validate_vg(body, creating):
    _check_str(body, 'name', required=creating)
    input_limits.check_name(body.get('name'), max_length=256,
                            required=False)
    _check_str(body, 'description', max_len=1000)
    _check_str(body, 'targetPrefix', max_len=128)
    _check_str(body, 'targetName', max_len=128)
    _check_enum(body, 'sharingStatus', SHARING)
    _check_enum(body, 'usageType', USAGE_TYPES)
    _check_enum(body, 'enabledAuthentications', AUTH_TYPES)
    features = body.get('iscsiFeatures') or {}
    if not isinstance(features, dict):
        raise BadRequest("'iscsiFeatures' must be an object", 'iscsiFeatures')
    _check_enum(features, 'enabledAuthentications', AUTH_TYPES)
    auth = (features.get('enabledAuthentications')
            or body.get('enabledAuthentications'))
    # A GET never returns the secret, so an update may omit it and keep
    # the stored one (see apply_update); a create must set it.
    if features.get('targetSecret') is not None or (
            auth == 'CHAP' and creating):
        check_chap_secret(features.get('targetSecret'),
                          'iscsiFeatures.targetSecret')
    if body.get('disks') is not None and not isinstance(body['disks'],
                                                        list):
        raise BadRequest("'disks' must be a list", 'disks')


def new_vg(body, ext_id, cluster_ext_id):
    """The stored volume group for a create body (disks added later)."""
    validate_vg(body, creating=True)
    features = body.get('iscsiFeatures') or {}
    auth = (features.get('enabledAuthentications')
            or body.get('enabledAuthentications') or 'NONE')
    prefix = body.get('targetPrefix')
    # The real cluster derives the target from the prefix (or the name) and
    # the group's uuid, so that two groups never share a target.
    target_name = body.get('targetName') or '%s-%s' % (prefix or body['name'],
                                                       ext_id)
    vg = {
        '$objectType': VG_TYPE,
        'extId': ext_id,
        'name': body['name'],
        'description': body.get('description') or '',
        'shouldLoadBalanceVmAttachments': bool(
            body.get('shouldLoadBalanceVmAttachments', False)),
        'sharingStatus': body.get('sharingStatus') or 'SHARED',
        'targetName': target_name,
        'enabledAuthentications': auth,
        'iscsiFeatures': {'$objectType': NS + 'IscsiFeatures',
                          'enabledAuthentications': auth},
        'createdBy': body.get('createdBy') or 'admin',
        'clusterReference': body.get('clusterReference') or cluster_ext_id,
        'storageFeatures': copy.deepcopy(body.get('storageFeatures') or {
            '$objectType': NS + 'StorageFeatures',
            'flashMode': {'$objectType': NS + 'FlashMode',
                          'isEnabled': False}}),
        'usageType': body.get('usageType') or 'USER',
        'isHidden': bool(body.get('isHidden', False)),
        'protocol': 'NOT_ASSIGNED',
        'attachmentType': 'NONE',
        '_targetSecret': features.get('targetSecret'),
        '_disks': [],
        '_vmAttachments': [],
        '_iscsiAttachments': [],
    }
    if prefix:
        vg['targetPrefix'] = prefix
    return vg


def apply_update(vg, body):
    validate_vg(body, creating=False)
    for key in UPDATABLE:
        if key in body and body[key] is not None:
            vg[key] = copy.deepcopy(body[key])
    features = body.get('iscsiFeatures')
    if isinstance(features, dict) and features.get(
            'enabledAuthentications') == 'CHAP' and not (
            features.get('targetSecret') or vg.get('_targetSecret')):
        raise BadRequest("CHAP needs iscsiFeatures.targetSecret",
                         'iscsiFeatures.targetSecret')
    if isinstance(features, dict) and features.get('enabledAuthentications'):
        vg['enabledAuthentications'] = features['enabledAuthentications']
        vg['iscsiFeatures']['enabledAuthentications'] = \
            features['enabledAuthentications']
        if features.get('targetSecret'):
            vg['_targetSecret'] = features['targetSecret']


def refresh_attachment_type(vg):
    if vg['_vmAttachments']:
        vg['attachmentType'] = 'DIRECT'
    elif vg['_iscsiAttachments']:
        vg['attachmentType'] = 'EXTERNAL'
        vg['protocol'] = 'ISCSI'
    else:
        vg['attachmentType'] = 'NONE'


def target_iqn(vg):
    return IQN_PREFIX + vg['targetName']


def parse_volume_disk(body, default_container=None):
    """A VolumeDisk body -> a plan dict.

    Keys: sizeBytes, containerExtId, source (as in compute_shapes), index,
    description, diskStorageFeatures.
    """
    if not isinstance(body, dict):
        raise BadRequest("A volume disk must be an object", 'disks')
    ref = body.get('diskDataSourceReference')
    source = None
    if ref is not None:
        if not isinstance(ref, dict) or not ref.get('extId'):
            raise BadRequest("diskDataSourceReference needs an extId",
                             'diskDataSourceReference')
        kind = SOURCE_ENTITY_TYPES.get(ref.get('entityType'))
        if kind is None:
            raise BadRequest("diskDataSourceReference.entityType must be one "
                             "of %s" % ', '.join(sorted(SOURCE_ENTITY_TYPES)),
                             'diskDataSourceReference.entityType')
        source = {'kind': kind, 'extId': ref['extId']}
    size = body.get('diskSizeBytes')
    if size is None and source is None:
        raise BadRequest("'diskSizeBytes' is required", 'diskSizeBytes')
    if size is not None and (isinstance(size, bool) or not isinstance(
            size, int) or size < 1):
        raise BadRequest("'diskSizeBytes' must be a positive integer",
                         'diskSizeBytes')
    if size is not None:
        input_limits.check_disk_size(size)
    index = body.get('index')
    if index is not None and (isinstance(index, bool) or not isinstance(
            index, int) or index < 0):
        raise BadRequest("'index' must be a non-negative integer", 'index')
    return {'sizeBytes': size,
            'containerExtId': body.get('storageContainerId')
            or default_container,
            'source': source, 'index': index,
            'description': body.get('description'),
            'diskStorageFeatures': body.get('diskStorageFeatures')}


def next_disk_index(vg, index=None):
    used = set(d['index'] for d in vg['_disks'])
    if index is None:
        index = 0
        while index in used:
            index += 1
    elif index in used:
        raise BadRequest("Disk index %d is already in use in the volume "
                         "group" % index, 'index')
    return index


def volume_disk_json(ext_id, index, size_bytes, container_ext_id,
                     source=None, description=None, storage_features=None):
    disk = {
        '$objectType': DISK_TYPE,
        'extId': ext_id,
        'index': index,
        'diskSizeBytes': size_bytes,
        'storageContainerId': container_ext_id,
        'diskStorageFeatures': copy.deepcopy(storage_features or {
            '$objectType': NS + 'DiskStorageFeatures',
            'flashMode': {'$objectType': NS + 'FlashMode',
                          'isEnabled': False}}),
    }
    if description:
        disk['description'] = description
    if source:
        entity_type = dict((v, k) for k, v in
                           SOURCE_ENTITY_TYPES.items())[source['kind']]
        disk['diskDataSourceReference'] = {
            '$objectType': 'common.v1.config.EntityReference',
            'extId': source['extId'], 'entityType': entity_type}
    return disk


def iscsi_client_json(ext_id, initiator_name, cluster_ext_id, auth='NONE',
                      network_id=None):
    client = {
        '$objectType': ISCSI_CLIENT_TYPE,
        'extId': ext_id,
        'iscsiInitiatorName': initiator_name,
        'enabledAuthentications': auth,
        'attachedTargets': [],
        'clusterReference': cluster_ext_id,
        'attachmentSite': 'PRIMARY',
        '_clientSecret': None,
    }
    if network_id:
        client['iscsiInitiatorNetworkId'] = network_id
    return client


def target_param(vg, num_virtual_targets=32):
    return {'$objectType': NS + 'TargetParam',
            'iscsiTargetName': target_iqn(vg),
            'numVirtualTargets': num_virtual_targets}


def vm_attachment_json(vm_ext_id, index=None):
    att = {'$objectType': NS + 'VmAttachment', 'extId': vm_ext_id}
    if index is not None:
        att['index'] = index
    return att


def iscsi_attachment_json(client_ext_id, cluster_ext_id):
    return {'$objectType': NS + 'IscsiClientAttachment',
            'extId': client_ext_id, 'clusterReference': cluster_ext_id}
