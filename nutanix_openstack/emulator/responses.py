"""Response envelopes, ETags, pagination and the v4 path helper.

Every v4 response is ``{"data": ..., "metadata": {...}, "$objectType":
"<ns>.v4.<module>.<Op>ApiResponse"}``; entities inside ``data`` carry
``$objectType`` and ``$reserved`` so that the official SDKs deserialize
them into the right model classes and copy the ``ETag`` header into
``$reserved`` (the SDK only does that when ``$reserved`` is present).

Helpers here:

* :func:`v4_path` builds a route accepting any ``v4.0``..``v4.4`` version.
* :func:`entity` returns one entity with its ``ETag`` header.
* :func:`listing` applies ``$filter``, ``$orderby``, ``$page`` and
  ``$limit`` and fills ``totalAvailableResults`` and the paging links.
* :func:`check_if_match` enforces ``If-Match`` (428 without, 412 on
  mismatch).
* :func:`task_accepted` is the 202 answer carrying a TaskReference.
"""

import urllib.parse

import flask

from nutanix_openstack.emulator import errors
from nutanix_openstack.emulator import odata

DEFAULT_LIMIT = 50
MAX_LIMIT = 100


def v4_path(namespace, suffix):
    """Flask rule for ``/api/<namespace>/<any v4.0..v4.4>/<suffix>``."""
    return '/api/%s/<v4version:api_version>%s' % (namespace, suffix)


def reserved(etag=None):
    res = {'$fv': 'v4.r0'}
    if etag:
        res['ETag'] = etag
    return res


def _flag(name, value):
    return {'name': name, 'value': value,
            '$objectType': 'common.v1.config.Flag'}


def metadata(paginated=False, total=None, links=None):
    meta = {
        'flags': [_flag('hasError', False), _flag('isPaginated', paginated)],
        '$objectType': 'common.v1.response.ApiResponseMetadata',
        '$reserved': {'$fv': 'v1.r0'},
    }
    if total is not None:
        meta['totalAvailableResults'] = total
    if links:
        meta['links'] = links
    return meta


def envelope(data, object_type, meta=None):
    return {
        'data': data,
        'metadata': meta if meta is not None else metadata(),
        '$objectType': object_type,
        '$reserved': {'$fv': 'v4.r0'},
    }


def json_response(body, status=200, headers=None):
    response = flask.jsonify(body)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def entity(data, object_type, etag=None, status=200):
    """One entity; ``etag`` goes to the ETag header (and ``$reserved``)."""
    data = dict(data)
    data['$reserved'] = dict(data.get('$reserved') or {'$fv': 'v4.r0'})
    headers = {}
    if etag:
        headers['ETag'] = etag
    return json_response(envelope(data, object_type), status, headers)


def _int_arg(name, default, minimum, maximum=None):
    raw = flask.request.args.get(name)
    if raw is None or raw == '':
        return default
    try:
        value = int(raw)
    except ValueError:
        raise errors.BadRequest("Query parameter %s must be an integer, "
                                "got %r" % (name, raw))
    if value < minimum or (maximum is not None and value > maximum):
        raise errors.BadRequest(
            "Query parameter %s must be between %s and %s, got %d"
            % (name, minimum, maximum if maximum is not None else 'inf',
               value))
    return value


def _page_link(page, limit, rel):
    args = flask.request.args.to_dict()
    args['$page'] = str(page)
    args['$limit'] = str(limit)
    href = '%s%s?%s' % (flask.request.host_url.rstrip('/'),
                        flask.request.path, urllib.parse.urlencode(args))
    return {'href': href, 'rel': rel,
            '$objectType': 'common.v1.response.ApiLink'}


def select_items(items):
    """Apply ``$filter`` and ``$orderby`` from the query string."""
    predicate = odata.compile_filter(flask.request.args.get('$filter'))
    items = [i for i in items if predicate(i)]
    return odata.sort_items(items, flask.request.args.get('$orderby'))


def listing(items, object_type):
    """A paginated list response over ``items`` (already-built dicts)."""
    items = select_items(items)
    page = _int_arg('$page', 0, 0)
    limit = _int_arg('$limit', DEFAULT_LIMIT, 1, MAX_LIMIT)
    total = len(items)
    chunk = items[page * limit:(page + 1) * limit]
    last_page = max((total - 1) // limit, 0)
    links = [_page_link(page, limit, 'self'),
             _page_link(0, limit, 'first'),
             _page_link(last_page, limit, 'last')]
    if page > 0:
        links.append(_page_link(page - 1, limit, 'prev'))
    if page < last_page:
        links.append(_page_link(page + 1, limit, 'next'))
    data = []
    for item in chunk:
        item = dict(item)
        item.setdefault('$reserved', {'$fv': 'v4.r0'})
        data.append(item)
    # Like the real API, an empty page has no "data" key at all.
    body = envelope(data, object_type,
                    metadata(paginated=True, total=total, links=links))
    if not data:
        del body['data']
    return json_response(body)


def check_if_match(current_etag):
    """Enforce optimistic concurrency on an update."""
    sent = flask.request.headers.get('If-Match')
    if not sent:
        raise errors.PreconditionRequired(
            "The If-Match header is required for this operation; GET the "
            "entity and send its ETag.")
    if sent.strip() != current_etag:
        raise errors.PreconditionFailed(
            "The entity was modified since it was read (ETag mismatch).")


def task_reference(task_ext_id):
    return {'extId': task_ext_id,
            '$objectType': 'prism.v4.config.TaskReference',
            '$reserved': {'$fv': 'v4.r0'}}


def task_accepted(task_ext_id, object_type):
    """The 202 response of an asynchronous write."""
    return json_response(envelope(task_reference(task_ext_id), object_type),
                         status=202)


def json_body():
    """The request's JSON object, or 400."""
    body = flask.request.get_json(silent=True)
    if not isinstance(body, dict):
        raise errors.BadRequest("Request body must be a JSON object.")
    return body
