"""Glance images as bootable backend images: clone in place, or fetch once.

An image whose Glance location is ``nutanix://<our cluster>/<image extId>``
is already in the cluster: the root disk is cloned from it (copy-on-write)
and nothing is downloaded.  Any other image is streamed from Glance ONCE
into a backend image named ``<image_cache_prefix><glance image id>`` and
reused by later boots, by this nova-compute after a restart and by any
other nova-compute of the same cluster (the name is the cache key; the
driver keeps no local state).  A per-image lock makes concurrent boots on
this host fetch it once.
"""

from oslo_log import log as logging

from nova import exception

from nutanix_openstack.nova import utils
from nutanix_openstack.prism import exceptions as prism_exc
from nutanix_openstack.prism import formats
from nutanix_openstack.prism import locations

LOG = logging.getLogger(__name__)

PARTIAL_SUFFIX = '.partial'


class UnsupportedImageFormat(Exception):
    pass


def image_kind(disk_format):
    """DISK_IMAGE or ISO_IMAGE (see prism.formats) for a Glance format."""
    if (disk_format in (None, '') or
            disk_format in formats.BOOTABLE_DISK_FORMATS):
        return formats.DISK_IMAGE
    if disk_format == formats.ISO_DISK_FORMAT:
        return formats.ISO_IMAGE
    raise UnsupportedImageFormat(disk_format)


class ImageCache(object):

    def __init__(self, client, image_api, cluster_ext_id, prefix):
        self._client = client
        self._image_api = image_api
        self._cluster_ext_id = cluster_ext_id
        self._prefix = prefix

    def cache_name(self, glance_image_id):
        return '%s%s' % (self._prefix, glance_image_id)

    def _local_image(self, glance_meta):
        """Return the backend image of a nutanix:// location, or None.

        Only locations on this cluster count, and only when the backend
        image exists (images.get).
        """
        urls = [loc.get('url') for loc in glance_meta.get('locations') or ()]
        urls.append(glance_meta.get('direct_url'))
        for url in urls:
            image = locations.image_on_cluster(url, self._cluster_ext_id)
            if image is None:
                continue
            try:
                self._client.images.get(image)
            except prism_exc.NotFound:
                LOG.warning('Glance location %(url)s names a backend image '
                            'that does not exist', {'url': url})
                continue
            return image
        return None

    def find_cached(self, glance_image_id):
        """The complete cached image for a Glance image id, or None."""
        name = self.cache_name(glance_image_id)
        found = self._client.images.find_by_name(name)
        return found[0] if found else None

    def image_for_boot(self, context, glance_image_id, disk_format):
        """Return a backend image to boot a Glance image from.

        Return ``(image extId, kind)`` of a backend image holding the Glance
        image; ``kind`` is 'DISK_IMAGE' (a raw disk to clone) or 'ISO_IMAGE'
        (to mount as a CD-ROM).

        Backend calls: images.get (location check) or images.list (cache
        lookup); on a cache miss images.create_for_upload + images.upload (+
        images.update to publish the name); images.ensure_disk_image for disk
        images.
        """
        kind = image_kind(disk_format)
        meta = self._image_api.get(context, glance_image_id,
                                   include_locations=True)
        image_ext_id = self._local_image(meta)
        if image_ext_id:
            LOG.info('Image %(id)s is in the cluster as %(ext)s: cloning it',
                     {'id': glance_image_id, 'ext': image_ext_id})
        else:
            image_ext_id = self._fetch_once(context, glance_image_id, meta,
                                            kind)
        if kind == formats.DISK_IMAGE:
            image_ext_id = self._client.images.ensure_disk_image(
                image_ext_id)
        return image_ext_id, kind

    def _fetch_once(self, context, glance_image_id, meta, kind):
        # The client's lock holds across compute hosts ([coordination]
        # backend_url; see nutanix_openstack.coordination): two hosts
        # booting the same image stream it into the cluster once.
        with self._client.lock('glance-image-%s' % glance_image_id):
            cached = self.find_cached(glance_image_id)
            if cached:
                LOG.debug('Image %(id)s already cached as %(ext)s',
                          {'id': glance_image_id, 'ext': cached['extId']})
                return cached['extId']
            return self._stream_from_glance(context, glance_image_id, meta,
                                            kind)

    def _stream_from_glance(self, context, glance_image_id, meta, kind):
        name = self.cache_name(glance_image_id)
        LOG.info('Streaming image %(id)s from Glance into the cluster as '
                 '%(name)s', {'id': glance_image_id, 'name': name})
        # The image gets its final name only once its bytes are complete,
        # so that a crash mid-upload never leaves a "cached" image that is
        # truncated.
        image = self._client.images.create_for_upload(
            name + PARTIAL_SUFFIX, image_type=kind,
            description='Glance image %s (cached by nova)' % glance_image_id,
            cluster_ext_id=self._cluster_ext_id)
        ext_id = image['extId']
        try:
            chunks = self._image_api.download(context, glance_image_id)
            if chunks is None:
                raise exception.ImageUnacceptable(
                    image_id=glance_image_id,
                    reason='Glance returned no data for the image')
            self._client.images.upload(ext_id, iter(chunks),
                                       size=meta.get('size'))
            self._client.images.update(ext_id, name=name)
        except Exception:
            with utils.ignore_backend_errors(
                    'removing partial image %s' % ext_id):
                self._client.images.delete(ext_id)
            raise
        return ext_id
