"""The disks sub-collection shared by VMs and volume groups."""

from nutanix_openstack.prism import exceptions as exc
from nutanix_openstack.prism import paths
from tests.unit.prism import base

VG = paths.VOLUME_GROUPS + '/vg-1'


class DiskCollectionTest(base.PrismTestCase):

    def setUp(self):
        super(DiskCollectionTest, self).setUp()
        self.m.get(self.url(VG), json={'data': {'extId': 'vg-1'}},
                   headers={'ETag': 'vg-etag'})
        self.m.post(self.url(VG + '/disks'), status_code=202,
                    json=base.task_ref())

    def test_add_without_wait_returns_the_task(self):
        self.m.get(self.url(VG + '/disks'), json={'data': []})
        self.assertEqual(
            {'extId': 'ZXJnb24=:task-1'},
            self.client.volume_groups.add_disk('vg-1', {}, wait=False))
        self.assertEqual([], self.requests('GET', paths.TASKS))

    def test_add_refuses_to_guess_between_two_new_disks(self):
        # The task names only the group and two disks appeared meanwhile:
        # the client must not hand back one of them at random.
        self.mock_task(entities=[(paths.REL_VOLUME_GROUP, 'vg-1')])
        self.m.get(self.url(VG + '/disks'), [
            {'json': {'data': []}},
            {'json': {'data': [{'extId': 'd-1'}, {'extId': 'd-2'}],
                      'metadata': {'totalAvailableResults': 2}}}])
        with self.assertRaises(exc.UnexpectedResponse) as ctx:
            self.client.volume_groups.add_disk('vg-1', {})
        self.assertIn('volume group vg-1', str(ctx.exception))

    def test_delete_sends_if_match(self):
        self.m.get(self.url(VG + '/disks/d-1'),
                   json={'data': {'extId': 'd-1'}}, headers={'ETag': 'd-et'})
        self.m.delete(self.url(VG + '/disks/d-1'), status_code=202,
                      json=base.task_ref())
        self.mock_task()
        self.client.volume_groups.delete_disk('vg-1', 'd-1')
        self.assertEqual(1, len(self.requests('DELETE')))
