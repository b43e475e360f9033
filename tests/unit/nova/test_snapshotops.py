"""snapshotops: a backend image from the root disk, registered in Glance by
location; the bytes streamed only when Glance refuses the location."""

from unittest import mock

from nova.compute import task_states
from nova import exception

from nutanix_openstack.nova import snapshotops
from nutanix_openstack.prism import exceptions as prism_exc
from tests.unit.nova import base


class SnapshotOpsTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.image_api = mock.Mock()
        self.image_api.get.return_value = {'id': 'snap', 'name': 'my snap'}
        self.client.images.create_from_vm_disk.return_value = {
            'extId': 'img-s'}
        self.client.images.download.return_value = iter([b'ab', b'c'])
        self.ops = snapshotops.SnapshotOps(self.client, self.image_api,
                                           base.CLUSTER, True)
        self.instance = base.make_instance()
        self.vm = base.vm_dict(self.instance)
        self.states = []

    def _update(self, task_state, expected_state=None):
        self.states.append(task_state)

    def test_direct_snapshot_registers_location(self):
        self.ops.snapshot('ctx', self.instance, self.vm, 'snap', self._update)
        self.client.images.create_from_vm_disk.assert_called_once_with(
            'snapshot-snap', 'vm-1', 'disk-root', description=mock.ANY,
            cluster_ext_id=base.CLUSTER)
        (ctx, image_id, meta), kw = self.image_api.update.call_args
        self.assertEqual('nutanix://%s/img-s' % base.CLUSTER,
                         meta['location'])
        self.assertEqual(('raw', 'bare'), (meta['disk_format'],
                                           meta['container_format']))
        self.assertFalse(kw['purge_props'])
        self.assertNotIn('data', kw)
        self.client.images.download.assert_not_called()
        self.client.images.delete.assert_not_called()
        self.assertEqual([task_states.IMAGE_PENDING_UPLOAD,
                          task_states.IMAGE_UPLOADING], self.states)

    def test_glance_refuses_location_streams_bytes(self):
        uploads = []

        def update(ctx, image_id, meta, data=None, purge_props=True):
            if 'location' in meta:
                raise exception.ImageBadRequest(image_id=image_id,
                                                response='no store')
            uploads.append(data.read())

        self.image_api.update.side_effect = update
        self.ops.snapshot('ctx', self.instance, self.vm, 'snap', self._update)
        self.assertEqual([b'abc'], uploads)
        self.client.images.download.assert_called_once_with('img-s')
        # Glance has the bytes: the backend copy is removed.
        self.client.images.delete.assert_called_once_with('img-s')

    def test_direct_snapshot_disabled_streams(self):
        self.ops = snapshotops.SnapshotOps(self.client, self.image_api,
                                           base.CLUSTER, False)
        self.ops.snapshot('ctx', self.instance, self.vm, 'snap', self._update)
        (ctx, image_id, meta), kw = self.image_api.update.call_args
        self.assertNotIn('location', meta)
        self.assertIsNotNone(kw['data'])

    def test_image_deleted_meanwhile_cleans_backend_image(self):
        self.image_api.update.side_effect = exception.ImageNotFound(
            image_id='snap')
        self.assertRaises(exception.ImageNotFound, self.ops.snapshot, 'ctx',
                          self.instance, self.vm, 'snap', self._update)
        self.client.images.delete.assert_called_once_with('img-s')

    def test_backend_failure_propagates(self):
        self.client.images.create_from_vm_disk.side_effect = (
            prism_exc.TaskFailed('disk busy'))
        self.assertRaises(prism_exc.TaskFailed, self.ops.snapshot, 'ctx',
                          self.instance, self.vm, 'snap', self._update)
        self.image_api.update.assert_not_called()

    def test_boot_from_volume_vm_has_no_root_disk(self):
        vm = base.vm_dict(self.instance, disks=[base.vg_disk('vg')])
        self.assertRaises(exception.InstanceNotRunning, self.ops.snapshot,
                          'ctx', self.instance, vm, 'snap', self._update)

    def test_vm_for_snapshot_missing(self):
        vmops = mock.Mock()
        vmops.find_vm.return_value = None
        self.assertRaises(exception.InstanceNotRunning,
                          snapshotops.vm_for_snapshot, vmops, self.instance)
