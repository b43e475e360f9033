"""Options of the Nova virt driver, group ``[nutanix]`` of nova.conf.

The connection options (endpoints, credentials, TLS, timeouts, retries,
cluster) come from :mod:`nutanix_openstack.prism.options` without a prefix;
the options below are the driver's own.
"""

from oslo_config import cfg

from nutanix_openstack import coordination
from nutanix_openstack.prism import locations
from nutanix_openstack.prism import options as prism_options

GROUP = 'nutanix'

nutanix_group = cfg.OptGroup(
    GROUP,
    title='Nutanix AHV compute driver',
    help='Options of nutanix_openstack.nova.driver.NutanixDriver, loaded '
         'with ``compute_driver = nutanix.NutanixDriver``. One nova-compute '
         'service manages one Nutanix cluster as one compute node.')

driver_opts = [
    cfg.StrOpt('storage_container',
               help='Name or extId of the storage container that holds '
                    'the disks of instances (root, ephemeral and swap) and '
                    'the images this driver brings into the cluster from '
                    'Glance.  Required.  Possible values: the name of a '
                    'storage container of the managed cluster (see '
                    '``cluster``), or its extId.'),
    cfg.StrOpt('image_cache_prefix',
               default=locations.IMAGE_CACHE_PREFIX,
               help='Prefix of the names of the backend images this driver '
                    'creates when an image has no ``nutanix://`` location on '
                    'this cluster and has to be streamed from Glance.  The '
                    'name is this prefix followed by the Glance image id, so '
                    'that a restarted (or another) nova-compute for the same '
                    'cluster finds and reuses the image instead of fetching '
                    'it again.  Related options: ``storage_container``.'),
    cfg.BoolOpt('direct_snapshot',
                default=True,
                help='Register instance snapshots in Glance as a '
                     '``nutanix://`` location of a backend image made from '
                     'the instance disk (copy-on-write, no bytes through '
                     'nova-compute).  Needs Glance with the nutanix store '
                     'and ``show_multiple_locations``.  When Glance refuses '
                     'the location (or this is False) the disk bytes are '
                     'streamed into Glance instead.'),
    cfg.IntOpt('clean_shutdown_poll_interval',
               default=2,
               min=1,
               help='Seconds between two checks of the power state while '
                    'waiting for a guest to finish an ACPI shutdown '
                    'requested by a stop or a resize (Nova gives the total '
                    'timeout, ``[DEFAULT] shutdown_timeout``).  After that '
                    'timeout the VM is powered off hard.'),
    cfg.StrOpt('console_proxy_host',
               help='Host name or address that consoles use to reach the '
                    'cluster\'s VNC proxy.  Default: the host of the first '
                    '``endpoints`` URL (Prism serves the proxy on its '
                    'own port).'),
    cfg.PortOpt('console_proxy_port',
                help='Port of the cluster\'s VNC console proxy.  Default: '
                     'the port of the first ``endpoints`` URL (9440).'),
]


def register_opts(conf):
    conf.register_group(nutanix_group)
    conf.register_opts(prism_options.connection_opts(), group=nutanix_group)
    conf.register_opts(driver_opts, group=nutanix_group)


def list_opts():
    return [(nutanix_group, prism_options.connection_opts() + driver_opts)
            ] + coordination.list_opts()
