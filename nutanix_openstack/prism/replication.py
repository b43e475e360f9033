"""Replication of recovery points to another cluster, and changed regions.

The one home of the data-protection JSON that disaster recovery needs
(the Cinder replication and backup drivers and Nova's evacuation use it
through :class:`ReplicationAPI`):

* ``POST .../config/recovery-points/{extId}/$actions/replicate`` with a
  ``RecoveryPointReplicationSpec`` (``clusterExtId``, ``pcExtId``): the
  recovery point is copied to the remote cluster, incrementally from the
  newest point already there.  The task lists the replica (an extId of the
  *remote* cluster) among its ``entitiesAffected``.
* On the target, the replica is an ordinary recovery point with the same
  ``locationAgnosticId`` (and name, and creation time) as the source's.
* ``POST .../content/recovery-points/{rp}/volume-group-recovery-points/
  {vgrp}/disk-recovery-points/{drp}/$actions/compute-changed-regions``:
  the regions where a disk recovery point differs from a reference one.
"""

from nutanix_openstack.prism import exceptions as exc
from nutanix_openstack.prism import paths
from nutanix_openstack.prism import tasks as tasks_mod

NS = 'dataprotection.v4.config.'
CONTENT = paths.DATAPROTECTION + '/content/recovery-points'


def replication_spec(cluster_ext_id=None, pc_ext_id=None):
    """A ``RecoveryPointReplicationSpec``."""
    if not cluster_ext_id and not pc_ext_id:
        raise ValueError('a replication needs a cluster or a Prism Central')
    body = {'$objectType': NS + 'RecoveryPointReplicationSpec'}
    if cluster_ext_id:
        body['clusterExtId'] = cluster_ext_id
    if pc_ext_id:
        body['pcExtId'] = pc_ext_id
    return body


def disk_recovery_points(rp):
    """``[(member kind, member extId, disk extId, drp extId), ...]``."""
    found = []
    for key, kind in (('vmRecoveryPoints', 'vm'),
                      ('volumeGroupRecoveryPoints', 'volume_group')):
        for member in rp.get(key) or []:
            for drp in member.get('diskRecoveryPoints') or []:
                found.append((kind, member['extId'], drp.get('diskExtId'),
                              drp['diskRecoveryPointExtId']))
    return found


def task_details(task):
    """``completionDetails`` of a task as a dict."""
    return dict((kv.get('name'), kv.get('value'))
                for kv in task.get('completionDetails') or []
                if isinstance(kv, dict))


class ReplicationAPI(object):
    """Replicate recovery points; find replicas; changed regions."""

    def __init__(self, session, tasks):
        self._session = session
        self._tasks = tasks

    def replicate(self, rp_ext_id, cluster_ext_id=None, pc_ext_id=None,
                  wait=True, timeout=None):
        """``$actions/replicate``; returns ``{'extId', 'bytesSent'}``.

        ``extId`` is the replica's extId on the remote cluster.  A failed
        replication (link down, remote refused) raises TaskFailed; the
        remote cluster then holds nothing of it.
        """
        path = '%s/%s/$actions/replicate' % (paths.RECOVERY_POINTS,
                                             rp_ext_id)
        resp = self._session.post(path, replication_spec(cluster_ext_id,
                                                         pc_ext_id))
        if not wait:
            return {'taskExtId': tasks_mod.task_ext_id(resp)}
        task = self._tasks.run(resp, timeout=timeout)
        remote = [e['extId'] for e in tasks_mod.affected(
            task, paths.REL_RECOVERY_POINT) if e.get('extId') != rp_ext_id]
        if not remote:
            raise exc.UnexpectedResponse(
                'replication task %s names no replica' % task.get('extId'))
        details = task_details(task)
        return {'extId': remote[-1],
                'bytesSent': int(details.get('bytesSent') or 0)}

    def find_replicas(self, location_agnostic_id=None, name=None):
        """Recovery points here with that ``locationAgnosticId`` / name."""
        filter = paths.name_filter(name) if name else None
        listed = self._session.list_all(paths.RECOVERY_POINTS, filter=filter)
        return [rp for rp in listed
                if (location_agnostic_id is None or
                    rp.get('locationAgnosticId') == location_agnostic_id) and
                (name is None or rp.get('name') == name)]

    def latest(self, name_prefix):
        """The newest recovery point whose name starts with the prefix."""
        found = [rp for rp in self._session.list_all(paths.RECOVERY_POINTS)
                 if (rp.get('name') or '').startswith(name_prefix) and
                 rp.get('status', 'COMPLETE') == 'COMPLETE']
        if not found:
            return None
        return max(found, key=lambda rp: (rp.get('creationTime') or '',
                                          rp.get('name') or ''))

    def latest_vm_point(self, vm_name):
        """The newest complete point here holding a VM named ``vm_name``.

        Returns ``(recovery point, VM recovery point)`` or None.  A VM
        recovery point carries the name of the VM it was taken of (the
        Nova driver names its VMs after the instance uuid), so a replica
        on the remote cluster names the VM that is gone with the primary.
        Points still being copied (``status`` other than ``COMPLETE``) are
        never returned.
        """
        found = []
        for rp in self._session.list_all(paths.RECOVERY_POINTS):
            if rp.get('status', 'COMPLETE') != 'COMPLETE':
                continue
            for vmrp in rp.get('vmRecoveryPoints') or []:
                if vmrp.get('name') == vm_name and vmrp.get(
                        'status', 'COMPLETE') == 'COMPLETE':
                    found.append((rp, vmrp))
        if not found:
            return None
        return max(found, key=lambda pair: (pair[0].get('creationTime') or
                                            '', pair[0].get('name') or ''))

    def changed_regions(self, rp_ext_id, member_ext_id, drp_ext_id,
                        reference=None, offset=None, length=None,
                        block_size=None, member_kind='volume_group'):
        """``compute-changed-regions`` of a disk recovery point.

        ``reference``: ``(rp extId, member extId, drp extId)`` of the older
        point, or None (the regions holding data).  Returns
        ``[(offset, length, 'REGULAR' | 'ZEROED'), ...]``.
        """
        if member_kind == 'vm':
            segment, ref_key = ('vm-recovery-points',
                                'referenceVmRecoveryPointExtId')
        else:
            segment, ref_key = ('volume-group-recovery-points',
                                'referenceVolumeGroupRecoveryPointExtId')
        body = {}
        for key, value in (('offset', offset), ('length', length),
                           ('blockSizeByte', block_size)):
            if value is not None:
                body[key] = value
        if reference:
            body['referenceRecoveryPointExtId'] = reference[0]
            body[ref_key] = reference[1]
            body['referenceDiskRecoveryPointExtId'] = reference[2]
        path = '%s/%s/%s/%s/disk-recovery-points/%s/$actions/' \
            'compute-changed-regions' % (CONTENT, rp_ext_id, segment,
                                         member_ext_id, drp_ext_id)
        data = self._session.post(path, body).get('data') or []
        return [(r['offset'], r['length'], r.get('regionType', 'REGULAR'))
                for r in data]
