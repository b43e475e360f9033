"""A create whose every answer is lost leaks nothing (issue 11 item 5).

The emulator handles each request and then drops the connection after a
few bytes of the answer (``drop_after_bytes``): the object is made, the
client never hears about it.  Before, the client raised ``ConnectionFailed``
and the caller's retry made a second object.  Now it resends with the same
``NTNX-Request-Id`` and, failing that, looks the object up by its name.
"""

from nutanix_openstack.prism import exceptions as exc
from nutanix_openstack.prism import volume_groups as prism_vg
from tests.functional.prism import base

MiB = 1024 * 1024


class AmbiguousCreateTest(base.EmulatorTestCase):

    def _drop(self, path, times, method='POST'):
        self.admin.add_fault(method=method, path=path, drop_after_bytes=5,
                             times=times)

    def _vms(self):
        return self.client.vms.list()

    def test_five_dropped_answers_to_a_vm_create_make_one_vm(self):
        self._drop('/vmm/v4.[0-9]+/ahv/config/vms$', times=5)
        vm = self.client.vms.create('vm-ambiguous',
                                    memory_size_bytes=512 * MiB)
        self.assertEqual([], self.admin.list_faults())   # all 5 dropped
        vms = self._vms()
        self.assertEqual(['vm-ambiguous'], [v['name'] for v in vms])
        self.assertEqual(vm['extId'], vms[0]['extId'])

    def test_writes_unreachable_for_longer_found_by_name(self):
        # More drops than the retries and the resends: only the lookup by
        # name can tell what the cluster did.
        client = self.emulator.prism_client(retries=1, ambiguous_retries=1)
        self.addCleanup(client.close)
        self._drop('/volumes/v4.[0-9]+/config/volume-groups$', times=20)
        disk = prism_vg.volume_disk(MiB, self.emulator.container_ext_id)
        vg = client.volume_groups.create('vg-ambiguous', disks=[disk])
        self.assertEqual(16, self.admin.list_faults()[0]['times'])
        self.admin.clear_faults()
        groups = self.client.volume_groups.list()
        self.assertEqual([vg['extId']], [g['extId'] for g in groups])
        self.assertEqual(1, len(self.client.volume_groups.list_disks(
            vg['extId'])))

    def test_caller_retry_after_ambiguous_failure_makes_no_second(self):
        client = self.emulator.prism_client(retries=0, ambiguous_retries=0)
        self.addCleanup(client.close)
        self._drop('/vmm/v4.[0-9]+/ahv/config/vms$', times=1)
        # Found by name at once: the caller gets the VM, not an error.
        vm = client.vms.create('vm-once', memory_size_bytes=512 * MiB)
        self.assertEqual([], self.admin.list_faults())
        self.assertEqual([vm['extId']], [v['extId'] for v in self._vms()])

    def test_refused_connection_is_not_ambiguous(self):
        client = self.emulator.prism_client(
            endpoints=['http://127.0.0.1:9'], retries=0)
        self.addCleanup(client.close)
        with self.assertRaises(exc.ConnectionFailed) as ctx:
            client.vms.create('never-sent', memory_size_bytes=512 * MiB)
        self.assertFalse(ctx.exception.maybe_applied)
        self.assertEqual([], self._vms())
