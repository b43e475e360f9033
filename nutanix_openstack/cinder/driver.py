"""Cinder volume driver for Nutanix AHV clusters (v4 API).

A volume is a volume group with one disk, a snapshot a recovery point of
that group, a clone or a volume-from-snapshot a group whose disk's data
source is the source disk or disk recovery point (copy-on-write on the
cluster).  Configuration::

    [nutanix]
    volume_driver = nutanix_openstack.cinder.driver.NutanixVolumeDriver
    volume_backend_name = nutanix
    nutanix_endpoints = https://prism-central:9440
    nutanix_username = admin
    nutanix_password = ...
    nutanix_storage_container = default-container

The methods below delegate to the ``*ops`` modules; each names the backend
calls it makes.
"""

import functools
import inspect

from cinder import coordination as cinder_coordination
from cinder import exception
from cinder import interface
from cinder.volume import configuration
from cinder.volume import driver
from oslo_config import cfg
from oslo_log import log as logging
from oslo_service import loopingcall
from oslo_utils import excutils

from nutanix_openstack.cinder import connection
from nutanix_openstack.cinder import imageops
from nutanix_openstack.cinder import manageops
from nutanix_openstack.cinder import options
from nutanix_openstack.cinder import replicationops
from nutanix_openstack.cinder import snapshotops
from nutanix_openstack.cinder import volumeops
from nutanix_openstack import coordination
from nutanix_openstack.i18n import _
from nutanix_openstack.prism import client as prism_client
from nutanix_openstack.prism import clusters as prism_clusters
from nutanix_openstack.prism import exceptions as prism_exc
from nutanix_openstack.prism import volume_groups as prism_vg

LOG = logging.getLogger(__name__)

CONF = cfg.CONF
CONF.register_opts(options.ALL_OPTS, group=configuration.SHARED_CONF_GROUP)

# The Cinder objects whose id names what a failed call was about.
_SUBJECTS = ('volume', 'snapshot', 'group_snapshot', 'group')


def _volume_is_busy(args):
    return exception.VolumeIsBusy(volume_name=args['volume'].name)


def _snapshot_is_busy(args):
    return exception.SnapshotIsBusy(snapshot_name=args['snapshot'].name)


def boundary(f=None, in_use=None):
    """The driver's one error boundary: client errors become Cinder's.

    Every public driver method carries it; the ``*ops`` modules let client
    errors through.  A ``Conflict`` (the cluster says the object is in use)
    becomes ``in_use(arguments)`` when the method gives one (a volume or
    snapshot Cinder then keeps available), and every other client error a
    ``VolumeBackendAPIException`` naming the method, its object and the
    backend's message and request id (never credentials: the client does not
    put them in messages).
    """
    if f is None:
        return functools.partial(boundary, in_use=in_use)
    sig = inspect.signature(f)

    @functools.wraps(f)
    def wrapper(self, *args, **kwargs):
        try:
            return f(self, *args, **kwargs)
        except prism_exc.PrismError as e:
            arguments = sig.bind_partial(self, *args, **kwargs).arguments
            if in_use is not None and isinstance(e, prism_exc.Conflict):
                LOG.warning('Nutanix backend: %(action)s: in use on the '
                            'cluster: %(error)s',
                            {'action': _action(f, arguments), 'error': e})
                raise in_use(arguments) from e
            msg = _('Nutanix backend: %(action)s failed: %(error)s') % {
                'action': _action(f, arguments), 'error': e}
            LOG.error(msg)
            raise exception.VolumeBackendAPIException(data=msg) from e
    return wrapper


def _action(f, arguments):
    """``create_volume of volume <id>``: the method and what it was about."""
    for name in _SUBJECTS:
        subject = arguments.get(name)
        if getattr(subject, 'id', None):
            return '%s of %s %s' % (f.__name__, name.replace('_', ' '),
                                    subject.id)
    return f.__name__


@interface.volumedriver
class NutanixVolumeDriver(driver.VolumeDriver):
    """Volumes as Nutanix volume groups, exported over iSCSI.

    Version history:
        1.0.0 - volumes, snapshots, clones, image clone/upload, groups,
                manage/unmanage, iSCSI export with the volume group id for
                direct VM attachment.
    """

    VERSION = '1.0.0'
    VENDOR = 'Nutanix'
    STORAGE_PROTOCOL = 'iSCSI'
    # Several cinder-volume services of one Cinder cluster (``cluster =``)
    # may run this backend: the driver keeps no state a peer needs (every
    # answer comes from the cluster, objects are found by name), what must
    # happen once per cluster is locked through Cinder's coordinator, and
    # a dead peer's leftovers are removed by Cinder's cleanup
    # (clear_download) and by delete_volume.
    SUPPORTS_ACTIVE_ACTIVE = True
    CI_WIKI_NAME = 'nutanix-openstack'

    def __init__(self, *args, **kwargs):
        super(NutanixVolumeDriver, self).__init__(*args, **kwargs)
        if self.configuration:
            self.configuration.append_config_values(options.ALL_OPTS)
        self.client = None
        self.volume_ops = None
        self.snapshot_ops = None
        self.image_ops = None
        self.connection_ops = None
        self.manage_ops = None
        self.replication_ops = None
        self.primary_client = None
        self._container_name = None
        # Set by cinder-volume from the service record: the replication
        # target this backend failed over to, if it did.
        self._active_backend_id = kwargs.get('active_backend_id')
        self._replication_loop = None

    @property
    def active_backend_id(self):
        return self._active_backend_id or replicationops.DEFAULT

    @property
    def failed_over(self):
        return self.active_backend_id != replicationops.DEFAULT

    @classmethod
    def get_driver_options(cls):
        additional = cls._get_oslo_driver_opts(
            'reserved_percentage', 'max_over_subscription_ratio',
            'use_chap_auth', 'chap_username', 'chap_password',
            'volume_backend_name')
        return options.ALL_OPTS + additional

    # -- setup ----------------------------------------------------------------

    @boundary
    def do_setup(self, context):
        """Build the REST client and resolve the cluster and container.

        Backend calls: ``GET clusters``, ``GET storage-containers``.
        """
        conf = self.configuration
        if not conf.nutanix_endpoints:
            raise exception.InvalidConfigurationValue(
                option='nutanix_endpoints', value=conf.nutanix_endpoints)
        if not conf.nutanix_storage_container:
            raise exception.InvalidConfigurationValue(
                option='nutanix_storage_container', value=None)
        try:
            self.primary_client = self._make_client()
            targets = replicationops.parse_targets(conf)
        except prism_exc.PrismError as e:
            raise exception.VolumeDriverException(
                message=_('Nutanix client configuration: %s') % e)
        self.replication_ops = replicationops.ReplicationOps(self, targets)
        if self.failed_over:
            self._use_target(self.replication_ops.target(
                self._active_backend_id))
        else:
            self._use_primary()
        interval = conf.nutanix_replication_interval
        if self.replication_ops.enabled and interval:
            self._replication_loop = loopingcall.FixedIntervalLoopingCall(
                self._periodic_replication)
            self._replication_loop.start(interval=interval,
                                         initial_delay=interval)
        LOG.info('Nutanix backend %(backend)s: cluster %(cluster)s, '
                 'storage container %(container)s%(active)s',
                 {'backend': conf.safe_get('volume_backend_name'),
                  'cluster': self.volume_ops.cluster_ext_id,
                  'container': self._container_name,
                  'active': '' if not self.failed_over else
                  ' (failed over to %s)' % self.active_backend_id})

    def _use_primary(self):
        client = self.primary_client
        cluster_ext_id = client.cluster_ext_id()
        container = client.clusters.find_storage_container(
            self.configuration.nutanix_storage_container,
            cluster_ext_id=cluster_ext_id)
        self._use(client, cluster_ext_id, container)

    def _use_target(self, target):
        cluster_ext_id, _ext_id = target.resolve()
        self._use(target.client, cluster_ext_id, target.container)

    def _use(self, client, cluster_ext_id, container):
        """Work on this cluster and container.

        The primary's, or after a failover the secondary's.
        """
        conf = self.configuration
        self.client = client
        container_ext_id = prism_clusters.storage_container_ext_id(container)
        self._container_name = container.get('name') or container_ext_id
        self.volume_ops = volumeops.VolumeOps(self.client, cluster_ext_id,
                                              container_ext_id)
        self.snapshot_ops = snapshotops.SnapshotOps(self.client,
                                                    self.volume_ops)
        self.image_ops = imageops.ImageOps(self.client, self.volume_ops,
                                           conf)
        self.connection_ops = connection.ConnectionOps(
            self.client, self.volume_ops, conf)
        self.manage_ops = manageops.ManageOps(self.client, self.volume_ops,
                                              self.snapshot_ops)

    def _periodic_replication(self):
        # Active-active: one service of the cluster makes the pass; a peer
        # that finds the lock taken (or fresh replicas) skips it.
        interval = self.configuration.nutanix_replication_interval
        try:
            lock = cinder_coordination.COORDINATOR.get_lock(
                'nutanix-replication-%s' % (
                    self.configuration.safe_get('volume_backend_name') or
                    self.configuration.config_group))
            if not lock.acquire(blocking=False):
                LOG.debug('A peer service is replicating; pass skipped')
                return
        except Exception:
            LOG.exception('Periodic replication pass skipped: no lock from '
                          'the coordination backend')
            return
        try:
            self.replication_ops.replicate_all(min_age=interval / 2.0)
        except Exception:
            LOG.exception('Periodic replication pass failed')
        finally:
            try:
                lock.release()
            except Exception:
                LOG.warning('Could not release the replication lock',
                            exc_info=True)

    @boundary
    def failover_completed(self, context, active_backend_id=None):
        """Peers of an active-active cluster follow a failover or failback.

        Cinder calls ``failover`` on one service of the cluster and then
        this on every service: each then works on the backend that is now
        active (the secondary, or the primary again after a failback).
        """
        if active_backend_id in (None, replicationops.DEFAULT):
            self._active_backend_id = None
            self._use_primary()
        else:
            self._active_backend_id = active_backend_id
            self._use_target(self.replication_ops.target(active_backend_id))

    def _make_client(self):
        client = prism_client.PrismClient.from_conf(self.configuration,
                                                    prefix='nutanix_')
        client.lock = functools.partial(
            _cluster_lock, self.configuration.nutanix_lock_timeout)
        return client

    def check_for_setup_error(self):
        """Setup resolved the cluster and container (do_setup raises)."""
        if self.volume_ops is None:
            raise exception.VolumeBackendAPIException(
                data=_('Nutanix driver is not set up'))

    # -- stats ----------------------------------------------------------------

    def _update_volume_stats(self):
        """Backend calls: ``GET storage-containers/{extId}`` and its stats."""
        conf = self.configuration
        backend_name = conf.safe_get('volume_backend_name') or 'Nutanix'
        pool = {
            'pool_name': self._container_name,
            'total_capacity_gb': 'unknown',
            'free_capacity_gb': 'unknown',
            'reserved_percentage': conf.safe_get('reserved_percentage') or 0,
            'max_over_subscription_ratio': conf.safe_get(
                'max_over_subscription_ratio'),
            'thin_provisioning_support': True,
            'thick_provisioning_support': False,
            'multiattach': True,
            'online_extend_support': True,
            'consistent_group_snapshot_enabled': True,
            'QoS_support': False,
            'backend_state': 'down',
            'location_info': 'nutanix:%s:%s' % (
                self.volume_ops.cluster_ext_id,
                self.volume_ops.container_ext_id),
        }
        try:
            cap = self.client.clusters.container_capacity(
                self.volume_ops.container_ext_id)
            gib = float(volumeops.GiB)
            pool.update(
                total_capacity_gb=round(cap['total_bytes'] / gib, 2),
                free_capacity_gb=round(cap['free_bytes'] / gib, 2),
                provisioned_capacity_gb=round(
                    cap['provisioned_bytes'] / gib, 2),
                backend_state='up')
        except prism_exc.PrismError:
            LOG.exception('Could not read the capacity of storage container '
                          '%s', self._container_name)
        self._stats = {
            'volume_backend_name': backend_name,
            'vendor_name': self.VENDOR,
            'driver_version': self.VERSION,
            'storage_protocol': self.STORAGE_PROTOCOL,
            'backend_state': pool['backend_state'],
            'pools': [pool],
        }
        self._stats.update(self._replication_stats())
        pool.update(self._replication_stats())

    def _replication_stats(self):
        """Replication capabilities and the current lag (RPO) in seconds."""
        ops = self.replication_ops
        if ops is None or not ops.enabled:
            return {'replication_enabled': False}
        stats = {
            'replication_enabled': True,
            'replication_type': ['async'],
            'replication_count': len(ops.targets),
            'replication_targets': sorted(ops.targets),
            'consistent_group_replication_enabled': True,
            'active_backend_id': self.active_backend_id,
            'replication_lag_seconds': None,
        }
        try:
            stats['replication_lag_seconds'] = ops.lag_seconds()
        except prism_exc.PrismError:
            LOG.exception('Could not read the replication lag')
        return stats

    # -- volumes --------------------------------------------------------------

    @boundary
    def create_volume(self, volume):
        """``POST volume-groups`` with one empty disk of ``volume.size``."""
        vg = self.volume_ops.create_volume_group(
            volume.name, volume.size, description=volumeops.describe(volume),
            multiattach=volume.multiattach)
        return self._protected(volume, {'provider_id': vg['extId']})

    def _protected(self, volume, update):
        """Replicate a new volume of a replicated type (initial copy).

        ``replicate`` on a new recovery point of its group; if that fails
        the new volume group is removed again and the error raised.
        """
        try:
            update.update(self.replication_ops.protect_volume(
                volume, update['provider_id']))
        except Exception:
            with excutils.save_and_reraise_exception():
                self.volume_ops.delete_volume_group(update['provider_id'])
        return update

    @boundary
    def create_cloned_volume(self, volume, src_vref):
        """Copy-on-write clone of the source volume's disk.

        ``POST volume-groups`` whose disk's data source is the source
        volume's disk (``VOLUME_DISK``), grown to ``volume.size``.
        """
        src = self.volume_ops.get_volume_group(src_vref)
        disk = self.volume_ops.only_disk(src['extId'])
        vg = self.volume_ops.create_volume_group(
            volume.name, volume.size,
            data_source=prism_vg.volume_disk_source(disk['extId']),
            description=volumeops.describe(volume),
            multiattach=volume.multiattach)
        return self._protected(volume, {'provider_id': vg['extId']})

    @boundary(in_use=_volume_is_busy)
    def delete_volume(self, volume):
        """Delete the volume group; a missing group is success.

        ``DELETE volume-groups/{extId}`` after detaching stale iSCSI
        clients; VolumeIsBusy while the cluster says it is in use.
        """
        # Temporary objects of a transfer interrupted by a service's death.
        self.image_ops.remove_leftovers(volume)
        if replicationops.is_replicated(volume) and \
                self.replication_ops.enabled:
            # Its replicas (here and on the secondary) go with it.
            self.replication_ops.forget(replicationops.VOLUME_PREFIX
                                        % volume.id)
        vg = self.volume_ops.find_volume_group(volume)
        if vg is None:
            LOG.info('Volume %s has no volume group; nothing to delete',
                     volume.id)
            return
        # Still attached to a VM (or otherwise in use on the cluster): the
        # boundary raises VolumeIsBusy and Cinder keeps the volume.
        self.volume_ops.delete_volume_group(vg['extId'])

    @boundary
    def extend_volume(self, volume, new_size):
        """``PUT volume-groups/{extId}/disks/{diskExtId}`` with the new size.

        Works while the volume is attached.
        """
        vg = self.volume_ops.get_volume_group(volume)
        self.volume_ops.grow(vg['extId'], new_size)

    # The volume group is the export: nothing to do per host beyond the
    # iSCSI client attachment made in initialize_connection.
    def create_export(self, context, volume, connector):
        pass

    def ensure_export(self, context, volume):
        pass

    def remove_export(self, context, volume):
        pass

    @boundary
    def clear_download(self, context, volume):
        """Cinder's cleanup of a volume left 'downloading' by a dead service.

        Called by the service that cleans up (Cinder's workers mechanism,
        at its start or on ``cinder work-cleanup``) before the volume is set
        to error: the temporary image of the interrupted
        copy_image_to_volume is deleted.  Backend calls: see
        imageops.ImageOps.remove_leftovers.
        """
        self.image_ops.remove_leftovers(volume)

    # Attach and detach of one volume read the volume group's clients and
    # then change them: serialised across the services of the cluster.
    @boundary
    @cinder_coordination.synchronized('nutanix-connection-{volume.id}')
    def initialize_connection(self, volume, connector):
        return self.connection_ops.initialize_connection(volume, connector)

    @boundary
    @cinder_coordination.synchronized('nutanix-connection-{volume.id}')
    def terminate_connection(self, volume, connector, **kwargs):
        others = 0
        if connector is not None:
            others = _other_attachments_on_host(volume, connector)
        return self.connection_ops.terminate_connection(
            volume, connector, other_attachments=others)

    # -- snapshots ------------------------------------------------------------

    @boundary
    def create_snapshot(self, snapshot):
        return self.snapshot_ops.create_snapshot(snapshot)

    @boundary(in_use=_snapshot_is_busy)
    def delete_snapshot(self, snapshot):
        return self.snapshot_ops.delete_snapshot(snapshot)

    @boundary
    def create_volume_from_snapshot(self, volume, snapshot):
        return self._protected(volume, self.snapshot_ops
                               .create_volume_from_snapshot(volume, snapshot))

    @boundary
    def revert_to_snapshot(self, context, volume, snapshot):
        return self.snapshot_ops.revert_to_snapshot(volume, snapshot)

    # -- images ---------------------------------------------------------------

    @boundary
    def clone_image(self, context, volume, image_location, image_meta,
                    image_service):
        return self.image_ops.clone_image(context, volume, image_location,
                                          image_meta, image_service)

    @boundary
    def copy_image_to_volume(self, context, volume, image_service, image_id,
                             disable_sparse=False):
        return self.image_ops.copy_image_to_volume(
            context, volume, image_service, image_id,
            disable_sparse=disable_sparse)

    @boundary
    def copy_volume_to_image(self, context, volume, image_service,
                             image_meta):
        return self.image_ops.copy_volume_to_image(context, volume,
                                                   image_service, image_meta)

    # -- manage ---------------------------------------------------------------

    @boundary
    def manage_existing(self, volume, existing_ref):
        return self.manage_ops.manage_existing(volume, existing_ref)

    @boundary
    def manage_existing_get_size(self, volume, existing_ref):
        return self.manage_ops.manage_existing_get_size(volume, existing_ref)

    def unmanage(self, volume):
        return self.manage_ops.unmanage(volume)

    @boundary
    def get_manageable_volumes(self, cinder_volumes, marker, limit, offset,
                               sort_keys, sort_dirs):
        return self.manage_ops.get_manageable_volumes(
            cinder_volumes, marker, limit, offset, sort_keys, sort_dirs)

    @boundary
    def manage_existing_snapshot(self, snapshot, existing_ref):
        return self.manage_ops.manage_existing_snapshot(snapshot,
                                                        existing_ref)

    @boundary
    def manage_existing_snapshot_get_size(self, snapshot, existing_ref):
        return self.manage_ops.manage_existing_snapshot_get_size(
            snapshot, existing_ref)

    def unmanage_snapshot(self, snapshot):
        return self.manage_ops.unmanage_snapshot(snapshot)

    @boundary
    def get_manageable_snapshots(self, cinder_snapshots, marker, limit,
                                 offset, sort_keys, sort_dirs):
        volumes = {}
        for vg in self.client.volume_groups.list():
            if (vg.get('name') or '').startswith('volume-'):
                disk = self.volume_ops.only_disk(vg['extId'])
                volumes[vg['extId']] = {'size': volumeops.size_gb_ceil(
                    disk.get('diskSizeBytes') or 0)}
        return self.manage_ops.get_manageable_snapshots(
            cinder_snapshots, marker, limit, offset, sort_keys, sort_dirs,
            volumes)

    # -- replication ----------------------------------------------------------

    @boundary
    def failover_host(self, context, volumes, secondary_id=None, groups=None):
        """Fail over to the secondary cluster, or back with ``'default'``.

        Failover: for every replicated volume, ``$actions/restore`` of the
        newest replica on the secondary (a group's volumes from their
        group's one replica); the secondary becomes the active backend.
        Non-replicated volumes and volumes without a replica go to
        ``error``.  Failback: each failed-over volume is snapshotted on the
        secondary, replicated to the primary and restored there, then
        replicated again from the primary.  An unknown ``secondary_id``
        raises InvalidReplicationTarget before anything changes.
        """
        active, updates, group_updates = self.replication_ops.failover(
            volumes, secondary_id, groups)
        if active == replicationops.DEFAULT:
            self._active_backend_id = None
            self._use_primary()
            self._reprotect(volumes, updates, groups)
        else:
            self._active_backend_id = active
            self._use_target(self.replication_ops.target(active))
        return active, updates, group_updates

    def _reprotect(self, volumes, updates, groups):
        """After a failback: replicate the failed-back volumes again."""
        by_id = dict((v.id, v) for v in volumes)
        members = {}
        for update in updates:
            new_vg = update['updates'].get('provider_id')
            volume = by_id[update['volume_id']]
            if new_vg is None:
                continue
            members.setdefault(volume.group_id, []).append(new_vg)
            try:
                self.replication_ops.protect(
                    replicationops.VOLUME_PREFIX % volume.id, [new_vg])
            except Exception:
                LOG.exception('Could not replicate volume %s again after '
                              'failback', volume.id)
        for group in groups or []:
            if group.id in members and \
                    replicationops.group_replication_enabled(group):
                try:
                    self.replication_ops.protect(
                        replicationops.GROUP_PREFIX % group.id,
                        members[group.id])
                except Exception:
                    LOG.exception('Could not replicate group %s again after '
                                  'failback', group.id)

    @boundary
    def enable_replication(self, context, group, volumes):
        """One recovery point over the group's volumes, replicated."""
        return self.replication_ops.enable_group(group, volumes)

    @boundary
    def disable_replication(self, context, group, volumes):
        """The group's replicas are deleted on both clusters."""
        return self.replication_ops.disable_group(group, volumes)

    def failover_replication(self, context, group, volumes,
                             secondary_backend_id=None):
        """Not per group: the whole backend fails over (failover_host)."""
        raise exception.UnableToFailOver(reason=_(
            'Nutanix: a group fails over with its backend '
            '(cinder failover-host); per-group failover is not supported'))

    def get_replication_error_status(self, context, groups):
        return [], []

    # -- generic volume groups ------------------------------------------------

    def create_group(self, context, group):
        """Nothing on the backend.

        A group is the set of its volumes' volume groups, snapshotted together
        by create_group_snapshot.
        """
        return {'status': 'available'}

    @boundary
    def delete_group(self, context, group, volumes):
        """Delete every member volume (``DELETE volume-groups/{extId}``).

        A replicated group's replicas go too, on both clusters.
        """
        if self.replication_ops.enabled and \
                replicationops.group_replication_enabled(group):
            self.replication_ops.forget(replicationops.GROUP_PREFIX
                                        % group.id)
        updates = []
        status = 'deleted'
        for vol in volumes:
            try:
                self.delete_volume(vol)
                updates.append({'id': vol.id, 'status': 'deleted'})
            except exception.CinderException:
                LOG.exception('Could not delete volume %s of group %s',
                              vol.id, group.id)
                updates.append({'id': vol.id, 'status': 'error_deleting'})
                status = 'error_deleting'
        return {'status': status}, updates

    def update_group(self, context, group, add_volumes=None,
                     remove_volumes=None):
        """Membership lives in Cinder only.

        Nothing to change on the cluster.
        """
        return None, None, None

    @boundary
    def create_group_snapshot(self, context, group_snapshot, snapshots):
        return self.snapshot_ops.create_group_snapshot(group_snapshot,
                                                       snapshots)

    @boundary
    def delete_group_snapshot(self, context, group_snapshot, snapshots):
        return self.snapshot_ops.delete_group_snapshot(group_snapshot,
                                                       snapshots)

    @boundary
    def create_group_from_src(self, context, group, volumes,
                              group_snapshot=None, snapshots=None,
                              source_group=None, source_vols=None):
        """Volumes of a group from a group snapshot or a source group.

        Each volume is restored from its member snapshot of the group
        snapshot, or cloned from its source volume; on a failure the
        volumes already created are deleted again.
        """
        created = []
        updates = []
        try:
            for vol in volumes:
                if group_snapshot is not None:
                    snap = _match(snapshots, 'id', vol.snapshot_id)
                    update = self.create_volume_from_snapshot(vol, snap)
                else:
                    src = _match(source_vols, 'id', vol.source_volid)
                    update = self.create_cloned_volume(vol, src)
                created.append(update['provider_id'])
                updates.append(dict(update, id=vol.id, status='available'))
        except Exception:
            with excutils.save_and_reraise_exception():
                for vg_ext_id in created:
                    try:
                        self.volume_ops.delete_volume_group(vg_ext_id)
                    except Exception:
                        LOG.warning('Could not remove volume group %s',
                                    vg_ext_id, exc_info=True)
        return {'status': 'available'}, updates


def _cluster_lock(timeout, name):
    """A lock of Cinder's coordinator (``[coordination] backend_url``).

    Shared by every cinder-volume service of the deployment (and, with
    the same etcd, by glance-api and nova-compute): what must happen once
    per cluster is done once.  CoordinationFailed when it cannot be taken.
    """
    return coordination.external_lock(
        cinder_coordination.COORDINATOR.get_lock, name, timeout,
        'Cinder coordination backend')


def _match(items, attr, value):
    for item in items or ():
        if getattr(item, attr) == value:
            return item
    raise exception.InvalidInput(
        reason=_('no source with %(attr)s %(value)s') % {'attr': attr,
                                                         'value': value})


def _other_attachments_on_host(volume, connector):
    """Count the other attachments of a volume on the connector's host.

    They use the same iSCSI initiator, so the export must stay.
    """
    if not getattr(volume, 'multiattach', False):
        return 0
    host = connector.get('host')
    attachments = getattr(volume, 'volume_attachment', None) or []
    same_host = [a for a in attachments
                 if a.attached_host == host and
                 a.attach_status == 'attached']
    # The attachment being terminated is still counted as attached.
    return max(0, len(same_host) - 1)
