"""The official clustermgmt SDK against the emulator."""

import datetime

import ntnx_clustermgmt_py_client as cm
import pytest

from tests.functional.emulator import helpers


@pytest.fixture
def client(emulator):
    return helpers.sdk_client(cm, emulator)


def test_clusters(emulator, client):
    clusters = cm.ClustersApi(client)
    listed = clusters.list_clusters().data
    assert all(isinstance(c, cm.Cluster) for c in listed)
    functions = [c.config.cluster_function for c in listed]
    assert ['PRISM_CENTRAL'] in functions
    pe = clusters.get_cluster_by_id(emulator.cluster_ext_id).data
    assert pe.config.cluster_function == ['AOS']
    assert pe.network.external_data_service_ip.ipv4.value
    assert pe.nodes.number_of_nodes == 2
    by_name = clusters.list_clusters(
        _filter="name eq '%s'" % pe.name).data
    assert [c.ext_id for c in by_name] == [emulator.cluster_ext_id]


def test_hosts(emulator, client):
    clusters = cm.ClustersApi(client)
    hosts = clusters.list_hosts().data
    assert len(hosts) == 2 and isinstance(hosts[0], cm.Host)
    by_cluster = clusters.list_hosts_by_cluster_id(
        emulator.cluster_ext_id).data
    assert {h.ext_id for h in by_cluster} == {h.ext_id for h in hosts}
    host = clusters.get_host_by_id(emulator.cluster_ext_id,
                                   hosts[0].ext_id).data
    assert host.memory_size_bytes > 0
    assert host.number_of_cpu_cores > 0
    assert host.cpu_capacity_hz > 0
    assert host.cluster.uuid == emulator.cluster_ext_id


def test_storage_containers_and_real_usage(api, emulator, client):
    containers = cm.StorageContainersApi(client)
    listed = containers.list_storage_containers().data
    assert emulator.container_name in [c.name for c in listed]
    one = containers.get_storage_container_by_id(
        emulator.container_ext_id).data
    assert isinstance(one, cm.StorageContainer)
    assert one.max_capacity_bytes > 0
    assert one.cluster_ext_id == emulator.cluster_ext_id
    now = datetime.datetime.now(datetime.timezone.utc)

    def used():
        stats = containers.get_storage_container_stats(
            emulator.container_ext_id,
            _startTime=now - datetime.timedelta(minutes=5), _endTime=now)
        return stats.data.storage_usage_bytes[0].value

    before = used()
    api.upload_image(b'\x07' * (4 * 1024 * 1024), name='usage')
    assert used() - before >= 4 * 1024 * 1024
