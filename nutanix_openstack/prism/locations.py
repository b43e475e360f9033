"""How a Glance image and its backend images name each other.

``nutanix://<cluster extId>/<image extId>`` locations: the Glance store and
the OSC import write them; the Cinder and Nova drivers read them and clone
copy-on-write when the cluster extId is their own (the way the RBD drivers
compare the Ceph fsid).  :func:`image_on_cluster` is the one answer to
"is this location an image on my cluster" for all of them.

Backend images made for OpenStack are named ``<prefix><id>``, the prefix
saying what the image is, the id whose image it is:

==========================  ===========================================
``glance-<Glance id>``      a Glance image's bytes (Glance store, CLI
                            import, Cinder's upload of a volume)
``openstack-glance-<id>``   Nova's copy of a Glance image held by another
                            store (default of ``[nutanix]
                            image_cache_prefix``)
``openstack-raw-<extId>``   the raw disk derived from a qcow2/vmdk/vhdx
                            image for clones (``ensure_disk_image``)
==========================  ===========================================

Deployments already have images under these names, so they stay as they
are.  This module imports nothing heavy, so the Glance store can load it
without the HTTP stack.
"""

import uuid

SCHEME = 'nutanix'
PREFIX = SCHEME + '://'
GLANCE_IMAGE_PREFIX = 'glance-'
IMAGE_CACHE_PREFIX = 'openstack-glance-'
DERIVED_IMAGE_PREFIX = 'openstack-raw-'


def glance_image_name(glance_image_id):
    """Name of the backend image that holds a Glance image's bytes."""
    return GLANCE_IMAGE_PREFIX + str(glance_image_id)


def make_location(cluster_ext_id, image_ext_id):
    """``nutanix://<cluster extId>/<image extId>``."""
    return '%s%s/%s' % (PREFIX, cluster_ext_id, image_ext_id)


def split_location(url):
    """``(cluster, image)`` of a ``nutanix://`` URL, or None.

    Only the shape is checked (two non-empty parts), not that the parts
    are extIds.
    """
    if not isinstance(url, str) or not url.startswith(PREFIX):
        return None
    parts = url[len(PREFIX):].split('/')
    if len(parts) != 2 or not all(parts):
        return None
    return parts[0], parts[1]


def parse_location(url):
    """``(cluster extId, image extId)`` as canonical UUIDs, or None."""
    parts = split_location(url)
    if parts is None:
        return None
    try:
        return (str(uuid.UUID(parts[0])), str(uuid.UUID(parts[1])))
    except ValueError:
        return None


def _canonical(ext_id):
    try:
        return str(uuid.UUID(ext_id))
    except (TypeError, ValueError, AttributeError):
        return ext_id


def image_on_cluster(url, cluster_ext_id):
    """The image extId of ``url`` when it is an image on that cluster.

    ``url`` is any Glance location; the answer is None for another scheme,
    another cluster or a URL without the ``nutanix://<cluster>/<image>``
    shape.  extIds compare as UUIDs (in any case) and the image extId comes
    back canonical; whether the image still exists is for the caller's
    lookup to find out.
    """
    parts = split_location(url)
    if parts is None or _canonical(parts[0]) != _canonical(cluster_ext_id):
        return None
    return _canonical(parts[1])
