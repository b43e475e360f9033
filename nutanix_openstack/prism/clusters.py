"""``/api/clustermgmt/v4.x/config/...``: clusters, hosts, containers."""

import datetime
import logging

from nutanix_openstack.prism import exceptions as exc
from nutanix_openstack.prism import paths

LOG = logging.getLogger(__name__)

PRISM_CENTRAL = 'PRISM_CENTRAL'


def is_prism_central(cluster):
    functions = ((cluster.get('config') or {}).get('clusterFunction') or [])
    return PRISM_CENTRAL in functions


def storage_container_ext_id(container):
    """The id disks and stats name a ``StorageContainer`` dict by.

    v4 gives it as ``containerExtId``; ``extId`` where that is missing.
    """
    return container.get('containerExtId') or container.get('extId')


def _last_value(series):
    """Latest value of a v4 stats time series (``[{timestamp, value}]``)."""
    if isinstance(series, (int, float)):
        return int(series)
    if not isinstance(series, list):
        return None
    points = [p for p in series
              if isinstance(p, dict) and p.get('value') is not None]
    if not points:
        return None
    points.sort(key=lambda p: p.get('timestamp') or '')
    return int(points[-1]['value'])


class ClustersAPI(object):
    """``/api/clustermgmt/v4.x/config/...``."""

    def __init__(self, session, clock=None):
        self._session = session
        self._now = clock or (
            lambda: datetime.datetime.now(datetime.timezone.utc))

    def list_clusters(self, filter=None):
        return self._session.list_all(paths.CLUSTERS, filter=filter)

    def get_cluster(self, ext_id):
        return self._session.get_data('%s/%s' % (paths.CLUSTERS, ext_id))

    def find_cluster(self, name_or_ext_id=None):
        """The cluster to use.

        The cluster to use: by extId or name, or else the only one that
        is not Prism Central.  Raises NotFound / ConfigurationError.
        """
        clusters = self.list_clusters()
        if name_or_ext_id:
            for c in clusters:
                if name_or_ext_id in (c.get('extId'), c.get('name')):
                    return c
            raise exc.NotFound('no cluster named or with extId %r'
                               % name_or_ext_id)
        elements = [c for c in clusters if not is_prism_central(c)]
        if len(elements) != 1:
            raise exc.ConfigurationError(
                'found %d clusters (%s): set the "cluster" option'
                % (len(elements),
                   ', '.join(c.get('name') or c.get('extId')
                             for c in elements)))
        return elements[0]

    def list_hosts(self, cluster_ext_id=None):
        if cluster_ext_id:
            return self._session.list_all(
                '%s/%s/hosts' % (paths.CLUSTERS, cluster_ext_id))
        return self._session.list_all(paths.HOSTS)

    def get_host(self, cluster_ext_id, host_ext_id):
        return self._session.get_data('%s/%s/hosts/%s' % (
            paths.CLUSTERS, cluster_ext_id, host_ext_id))

    def list_storage_containers(self, filter=None):
        return self._session.list_all(paths.STORAGE_CONTAINERS,
                                      filter=filter)

    def get_storage_container(self, ext_id):
        return self._session.get_data('%s/%s' % (paths.STORAGE_CONTAINERS,
                                                 ext_id))

    def find_storage_container(self, name_or_ext_id, cluster_ext_id=None):
        """By extId or by name; raises NotFound."""
        for c in self.list_storage_containers():
            if cluster_ext_id and c.get('clusterExtId') not in (
                    None, cluster_ext_id):
                continue
            if name_or_ext_id in (c.get('extId'), c.get('containerExtId'),
                                  c.get('name')):
                return c
        raise exc.NotFound('no storage container named or with extId %r%s'
                           % (name_or_ext_id,
                              ' in cluster %s' % cluster_ext_id
                              if cluster_ext_id else ''))

    def container_stats(self, ext_id, window_seconds=300):
        """``/stats/storage-containers/{extId}`` over the last minutes."""
        end = self._now()
        start = end - datetime.timedelta(seconds=window_seconds)
        params = {'$startTime': start.strftime('%Y-%m-%dT%H:%M:%SZ'),
                  '$endTime': end.strftime('%Y-%m-%dT%H:%M:%SZ'),
                  '$statType': 'LAST'}
        return self._session.get_data(
            '%s/%s' % (paths.STORAGE_CONTAINER_STATS, ext_id), params=params)

    def container_capacity(self, ext_id):
        """Capacity of a storage container, in bytes.

        ``{'total_bytes', 'used_bytes', 'free_bytes',
        'provisioned_bytes'}`` from the container's capacity fields/stats.

        Usage comes from the container stats (``storageCapacityBytes``,
        ``storageUsageBytes``, ``storageFreeBytes``); the logical size
        handed out to thin disks is usage plus what thin provisioning
        saved (``dataReductionThinProvisionSavedBytes``).  Without stats the
        configured ``maxCapacityBytes`` is the total.
        """
        container = self.get_storage_container(ext_id)
        try:
            stats = self.container_stats(ext_id) or {}
        except exc.NotFound:
            stats = {}
        total = _last_value(stats.get('storageCapacityBytes'))
        if total is None:
            total = (container.get('maxCapacityBytes') or
                     container.get('logicalAdvertisedCapacityBytes') or 0)
        used = _last_value(stats.get('storageUsageBytes')) or 0
        free = _last_value(stats.get('storageFreeBytes'))
        if free is None:
            free = max(0, total - used)
        thin_saved = _last_value(
            stats.get('dataReductionThinProvisionSavedBytes')) or 0
        return {'total_bytes': int(total), 'used_bytes': int(used),
                'free_bytes': int(free),
                'provisioned_bytes': int(used + thin_saved)}
