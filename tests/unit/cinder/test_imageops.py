"""Unit tests of image location parsing and the clone_image decision."""

from unittest import mock

from nutanix_openstack.cinder import imageops
from nutanix_openstack.prism import locations
from tests.unit.cinder import base

IMG = '11111111-2222-3333-4444-555555555555'


class LocationTest(base.DriverTestCase):

    def test_parse_location(self):
        self.assertEqual((base.CLUSTER, IMG), locations.parse_location(
            'nutanix://%s/%s' % (base.CLUSTER, IMG)))
        for bad in ('rbd://a/b/c/d', 'nutanix://x/y', 'nutanix://%s' % IMG,
                    None, 'nutanix://%s/%s/extra' % (base.CLUSTER, IMG)):
            self.assertIsNone(locations.parse_location(bad), bad)

    def test_location_urls_accepts_cinder_shapes(self):
        url = locations.make_location(base.CLUSTER, IMG)
        self.assertEqual([url], imageops.location_urls(
            (None, [{'url': url, 'metadata': {}}]), {}))
        self.assertEqual([url], imageops.location_urls((url, None), {}))
        self.assertEqual([url], imageops.location_urls(
            None, {'locations': [{'url': url}]}))
        self.assertEqual(['fake'], imageops.location_urls('fake', {}))

    def _clone(self, meta, urls):
        vol = self.volume(size=1)
        return self.driver.clone_image(
            self.ctx, vol, (None, [{'url': u} for u in urls]), meta,
            mock.Mock())

    def test_other_cluster_falls_back(self):
        other = locations.make_location(
            '99999999-2222-3333-4444-555555555555', IMG)
        self.assertEqual((None, False), self._clone(
            {'disk_format': 'raw', 'container_format': 'bare'}, [other]))
        self.client.images.ensure_disk_image.assert_not_called()

    def test_unsupported_format_falls_back(self):
        url = locations.make_location(base.CLUSTER, IMG)
        for fmt in ('iso', 'vdi', None):
            self.assertEqual((None, False), self._clone(
                {'disk_format': fmt, 'container_format': 'bare'}, [url]))
        self.assertEqual((None, False), self._clone(
            {'disk_format': 'raw', 'container_format': 'ova'}, [url]))
        self.client.images.ensure_disk_image.assert_not_called()

    def test_qcow2_same_cluster_clones_derived_disk_image(self):
        url = locations.make_location(base.CLUSTER, IMG)
        self.client.images.ensure_disk_image.return_value = 'derived'
        self.client.images.get.return_value = {'sizeBytes': base.GiB // 2}
        self.vgs.create.return_value = {'extId': 'vg-new'}
        self.vgs.list_disks.return_value = [{'extId': 'd',
                                             'diskSizeBytes': base.GiB}]
        update, cloned = self._clone(
            {'disk_format': 'qcow2', 'container_format': 'bare'}, [url])
        self.assertTrue(cloned)
        self.assertEqual({'provider_id': 'vg-new'}, update)
        self.client.images.ensure_disk_image.assert_called_once_with(IMG)
        disk = self.vgs.create.call_args[1]['disks'][0]
        self.assertEqual({'$objectType': 'common.v1.config.EntityReference',
                          'extId': 'derived', 'entityType': 'IMAGE'},
                         disk['diskDataSourceReference'])
