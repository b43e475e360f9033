"""Images: ``/api/vmm/v4.x/content/images`` and the v3 byte upload.

v4: create (``UrlSource``: the emulator fetches the URL itself in the task;
``VmDiskSource``: copy-on-write clone of the VM disk), get, list, update
(ETag), delete, ``GET .../{extId}/file`` (Range aware).

v3 (v4 has no byte upload):

* ``POST /api/nutanix/v3/images`` with a spec and no source creates an
  empty image and answers 202 with the v3 intent body (``metadata.uuid``,
  ``status.execution_context.task_uuid``).
* ``PUT /api/nutanix/v3/images/{uuid}/file`` streams the request body
  (chunked or sized) into the disk store.  The bytes are received during
  the request; the post-processing (format conversion, size update) runs
  as a task and the answer is 202 with the same v3 shape carrying its
  ``task_uuid``.  (Real clusters answer this call without documenting a
  body; a client that ignores the body and polls the image works too.)

An image's bytes live in the disk store under the image extId.
"""

import threading
import uuid

import flask

from nutanix_openstack.emulator import backend
from nutanix_openstack.emulator import downloads
from nutanix_openstack.emulator import errors
from nutanix_openstack.emulator import image_import
from nutanix_openstack.emulator import input_limits
from nutanix_openstack.emulator import responses
from nutanix_openstack.emulator import tasks
from nutanix_openstack.emulator import url_policy

blueprint = flask.Blueprint('images', __name__)

KIND = 'image'
REL = 'vmm:content:image'
TYPES = ('DISK_IMAGE', 'ISO_IMAGE')
IMAGES = responses.v4_path('vmm', '/content/images')
V3_IMAGES = '/api/nutanix/v3/images'
URL_SOURCE = 'vmm.v4.content.UrlSource'
VM_DISK_SOURCE = 'vmm.v4.content.VmDiskSource'
UPDATABLE = ('name', 'description', 'type', 'categoryExtIds',
             'clusterLocationExtIds', 'checksum')

# Image extIds with an upload in progress (one at a time per image).
_uploading = set()
_uploading_lock = threading.Lock()


def _not_found(ext_id):
    return errors.NotFound("Image %s does not exist." % ext_id,
                           code='VMM-40401')


def _get_record(ext_id):
    return backend.get().state.require_record(KIND, ext_id, _not_found)


def _new_image(ext_id, name, image_type, description=None, source=None,
               cluster_ext_ids=None, checksum=None):
    be = backend.get()
    now = tasks.now_iso()
    body = {
        'extId': ext_id,
        'name': name,
        'type': image_type,
        'sizeBytes': 0,
        'clusterLocationExtIds': (cluster_ext_ids or
                                  [be.inventory.cluster_ext_id]),
        'categoryExtIds': [],
        'createTime': now,
        'lastUpdateTime': now,
        'ownerExtId': '00000000-0000-0000-0000-000000000000',
        'ownerName': be.opts.username,
        '$objectType': 'vmm.v4.content.Image',
    }
    if description is not None:
        body['description'] = description
    if source is not None:
        body['source'] = source
    if checksum:
        body['checksum'] = checksum
    return body


def _validate_common(body):
    name = input_limits.check_name(body.get('name'), code='VMM-40001')
    image_type = body.get('type')
    if image_type not in TYPES:
        raise errors.BadRequest("Image type must be one of %s, got %r."
                                % (', '.join(TYPES), image_type),
                                code='VMM-40002')
    clusters = body.get('clusterLocationExtIds')
    if clusters:
        state = backend.get().state
        for cluster_ext_id in clusters:
            if state.get('cluster', cluster_ext_id) is None:
                raise errors.NotFound("Cluster %s does not exist."
                                      % cluster_ext_id, code='VMM-40402')
    return name, image_type


def _find_vm_disk(be, vm_ext_id, disk_ext_id):
    """The VM holding disk ``disk_ext_id`` (in VM ``vm_ext_id`` if given).

    Takes the backend rather than looking it up, because a task thread
    checks again outside the request context.
    """
    state = be.state
    vms = ([state.get('vm', vm_ext_id)] if vm_ext_id
           else state.list('vm'))
    if vm_ext_id and vms[0] is None:
        raise errors.NotFound("VM %s does not exist." % vm_ext_id,
                              code='VMM-40403')
    for vm in vms:
        for disk in vm.get('disks') or []:
            if disk.get('extId') == disk_ext_id:
                return vm
    raise errors.NotFound("VM disk %s does not exist%s." % (
        disk_ext_id, ' in VM %s' % vm_ext_id if vm_ext_id else ''),
        code='VMM-40404')


def _public_source(source):
    """The source as stored and shown: never the URL password."""
    source = dict(source)
    if isinstance(source.get('url'), str):
        source['url'] = image_import.safe_url(source['url'])
    auth = source.get('basicAuth')
    if isinstance(auth, dict):
        source['basicAuth'] = {k: v for k, v in auth.items()
                               if k != 'password'}
    return source


def _finish_import(be, ext_id, image, ctx):
    """Convert if needed, record the size and store the image."""
    if image['type'] == 'DISK_IMAGE':
        image_import.convert_to_raw_if_needed(
            be.disks, ext_id, be.tmp_dir, be.opts.qemu_img,
            be.opts.qemu_img_timeout)
    ctx.progress(95)
    image['sizeBytes'] = be.disks.size(ext_id)
    image['lastUpdateTime'] = tasks.now_iso()
    with be.state.transaction():
        # Complete now: from here on a crash keeps it (reconcile.py).
        be.state.put(KIND, ext_id, image)
        be.state.end_in_flight(KIND, ext_id)


@blueprint.route(IMAGES, methods=['POST'])
def create_image():
    be = backend.get()
    body = responses.json_body()
    name, image_type = _validate_common(body)
    source = body.get('source')
    if not isinstance(source, dict):
        raise errors.BadRequest("Image source is required.",
                                code='VMM-40003')
    kind = source.get('$objectType')
    ext_id = str(uuid.uuid4())
    image = _new_image(ext_id, name, image_type, body.get('description'),
                       _public_source(source),
                       body.get('clusterLocationExtIds'),
                       body.get('checksum'))
    if kind == URL_SOURCE:
        url = source.get('url')
        if not isinstance(url, str) or '://' not in url:
            raise errors.BadRequest("UrlSource needs a valid url.",
                                    code='VMM-40004')
        allow_local = be.opts.allow_local_url_sources
        # Refused at once (400) rather than in the task; checked again,
        # with every redirect, when the task fetches it.
        url_policy.check_url(url, allow_local,
                             shown=image_import.safe_url(url))

        def work(ctx):
            be.state.begin_in_flight(KIND, ext_id, 'import', [ext_id])
            be.disks.create(ext_id, 0)
            try:
                image_import.fetch_url_into_disk(
                    be.disks, ext_id, url, source.get('basicAuth'),
                    bool(source.get('shouldAllowInsecureUrl')),
                    be.opts.url_fetch_timeout, ctx.progress,
                    body.get('checksum'), allow_local=allow_local)
                _finish_import(be, ext_id, image, ctx)
            except BaseException:
                # No orphaned bytes when the import fails.
                if be.disks.exists(ext_id):
                    be.disks.delete(ext_id)
                be.state.end_in_flight(KIND, ext_id)
                raise
    elif kind == VM_DISK_SOURCE:
        disk_ext_id = source.get('extId')
        if not disk_ext_id:
            raise errors.BadRequest("VmDiskSource needs the disk extId.",
                                    code='VMM-40005')
        _find_vm_disk(be, source.get('vmExtId'), disk_ext_id)

        def work(ctx):
            # Checked again: the VM may have gone while the task queued.
            _find_vm_disk(be, source.get('vmExtId'), disk_ext_id)
            if not be.disks.exists(disk_ext_id):
                raise errors.NotFound("VM disk %s has no data."
                                      % disk_ext_id, code='VMM-40404')
            be.disks.clone(disk_ext_id, ext_id)
            try:
                ctx.progress(50)
                image['sizeBytes'] = be.disks.size(ext_id)
                be.state.put(KIND, ext_id, image)
            except BaseException:
                be.disks.delete(ext_id)
                raise
    else:
        raise errors.BadRequest(
            "Unsupported image source %r (expected %s or %s)."
            % (kind, URL_SOURCE, VM_DISK_SOURCE), code='VMM-40006')
    task_id = be.tasks.submit('CreateImage', work,
                              [(ext_id, REL, name)],
                              description='Create image %s' % name)
    return responses.task_accepted(task_id,
                                   'vmm.v4.content.CreateImageApiResponse')


@blueprint.route(IMAGES, methods=['GET'])
def list_images():
    return responses.listing(backend.get().state.list(KIND),
                             'vmm.v4.content.ListImagesApiResponse')


@blueprint.route(IMAGES + '/<ext_id>', methods=['GET'])
def get_image(ext_id):
    record = _get_record(ext_id)
    return responses.entity(record.body, 'vmm.v4.content.GetImageApiResponse',
                            etag=record.etag)


@blueprint.route(IMAGES + '/<ext_id>', methods=['PUT'])
def update_image(ext_id):
    be = backend.get()
    body = responses.json_body()
    with be.state.transaction():
        record = _get_record(ext_id)
        responses.check_if_match(record.etag)
        merged = dict(record.body)
        for field in UPDATABLE:
            if field in body:
                merged[field] = body[field]
        _validate_common(merged)
        merged['lastUpdateTime'] = tasks.now_iso()
        be.state.put(KIND, ext_id, merged)
    task_id = be.tasks.submit('UpdateImage', lambda ctx: None,
                              [(ext_id, REL, merged['name'])],
                              description='Update image %s' % ext_id)
    return responses.task_accepted(task_id,
                                   'vmm.v4.content.UpdateImageApiResponse')


@blueprint.route(IMAGES + '/<ext_id>', methods=['DELETE'])
def delete_image(ext_id):
    be = backend.get()
    record = _get_record(ext_id)

    def work(ctx):
        with be.state.transaction():
            if not be.state.delete(KIND, ext_id):
                raise _not_found(ext_id)
            be.state.end_in_flight(KIND, ext_id)
        if be.disks.exists(ext_id):
            be.disks.delete(ext_id)

    task_id = be.tasks.submit('DeleteImage', work,
                              [(ext_id, REL, record.body.get('name'))],
                              description='Delete image %s' % ext_id)
    return responses.task_accepted(task_id,
                                   'vmm.v4.content.DeleteImageApiResponse')


def _parse_range(header, size):
    """(start, end_inclusive) of a single ``bytes=`` range, or None."""
    if not header or not header.startswith('bytes='):
        return None
    spec = header[len('bytes='):].strip()
    if ',' in spec:
        # Multipart ranges are not served: the whole body is.
        return None
    first, _, last = spec.partition('-')
    try:
        if first == '':
            suffix = int(last)
            if suffix <= 0:
                raise errors.RangeNotSatisfiable("Invalid range %s" % header)
            start, end = max(size - suffix, 0), size - 1
        else:
            start = int(first)
            end = int(last) if last else size - 1
    except ValueError:
        return None
    if start >= size or end < start:
        raise errors.RangeNotSatisfiable(
            "Range %s not satisfiable for %d bytes" % (header, size),
            code='VMM-41600')
    return start, min(end, size - 1)


@blueprint.route(IMAGES + '/<ext_id>/file', methods=['GET'])
def download_image(ext_id):
    be = backend.get()
    image = _get_record(ext_id).body
    if not be.disks.exists(ext_id):
        raise errors.NotFound("Image %s has no data." % ext_id,
                              code='VMM-40405')
    size = be.disks.size(ext_id)
    headers = {'Accept-Ranges': 'bytes',
               # Never the raw name: it may hold CR/LF, quotes or "../".
               'Content-Disposition': 'attachment; filename="%s"'
               % input_limits.download_filename(image.get('name'), ext_id)}
    try:
        byte_range = _parse_range(flask.request.headers.get('Range'), size)
    except errors.RangeNotSatisfiable as exc:
        exc.headers['Content-Range'] = 'bytes */%d' % size
        raise
    status = 200
    start, length = 0, size
    if byte_range is not None:
        start, end = byte_range
        length = end - start + 1
        status = 206
        headers['Content-Range'] = 'bytes %d-%d/%d' % (start, end, size)
    headers['Content-Length'] = str(length)
    body = downloads.DiskBody(
        be.disks.iter_extents(ext_id, start, length),
        flask.request.environ.get(downloads.SOCKET_KEY)) if length else ()
    return flask.Response(body, status=status, headers=headers,
                          mimetype='application/octet-stream',
                          direct_passthrough=True)


# -- v3 ---------------------------------------------------------------------

def _v3_body(image, spec, task_uuid, state='PENDING'):
    return {
        'api_version': '3.1',
        'metadata': {
            'kind': 'image',
            'uuid': image['extId'],
            'spec_version': 0,
            'creation_time': image['createTime'],
            'last_update_time': image['lastUpdateTime'],
        },
        'spec': spec,
        'status': {
            'state': state,
            'name': image['name'],
            'resources': {'image_type': image['type'],
                          'size_bytes': image.get('sizeBytes', 0)},
            'execution_context': {'task_uuid': task_uuid},
        },
    }


@blueprint.route(V3_IMAGES, methods=['POST'])
def create_image_v3():
    be = backend.get()
    body = responses.json_body()
    spec = body.get('spec')
    if not isinstance(spec, dict):
        raise errors.BadRequest("spec is required.")
    resources = spec.get('resources') or {}
    if resources.get('source_uri') or resources.get('data_source_reference'):
        raise errors.BadRequest("This emulator's v3 image create only "
                                "makes empty images for an upload; use the "
                                "v4 API for sources.")
    clusters = [ref.get('uuid') for ref in
                resources.get('initial_placement_ref_list') or []
                if ref.get('uuid')]
    ext_id = (body.get('metadata') or {}).get('uuid') or str(uuid.uuid4())
    if be.state.get(KIND, ext_id) is not None:
        raise errors.Conflict("Image %s already exists." % ext_id)
    image = _new_image(ext_id, spec.get('name'),
                       resources.get('image_type', 'DISK_IMAGE'),
                       spec.get('description'),
                       cluster_ext_ids=clusters or None)
    _validate_common(image)

    def work(ctx):
        be.disks.create(ext_id, 0)
        try:
            with be.state.transaction():
                # Empty until its upload completes: a crash before that
                # removes it (reconcile.py), no 0-byte image survives.
                be.state.put(KIND, ext_id, image)
                be.state.begin_in_flight(KIND, ext_id, 'upload', [ext_id])
        except BaseException:
            be.disks.delete(ext_id)
            raise

    task_id = be.tasks.submit('CreateImage', work,
                              [(ext_id, REL, image['name'])],
                              description='Create image %s' % image['name'])
    return responses.json_response(
        _v3_body(image, spec, tasks.task_uuid(task_id)), status=202)


@blueprint.route(V3_IMAGES + '/<ext_id>/file', methods=['PUT'])
def upload_image_v3(ext_id):
    be = backend.get()
    image = _get_record(ext_id).body
    expected = input_limits.declared_length()
    with _uploading_lock:
        if ext_id in _uploading:
            raise errors.Conflict("An upload to image %s is in progress."
                                  % ext_id)
        _uploading.add(ext_id)
    try:
        # The image is incomplete until this upload's task succeeds.
        be.state.begin_in_flight(KIND, ext_id, 'upload', [ext_id])
        # A fresh disk: an upload replaces whatever was there.
        if be.disks.exists(ext_id):
            be.disks.delete(ext_id)
        be.disks.create(ext_id, 0)
        stream = flask.request.stream
        try:
            received = be.disks.write_reader(ext_id, stream, 0, grow=True)
        except Exception as exc:
            be.disks.delete(ext_id)
            be.disks.create(ext_id, 0)
            raise errors.BadRequest("Upload of image %s failed: %s"
                                    % (ext_id, exc))
        if expected is not None and received != expected:
            be.disks.delete(ext_id)
            be.disks.create(ext_id, 0)
            raise errors.BadRequest(
                "Upload of image %s incomplete: %d of %d bytes"
                % (ext_id, received, expected))
    finally:
        with _uploading_lock:
            _uploading.discard(ext_id)

    def work(ctx):
        current = be.state.get(KIND, ext_id)
        if current is None:
            raise _not_found(ext_id)
        try:
            _finish_import(be, ext_id, current, ctx)
        except BaseException:
            # A failed conversion leaves the image empty, not half-made.
            be.disks.delete(ext_id)
            be.disks.create(ext_id, 0)
            raise

    task_id = be.tasks.submit('UploadImage', work,
                              [(ext_id, REL, image['name'])],
                              description='Upload image %s' % ext_id)
    spec = {'name': image['name'],
            'resources': {'image_type': image['type']}}
    return responses.json_response(
        _v3_body(image, spec, tasks.task_uuid(task_id)), status=202)
