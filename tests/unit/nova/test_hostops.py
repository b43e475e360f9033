"""hostops: the cluster as one node."""

import os_resource_classes as orc
from oslo_serialization import jsonutils

from nutanix_openstack.nova import hostops
from tests.unit.nova import base

HOSTS = [
    {'extId': 'h1', 'numberOfCpuThreads': 32, 'numberOfCpuCores': 16,
     'numberOfCpuSockets': 2, 'memorySizeBytes': 256 * 1024 * base.MiB,
     'cpuModel': 'Xeon', 'hypervisor': {'fullName': 'AHV 20230302.100173'}},
    {'extId': 'h2', 'numberOfCpuThreads': 16, 'numberOfCpuCores': 8,
     'memorySizeBytes': 128 * 1024 * base.MiB},
]
CAPACITY = {'total_bytes': 1000 * base.GiB, 'used_bytes': 100 * base.GiB,
            'free_bytes': 900 * base.GiB, 'provisioned_bytes': 0}


class HostOpsTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.client.clusters.list_hosts.return_value = HOSTS
        self.client.clusters.container_capacity.return_value = CAPACITY
        self.client.clusters.get_cluster.return_value = {'name': 'c1'}
        self.client.vms.list.return_value = [
            {'powerState': 'ON', 'numSockets': 2, 'numCoresPerSocket': 2,
             'memorySizeBytes': 4096 * base.MiB},
            {'powerState': 'OFF', 'numSockets': 8,
             'memorySizeBytes': 8192 * base.MiB}]
        self.ops = hostops.HostOps(self.client, base.CLUSTER, base.CONTAINER)

    def test_nodename_is_cluster_name(self):
        self.assertEqual('c1', self.ops.nodename())

    def test_available_resource(self):
        res = self.ops.get_available_resource('c1')
        self.assertEqual(48, res['vcpus'])
        self.assertEqual(384 * 1024, res['memory_mb'])
        self.assertEqual(1000, res['local_gb'])
        self.assertEqual(100, res['local_gb_used'])
        self.assertEqual(900, res['disk_available_least'])
        # Only running VMs hold CPU and memory.
        self.assertEqual(4, res['vcpus_used'])
        self.assertEqual(4096, res['memory_mb_used'])
        self.assertEqual('c1', res['hypervisor_hostname'])
        self.assertIsInstance(res['hypervisor_version'], int)
        self.assertGreater(res['hypervisor_version'], 1)
        self.assertEqual('Xeon', jsonutils.loads(res['cpu_info'])['model'])

    def test_inventory_max_units(self):
        ratios = {orc.VCPU: 4.0, orc.MEMORY_MB: 1.5, orc.DISK_GB: 1.0}
        inv = self.ops.inventory(ratios)
        self.assertEqual(48, inv[orc.VCPU]['total'])
        self.assertEqual(32, inv[orc.VCPU]['max_unit'])
        self.assertEqual(4.0, inv[orc.VCPU]['allocation_ratio'])
        self.assertEqual(256 * 1024, inv[orc.MEMORY_MB]['max_unit'])
        self.assertEqual(1.5, inv[orc.MEMORY_MB]['allocation_ratio'])
        self.assertEqual(1000, inv[orc.DISK_GB]['total'])
        self.assertEqual(900, inv[orc.DISK_GB]['max_unit'])
