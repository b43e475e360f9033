"""Instance snapshots as backend images, registered in Glance by location.

The cluster makes a new image from the VM's root disk (copy-on-write,
crash-consistent, the VM keeps running) and Glance gets the image's
``nutanix://<cluster>/<image>`` location: no byte goes through
nova-compute and nothing is flattened.  When Glance refuses the location
(no nutanix store, ``show_multiple_locations`` off...), the image's bytes
are streamed into Glance instead and the backend image is removed.
"""

from oslo_log import log as logging

from nova.compute import task_states
from nova import exception

from nutanix_openstack.nova import utils
from nutanix_openstack.prism import locations
from nutanix_openstack.prism import streams as prism_streams

LOG = logging.getLogger(__name__)

# Backend image of a snapshot: this prefix and the Glance image id.
SNAPSHOT_PREFIX = 'snapshot-'


class SnapshotOps(object):

    def __init__(self, client, image_api, cluster_ext_id, direct_snapshot):
        self._client = client
        self._image_api = image_api
        self._cluster_ext_id = cluster_ext_id
        self._direct = direct_snapshot

    def remove_abandoned(self, context, instance):
        """Delete backend snapshot images a dead nova-compute left.

        An interrupted snapshot leaves ``snapshot-<Glance image id>`` on the
        cluster (its description names the instance).  It is kept only when
        its Glance image is active and uses it as a location (the snapshot
        finished; only the task state was not updated); otherwise Glance
        never got it, or already holds the bytes, and it is deleted.
        Backend calls: images.list, images.delete.  Returns the extIds
        deleted.
        """
        deleted = []
        for image in self._client.images.list():
            name = image.get('name') or ''
            if not (name.startswith(SNAPSHOT_PREFIX) and
                    instance.uuid in (image.get('description') or '')):
                continue
            if self._glance_uses(context, name[len(SNAPSHOT_PREFIX):],
                                 image['extId']):
                continue
            LOG.warning('Removing backend image %(ext)s of a snapshot '
                        'interrupted by the death of nova-compute',
                        {'ext': image['extId']}, instance=instance)
            with utils.ignore_backend_errors('removing image %s'
                                             % image['extId']):
                self._client.images.delete(image['extId'])
                deleted.append(image['extId'])
        return deleted

    def _glance_uses(self, context, image_id, ext_id):
        try:
            meta = self._image_api.get(context, image_id,
                                       include_locations=True)
        except exception.ImageNotFound:
            return False
        if meta.get('status') != 'active':
            return False
        urls = [loc.get('url') or '' for loc in meta.get('locations') or ()]
        urls.append(meta.get('direct_url') or '')
        return any(url.endswith('/' + ext_id) for url in urls)

    def snapshot(self, context, instance, vm, image_id, update_task_state):
        """Snapshot the root disk into a Glance image.

        images.create_from_vm_disk of the root disk, then the Glance image gets
        its location (image API update); fallback: images.download streamed
        into Glance, images.delete.
        """
        root = utils.root_disk(vm)
        if root is None:
            raise exception.InstanceNotRunning(instance_id=instance.uuid)
        update_task_state(task_state=task_states.IMAGE_PENDING_UPLOAD)
        glance_image = self._image_api.get(context, image_id)
        image = self._client.images.create_from_vm_disk(
            SNAPSHOT_PREFIX + image_id, vm['extId'], root['extId'],
            description='Nova snapshot %s of instance %s'
            % (image_id, instance.uuid),
            cluster_ext_id=self._cluster_ext_id)
        ext_id = image['extId']
        update_task_state(task_state=task_states.IMAGE_UPLOADING,
                          expected_state=task_states.IMAGE_PENDING_UPLOAD)
        metadata = {
            'name': glance_image.get('name'),
            'disk_format': 'raw',
            'container_format': 'bare',
            'status': 'active',
            'properties': {'image_location': 'snapshot',
                           'image_state': 'available',
                           'owner_id': instance.project_id},
        }
        try:
            if self._direct and self._register_location(
                    context, image_id, ext_id, metadata):
                return
            self._stream(context, image_id, ext_id, metadata)
        except Exception:
            with utils.ignore_backend_errors('removing image %s' % ext_id):
                self._client.images.delete(ext_id)
            raise
        with utils.ignore_backend_errors('removing image %s' % ext_id):
            # Glance holds the bytes now; the backend copy has no user.
            self._client.images.delete(ext_id)

    def _register_location(self, context, image_id, ext_id, metadata):
        meta = dict(metadata, location=locations.make_location(
            self._cluster_ext_id, ext_id))
        try:
            self._image_api.update(context, image_id, meta,
                                   purge_props=False)
        except exception.ImageNotFound:
            raise
        except Exception as e:
            LOG.warning('Glance did not take the nutanix location of '
                        'snapshot %(id)s (%(err)s): streaming the bytes '
                        'instead', {'id': image_id, 'err': e})
            return False
        LOG.info('Snapshot %(id)s registered as %(ext)s (no copy)',
                 {'id': image_id, 'ext': ext_id})
        return True

    def _stream(self, context, image_id, ext_id, metadata):
        chunks = self._client.images.download(ext_id)
        self._image_api.update(context, image_id, metadata,
                               data=prism_streams.ChunkReader(chunks),
                               purge_props=False)
        LOG.info('Snapshot %(id)s streamed into Glance', {'id': image_id})


def vm_for_snapshot(vmops, instance):
    """Return the instance's VM for a snapshot.

    InstanceNotRunning when there is none: what Nova expects from a
    snapshot of an instance without a guest.
    """
    vm = vmops.find_vm(instance)
    if vm is None:
        raise exception.InstanceNotRunning(instance_id=instance.uuid)
    return vm
