"""Cinder replication v2.1 ("cheesecake") and group replication on Nutanix.

Replication is asynchronous and made of recovery points: a replicated
volume (volume type extra spec ``replication_enabled='<is> True'``) gets a
recovery point named ``replica-volume-<id>.<UTC time>`` that is replicated
to the secondary cluster when the volume is created and then every
``nutanix_replication_interval`` seconds (incrementally: only the changed
regions travel).  A generic volume group with replication enabled
(``consistent_group_replication_enabled``) gets ONE recovery point over
all its volumes, ``replica-group-<id>.<UTC time>``, so its volumes fail
over together from the same instant (a multi-volume database).  The newest
``nutanix_replication_keep`` points are kept on each side; the newest one
replicated is the base of the next incremental copy.

``failover_host`` restores, on the secondary cluster, the newest replica
of every replicated volume (a group's volumes from their group's newest
replica) as ``volume-<id>`` and makes the secondary the active backend;
volumes that are not replicated, or have no replica, go to ``error``.
``failover_host(..., 'default')`` fails back: each volume's current data
is snapshotted on the secondary, replicated to the primary and restored
there, and the primary becomes active again.

The secondary is a ``replication_device`` entry of the backend's section::

    replication_device = backend_id:site-b,endpoints:https://pc-b:9440,
        username:admin,password:...,storage_container:default-container

(one line; several endpoints separated by ``;``).  Other keys:
``cluster`` (name or extId, when its Prism Central has several),
``verify_ssl`` (``true``/``false``), ``ca_file``.
"""

import datetime

from cinder import exception
from cinder.objects import fields
from oslo_log import log as logging
from oslo_utils import strutils

from nutanix_openstack.i18n import _
from nutanix_openstack.prism import client as prism_client
from nutanix_openstack.prism import clusters as prism_clusters
from nutanix_openstack.prism import exceptions as prism_exc
from nutanix_openstack.prism import paths

LOG = logging.getLogger(__name__)

VOLUME_PREFIX = 'replica-volume-%s.'
GROUP_PREFIX = 'replica-group-%s.'
FAILBACK_PREFIX = 'failback-volume-%s.'
DEFAULT = 'default'
REQUIRED_KEYS = ('backend_id', 'endpoints', 'username', 'password')


def is_replicated(volume):
    """Whether the volume's type asks for replication."""
    vtype = getattr(volume, 'volume_type', None)
    specs = getattr(vtype, 'extra_specs', None) or {}
    return specs.get('replication_enabled') == '<is> True'


def group_replication_enabled(group):
    spec = 'consistent_group_replication_enabled'
    try:
        return group.is_replicated
    except Exception:
        specs = getattr(getattr(group, 'group_type', None), 'group_specs',
                        None) or {}
        return specs.get(spec) == '<is> True'


def _stamp():
    return datetime.datetime.now(datetime.timezone.utc).strftime(
        '%Y%m%dT%H%M%S.%fZ')


def _age_seconds(created):
    then = datetime.datetime.fromisoformat(created.replace('Z', '+00:00'))
    if then.tzinfo is None:
        then = then.replace(tzinfo=datetime.timezone.utc)
    return max(0.0, (datetime.datetime.now(datetime.timezone.utc) -
                     then).total_seconds())


class Target(object):
    """One ``replication_device``: the secondary cluster and its client."""

    def __init__(self, device, conf):
        missing = [k for k in REQUIRED_KEYS if not device.get(k)]
        if missing:
            raise exception.InvalidConfigurationValue(
                option='replication_device',
                value=_('missing %s') % ', '.join(missing))
        self.backend_id = device['backend_id']
        if self.backend_id == DEFAULT:
            raise exception.InvalidConfigurationValue(
                option='replication_device',
                value=_('backend_id "default" names the primary'))
        self.device = device
        self.conf = conf
        self._client = None
        self.cluster_ext_id = None
        self.container_ext_id = None
        self.container = None

    @property
    def client(self):
        if self._client is None:
            dev, conf = self.device, self.conf
            # The replica cluster's own endpoints and credentials; the
            # timeouts and retries of this backend's options.
            self._client = prism_client.PrismClient.from_conf(
                conf, prefix='nutanix_',
                endpoints=[e for e in dev['endpoints'].split(';') if e],
                username=dev['username'], password=dev['password'],
                verify=strutils.bool_from_string(
                    dev.get('verify_ssl', conf.nutanix_verify_ssl)),
                ca_file=dev.get('ca_file') or conf.nutanix_ca_file,
                cluster=dev.get('cluster'))
        return self._client

    def resolve(self):
        """The secondary's cluster and container extIds (looked up once)."""
        if self.cluster_ext_id is None:
            cluster = self.client.cluster_ext_id()
            name = self.device.get('storage_container') or \
                self.conf.nutanix_storage_container
            container = self.client.clusters.find_storage_container(
                name, cluster_ext_id=cluster)
            self.container_ext_id = prism_clusters.storage_container_ext_id(
                container)
            self.container = container
            self.cluster_ext_id = cluster
        return self.cluster_ext_id, self.container_ext_id


def parse_targets(conf):
    devices = conf.safe_get('replication_device') or []
    targets = [Target(d, conf) for d in devices]
    ids = [t.backend_id for t in targets]
    if len(set(ids)) != len(ids):
        raise exception.InvalidConfigurationValue(
            option='replication_device', value=_('duplicate backend_id'))
    return targets


class ReplicationOps(object):
    """Replicas of volumes and groups; failover and failback."""

    def __init__(self, driver, targets):
        self.driver = driver
        self.targets = dict((t.backend_id, t) for t in targets)
        conf = driver.configuration
        self.keep = conf.nutanix_replication_keep
        self.timeout = conf.nutanix_replication_timeout

    @property
    def enabled(self):
        return bool(self.targets)

    def target(self, backend_id=None):
        """The target named ``backend_id`` (the only one when None)."""
        if not self.targets:
            raise exception.UnableToFailOver(
                reason=_('Nutanix: replication is not configured '
                         '(no replication_device).'))
        if backend_id is None:
            if len(self.targets) > 1:
                raise exception.InvalidReplicationTarget(
                    reason=_('Nutanix: several replication targets; name '
                             'one of %s') % ', '.join(sorted(self.targets)))
            return next(iter(self.targets.values()))
        if backend_id not in self.targets:
            raise exception.InvalidReplicationTarget(
                reason=_('Nutanix: unknown replication target %(id)s; '
                         'configured: %(ids)s') % {
                    'id': backend_id,
                    'ids': ', '.join(sorted(self.targets))})
        return self.targets[backend_id]

    # -- protecting -----------------------------------------------------------

    def protect(self, prefix, vg_ext_ids, target=None):
        """A new recovery point over the groups, replicated to the target.

        On failure the new recovery point is removed and the error raised
        (the replica on the target is never half-made: the cluster removes
        a partial copy).  Older points beyond ``keep`` are pruned on both
        sides.  Returns the replica's extId on the target.
        """
        target = target or self.target()
        cluster, _container = target.resolve()
        client = self.driver.client
        name = prefix + _stamp()
        rp = self.driver.snapshot_ops.create_recovery_point(name, vg_ext_ids)
        try:
            replica = client.replication.replicate(
                rp['extId'], cluster_ext_id=cluster, timeout=self.timeout)
        except Exception:
            LOG.warning('Replication of %(name)s to %(target)s failed; '
                        'removing the new recovery point',
                        {'name': name, 'target': target.backend_id})
            self.driver.snapshot_ops.delete_recovery_point(rp['extId'])
            raise
        LOG.info('Replicated %(name)s to %(target)s (%(bytes)d bytes sent)',
                 {'name': name, 'target': target.backend_id,
                  'bytes': replica['bytesSent']})
        self._prune(client, prefix)
        self._prune(target.client, prefix)
        return replica['extId']

    def _prune(self, client, prefix):
        points = self._points(client, prefix)
        for rp in points[:-self.keep]:
            try:
                client.recovery_points.delete(rp['extId'])
            except prism_exc.NotFound:
                pass
            except prism_exc.PrismError as e:
                LOG.warning('Could not prune recovery point %(rp)s: %(e)s',
                            {'rp': rp['extId'], 'e': e})

    @staticmethod
    def _points(client, prefix):
        """Recovery points named ``<prefix>...``, oldest first."""
        return sorted(
            (rp for rp in client.recovery_points.list()
             if (rp.get('name') or '').startswith(prefix)),
            key=lambda rp: (rp.get('creationTime') or '', rp['name']))

    def protect_volume(self, volume, vg_ext_id):
        """Initial replica of a new replicated volume; its model update."""
        if not self.enabled or not is_replicated(volume):
            return {}
        if self.driver.failed_over:
            # The primary is gone: nothing to replicate to.
            return {'replication_status':
                    fields.ReplicationStatus.FAILED_OVER}
        self.protect(VOLUME_PREFIX % volume.id, [vg_ext_id])
        return {'replication_status': fields.ReplicationStatus.ENABLED}

    def forget(self, prefix):
        """Delete every replica named ``prefix...`` here and on targets."""
        for client in [self.driver.client] + [
                t.client for t in self.targets.values()]:
            try:
                for rp in self._points(client, prefix):
                    client.recovery_points.delete(rp['extId'])
            except prism_exc.PrismError as e:
                LOG.warning('Could not remove replicas %(p)s: %(e)s',
                            {'p': prefix, 'e': e})

    def replicate_all(self, min_age=0):
        """The periodic pass: a new replica of everything replicated.

        Every volume or group that has replicas gets a new point over the
        volume groups of its newest one, unless that one is younger than
        ``min_age`` seconds (a peer service of an active-active cluster
        made it).  Errors are logged per subject (one unreachable volume
        does not stop the others).
        """
        if not self.enabled or self.driver.failed_over:
            return 0
        done = 0
        newest = {}
        for rp in self._points(self.driver.client, 'replica-'):
            newest[rp['name'].rsplit('.', 2)[0] + '.'] = rp
        for prefix, rp in sorted(newest.items()):
            if min_age and rp.get('creationTime') and \
                    _age_seconds(rp['creationTime']) < min_age:
                continue
            vgs = [m['volumeGroupExtId']
                   for m in rp.get('volumeGroupRecoveryPoints') or []]
            try:
                self.protect(prefix, vgs)
                done += 1
            except Exception as e:
                LOG.error('Periodic replication of %(p)s failed: %(e)s',
                          {'p': prefix, 'e': e})
        return done

    def lag_seconds(self):
        """Age of the oldest "newest replica" among replicated subjects."""
        if not self.enabled or self.driver.failed_over:
            return None
        cluster, _c = self.target().resolve()
        newest = {}
        for rp in self._points(self.driver.client, 'replica-'):
            locations = [r.get('locationExtId')
                         for r in rp.get('locationReferences') or []]
            if cluster in locations:
                newest[rp['name'].rsplit('.', 2)[0]] = rp['creationTime']
        if not newest:
            return 0.0
        return round(max(_age_seconds(c) for c in newest.values()), 1)

    # -- groups ---------------------------------------------------------------

    def enable_group(self, group, volumes):
        vgs = [self.driver.volume_ops.get_volume_group(v)['extId']
               for v in volumes]
        status = fields.ReplicationStatus.ENABLED
        if vgs:
            self.protect(GROUP_PREFIX % group.id, vgs)
        return ({'replication_status': status},
                [{'id': v.id, 'replication_status': status}
                 for v in volumes])

    def disable_group(self, group, volumes):
        self.forget(GROUP_PREFIX % group.id)
        status = fields.ReplicationStatus.DISABLED
        return ({'replication_status': status},
                [{'id': v.id, 'replication_status': status}
                 for v in volumes])

    # -- failover -------------------------------------------------------------

    def failover(self, volumes, secondary_id, groups):
        """``failover_host``; returns its three results.

        ``(active backend id, volume updates, group updates)``.  Raises
        before changing anything for an unknown target.
        """
        if secondary_id == DEFAULT:
            return self.failback(volumes, groups)
        target = self.target(secondary_id)
        if self.driver.failed_over:
            raise exception.InvalidReplicationTarget(
                reason=_('Nutanix: already failed over to %s; fail back '
                         'first') % self.driver.active_backend_id)
        try:
            target.resolve()
        except prism_exc.PrismError as e:
            raise exception.UnableToFailOver(
                reason=_('Nutanix: secondary %(id)s unreachable: %(e)s')
                % {'id': target.backend_id, 'e': e})
        client = target.client
        group_ids = set(g.id for g in groups or []
                        if group_replication_enabled(g))
        restored_groups = {}
        group_updates = []
        for group_id in sorted(group_ids):
            restored = self._restore_newest(client,
                                            GROUP_PREFIX % group_id)
            restored_groups[group_id] = restored
            group_updates.append({'group_id': group_id, 'updates': {
                'replication_status': (
                    fields.ReplicationStatus.FAILED_OVER if restored
                    is not None else fields.ReplicationStatus.ERROR)}})
        updates = []
        for volume in volumes:
            updates.append({'volume_id': volume.id, 'updates':
                            self._failover_volume(client, volume,
                                                  restored_groups)})
        return target.backend_id, updates, group_updates

    def _failover_volume(self, client, volume, restored_groups):
        error = {'status': 'error', 'previous_status': volume.status}
        if not is_replicated(volume):
            # Its data stays on the lost primary.
            return error
        name = volume.name
        try:
            if volume.group_id in restored_groups and \
                    restored_groups[volume.group_id] is not None:
                vg = restored_groups[volume.group_id].get(name)
            else:
                restored = self._restore_newest(
                    client, VOLUME_PREFIX % volume.id)
                vg = (restored or {}).get(name)
        except prism_exc.PrismError as e:
            LOG.error('Failover of volume %(v)s failed: %(e)s',
                      {'v': volume.id, 'e': e})
            vg = None
        if vg is None:
            LOG.error('Volume %s has no replica on the secondary', volume.id)
            return dict(error, replication_status=(
                fields.ReplicationStatus.FAILOVER_ERROR))
        return {'provider_id': vg,
                'replication_status': fields.ReplicationStatus.FAILED_OVER}

    def _restore_newest(self, client, prefix):
        """Restore the newest replica ``prefix...``: ``{vg name: extId}``."""
        points = self._points(client, prefix)
        if not points:
            return None
        rp = points[-1]
        created = client.recovery_points.restore(rp['extId'])
        restored = {}
        for entity in created:
            if entity['rel'] == paths.REL_VOLUME_GROUP:
                vg = client.volume_groups.get(entity['extId'])
                restored[vg['name']] = vg['extId']
        LOG.info('Restored %(rp)s (%(created)s) on the secondary',
                 {'rp': rp['name'], 'created': restored})
        return restored

    def failback(self, volumes, groups):
        """Bring every failed-over volume's data back to the primary."""
        if not self.driver.failed_over:
            raise exception.InvalidReplicationTarget(
                reason=_('Nutanix: not failed over; nothing to fail back'))
        secondary = self.driver.client
        primary = self.driver.primary_client
        try:
            primary_cluster = primary.cluster_ext_id()
        except prism_exc.PrismError as e:
            raise exception.UnableToFailOver(
                reason=_('Nutanix: primary unreachable: %s') % e)
        updates = []
        for volume in volumes:
            if volume.replication_status != \
                    fields.ReplicationStatus.FAILED_OVER:
                continue
            updates.append({'volume_id': volume.id, 'updates':
                            self._failback_volume(secondary, primary,
                                                  primary_cluster, volume)})
        group_updates = [
            {'group_id': g.id, 'updates': {
                'replication_status': fields.ReplicationStatus.ENABLED}}
            for g in groups or [] if group_replication_enabled(g)]
        return DEFAULT, updates, group_updates

    def _failback_volume(self, secondary, primary, primary_cluster, volume):
        prefix = FAILBACK_PREFIX % volume.id
        try:
            vg = self.driver.volume_ops.get_volume_group(volume)
            rp = secondary.recovery_points.create(
                prefix + _stamp(), volume_group_ext_ids=[vg['extId']])
            try:
                secondary.replication.replicate(
                    rp['extId'], cluster_ext_id=primary_cluster,
                    timeout=self.timeout)
            finally:
                secondary.recovery_points.delete(rp['extId'])
            # The primary's stale group goes; the failed-back one takes
            # its name.
            for old in primary.volume_groups.find_by_name(volume.name):
                primary.volume_groups.delete(old['extId'])
            restored = self._restore_newest(primary, prefix)
            for point in self._points(primary, prefix):
                primary.recovery_points.delete(point['extId'])
            new_vg = (restored or {}).get(volume.name)
            if new_vg is None:
                raise exception.VolumeBackendAPIException(
                    data=_('failback restore made no volume group'))
            # The secondary copy is now stale; the replicas stay as the
            # base of the next replication.
            secondary.volume_groups.delete(vg['extId'])
        except Exception as e:
            LOG.error('Failback of volume %(v)s failed: %(e)s',
                      {'v': volume.id, 'e': e})
            return {'status': 'error', 'replication_status':
                    fields.ReplicationStatus.FAILOVER_ERROR}
        return {'provider_id': new_vg,
                'replication_status': fields.ReplicationStatus.ENABLED}
