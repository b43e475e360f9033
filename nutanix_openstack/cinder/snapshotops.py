"""Snapshots and group snapshots as v4 recovery points.

A Cinder snapshot is a crash-consistent recovery point of its volume's
volume group, named ``snapshot-<id>``; its extId is the snapshot's
``provider_id``.  A group snapshot is ONE recovery point over all the
group's volume groups: every member snapshot carries that same extId and
finds its own volume group recovery point inside it.
"""

from cinder import exception
from oslo_log import log as logging
from oslo_utils import excutils

from nutanix_openstack.cinder import volumeops
from nutanix_openstack.i18n import _
from nutanix_openstack.prism import exceptions as prism_exc
from nutanix_openstack.prism import volume_groups as prism_vg

LOG = logging.getLogger(__name__)


class SnapshotOps(object):

    def __init__(self, client, volume_ops):
        self.client = client
        self.volume_ops = volume_ops

    # -- lookups --------------------------------------------------------------

    def find_recovery_point(self, snapshot):
        """The recovery point of ``snapshot``, or None.

        Looked up by provider_id, else by the snapshot's name.
        """
        if snapshot.provider_id:
            try:
                return self.client.recovery_points.get(snapshot.provider_id)
            except prism_exc.NotFound:
                LOG.debug('Recovery point %s of snapshot %s not found',
                          snapshot.provider_id, snapshot.id)
                return None
        found = self.client.recovery_points.find_by_name(snapshot.name)
        return found[0] if found else None

    def volume_group_recovery_point(self, snapshot):
        """(recovery point, volume group recovery point) of ``snapshot``.

        Raises SnapshotNotFound when the recovery point is gone or does not
        cover the snapshot's volume.
        """
        rp = self.find_recovery_point(snapshot)
        if rp is None:
            raise exception.SnapshotNotFound(snapshot_id=snapshot.id)
        vgrps = rp.get('volumeGroupRecoveryPoints') or []
        vg = self.volume_ops.find_volume_group(snapshot.volume)
        vg_ext_id = vg['extId'] if vg else snapshot.volume.provider_id
        for vgrp in vgrps:
            if vgrp.get('volumeGroupExtId') == vg_ext_id:
                return rp, vgrp
        # The source volume group may have been deleted and the volume
        # re-managed; a recovery point of one group is unambiguous.
        if len(vgrps) == 1 and snapshot.group_snapshot_id is None:
            return rp, vgrps[0]
        msg = (_('Recovery point %(rp)s does not cover volume %(vol)s') %
               {'rp': rp.get('extId'), 'vol': snapshot.volume_id})
        raise exception.VolumeBackendAPIException(data=msg)

    def disk_recovery_point(self, snapshot):
        """The ``DiskRecoveryPoint`` of the snapshot's one disk.

        Returns ``(rp, vgrp, disk_rp)``.
        """
        rp, vgrp = self.volume_group_recovery_point(snapshot)
        disks = vgrp.get('diskRecoveryPoints') or []
        if len(disks) != 1:
            msg = (_('Volume group recovery point %(vgrp)s has %(n)d disk '
                     'recovery points; expected one') %
                   {'vgrp': vgrp.get('extId'), 'n': len(disks)})
            raise exception.VolumeBackendAPIException(data=msg)
        return rp, vgrp, disks[0]

    # -- create / delete ------------------------------------------------------

    def create_recovery_point(self, name, vg_ext_ids):
        """One crash-consistent recovery point over ``vg_ext_ids``.

        Every recovery point of that name is removed again if the create
        fails half-way.
        """
        try:
            return self.client.recovery_points.create(
                name, volume_group_ext_ids=list(vg_ext_ids))
        except Exception:
            with excutils.save_and_reraise_exception():
                self.delete_by_name(name)

    def delete_by_name(self, name):
        """Best-effort removal of half-created recovery points."""
        volumeops.remove_leftovers(self.client.recovery_points.find_by_name,
                                   self.delete_recovery_point, name,
                                   'recovery point')

    def delete_recovery_point(self, rp_ext_id):
        """Delete a recovery point; one already gone is success."""
        try:
            self.client.recovery_points.delete(rp_ext_id)
        except prism_exc.NotFound:
            LOG.debug('Recovery point %s already deleted', rp_ext_id)

    def create_snapshot(self, snapshot):
        """Backend calls: ``POST recovery-points`` over the volume group."""
        vg = self.volume_ops.get_volume_group(snapshot.volume)
        rp = self.create_recovery_point(snapshot.name, [vg['extId']])
        return {'provider_id': rp['extId']}

    def delete_snapshot(self, snapshot):
        """Backend calls.

        ``DELETE recovery-points/{extId}``; a missing recovery point is
        success.
        """
        if snapshot.group_snapshot_id and snapshot.provider_id:
            # The recovery point is shared by the whole group snapshot and
            # goes away with delete_group_snapshot.
            LOG.debug('Snapshot %s belongs to group snapshot %s; its '
                      'recovery point is deleted with the group snapshot',
                      snapshot.id, snapshot.group_snapshot_id)
            return
        rp = self.find_recovery_point(snapshot)
        if rp is None:
            LOG.info('Snapshot %s has no recovery point on the backend; '
                     'nothing to delete', snapshot.id)
            return
        # A recovery point in use (a Conflict) is SnapshotIsBusy at the
        # driver's boundary.
        self.delete_recovery_point(rp['extId'])

    def create_volume_from_snapshot(self, volume, snapshot):
        """Copy-on-write restore of the snapshot into a new volume.

        A new volume group whose disk's data source is the snapshot's disk
        recovery point, grown to ``volume.size``.

        Backend calls: ``GET recovery-points/{extId}``, ``POST
        volume-groups`` with a ``DISK_RECOVERY_POINT`` data source.
        """
        rp, vgrp, disk_rp = self.disk_recovery_point(snapshot)
        source = prism_vg.disk_recovery_point_source(
            disk_rp['diskRecoveryPointExtId'])
        vg = self.volume_ops.create_volume_group(
            volume.name, volume.size, data_source=source,
            description=volumeops.describe(volume),
            multiattach=volume.multiattach)
        return {'provider_id': vg['extId']}

    def revert_to_snapshot(self, volume, snapshot):
        """Revert the volume group to the snapshot's recovery point.

        ``POST volume-groups/{extId}/$actions/revert``, then the disk is
        grown back to the volume's size if it was extended after the
        snapshot.
        """
        vg = self.volume_ops.get_volume_group(volume)
        _rp, vgrp = self.volume_group_recovery_point(snapshot)
        self.client.volume_groups.revert(vg['extId'], vgrp['extId'])
        self.volume_ops.grow(vg['extId'], volume.size)

    # -- groups ---------------------------------------------------------------

    def create_group_snapshot(self, group_snapshot, snapshots):
        """ONE recovery point over the volume groups of all ``snapshots``.

        Backend calls: ``POST recovery-points`` with every volume group.
        """
        vg_ext_ids = []
        for snap in snapshots:
            vg = self.volume_ops.get_volume_group(snap.volume)
            vg_ext_ids.append(vg['extId'])
        name = 'group-snapshot-%s' % group_snapshot.id
        rp = self.create_recovery_point(name, vg_ext_ids)
        updates = [{'id': snap.id, 'provider_id': rp['extId'],
                    'status': 'available'} for snap in snapshots]
        return {'status': 'available'}, updates

    def delete_group_snapshot(self, group_snapshot, snapshots):
        """``DELETE`` the one recovery point of the group snapshot."""
        rp_ids = {s.provider_id for s in snapshots if s.provider_id}
        if not rp_ids:
            found = self.client.recovery_points.find_by_name(
                'group-snapshot-%s' % group_snapshot.id)
            rp_ids = {rp['extId'] for rp in found}
        for rp_ext_id in rp_ids:
            self.delete_recovery_point(rp_ext_id)
        updates = [{'id': s.id, 'status': 'deleted'} for s in snapshots]
        return {'status': 'deleted'}, updates
