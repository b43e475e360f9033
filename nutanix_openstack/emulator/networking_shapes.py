"""JSON shapes of emulated AHV subnets and virtual switches
(``networking.v4.config``) and parsing of the bodies that create or change
them.

A subnet is stored as its v4 JSON (camelCase, ``$objectType`` kept).  Only
VLAN subnets are emulated: ``networkId`` is the VLAN id (0 = untagged), the
subnet lives on a virtual switch of one cluster, and it either has the
cluster's IP address management (an ``ipConfig`` with one ``ipv4`` entry:
CIDR, default gateway, DHCP server address, address pools) or none.  The
functions here are pure and raise :class:`errors.BadRequest` for a body the
real API refuses with 400.
"""

import copy
import ipaddress
import uuid

from nutanix_openstack.emulator import errors
from nutanix_openstack.emulator import input_limits

NS = 'networking.v4.config.'
SUBNET_TYPE = NS + 'Subnet'
KIND_SUBNET = 'subnet'
KIND_VIRTUAL_SWITCH = 'virtual_switch'
REL_SUBNET = 'networking:config:subnet'
MAX_VLAN_ID = 4094
# Subnet.name and .description limits of ntnx-networking-py-client.
MAX_NAME_LENGTH = 128
MAX_DESCRIPTION_LENGTH = 1000
# Fields a PUT may change; the rest is fixed at creation.
UPDATABLE = ('name', 'description', 'ipConfig', 'dhcpOptions')
IMMUTABLE = ('subnetType', 'networkId', 'clusterReference',
             'virtualSwitchReference')


def subnet_not_found(ext_id):
    return errors.NotFound("Subnet %s not found." % ext_id,
                           code='NET-40400',
                           error_group='SUBNET_NOT_FOUND')


def virtual_switch_not_found(ext_id):
    return errors.NotFound("Virtual switch %s not found." % ext_id,
                           code='NET-40401',
                           error_group='VIRTUAL_SWITCH_NOT_FOUND')


def bad_request(message):
    return errors.BadRequest(message, code='NET-40000',
                             error_group='INVALID_INPUT')


def new_ext_id():
    return str(uuid.uuid4())


# ------------------------------------------------------------ addresses

def ipv4_json(value, prefix_length=32):
    """A ``common.v1.config.IPv4Address``."""
    return {'$objectType': 'common.v1.config.IPv4Address',
            'value': str(value), 'prefixLength': prefix_length}


def ip_address_json(value):
    """A ``common.v1.config.IPAddress`` holding an IPv4 address."""
    return {'$objectType': 'common.v1.config.IPAddress',
            'ipv4': ipv4_json(value)}


def parse_ipv4(obj, field):
    """The address of an ``IPv4Address`` dict as ``IPv4Address``."""
    if not isinstance(obj, dict) or not isinstance(obj.get('value'), str):
        raise bad_request("'%s' must be an IPv4 address object with a "
                          "'value'" % field)
    try:
        return ipaddress.IPv4Address(obj['value'])
    except ValueError:
        raise bad_request("'%s' is not a valid IPv4 address: %r"
                          % (field, obj['value']))


def _parse_ip_address(obj, field):
    # common.v1.config.IPAddress: {"ipv4": {...}} (IPv6 not emulated).
    if not isinstance(obj, dict) or 'ipv4' not in obj:
        raise bad_request("'%s' must hold an 'ipv4' address" % field)
    return parse_ipv4(obj['ipv4'], field + '.ipv4')


# ---------------------------------------------------------------- IPAM

def _parse_ipv4_config(ipv4):
    """Validate an ``IPv4Config``; returns it normalized (stored form)."""
    if not isinstance(ipv4, dict):
        raise bad_request("'ipConfig[].ipv4' must be an object")
    ip_subnet = ipv4.get('ipSubnet')
    if not isinstance(ip_subnet, dict):
        raise bad_request("'ipConfig[].ipv4.ipSubnet' is required")
    address = parse_ipv4(ip_subnet.get('ip'), 'ipSubnet.ip')
    prefix = ip_subnet.get('prefixLength')
    if isinstance(prefix, bool) or not isinstance(prefix, int) or \
            not 1 <= prefix <= 30:
        raise bad_request("'ipSubnet.prefixLength' must be an integer "
                          "between 1 and 30")
    try:
        network = ipaddress.IPv4Network('%s/%d' % (address, prefix))
    except ValueError:
        raise bad_request("%s/%d is not a network address (host bits set)"
                          % (address, prefix))
    out = {'$objectType': NS + 'IPv4Config',
           'ipSubnet': {'$objectType': NS + 'IPv4Subnet',
                        'ip': ipv4_json(network.network_address),
                        'prefixLength': prefix}}
    special = {network.network_address: 'the network address',
               network.broadcast_address: 'the broadcast address'}
    for field in ('defaultGatewayIp', 'dhcpServerAddress'):
        if ipv4.get(field) is None:
            continue
        value = parse_ipv4(ipv4[field], field)
        if value not in network:
            raise bad_request("%s %s is outside %s" % (field, value,
                                                       network))
        if value in special:
            raise bad_request("%s %s is %s of %s"
                              % (field, value, special[value], network))
        special[value] = 'the %s' % field
        out[field] = ipv4_json(value)
    pools = []
    for pool in ipv4.get('poolList') or []:
        if not isinstance(pool, dict):
            raise bad_request("'poolList' items must be objects")
        start = parse_ipv4(pool.get('startIp'), 'poolList[].startIp')
        end = parse_ipv4(pool.get('endIp'), 'poolList[].endIp')
        if start > end:
            raise bad_request("Pool %s-%s starts after it ends"
                              % (start, end))
        if start not in network or end not in network:
            raise bad_request("Pool %s-%s is not inside %s"
                              % (start, end, network))
        for value, what in special.items():
            if start <= value <= end:
                raise bad_request("Pool %s-%s contains %s (%s)"
                                  % (start, end, value, what))
        for other_start, other_end in pools:
            if start <= other_end and other_start <= end:
                raise bad_request("Pools %s-%s and %s-%s overlap"
                                  % (start, end, other_start, other_end))
        pools.append((start, end))
    if ipv4.get('poolList') is not None:
        out['poolList'] = [{'$objectType': NS + 'IPv4Pool',
                            'startIp': ipv4_json(s),
                            'endIp': ipv4_json(e)} for s, e in pools]
    return out


def _parse_ip_config(ip_config):
    if ip_config is None:
        return []
    if not isinstance(ip_config, list):
        raise bad_request("'ipConfig' must be a list")
    if len(ip_config) > 1:
        raise bad_request("'ipConfig' holds at most one entry")
    out = []
    for entry in ip_config:
        if not isinstance(entry, dict):
            raise bad_request("'ipConfig' items must be objects")
        if entry.get('ipv6') is not None:
            raise bad_request("IPv6 address management is not supported "
                              "on VLAN subnets of the emulated cluster")
        if entry.get('ipv4') is None:
            continue
        out.append({'$objectType': NS + 'IPConfig',
                    'ipv4': _parse_ipv4_config(entry['ipv4'])})
    return out


def _parse_dhcp_options(options):
    if options is None:
        return None
    if not isinstance(options, dict):
        raise bad_request("'dhcpOptions' must be an object")
    out = {'$objectType': NS + 'DhcpOptions'}
    for field in ('domainNameServers', 'ntpServers'):
        if options.get(field) is None:
            continue
        if not isinstance(options[field], list):
            raise bad_request("'dhcpOptions.%s' must be a list" % field)
        out[field] = [ip_address_json(_parse_ip_address(
            a, 'dhcpOptions.' + field)) for a in options[field]]
    for field in ('domainName', 'tftpServerName', 'bootFileName'):
        if options.get(field) is not None:
            if not isinstance(options[field], str):
                raise bad_request("'dhcpOptions.%s' must be a string"
                                  % field)
            out[field] = options[field]
    if options.get('searchDomains') is not None:
        domains = options['searchDomains']
        if not isinstance(domains, list) or not all(
                isinstance(d, str) for d in domains):
            raise bad_request("'dhcpOptions.searchDomains' must be a list "
                              "of strings")
        out['searchDomains'] = list(domains)
    return out


# -------------------------------------------------------------- subnets

def _check_name(name, required):
    input_limits.check_name(name, max_length=MAX_NAME_LENGTH,
                            required=required, code='NET-40000')


def _description(value):
    if not isinstance(value, str) or len(value) > MAX_DESCRIPTION_LENGTH:
        raise bad_request("'description' must be a string of at most %d "
                          "characters" % MAX_DESCRIPTION_LENGTH)
    return value


def parse_create(body):
    """Validate a create body; returns the fields the caller resolves.

    Returns ``(vlan_id, cluster ext_id or None, virtual switch ext_id or
    None)``; the references are checked against state by the caller.
    """
    _check_name(body.get('name'), required=True)
    subnet_type = body.get('subnetType')
    if subnet_type != 'VLAN':
        raise bad_request("'subnetType' must be VLAN (overlay subnets need "
                          "a VPC, which the emulated cluster does not "
                          "have), got %r" % (subnet_type,))
    vlan = body.get('networkId')
    if isinstance(vlan, bool) or not isinstance(vlan, int) or \
            not 0 <= vlan <= MAX_VLAN_ID:
        raise bad_request("'networkId' (the VLAN id) must be an integer "
                          "between 0 and %d" % MAX_VLAN_ID)
    for field in ('clusterReference', 'virtualSwitchReference'):
        if body.get(field) is not None and not isinstance(body[field], str):
            raise bad_request("'%s' must be an extId string" % field)
    if body.get('vpcReference') or body.get('isExternal'):
        raise bad_request("External and VPC subnets are not supported by "
                          "the emulated cluster")
    return (vlan, body.get('clusterReference'),
            body.get('virtualSwitchReference'))


def new_subnet(body, ext_id, cluster, virtual_switch):
    """The stored subnet for a validated create ``body``."""
    subnet = {
        '$objectType': SUBNET_TYPE,
        'extId': ext_id,
        'name': body['name'],
        'subnetType': 'VLAN',
        'networkId': body['networkId'],
        'clusterReference': cluster['extId'],
        'clusterName': cluster.get('name'),
        'virtualSwitchReference': virtual_switch['extId'],
        'bridgeName': 'br0',
        'hypervisorType': 'AHV',
        'isExternal': False,
        'isAdvancedNetworking': False,
        'ipConfig': _parse_ip_config(body.get('ipConfig')),
    }
    if body.get('description') is not None:
        subnet['description'] = _description(body['description'])
    options = _parse_dhcp_options(body.get('dhcpOptions'))
    if options is not None:
        subnet['dhcpOptions'] = options
    return subnet


def parse_update(subnet, body):
    """The subnet after a PUT ``body``: a new dict, ``subnet`` unchanged."""
    _check_name(body.get('name'), required=False)
    for field in IMMUTABLE:
        if field in body and body[field] is not None and \
                body[field] != subnet.get(field):
            raise bad_request("'%s' of a subnet cannot be changed" % field)
    new = copy.deepcopy(subnet)
    # Computed on every GET, never stored.
    new.pop('ipUsage', None)
    if body.get('name') is not None:
        new['name'] = body['name']
    if 'description' in body:
        if body['description'] is None:
            new.pop('description', None)
        else:
            new['description'] = _description(body['description'])
    # A PUT carries the whole subnet: no ipConfig means no IPAM.
    new['ipConfig'] = _parse_ip_config(body.get('ipConfig'))
    options = _parse_dhcp_options(body.get('dhcpOptions'))
    if options is None:
        new.pop('dhcpOptions', None)
    else:
        new['dhcpOptions'] = options
    return new


def ipv4_config(subnet):
    """The subnet's ``IPv4Config`` dict, or None without IPAM."""
    for entry in (subnet or {}).get('ipConfig') or []:
        if entry.get('ipv4'):
            return entry['ipv4']
    return None


def network(subnet):
    """The managed subnet's ``IPv4Network``, or None without IPAM."""
    ipv4 = ipv4_config(subnet)
    if ipv4 is None:
        return None
    return ipaddress.IPv4Network('%s/%d' % (
        ipv4['ipSubnet']['ip']['value'], ipv4['ipSubnet']['prefixLength']))


def reserved_addresses(subnet):
    """Addresses of a managed subnet no NIC may take (and why)."""
    net = network(subnet)
    ipv4 = ipv4_config(subnet)
    reserved = {net.network_address: 'the network address',
                net.broadcast_address: 'the broadcast address'}
    for field, what in (('defaultGatewayIp', 'the default gateway'),
                        ('dhcpServerAddress', 'the DHCP server address')):
        if ipv4.get(field):
            reserved[ipaddress.IPv4Address(ipv4[field]['value'])] = what
    return reserved


def pools(subnet):
    """``[(start, end)]`` IPv4Address pairs of a managed subnet."""
    ipv4 = ipv4_config(subnet) or {}
    return [(ipaddress.IPv4Address(p['startIp']['value']),
             ipaddress.IPv4Address(p['endIp']['value']))
            for p in ipv4.get('poolList') or []]


def ip_usage(subnet, macs, addresses):
    """The subnet's ``IPUsage``: ``macs`` NICs on it, holding ``addresses``.

    Free addresses are counted in the pools (what the cluster can still
    hand out by itself).
    """
    usage = {'$objectType': NS + 'IPUsage', 'numMacs': macs}
    if network(subnet) is None:
        return usage
    pool_usages = []
    for start, end in pools(subnet):
        total = int(end) - int(start) + 1
        used = len([a for a in addresses if start <= a <= end])
        pool_usages.append({
            '$objectType': NS + 'IPPoolUsage',
            'numTotalIPs': total, 'numFreeIPs': total - used,
            'range': {'$objectType': NS + 'IPv4Pool',
                      'startIp': ipv4_json(start),
                      'endIp': ipv4_json(end)}})
    usage.update(numAssignedIPs=len(addresses),
                 numFreeIPs=sum(p['numFreeIPs'] for p in pool_usages),
                 ipPoolUsages=pool_usages)
    return usage


def render_subnet(subnet, usage=None):
    """The subnet as a GET returns it (``usage``: its ``ipUsage``)."""
    out = copy.deepcopy(subnet)
    if not out.get('ipConfig'):
        out.pop('ipConfig', None)
    if usage is not None:
        out['ipUsage'] = usage
    return out


# ------------------------------------------------------ virtual switches

def virtual_switch_body(ext_id, name, cluster_ext_id, is_default=True,
                        mtu=1500):
    """The stored ``networking.v4.config.VirtualSwitch`` of a cluster."""
    return {
        '$objectType': NS + 'VirtualSwitch',
        'extId': ext_id,
        'name': name,
        'description': 'Virtual switch %s of the emulated cluster' % name,
        'isDefault': is_default,
        'isQuickMode': False,
        'hasDeploymentError': False,
        'hasUpdateInProgress': False,
        'hasDeleteInProgress': False,
        'mtu': mtu,
        'clusters': [{'$objectType': NS + 'Cluster',
                      'extId': cluster_ext_id}],
    }
