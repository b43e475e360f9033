"""nutanix:// locations and the names of Glance images' backend images."""

import subprocess
import sys
import unittest

from nutanix_openstack.prism import locations

CLUSTER = '0005b1c2-8c9d-4e2f-a1b2-c3d4e5f60718'
IMAGE = 'a1b2c3d4-e5f6-4711-8899-aabbccddeeff'


class LocationsTest(unittest.TestCase):

    def test_make_and_parse_round_trip(self):
        url = locations.make_location(CLUSTER, IMAGE)
        self.assertEqual('nutanix://%s/%s' % (CLUSTER, IMAGE), url)
        self.assertEqual((CLUSTER, IMAGE), locations.parse_location(url))

    def test_parse_canonicalises_uuids(self):
        url = locations.make_location(CLUSTER.upper(), IMAGE.upper())
        self.assertEqual((CLUSTER, IMAGE), locations.parse_location(url))

    def test_parse_refuses_what_is_not_two_extids(self):
        for bad in (None, '', 42, 'rbd://a/b/c/d', 'nutanix://x/y',
                    'nutanix://%s' % IMAGE, 'nutanix://%s/' % CLUSTER,
                    'nutanix://%s/%s/extra' % (CLUSTER, IMAGE)):
            self.assertIsNone(locations.parse_location(bad), bad)

    def test_split_checks_the_shape_only(self):
        self.assertEqual(('c', 'i'), locations.split_location('nutanix://c/i'))
        for bad in (None, '', 'nutanix://c', 'nutanix://c/', 'nutanix:///i',
                    'nutanix://c/i/x', 'http://c/i'):
            self.assertIsNone(locations.split_location(bad), bad)

    def test_glance_image_name(self):
        self.assertEqual('glance-%s' % IMAGE,
                         locations.glance_image_name(IMAGE))

    def test_import_is_light(self):
        # The Glance store imports this module and must not pull requests.
        code = ('import sys; import nutanix_openstack.prism.locations; '
                'print("requests" in sys.modules)')
        out = subprocess.check_output([sys.executable, '-c', code])
        self.assertEqual(b'False', out.strip())


class ImageOnClusterTest(unittest.TestCase):

    def test_an_image_of_my_cluster_any_case(self):
        for url in (locations.make_location(CLUSTER, IMAGE),
                    locations.make_location(CLUSTER.upper(), IMAGE.upper())):
            self.assertEqual(IMAGE, locations.image_on_cluster(url, CLUSTER))
        self.assertEqual(IMAGE, locations.image_on_cluster(
            locations.make_location(CLUSTER, IMAGE), CLUSTER.upper()))

    def test_anything_else_is_none(self):
        other = '99999999-2222-4333-8444-555555555555'
        for url in (locations.make_location(other, IMAGE), None, '',
                    'rbd://a/b/c/d', 'nutanix://%s' % CLUSTER,
                    'nutanix://%s/%s/x' % (CLUSTER, IMAGE),
                    'http://%s/%s' % (CLUSTER, IMAGE)):
            self.assertIsNone(locations.image_on_cluster(url, CLUSTER), url)

    def test_backend_names(self):
        # Names deployments already have on their clusters.
        self.assertEqual(('glance-', 'openstack-glance-', 'openstack-raw-'),
                         (locations.GLANCE_IMAGE_PREFIX,
                          locations.IMAGE_CACHE_PREFIX,
                          locations.DERIVED_IMAGE_PREFIX))
