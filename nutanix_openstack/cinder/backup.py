"""Cinder backup driver: backups are recovery points on a backup cluster.

``backup_driver = nutanix_openstack.cinder.backup.NutanixBackupDriver``

A backup of a volume on a Nutanix backend is a recovery point of its
volume group (``backup-<backup id>``) replicated to the backup cluster:
the first one in full, every later one incrementally (only the regions
changed since the previous backup of that volume travel, cluster to
cluster).  No byte goes through the cinder-backup host: the driver reads
nothing from the ``volume_file`` it is handed.  The copy on the backup
cluster is a complete point on its own (copy-on-write over the previous
one there), so a backup survives the deletion of the source volume, of
its snapshots and of the backups before it.  The newest backup's recovery
point stays on the source cluster as the base of the next incremental.

Restore (into the same or a new volume) uses the source copy when it is
still there, otherwise replicates the backup back to the source cluster,
and gives the volume's volume group a disk cloned from it (copy-on-write),
replacing the old one.

Options (``[DEFAULT]``): ``backup_nutanix_*`` reach the Prism Central of
the volumes' cluster, ``backup_nutanix_target_*`` the backup cluster's;
the two clusters must be paired both ways.  Volumes on other backends are
refused (``BackupDriverException``): use a chunked backup driver for them.
"""

import json

from cinder.backup import driver
from cinder import exception
from cinder import objects
from oslo_config import cfg
from oslo_log import log as logging

from nutanix_openstack.cinder import options
from nutanix_openstack.i18n import _
from nutanix_openstack.prism import client as prism_client
from nutanix_openstack.prism import exceptions as prism_exc
from nutanix_openstack.prism import volume_groups as prism_vg

LOG = logging.getLogger(__name__)

SOURCE_PREFIX = options.BACKUP_SOURCE_PREFIX
TARGET_PREFIX = options.BACKUP_TARGET_PREFIX
ALL_OPTS = options.BACKUP_OPTS

CONF = cfg.CONF
CONF.register_opts(ALL_OPTS)

NAME = 'backup-%s'


def list_opts():
    return [('DEFAULT', ALL_OPTS)]


class NutanixBackupDriver(driver.BackupDriver):
    """Backups as recovery points replicated to a backup cluster."""

    def __init__(self, context):
        super(NutanixBackupDriver, self).__init__(context)
        self._source = None
        self._target = None

    @property
    def source(self):
        if self._source is None:
            self._source = prism_client.PrismClient.from_conf(
                CONF, prefix=SOURCE_PREFIX)
        return self._source

    @property
    def target(self):
        if self._target is None:
            self._target = prism_client.PrismClient.from_conf(
                CONF, prefix=TARGET_PREFIX)
        return self._target

    def check_for_setup_error(self):
        for prefix in (SOURCE_PREFIX, TARGET_PREFIX):
            if not getattr(CONF, prefix + 'endpoints'):
                raise exception.InvalidConfigurationValue(
                    option=prefix + 'endpoints', value=None)

    # -- helpers --------------------------------------------------------------

    def _volume_group(self, volume_id):
        volume = objects.Volume.get_by_id(self.context, volume_id)
        if volume.provider_id:
            try:
                return volume, self.source.volume_groups.get(
                    volume.provider_id)
            except prism_exc.NotFound:
                pass
        found = self.source.volume_groups.find_by_name(volume.name)
        if not found:
            raise exception.BackupDriverException(reason=_(
                'volume %s has no volume group on the Nutanix cluster: the '
                'Nutanix backup driver backs up Nutanix volumes only') %
                volume_id)
        return volume, found[0]

    @staticmethod
    def _points(client, name):
        return [rp for rp in client.recovery_points.find_by_name(name)]

    def _delete_points(self, client, name):
        for rp in self._points(client, name):
            try:
                client.recovery_points.delete(rp['extId'])
            except prism_exc.NotFound:
                pass

    @staticmethod
    def _metadata(backup):
        try:
            return json.loads(backup.service_metadata or '{}')
        except ValueError:
            return {}

    # -- backup ---------------------------------------------------------------

    def backup(self, backup, volume_file, backup_metadata=False):
        """Recovery point of the volume, replicated to the backup cluster.

        Backend calls: ``POST recovery-points`` on the source,
        ``$actions/replicate`` to the backup cluster.  On any failure the
        new source point is removed; the backup cluster never keeps a
        partial copy.
        """
        try:
            return self._backup(backup)
        except prism_exc.PrismError as e:
            msg = _('Nutanix backup %(id)s failed: %(e)s') % {
                'id': backup.id, 'e': e}
            LOG.error(msg)
            raise exception.BackupOperationError(msg)

    def _backup(self, backup):
        volume, vg = self._volume_group(backup.volume_id)
        name = NAME % backup.id
        target_cluster = self.target.cluster_ext_id()
        rp = self.source.recovery_points.create(
            name, volume_group_ext_ids=[vg['extId']])
        try:
            replica = self.source.replication.replicate(
                rp['extId'], cluster_ext_id=target_cluster)
        except Exception:
            LOG.warning('Backup %s: replication failed, removing its '
                        'recovery point', backup.id)
            self._delete_points(self.source, name)
            raise
        # Only the newest backup's point stays on the source (the base of
        # the next incremental one).
        previous = self._metadata_of_volume_backups(backup)
        for old in previous:
            self._delete_points(self.source, NAME % old)
        backup.service_metadata = json.dumps({
            'replica': replica['extId'], 'vg': vg['extId'],
            'locationAgnosticId': rp['locationAgnosticId'],
            'bytesSent': replica['bytesSent']})
        backup.save()
        LOG.info('Backup %(id)s of volume %(vol)s: %(bytes)d bytes sent '
                 'to the backup cluster', {'id': backup.id,
                                           'vol': volume.id,
                                           'bytes': replica['bytesSent']})
        return {}

    def _metadata_of_volume_backups(self, backup):
        """Ids of the volume's other backups (their source points go)."""
        try:
            backups = objects.BackupList.get_all_by_volume(
                self.context, backup.volume_id, backup.project_id)
        except Exception:
            return []
        return [b.id for b in backups if b.id != backup.id]

    # -- restore --------------------------------------------------------------

    def restore(self, backup, volume_id, volume_file, volume_is_new):
        """Give the volume's group a disk cloned from the backup's point.

        The source cluster's copy of the point when it still has it, else
        the backup replicated back from the backup cluster.  Backend calls:
        ``$actions/replicate`` (when needed), ``POST .../disks`` with a
        disk recovery point source, ``DELETE .../disks/{old}``.
        """
        try:
            self._restore(backup, volume_id)
        except prism_exc.PrismError as e:
            msg = _('Nutanix restore of backup %(id)s failed: %(e)s') % {
                'id': backup.id, 'e': e}
            LOG.error(msg)
            raise exception.BackupOperationError(msg)

    def _restore(self, backup, volume_id):
        meta = self._metadata(backup)
        if not meta.get('replica'):
            raise exception.InvalidBackup(reason=_(
                'backup %s was not made by the Nutanix backup driver')
                % backup.id)
        volume, vg = self._volume_group(volume_id)
        name = NAME % backup.id
        lai = meta.get('locationAgnosticId')
        local = [rp for rp in self.source.replication.find_replicas(
            location_agnostic_id=lai, name=name)]
        copied = None
        if local:
            rp = local[0]
        else:
            copied = self.target.replication.replicate(
                meta['replica'],
                cluster_ext_id=self.source.cluster_ext_id())
            rp = self.source.recovery_points.get(copied['extId'])
        try:
            [(vgrp, drp)] = [
                (m, d) for m in rp.get('volumeGroupRecoveryPoints') or []
                for d in m.get('diskRecoveryPoints') or []]
            old_disks = self.source.volume_groups.list_disks(vg['extId'])
            container = old_disks[0]['storageContainerId'] if old_disks \
                else CONF.backup_nutanix_storage_container
            size = max(volume.size * 1024 ** 3, 0)
            new = self.source.volume_groups.add_disk(
                vg['extId'], prism_vg.volume_disk(
                    size, container,
                    data_source=prism_vg.disk_recovery_point_source(
                        drp['diskRecoveryPointExtId'])))
            for disk in old_disks:
                self.source.volume_groups.delete_disk(vg['extId'],
                                                      disk['extId'])
            LOG.info('Restored backup %(b)s into volume %(v)s (disk %(d)s)',
                     {'b': backup.id, 'v': volume_id,
                      'd': (new or {}).get('extId')})
        finally:
            if copied:
                self.source.recovery_points.delete(copied['extId'])

    # -- delete ---------------------------------------------------------------

    def delete_backup(self, backup):
        """The backup's points on both clusters; missing ones are fine."""
        name = NAME % backup.id
        try:
            self._delete_points(self.target, name)
            self._delete_points(self.source, name)
        except prism_exc.PrismError as e:
            raise exception.BackupOperationError(
                _('Nutanix: deleting backup %(id)s failed: %(e)s')
                % {'id': backup.id, 'e': e})

    def export_record(self, backup):
        return self._metadata(backup)

    def import_record(self, backup, driver_info):
        backup.service_metadata = json.dumps(driver_info)
        backup.save()


def get_backup_driver(context):
    return NutanixBackupDriver(context)
