"""iSCSI clients of emulated volume groups.

An iSCSI client entity is created the first time an initiator is attached
to a group (by initiator name), as the real cluster does; it then lists the
targets it may log in to.  The group's target IQN is
``iqn.2010-06.com.nutanix:<targetName>`` and each disk is the LUN numbered
by the disk's index.
"""

import copy

from nutanix_openstack.emulator import compute_shapes
from nutanix_openstack.emulator import errors
from nutanix_openstack.emulator import volumes_shapes as shapes
from nutanix_openstack.emulator import volumes_sources as sources

CLIENT_UPDATABLE = ('iscsiInitiatorName', 'iscsiInitiatorNetworkId',
                    'enabledAuthentications', 'numVirtualTargets')


def client_not_found(ext_id):
    return errors.NotFound("iSCSI client %s not found." % ext_id,
                           code='VOL-40401',
                           error_group='ISCSI_CLIENT_NOT_FOUND')


def find_by_initiator(state, initiator_name):
    for client in state.list(sources.KIND_ISCSI_CLIENT):
        if client['iscsiInitiatorName'] == initiator_name:
            return client
    return None


def resolve_client(state, body, create=False):
    """The client an attach/detach body names: by extId or initiator name.

    Returns ``(client or None, initiator_name)``; with ``create`` an
    unknown initiator name yields ``(None, name)`` for the task to create.
    """
    ext_id = body.get('extId')
    name = body.get('iscsiInitiatorName')
    if ext_id:
        client = state.get(sources.KIND_ISCSI_CLIENT, ext_id)
        if client is None:
            raise client_not_found(ext_id)
        return client, client['iscsiInitiatorName']
    if not isinstance(name, str) or not name.strip():
        raise compute_shapes.BadRequest(
            "An iSCSI client is named by extId or iscsiInitiatorName",
            'iscsiInitiatorName')
    client = find_by_initiator(state, name)
    if client is None and not create:
        raise errors.NotFound("No iSCSI client with initiator %s." % name)
    return client, name


def validate_attach(vg, body):
    if body.get('clientSecret') is not None:
        shapes.check_chap_secret(body['clientSecret'], 'clientSecret')
    if vg['enabledAuthentications'] == 'CHAP' and not body.get(
            'clientSecret') and body.get('enabledAuthentications') == 'CHAP':
        raise compute_shapes.BadRequest(
            "CHAP needs a clientSecret", 'clientSecret')


def check_attachable(vg, client):
    """409 when ``client`` (None: a new one) cannot be attached."""
    if client is not None and client['extId'] in [
            a['extId'] for a in vg['_iscsiAttachments']]:
        raise errors.Conflict("iSCSI client %s is already attached to "
                              "volume group %s."
                              % (client['iscsiInitiatorName'], vg['extId']))
    if vg.get('sharingStatus') == 'NOT_SHARED' and (
            vg['_iscsiAttachments'] or vg['_vmAttachments']):
        raise errors.Conflict("Volume group %s is not shared and is "
                              "already attached." % vg['extId'])


def attach(state, vg_ext_id, body, cluster_ext_id):
    """Attach the initiator to the group (creating the client entity).

    Returns the client's extId.
    """
    with state.transaction():
        vg = state.get(sources.KIND_VG, vg_ext_id)
        if vg is None:
            raise sources.vg_not_found(vg_ext_id)
        client, name = resolve_client(state, body, create=True)
        if client is None:
            client = shapes.iscsi_client_json(
                compute_shapes.new_ext_id(), name, cluster_ext_id,
                body.get('enabledAuthentications') or 'NONE',
                body.get('iscsiInitiatorNetworkId'))
        check_attachable(vg, client)
        if body.get('clientSecret'):
            client['_clientSecret'] = body['clientSecret']
        if body.get('enabledAuthentications'):
            client['enabledAuthentications'] = body['enabledAuthentications']
        client['attachedTargets'].append(shapes.target_param(
            vg, body.get('numVirtualTargets') or 32))
        client['_volumeGroups'] = client.get('_volumeGroups', []) + [
            vg_ext_id]
        vg['_iscsiAttachments'].append(shapes.iscsi_attachment_json(
            client['extId'], cluster_ext_id))
        shapes.refresh_attachment_type(vg)
        state.put(sources.KIND_ISCSI_CLIENT, client['extId'], client)
        state.put(sources.KIND_VG, vg_ext_id, vg)
        return client['extId']


def detach(state, vg_ext_id, body):
    with state.transaction():
        vg = state.get(sources.KIND_VG, vg_ext_id)
        if vg is None:
            raise sources.vg_not_found(vg_ext_id)
        client, name = resolve_client(state, body)
        before = len(vg['_iscsiAttachments'])
        vg['_iscsiAttachments'] = [a for a in vg['_iscsiAttachments']
                                   if a['extId'] != client['extId']]
        if len(vg['_iscsiAttachments']) == before:
            raise errors.NotFound("iSCSI client %s is not attached to volume "
                                  "group %s." % (name, vg_ext_id))
        iqn = shapes.target_iqn(vg)
        client['attachedTargets'] = [t for t in client['attachedTargets']
                                     if t['iscsiTargetName'] != iqn]
        client['_volumeGroups'] = [v for v in client.get('_volumeGroups', [])
                                   if v != vg_ext_id]
        shapes.refresh_attachment_type(vg)
        state.put(sources.KIND_ISCSI_CLIENT, client['extId'], client)
        state.put(sources.KIND_VG, vg_ext_id, vg)
        return client['extId']


def update_client(client, body):
    client = copy.deepcopy(client)
    for key in CLIENT_UPDATABLE:
        if body.get(key) is not None:
            client[key] = copy.deepcopy(body[key])
    if body.get('clientSecret'):
        shapes.check_chap_secret(body['clientSecret'], 'clientSecret')
        client['_clientSecret'] = body['clientSecret']
    return client
