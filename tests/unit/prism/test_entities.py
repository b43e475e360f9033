"""What the resource APIs share: lookups by exact name, get, delete."""

from nutanix_openstack.prism import paths
from tests.unit.prism import base

APIS = (('images', paths.IMAGES), ('vms', paths.VMS),
        ('volume_groups', paths.VOLUME_GROUPS),
        ('recovery_points', paths.RECOVERY_POINTS))


class EntitiesTest(base.PrismTestCase):

    def test_every_resource_finds_by_exact_name(self):
        for attr, path in APIS:
            api = getattr(self.client, attr)
            # A server whose ``eq`` ignores case answers with both.
            self.m.get(self.url(path), json={'data': [
                {'extId': 'a', 'name': "o'name"},
                {'extId': 'b', 'name': "O'NAME"}]})
            self.assertEqual([{'extId': 'a', 'name': "o'name"}],
                             api.find_by_name("o'name"), path)
            sent = base.qs(self.requests('GET', path)[-1])
            self.assertEqual(["name eq 'o''name'"], sent['$filter'], path)

    def test_every_resource_gets_by_ext_id(self):
        for attr, path in APIS:
            self.m.get(self.url(path + '/x-1'),
                       json={'data': {'extId': 'x-1'}})
            self.assertEqual({'extId': 'x-1'},
                             getattr(self.client, attr).get('x-1'), path)
