"""API namespaces and versions, defined once (as in the official SDKs).

The ntnx-*-py-client SDKs speak vmm, volumes and clustermgmt ``v4.3`` and
prism, dataprotection and networking ``v4.4``; every path the client
builds starts with one of these prefixes.
"""

import re
import urllib.parse

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

# Which top-level collection holds each kind of entity, by its ``rel``.
_COLLECTIONS_BY_REL = (
    (REL_IMAGE, IMAGES),
    (REL_VM, VMS),
    (REL_VOLUME_GROUP, VOLUME_GROUPS),
    (REL_RECOVERY_POINT, RECOVERY_POINTS),
    (REL_SUBNET, SUBNETS),
)
# ``/api/<namespace>/v4.<minor><rest>``: the version is not part of a kind.
_V4_PATH = re.compile(r'/api/([a-z]+)/v4\.[0-9]+(/.*)')


def _unversioned(path):
    match = _V4_PATH.fullmatch(path)
    return match.groups() if match else None


def entity_kind(url):
    """The ``rel`` of the entity a v4 request URL or path is about, or None.

    ``.../ahv/config/vms/{extId}`` and everything under it (its NICs,
    disks and actions) is about the VM ``REL_VM``; a collection itself
    (no extId) is about no entity.  The API version does not matter, so
    an error of any v4 server maps to the same kind.
    """
    if not url:
        return None
    try:
        path = urllib.parse.urlsplit(url).path
    except ValueError:
        return None
    target = _unversioned(path)
    if target is None:
        return None
    for rel, collection in _COLLECTIONS_BY_REL:
        namespace, rest = _unversioned(collection)
        if target[0] == namespace and target[1].startswith(rest + '/'):
            return rel
    return None


# The largest ``$limit`` the v4 list APIs accept.
MAX_PAGE_LIMIT = 100


def odata_quote(value):
    """A string literal for ``$filter`` (single quotes doubled)."""
    return "'%s'" % str(value).replace("'", "''")


def name_filter(name):
    """The ``$filter`` of a lookup by exact name."""
    return 'name eq %s' % odata_quote(name)
