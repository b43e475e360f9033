"""glance_store driver ``nutanix``: image bytes on the cluster, metadata in
Glance.

Loaded by glance_store through the ``glance_store.drivers`` entry point
(``nutanix = nutanix_openstack.glance.store:Store``), as
``[glance_store] stores = nutanix`` / ``default_store = nutanix`` or in
multi-store mode (``enabled_backends = cluster:nutanix``).

Locations are ``nutanix://<cluster extId>/<image extId>``.  Every backend
call goes through :class:`nutanix_openstack.prism.client.PrismClient`;
client errors are mapped to glance_store exceptions here and only here
(``Store._translate_errors``, whose wording configure_add() reuses).
Importing this module stays cheap (no HTTP stack): glance_store imports
every driver to list options, and one that fails to import disappears
silently.
"""

import contextlib
import logging
import re
import threading

from glance_store import capabilities
from glance_store import driver
from glance_store import exceptions
from oslo_config import cfg

from nutanix_openstack.glance import location as nutanix_location
from nutanix_openstack.glance import options
from nutanix_openstack.glance import streams
from nutanix_openstack.i18n import _
from nutanix_openstack.prism import clusters as prism_clusters
from nutanix_openstack.prism import exceptions as prism_exc
from nutanix_openstack.prism import formats
from nutanix_openstack.prism import locations as prism_locations
from nutanix_openstack.prism import redact

LOG = logging.getLogger(__name__)

# glance_store looks the location class up as "<store module>.StoreLocation".
StoreLocation = nutanix_location.StoreLocation

STORE_NAME = 'nutanix'


class Store(driver.Store):
    """Images as Nutanix images (``/api/vmm/v4.x/content/images``).

    Reads are ranged (offset and length), so READ_RANDOM; writes are
    streamed sequentially only (no WRITE_OFFSET/WRITE_CHUNK).  One store
    object serves concurrent requests: the client session is thread-safe
    and the cached cluster/container ids never change, so it is
    DRIVER_REUSABLE.
    """

    _CAPABILITIES = (capabilities.BitMasks.READ_RANDOM |
                     capabilities.BitMasks.WRITE_ACCESS |
                     capabilities.BitMasks.DRIVER_REUSABLE)
    OPTIONS = options.OPTIONS
    EXAMPLE_URL = 'nutanix://<CLUSTER_EXT_ID>/<IMAGE_EXT_ID>'

    def __init__(self, conf, backend=None):
        super(Store, self).__init__(conf, backend=backend)
        if self.backend_group:
            self.store_conf = getattr(self.conf, self.backend_group)
        else:
            self.store_conf = self.conf.glance_store
        self.store_location_class = StoreLocation
        self._client = None
        self._cluster_ext_id = None
        self._container = None
        self._lock = threading.Lock()
        # Here, in glance-api's main thread, not first in a request thread:
        # see nutanix_openstack.coordination on importing tooz.
        from nutanix_openstack import coordination  # noqa: F401

    @property
    def store_name(self):
        return self.backend_group or STORE_NAME

    def get_schemes(self):
        return (prism_locations.SCHEME,)

    # -- configuration --------------------------------------------------

    def _make_client(self):
        # Imported here so that loading the store module (done by
        # glance_store for every installed driver) never needs requests.
        from nutanix_openstack import coordination
        from nutanix_openstack.prism import client as prism_client
        client = prism_client.PrismClient.from_conf(self.store_conf,
                                                    prefix=options.PREFIX)
        # The raw disk of an image is derived once per cluster, whichever
        # glance-api (or nova-compute, cinder-volume) asks first.
        client.lock = coordination.Coordinator.from_conf(self.conf).lock
        return client

    @property
    def client(self):
        """The PrismClient, built on first use.

        Also used by a read-only store whose configure_add() failed.
        """
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = self._make_client()
        return self._client

    def _resolve_cluster(self, client):
        """extId of the cluster this store serves.

        ``nutanix_cluster`` (name or extId), or else the only cluster that
        is not Prism Central.

        Backend call: GET clustermgmt ``/config/clusters``.
        """
        wanted = self.store_conf.nutanix_cluster
        try:
            return client.clusters.find_cluster(wanted)['extId']
        except (prism_exc.NotFound, prism_exc.ConfigurationError) as e:
            raise exceptions.BadStoreConfiguration(
                store_name=self.store_name,
                reason=_('cannot choose the cluster (nutanix_cluster=%(c)r):'
                         ' %(e)s') % {'c': wanted, 'e': e})

    def _resolve_container(self, client, cluster_ext_id):
        """The ``nutanix_storage_container`` dict, or None when unset.

        Backend call: GET clustermgmt ``/config/storage-containers``.
        """
        name = self.store_conf.nutanix_storage_container
        if not name:
            return None
        try:
            return client.clusters.find_storage_container(
                name, cluster_ext_id=cluster_ext_id)
        except prism_exc.NotFound:
            raise exceptions.BadStoreConfiguration(
                store_name=self.store_name,
                reason=_('storage container %(n)r '
                         '(nutanix_storage_container) not found on cluster '
                         '%(c)s') % {'n': name, 'c': cluster_ext_id})

    def configure_add(self):
        """Check endpoint, credentials, cluster and container.

        Backend calls: GET clusters, GET storage containers.  Raises
        BadStoreConfiguration with the reason; glance_store then keeps the
        store read-only.
        """
        try:
            chunk = self.store_conf.nutanix_transfer_chunk_size
            self.READ_CHUNKSIZE = self.WRITE_CHUNKSIZE = chunk
            client = self.client
            cluster = self._resolve_cluster(client)
            self._remember_cluster(cluster)
            container = self._resolve_container(client, cluster)
        except exceptions.BadStoreConfiguration as e:
            LOG.error('Nutanix store %(s)s: %(e)s',
                      {'s': self.store_name, 'e': e})
            raise
        except (cfg.ConfigFileValueError, ValueError) as e:
            reason = _('invalid options: %s') % e
        except prism_exc.PrismError as e:
            reason = self._error_reason(e)
        else:
            with self._lock:
                self._container = container
            LOG.info('Nutanix store %(s)s: cluster %(c)s, container %(ct)s',
                     {'s': self.store_name, 'c': cluster,
                      'ct': (container or {}).get('name', 'default')})
            return
        LOG.error('Nutanix store %(s)s: %(r)s',
                  {'s': self.store_name, 'r': reason})
        raise exceptions.BadStoreConfiguration(store_name=self.store_name,
                                               reason=reason)

    def _remember_cluster(self, cluster_ext_id):
        # Also the url_prefix, by which multi-store Glance maps a location
        # to its backend: known even when the store stays read-only.
        with self._lock:
            self._cluster_ext_id = cluster_ext_id
            self._url_prefix = prism_locations.PREFIX + cluster_ext_id + '/'

    @property
    def cluster_ext_id(self):
        """The cluster extId, cached.

        Resolved on first use when configure_add() could not.
        """
        if self._cluster_ext_id is None:
            with self._translate_errors(_('Cluster lookup')):
                cluster = self._resolve_cluster(self.client)
            self._remember_cluster(cluster)
        return self._cluster_ext_id

    # -- helpers ----------------------------------------------------------

    def _error_reason(self, error):
        """Why a client error happened, in the operator's words.

        The one translation of client errors: configure_add() gives it as
        the reason of BadStoreConfiguration, _translate_errors() in the
        message of BackendException.
        """
        conf = self.store_conf
        if isinstance(error, (prism_exc.Unauthorized, prism_exc.Forbidden)):
            return (_('the cluster rejected the credentials of user %(u)r: '
                      '%(e)s') % {'u': conf.nutanix_username, 'e': error})
        if isinstance(error, prism_exc.ConfigurationError):
            return _('invalid options: %s') % error
        if isinstance(error, prism_exc.UploadNotRetryable):
            return _('the upload was cut and cannot be resent: %s') % error
        if isinstance(error, prism_exc.ConnectionFailed):
            return _('cannot reach nutanix_endpoints %(ep)s: %(e)s') % {
                'ep': ', '.join(redact.strip_userinfo(e)
                                for e in conf.nutanix_endpoints or []),
                'e': error}
        if isinstance(error, prism_exc.TaskTimeout):
            return _('the cluster task did not finish in time: %s') % error
        return _('the cluster API failed: %s') % error

    @contextlib.contextmanager
    def _translate_errors(self, what):
        """Map client errors to glance_store exceptions.

        :param what: names the object/operation in the messages
        """
        try:
            yield
        except exceptions.GlanceStoreException:
            raise
        except prism_exc.NotFound as e:
            raise exceptions.NotFound(
                message=_('%(what)s not found on the cluster: %(err)s') %
                {'what': what, 'err': e})
        except prism_exc.Conflict as e:
            raise exceptions.InUseByStore(
                message=_('%(what)s is in use on the cluster: %(err)s') %
                {'what': what, 'err': e})
        except prism_exc.PrismError as e:
            raise exceptions.BackendException(
                '%(what)s: %(reason)s' % {'what': what,
                                          'reason': self._error_reason(e)})

    def _own_image(self, location):
        """The image extId of a location on this store's cluster."""
        loc = location.store_location
        image_ext_id = prism_locations.image_on_cluster(loc.get_uri(),
                                                        self.cluster_ext_id)
        if image_ext_id is None:
            raise exceptions.BadStoreUri(
                message=_('location %(uri)s belongs to cluster %(other)s; '
                          'store %(store)s serves cluster %(mine)s') %
                {'uri': loc.get_uri(), 'other': loc.cluster_ext_id,
                 'store': self.store_name, 'mine': self.cluster_ext_id})
        return image_ext_id

    def _check_capacity(self, image_size):
        """Raise StorageFull before sending bytes to a full container."""
        if not image_size or not self._container:
            return
        container_ext_id = prism_clusters.storage_container_ext_id(
            self._container)
        with self._translate_errors(_('Storage container capacity')):
            free = self.client.clusters.container_capacity(
                container_ext_id).get('free_bytes')
        if free is not None and free < image_size:
            raise exceptions.StorageFull(
                message=_('storage container %(c)s has %(f)d bytes free, '
                          'the image needs %(n)d') %
                {'c': self._container.get('name'), 'f': free,
                 'n': image_size})

    def _discard(self, image_ext_id):
        """Remove a partial backend image; never masks the real error."""
        try:
            self.client.images.delete(image_ext_id)
        except prism_exc.NotFound:
            pass
        except Exception:
            LOG.exception('Could not remove partial Nutanix image %s; '
                          'remove it by hand', image_ext_id)

    def _delete_derived(self, image_ext_id):
        """Delete the raw disk images derived from ``image_ext_id``.

        They were made by ``ensure_disk_image`` for Cinder and Nova clones.
        Backend calls: GET images filtered by name, DELETE each match.
        """
        with self._translate_errors(_('Derived images of %s') % image_ext_id):
            for image in self.client.images.list_derived(image_ext_id):
                try:
                    self.client.images.delete(image['extId'])
                    LOG.info('Deleted derived disk image %(d)s of image '
                             '%(i)s', {'d': image['extId'],
                                       'i': image_ext_id})
                except prism_exc.NotFound:
                    pass

    def _verify_on_cluster(self, ext_id, fmt, what):
        """Have the cluster check and convert a container-format image.

        The bytes are complete only now, and a truncated qcow2 looks like a
        good one in its first bytes.  The cluster derives the raw disk that
        Cinder and Nova clone (``ensure_disk_image``, done here at the door
        rather than at the first boot) and refuses an image that fails its
        format's consistency check, instead of turning it into a disk whose
        missing data reads as zeros.

        :raises: ``Invalid`` (HTTP 400 to the Glance user) with the
            cluster's reason when it refused the image; ``BackendException``
            for other cluster failures
        """
        with self._translate_errors(what):
            try:
                self.client.images.ensure_disk_image(ext_id)
            except prism_exc.TaskFailed as e:
                raise exceptions.Invalid(
                    _('%(what)s: the cluster refused the %(fmt)s image: '
                      '%(err)s') % {'what': what, 'fmt': fmt,
                                    'err': e.message})

    def _description(self, image_id, fmt):
        text = 'Glance image %s (%s)' % (image_id, fmt)
        if self.backend_group:
            text += ' in store %s' % self.backend_group
        return text

    def _is_own_leftover(self, image, image_id):
        """Whether ``image`` was made by an add of this store and image.

        Another Nutanix store of a multi-store Glance may hold a copy of
        the same Glance image (``copy-image``) on the same cluster: only
        images this store described as its own are leftovers.
        """
        # "Glance image <id> (<format>)[ in store <group>]": not the
        # images the CLI importer or Nova's image cache describe in words.
        pattern = r'Glance image %s \([a-z0-9]+\)%s' % (
            re.escape(str(image_id)),
            re.escape(' in store %s' % self.backend_group)
            if self.backend_group else '')
        return re.fullmatch(pattern, image.get('description') or '') \
            is not None

    def _remove_leftovers(self, name, image_id):
        """Delete backend images a failed earlier add of this image left.

        The name carries the Glance image id, so an image of that name made
        by this store can only be a leftover: an add whose clean-up could
        not reach the cluster (or a cluster that crashed mid-upload).
        Removing it first means a retry never leaves two backend images of
        one name.  Backend calls: GET images filtered by name, DELETE each
        leftover.
        """
        for leftover in self.client.images.find_by_name(name):
            if not self._is_own_leftover(leftover, image_id):
                continue
            LOG.warning('Removing backend image %(id)s left by a failed '
                        'earlier upload of %(name)s',
                        {'id': leftover['extId'], 'name': name})
            self._delete_derived_quietly(leftover['extId'])
            self._discard(leftover['extId'])

    def _delete_derived_quietly(self, image_ext_id):
        try:
            self._delete_derived(image_ext_id)
        except Exception:
            LOG.exception('Could not remove the disk images derived from '
                          'partial Nutanix image %s; remove them by hand',
                          image_ext_id)

    # -- glance_store API -------------------------------------------------

    @driver.back_compat_add
    @capabilities.check
    def add(self, image_id, image_file, image_size, hashing_algo,
            context=None, verifier=None):
        """Stream ``image_file`` into a new Nutanix image.

        Backend calls: v3 POST images (empty image of the sniffed type),
        v3 PUT images/{uuid}/file (streamed, waits for the task), and
        DELETE of the partial image on any failure.  The md5 checksum, the
        ``hashing_algo`` multihash and the verifier see every chunk as it
        goes by.

        :returns: (location URI, bytes written, md5 hex, multihash hex,
            ``{'store': <backend>}`` in multi-store mode else ``{}``)
        :raises: ``Invalid`` when the data is longer or shorter than
            ``image_size`` (0 means unknown), ``StorageFull``,
            ``BackendException`` for cluster errors.
        """
        cluster = self.cluster_ext_id
        what = _('Upload of image %s') % image_id
        progress = streams.ProgressLog(
            'Upload of image %s to Nutanix' % image_id, image_size,
            self.store_conf.nutanix_progress_interval)
        stream = streams.UploadStream(image_file, image_size, hashing_algo,
                                      verifier=verifier,
                                      chunk_size=self.WRITE_CHUNKSIZE,
                                      progress=progress)
        image_type, fmt = formats.backend_image_type(
            stream.head(formats.SNIFF_BYTES))
        self._check_capacity(image_size)
        LOG.debug('Image %(id)s looks like %(fmt)s: uploading it as '
                  '%(type)s', {'id': image_id, 'fmt': fmt,
                               'type': image_type})
        ext_id = self._create_image(image_id, image_type, fmt, cluster, what)
        try:
            self._upload(ext_id, stream, image_size, progress, what)
            if fmt in formats.CLUSTER_CONVERTS:
                self._verify_on_cluster(ext_id, fmt, what)
        except BaseException as exc:
            self._delete_derived_quietly(ext_id)
            self._discard(ext_id)
            # What the stream raised (size mismatch, Glance's reader) is the
            # real cause even when the HTTP layer reported something else.
            if stream.error is not None and stream.error is not exc:
                raise stream.error from exc
            raise
        progress.done(stream.bytes_read)
        return (prism_locations.make_location(cluster, ext_id),
                stream.bytes_read,
                stream.checksum.hexdigest(),
                stream.os_hash.hexdigest(),
                self._location_metadata())

    def _create_image(self, image_id, image_type, fmt, cluster, what):
        """The empty backend image an upload fills; returns its extId.

        Leftovers of a failed earlier add of the same image go first.
        """
        name = prism_locations.glance_image_name(image_id)
        with self._translate_errors(what):
            self._remove_leftovers(name, image_id)
            created = self.client.images.create_for_upload(
                name,
                image_type=image_type,
                description=self._description(image_id, fmt),
                cluster_ext_id=cluster)
        return created['extId']

    def _upload(self, ext_id, stream, image_size, progress, what):
        """Send every byte of ``stream``; the cluster must keep them all."""
        with self._translate_errors(what):
            uploaded = self.client.images.upload(
                ext_id, iter(stream), size=image_size or None,
                progress_callback=progress.task_progress)
        if not stream.finished:
            raise exceptions.BackendException(
                _('%s: the cluster ended the upload before all bytes '
                  'were sent') % what)
        stored = (uploaded or {}).get('sizeBytes')
        if stored is not None and stored != stream.bytes_read:
            raise exceptions.BackendException(
                _('%(what)s: the cluster stored %(stored)d bytes, '
                  '%(sent)d were sent') %
                {'what': what, 'stored': stored,
                 'sent': stream.bytes_read})

    def _location_metadata(self):
        """``{'store': <backend>}`` in multi-store mode, else ``{}``."""
        if self.backend_group:
            return {'store': self.backend_group}
        return {}

    @capabilities.check
    def get(self, location, offset=0, chunk_size=None, context=None):
        """Stream the image bytes, or ``chunk_size`` bytes from ``offset``.

        Glance passes the length of a ranged read as ``chunk_size``.

        Backend calls: GET the image (size, and NotFound before any byte
        is promised), GET ``/content/images/{extId}/file`` with a Range
        header for partial reads.

        :returns: (iterator of bytes, ``chunk_size`` or the image size)
        """
        size = self.get_size(location, context=context)
        ext_id = location.store_location.image_ext_id
        if offset < 0 or (offset and offset >= size):
            raise exceptions.Invalid(
                _('offset %(o)d is outside image %(i)s of %(s)d bytes') %
                {'o': offset, 'i': ext_id, 's': size})
        length = chunk_size
        if length is not None and offset + length > size:
            length = size - offset
        what = _('Download of Nutanix image %s') % ext_id
        with self._translate_errors(what):
            chunks = self.client.images.download(
                ext_id, offset=offset, length=length,
                chunk_size=self.READ_CHUNKSIZE)
        expected = length if length is not None else size - offset
        return (streams.DownloadIterator(chunks,
                                         lambda: self._translate_errors(what),
                                         expected_size=expected),
                chunk_size or size)

    def get_size(self, location, context=None):
        """Size in bytes of the stored image.

        Backend call: one GET of the image metadata (``sizeBytes``).
        """
        ext_id = self._own_image(location)
        with self._translate_errors(_('Nutanix image %s') % ext_id):
            image = self.client.images.get(ext_id)
        return int(image.get('sizeBytes') or 0)

    @capabilities.check
    def delete(self, location, context=None):
        """Delete the image and the raw disk image derived from it.

        Backend calls: GET images filtered by the derived name and DELETE
        it, then DELETE the image.  VMs and volumes cloned from either keep
        their data (clones are copy-on-write on the cluster and outlive
        their source).

        :raises: NotFound if the image does not exist
        """
        ext_id = self._own_image(location)
        # Derived first: if the source delete then fails, nothing is left
        # behind that ensure_disk_image() would not recreate on demand.
        self._delete_derived(ext_id)
        with self._translate_errors(_('Nutanix image %s') % ext_id):
            self.client.images.delete(ext_id)
        LOG.info('Deleted Nutanix image %s', ext_id)
