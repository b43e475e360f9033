"""Ambiguous creates: resend with the same request id, then find by name."""

import requests

from nutanix_openstack.prism import exceptions as exc
from nutanix_openstack.prism import paths
from tests.unit.prism import base

DROPPED = requests.exceptions.ChunkedEncodingError('response cut short')
REFUSED = requests.exceptions.ConnectionError(
    'NewConnectionError: Failed to establish a new connection: '
    '[Errno 111] Connection refused')
VM = paths.VMS + '/vm-1'


class AmbiguousCreateTest(base.PrismTestCase):

    def setUp(self):
        super().setUp()
        self.client = self.make_client(retries=1, ambiguous_retries=2)

    def _vm_reads(self, listing):
        self.m.get(self.url(paths.VMS), json={
            'data': listing, 'metadata': {'totalAvailableResults':
                                          len(listing)}})
        self.m.get(self.url(VM), json={'data': {'extId': 'vm-1',
                                                'name': 'vm'}})

    def test_resend_reuses_the_request_id_and_gets_the_first_task(self):
        self.m.post(self.url(paths.VMS), [
            {'exc': DROPPED}, {'exc': DROPPED}, {'exc': DROPPED},
            {'status_code': 202, 'json': base.task_ref()}])
        self.mock_task(entities=[(paths.REL_VM, 'vm-1')])
        self._vm_reads([])
        self.assertEqual('vm-1', self.client.vms.create('vm')['extId'])
        ids = {r.headers['NTNX-Request-Id']
               for r in self.requests('POST')}
        self.assertEqual(1, len(ids))

    def test_found_by_name_when_writes_stay_unreachable(self):
        self.m.post(self.url(paths.VMS), exc=DROPPED)
        self._vm_reads([{'extId': 'vm-1', 'name': 'vm'}])
        self.assertEqual('vm-1', self.client.vms.create('vm')['extId'])
        # 2 attempts, then 2 rounds of 2 attempts each.
        self.assertEqual(6, len(self.requests('POST')))

    def test_nothing_found_raises_the_original_failure(self):
        self.m.post(self.url(paths.VMS), exc=DROPPED)
        self._vm_reads([])
        with self.assertRaises(exc.ConnectionFailed) as ctx:
            self.client.vms.create('vm')
        self.assertTrue(ctx.exception.maybe_applied)

    def test_two_of_the_name_are_not_guessed_between(self):
        self.m.post(self.url(paths.VMS), exc=DROPPED)
        self._vm_reads([{'extId': 'a', 'name': 'vm'},
                        {'extId': 'b', 'name': 'vm'}])
        self.assertRaises(exc.ConnectionFailed, self.client.vms.create,
                          'vm')

    def test_refused_is_not_ambiguous(self):
        self.m.post(self.url(paths.VMS), exc=REFUSED)
        with self.assertRaises(exc.ConnectionFailed) as ctx:
            self.client.vms.create('vm')
        self.assertFalse(ctx.exception.maybe_applied)
        self.assertEqual([], self.requests('GET'))
        self.assertEqual(2, len(self.requests('POST')))

    def test_reads_are_never_ambiguous(self):
        self.m.get(self.url(VM), exc=DROPPED)
        with self.assertRaises(exc.ConnectionFailed) as ctx:
            self.client.vms.get('vm-1')
        self.assertFalse(ctx.exception.maybe_applied)
