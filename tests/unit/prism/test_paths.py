"""$filter literals and the lookups by name every resource shares."""

from nutanix_openstack.prism import paths
from tests.unit.prism import base


class NameFilterTest(base.PrismTestCase):

    def test_quote_doubles_single_quotes(self):
        self.assertEqual("name eq 'it''s'", paths.name_filter("it's"))

    def test_every_resource_finds_by_exact_name(self):
        for api, path in ((self.client.images, paths.IMAGES),
                          (self.client.vms, paths.VMS),
                          (self.client.volume_groups, paths.VOLUME_GROUPS),
                          (self.client.recovery_points,
                           paths.RECOVERY_POINTS)):
            # A server whose ``eq`` ignores case answers with both.
            self.m.get(self.url(path), json={'data': [
                {'extId': 'a', 'name': "o'name"},
                {'extId': 'b', 'name': "O'NAME"}]})
            self.assertEqual([{'extId': 'a', 'name': "o'name"}],
                             api.find_by_name("o'name"), path)
            sent = base.qs(self.requests('GET', path)[-1])
            self.assertEqual(["name eq 'o''name'"], sent['$filter'], path)
