"""The emulated cluster's fixed objects, seeded into state at start.

An inventory file (YAML or JSON, option ``[emulator] inventory_file``)
describes one Prism Element cluster, its hosts, storage containers and
virtual switches; without one the built-in :data:`DEFAULT` is used.
``seed()`` writes them into state as v4 clustermgmt and networking bodies
(kinds ``cluster``, ``host``, ``storage_container``, ``virtual_switch``),
plus the Prism Central entry every real PC lists among its clusters
(``config.clusterFunction == ['PRISM_CENTRAL']``).
Seeding is idempotent: existing objects are left untouched.
"""

import copy
import json
import os

import yaml

from nutanix_openstack.emulator import networking_shapes as net_shapes

DEFAULT = {
    'prism_central': {
        'name': 'emulated-pc',
        'ext_id': '00000000-0000-4000-8000-0000000000c0',
        'external_ip': '127.0.0.1',
    },
    'cluster': {
        'name': 'emulated-cluster',
        'ext_id': '00000000-0000-4000-8000-000000000001',
        'external_ip': '127.0.0.1',
        # The iSCSI portal of volume groups.
        'data_services_ip': '127.0.0.1',
        'hypervisor': 'AHV',
        'version': '7.0',
    },
    'hosts': [
        {'name': 'emulated-host-1',
         'ext_id': '00000000-0000-4000-8000-000000000101',
         'ip': '127.0.0.11', 'cpu_sockets': 2, 'cpu_cores': 16,
         'cpu_threads': 32, 'cpu_frequency_hz': 2600000000,
         'memory_bytes': 256 * 1024 ** 3},
        {'name': 'emulated-host-2',
         'ext_id': '00000000-0000-4000-8000-000000000102',
         'ip': '127.0.0.12', 'cpu_sockets': 2, 'cpu_cores': 16,
         'cpu_threads': 32, 'cpu_frequency_hz': 2600000000,
         'memory_bytes': 256 * 1024 ** 3},
    ],
    'storage_containers': [
        {'name': 'default-container',
         'ext_id': '00000000-0000-4000-8000-000000000201',
         'max_capacity_bytes': 10 * 1024 ** 4},
        {'name': 'SelfServiceContainer',
         'ext_id': '00000000-0000-4000-8000-000000000202',
         'max_capacity_bytes': 10 * 1024 ** 4},
    ],
    # The cluster's AHV virtual switches (VLAN subnets live on one).
    'virtual_switches': [
        {'name': 'vs0', 'ext_id': '00000000-0000-4000-8000-000000000301',
         'is_default': True, 'mtu': 1500},
    ],
}


class Inventory(object):

    def __init__(self, data):
        self.data = data
        self.cluster = data['cluster']
        self.prism_central = data.get('prism_central') or \
            DEFAULT['prism_central']
        self.hosts = data.get('hosts') or []
        self.storage_containers = data.get('storage_containers') or []
        self.virtual_switches = data.get('virtual_switches') or \
            DEFAULT['virtual_switches']
        for switch in self.virtual_switches:
            if not isinstance(switch, dict) or not switch.get('ext_id') or \
                    not switch.get('name'):
                raise ValueError("Every virtual switch of the inventory "
                                 "needs a name and an ext_id")
        if not self.storage_containers:
            raise ValueError("The inventory needs at least one storage "
                             "container")

    @property
    def cluster_ext_id(self):
        return self.cluster['ext_id']

    @property
    def default_container(self):
        return self.storage_containers[0]


def site_inventory(site):
    """The built-in inventory as cluster number ``site`` (1, 2, ...) sees it.

    For two emulators standing for two clusters (replication, disaster
    recovery): every extId gets the site number in its fourth group and
    every name but the storage containers' a ``-site<N>`` suffix (the
    containers keep their names: replication maps containers by name).
    Site 1 is :data:`DEFAULT` itself.
    """
    if site == 1:
        return copy.deepcopy(DEFAULT)
    if not isinstance(site, int) or not 1 < site < 1000:
        raise ValueError('site must be an integer from 1 to 999')

    def rename(value, key):
        if key == 'ext_id':
            return value.replace('-8000-', '-8%03d-' % site)
        if key == 'name':
            return '%s-site%d' % (value, site)
        return value

    def walk(node, containers=False):
        if isinstance(node, list):
            return [walk(item, containers) for item in node]
        if isinstance(node, dict):
            return dict((k, walk(v, k == 'storage_containers') if
                         isinstance(v, (dict, list)) else
                         (v if containers and k == 'name'
                          else rename(v, k)))
                        for k, v in node.items())
        return node
    return walk(DEFAULT)


def load(path=None):
    """Inventory from a YAML/JSON file, or the built-in default."""
    if not path:
        return Inventory(DEFAULT)
    with open(path) as f:
        if os.path.splitext(path)[1].lower() == '.json':
            data = json.load(f)
        else:
            data = yaml.safe_load(f)
    if not isinstance(data, dict) or 'cluster' not in data:
        raise ValueError("Inventory %s needs a 'cluster' section" % path)
    return Inventory(data)


def _ip(value):
    return {'ipv4': {'value': value, 'prefixLength': 32,
                     '$objectType': 'common.v1.config.IPv4Address'},
            '$objectType': 'common.v1.config.IPAddress'}


def _fqdn_or_ip(value):
    return {'ipv4': {'value': value, 'prefixLength': 32,
                     '$objectType': 'common.v1.config.IPv4Address'},
            '$objectType': 'common.v1.config.IPAddressOrFQDN'}


def cluster_body(cluster, hosts, function='AOS'):
    body = {
        'extId': cluster['ext_id'],
        'name': cluster['name'],
        'config': {
            'clusterFunction': [function],
            'hypervisorTypes': ([cluster.get('hypervisor', 'AHV')]
                                if function != 'PRISM_CENTRAL' else []),
            'buildInfo': {
                'version': cluster.get('version', '7.0'),
                'fullVersion': 'el8.5-release-emulated-%s'
                               % cluster.get('version', '7.0'),
                '$objectType': 'clustermgmt.v4.config.BuildReference'},
            'redundancyFactor': 2,
            'isAvailable': True,
            'operationMode': 'NORMAL',
            'timezone': 'UTC',
            '$objectType': 'clustermgmt.v4.config.ClusterConfigReference',
        },
        'network': {
            'externalAddress': _ip(cluster.get('external_ip', '127.0.0.1')),
            'nameServerIpList': [_fqdn_or_ip('127.0.0.53')],
            '$objectType': 'clustermgmt.v4.config.ClusterNetworkReference',
        },
        'nodes': {
            'numberOfNodes': len(hosts),
            'nodeList': [{
                'nodeUuid': h['ext_id'],
                'hostIp': _ip(h.get('ip', '127.0.0.1')),
                '$objectType': 'clustermgmt.v4.config.NodeListItemReference',
            } for h in hosts],
            '$objectType': 'clustermgmt.v4.config.NodeReference',
        },
        'vmCount': 0,
        '$objectType': 'clustermgmt.v4.config.Cluster',
    }
    if cluster.get('data_services_ip'):
        body['network']['externalDataServiceIp'] = _ip(
            cluster['data_services_ip'])
    return body


def host_body(host, cluster):
    return {
        'extId': host['ext_id'],
        'hostName': host['name'],
        'hostType': 'HYPER_CONVERGED',
        'hypervisor': {
            'externalAddress': _ip(host.get('ip', '127.0.0.1')),
            'type': cluster.get('hypervisor', 'AHV'),
            'fullName': 'AHV 10.0 (emulated)',
            'state': 'ACROPOLIS_NORMAL',
            'numberOfVms': 0,
            '$objectType': 'clustermgmt.v4.config.HypervisorReference',
        },
        'cluster': {
            'uuid': cluster['ext_id'], 'name': cluster['name'],
            '$objectType': 'clustermgmt.v4.config.ClusterReference',
        },
        'numberOfCpuSockets': host.get('cpu_sockets', 2),
        'numberOfCpuCores': host.get('cpu_cores', 16),
        'numberOfCpuThreads': host.get('cpu_threads', 32),
        'cpuFrequencyHz': host.get('cpu_frequency_hz', 2600000000),
        'cpuCapacityHz': host.get('cpu_frequency_hz', 2600000000) *
        host.get('cpu_cores', 16),
        'cpuModel': host.get('cpu_model', 'Emulated CPU @ 2.60GHz'),
        'memorySizeBytes': host.get('memory_bytes', 256 * 1024 ** 3),
        'maintenanceState': 'normal',
        'nodeStatus': 'NORMAL',
        'isDegraded': False,
        'isHardwareVirtualized': True,
        '$objectType': 'clustermgmt.v4.config.Host',
    }


def container_body(container, cluster):
    return {
        'extId': container['ext_id'],
        'containerExtId': container['ext_id'],
        'name': container['name'],
        'clusterExtId': cluster['ext_id'],
        'clusterName': cluster['name'],
        'ownerExtId': '00000000-0000-0000-0000-000000000000',
        'maxCapacityBytes': container.get('max_capacity_bytes',
                                          10 * 1024 ** 4),
        'logicalAdvertisedCapacityBytes': container.get(
            'max_capacity_bytes', 10 * 1024 ** 4),
        'replicationFactor': container.get('replication_factor', 2),
        'isMarkedForRemoval': False,
        'isCompressionEnabled': True,
        'isInternal': False,
        'isEncrypted': False,
        'isShared': False,
        'erasureCode': 'OFF',
        'cacheDeduplication': 'OFF',
        'onDiskDedup': 'OFF',
        '$objectType': 'clustermgmt.v4.config.StorageContainer',
    }


def seed(state, inventory):
    """Write the inventory's objects into state (only those missing)."""
    cluster = inventory.cluster
    pc = inventory.prism_central
    with state.transaction():
        if state.get('cluster', pc['ext_id']) is None:
            state.put('cluster', pc['ext_id'],
                      cluster_body(pc, [], function='PRISM_CENTRAL'))
        if state.get('cluster', cluster['ext_id']) is None:
            state.put('cluster', cluster['ext_id'],
                      cluster_body(cluster, inventory.hosts))
        for host in inventory.hosts:
            if state.get('host', host['ext_id']) is None:
                state.put('host', host['ext_id'], host_body(host, cluster))
        for container in inventory.storage_containers:
            if state.get('storage_container', container['ext_id']) is None:
                state.put('storage_container', container['ext_id'],
                          container_body(container, cluster))
        for switch in inventory.virtual_switches:
            if state.get(net_shapes.KIND_VIRTUAL_SWITCH,
                         switch['ext_id']) is None:
                state.put(net_shapes.KIND_VIRTUAL_SWITCH, switch['ext_id'],
                          net_shapes.virtual_switch_body(
                              switch['ext_id'], switch['name'],
                              cluster['ext_id'],
                              is_default=switch.get('is_default', True),
                              mtu=switch.get('mtu', 1500)))
