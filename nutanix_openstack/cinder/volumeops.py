"""Volume-group sequences behind the Cinder driver.

A Cinder volume is a v4 volume group named ``volume-<id>`` holding exactly
one disk; its extId is the volume's ``provider_id``.  Everything here talks
to the cluster through :class:`nutanix_openstack.prism.client.PrismClient`;
client errors pass through to the driver's one error boundary
(:func:`nutanix_openstack.cinder.driver.boundary`), which turns them into
Cinder exceptions.
"""

from cinder import exception
from oslo_log import log as logging
from oslo_utils import excutils
from oslo_utils import units

from nutanix_openstack.i18n import _
from nutanix_openstack.prism import exceptions as prism_exc
from nutanix_openstack.prism import volume_groups as prism_vg

LOG = logging.getLogger(__name__)

GiB = units.Gi


def describe(volume):
    """The description of a Cinder volume's volume group."""
    return 'Cinder volume %s' % volume.id


def size_bytes(size_gb):
    return int(size_gb) * GiB


def size_gb_ceil(num_bytes):
    return int((int(num_bytes) + GiB - 1) // GiB)


class VolumeOps(object):
    """Volume groups of one backend (one cluster, one storage container)."""

    def __init__(self, client, cluster_ext_id, container_ext_id):
        self.client = client
        self.cluster_ext_id = cluster_ext_id
        self.container_ext_id = container_ext_id

    # -- lookups --------------------------------------------------------------

    def find_volume_group(self, volume):
        """The volume group of ``volume``, or None when it does not exist.

        Looks up ``provider_id`` first, then the name (volumes created
        before their provider_id was saved, or managed by name).
        """
        provider_id = getattr(volume, 'provider_id', None)
        if provider_id:
            try:
                return self.client.volume_groups.get(provider_id)
            except prism_exc.NotFound:
                LOG.debug('Volume group %s of volume %s not found by id',
                          provider_id, volume.id)
        found = self.client.volume_groups.find_by_name(volume.name)
        return found[0] if found else None

    def get_volume_group(self, volume):
        """Like :meth:`find_volume_group` but a missing group is an error."""
        vg = self.find_volume_group(volume)
        if vg is None:
            raise exception.VolumeNotFound(volume_id=volume.id)
        return vg

    def only_disk(self, vg_ext_id):
        """The one disk of a Cinder volume group."""
        disks = self.client.volume_groups.list_disks(vg_ext_id)
        if len(disks) != 1:
            msg = (_('Volume group %(vg)s has %(n)d disks; a Cinder volume '
                     'has exactly one') % {'vg': vg_ext_id, 'n': len(disks)})
            raise exception.VolumeBackendAPIException(data=msg)
        return disks[0]

    # -- create / delete ------------------------------------------------------

    def create_volume_group(self, name, size_gb, data_source=None,
                            description=None, multiattach=False):
        """Create a volume group with one disk of ``size_gb`` GiB.

        ``data_source`` (an EntityReference dict) makes the disk a
        copy-on-write clone of an image, a volume disk or a disk recovery
        point.  When the cluster creates the disk at the source's size the
        disk is grown to ``size_gb`` afterwards.  On any failure every
        volume group of that name is removed again (no orphan).

        Backend calls: ``POST volume-groups`` (the disk in its body: one
        task, so no group is ever left without its disk), ``GET
        .../disks`` and, when needed, ``PUT .../disks/{extId}``.
        """
        wanted = size_bytes(size_gb)
        disk = prism_vg.volume_disk(wanted, self.container_ext_id,
                                    data_source=data_source)
        try:
            vg = self.client.volume_groups.create(
                name, disks=[disk], description=description,
                sharing_status='SHARED',
                cluster_ext_id=self.cluster_ext_id)
            created = self.only_disk(vg['extId'])
            if int(created.get('diskSizeBytes') or 0) < wanted:
                self.client.volume_groups.resize_disk(
                    vg['extId'], created['extId'], wanted)
        except Exception:
            with excutils.save_and_reraise_exception():
                self.delete_by_name(name)
        return vg

    def delete_by_name(self, name):
        """Best-effort removal of half-created groups after a failure."""
        remove_leftovers(self.client.volume_groups.find_by_name,
                         self.delete_volume_group, name, 'volume group')

    def delete_volume_group(self, vg_ext_id):
        """Detach leftover iSCSI clients, then delete the group.

        A cluster refuses to delete a group that still has clients; a
        stale one (a host that died before detaching) must not make the
        volume undeletable.  A group that is already gone is success.
        """
        try:
            detach_all_iscsi_clients(self.client, vg_ext_id)
            self.client.volume_groups.delete(vg_ext_id)
        except prism_exc.NotFound:
            LOG.debug('Volume group %s already deleted', vg_ext_id)

    # -- size -----------------------------------------------------------------

    def grow(self, vg_ext_id, new_size_gb):
        """Resize the group's disk to ``new_size_gb`` GiB (never shrinks)."""
        disk = self.only_disk(vg_ext_id)
        wanted = size_bytes(new_size_gb)
        if int(disk.get('diskSizeBytes') or 0) < wanted:
            self.client.volume_groups.resize_disk(vg_ext_id, disk['extId'],
                                                  wanted)


def remove_leftovers(find_by_name, delete, name, what):
    """Best-effort removal of every ``what`` named ``name``.

    Used after a create failed half-way; never raises, so the create's own
    error is what Cinder sees.
    """
    try:
        leftovers = find_by_name(name)
    except prism_exc.PrismError:
        LOG.warning('Could not look for leftover %(what)s objects named '
                    '%(name)s', {'what': what, 'name': name}, exc_info=True)
        return
    for item in leftovers:
        params = {'what': what, 'id': item['extId'], 'name': name}
        try:
            delete(item['extId'])
            LOG.info('Removed leftover %(what)s %(id)s (%(name)s)', params)
        except Exception:
            LOG.warning('Could not remove leftover %(what)s %(id)s '
                        '(%(name)s)', params, exc_info=True)


def is_attached(client, vg_ext_id, initiator):
    """Whether ``initiator`` is an iSCSI client of the volume group."""
    try:
        iscsi_client = client.volume_groups.find_iscsi_client(initiator)
    except prism_exc.NotFound:
        return False
    return iscsi_client['extId'] in {
        a.get('extId')
        for a in client.volume_groups.list_iscsi_attachments(vg_ext_id)}


def detach_all_iscsi_clients(client, vg_ext_id):
    """Detach every iSCSI client of a volume group.

    Used by force detach and before a delete: a stale client must not make
    a volume undeletable.
    """
    vgs = client.volume_groups
    for att in vgs.list_iscsi_attachments(vg_ext_id):
        try:
            iscsi_client = vgs.get_iscsi_client(att['extId'])
            LOG.info('Detaching iSCSI client %(i)s from volume group %(vg)s',
                     {'i': iscsi_client['iscsiInitiatorName'],
                      'vg': vg_ext_id})
            vgs.detach_iscsi_client(vg_ext_id,
                                    iscsi_client['iscsiInitiatorName'])
        except prism_exc.NotFound:
            pass        # detached concurrently
