"""The cluster as one Nova compute node: resources and inventory.

VM placement on the AHV hosts is the cluster's job (its scheduler and HA),
so Nova sees one node whose totals are the sums over the hosts and whose
``max_unit`` is what one host (or the storage container) can give a
single instance.
"""

from oslo_log import log as logging
from oslo_serialization import jsonutils
from oslo_utils import versionutils

import os_resource_classes as orc

from nova import conf as nova_conf
from nova.objects import fields as obj_fields
from nova.virt import driver

from nutanix_openstack.nova import utils

CONF = nova_conf.CONF
LOG = logging.getLogger(__name__)

HYPERVISOR_TYPE = 'AHV'
SUPPORTED_INSTANCES = [(obj_fields.Architecture.X86_64,
                        obj_fields.HVType.KVM,
                        obj_fields.VMMode.HVM)]


def _host_vcpus(host):
    return (host.get('numberOfCpuThreads') or host.get('numberOfCpuCores')
            or 0)


def _host_memory_mb(host):
    return (host.get('memorySizeBytes') or 0) // utils.MiB


def _hypervisor_version(hosts):
    for host in hosts:
        full = (host.get('hypervisor') or {}).get('fullName') or ''
        for token in full.replace('-', ' ').split():
            if token[:1].isdigit():
                try:
                    return versionutils.convert_version_to_int(token)
                except Exception:
                    continue
    return 1


class HostOps(object):

    def __init__(self, client, cluster_ext_id, container_ext_id):
        self._client = client
        self._cluster_ext_id = cluster_ext_id
        self._container_ext_id = container_ext_id

    def nodename(self):
        """The cluster's name (clusters.get_cluster)."""
        cluster = self._client.clusters.get_cluster(self._cluster_ext_id)
        return cluster.get('name') or self._cluster_ext_id

    def _stats(self):
        hosts = self._client.clusters.list_hosts(self._cluster_ext_id)
        capacity = self._client.clusters.container_capacity(
            self._container_ext_id)
        vms = self._client.vms.list()
        return hosts, capacity, vms

    def get_available_resource(self, nodename):
        """Resources of the cluster as one compute node.

        Totals over clusters.list_hosts, clusters.container_capacity and the
        VMs of vms.list (every VM of the cluster uses capacity, Nova's or not).
        """
        hosts, capacity, vms = self._stats()
        vcpus = sum(_host_vcpus(h) for h in hosts)
        memory_mb = sum(_host_memory_mb(h) for h in hosts)
        vcpus_used = sum((vm.get('numSockets') or 1)
                         * (vm.get('numCoresPerSocket') or 1)
                         * (vm.get('numThreadsPerCore') or 1)
                         for vm in vms if vm.get('powerState') == 'ON')
        memory_used = sum((vm.get('memorySizeBytes') or 0) // utils.MiB
                          for vm in vms if vm.get('powerState') == 'ON')
        total_gb = capacity['total_bytes'] // utils.GiB
        used_gb = capacity['used_bytes'] // utils.GiB
        free_gb = capacity['free_bytes'] // utils.GiB
        first = hosts[0] if hosts else {}
        cpu_info = {
            'arch': obj_fields.Architecture.X86_64,
            'model': first.get('cpuModel') or 'unknown',
            'vendor': 'unknown',
            'topology': {'sockets': first.get('numberOfCpuSockets') or 1,
                         'cores': first.get('numberOfCpuCores') or 1,
                         'threads': 1},
            'features': [],
        }
        return {
            'vcpus': vcpus,
            'memory_mb': memory_mb,
            'local_gb': total_gb,
            'vcpus_used': vcpus_used,
            'memory_mb_used': memory_used,
            'local_gb_used': used_gb,
            'hypervisor_type': HYPERVISOR_TYPE,
            'hypervisor_version': _hypervisor_version(hosts),
            'hypervisor_hostname': nodename,
            'cpu_info': jsonutils.dumps(cpu_info),
            'disk_available_least': free_gb,
            'supported_instances': SUPPORTED_INSTANCES,
            'numa_topology': None,
        }

    def inventory(self, ratios):
        """VCPU, MEMORY_MB and DISK_GB inventory for placement.

        max_unit is the largest host (compute) or the container's free space
        (disk).
        """
        hosts, capacity, _vms = self._stats()
        vcpus = sum(_host_vcpus(h) for h in hosts)
        memory_mb = sum(_host_memory_mb(h) for h in hosts)
        max_vcpus = max([_host_vcpus(h) for h in hosts] or [0])
        max_memory = max([_host_memory_mb(h) for h in hosts] or [0])
        total_gb = capacity['total_bytes'] // utils.GiB
        free_gb = capacity['free_bytes'] // utils.GiB
        reserved_gb = (
            driver.ComputeDriver._get_reserved_host_disk_gb_from_config())
        result = {}
        if vcpus:
            result[orc.VCPU] = {
                'total': vcpus, 'reserved': CONF.reserved_host_cpus,
                'min_unit': 1, 'max_unit': max_vcpus, 'step_size': 1,
                'allocation_ratio': ratios[orc.VCPU]}
        if memory_mb:
            result[orc.MEMORY_MB] = {
                'total': memory_mb, 'reserved': CONF.reserved_host_memory_mb,
                'min_unit': 1, 'max_unit': max_memory, 'step_size': 1,
                'allocation_ratio': ratios[orc.MEMORY_MB]}
        if total_gb:
            result[orc.DISK_GB] = {
                'total': total_gb, 'reserved': reserved_gb,
                'min_unit': 1, 'max_unit': max(free_gb, 1), 'step_size': 1,
                'allocation_ratio': ratios[orc.DISK_GB]}
        return result
