"""Clusters, hosts and storage containers (``/api/clustermgmt/v4.x``).

Seeded from the inventory (see :mod:`nutanix_openstack.emulator.inventory`)
and read-only here.  Storage containers report their real usage: the
bytes the disk store holds (``GET .../stats/storage-containers/{extId}``
is computed from
``DiskStore.stats()``; the emulator has one physical pool shared by all
containers, so every container reports the same used bytes).
"""

import flask

from nutanix_openstack.emulator import backend
from nutanix_openstack.emulator import errors
from nutanix_openstack.emulator import responses

blueprint = flask.Blueprint('clusters', __name__)

NS = 'clustermgmt'


def _get(kind, ext_id, what):
    body = backend.get().state.get(kind, ext_id)
    if body is None:
        raise errors.NotFound("%s %s does not exist." % (what, ext_id),
                              code='CLUSTERMGMT-40401')
    return body


@blueprint.route(responses.v4_path(NS, '/config/clusters'), methods=['GET'])
def list_clusters():
    return responses.listing(backend.get().state.list('cluster'),
                             'clustermgmt.v4.config.ListClustersApiResponse')


@blueprint.route(responses.v4_path(NS, '/config/clusters/<ext_id>'),
                 methods=['GET'])
def get_cluster(ext_id):
    return responses.entity(_get('cluster', ext_id, 'Cluster'),
                            'clustermgmt.v4.config.GetClusterApiResponse')


@blueprint.route(responses.v4_path(NS, '/config/hosts'), methods=['GET'])
def list_hosts():
    return responses.listing(backend.get().state.list('host'),
                             'clustermgmt.v4.config.ListHostsApiResponse')


@blueprint.route(responses.v4_path(NS, '/config/clusters/<cluster_ext_id>'
                                       '/hosts'), methods=['GET'])
def list_hosts_by_cluster(cluster_ext_id):
    _get('cluster', cluster_ext_id, 'Cluster')
    hosts = backend.get().state.list(
        'host', where=lambda h: h['cluster']['uuid'] == cluster_ext_id)
    return responses.listing(
        hosts, 'clustermgmt.v4.config.ListHostsByClusterIdApiResponse')


@blueprint.route(responses.v4_path(NS, '/config/clusters/<cluster_ext_id>'
                                       '/hosts/<ext_id>'), methods=['GET'])
def get_host(cluster_ext_id, ext_id):
    _get('cluster', cluster_ext_id, 'Cluster')
    host = _get('host', ext_id, 'Host')
    if host['cluster']['uuid'] != cluster_ext_id:
        raise errors.NotFound("Host %s is not in cluster %s."
                              % (ext_id, cluster_ext_id),
                              code='CLUSTERMGMT-40401')
    return responses.entity(host, 'clustermgmt.v4.config.GetHostApiResponse')


def used_bytes():
    """Bytes really stored by the disk store (all containers share it)."""
    return int(backend.get().disks.stats().get('bytes_stored', 0))


@blueprint.route(responses.v4_path(NS, '/config/storage-containers'),
                 methods=['GET'])
def list_storage_containers():
    return responses.listing(
        backend.get().state.list('storage_container'),
        'clustermgmt.v4.config.ListStorageContainersApiResponse')


@blueprint.route(responses.v4_path(NS, '/config/storage-containers/<ext_id>'),
                 methods=['GET'])
def get_storage_container(ext_id):
    return responses.entity(
        _get('storage_container', ext_id, 'Storage container'),
        'clustermgmt.v4.config.GetStorageContainerApiResponse')


def _time_value(value, when):
    return [{'value': value, 'timestamp': when,
             '$objectType': 'common.v1.stats.TimeIntValuePair'}]


@blueprint.route(responses.v4_path(NS, '/stats/storage-containers/<ext_id>'),
                 methods=['GET'])
def get_storage_container_stats(ext_id):
    container = _get('storage_container', ext_id, 'Storage container')
    when = flask.request.args.get('$endTime') or \
        flask.request.args.get('$startTime')
    if not when:
        raise errors.BadRequest("$startTime and $endTime are required.",
                                code='CLUSTERMGMT-40001')
    used = used_bytes()
    capacity = int(container['maxCapacityBytes'])
    stats = {
        'extId': ext_id,
        'containerExtId': ext_id,
        'storageUsageBytes': _time_value(used, when),
        'storageCapacityBytes': _time_value(capacity, when),
        'storageFreeBytes': _time_value(max(capacity - used, 0), when),
        'storageActualPhysicalUsageBytes': _time_value(used, when),
        '$objectType': 'clustermgmt.v4.stats.StorageContainerStats',
    }
    return responses.entity(
        stats, 'clustermgmt.v4.stats.GetStorageContainerStatsApiResponse')
