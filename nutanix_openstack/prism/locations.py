"""How a Glance image and its backend image name each other.

``nutanix://<cluster extId>/<image extId>`` locations: the Glance store and
the OSC import write them; the Cinder and Nova drivers read them and clone
copy-on-write when the cluster extId is their own (the way the RBD drivers
compare the Ceph fsid).  The backend image holding a Glance image's bytes
is named ``glance-<Glance image id>``.  One grammar for all of them lives
here; this module imports nothing heavy, so the Glance store can load it
without the HTTP stack.
"""

import uuid

SCHEME = 'nutanix'
PREFIX = SCHEME + '://'
GLANCE_IMAGE_PREFIX = 'glance-'


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
