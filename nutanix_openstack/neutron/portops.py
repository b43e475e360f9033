"""Neutron ports as AHV VM NICs: binding, provisioning blocks, updates.

Nova's Nutanix driver creates the NIC (the port's MAC, the AHV subnet from
the binding's vif_details, the port's fixed IPv4).  The driver here only
binds, keeps the port DOWN behind a provisioning block until the NIC
exists (see :mod:`nutanix_openstack.neutron.poller`), pushes later MAC and
fixed-IP changes to the NIC and removes a NIC left behind by a deleted
port.
"""

import ipaddress

from neutron_lib.api.definitions import portbindings
from neutron_lib.callbacks import resources
from neutron_lib import constants as n_const
from oslo_log import log as logging

from neutron.db import provisioning_blocks
from neutron.plugins.ml2.common import constants as ml2_consts

from nutanix_openstack.neutron import exceptions as n_exc
from nutanix_openstack.prism import exceptions as prism_exc
from nutanix_openstack.prism import nics

LOG = logging.getLogger(__name__)

# The provisioning-block entity of this driver.
PROVISIONING_ENTITY = 'nutanix'
SUPPORTED_VNIC_TYPES = (portbindings.VNIC_NORMAL,)


def first_ipv4(port):
    """The port's first fixed IPv4 address (the one its NIC carries)."""
    for fixed_ip in (port or {}).get('fixed_ips') or ():
        try:
            address = ipaddress.ip_address(fixed_ip['ip_address'])
        except (KeyError, ValueError):
            continue
        if address.version == 4:
            return str(address)
    return None


def bound_subnet_ext_id(port):
    """AHV subnet extId from a port bound by this driver, or None."""
    if (port or {}).get(portbindings.VIF_TYPE) != nics.VIF_TYPE:
        return None
    details = port.get(portbindings.VIF_DETAILS) or {}
    return details.get(nics.VIF_DETAIL_SUBNET)


class PortOps(object):

    def __init__(self, driver):
        self._driver = driver

    @property
    def _client(self):
        return self._driver.client

    # -- binding -----------------------------------------------------------

    def vif_details(self, subnet, vlan_id):
        return {
            nics.VIF_DETAIL_SUBNET: subnet['extId'],
            nics.VIF_DETAIL_CLUSTER: self._driver.cluster_ext_id,
            nics.VIF_DETAIL_VLAN: vlan_id,
            portbindings.CAP_PORT_FILTER: False,
        }

    # -- provisioning blocks -------------------------------------------------

    def needs_block(self, port, host, segments, original_host=None):
        """Whether a port must wait for its NIC before going ACTIVE.

        Ports bound (or being bound) to one of our compute hosts, of a
        vnic type we bind, on a network the cluster carries, not already
        ACTIVE on that host.
        """
        if not host or host not in self._driver.compute_hosts:
            return False
        # As ML2/OVN: an ACTIVE port (this precommit may be the status
        # update the poller caused) or an unchanged host needs none.
        if port.get('status') == n_const.PORT_STATUS_ACTIVE or \
                host == original_host:
            return False
        if port.get('device_owner') in ml2_consts.NO_PBLOCKS_TYPES:
            return False
        vnic_type = port.get(portbindings.VNIC_TYPE,
                             portbindings.VNIC_NORMAL)
        if vnic_type not in SUPPORTED_VNIC_TYPES:
            return False
        return self._driver.subnetops.carried_segment(segments) is not None

    def add_block(self, plugin_context, port_id):
        LOG.debug('Port %s waits for its NIC on the cluster', port_id)
        provisioning_blocks.add_provisioning_component(
            plugin_context, port_id, resources.PORT, PROVISIONING_ENTITY)

    # -- updates -------------------------------------------------------------

    def push_update(self, original, current):
        """Push a changed MAC or first fixed IPv4 to the port's NIC.

        Calls ``vms.find_nic_by_mac`` (the original MAC) and
        ``vms.update_nic``.  Nothing when the port has no NIC yet (Nova
        creates it with the new values).
        """
        subnet_ext_id = bound_subnet_ext_id(current)
        if not subnet_ext_id:
            return
        old_mac = (original.get('mac_address') or '').lower()
        new_mac = (current.get('mac_address') or '').lower()
        old_ip, new_ip = first_ipv4(original), first_ipv4(current)
        if old_mac == new_mac and old_ip == new_ip:
            return
        action = 'update the NIC of port %s' % current['id']
        with n_exc.translate(action):
            found = self._client.vms.find_nic_by_mac(old_mac)
            if not found:
                LOG.debug('Port %s has no NIC on the cluster yet',
                          current['id'])
                return
            vm_ext_id, nic = found
            # Keep what Nova chose for the NIC (model, link state).
            spec = nics.nic_spec(
                new_mac, nics.nic_subnet_ext_id(nic) or subnet_ext_id,
                ipv4_address=new_ip,
                model=nics.nic_model(nic) or 'VIRTIO',
                is_connected=nics.nic_is_connected(nic))
            self._client.vms.update_nic(vm_ext_id, nic['extId'], spec)
            LOG.info('NIC %(nic)s of VM %(vm)s follows port %(port)s: '
                     'MAC %(mac)s, IPv4 %(ip)s',
                     {'nic': nic['extId'], 'vm': vm_ext_id,
                      'port': current['id'], 'mac': new_mac, 'ip': new_ip})

    def remove_leftover_nic(self, port):
        """Delete the NIC of a deleted port if it is still on a VM.

        Only a NIC with the port's MAC on the port's AHV subnet (a NIC of
        another subnet with the same MAC is not ours).
        """
        subnet_ext_id = bound_subnet_ext_id(port)
        if not subnet_ext_id:
            return
        action = 'remove the NIC of deleted port %s' % port['id']
        with n_exc.translate(action):
            found = self._client.vms.find_nic_by_mac(port['mac_address'])
            if not found:
                return
            vm_ext_id, nic = found
            if nics.nic_subnet_ext_id(nic) != subnet_ext_id:
                return
            try:
                self._client.vms.delete_nic(vm_ext_id, nic['extId'])
            except prism_exc.NotFound:
                return
            LOG.info('Removed NIC %(nic)s of deleted port %(port)s from VM '
                     '%(vm)s', {'nic': nic['extId'], 'port': port['id'],
                                'vm': vm_ext_id})
