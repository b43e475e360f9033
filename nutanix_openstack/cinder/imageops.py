"""Volumes from Glance images and Glance images from volumes.

Same-cluster images (``nutanix://<cluster extId>/<image extId>`` locations)
are cloned copy-on-write; everything else goes through the REST API with
the bytes streamed, never through an iSCSI attachment of cinder-volume.
"""

import os
import tempfile
import uuid

from cinder import exception
from cinder.image import image_utils
from oslo_config import cfg
from oslo_log import log as logging
from oslo_utils import excutils
from oslo_utils import units

from nutanix_openstack.cinder import volumeops
from nutanix_openstack.i18n import _
from nutanix_openstack.prism import exceptions as prism_exc
from nutanix_openstack.prism import formats
from nutanix_openstack.prism import locations
from nutanix_openstack.prism import streams as prism_streams
from nutanix_openstack.prism import vms as prism_vms
from nutanix_openstack.prism import volume_groups as prism_vg

LOG = logging.getLogger(__name__)

# Names of the short-lived backend objects of image transfers, followed by
# the volume id: a service cleaning up after a dead one finds them by name.
TEMP_IMAGE_PREFIX = 'cinder-image-'
TEMP_VM_PREFIX = 'cinder-upload-'


def location_urls(image_location, image_meta):
    """Every location URL Cinder handed us, direct_url first."""
    urls = []
    direct_url, locations = None, None
    if isinstance(image_location, (tuple, list)) and len(image_location) == 2:
        direct_url, locations = image_location
    elif isinstance(image_location, str):
        direct_url = image_location
    if direct_url:
        urls.append(direct_url)
    for loc in locations or ():
        if isinstance(loc, dict) and loc.get('url'):
            urls.append(loc['url'])
    meta = image_meta or {}
    if meta.get('direct_url'):
        urls.append(meta['direct_url'])
    for loc in meta.get('locations') or ():
        if isinstance(loc, dict) and loc.get('url'):
            urls.append(loc['url'])
    return urls


def _conversion_dir():
    # Cinder's own option ([DEFAULT] image_conversion_dir), where it
    # converts images too.
    path = cfg.CONF.image_conversion_dir or tempfile.gettempdir()
    os.makedirs(path, exist_ok=True)
    return path


class ImageOps(object):

    def __init__(self, client, volume_ops, configuration):
        self.client = client
        self.volume_ops = volume_ops
        self.configuration = configuration

    @property
    def cluster_ext_id(self):
        return self.volume_ops.cluster_ext_id

    # -- image -> volume -------------------------------------------------

    def same_cluster_image(self, urls):
        """extId of the first image among ``urls`` on our cluster."""
        for url in urls:
            image_ext_id = locations.image_on_cluster(url,
                                                      self.cluster_ext_id)
            if image_ext_id:
                return image_ext_id
        LOG.debug('No image location on cluster %s', self.cluster_ext_id)
        return None

    def _disk_image_source(self, image_ext_id, volume, image_id):
        """Data source of a bootable raw disk for ``image_ext_id``.

        Also checks that the image fits in the volume.
        """
        disk_image = self.client.images.ensure_disk_image(image_ext_id)
        info = self.client.images.get(disk_image)
        size = int(info.get('sizeBytes') or 0)
        if size > volumeops.size_bytes(volume.size):
            raise exception.ImageUnacceptable(
                image_id=image_id,
                reason=_('Image virtual size is %(img)d bytes and does not '
                         'fit in a volume of %(vol)d GiB') %
                {'img': size, 'vol': volume.size})
        return prism_vg.image_source(disk_image)

    def clone_image(self, context, volume, image_location, image_meta,
                    image_service):
        """Copy-on-write clone of a same-cluster image, or ``(None, False)``.

        Backend calls: ``images.ensure_disk_image`` (a derived raw image is
        made once for qcow2/vmdk/vhdx), ``GET images/{extId}``, ``POST
        volume-groups`` with an ``IMAGE`` data source.
        """
        meta = image_meta or {}
        disk_format = meta.get('disk_format')
        if disk_format not in formats.CLONEABLE_DISK_FORMATS:
            LOG.debug('Image %(id)s has disk_format %(fmt)s: not cloned',
                      {'id': meta.get('id'), 'fmt': disk_format})
            return None, False
        if meta.get('container_format') not in (None, 'bare'):
            return None, False
        image_ext_id = self.same_cluster_image(
            location_urls(image_location, meta))
        if not image_ext_id:
            return None, False
        source = self._disk_image_source(image_ext_id, volume, meta.get('id'))
        vg = self.volume_ops.create_volume_group(
            volume.name, volume.size, data_source=source,
            description=volumeops.describe(volume),
            multiattach=volume.multiattach)
        LOG.info('Volume %(vol)s is a copy-on-write clone of Nutanix image '
                 '%(img)s', {'vol': volume.id, 'img': image_ext_id})
        return {'provider_id': vg['extId']}, True

    def copy_image_to_volume(self, context, volume, image_service, image_id,
                             disable_sparse=False):
        """Fill ``volume`` with an image from any Glance store.

        A same-cluster Nutanix image is cloned; any other image is fetched
        and converted to raw by Cinder's image_utils, uploaded into a
        temporary cluster image (v3 byte upload) and cloned from there.
        The volume's disk is then replaced by the clone and the temporary
        image deleted.
        Backend calls: ``POST/PUT images`` (upload), ``POST
        volume-groups/{extId}/disks``, ``DELETE .../disks/{extId}``,
        ``DELETE images/{extId}``.
        """
        vg = self.volume_ops.get_volume_group(volume)
        image_meta = image_service.show(context, image_id)
        urls = []
        try:
            urls = location_urls(image_service.get_location(context,
                                                            image_id),
                                 image_meta)
        except Exception:
            LOG.debug('No locations for image %s', image_id, exc_info=True)
        image_ext_id = None
        if image_meta.get('disk_format') in formats.CLONEABLE_DISK_FORMATS:
            image_ext_id = self.same_cluster_image(urls)
        if image_ext_id:
            source = self._disk_image_source(image_ext_id, volume, image_id)
            self._replace_disk(vg['extId'], volume, source)
            return
        temp_image = self._upload_temporary_image(context, volume,
                                                  image_service, image_id)
        try:
            self._replace_disk(vg['extId'], volume,
                               prism_vg.image_source(temp_image))
        finally:
            self._delete_image_quietly(temp_image)

    def remove_leftovers(self, volume):
        """Delete the temporary images and VMs made for ``volume``.

        copy_image_to_volume uploads into a temporary image
        (``cinder-image-<volume id>-*``) and image_from_volume carries a
        clone in a temporary VM (``cinder-upload-<volume id>-*``); a
        service killed in the middle leaves them behind.  Called by the
        service that cleans up after it (Cinder's cleanup of a dead
        peer's work) and when the volume is deleted.
        Backend calls: ``GET images``, ``GET vms``, their ``DELETE``.
        Returns how many objects were removed.
        """
        removed = 0
        prefix = TEMP_IMAGE_PREFIX + volume.id + '-'
        for image in self.client.images.list():
            if (image.get('name') or '').startswith(prefix):
                LOG.info('Removing temporary image %(name)s left by an '
                         'interrupted transfer', {'name': image['name']})
                self._delete_image_quietly(image['extId'])
                removed += 1
        prefix = TEMP_VM_PREFIX + volume.id + '-'
        for vm in self.client.vms.list():
            if (vm.get('name') or '').startswith(prefix):
                LOG.info('Removing temporary VM %(name)s left by an '
                         'interrupted upload', {'name': vm['name']})
                try:
                    self.client.vms.delete(vm['extId'])
                    removed += 1
                except prism_exc.NotFound:
                    pass
        return removed

    def _upload_temporary_image(self, context, volume, image_service,
                                image_id):
        conv_dir = _conversion_dir()
        name = '%s%s-%s' % (TEMP_IMAGE_PREFIX, volume.id,
                            uuid.uuid4().hex[:8])
        with tempfile.NamedTemporaryFile(dir=conv_dir,
                                         prefix='nutanix-') as tmp:
            image_utils.fetch_to_raw(
                context, image_service, image_id, tmp.name,
                self.configuration.safe_get('volume_dd_blocksize') or '1M',
                size=volume.size, run_as_root=False)
            size = os.path.getsize(tmp.name)
            image = self.client.images.create_for_upload(
                name, cluster_ext_id=self.cluster_ext_id)
            try:
                with open(tmp.name, 'rb') as data:
                    self.client.images.upload(image['extId'], data,
                                              size=size)
            except Exception:
                with excutils.save_and_reraise_exception():
                    self._delete_image_quietly(image['extId'])
        return image['extId']

    def _replace_disk(self, vg_ext_id, volume, source):
        """Swap the volume's empty disk for a clone of ``source``.

        The new disk is added before the old one is removed, so a failure
        leaves the volume with its original disk.
        """
        vgs = self.client.volume_groups
        old = self.volume_ops.only_disk(vg_ext_id)
        new = vgs.add_disk(vg_ext_id, prism_vg.volume_disk(
            volumeops.size_bytes(volume.size),
            self.volume_ops.container_ext_id, data_source=source))
        try:
            vgs.delete_disk(vg_ext_id, old['extId'])
            self.volume_ops.grow(vg_ext_id, volume.size)
        except Exception:
            with excutils.save_and_reraise_exception():
                new_id = (new or {}).get('extId')
                if new_id:
                    try:
                        vgs.delete_disk(vg_ext_id, new_id)
                    except prism_exc.PrismError:
                        LOG.warning('Could not remove disk %s',
                                    new_id, exc_info=True)

    def _delete_image_quietly(self, image_ext_id):
        try:
            self.client.images.delete(image_ext_id)
        except prism_exc.NotFound:
            pass
        except prism_exc.PrismError:
            LOG.warning('Could not delete temporary image %s', image_ext_id,
                        exc_info=True)

    # -- volume -> image ---------------------------------------------------

    def image_from_volume(self, volume, name):
        """A cluster image of the volume's disk, made copy-on-write.

        v4 makes an image only from a URL or a VM disk, so a short-lived,
        never powered on VM gets a disk cloned from the volume's disk, the
        image is made from that VM disk and the VM is deleted.
        Backend calls: ``POST vms``, ``GET vms/{extId}/disks``, ``POST
        images`` (``VmDiskSource``), ``DELETE vms/{extId}``.
        """
        vg = self.volume_ops.get_volume_group(volume)
        vm_name = '%s%s-%s' % (TEMP_VM_PREFIX, volume.id,
                               uuid.uuid4().hex[:8])
        disk = self.volume_ops.only_disk(vg['extId'])
        memory = self.configuration.nutanix_upload_vm_memory_mb
        vm = self.client.vms.create(
            vm_name, memory_size_bytes=memory * units.Mi,
            disks=[prism_vms.disk_from_volume_disk(
                vg['extId'], disk['extId'],
                size_bytes=int(disk.get('diskSizeBytes') or 0) or None)],
            description='Temporary VM carrying a clone of Cinder '
                        'volume %s for an image upload' % volume.id,
            cluster_ext_id=self.cluster_ext_id)
        try:
            vm_disks = self.client.vms.list_disks(vm['extId'])
            if len(vm_disks) != 1:
                raise exception.VolumeBackendAPIException(
                    data=_('Temporary VM %(vm)s has %(n)d disks') %
                    {'vm': vm['extId'], 'n': len(vm_disks)})
            try:
                image = self.client.images.create_from_vm_disk(
                    name, vm['extId'], vm_disks[0]['extId'],
                    cluster_ext_ids=[self.cluster_ext_id])
            except Exception:
                with excutils.save_and_reraise_exception():
                    for leftover in self.client.images.find_by_name(name):
                        self._delete_image_quietly(leftover['extId'])
        finally:
            try:
                self.client.vms.delete(vm['extId'])
            except prism_exc.PrismError:
                LOG.warning('Could not delete temporary VM %s',
                            vm['extId'], exc_info=True)
        return image

    def copy_volume_to_image(self, context, volume, image_service,
                             image_meta):
        """Make the Glance image ``image_meta['id']`` from ``volume``.

        With a raw/bare image and ``nutanix_image_upload_direct`` the
        cluster image made by :meth:`image_from_volume` is registered as the
        Glance image's ``nutanix://`` location (no bytes through Cinder).
        Otherwise, or when Glance refuses the location, its bytes are
        streamed from the cluster to Glance (converted by Cinder's
        image_utils when another disk_format is asked for) and the cluster
        image is deleted.
        """
        glance_id = image_meta['id']
        image = self.image_from_volume(
            volume, locations.glance_image_name(glance_id))
        image_ext_id = image['extId']
        registered = False
        try:
            if self._can_register_location(image_meta):
                registered = self._register_location(context, image_service,
                                                     glance_id, image_ext_id)
            if not registered:
                self._stream_to_glance(context, image_service, image_meta,
                                       image_ext_id)
        finally:
            if not registered:
                self._delete_image_quietly(image_ext_id)

    def _can_register_location(self, image_meta):
        return (self.configuration.nutanix_image_upload_direct and
                image_meta.get('disk_format') == 'raw' and
                image_meta.get('container_format') in (None, 'bare'))

    def _register_location(self, context, image_service, glance_id,
                           image_ext_id):
        url = locations.make_location(self.cluster_ext_id, image_ext_id)
        metadata = {}
        store_id = self.configuration.nutanix_glance_store_id
        if store_id:
            metadata['store'] = store_id
        try:
            image_service.add_location(context, glance_id, url, metadata)
        except Exception as e:
            LOG.warning('Glance did not accept location %(url)s for image '
                        '%(id)s (%(err)s); streaming the bytes instead',
                        {'url': url, 'id': glance_id, 'err': e})
            return False
        LOG.info('Registered %(url)s as the location of image %(id)s',
                 {'url': url, 'id': glance_id})
        return True

    def _stream_to_glance(self, context, image_service, image_meta,
                          image_ext_id):
        glance_id = image_meta['id']
        if image_meta.get('disk_format') == 'raw' and image_meta.get(
                'container_format') in (None, 'bare'):
            chunks = self.client.images.download(image_ext_id)
            image_service.update(context, glance_id, {},
                                 prism_streams.ChunkReader(chunks))
            return
        conv_dir = _conversion_dir()
        with tempfile.NamedTemporaryFile(dir=conv_dir,
                                         prefix='nutanix-') as tmp:
            for chunk in self.client.images.download(image_ext_id):
                tmp.write(chunk)
            tmp.flush()
            image_utils.upload_volume(context, image_service, image_meta,
                                      tmp.name, run_as_root=False)
