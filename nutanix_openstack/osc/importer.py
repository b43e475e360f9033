"""Import an image from a URL, with the cluster fetching the bytes.

The flow behind ``openstack nutanix image import``; it knows nothing of
cliff or osc-lib (the command in :mod:`nutanix_openstack.osc.image` feeds
it), so it is tested with a fake Glance and the emulator.

1. Glance: ``POST /v2/images`` -> a queued image record, no data.
2. Cluster: ``POST /api/vmm/v4.x/content/images`` with a ``UrlSource``:
   the cluster downloads the URL itself.  It is fetched as an ISO_IMAGE,
   which the cluster keeps byte for byte; the first bytes are then read
   back from the cluster and sniffed exactly as the Glance store sniffs an
   upload (:mod:`nutanix_openstack.prism.formats`).  qcow2/vmdk/vhdx (and
   the other container formats) stay ISO_IMAGE, and for qcow2/vmdk/vhdx
   the cluster derives (and checks) the raw disk at once, refusing a
   damaged image; anything else becomes a
   DISK_IMAGE, copied by the cluster from the fetched image's own ``/file``
   URL, as the store keeps raw uploads.  The declared ``disk_format`` must
   agree with the content.  Named ``glance-<image id>`` like the store's.
3. Glance: the location ``nutanix://<cluster extId>/<image extId>`` is
   added, either with the add-location API (Glance hashes the image through
   the store's get()) or with the classic JSON patch (the checksum and hash
   are computed from the cluster's copy and passed as validation data).

Any failure, including Ctrl-C, deletes the Glance image and every backend
image this import made.
"""

import hashlib
import time

from nutanix_openstack.i18n import _
from nutanix_openstack.osc import glance_rest
from nutanix_openstack.prism import exceptions as prism_exc
from nutanix_openstack.prism import formats
from nutanix_openstack.prism import locations as prism_locations

LOCATION_APIS = ('auto', 'add', 'patch')
#: Statuses of a POST /locations refusal after which the JSON patch is
#: tried in ``auto`` mode: no ``service`` role (403), a Glance older than
#: API v2.17 (404/405).
_FALLBACK_STATUSES = (403, 404, 405)
_IMPORT_LOCK = 'os_glance_import_task'


class ImportFailed(Exception):
    """The import failed and was rolled back; the message says why."""


def check_format(declared, sniffed):
    """Refuse content that is not what ``--disk-format`` declares.

    :param sniffed: what :func:`formats.sniff_format` found, None for raw
        (or ISO) content
    :raises ImportFailed: e.g. a qcow2 declared raw (a guest would see
        the qcow2 structure, or worse its backing file) or a raw file
        declared vmdk
    """
    if sniffed and sniffed != declared:
        raise ImportFailed(
            _('the URL holds a %(s)s image but --disk-format is %(d)s')
            % {'s': sniffed, 'd': declared})
    if not sniffed and declared in formats.SNIFFABLE_FORMATS:
        raise ImportFailed(
            _('--disk-format is %(d)s but the URL content is not a %(d)s '
              'image') % {'d': declared})


class UrlImport(object):
    """One URL import.

    :param glance: :class:`~nutanix_openstack.osc.glance_rest.GlanceImages`
    :param prism: a PrismClient
    :param report: ``report(message)`` for progress lines (stderr)
    :param location_api: ``auto`` (add-location API, JSON patch when
        Glance refuses it), ``add`` or ``patch``
    :param hash_algo: the hash of ``os_hash_value`` on the JSON-patch path
        (Glance's ``hashing_algorithm``, sha512 by default)
    """

    def __init__(self, glance, prism, report, location_api='auto',
                 hash_algo='sha512', allow_insecure_url=False,
                 poll_interval=1.0, timeout=3600, clock=time.monotonic,
                 sleep=time.sleep):
        if location_api not in LOCATION_APIS:
            raise ValueError('location_api must be one of %s'
                             % (LOCATION_APIS,))
        hashlib.new(hash_algo)   # ValueError now rather than at the end
        self.glance = glance
        self.prism = prism
        self.report = report
        self.location_api = location_api
        self.hash_algo = hash_algo
        self.allow_insecure_url = allow_insecure_url
        self.poll_interval = poll_interval
        self.timeout = timeout
        self._clock = clock
        self._sleep = sleep
        self.method_used = None

    # -- the flow -----------------------------------------------------------

    def run(self, url, fields, store=None, wait=False, container=None):
        """Import ``url`` into a new Glance image.

        :param fields: the Glance image create body (name, disk_format,
            container_format, visibility, extra properties)
        :param store: the Glance backend id the location must land on
            (multi-store Glance), or None
        :param wait: also wait until Glance has hashed the image
        :param container: a storage container name/extId that must exist
        :returns: the Glance image dict
        :raises ImportFailed: after removing everything it created
        """
        cluster = self._cluster(container)
        if store:
            self._check_store(store)
        image = self.glance.create(fields)
        image_id = image['id']
        self.report(_('Glance image %s created (queued)') % image_id)
        name = prism_locations.glance_image_name(image_id)
        try:
            backend = self._fetch(url, image_id, name, fields['disk_format'])
            uri = prism_locations.make_location(cluster, backend['extId'])
            self._add_location(image_id, uri, backend, store)
            result = self._wait_glance(image_id, wait)
            self._check_result(result, backend, store)
            return result
        except BaseException as e:
            self._rollback(image_id, name)
            if isinstance(e, ImportFailed):
                raise
            if isinstance(e, (prism_exc.PrismError,
                              glance_rest.GlanceError)):
                raise ImportFailed(str(e)) from e
            raise

    def _cluster(self, container):
        """Cluster extId (and a check of the container) before any write."""
        try:
            cluster = self.prism.cluster_ext_id()
            if container:
                self.prism.clusters.find_storage_container(
                    container, cluster_ext_id=cluster)
        except prism_exc.PrismError as e:
            raise ImportFailed(_('cluster check failed: %s') % e) from e
        return cluster

    def _check_store(self, store):
        """Fail before any write when Glance has no backend ``store``."""
        try:
            known = self.glance.store_ids()
        except glance_rest.GlanceError as e:
            raise ImportFailed(str(e)) from e
        if store not in known:
            raise ImportFailed(
                _('Glance has no store %(s)s (stores: %(k)s)') %
                {'s': store, 'k': ', '.join(known) or _('none, not '
                                                        'multi-store')})

    def _progress(self, what):
        last = [None]

        def callback(percent):
            if percent != last[0]:
                last[0] = percent
                self.report(_('%(w)s: %(p)s%%') % {'w': what, 'p': percent})
        return callback

    def _fetch(self, url, image_id, name, disk_format):
        """The cluster fetches ``url``; returns the backend image dict.

        Backend calls: POST images (UrlSource, ISO_IMAGE) and its task;
        GET ``/file`` with a 512-byte Range; for raw content
        ``images.copy_as_disk_image`` of the fetched image and DELETE of
        the fetched one.
        """
        images = self.prism.images
        cluster = self.prism.cluster_ext_id()
        description = 'Glance image %s (imported from a URL)' % image_id
        self.report(_('Cluster %s fetching the URL') % cluster)
        fetched = images.create_from_url(
            name, url, image_type=formats.ISO_IMAGE,
            description=description, cluster_ext_id=cluster,
            allow_insecure_url=self.allow_insecure_url,
            progress_callback=self._progress(_('cluster fetch')))
        size = int(fetched.get('sizeBytes') or 0)
        head = b''
        if size:
            head = b''.join(images.download(
                fetched['extId'], 0, min(size, formats.SNIFF_BYTES)))
        sniffed = formats.sniff_format(head)
        check_format(disk_format, sniffed)
        image_type, fmt = formats.backend_image_type(head)
        self.report(_('Fetched %(n)d bytes of %(f)s content into backend '
                      'image %(i)s') % {'n': size, 'f': fmt,
                                        'i': fetched['extId']})
        if image_type == formats.ISO_IMAGE:
            if fmt in formats.CLUSTER_CONVERTS:
                self._verify_on_cluster(fetched, fmt)
            return fetched
        # Raw content: the store keeps raw uploads as DISK_IMAGE, which
        # Cinder and Nova clone directly.  The cluster copies its own
        # image; no byte leaves it.
        self.report(_('Raw content: the cluster makes it a DISK_IMAGE'))
        disk = images.copy_as_disk_image(
            fetched['extId'], name, description=description,
            cluster_ext_ids=[cluster],
            progress_callback=self._progress(_('cluster copy')))
        images.delete(fetched['extId'])
        return disk

    def _verify_on_cluster(self, fetched, fmt):
        """The cluster checks and converts a qcow2/vmdk/vhdx download.

        As the Glance store does for an upload: the raw disk Cinder and
        Nova clone is derived now (``ensure_disk_image``), and the cluster
        refuses an image that fails its format's consistency check (a
        truncated download) instead of making a disk of zeros from it.
        """
        self.report(_('Cluster checking the %s image and deriving its raw '
                      'disk') % fmt)
        try:
            self.prism.images.ensure_disk_image(
                fetched['extId'],
                progress_callback=self._progress(_('cluster conversion')))
        except prism_exc.TaskFailed as e:
            raise ImportFailed(
                _('the cluster refused the %(f)s image: %(e)s')
                % {'f': fmt, 'e': e.message}) from e

    def _add_location(self, image_id, uri, backend, store):
        if self.location_api in ('auto', 'add'):
            try:
                self.glance.add_location(image_id, uri)
                self.method_used = 'add'
                self.report(_('Location %s added (Glance hashes the image '
                              'through the store)') % uri)
                return
            except glance_rest.GlanceError as e:
                if (self.location_api == 'add' or
                        e.status not in _FALLBACK_STATUSES):
                    raise
                self.report(_('Glance refused the add-location API (%s); '
                              'using the JSON patch') % e)
        validation = self._hash_backend_image(backend)
        self.glance.patch_add_location(
            image_id, uri, metadata={'store': store} if store else None,
            validation_data=validation)
        self.method_used = 'patch'
        self.report(_('Location %s added') % uri)

    def _hash_backend_image(self, backend):
        """Checksum and multihash of the cluster's copy, for the patch.

        On this path Glance does not read the data, so the hashes are
        computed here from the cluster (GET ``/file``), never from the URL.
        """
        self.report(_('Hashing backend image %s for Glance') %
                    backend['extId'])
        md5 = hashlib.md5(usedforsecurity=False)
        multihash = hashlib.new(self.hash_algo)
        for chunk in self.prism.images.download(backend['extId']):
            md5.update(chunk)
            multihash.update(chunk)
        return {'checksum': md5.hexdigest(), 'os_hash_algo': self.hash_algo,
                'os_hash_value': multihash.hexdigest()}

    def _wait_glance(self, image_id, wait):
        """Until active (and hashed with ``wait``); fail on a rollback."""
        deadline = self._clock() + self.timeout
        while True:
            image = self.glance.get(image_id)
            status = image.get('status')
            busy = _IMPORT_LOCK in image
            hashed = bool(image.get('os_hash_value'))
            if status == 'active' and (hashed or not wait):
                return image
            if status == 'active' and not busy:
                raise ImportFailed(
                    _('Glance made image %s active but could not hash it '
                      'through the store (see the glance-api log)')
                    % image_id)
            if status not in ('queued', 'importing', 'active'):
                raise ImportFailed(_('Glance image %(i)s went %(s)s') %
                                   {'i': image_id, 's': status})
            if status == 'queued' and not busy:
                raise ImportFailed(
                    _('Glance did not accept the location of image %s '
                      '(see the glance-api log)') % image_id)
            if self._clock() > deadline:
                raise ImportFailed(
                    _('Glance image %(i)s still %(s)s after %(t)ss') %
                    {'i': image_id, 's': status, 't': self.timeout})
            self._sleep(self.poll_interval)

    def _check_result(self, image, backend, store):
        size = int(backend.get('sizeBytes') or 0)
        if image.get('size') != size:
            raise ImportFailed(
                _('Glance recorded %(g)s bytes, the cluster holds %(c)d') %
                {'g': image.get('size'), 'c': size})
        stores = image.get('stores')
        if store and stores and store not in stores.split(','):
            raise ImportFailed(
                _('the location landed on Glance store %(s)s, not on '
                  '%(w)s') % {'s': stores, 'w': store})

    def _rollback(self, image_id, name):
        """Delete the Glance image and every backend image named ``name``.

        Never raises: what could not be removed is reported by name.
        """
        clean = True
        try:
            self.glance.delete(image_id)
        except Exception as e:
            clean = False
            self.report(_('Could not delete Glance image %(i)s, remove it '
                          'by hand: %(e)s') % {'i': image_id, 'e': e})
        try:
            leftovers = self.prism.images.find_by_name(name)
        except Exception as e:
            self.report(_('Could not list backend images named %(n)s, '
                          'check by hand: %(e)s') % {'n': name, 'e': e})
            return
        derived = []
        try:
            for image in leftovers:
                derived.extend(self.prism.images.list_derived(
                    image['extId']))
        except Exception as e:
            self.report(_('Could not list the derived images of %(n)s, '
                          'check by hand: %(e)s') % {'n': name, 'e': e})
        # Derived disks first: they are copies of the fetched image.
        for image in derived + list(leftovers):
            try:
                self.prism.images.delete(image['extId'])
            except prism_exc.NotFound:
                pass
            except Exception as e:
                clean = False
                self.report(_('Could not delete backend image %(i)s, '
                              'remove it by hand: %(e)s') %
                            {'i': image['extId'], 'e': e})
        if clean:
            self.report(_('Rolled back: Glance image %s and its backend '
                          'images removed') % image_id)
