"""``/api/vmm/v4.x/content/images`` plus the v3 byte upload."""

import logging

from oslo_concurrency import lockutils
import requests

from nutanix_openstack.prism import exceptions as exc
from nutanix_openstack.prism import paths
from nutanix_openstack.prism import tasks as tasks_mod

LOG = logging.getLogger(__name__)

DISK_IMAGE = 'DISK_IMAGE'
ISO_IMAGE = 'ISO_IMAGE'
DERIVED_PREFIX = 'openstack-raw-'


def derived_disk_image_name(ext_id):
    """Name of the raw DISK_IMAGE derived from image ``ext_id``."""
    return DERIVED_PREFIX + ext_id


def odata_quote(value):
    """A string literal for ``$filter`` (single quotes doubled)."""
    return "'%s'" % str(value).replace("'", "''")


class ByteStream(object):
    """Iterator of the bytes of a streamed download.

    Closes the HTTP response when exhausted, on :meth:`close` or when left
    early (``with`` block or garbage collection).  A connection dropped in
    the middle of the body is resumed with a ``Range`` request from the
    first byte not yet delivered (up to the session's retry count).
    """

    def __init__(self, session, path, offset, length, chunk_size):
        self._session = session
        self._path = path
        self._offset = offset
        self._length = length
        self._chunk_size = chunk_size
        self._delivered = 0
        self._resumes = 0
        self._response = None
        self._iter = None
        self._open()

    def _range_header(self):
        start = self._offset + self._delivered
        if self._length is not None:
            return 'bytes=%d-%d' % (start, self._offset + self._length - 1)
        if start:
            return 'bytes=%d-' % start
        return None

    def _open(self):
        headers = {'Accept': 'application/octet-stream'}
        rng = self._range_header()
        if rng:
            headers['Range'] = rng
        resp = self._session.request('GET', self._path, headers=headers,
                                     stream=True)
        skip = 0
        if resp.status_code == 200 and rng:
            # The server ignored Range: drop what we do not want.
            skip = self._offset + self._delivered
        self._response = resp
        self._iter = self._chunks(resp, skip)

    def _chunks(self, resp, skip):
        # urllib3 1.x does not enforce Content-Length: a connection closed
        # early ends the body silently.  Count the bytes and report a short
        # body as a broken connection, so that it is resumed (or fails).
        expected = resp.headers.get('Content-Length')
        if resp.headers.get('Content-Encoding'):
            expected = None
        received = 0
        for chunk in resp.iter_content(self._chunk_size):
            received += len(chunk)
            if skip:
                if len(chunk) <= skip:
                    skip -= len(chunk)
                    continue
                chunk = chunk[skip:]
                skip = 0
            yield chunk
        if expected is not None and received < int(expected):
            raise requests.exceptions.ChunkedEncodingError(
                'response body ended after %d of %s bytes'
                % (received, expected))

    @property
    def headers(self):
        return self._response.headers if self._response is not None else {}

    def __iter__(self):
        return self

    def __next__(self):
        if self._iter is None:
            raise StopIteration
        while True:
            if (self._length is not None and
                    self._delivered >= self._length):
                self.close()
                raise StopIteration
            try:
                chunk = next(self._iter)
            except StopIteration:
                self.close()
                raise
            except (requests.exceptions.ChunkedEncodingError,
                    requests.exceptions.ConnectionError) as e:
                self._response.close()
                if self._resumes >= self._session.retries:
                    self.close()
                    raise exc.ConnectionFailed(
                        'download of %s broke after %d bytes: %s'
                        % (self._path, self._delivered, e))
                self._resumes += 1
                LOG.info('Download of %(p)s broke after %(n)d bytes, '
                         'resuming with a Range request: %(e)s',
                         {'p': self._path, 'n': self._delivered, 'e': e})
                self._open()
                continue
            if self._length is not None:
                chunk = chunk[:self._length - self._delivered]
            self._delivered += len(chunk)
            return chunk

    def close(self):
        if self._response is not None:
            self._response.close()
        self._iter = None

    def __enter__(self):
        return self

    def __exit__(self, *args):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


class _Counting(object):
    """Counts the bytes an upload source yields, for progress reports."""

    def __init__(self, source, size, callback):
        self.source = source
        self.size = size
        self.callback = callback
        self.sent = 0

    def wrap(self, iterable):
        last = None
        for chunk in iterable:
            self.sent += len(chunk)
            if self.callback and self.size:
                pct = min(99, self.sent * 100 // self.size)
                if pct != last:
                    last = pct
                    self.callback(pct)
            yield chunk


class ImagesAPI(object):
    """``/api/vmm/v4.x/content/images`` (+ v3 byte upload)."""

    def __init__(self, session, tasks, chunk_size=4 * 1024 * 1024):
        self._session = session
        self._tasks = tasks
        self.chunk_size = chunk_size

    # -- creation ---------------------------------------------------------

    def _create(self, body, wait, progress_callback):
        resp = self._session.post(paths.IMAGES, body)
        if not wait:
            return {'extId': tasks_mod.task_ext_id(resp)}
        task = self._tasks.run(resp, progress_callback=progress_callback)
        return self.get(tasks_mod.created_ext_id(task, paths.REL_IMAGE))

    @staticmethod
    def _image_body(name, image_type, description, cluster_ext_ids, source):
        body = {'$objectType': 'vmm.v4.content.Image',
                'name': name, 'type': image_type, 'source': source}
        if description is not None:
            body['description'] = description
        if cluster_ext_ids:
            body['clusterLocationExtIds'] = list(cluster_ext_ids)
        return body

    def create_from_url(self, name, url, image_type=DISK_IMAGE,
                        description=None, cluster_ext_ids=None,
                        allow_insecure_url=False, wait=True,
                        progress_callback=None, basic_auth=None,
                        cluster_ext_id=None):
        """POST images with a ``UrlSource``; the server fetches the URL.

        ``basic_auth`` is an optional ``(username, password)`` the server
        uses to fetch the URL (``UrlBasicAuth``).  ``cluster_ext_id`` is a
        shorthand for ``cluster_ext_ids=[cluster_ext_id]``.
        """
        source = {'$objectType': 'vmm.v4.content.UrlSource', 'url': url,
                  'shouldAllowInsecureUrl': bool(allow_insecure_url)}
        if basic_auth:
            source['basicAuth'] = {
                '$objectType': 'vmm.v4.content.UrlBasicAuth',
                'username': basic_auth[0], 'password': basic_auth[1]}
        return self._create(
            self._image_body(name, image_type, description,
                             _clusters(cluster_ext_ids, cluster_ext_id),
                             source), wait, progress_callback)

    def create_from_vm_disk(self, name, vm_ext_id, disk_ext_id,
                            image_type=DISK_IMAGE, description=None,
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

    def create_for_upload(self, name, image_type=DISK_IMAGE,
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
        body = {'api_version': '3.1.0', 'metadata': {'kind': 'image'},
                'spec': spec}
        resp = self._session.post(paths.V3_IMAGES, body)
        uuid = (resp.get('metadata') or {}).get('uuid')
        if not uuid:
            raise exc.UnexpectedResponse(
                'v3 image create answered without metadata.uuid: %.300r'
                % (resp,))
        task_uuid = _v3_task_uuid(resp)
        if task_uuid:
            try:
                self._tasks.wait_v3(task_uuid)
            except exc.PrismError:
                self._delete_quietly(uuid)
                raise
        return self.get(uuid)

    def upload(self, ext_id, data_iter, size=None, progress_callback=None):
        """Stream bytes into an image made by create_for_upload.

        v3 ``PUT /api/nutanix/v3/images/{uuid}/file`` streamed
        (octet-stream, chunked when ``size`` is None) from ``data_iter``.
        Waits for the resulting task; returns the image dict.

        ``data_iter`` is an iterator of bytes (sent once: a failure after it
        started raises ``UploadNotRetryable``), a seekable file object or a
        callable returning a fresh iterator (both retried on failure).
        """
        counter = _Counting(data_iter, size, progress_callback)
        if hasattr(data_iter, 'seek') and hasattr(data_iter, 'read'):
            source = _FileSource(data_iter, self.chunk_size, counter)
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

    # -- read / update / delete ------------------------------------------

    def get(self, ext_id):
        return self._session.get_data('%s/%s' % (paths.IMAGES, ext_id))

    def list(self, filter=None, limit=None, orderby=None):
        """All pages, as a list (``$page``/``$limit`` handled here)."""
        return self._session.list_all(paths.IMAGES, filter=filter,
                                      orderby=orderby, limit=limit)

    def find_by_name(self, name):
        return [i for i in self.list(filter='name eq %s' % odata_quote(name))
                if i.get('name') == name]

    def update(self, ext_id, **fields):
        """GET for the ETag, then PUT with ``If-Match``."""
        def mutate(data):
            data.update(fields)
            return data
        resp = self._session.update('%s/%s' % (paths.IMAGES, ext_id), mutate)
        self._tasks.run(resp)
        return self.get(ext_id)

    def delete(self, ext_id, wait=True):
        resp = self._session.conditional('DELETE',
                                         '%s/%s' % (paths.IMAGES, ext_id))
        return self._tasks.run(resp, wait=wait)

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
        ``derived_disk_image_name(ext_id)``, created ONCE by the cluster
        from the image's own ``/file`` URL (a ``UrlSource``; the cluster
        converts it to raw) and reused by later calls; concurrent callers
        in one process create it once (a lock per image).  The Glance store
        deletes derived images together with their source.
        """
        image = self.get(ext_id)
        if image.get('type') == DISK_IMAGE:
            return ext_id
        name = derived_disk_image_name(ext_id)
        with lockutils.lock('nutanix-derived-image-' + ext_id):
            existing = [i for i in self.find_by_name(name)
                        if i.get('type') == DISK_IMAGE]
            if existing:
                return existing[0]['extId']
            LOG.info('Deriving raw DISK_IMAGE %(name)s from image %(id)s',
                     {'name': name, 'id': ext_id})
            # The cluster fetches its own URL: same credentials, and its
            # own (possibly self-signed) certificate.
            derived = self.create_from_url(
                name, self.file_url(ext_id), image_type=DISK_IMAGE,
                description='Raw disk derived from image %s' % ext_id,
                cluster_ext_ids=image.get('clusterLocationExtIds'),
                allow_insecure_url=True,
                basic_auth=self._session.credentials,
                progress_callback=progress_callback)
            return derived['extId']

    def list_derived(self, ext_id):
        """The derived DISK_IMAGEs of image ``ext_id`` (for deletion)."""
        return self.find_by_name(derived_disk_image_name(ext_id))

    # -- bytes out ------------------------------------------------------------

    def download(self, ext_id, offset=0, length=None, chunk_size=None):
        """Stream the bytes of an image.

        GET ``/content/images/{extId}/file`` with a Range header when
        offset/length ask for part of it; returns an iterator of bytes
        (a :class:`ByteStream`: close it when leaving early).
        """
        if offset < 0 or (length is not None and length < 0):
            raise ValueError('offset and length must not be negative')
        path = '%s/%s/file' % (paths.IMAGES, ext_id)
        if length == 0:
            return iter(())
        return ByteStream(self._session, path, offset, length,
                          chunk_size or self.chunk_size)


class _FileSource(object):
    """A seekable file as a re-readable upload source."""

    def __init__(self, fileobj, chunk_size, counter):
        self._file = fileobj
        self._start = fileobj.tell()
        self._chunk_size = chunk_size
        self._counter = counter

    def __call__(self):
        self._file.seek(self._start)
        self._counter.sent = 0
        return self._counter.wrap(
            iter(lambda: self._file.read(self._chunk_size), b''))


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
