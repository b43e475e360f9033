"""Bringing existing volume groups and recovery points under Cinder."""

from cinder import exception
from cinder.volume import volume_utils
from oslo_log import log as logging

from nutanix_openstack.cinder import volumeops
from nutanix_openstack.i18n import _
from nutanix_openstack.prism import exceptions as prism_exc

LOG = logging.getLogger(__name__)


def _invalid(existing_ref, reason):
    return exception.ManageExistingInvalidReference(
        existing_ref=existing_ref, reason=reason)


def _reference(existing_ref, required_reason):
    """``(source-id, source-name)`` of a manage reference; one is needed."""
    ext_id = existing_ref.get('source-id')
    name = existing_ref.get('source-name')
    if not ext_id and not name:
        raise _invalid(existing_ref, required_reason)
    return ext_id, name


def _referenced(api, ext_id, name):
    """What a manage reference names: by extId ([] or [it]), else by name.

    ``api`` is the client's volume groups or recovery points.
    """
    if not ext_id:
        return api.find_by_name(name)
    try:
        return [api.get(ext_id)]
    except prism_exc.NotFound:
        return []


class ManageOps(object):

    def __init__(self, client, volume_ops, snapshot_ops):
        self.client = client
        self.volume_ops = volume_ops
        self.snapshot_ops = snapshot_ops

    # -- volumes --------------------------------------------------------------

    def _existing_volume_group(self, existing_ref):
        """The volume group named by ``source-id`` (extId) or ``source-name``.

        ManageExistingInvalidReference otherwise.
        """
        ext_id, name = _reference(
            existing_ref, _('source-id (volume group extId) or source-name '
                            '(volume group name) is required'))
        found = _referenced(self.client.volume_groups, ext_id, name)
        if len(found) > 1:
            raise _invalid(existing_ref,
                           _('%d volume groups are named %s; use '
                             'source-id') % (len(found), name))
        if not found:
            raise _invalid(existing_ref, _('no such volume group'))
        vg = found[0]
        disks = self.client.volume_groups.list_disks(vg['extId'])
        if len(disks) != 1:
            raise _invalid(existing_ref,
                           _('volume group has %d disks; a Cinder volume has '
                             'exactly one') % len(disks))
        return vg, disks[0]

    def manage_existing_get_size(self, volume, existing_ref):
        _vg, disk = self._existing_volume_group(existing_ref)
        return volumeops.size_gb_ceil(disk.get('diskSizeBytes') or 0)

    def manage_existing(self, volume, existing_ref):
        """Take over a volume group as ``volume``.

        Renames it to ``volume-<id>`` and grows its disk to a whole number
        of GiB (the size Cinder records).

        Backend calls: ``GET volume-groups``/``.../disks``, ``PUT
        volume-groups/{extId}`` (name), maybe ``PUT .../disks/{extId}``.
        """
        vg, disk = self._existing_volume_group(existing_ref)
        if vg.get('name') != volume.name:
            self.client.volume_groups.update(vg['extId'],
                                             name=volume.name)
        size_gb = volumeops.size_gb_ceil(disk.get('diskSizeBytes') or 0)
        self.volume_ops.grow(vg['extId'], size_gb)
        return {'provider_id': vg['extId']}

    def unmanage(self, volume):
        """The volume group stays as it is, under its ``volume-<id>`` name.

        Cinder forgets it.
        """
        LOG.info('Volume %(vol)s unmanaged; volume group %(vg)s is kept',
                 {'vol': volume.id, 'vg': volume.provider_id})

    def get_manageable_volumes(self, cinder_volumes, marker, limit, offset,
                               sort_keys, sort_dirs):
        """Every volume group of our cluster, and whether it is safe.

        Those Cinder already has, or with other than one disk, are not safe
        to manage.
        """
        known = {v.provider_id: v.id for v in cinder_volumes
                 if v.provider_id}
        known_names = {v.name: v.id for v in cinder_volumes}
        entries = []
        for vg in self.client.volume_groups.list():
            cluster = vg.get('clusterReference')
            if cluster and cluster != self.volume_ops.cluster_ext_id:
                continue
            disks = self.client.volume_groups.list_disks(vg['extId'])
            cinder_id = (known.get(vg['extId']) or
                         known_names.get(vg.get('name')))
            size = sum(int(d.get('diskSizeBytes') or 0) for d in disks)
            reason = None
            if cinder_id:
                reason = _('Already managed')
            elif len(disks) != 1:
                reason = _('Volume group has %d disks') % len(disks)
            entries.append({
                'reference': {'source-id': vg['extId'],
                              'source-name': vg.get('name')},
                'size': volumeops.size_gb_ceil(size),
                'safe_to_manage': reason is None,
                'reason_not_safe': reason,
                'cinder_id': cinder_id,
                'extra_info': None,
            })
        return volume_utils.paginate_entries_list(
            entries, marker, limit, offset, sort_keys, sort_dirs)

    # -- snapshots ------------------------------------------------------------

    def _existing_recovery_point(self, snapshot, existing_ref):
        ext_id, name = _reference(
            existing_ref, _('source-id (recovery point extId) or '
                            'source-name is required'))
        found = _referenced(self.client.recovery_points, ext_id, name)
        rp = found[0] if len(found) == 1 else None
        vg = self.volume_ops.find_volume_group(snapshot.volume)
        if rp is None:
            raise _invalid(existing_ref,
                           _('no such recovery point (or the name is '
                             'ambiguous)'))
        vg_ext_id = vg['extId'] if vg else None
        vgrps = [v for v in rp.get('volumeGroupRecoveryPoints') or ()
                 if v.get('volumeGroupExtId') == vg_ext_id]
        if not vgrps:
            raise _invalid(existing_ref,
                           _('recovery point does not cover the volume group '
                             'of volume %s') % snapshot.volume_id)
        return rp

    def manage_existing_snapshot_get_size(self, snapshot, existing_ref):
        # A disk recovery point does not report its size; it is the size of
        # the volume's disk when the point was taken, which Cinder bounds by
        # the volume size.
        self._existing_recovery_point(snapshot, existing_ref)
        return snapshot.volume.size

    def manage_existing_snapshot(self, snapshot, existing_ref):
        rp = self._existing_recovery_point(snapshot, existing_ref)
        return {'provider_id': rp['extId']}

    def unmanage_snapshot(self, snapshot):
        LOG.info('Snapshot %(snap)s unmanaged; recovery point %(rp)s is '
                 'kept', {'snap': snapshot.id, 'rp': snapshot.provider_id})

    def get_manageable_snapshots(self, cinder_snapshots, marker, limit,
                                 offset, sort_keys, sort_dirs, volumes):
        """Recovery points of exactly one volume group of a Cinder volume.

        ``volumes`` maps volume group extIds to ``{'size': GiB}``.
        """
        known = {s.provider_id: s.id for s in cinder_snapshots
                 if s.provider_id}
        entries = []
        for rp in self.client.recovery_points.list():
            vgrps = rp.get('volumeGroupRecoveryPoints') or []
            if len(vgrps) != 1:
                continue
            vg_ext_id = vgrps[0].get('volumeGroupExtId')
            if vg_ext_id not in volumes:
                continue
            cinder_id = known.get(rp['extId'])
            entries.append({
                'reference': {'source-id': rp['extId'],
                              'source-name': rp.get('name')},
                'size': volumes[vg_ext_id]['size'],
                'safe_to_manage': cinder_id is None,
                'reason_not_safe': (_('Already managed')
                                    if cinder_id else None),
                'cinder_id': cinder_id,
                'extra_info': None,
                'source_reference': {'source-id': vg_ext_id},
            })
        return volume_utils.paginate_entries_list(
            entries, marker, limit, offset, sort_keys, sort_dirs)
