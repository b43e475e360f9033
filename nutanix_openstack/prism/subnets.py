"""``/api/networking/v4.x/config/subnets``: AHV VLAN subnets.

A subnet (``networking.v4.config.Subnet``) is a VLAN (``networkId``, 0 =
untagged) on a virtual switch of one cluster, with or without the cluster's
IP address management (``ipConfig[0].ipv4``: CIDR, default gateway, address
pools; DNS servers in ``dhcpOptions``).  Callers describe the IPv4 side
with a plain dict::

    {'cidr': '192.0.2.0/24', 'gateway': '192.0.2.1' or None,
     'pools': [('192.0.2.10', '192.0.2.200'), ...],
     'dns_servers': ['192.0.2.53', ...]}

(``None`` for a subnet without IP address management); :func:`ipv4_config`
turns it into v4 JSON and :func:`subnet_ipv4` reads it back.
"""

import ipaddress

from nutanix_openstack.prism import ambiguous
from nutanix_openstack.prism import exceptions as exc
from nutanix_openstack.prism import paths

NS = 'networking.v4.config.'


def _obj(kind, **fields):
    body = {'$objectType': NS + kind}
    body.update((k, v) for k, v in fields.items() if v is not None)
    return body


def _ipv4_address(value, prefix_length=32):
    return {'$objectType': 'common.v1.config.IPv4Address',
            'value': str(value), 'prefixLength': prefix_length}


def _ip_address(value):
    return {'$objectType': 'common.v1.config.IPAddress',
            'ipv4': _ipv4_address(value)}


def ipv4_config(ipv4):
    """The v4 ``ipConfig`` list for an ipv4 dict (``[]`` for None).

    Raises ValueError for a CIDR, gateway or pool that is not IPv4.
    """
    if not ipv4:
        return []
    network = ipaddress.IPv4Network(ipv4['cidr'], strict=True)
    config = _obj('IPv4Config',
                  ipSubnet=_obj('IPv4Subnet',
                                ip=_ipv4_address(network.network_address),
                                prefixLength=network.prefixlen))
    if ipv4.get('gateway'):
        config['defaultGatewayIp'] = _ipv4_address(
            ipaddress.IPv4Address(ipv4['gateway']))
    config['poolList'] = [
        _obj('IPv4Pool',
             startIp=_ipv4_address(ipaddress.IPv4Address(start)),
             endIp=_ipv4_address(ipaddress.IPv4Address(end)))
        for start, end in ipv4.get('pools') or ()]
    return [_obj('IPConfig', ipv4=config)]


def dhcp_options(ipv4):
    """The v4 ``dhcpOptions`` carrying the DNS servers, or None."""
    servers = (ipv4 or {}).get('dns_servers') or ()
    if not servers:
        return None
    return _obj('DhcpOptions', domainNameServers=[
        _ip_address(ipaddress.IPv4Address(s)) for s in servers])


def subnet_vlan_id(subnet):
    """The VLAN id (``networkId``) of a subnet dict; 0 is untagged."""
    return (subnet or {}).get('networkId')


def subnet_ipv4(subnet):
    """The ipv4 dict of a subnet (see the module doc), or None."""
    ipv4 = None
    for entry in (subnet or {}).get('ipConfig') or []:
        if (entry or {}).get('ipv4'):
            ipv4 = entry['ipv4']
            break
    if ipv4 is None:
        return None
    ip_subnet = ipv4.get('ipSubnet') or {}
    cidr = '%s/%s' % ((ip_subnet.get('ip') or {}).get('value'),
                      ip_subnet.get('prefixLength'))
    servers = ((subnet.get('dhcpOptions') or {})
               .get('domainNameServers') or [])
    return {
        'cidr': cidr,
        'gateway': (ipv4.get('defaultGatewayIp') or {}).get('value'),
        'pools': [((p.get('startIp') or {}).get('value'),
                   (p.get('endIp') or {}).get('value'))
                  for p in ipv4.get('poolList') or []],
        'dns_servers': [((s or {}).get('ipv4') or {}).get('value')
                        for s in servers
                        if ((s or {}).get('ipv4') or {}).get('value')],
    }


class SubnetsAPI(object):
    """``/api/networking/v4.x/config/subnets`` (VLAN subnets)."""

    def __init__(self, session, tasks):
        self._session = session
        self._tasks = tasks

    @staticmethod
    def _path(ext_id):
        return '%s/%s' % (paths.SUBNETS, ext_id)

    def default_virtual_switch(self, cluster_ext_id):
        """extId of the cluster's default virtual switch (``vs0``)."""
        switches = [
            s for s in self._session.list_all(paths.VIRTUAL_SWITCHES)
            if cluster_ext_id in [c.get('extId')
                                  for c in s.get('clusters') or []]]
        if not switches:
            raise exc.NotFound('cluster %s has no virtual switch'
                               % cluster_ext_id)
        default = [s for s in switches if s.get('isDefault')]
        return (default or switches)[0]['extId']

    def create(self, name, vlan_id, cluster_ext_id, ipv4=None,
               virtual_switch_ext_id=None, description=None, wait=True):
        """POST subnets: a VLAN subnet; returns it (after its task).

        ``vlan_id`` 0 is untagged; ``ipv4`` None makes a subnet without IP
        address management.  The subnet goes on ``virtual_switch_ext_id``,
        by default the cluster's default virtual switch.  With
        ``wait=False`` returns the task reference.
        """
        body = _obj('Subnet', name=name, description=description,
                    subnetType='VLAN', networkId=int(vlan_id),
                    clusterReference=cluster_ext_id,
                    virtualSwitchReference=(
                        virtual_switch_ext_id or
                        self.default_virtual_switch(cluster_ext_id)),
                    ipConfig=ipv4_config(ipv4) or None,
                    dhcpOptions=dhcp_options(ipv4))
        outcome = ambiguous.post_create(self._session, paths.SUBNETS, body,
                                        self._find_by_name, name)
        if not wait:
            return outcome.task_reference()
        return self.get(outcome.wait(self._tasks, paths.REL_SUBNET,
                                     self.delete))

    def _find_by_name(self, name):
        return [s for s in self.list(filter=paths.name_filter(name))
                if s.get('name') == name]

    def get(self, ext_id):
        return self._session.get_data(self._path(ext_id))

    def list(self, filter=None):
        return self._session.list_all(paths.SUBNETS, filter=filter)

    def find_by_name(self, name):
        """The subnet named ``name`` (the first if several), or None."""
        found = self.list(filter=paths.name_filter(name))
        return found[0] if found else None

    def find_by_vlan(self, vlan_id, cluster_ext_id=None):
        """Every subnet on VLAN ``vlan_id`` (of one cluster if given)."""
        found = self.list(filter='networkId eq %d' % int(vlan_id))
        if cluster_ext_id:
            found = [s for s in found
                     if s.get('clusterReference') == cluster_ext_id]
        return found

    def update_ipv4(self, ext_id, ipv4, wait=True):
        """Replace the subnet's IP address management settings.

        GET + PUT with If-Match; ``ipv4`` None removes the IP address
        management.  Returns the subnet as it is afterwards.
        """
        config = ipv4_config(ipv4)
        options = dhcp_options(ipv4)

        def mutate(subnet):
            subnet['ipConfig'] = config
            current = dict(subnet.get('dhcpOptions') or {})
            current.pop('domainNameServers', None)
            if options:
                current.update(options)
            if set(current) - {'$objectType', '$reserved'}:
                current.setdefault('$objectType', NS + 'DhcpOptions')
                subnet['dhcpOptions'] = current
            else:
                subnet.pop('dhcpOptions', None)
            return subnet
        resp = self._session.update(self._path(ext_id), mutate)
        task = self._tasks.run(resp, wait=wait)
        return self.get(ext_id) if wait else task

    def delete(self, ext_id, wait=True):
        """DELETE the subnet; Conflict while NICs still use it."""
        resp = self._session.conditional('DELETE', self._path(ext_id))
        return self._tasks.run(resp, wait=wait)
