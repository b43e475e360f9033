"""nutanix://<cluster extId>/<image extId> parsing."""

from glance_store import exceptions
from oslo_config import cfg
import testtools

from nutanix_openstack.glance import location
from nutanix_openstack.prism import locations

CLUSTER = '00000000-0000-4000-8000-00000000c1c1'
IMAGE = '961973d8-3360-4364-919e-2c197825dbb4'


class TestStoreLocation(testtools.TestCase):

    def _parse(self, uri):
        loc = location.StoreLocation({}, cfg.CONF)
        loc.parse_uri(uri)
        return loc

    def test_round_trip(self):
        uri = locations.make_location(CLUSTER, IMAGE)
        loc = self._parse(uri)
        self.assertEqual(CLUSTER, loc.cluster_ext_id)
        self.assertEqual(IMAGE, loc.image_ext_id)
        self.assertEqual(uri, loc.get_uri())

    def test_specs(self):
        loc = location.StoreLocation({'cluster_ext_id': CLUSTER,
                                      'image_ext_id': IMAGE}, cfg.CONF)
        self.assertEqual('nutanix://%s/%s' % (CLUSTER, IMAGE), loc.get_uri())

    def test_upper_case_ids_are_normalised(self):
        loc = self._parse('nutanix://%s/%s' % (CLUSTER.upper(),
                                               IMAGE.upper()))
        self.assertEqual(IMAGE, loc.image_ext_id)

    def test_bad_uris(self):
        for uri, text in (
                ('rbd://%s/%s' % (CLUSTER, IMAGE), 'nutanix://'),
                ('nutanix://%s' % IMAGE, '<cluster extId>'),
                ('nutanix://%s/%s/' % (CLUSTER, IMAGE), '<cluster extId>'),
                ('nutanix://%s//%s' % (CLUSTER, IMAGE), '<cluster extId>'),
                ('nutanix://%s/abc' % CLUSTER, 'image extId'),
                ('nutanix://cluster-a/%s' % IMAGE, 'cluster extId')):
            e = self.assertRaises(exceptions.BadStoreUri, self._parse, uri)
            self.assertIn(text, str(e), uri)
