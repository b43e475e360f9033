"""Neutron networks and subnets as AHV VLAN subnets.

One AHV subnet per Neutron network that the cluster carries (a flat or
VLAN segment on one of ``[ml2_nutanix] physical_networks``), named
``openstack-net-<network id>`` so that any neutron process (and any
restart) finds it again without a table of its own.  An adopted subnet
(``adopt_existing_subnets``) keeps its own name and is found by its VLAN;
it is never deleted by the driver.  The IPv4 subnet of the Neutron network
is mirrored into the AHV subnet's IP address management, so that the
cluster gives each NIC exactly the address Neutron allocated to its port.
"""

import ipaddress

from neutron_lib.api.definitions import provider_net
from neutron_lib import constants as n_const
from neutron_lib.plugins.ml2 import api
from oslo_log import log as logging

from nutanix_openstack.neutron import exceptions as n_exc
from nutanix_openstack.prism import exceptions as prism_exc
from nutanix_openstack.prism import subnets as prism_subnets

LOG = logging.getLogger(__name__)

SUBNET_NAME_PREFIX = 'openstack-net-'
CARRIED_TYPES = (n_const.TYPE_FLAT, n_const.TYPE_VLAN)


def subnet_name(network_id):
    """Name of the AHV subnet the driver creates for a Neutron network."""
    return SUBNET_NAME_PREFIX + network_id


def segment_vlan_id(segment):
    """The AHV VLAN id of a flat (0, untagged) or VLAN segment."""
    if segment[api.NETWORK_TYPE] == n_const.TYPE_FLAT:
        return 0
    return int(segment[api.SEGMENTATION_ID])


def network_segments(network):
    """Segments of a network dict (``segments`` or the provider fields)."""
    if network.get('segments'):
        return [{api.NETWORK_TYPE: s.get(provider_net.NETWORK_TYPE),
                 api.PHYSICAL_NETWORK: s.get(provider_net.PHYSICAL_NETWORK),
                 api.SEGMENTATION_ID: s.get(provider_net.SEGMENTATION_ID)}
                for s in network['segments']]
    return [{api.NETWORK_TYPE: network.get(provider_net.NETWORK_TYPE),
             api.PHYSICAL_NETWORK: network.get(provider_net.PHYSICAL_NETWORK),
             api.SEGMENTATION_ID: network.get(provider_net.SEGMENTATION_ID)}]


def neutron_ipv4(subnet):
    """The prism ``ipv4`` dict of a Neutron IPv4 subnet dict."""
    return {
        'cidr': str(ipaddress.IPv4Network(subnet['cidr'], strict=False)),
        'gateway': subnet.get('gateway_ip') or None,
        'pools': [(p['start'], p['end'])
                  for p in subnet.get('allocation_pools') or ()],
        'dns_servers': list(subnet.get('dns_nameservers') or ()),
    }


def is_ipv4(subnet):
    return int(subnet.get('ip_version') or 0) == 4


def _same_cidr(a, b):
    try:
        return (ipaddress.ip_network(a, strict=False) ==
                ipaddress.ip_network(b, strict=False))
    except ValueError:
        return False


class SubnetOps(object):
    """The AHV subnet side of networks and subnets (postcommit calls)."""

    def __init__(self, driver):
        self._driver = driver

    @property
    def _client(self):
        return self._driver.client

    @property
    def _conf(self):
        return self._driver.conf

    # -- which segments we carry -------------------------------------------

    def carries(self, segment):
        """True for a flat/VLAN segment on one of our physnets."""
        return (segment.get(api.NETWORK_TYPE) in CARRIED_TYPES and
                segment.get(api.PHYSICAL_NETWORK) in self._driver.physnets)

    def carried_segment(self, segments):
        """The first segment of ``segments`` the cluster carries, or None."""
        for segment in segments or ():
            if self.carries(segment):
                return segment
        return None

    def _virtual_switch(self, segment):
        return self._driver.physnets.get(segment[api.PHYSICAL_NETWORK])

    # -- lookups -----------------------------------------------------------

    def _foreign_on_vlan(self, network_id, segment):
        """Subnets on the segment's VLAN (and switch) not named for us."""
        cluster = self._driver.cluster_ext_id
        found = self._client.subnets.find_by_vlan(segment_vlan_id(segment),
                                                  cluster_ext_id=cluster)
        if not found:
            return []
        switch = (self._virtual_switch(segment) or
                  self._client.subnets.default_virtual_switch(cluster))
        return [s for s in found
                if s.get('name') != subnet_name(network_id) and
                s.get('virtualSwitchReference') in (None, switch)]

    def find(self, network_id, segment):
        """The AHV subnet of a network (ours, or the adopted one), or None.

        Backend errors propagate as prism exceptions.
        """
        subnet = self._client.subnets.find_by_name(subnet_name(network_id))
        if subnet or not self._conf.adopt_existing_subnets:
            return subnet
        foreign = self._foreign_on_vlan(network_id, segment)
        return foreign[0] if len(foreign) == 1 else None

    # -- network create / delete -------------------------------------------

    def ensure(self, network_id, segment, ipv4=None):
        """Find or create the network's AHV subnet; returns it.

        A VLAN already used by a subnet OpenStack did not make raises
        VlanInUse unless adoption is on.  Called from postcommit: ML2
        deletes the network when this raises.
        """
        action = 'create the AHV subnet of network %s' % network_id
        with n_exc.translate(action):
            subnet = self._client.subnets.find_by_name(
                subnet_name(network_id))
            if subnet:
                return subnet
            vlan_id = segment_vlan_id(segment)
            foreign = self._foreign_on_vlan(network_id, segment)
            if foreign:
                if not self._conf.adopt_existing_subnets:
                    raise n_exc.VlanInUse(
                        network_id=network_id, vlan_id=vlan_id,
                        subnet_name=foreign[0].get('name'),
                        subnet_ext_id=foreign[0].get('extId'))
                if len(foreign) > 1:
                    raise n_exc.AmbiguousVlan(
                        network_id=network_id, vlan_id=vlan_id,
                        count=len(foreign),
                        names=', '.join(sorted(str(s.get('name'))
                                               for s in foreign)))
                LOG.info('Network %(net)s adopts AHV subnet %(name)s '
                         '(%(ext_id)s) on VLAN %(vlan)s',
                         {'net': network_id, 'name': foreign[0].get('name'),
                          'ext_id': foreign[0].get('extId'),
                          'vlan': vlan_id})
                if ipv4 is not None:
                    self._client.subnets.update_ipv4(foreign[0]['extId'],
                                                     ipv4)
                return foreign[0]
            subnet = self._client.subnets.create(
                subnet_name(network_id), vlan_id,
                self._driver.cluster_ext_id, ipv4=ipv4,
                virtual_switch_ext_id=self._virtual_switch(segment),
                description='Neutron network %s' % network_id)
            LOG.info('Created AHV subnet %(ext_id)s on VLAN %(vlan)s for '
                     'network %(net)s',
                     {'ext_id': subnet.get('extId'), 'vlan': vlan_id,
                      'net': network_id})
            return subnet

    def delete(self, network_id):
        """Delete the network's AHV subnet if the driver created it.

        An adopted subnet is left alone.  Called from delete postcommit,
        whose errors ML2 only logs: the message says what is left.
        """
        action = 'delete the AHV subnet of network %s' % network_id
        with n_exc.translate(action):
            subnet = self._client.subnets.find_by_name(
                subnet_name(network_id))
            if not subnet:
                LOG.debug('Network %s has no AHV subnet of its own',
                          network_id)
                return
            try:
                self._client.subnets.delete(subnet['extId'])
            except prism_exc.NotFound:
                return
            except prism_exc.Conflict:
                LOG.error('AHV subnet %(ext_id)s of deleted network %(net)s '
                          'is still used by VM NICs and was left on the '
                          'cluster; delete it once those NICs are gone',
                          {'ext_id': subnet['extId'], 'net': network_id})
                raise
            LOG.info('Deleted AHV subnet %(ext_id)s of network %(net)s',
                     {'ext_id': subnet['extId'], 'net': network_id})

    # -- IP address management ----------------------------------------------

    def mirror_ipam(self, network_id, segment, neutron_subnet):
        """Write the Neutron IPv4 subnet into the AHV subnet's IPAM."""
        ipv4 = neutron_ipv4(neutron_subnet)
        action = ('mirror subnet %s into the AHV subnet of network %s'
                  % (neutron_subnet['id'], network_id))
        with n_exc.translate(action):
            subnet = self.find(network_id, segment)
            if subnet is None:
                # Created now (the network predates the driver, or its
                # subnet was lost): with its IPAM in the same task.
                subnet = self.ensure(network_id, segment, ipv4=ipv4)
                if prism_subnets.subnet_ipv4(subnet) is not None:
                    return subnet
            return self._client.subnets.update_ipv4(subnet['extId'], ipv4)

    def clear_ipam(self, network_id, segment, neutron_subnet):
        """Remove the IPAM of a deleted Neutron subnet from the AHV subnet.

        Only when the AHV subnet's IPAM is that subnet's CIDR (another
        IPv4 subnet refused at create must not clear the first one's).
        """
        action = ('remove subnet %s from the AHV subnet of network %s'
                  % (neutron_subnet['id'], network_id))
        with n_exc.translate(action):
            subnet = self.find(network_id, segment)
            if subnet is None:
                return
            current = prism_subnets.subnet_ipv4(subnet)
            if not current or not _same_cidr(current.get('cidr'),
                                             neutron_subnet['cidr']):
                return
            self._client.subnets.update_ipv4(subnet['extId'], None)
