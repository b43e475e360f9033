"""The ``nutanix`` ML2 mechanism driver (agentless, over prism/).

Flat and VLAN provider networks on ``[ml2_nutanix] physical_networks``
become AHV VLAN subnets (:mod:`.subnetops`); ports bound to
``[ml2_nutanix] compute_hosts`` get ``vif_type = nutanix`` and wait behind
a provisioning block until Nova's Nutanix driver has created their NIC
(:mod:`.portops`, :mod:`.poller`).  Segments the cluster cannot carry
(VXLAN, GRE, Geneve, or another physnet) are not bound, so that Nova sees
``binding_failed`` rather than booting a VM without a network.

Backend work happens in ``*_postcommit`` and ``bind_port`` (outside the
database transaction); ``*_precommit`` only validates from the database.
"""

from neutron_lib.api.definitions import portbindings
from neutron_lib.plugins import directory
from neutron_lib.plugins.ml2 import api
from oslo_config import cfg
from oslo_log import log as logging

from neutron import worker as neutron_worker

from nutanix_openstack.neutron import config
from nutanix_openstack.neutron import exceptions as n_exc
from nutanix_openstack.neutron import poller
from nutanix_openstack.neutron import portops
from nutanix_openstack.neutron import subnetops
from nutanix_openstack.prism import client as prism_client
from nutanix_openstack.prism import nics

LOG = logging.getLogger(__name__)

config.register_opts(cfg.CONF)


class NutanixMechanismDriver(api.MechanismDriver):
    """Binds ports to AHV VLAN subnets of one Nutanix cluster."""

    def __init__(self, conf=None, client=None):
        super(NutanixMechanismDriver, self).__init__()
        self._conf_root = conf or cfg.CONF
        self._client = client
        self._cluster_ext_id = None
        self.physnets = {}
        self.compute_hosts = frozenset()
        self.subnetops = subnetops.SubnetOps(self)
        self.portops = portops.PortOps(self)
        self.poller = poller.NicPoller(self)

    # -- set-up ------------------------------------------------------------

    @property
    def conf(self):
        return self._conf_root.ml2_nutanix

    def initialize(self):
        try:
            self.physnets = config.physical_network_switches(self.conf)
        except ValueError as e:
            raise cfg.Error(str(e))
        self.compute_hosts = frozenset(h.strip()
                                       for h in self.conf.compute_hosts or ()
                                       if h.strip())
        if not self.conf.endpoints:
            raise cfg.RequiredOptError('endpoints', config.ml2_nutanix_group)
        if not self.physnets:
            LOG.warning('[ml2_nutanix] physical_networks is empty: no '
                        'network is carried by the Nutanix cluster')
        if not self.compute_hosts:
            LOG.warning('[ml2_nutanix] compute_hosts is empty: no port '
                        'will be bound by the nutanix mechanism driver')
        LOG.info('Nutanix mechanism driver: physical networks %(nets)s, '
                 'compute hosts %(hosts)s',
                 {'nets': sorted(self.physnets),
                  'hosts': sorted(self.compute_hosts)})

    @property
    def client(self):
        # Made on first use, so that each forked neutron worker has its
        # own HTTP session.
        if self._client is None:
            self._client = prism_client.PrismClient.from_conf(self.conf)
        return self._client

    @property
    def cluster_ext_id(self):
        if self._cluster_ext_id is None:
            with n_exc.translate('find the Nutanix cluster'):
                self._cluster_ext_id = self.client.cluster_ext_id()
        return self._cluster_ext_id

    @property
    def connectivity(self):
        return portbindings.CONNECTIVITY_L2

    def get_workers(self):
        """The NIC poller, a thread of the plugin-workers process."""
        return [neutron_worker.PeriodicWorker(
            self.poller, self.conf.nic_poll_interval,
            self.conf.nic_poll_initial_delay,
            desc='nutanix NIC poller')]

    # -- networks ----------------------------------------------------------

    def create_network_postcommit(self, context):
        """Create (or adopt) the AHV subnet: ``subnets.create``."""
        segment = self.subnetops.carried_segment(context.network_segments)
        if segment is None:
            return
        self.subnetops.ensure(context.current['id'], segment)

    def delete_network_postcommit(self, context):
        """Delete the AHV subnet the driver made: ``subnets.delete``."""
        if self.subnetops.carried_segment(context.network_segments) is None:
            return
        self.subnetops.delete(context.current['id'])

    # -- subnets -----------------------------------------------------------

    def _subnet_segment(self, context):
        return self.subnetops.carried_segment(
            context.network.network_segments)

    def create_subnet_precommit(self, context):
        subnet = context.current
        if not subnetops.is_ipv4(subnet) or \
                self._subnet_segment(context) is None:
            return
        plugin = directory.get_plugin()
        existing = plugin.get_subnets(
            context.plugin_context,
            filters={'network_id': [subnet['network_id']],
                     'ip_version': [4]}, fields=['id'])
        others = [s for s in existing if s['id'] != subnet['id']]
        if others:
            raise n_exc.OneIPv4SubnetPerNetwork(
                network_id=subnet['network_id'], subnet_id=others[0]['id'])

    def create_subnet_postcommit(self, context):
        """Mirror the IPv4 subnet into the AHV IPAM: ``update_ipv4``."""
        self._mirror(context)

    def update_subnet_postcommit(self, context):
        self._mirror(context)

    def _mirror(self, context):
        subnet = context.current
        segment = self._subnet_segment(context)
        if segment is None:
            return
        if not subnetops.is_ipv4(subnet):
            LOG.debug('IPv6 subnet %s is not mirrored into the AHV subnet',
                      subnet['id'])
            return
        self.subnetops.mirror_ipam(subnet['network_id'], segment, subnet)

    def delete_subnet_postcommit(self, context):
        subnet = context.current
        segment = self._subnet_segment(context)
        if segment is None or not subnetops.is_ipv4(subnet):
            return
        self.subnetops.clear_ipam(subnet['network_id'], segment, subnet)

    # -- ports ---------------------------------------------------------------

    def create_port_precommit(self, context):
        if self.portops.needs_block(context.current, context.host,
                                    context.network.network_segments):
            self.portops.add_block(context.plugin_context,
                                   context.current['id'])

    def update_port_precommit(self, context):
        if self.portops.needs_block(context.current, context.host,
                                    context.network.network_segments,
                                    original_host=context.original_host):
            self.portops.add_block(context.plugin_context,
                                   context.current['id'])

    def update_port_postcommit(self, context):
        """Push MAC/fixed-IP changes: ``find_nic_by_mac`` + ``update_nic``.

        ML2 only logs errors raised here; the message names the port.
        """
        if context.original is None:
            return
        try:
            self.portops.push_update(context.original, context.current)
        except Exception:
            LOG.exception('Port %s changed in Neutron but its NIC on the '
                          'Nutanix cluster could not follow',
                          context.current['id'])
            raise

    def delete_port_postcommit(self, context):
        """Remove a NIC the deleted port left: ``delete_nic``."""
        self.portops.remove_leftover_nic(context.current)

    def bind_port(self, context):
        """Bind to the network's AHV subnet (``subnets.find_by_name``).

        Only for our compute hosts, vnic type normal, a flat/VLAN segment
        on our physnets; otherwise leaves the port unbound with the reason
        in the log.
        """
        port = context.current
        host = context.host
        if host not in self.compute_hosts:
            LOG.debug('Port %(port)s: host %(host)s is not a Nutanix '
                      'compute host', {'port': port['id'], 'host': host})
            return
        vnic_type = port.get(portbindings.VNIC_TYPE,
                             portbindings.VNIC_NORMAL)
        if vnic_type not in portops.SUPPORTED_VNIC_TYPES:
            LOG.warning('Port %(port)s not bound: vnic_type %(vnic)s is not '
                        'supported by the Nutanix cluster (only normal)',
                        {'port': port['id'], 'vnic': vnic_type})
            return
        network_id = context.network.current['id']
        for segment in context.segments_to_bind:
            if not self.subnetops.carries(segment):
                LOG.warning(
                    'Port %(port)s on host %(host)s: segment %(seg)s '
                    '(%(type)s, physical network %(physnet)s) not bound: '
                    'the Nutanix cluster carries only flat and VLAN '
                    'networks on %(ours)s; overlay networks (VXLAN, GRE, '
                    'Geneve) would need a tunnel endpoint AHV does not '
                    'have', {'port': port['id'], 'host': host,
                             'seg': segment[api.ID],
                             'type': segment[api.NETWORK_TYPE],
                             'physnet': segment.get(api.PHYSICAL_NETWORK),
                             'ours': sorted(self.physnets)})
                continue
            try:
                subnet = self._subnet_for_binding(context, network_id,
                                                  segment)
            except Exception:
                LOG.exception('Port %(port)s not bound: the AHV subnet of '
                              'network %(net)s is not available',
                              {'port': port['id'], 'net': network_id})
                return
            vlan_id = subnetops.segment_vlan_id(segment)
            context.set_binding(segment[api.ID], nics.VIF_TYPE,
                                self.portops.vif_details(subnet, vlan_id))
            LOG.debug('Port %(port)s bound to AHV subnet %(subnet)s (VLAN '
                      '%(vlan)s) on host %(host)s',
                      {'port': port['id'], 'subnet': subnet['extId'],
                       'vlan': vlan_id, 'host': host})
            return

    def _subnet_for_binding(self, context, network_id, segment):
        with n_exc.translate('find the AHV subnet of network %s'
                             % network_id):
            subnet = self.subnetops.find(network_id, segment)
        if subnet is not None:
            return subnet
        # The network predates the driver (or its creation failed after
        # Neutron committed it): make the subnet now, with its IPAM.
        ipv4 = None
        subnets = directory.get_plugin().get_subnets(
            context.plugin_context,
            filters={'network_id': [network_id], 'ip_version': [4]})
        if subnets:
            ipv4 = subnetops.neutron_ipv4(subnets[0])
        return self.subnetops.ensure(network_id, segment, ipv4=ipv4)
