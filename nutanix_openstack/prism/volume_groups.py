"""``/api/volumes/v4.x/config/volume-groups`` and ``VolumeDisk`` builders.

A volume disk's data source is a ``common.v1.config.EntityReference``
whose ``entityType`` says what it points at: ``IMAGE``, ``VM_DISK``,
``VOLUME_DISK`` or ``DISK_RECOVERY_POINT``.
"""

import logging

from nutanix_openstack.prism import ambiguous
from nutanix_openstack.prism import disks as disks_mod
from nutanix_openstack.prism import entities
from nutanix_openstack.prism import exceptions as exc
from nutanix_openstack.prism import paths

LOG = logging.getLogger(__name__)

NS = 'volumes.v4.config.'

# What Cinder's and Nova's nutanix drivers tell each other about an
# attachment (they never import each other).  Nova's connector names its
# cluster; Cinder's connection info (``driver_volume_type`` 'iscsi', as
# os-brick knows it) names the volume group and disk, and says 'vm-attach'
# when the group is attached to the VM inside the cluster.
CONNECTOR_CLUSTER = 'nutanix_cluster_ext_id'
ATTACH_VOLUME_TYPE = 'iscsi'
ATTACH_VOLUME_GROUP = 'volume_group_ext_id'
ATTACH_VOLUME_DISK = 'volume_disk_ext_id'
ATTACH_ACCESS = 'access'
ACCESS_VM_ATTACH = 'vm-attach'


def _obj(kind, **fields):
    body = {'$objectType': NS + kind}
    body.update((k, v) for k, v in fields.items() if v is not None)
    return body


def data_source(ext_id, entity_type):
    """An ``EntityReference`` naming the disk's data source."""
    return {'$objectType': 'common.v1.config.EntityReference',
            'extId': ext_id, 'entityType': entity_type}


def image_source(image_ext_id):
    return data_source(image_ext_id, 'IMAGE')


def vm_disk_source(vm_disk_ext_id):
    return data_source(vm_disk_ext_id, 'VM_DISK')


def volume_disk_source(volume_disk_ext_id):
    return data_source(volume_disk_ext_id, 'VOLUME_DISK')


def disk_recovery_point_source(disk_recovery_point_ext_id):
    return data_source(disk_recovery_point_ext_id, 'DISK_RECOVERY_POINT')


def volume_disk(size_bytes, container_ext_id, data_source=None, index=None,
                description=None):
    """A v4 VolumeDisk spec.

    A v4 ``VolumeDisk``: empty, or a copy-on-write clone of
    ``data_source`` (see :func:`image_source`, :func:`vm_disk_source`,
    :func:`volume_disk_source`, :func:`disk_recovery_point_source`).
    """
    return _obj('VolumeDisk', diskSizeBytes=size_bytes,
                storageContainerId=container_ext_id,
                diskDataSourceReference=data_source, index=index,
                description=description)


class VolumeGroupsAPI(entities.UpdatableEntitiesAPI):
    """``/api/volumes/v4.x/config/volume-groups``.

    Changes to an existing group carry ``If-Match`` with the ETag of a GET
    made just before.
    """

    COLLECTION = paths.VOLUME_GROUPS

    def __init__(self, session, tasks):
        super().__init__(session, tasks)
        self._disks = disks_mod.DiskCollection(
            session, tasks, self._path, paths.REL_VOLUME_DISK,
            'volume group')

    def create(self, name, disks=(), description=None, sharing_status=None,
               target_prefix=None, cluster_ext_id=None, wait=True,
               **extra_fields):
        """Create a volume group with its disks: one request, one task.

        ``disks`` are v4 ``VolumeDisk`` dicts; build them with
        :mod:`nutanix_openstack.prism.volume_groups` helpers
        (``volume_disk(size_bytes, container_ext_id, data_source=None)``,
        where the data source references an image, a VM disk, a volume disk
        or a disk recovery point).  They travel in the ``VolumeGroup``
        create body (its ``disks`` field), so the cluster makes the group
        and its disks in one task: a crash or a dropped connection can
        never leave a group without its disks.  When the task fails after
        making the group, the group is deleted again.  Returns the group
        dict (``{'extId': <task extId>}`` with ``wait=False``).
        """
        body = _obj('VolumeGroup', name=name, description=description,
                    sharingStatus=sharing_status, targetPrefix=target_prefix,
                    clusterReference=cluster_ext_id,
                    disks=list(disks) or None)
        body.update(extra_fields)
        outcome = ambiguous.post_create(self._session, paths.VOLUME_GROUPS,
                                        body, self.find_by_name, name)
        if not wait:
            return outcome.task_reference()
        return self.get(outcome.wait(self._tasks, paths.REL_VOLUME_GROUP,
                                     self.delete))

    def list_disks(self, vg_ext_id):
        return self._disks.list(vg_ext_id)

    def get_disk(self, vg_ext_id, disk_ext_id):
        return self._disks.get(vg_ext_id, disk_ext_id)

    def add_disk(self, vg_ext_id, disk, wait=True):
        """POST ``.../disks``; returns the new disk dict."""
        return self._disks.add(vg_ext_id, disk, wait=wait)

    def resize_disk(self, vg_ext_id, disk_ext_id, size_bytes, wait=True):
        """GET disk + PUT with If-Match and the new ``diskSizeBytes``."""
        def mutate(disk):
            current = disk.get('diskSizeBytes')
            if current is not None and size_bytes < current:
                raise ValueError('cannot shrink volume disk %s from %d to %d '
                                 'bytes' % (disk_ext_id, current, size_bytes))
            disk['diskSizeBytes'] = int(size_bytes)
            disk.pop('diskDataSourceReference', None)
            return disk
        return self._disks.update(vg_ext_id, disk_ext_id, mutate, wait=wait)

    def delete_disk(self, vg_ext_id, disk_ext_id, wait=True):
        return self._disks.delete(vg_ext_id, disk_ext_id, wait=wait)

    def _action(self, vg_ext_id, action, body, wait):
        resp = self._session.conditional(
            'POST', self._path(vg_ext_id, '$actions', action),
            etag_path=self._path(vg_ext_id), body=body)
        return self._tasks.run(resp, wait=wait)

    def attach_vm(self, vg_ext_id, vm_ext_id, wait=True, index=None):
        return self._action(vg_ext_id, 'attach-vm',
                            _obj('VmAttachment', extId=vm_ext_id,
                                 index=index), wait)

    def detach_vm(self, vg_ext_id, vm_ext_id, wait=True):
        return self._action(vg_ext_id, 'detach-vm',
                            _obj('VmAttachment', extId=vm_ext_id), wait)

    def list_vm_attachments(self, vg_ext_id):
        return self._session.list_all(self._path(vg_ext_id,
                                                 'vm-attachments'))

    def attach_iscsi_client(self, vg_ext_id, initiator_name,
                            chap_secret=None, wait=True):
        body = _obj('IscsiClient', iscsiInitiatorName=initiator_name,
                    clientSecret=chap_secret,
                    enabledAuthentications='CHAP' if chap_secret else None)
        return self._action(vg_ext_id, 'attach-iscsi-client', body, wait)

    def find_iscsi_client(self, initiator_name):
        """The ``IscsiClient`` of an initiator name; raises NotFound."""
        clients = self._session.list_all(
            paths.ISCSI_CLIENTS,
            filter='iscsiInitiatorName eq %s' % paths.odata_quote(
                initiator_name))
        for client in clients:
            if client.get('iscsiInitiatorName') == initiator_name:
                return client
        raise exc.NotFound('no iSCSI client with initiator name %s'
                           % initiator_name)

    def get_iscsi_client(self, ext_id):
        """``GET /config/iscsi-clients/{extId}``.

        An attachment record of ``list_iscsi_attachments`` carries only the
        client's extId; this gives its initiator name and targets.
        """
        return self._session.get_data('%s/%s' % (paths.ISCSI_CLIENTS,
                                                 ext_id))

    def detach_iscsi_client(self, vg_ext_id, initiator_name, wait=True):
        """Detach an iSCSI client (by initiator name) from a group.

        Looks the client up by initiator name, then POSTs
        ``$actions/detach-iscsi-client`` with its extId.
        """
        client = self.find_iscsi_client(initiator_name)
        return self._action(vg_ext_id, 'detach-iscsi-client',
                            _obj('IscsiClientAttachment',
                                 extId=client['extId']), wait)

    def list_iscsi_attachments(self, vg_ext_id):
        return self._session.list_all(
            self._path(vg_ext_id, 'external-iscsi-attachments'))

    def revert(self, vg_ext_id, volume_group_recovery_point_ext_id,
               wait=True):
        return self._action(
            vg_ext_id, 'revert',
            _obj('RevertSpec', volumeGroupRecoveryPointExtId=(
                volume_group_recovery_point_ext_id)), wait)
