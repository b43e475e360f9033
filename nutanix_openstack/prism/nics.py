"""VM NIC JSON (``vmm.v4.ahv.config.Nic``): the one place that builds it.

Neutron's mechanism driver and Nova's VIF code both deal with NICs; they
never build or pick apart NIC JSON themselves but use :func:`nic_spec` and
the accessors here, and share the VIF constants below (they never import
each other).

A NIC is a ``VirtualEthernetNic`` (``nicBackingInfo``: model, MAC,
connected) on a subnet (``nicNetworkInfo``: ``SubnetReference`` and an
``Ipv4Config``), the v4.1+ field pair; the accessors also read the older
``backingInfo``/``networkInfo`` pair that servers send beside it.
"""

NS = 'vmm.v4.ahv.config.'

# Neutron binds ports with this vif_type; Nova plugs only such VIFs.
VIF_TYPE = 'nutanix'
# Keys of the port's binding:vif_details.
VIF_DETAIL_SUBNET = 'nutanix_subnet_ext_id'
VIF_DETAIL_CLUSTER = 'nutanix_cluster_ext_id'
VIF_DETAIL_VLAN = 'nutanix_vlan_id'

MODELS = ('VIRTIO', 'E1000')


def _obj(kind, **fields):
    body = {'$objectType': NS + kind}
    body.update((k, v) for k, v in fields.items() if v is not None)
    return body


def nic_spec(mac_address, subnet_ext_id, ipv4_address=None, model='VIRTIO',
             is_connected=True):
    """A v4 ``Nic`` on ``subnet_ext_id`` with MAC ``mac_address``.

    With ``ipv4_address`` the cluster's IP address management gives the
    NIC exactly that address (``shouldAssignIp`` true, ``ipAddress`` set;
    the subnet must manage addresses and the address be free and inside
    its CIDR); without, ``shouldAssignIp`` is false and the cluster
    assigns none.
    """
    if model not in MODELS:
        raise ValueError('NIC model must be one of %s, not %r'
                         % (', '.join(MODELS), model))
    if ipv4_address:
        ipv4 = _obj('Ipv4Config', shouldAssignIp=True,
                    ipAddress={'$objectType': 'common.v1.config.IPv4Address',
                               'value': str(ipv4_address),
                               'prefixLength': 32})
    else:
        ipv4 = _obj('Ipv4Config', shouldAssignIp=False)
    return _obj(
        'Nic',
        nicBackingInfo=_obj('VirtualEthernetNic',
                            macAddress=(mac_address.lower()
                                        if mac_address else None),
                            model=model, isConnected=bool(is_connected)),
        nicNetworkInfo=_obj('VirtualEthernetNicNetworkInfo',
                            nicType='NORMAL_NIC',
                            subnet=_obj('SubnetReference',
                                        extId=subnet_ext_id),
                            ipv4Config=ipv4))


def _backing(nic):
    return (nic or {}).get('nicBackingInfo') or \
        (nic or {}).get('backingInfo') or {}


def _network(nic):
    return (nic or {}).get('nicNetworkInfo') or \
        (nic or {}).get('networkInfo') or {}


def nic_mac(nic):
    """The NIC's MAC address (lower case), or None."""
    mac = _backing(nic).get('macAddress')
    return mac.lower() if mac else None


def nic_subnet_ext_id(nic):
    """extId of the subnet the NIC is on, or None."""
    return (_network(nic).get('subnet') or {}).get('extId')


def nic_ipv4_address(nic):
    """The IPv4 address the cluster assigned to the NIC, or None.

    The address is the one reserved by the subnet's IP address
    management (``ipv4Config.ipAddress``); without one, the first address
    the cluster learned from the guest (``ipv4Info``), if any.
    """
    network = _network(nic)
    address = ((network.get('ipv4Config') or {}).get('ipAddress')
               or {}).get('value')
    if address:
        return address
    learned = (network.get('ipv4Info') or {}).get('learnedIpAddresses')
    return (learned[0] or {}).get('value') if learned else None


def nic_model(nic):
    return _backing(nic).get('model')


def nic_is_connected(nic):
    return _backing(nic).get('isConnected', True)
