"""Clusters, hosts, storage containers and their capacity."""

from nutanix_openstack.prism import clusters
from nutanix_openstack.prism import exceptions as exc
from nutanix_openstack.prism import paths
from tests.unit.prism import base

PC = {'extId': 'pc', 'name': 'pc',
      'config': {'clusterFunction': ['PRISM_CENTRAL']}}
PE = {'extId': 'c-1', 'name': 'pe1', 'config': {'clusterFunction': ['AOS']}}


def _list(*items):
    return {'data': list(items),
            'metadata': {'totalAvailableResults': len(items)}}


class ClustersTest(base.PrismTestCase):

    def test_default_cluster_skips_prism_central(self):
        self.m.get(self.url(paths.CLUSTERS), json=_list(PC, PE))
        self.assertEqual('c-1', self.client.cluster_ext_id())
        self.client.cluster_ext_id()
        self.assertEqual(1, len(self.m.request_history))   # cached

    def test_named_cluster_and_ambiguity(self):
        pe2 = dict(PE, extId='c-2', name='pe2')
        self.m.get(self.url(paths.CLUSTERS), json=_list(PC, PE, pe2))
        self.assertRaises(exc.ConfigurationError,
                          self.client.clusters.find_cluster)
        self.assertEqual('c-2',
                         self.client.clusters.find_cluster('pe2')['extId'])
        self.assertEqual('c-1',
                         self.client.clusters.find_cluster('c-1')['extId'])
        self.assertRaises(exc.NotFound, self.client.clusters.find_cluster,
                          'nope')

    def test_hosts(self):
        self.m.get(self.url(paths.CLUSTERS + '/c-1/hosts'),
                   json=_list({'extId': 'h-1'}))
        self.m.get(self.url(paths.HOSTS), json=_list({'extId': 'h-2'}))
        self.m.get(self.url(paths.CLUSTERS + '/c-1/hosts/h-1'),
                   json={'data': {'extId': 'h-1', 'hostName': 'n1'}})
        self.assertEqual('h-1', self.client.clusters.list_hosts('c-1')[0]
                         ['extId'])
        self.assertEqual('h-2', self.client.clusters.list_hosts()[0]['extId'])
        self.assertEqual('n1', self.client.clusters.get_host('c-1', 'h-1')
                         ['hostName'])

    def test_find_storage_container(self):
        self.m.get(self.url(paths.STORAGE_CONTAINERS), json=_list(
            {'extId': 'sc-1', 'name': 'default', 'clusterExtId': 'c-1'},
            {'extId': 'sc-2', 'name': 'images', 'clusterExtId': 'c-2'}))
        find = self.client.clusters.find_storage_container
        self.assertEqual('sc-1', find('default')['extId'])
        self.assertEqual('sc-2', find('sc-2')['extId'])
        self.assertRaises(exc.NotFound, find, 'images', cluster_ext_id='c-1')

    def test_storage_container_ext_id(self):
        self.assertEqual('c-1', clusters.storage_container_ext_id(
            {'extId': 'e-1', 'containerExtId': 'c-1'}))
        self.assertEqual('e-1', clusters.storage_container_ext_id(
            {'extId': 'e-1'}))

    def test_capacity_from_stats(self):
        self.m.get(self.url(paths.STORAGE_CONTAINERS + '/sc-1'),
                   json={'data': {'extId': 'sc-1',
                                  'maxCapacityBytes': 999}})
        self.m.get(self.url(paths.STORAGE_CONTAINER_STATS + '/sc-1'),
                   json={'data': {
                       'storageCapacityBytes': [
                           {'timestamp': '2026-01-01T00:00:00Z',
                            'value': 1000},
                           {'timestamp': '2026-01-01T00:01:00Z',
                            'value': 1000}],
                       'storageUsageBytes': [
                           {'timestamp': '2026-01-01T00:00:00Z', 'value': 1},
                           {'timestamp': '2026-01-01T00:01:00Z',
                            'value': 300}],
                       'storageFreeBytes': [
                           {'timestamp': '2026-01-01T00:01:00Z',
                            'value': 700}],
                       'dataReductionThinProvisionSavedBytes': [
                           {'timestamp': '2026-01-01T00:01:00Z',
                            'value': 500}]}})
        self.assertEqual({'total_bytes': 1000, 'used_bytes': 300,
                          'free_bytes': 700, 'provisioned_bytes': 800},
                         self.client.clusters.container_capacity('sc-1'))
        qs = self.m.request_history[-1].qs
        self.assertIn('$starttime', [k.lower() for k in qs])

    def test_capacity_without_stats(self):
        self.m.get(self.url(paths.STORAGE_CONTAINERS + '/sc-1'),
                   json={'data': {'maxCapacityBytes': 500}})
        self.m.get(self.url(paths.STORAGE_CONTAINER_STATS + '/sc-1'),
                   status_code=404, json={})
        self.assertEqual({'total_bytes': 500, 'used_bytes': 0,
                          'free_bytes': 500, 'provisioned_bytes': 0},
                         self.client.clusters.container_capacity('sc-1'))
