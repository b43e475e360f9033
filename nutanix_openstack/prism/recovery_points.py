"""``/api/dataprotection/v4.x/config/recovery-points``."""

import datetime

from nutanix_openstack.prism import ambiguous
from nutanix_openstack.prism import entities
from nutanix_openstack.prism import paths
from nutanix_openstack.prism import tasks as tasks_mod

NS = 'dataprotection.v4.config.'
RESTORED_RELS = (paths.REL_VM, paths.REL_VOLUME_GROUP)


def _obj(kind, **fields):
    body = {'$objectType': NS + kind}
    body.update((k, v) for k, v in fields.items() if v is not None)
    return body


def _timestamp(value):
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.timezone.utc)
        return value.isoformat()
    return value


def volume_group_override(volume_group_recovery_point_ext_id, name=None):
    """A ``VolumeGroupRecoveryPointRestoreOverride`` (new group's name)."""
    return _obj('VolumeGroupRecoveryPointRestoreOverride',
                volumeGroupRecoveryPointExtId=(
                    volume_group_recovery_point_ext_id),
                volumeGroupOverrideSpec=(
                    _obj('VolumeGroupOverrideSpec', name=name)
                    if name else None))


def vm_override(vm_recovery_point_ext_id, name=None):
    """A ``VmRecoveryPointRestoreOverride`` (new VM's name)."""
    return _obj('VmRecoveryPointRestoreOverride',
                vmRecoveryPointExtId=vm_recovery_point_ext_id,
                vmOverrideSpec=(_obj('AhvVmOverrideSpec', name=name)
                                if name else None))


def _overrides(value, builder):
    """Normalise restore overrides.

    A list of override dicts from a list (kept) or a mapping
    ``{recovery point extId: new name}``.
    """
    if not value:
        return None
    if isinstance(value, dict):
        return [builder(k, v) for k, v in value.items()]
    return list(value)


class RecoveryPointsAPI(entities.EntitiesAPI):
    """``/api/dataprotection/v4.x/config/recovery-points``."""

    COLLECTION = paths.RECOVERY_POINTS

    def create(self, name, vm_ext_ids=(), volume_group_ext_ids=(),
               recovery_point_type='CRASH_CONSISTENT', expiration_time=None,
               wait=True):
        """Create a recovery point over VMs and volume groups.

        One recovery point over all the given VMs and volume groups
        (crash-consistent across them).  The returned dict carries
        ``vmRecoveryPoints`` / ``volumeGroupRecoveryPoints`` with their
        extIds and disk recovery points.
        """
        if not vm_ext_ids and not volume_group_ext_ids:
            raise ValueError('a recovery point needs at least one VM or '
                             'volume group')
        body = _obj(
            'RecoveryPoint', name=name,
            recoveryPointType=recovery_point_type,
            expirationTime=_timestamp(expiration_time),
            vmRecoveryPoints=[_obj('VmRecoveryPoint', vmExtId=v)
                              for v in vm_ext_ids] or None,
            volumeGroupRecoveryPoints=[
                _obj('VolumeGroupRecoveryPoint', volumeGroupExtId=v)
                for v in volume_group_ext_ids] or None)
        outcome = ambiguous.post_create(self._session, paths.RECOVERY_POINTS,
                                        body, self.find_by_name, name)
        if not wait:
            return outcome.task_reference()
        return self.get(outcome.wait(self._tasks, paths.REL_RECOVERY_POINT,
                                     self.delete))

    def restore(self, ext_id, volume_group_overrides=None,
                vm_overrides=None, wait=True, cluster_ext_id=None):
        """Restore a recovery point into new VMs and volume groups.

        ``$actions/restore``: new VMs / volume groups from the recovery
        point (copy-on-write).  Returns the list of created entities as
        ``[{'extId': ..., 'rel': 'volumes:config:volume-group'}, ...]``
        taken from the task's ``entitiesAffected``/completion details.

        Overrides are lists of override dicts (see
        :func:`volume_group_override`, :func:`vm_override`) or mappings
        ``{vm/volume group recovery point extId: new name}``.
        """
        body = _obj(
            'RecoveryPointRestorationSpec', clusterExtId=cluster_ext_id,
            vmRecoveryPointRestoreOverrides=_overrides(vm_overrides,
                                                       vm_override),
            volumeGroupRecoveryPointRestoreOverrides=_overrides(
                volume_group_overrides, volume_group_override))
        resp = self._session.conditional(
            'POST', self._path(ext_id, '$actions', 'restore'),
            etag_path=self._path(ext_id), body=body)
        if not wait:
            return {'extId': tasks_mod.task_ext_id(resp)}
        task = self._tasks.run(resp)
        return [{'extId': e.get('extId'), 'rel': e.get('rel')}
                for e in tasks_mod.affected(task)
                if e.get('rel') in RESTORED_RELS]
