"""Clusters, hosts and storage containers from the emulator."""

from nutanix_openstack.prism import exceptions as exc
from tests.functional.prism import base


class ClustersTest(base.EmulatorTestCase):

    def test_default_cluster_is_the_prism_element(self):
        self.assertEqual(self.emulator.cluster_ext_id,
                         self.client.cluster_ext_id())
        named = self.emulator.prism_client(cluster=self.client.clusters
                                           .get_cluster(self.emulator
                                                        .cluster_ext_id)
                                           ['name'])
        self.addCleanup(named.close)
        self.assertEqual(self.emulator.cluster_ext_id, named.cluster_ext_id())
        wrong = self.emulator.prism_client(cluster='nope')
        self.addCleanup(wrong.close)
        self.assertRaises(exc.NotFound, wrong.cluster_ext_id)

    def test_hosts(self):
        hosts = self.client.clusters.list_hosts(self.emulator.cluster_ext_id)
        self.assertTrue(hosts)
        host = self.client.clusters.get_host(self.emulator.cluster_ext_id,
                                             hosts[0]['extId'])
        self.assertEqual(hosts[0]['extId'], host['extId'])
        self.assertEqual(len(hosts), len(self.client.clusters.list_hosts()))

    def test_storage_container_and_capacity(self):
        sc = self.client.clusters.find_storage_container(
            self.emulator.container_name, self.emulator.cluster_ext_id)
        self.assertEqual(self.emulator.container_ext_id, sc['extId'])
        self.assertEqual(sc['extId'], self.client.clusters
                         .find_storage_container(sc['extId'])['extId'])
        self.assertRaises(exc.NotFound,
                          self.client.clusters.find_storage_container, 'x')
        before = self.client.clusters.container_capacity(sc['extId'])
        self.assertGreater(before['total_bytes'], 0)
        self.assertEqual(before['total_bytes'],
                         before['used_bytes'] + before['free_bytes'])
        self.upload_image('fill', base.random_bytes(2 * 1024 * 1024))
        after = self.client.clusters.container_capacity(sc['extId'])
        self.assertGreater(after['used_bytes'], before['used_bytes'])
