"""API namespaces and versions, defined once (as in the official SDKs).

The ntnx-*-py-client SDKs speak vmm, volumes and clustermgmt ``v4.3`` and
prism, dataprotection and networking ``v4.4``; every path the client
builds starts with one of these prefixes.
"""

VMM = '/api/vmm/v4.3'
VOLUMES = '/api/volumes/v4.3'
CLUSTERMGMT = '/api/clustermgmt/v4.3'
PRISM = '/api/prism/v4.4'
DATAPROTECTION = '/api/dataprotection/v4.4'
NETWORKING = '/api/networking/v4.4'
# v4 has no byte upload for images: the v3 image file endpoint does it.
V3 = '/api/nutanix/v3'

IMAGES = VMM + '/content/images'
VMS = VMM + '/ahv/config/vms'
VOLUME_GROUPS = VOLUMES + '/config/volume-groups'
ISCSI_CLIENTS = VOLUMES + '/config/iscsi-clients'
RECOVERY_POINTS = DATAPROTECTION + '/config/recovery-points'
TASKS = PRISM + '/config/tasks'
CLUSTERS = CLUSTERMGMT + '/config/clusters'
HOSTS = CLUSTERMGMT + '/config/hosts'
STORAGE_CONTAINERS = CLUSTERMGMT + '/config/storage-containers'
STORAGE_CONTAINER_STATS = CLUSTERMGMT + '/stats/storage-containers'
SUBNETS = NETWORKING + '/config/subnets'
VIRTUAL_SWITCHES = NETWORKING + '/config/virtual-switches'
V3_IMAGES = V3 + '/images'
V3_TASKS = V3 + '/tasks'

# ``rel`` of the entities a task reports in ``entitiesAffected``.
REL_IMAGE = 'vmm:content:image'
REL_VM = 'vmm:ahv:config:vm'
REL_VM_DISK = 'vmm:ahv:config:vm:disk'
REL_VOLUME_GROUP = 'volumes:config:volume-group'
REL_VOLUME_DISK = 'volumes:config:volume-group:disk'
REL_RECOVERY_POINT = 'dataprotection:config:recovery-point'
REL_SUBNET = 'networking:config:subnet'
REL_VM_NIC = 'vmm:ahv:config:vm:nic'

# The largest ``$limit`` the v4 list APIs accept.
MAX_PAGE_LIMIT = 100


def odata_quote(value):
    """A string literal for ``$filter`` (single quotes doubled)."""
    return "'%s'" % str(value).replace("'", "''")


def name_filter(name):
    """The ``$filter`` of a lookup by exact name."""
    return 'name eq %s' % odata_quote(name)
