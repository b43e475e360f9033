"""``nutanix://<cluster extId>/<image extId>`` locations.

The cluster extId lets Cinder and Nova decide "same cluster, I can clone
copy-on-write" the way the RBD drivers compare the Ceph fsid, and lets
this store refuse a location that belongs to another cluster.
"""

import logging
import uuid

from glance_store import exceptions
from glance_store import location

from nutanix_openstack.i18n import _
from nutanix_openstack.prism import locations

LOG = logging.getLogger(__name__)


def _is_ext_id(value):
    """v4 extIds are canonical lowercase UUID strings."""
    try:
        return str(uuid.UUID(value)) == value.lower()
    except (TypeError, ValueError, AttributeError):
        return False


class StoreLocation(location.StoreLocation):
    """A Nutanix image location: ``nutanix://<cluster>/<image>``.

    Both components are v4 extIds (UUIDs); anything else is a
    ``BadStoreUri`` naming what is wrong.
    """

    def process_specs(self):
        self.cluster_ext_id = self.specs.get('cluster_ext_id')
        self.image_ext_id = self.specs.get('image_ext_id')

    def get_uri(self):
        return locations.make_location(self.cluster_ext_id, self.image_ext_id)

    def parse_uri(self, uri):
        self.validate_schemas(uri, valid_schemas=(locations.PREFIX,))
        pieces = locations.split_location(uri)
        if pieces is None:
            reason = _('Nutanix location must be nutanix://<cluster extId>/'
                       '<image extId>, got %s') % uri
            LOG.info('Invalid URI: %s', reason)
            raise exceptions.BadStoreUri(message=reason)
        cluster, image = pieces
        for what, value in (('cluster', cluster), ('image', image)):
            if not _is_ext_id(value):
                reason = (_('Nutanix location %(uri)s: the %(what)s extId '
                            '%(value)r is not a UUID') %
                          {'uri': uri, 'what': what, 'value': value})
                LOG.info('Invalid URI: %s', reason)
                raise exceptions.BadStoreUri(message=reason)
        self.cluster_ext_id = cluster.lower()
        self.image_ext_id = image.lower()
