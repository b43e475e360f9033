"""$filter literals."""

from nutanix_openstack.prism import paths
from tests.unit.prism import base


class NameFilterTest(base.PrismTestCase):

    def test_quote_doubles_single_quotes(self):
        self.assertEqual("name eq 'it''s'", paths.name_filter("it's"))


class EntityKindTest(base.PrismTestCase):

    def test_calls_on_a_vm_are_about_the_vm(self):
        for url in ('https://p:9440/api/vmm/v4.3/ahv/config/vms/vm-1',
                    'https://p:9440/api/vmm/v4.1/ahv/config/vms/vm-1/nics',
                    paths.VMS + '/vm-1/$actions/power-on'):
            self.assertEqual(paths.REL_VM, paths.entity_kind(url), url)

    def test_other_entities_and_collections(self):
        self.assertEqual(paths.REL_VOLUME_GROUP, paths.entity_kind(
            'https://p/api/volumes/v4.3/config/volume-groups/vg/disks'))
        self.assertEqual(paths.REL_IMAGE,
                         paths.entity_kind(paths.IMAGES + '/i/file'))
        for url in (None, '', paths.VMS, 'https://p/api/nutanix/v3/images/x',
                    'https://p/other/ahv/config/vms/vm-1'):
            self.assertIsNone(paths.entity_kind(url), url)
