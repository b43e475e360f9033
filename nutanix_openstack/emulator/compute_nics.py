"""VM NICs: parsing, the cluster's MAC and IP bookkeeping, stored JSON.

A NIC lives inside its VM's stored body (``vm['nics']``), so it is saved,
restored after a restart and removed with the VM like the VM's disks.
The rules of the cluster kept here:

* a MAC address is unique on the whole cluster (a NIC without one gets a
  generated address in Nutanix's ``50:6b:8d`` OUI);
* a NIC on a subnet with IP address management holds at most one IPv4
  address, inside the subnet's CIDR, never its network, broadcast, gateway
  or DHCP server address, and unique on that subnet.  An address given is
  reserved exactly; ``shouldAssignIp`` (true by default, as in the SDK)
  without an address takes the lowest free address of the subnet's pools;
* a subnet without IP address management assigns nothing, and an address
  given for it is refused.

Checks run twice, like the disk checks: before the task exists (so the
caller gets 400/404/409 right away) and again inside the task under
:data:`volumes_sources.LOCK`, where the addresses are finally taken.
"""

import copy
import ipaddress
import random
import re

from nutanix_openstack.emulator import errors
from nutanix_openstack.emulator import networking_shapes as net_shapes
from nutanix_openstack.emulator import volumes_sources as sources

NS = 'vmm.v4.ahv.config.'
REL_VM_NIC = 'vmm:ahv:config:vm:nic'
MODELS = ('VIRTIO', 'E1000')
NIC_TYPES = ('NORMAL_NIC', 'DIRECT_NIC', 'NETWORK_FUNCTION_NIC',
             'SPAN_DESTINATION_NIC')
VLAN_MODES = ('ACCESS', 'TRUNK')
NUTANIX_OUI = '50:6b:8d'
# Tx/Rx queue pairs of a virtio NIC (one per vCPU at most in AHV).
MAX_QUEUES = 256
_MAC_RE = re.compile(r'^[0-9a-f]{2}(:[0-9a-f]{2}){5}$')


def nic_not_found(vm_ext_id, nic_ext_id):
    return errors.NotFound("VM %s has no NIC %s." % (vm_ext_id, nic_ext_id),
                           code='VMM-30106', error_group='VM_NIC_NOT_FOUND')


def _bad(message):
    return errors.BadRequest(message, code='VMM-30107',
                             error_group='VM_NIC_INVALID')


def mac_conflict(mac):
    return errors.Conflict(
        "MAC address %s is already used by another NIC of the cluster."
        % mac, code='VMM-30108', error_group='MAC_ADDRESS_IN_USE')


def ip_conflict(ip, subnet_ext_id):
    return errors.Conflict(
        "IP address %s is already used on subnet %s." % (ip, subnet_ext_id),
        code='VMM-30109', error_group='IP_ADDRESS_IN_USE')


def pool_exhausted(subnet_ext_id):
    return errors.Conflict(
        "Subnet %s has no free address in its IP pools." % subnet_ext_id,
        code='VMM-30110', error_group='IP_POOL_EXHAUSTED')


# ---------------------------------------------------------------- parse

def _pick(nic, new_key, old_key):
    """The v4.1+ field (``nicBackingInfo``...) or its older twin."""
    for key in (new_key, old_key):
        value = nic.get(key)
        if value is not None:
            if not isinstance(value, dict):
                raise _bad("'%s' must be an object" % key)
            return value
    return {}


def _default(value, default):
    # A field sent as null takes its default, as if it were absent.
    return default if value is None else value


def normalize_mac(mac):
    if not isinstance(mac, str) or not _MAC_RE.match(mac.lower()):
        raise _bad("Invalid MAC address %r (expected six colon-separated "
                   "hex octets)" % (mac,))
    mac = mac.lower()
    if int(mac[:2], 16) & 1:
        raise _bad("MAC address %s is a multicast address" % mac)
    return mac


def parse(nic):
    """A ``Nic`` request body -> a spec dict (no state looked at).

    ``{'mac', 'model', 'isConnected', 'numQueues', 'subnet', 'nicType',
    'vlanMode', 'trunkedVlans', 'assign', 'ip'}``; ``mac`` and ``ip`` may
    be None (generated / allocated later), ``assign`` False means no
    address at all.
    """
    if not isinstance(nic, dict):
        raise _bad("A NIC must be an object")
    backing = _pick(nic, 'nicBackingInfo', 'backingInfo')
    suffix = (backing.get('$objectType') or '').rsplit('.', 1)[-1]
    if suffix and suffix not in ('VirtualEthernetNic', 'EmulatedNic'):
        raise _bad("NIC backing %s is not supported by the emulated "
                   "cluster" % suffix)
    network = _pick(nic, 'nicNetworkInfo', 'networkInfo')
    spec = {'mac': None, 'model': backing.get('model') or 'VIRTIO',
            'isConnected': _default(backing.get('isConnected'), True),
            'numQueues': _default(backing.get('numQueues'), 1),
            'nicType': network.get('nicType') or 'NORMAL_NIC',
            'vlanMode': network.get('vlanMode') or 'ACCESS',
            'trunkedVlans': network.get('trunkedVlans'),
            'subnet': None, 'assign': True, 'ip': None}
    if backing.get('macAddress') is not None:
        spec['mac'] = normalize_mac(backing['macAddress'])
    if spec['model'] not in MODELS:
        raise _bad("NIC model must be one of %s" % ', '.join(MODELS))
    if not isinstance(spec['isConnected'], bool):
        raise _bad("'isConnected' must be a boolean")
    queues = spec['numQueues']
    if isinstance(queues, bool) or not isinstance(queues, int) or \
            not 1 <= queues <= MAX_QUEUES:
        raise _bad("'numQueues' must be an integer between 1 and %d"
                   % MAX_QUEUES)
    if spec['nicType'] not in NIC_TYPES:
        raise _bad("'nicType' must be one of %s" % ', '.join(NIC_TYPES))
    if spec['vlanMode'] not in VLAN_MODES:
        raise _bad("'vlanMode' must be ACCESS or TRUNK")
    trunked = spec['trunkedVlans']
    if trunked is not None and (not isinstance(trunked, list) or not all(
            isinstance(v, int) and not isinstance(v, bool) and
            0 <= v <= net_shapes.MAX_VLAN_ID for v in trunked)):
        raise _bad("'trunkedVlans' must be a list of VLAN ids")
    subnet = network.get('subnet')
    if subnet is not None:
        if not isinstance(subnet, dict) or not isinstance(
                subnet.get('extId'), str) or not subnet['extId']:
            raise _bad("'subnet' must be a reference with an extId")
        spec['subnet'] = subnet['extId']
    ipv4 = network.get('ipv4Config')
    if ipv4 is not None:
        if not isinstance(ipv4, dict):
            raise _bad("'ipv4Config' must be an object")
        assign = _default(ipv4.get('shouldAssignIp'), True)
        if not isinstance(assign, bool):
            raise _bad("'shouldAssignIp' must be a boolean")
        spec['assign'] = assign
        if ipv4.get('ipAddress') is not None:
            if not assign:
                raise _bad("An IP address was given with shouldAssignIp "
                           "false")
            try:
                spec['ip'] = net_shapes.parse_ipv4(ipv4['ipAddress'],
                                                   'ipv4Config.ipAddress')
            except errors.BadRequest as exc:
                raise _bad(exc.message)
        if ipv4.get('secondaryIpAddressList'):
            raise _bad("Secondary IP addresses are not supported by the "
                       "emulated cluster")
    if spec['subnet'] is None and spec['ip'] is not None:
        raise _bad("An IP address needs a subnet")
    return spec


# ----------------------------------------------------------- bookkeeping

def all_nics(state):
    """``(vm, nic)`` for every NIC of the cluster."""
    for vm in state.list(sources.KIND_VM):
        for nic in vm.get('nics') or []:
            yield vm, nic


def backing(nic):
    return nic.get('nicBackingInfo') or nic.get('backingInfo') or {}


def network_info(nic):
    return nic.get('nicNetworkInfo') or nic.get('networkInfo') or {}


def nic_mac(nic):
    mac = backing(nic).get('macAddress')
    return mac.lower() if isinstance(mac, str) else None


def nic_subnet(nic):
    return (network_info(nic).get('subnet') or {}).get('extId')


def nic_ip(nic):
    value = ((network_info(nic).get('ipv4Config') or {})
             .get('ipAddress') or {}).get('value')
    return ipaddress.IPv4Address(value) if value else None


def _nic_bodies(state):
    """Every NIC of the cluster, without decoding whole VM bodies."""
    return [nic for _, nic in state.list_json_items(sources.KIND_VM,
                                                    '$.nics')
            if isinstance(nic, dict)]


def used_macs(state, exclude=()):
    return set(nic_mac(n) for n in _nic_bodies(state)
               if n.get('extId') not in exclude) - {None}


def used_ips(state, subnet_ext_id, exclude=()):
    return set(nic_ip(n) for n in _nic_bodies(state)
               if n.get('extId') not in exclude and
               nic_subnet(n) == subnet_ext_id) - {None}


def nics_on_subnet(state, subnet_ext_id):
    return [(vm, n) for vm, n in all_nics(state)
            if nic_subnet(n) == subnet_ext_id]


def _new_mac(taken):
    while True:
        mac = '%s:%02x:%02x:%02x' % ((NUTANIX_OUI,) + tuple(
            random.randint(0, 255) for _ in range(3)))
        if mac not in taken:
            return mac


def _free_pool_address(subnet, taken):
    for start, end in net_shapes.pools(subnet):
        address = start
        while address <= end:
            if address not in taken:
                return address
            address += 1
    return None


def check_ip_in_subnet(subnet, ip):
    """400 unless ``ip`` may be held by a NIC of managed ``subnet``."""
    net = net_shapes.network(subnet)
    if net is None:
        raise _bad("Subnet %s has no IP address management: the cluster "
                   "cannot assign %s" % (subnet['extId'], ip))
    if ip not in net:
        raise _bad("IP address %s is outside subnet %s (%s)"
                   % (ip, subnet['extId'], net))
    reserved = net_shapes.reserved_addresses(subnet)
    if ip in reserved:
        raise _bad("IP address %s is %s of subnet %s"
                   % (ip, reserved[ip], subnet['extId']))


def check(state, specs, exclude=(), current=None):
    """Validate ``specs`` against the cluster; 404/400/409 as the API does.

    ``exclude`` are NIC extIds whose MAC and IP do not count (the NIC being
    updated); ``current`` maps them to their stored NIC, whose address is
    kept when an update does not name one.  Fills in a generated ``mac``
    where none was given and returns the specs.
    """
    if not specs:
        # Nothing to check: no scan of every NIC of the cluster.
        return specs
    macs = used_macs(state, exclude)
    ips = {}
    for spec in specs:
        if spec['mac'] is None and current is not None:
            spec['mac'] = nic_mac(current)
        if spec['mac'] is None:
            spec['mac'] = _new_mac(macs)
        elif spec['mac'] in macs:
            raise mac_conflict(spec['mac'])
        macs.add(spec['mac'])
        if spec['subnet'] is None:
            continue
        subnet = state.get(net_shapes.KIND_SUBNET, spec['subnet'])
        if subnet is None:
            raise net_shapes.subnet_not_found(spec['subnet'])
        managed = net_shapes.network(subnet) is not None
        if spec['ip'] is not None:
            check_ip_in_subnet(subnet, spec['ip'])
        if not managed or not spec['assign']:
            continue
        taken = ips.setdefault(spec['subnet'], used_ips(
            state, spec['subnet'], exclude) | set(
                net_shapes.reserved_addresses(subnet)))
        if spec['ip'] is None and current is not None and \
                nic_subnet(current) == spec['subnet']:
            spec['ip'] = nic_ip(current)
        if spec['ip'] is None:
            if _free_pool_address(subnet, taken) is None:
                raise pool_exhausted(spec['subnet'])
            # The pool address is taken in the task (allocate()).
            taken.add(_free_pool_address(subnet, taken))
            continue
        if spec['ip'] in taken:
            raise ip_conflict(spec['ip'], spec['subnet'])
        taken.add(spec['ip'])
    return specs


def build(state, specs, ext_ids, exclude=(), current=None):
    """The NIC JSONs for checked ``specs``; run inside the task.

    The checks are repeated (the cluster may have changed since the
    request) and pool addresses are allocated.
    """
    specs = check(state, [dict(s) for s in specs], exclude, current)
    nics = []
    taken = {}
    for spec, ext_id in zip(specs, ext_ids):
        ip = spec['ip']
        if spec['subnet'] and spec['assign'] and ip is None:
            subnet = state.get(net_shapes.KIND_SUBNET, spec['subnet'])
            if net_shapes.network(subnet) is not None:
                used = taken.setdefault(spec['subnet'], used_ips(
                    state, spec['subnet'], exclude) | set(
                        net_shapes.reserved_addresses(subnet)) | set(
                            s['ip'] for s in specs
                            if s['subnet'] == spec['subnet'] and s['ip']))
                ip = _free_pool_address(subnet, used)
                if ip is None:
                    raise pool_exhausted(spec['subnet'])
                used.add(ip)
        nics.append(nic_json(ext_id, spec, ip))
    return nics


def nic_json(ext_id, spec, ip=None):
    """The stored NIC (both the v4.0 and the v4.1+ field pairs)."""
    backing_info = {'model': spec['model'], 'macAddress': spec['mac'],
                    'isConnected': spec['isConnected'],
                    'numQueues': spec['numQueues']}
    network = {'nicType': spec['nicType'], 'vlanMode': spec['vlanMode']}
    if spec['trunkedVlans'] is not None:
        network['trunkedVlans'] = list(spec['trunkedVlans'])
    if spec['subnet']:
        network['subnet'] = {'$objectType': NS + 'SubnetReference',
                             'extId': spec['subnet']}
        ipv4 = {'$objectType': NS + 'Ipv4Config',
                'shouldAssignIp': bool(ip is not None)}
        if ip is not None:
            ipv4['ipAddress'] = net_shapes.ipv4_json(ip)
        network['ipv4Config'] = ipv4
    return {
        '$objectType': NS + 'Nic',
        'extId': ext_id,
        'backingInfo': dict(backing_info,
                            **{'$objectType': NS + 'EmulatedNic'}),
        'nicBackingInfo': dict(backing_info,
                               **{'$objectType': NS + 'VirtualEthernetNic'}),
        'networkInfo': dict(copy.deepcopy(network),
                            **{'$objectType': NS + 'NicNetworkInfo'}),
        'nicNetworkInfo': dict(
            copy.deepcopy(network),
            **{'$objectType': NS + 'VirtualEthernetNicNetworkInfo'}),
    }


def find(vm, nic_ext_id):
    for nic in vm.get('nics') or []:
        if nic.get('extId') == nic_ext_id:
            return nic
    raise nic_not_found(vm['extId'], nic_ext_id)


def readdress(state, nics):
    """New MACs for restored ``nics`` (and no address reservations).

    A VM restored from a recovery point gets NICs with fresh MAC addresses
    while the original VM may still exist; their IP addresses are
    released, as a managed subnet would otherwise hold one address twice.
    """
    taken = used_macs(state)
    for nic in nics:
        mac = _new_mac(taken)
        taken.add(mac)
        for key in ('backingInfo', 'nicBackingInfo'):
            if isinstance(nic.get(key), dict):
                nic[key]['macAddress'] = mac
        for key in ('networkInfo', 'nicNetworkInfo'):
            ipv4 = (nic.get(key) or {}).get('ipv4Config')
            if isinstance(ipv4, dict):
                ipv4.pop('ipAddress', None)
                ipv4['shouldAssignIp'] = False
