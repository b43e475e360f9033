"""``/api/vmm/v4.x/content/images`` plus the v3 byte upload."""

import logging
import urllib.parse
import uuid

from oslo_concurrency import lockutils

from nutanix_openstack.prism import ambiguous
from nutanix_openstack.prism import entities
from nutanix_openstack.prism import exceptions as exc
from nutanix_openstack.prism import formats
from nutanix_openstack.prism import locations
from nutanix_openstack.prism import paths
from nutanix_openstack.prism import redact
from nutanix_openstack.prism import session as session_mod
from nutanix_openstack.prism import streams

LOG = logging.getLogger(__name__)


def derived_disk_image_name(ext_id):
    """Name of the raw DISK_IMAGE derived from image ``ext_id``."""
    return locations.DERIVED_IMAGE_PREFIX + ext_id


# Namespace of the NTNX-Request-Id of a derivation (uuid5 of the source
# image's extId): every process and host sends the SAME id for the same
# image, so the cluster treats a second POST as a retry of the first.
_DERIVE_NAMESPACE = uuid.UUID('5b0f3c1e-9a57-4f7e-8d0e-2f3f6c1d7a10')


def derive_request_id(ext_id):
    """The NTNX-Request-Id of the derivation of image ``ext_id``."""
    return str(uuid.uuid5(_DERIVE_NAMESPACE, 'derive-raw-' + ext_id))


def local_lock(name):
    """The default lock of ensure_disk_image: this process only."""
    return lockutils.lock(name)


class ImagesAPI(entities.UpdatableEntitiesAPI):
    """``/api/vmm/v4.x/content/images`` (+ v3 byte upload)."""

    COLLECTION = paths.IMAGES

    def __init__(self, session, tasks, chunk_size=4 * 1024 * 1024,
                 lock=None):
        super().__init__(session, tasks)
        self.chunk_size = chunk_size
        # lock(name) -> context manager; the adapters pass a cross-host
        # one (nutanix_openstack.coordination, or Cinder's coordinator).
        self.lock = lock or local_lock

    # -- creation ---------------------------------------------------------

    def _create(self, body, wait, progress_callback, request_id=None):
        outcome = ambiguous.post_create(self._session, paths.IMAGES, body,
                                        self.find_by_name, body.get('name'),
                                        request_id=request_id)
        if not wait:
            return outcome.task_reference()
        return self.get(outcome.wait(
            self._tasks, paths.REL_IMAGE, self.delete,
            progress_callback=progress_callback))

    @staticmethod
    def _image_body(name, image_type, description, cluster_ext_ids, source):
        body = {'$objectType': 'vmm.v4.content.Image',
                'name': name, 'type': image_type, 'source': source}
        if description is not None:
            body['description'] = description
        if cluster_ext_ids:
            body['clusterLocationExtIds'] = list(cluster_ext_ids)
        return body

    def create_from_url(self, name, url, image_type=formats.DISK_IMAGE,
                        description=None, cluster_ext_ids=None,
                        allow_insecure_url=False, wait=True,
                        progress_callback=None, basic_auth=None,
                        cluster_ext_id=None, request_id=None):
        """POST images with a ``UrlSource``; the server fetches the URL.

        ``basic_auth`` is an optional ``(username, password)`` the server
        uses to fetch the URL (``UrlBasicAuth``).  ``cluster_ext_id`` is a
        shorthand for ``cluster_ext_ids=[cluster_ext_id]``.  ``request_id``
        is the NTNX-Request-Id to send (default: a new one).
        """
        source = {'$objectType': 'vmm.v4.content.UrlSource', 'url': url,
                  'shouldAllowInsecureUrl': bool(allow_insecure_url)}
        if basic_auth and tuple(basic_auth) == tuple(
                self._session.credentials or ()):
            self._check_own_url(url)
        if basic_auth:
            source['basicAuth'] = {
                '$objectType': 'vmm.v4.content.UrlBasicAuth',
                'username': basic_auth[0], 'password': basic_auth[1]}
        return self._create(
            self._image_body(name, image_type, description,
                             _clusters(cluster_ext_ids, cluster_ext_id),
                             source), wait, progress_callback,
            request_id=request_id)

    def copy_as_disk_image(self, ext_id, name, description=None,
                           cluster_ext_ids=None, request_id=None,
                           progress_callback=None):
        """A new raw DISK_IMAGE the cluster makes from image ``ext_id``.

        POST images with a ``UrlSource`` of the image's own ``/file`` URL
        and this client's credentials: the cluster reads its own image (no
        byte leaves it; its certificate may be self-signed) and converts a
        container format to raw.  Both the derived disk of
        :meth:`ensure_disk_image` and the CLI import's copy of raw content
        are made here.  Waits for the task; returns the new image dict.
        """
        return self.create_from_url(
            name, self.file_url(ext_id), image_type=formats.DISK_IMAGE,
            description=description, cluster_ext_ids=cluster_ext_ids,
            allow_insecure_url=True,
            basic_auth=self._session.credentials,
            progress_callback=progress_callback, request_id=request_id)

    def _check_own_url(self, url):
        """Refuse to hand this client's own credentials to a foreign URL.

        The cluster sends ``basicAuth`` to whatever host ``url`` names; the
        Prism credentials may only go back to one of this client's own
        endpoints (same scheme, host and port), never to a third party.
        """
        try:
            target = urllib.parse.urlsplit(url)
            where = (target.scheme, (target.hostname or '').lower(),
                     target.port or session_mod.DEFAULT_PORT)
        except ValueError:
            where = None
        own = set()
        for endpoint in self._session.endpoints:
            parts = urllib.parse.urlsplit(endpoint)
            own.add((parts.scheme, (parts.hostname or '').lower(),
                     parts.port or session_mod.DEFAULT_PORT))
        if where is None or where not in own or target.username:
            raise exc.ConfigurationError(
                'refusing to send the Prism credentials to %s: not an '
                'endpoint of this cluster'
                % redact.strip_userinfo(url))

    def create_from_vm_disk(self, name, vm_ext_id, disk_ext_id,
                            image_type=formats.DISK_IMAGE, description=None,
                            cluster_ext_ids=None, wait=True,
                            progress_callback=None, cluster_ext_id=None):
        """Create an image from a VM disk.

        POST images with a ``VmDiskSource`` (copy-on-write on the
        cluster).  ``cluster_ext_id`` is a shorthand for
        ``cluster_ext_ids=[cluster_ext_id]``.
        """
        source = {'$objectType': 'vmm.v4.content.VmDiskSource',
                  'extId': disk_ext_id, 'vmExtId': vm_ext_id}
        return self._create(
            self._image_body(name, image_type, description,
                             _clusters(cluster_ext_ids, cluster_ext_id),
                             source), wait, progress_callback)

    def create_for_upload(self, name, image_type=formats.DISK_IMAGE,
                          description=None, cluster_ext_id=None):
        """Create an empty image to upload bytes into.

        v3 ``POST /api/nutanix/v3/images`` with no source: an empty image
        whose bytes are then sent with :meth:`upload`.  Returns the image
        dict (v4 GET of the new uuid).
        """
        resources = {'image_type': image_type}
        if cluster_ext_id:
            resources['initial_placement_ref_list'] = [
                {'kind': 'cluster', 'uuid': cluster_ext_id}]
        spec = {'name': name, 'resources': resources}
        if description is not None:
            spec['description'] = description
        # The uuid is chosen here: the v3 API knows no NTNX-Request-Id, so
        # a retried POST whose first attempt made the image answers 409
        # for this uuid instead of making a second image.
        image_uuid = str(uuid.uuid4())
        body = {'api_version': '3.1.0',
                'metadata': {'kind': 'image', 'uuid': image_uuid},
                'spec': spec}
        try:
            resp = self._session.post(paths.V3_IMAGES, body)
        except (exc.Conflict, exc.ConnectionFailed) as error:
            if isinstance(error, exc.UploadNotRetryable) or (
                    isinstance(error, exc.ConnectionFailed) and
                    not error.maybe_applied):
                raise
            return self._made_by_earlier_attempt(image_uuid, name, error)
        made = (resp.get('metadata') or {}).get('uuid')
        if not made:
            raise exc.UnexpectedResponse(
                'v3 image create answered without metadata.uuid: %.300r'
                % (resp,))
        task_uuid = _v3_task_uuid(resp)
        if task_uuid:
            try:
                self._tasks.wait_v3(task_uuid)
            except exc.PrismError:
                self._delete_quietly(made)
                raise
        return self.get(made)

    def _made_by_earlier_attempt(self, image_uuid, name, error):
        """The image an earlier attempt of this create made, or ``error``.

        Polls while the cluster may still be making it.
        """
        for attempt in range(self._session.ambiguous_retries + 1):
            try:
                image = self.get(image_uuid)
            except exc.NotFound:
                image = None
            except exc.ConnectionFailed:
                image = None
            if image is not None:
                if image.get('name') != name:
                    raise error
                LOG.info('Image %(id)s was made by an earlier attempt of '
                         'this create; using it', {'id': image_uuid})
                return image
            self._session._sleep(self._session._backoff(attempt))
        raise error

    def upload(self, ext_id, data_iter, size=None, progress_callback=None):
        """Stream bytes into an image made by create_for_upload.

        v3 ``PUT /api/nutanix/v3/images/{uuid}/file`` streamed
        (octet-stream, chunked when ``size`` is None) from ``data_iter``.
        Waits for the resulting task; returns the image dict.

        ``data_iter`` is an iterator of bytes (sent once: a failure after it
        started raises ``UploadNotRetryable``), a seekable file object or a
        callable returning a fresh iterator (both retried on failure).
        """
        counter = streams.CountingSource(data_iter, size, progress_callback)
        if hasattr(data_iter, 'seek') and hasattr(data_iter, 'read'):
            source = streams.FileSource(data_iter, self.chunk_size, counter)
        elif callable(data_iter):
            source = (lambda: counter.wrap(data_iter()))
        else:
            source = counter.wrap(data_iter)
        headers = {'Content-Type': 'application/octet-stream'}
        resp = self._session.request(
            'PUT', '%s/%s/file' % (paths.V3_IMAGES, ext_id), data=source,
            data_size=size, headers=headers)
        body = {}
        try:
            if resp.content:
                body = resp.json()
        except ValueError:
            body = {}
        finally:
            resp.close()
        task_uuid = _v3_task_uuid(body)
        if task_uuid:
            self._tasks.wait_v3(task_uuid)
        elif isinstance(body.get('data'), dict) and body['data'].get('extId'):
            self._tasks.run(body)
        if progress_callback:
            progress_callback(100)
        return self.get(ext_id)

    # -- read, update and delete: see entities.py; listing also orders --

    def list(self, filter=None, limit=None, orderby=None):
        """All pages, as a list (``$page``/``$limit`` handled here)."""
        return self._session.list_all(paths.IMAGES, filter=filter,
                                      orderby=orderby, limit=limit)

    def _delete_quietly(self, ext_id):
        try:
            self.delete(ext_id)
        except exc.NotFound:
            pass
        except exc.PrismError as e:
            LOG.warning('Could not remove image %(id)s after a failed '
                        'create: %(e)s', {'id': ext_id, 'e': e})

    # -- derived raw images for clones --------------------------------------

    def file_url(self, ext_id):
        """URL of the image bytes on the endpoint currently in use."""
        endpoint = self._session.current_endpoint()
        return '%s%s/%s/file' % (endpoint, paths.IMAGES, ext_id)

    def ensure_disk_image(self, ext_id, progress_callback=None):
        """A raw DISK_IMAGE with the content of an image.

        Return the extId of a bootable raw DISK_IMAGE with the content of
        image ``ext_id``, for copy-on-write clones by Cinder and Nova.

        A DISK_IMAGE is its own answer.  Any other image (the Glance store
        keeps qcow2/vmdk/vhdx bytes as ISO_IMAGE so that Glance gets back
        exactly what it stored) gets a derived DISK_IMAGE named
        ``openstack-raw-<ext_id>`` (see :mod:`.locations`), created ONCE by
        the cluster from the image's own ``/file`` URL (a ``UrlSource``; the
        cluster converts it to raw) and reused by later calls.  The cluster
        lists an image only once its bytes are complete, so a half-made
        derivation is never returned.  The Glance store deletes derived
        images together with their source.

        Concurrent callers, in any process on any host, make ONE derived
        image: the check-then-create runs under ``self.lock`` (a tooz lock
        of ``[coordination] backend_url`` in the drivers; it raises
        CoordinationFailed, and nothing is created, when it cannot be
        taken), and the create carries an NTNX-Request-Id derived from
        ``ext_id`` (:func:`derive_request_id`), so that a caller taking
        over from one that died after its POST joins the task already
        running on the cluster instead of starting a second one.
        """
        image = self.get(ext_id)
        if image.get('type') == formats.DISK_IMAGE:
            return ext_id
        name = derived_disk_image_name(ext_id)
        with self.lock('derived-image-' + ext_id):
            existing = [i for i in self.find_by_name(name)
                        if i.get('type') == formats.DISK_IMAGE]
            if existing:
                return existing[0]['extId']
            LOG.info('Deriving raw DISK_IMAGE %(name)s from image %(id)s',
                     {'name': name, 'id': ext_id})
            try:
                return self._derive_shared(image, name, progress_callback)
            except (exc.TaskFailed, exc.NotFound) as e:
                # The shared id answered with an earlier derivation that
                # failed, or whose image was deleted since: derive afresh.
                LOG.info('Derivation %(rid)s of image %(id)s replayed '
                         '(%(e)s); deriving again with a new request id',
                         {'rid': derive_request_id(ext_id), 'id': ext_id,
                          'e': e})
                return self._derive(image, name, None, progress_callback)

    def _derive_shared(self, image, name, progress_callback):
        """Derive with the image's shared request id.

        A 409 "still being processed" means another process (one without
        our lock, or one that just died) sent the same request a moment
        ago: ask again, with the session's backoff and retry count, until
        the cluster answers with that request's task.
        """
        request_id = derive_request_id(image['extId'])
        attempt = 0
        while True:
            try:
                return self._derive(image, name, request_id,
                                    progress_callback)
            except exc.Conflict:
                if attempt >= self._session.retries:
                    raise
                self._session._sleep(self._session._backoff(attempt))
                attempt += 1

    def _derive(self, image, name, request_id, progress_callback):
        ext_id = image['extId']
        return self.copy_as_disk_image(
            ext_id, name,
            description='Raw disk derived from image %s' % ext_id,
            cluster_ext_ids=image.get('clusterLocationExtIds'),
            request_id=request_id,
            progress_callback=progress_callback)['extId']

    def list_derived(self, ext_id):
        """The derived DISK_IMAGEs of image ``ext_id`` (for deletion)."""
        return self.find_by_name(derived_disk_image_name(ext_id))

    # -- bytes out ------------------------------------------------------------

    def download(self, ext_id, offset=0, length=None, chunk_size=None):
        """Stream the bytes of an image.

        GET ``/content/images/{extId}/file`` with a Range header when
        offset/length ask for part of it; returns an iterator of bytes
        (a :class:`~nutanix_openstack.prism.streams.ByteStream`: close it
        when leaving early).
        """
        if offset < 0 or (length is not None and length < 0):
            raise ValueError('offset and length must not be negative')
        path = '%s/%s/file' % (paths.IMAGES, ext_id)
        if length == 0:
            return iter(())
        return streams.ByteStream(self._session, path, offset, length,
                                  chunk_size or self.chunk_size)


def _clusters(cluster_ext_ids, cluster_ext_id):
    ids = list(cluster_ext_ids or [])
    if cluster_ext_id and cluster_ext_id not in ids:
        ids.append(cluster_ext_id)
    return ids


def _v3_task_uuid(body):
    if not isinstance(body, dict):
        return None
    ctx = (body.get('status') or {}).get('execution_context') or {}
    return ctx.get('task_uuid') or body.get('task_uuid')
