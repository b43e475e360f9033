"""Configuration options of the Nutanix Cinder volume driver.

All options live in the backend's own section (and may be given once for
every backend in ``[backend_defaults]``), as Cinder drivers' options do.
The connection options come from :mod:`nutanix_openstack.prism.options`
with the prefix ``nutanix_`` (``nutanix_endpoints``, ``nutanix_username``,
``nutanix_password``, ``nutanix_cluster``...).
"""

from oslo_config import cfg

from nutanix_openstack.prism import options as prism_options

# The group Cinder registers driver options in, so that both
# ``[backend_defaults]`` and each ``[<backend>]`` section see them.
SHARED_CONF_GROUP = 'backend_defaults'

CONNECTION_OPTS = prism_options.connection_opts(prefix='nutanix_')

DRIVER_OPTS = [
    cfg.StrOpt('nutanix_storage_container',
               help='Name or extId of the storage container that holds the '
                    'disks of the volume groups this backend creates.  '
                    'Its capacity is what the backend reports to the '
                    'scheduler (one pool, named after the container).  '
                    'Possible values: a storage container of the cluster '
                    'chosen by ``nutanix_cluster``.  Required.'),
    cfg.IntOpt('nutanix_iscsi_port',
               default=3260, min=1, max=65535,
               help='TCP port of the iSCSI portal on the cluster\'s '
                    'external data services IP address.  Related options: '
                    'the address itself is read from the cluster '
                    '(``network.externalDataServiceIp``) unless '
                    '``nutanix_iscsi_portal_address`` is set.'),
    cfg.StrOpt('nutanix_iscsi_portal_address',
               help='Override of the iSCSI portal address (IP or host name) '
                    'handed to initiators.  Leave unset to use the '
                    'cluster\'s external data services IP address, which '
                    'is what a real cluster serves iSCSI on.'),
    cfg.StrOpt('nutanix_iscsi_target_iqn_prefix',
               default='iqn.2010-06.com.nutanix',
               help='IQN prefix of the targets of the cluster\'s volume '
                    'groups; the target IQN of a volume group is '
                    '``<prefix>:<targetName>`` when the cluster does not '
                    'report it for the attached client.'),
    cfg.BoolOpt('nutanix_image_upload_direct',
                default=True,
                help='Upload a volume to a raw Glance image without moving '
                     'bytes through cinder-volume: the cluster makes a '
                     'copy-on-write image from a clone of the volume\'s '
                     'disk and it is registered as the Glance image\'s '
                     '``nutanix://`` location.  Needs the Nutanix Glance '
                     'store on the same cluster and a Glance that accepts '
                     'locations from Cinder.  When the location is '
                     'refused, or when disabled, the image bytes are '
                     'streamed from the cluster to Glance instead.  '
                     'Related options: ``nutanix_glance_store_id``.'),
    cfg.StrOpt('nutanix_glance_store_id',
               help='Identifier of the Nutanix store in Glance when Glance '
                    'runs several stores (``enabled_backends``); sent as '
                    'the ``store`` of the location registered by direct '
                    'uploads.  Leave unset with a single store.'),
    cfg.IntOpt('nutanix_upload_vm_memory_mb',
               default=256, min=1,
               help='Memory of the short-lived, never powered on VM that '
                    'carries the clone of a volume\'s disk while the '
                    'cluster makes an image from it (v4 makes images only '
                    'from VM disks).  It only has to be a valid size for '
                    'the cluster.'),
    cfg.IntOpt('nutanix_replication_interval',
               default=300, min=0,
               help='Seconds between two replications of every replicated '
                    'volume and group to the ``replication_device`` '
                    '(a new recovery point each time, shipped '
                    'incrementally).  The newest replica\'s age is the '
                    'recovery point objective you get; it is reported as '
                    '``replication_lag_seconds`` in the backend\'s stats.  '
                    '0 disables the periodic pass (volumes are still '
                    'replicated once when created).'),
    cfg.IntOpt('nutanix_replication_keep',
               default=2, min=1,
               help='Replicas (recovery points) kept per volume or group on '
                    'each cluster; the newest replicated one is the base of '
                    'the next incremental replication.'),
    cfg.IntOpt('nutanix_replication_timeout',
               default=3600, min=1,
               help='Seconds one replication (or the copy back of a '
                    'failback) may take before it fails.'),
    cfg.FloatOpt('nutanix_lock_timeout',
                 default=3600.0, min=0,
                 help='Seconds to wait for a cross-host lock (Cinder\'s '
                      '``[coordination] backend_url``) that another '
                      'service holds, for example while it derives the raw '
                      'disk of a large image, before the operation fails. '
                      '0 waits forever.'),
]

ALL_OPTS = CONNECTION_OPTS + DRIVER_OPTS

# The backup driver's options live in [DEFAULT], as Cinder's backup
# drivers' do: ``backup_nutanix_*`` reach the volumes' Prism Central,
# ``backup_nutanix_target_*`` the backup cluster's.
BACKUP_SOURCE_PREFIX = 'backup_nutanix_'
BACKUP_TARGET_PREFIX = 'backup_nutanix_target_'
BACKUP_OPTS = (
    prism_options.connection_opts(prefix=BACKUP_SOURCE_PREFIX) +
    prism_options.connection_opts(prefix=BACKUP_TARGET_PREFIX) + [
        cfg.StrOpt('backup_nutanix_storage_container',
                   help='Storage container (name or extId) of disks '
                        'restored into volumes that have no disk left.  '
                        'By default a restored disk goes to the container '
                        'of the disk it replaces.')])


def list_opts():
    """oslo-config-generator entry point (``nutanix_openstack.cinder``)."""
    return [(SHARED_CONF_GROUP, ALL_OPTS), ('DEFAULT', BACKUP_OPTS)]
