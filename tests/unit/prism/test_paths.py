"""$filter literals."""

from nutanix_openstack.prism import paths
from tests.unit.prism import base


class NameFilterTest(base.PrismTestCase):

    def test_quote_doubles_single_quotes(self):
        self.assertEqual("name eq 'it''s'", paths.name_filter("it's"))
