"""Options of the ML2 mechanism driver, group ``[ml2_nutanix]``.

Neutron reads them from the ML2 configuration file (``ml2_conf.ini``) or
any file given to the neutron server processes.  The connection options
(endpoints, credentials, TLS, timeouts, retries, cluster) come from
:mod:`nutanix_openstack.prism.options` without a prefix, as Nova's
``[nutanix]`` group has them; the options below are the driver's own.
"""

from oslo_config import cfg

from nutanix_openstack.prism import options as prism_options

GROUP = 'ml2_nutanix'

ml2_nutanix_group = cfg.OptGroup(
    GROUP,
    title='Nutanix AHV ML2 mechanism driver',
    help='Options of the ``nutanix`` ML2 mechanism driver '
         '(``[ml2] mechanism_drivers = nutanix``): flat and VLAN provider '
         'networks become VLAN subnets of one Nutanix AHV cluster, and '
         'ports bound to the cluster\'s compute hosts become VM NICs.')

driver_opts = [
    cfg.ListOpt('compute_hosts',
                default=[],
                help='The ``host`` values of the nova-compute services '
                     'whose instances run on this Nutanix cluster (with '
                     'the Nutanix virt driver).  Only ports whose '
                     '``binding:host_id`` is in this list are bound by '
                     'this driver; other ports are left to other mechanism '
                     'drivers.  Possible values: a comma-separated list of '
                     'host names as ``openstack compute service list`` '
                     'shows them.  Related options: physical_networks.'),
    cfg.ListOpt('physical_networks',
                default=[],
                help='The provider physical networks (``physnet`` names of '
                     'the ML2 flat and VLAN type drivers) that this '
                     'cluster carries.  A flat network on one of them is '
                     'an untagged AHV subnet (VLAN 0), a VLAN network an '
                     'AHV subnet on its VLAN id.  Each entry is '
                     '``<physnet>`` (subnets go on the cluster\'s default '
                     'virtual switch) or ``<physnet>:<virtual switch '
                     'extId>``.  Networks on other physical networks and '
                     'networks of other types (VXLAN, GRE, Geneve) are '
                     'ignored and their ports are not bound.  Related '
                     'options: [ml2_type_vlan] network_vlan_ranges, '
                     '[ml2_type_flat] flat_networks.'),
    cfg.BoolOpt('adopt_existing_subnets',
                default=False,
                help='When a Neutron network needs a VLAN on which the '
                     'cluster already has a subnet that this driver did '
                     'not create: True uses (adopts) that subnet for the '
                     'network; its IP address management is then managed '
                     'from the Neutron subnet, and it is never deleted by '
                     'this driver.  False (the default) refuses to create '
                     'the network with a clear error, so that OpenStack '
                     'never takes over a VLAN used by other workloads '
                     'without the operator saying so.'),
    cfg.FloatOpt('nic_poll_interval',
                 default=2.0,
                 min=0.1,
                 help='Seconds between two looks at the cluster\'s VM NICs '
                      'by the NIC poller, which sets a bound port ACTIVE '
                      '(and so sends Nova ``network-vif-plugged``) once a '
                      'NIC with the port\'s MAC address exists.  The poller '
                      'is an ML2 plugin worker: it runs in the '
                      '``neutron-periodic-workers`` process (or in '
                      'neutron-server where that process starts the plugin '
                      'workers itself).  Lower values plug faster and call '
                      'the cluster more often; the cluster is only called '
                      'while some port waits.'),
    cfg.FloatOpt('nic_poll_initial_delay',
                 default=5.0,
                 min=0,
                 help='Seconds the NIC poller waits after its process '
                      'started before its first look at the cluster.'),
]


def register_opts(conf):
    conf.register_group(ml2_nutanix_group)
    conf.register_opts(prism_options.connection_opts(),
                       group=ml2_nutanix_group)
    conf.register_opts(driver_opts, group=ml2_nutanix_group)


def list_opts():
    return [(ml2_nutanix_group, prism_options.connection_opts() + driver_opts)]


def physical_network_switches(conf_group):
    """``{physnet: virtual switch extId or None}`` from physical_networks.

    Raises ValueError for an empty physnet name.
    """
    mapping = {}
    for entry in conf_group.physical_networks or ():
        physnet, _sep, switch = entry.strip().partition(':')
        physnet = physnet.strip()
        if not physnet:
            raise ValueError('[%s] physical_networks has an entry without '
                             'a physical network name: %r' % (GROUP, entry))
        mapping[physnet] = switch.strip() or None
    return mapping
