"""One exception hierarchy for the emulator, rendered by one handler.

Every failure a route wants to report is an :class:`ApiError` carrying the
HTTP status, a message and a Nutanix-style error code.  :func:`register`
installs the single Flask error handler that renders it as the v4 error
body the official SDKs (and our client) parse::

    {"data": {"error": [{"message": ..., "severity": "ERROR",
                         "code": "VMM-20005", "locale": "en_US",
                         "$objectType": "vmm.v4.error.AppMessage"}],
              "$objectType": "vmm.v4.error.ErrorResponse"},
     "metadata": {"flags": [{"name": "hasError", "value": true}, ...]},
     "$objectType": "vmm.v4.error.ErrorResponse"}

The namespace (vmm, volumes, prism, ...) is taken from the request path.
"""

import logging
import re

import flask
from werkzeug import exceptions as wz_exceptions

LOG = logging.getLogger(__name__)

# Namespaces the SDKs ship error models for; anything else (admin API,
# v3 paths) reports with the prism models.
KNOWN_NAMESPACES = ('vmm', 'volumes', 'prism', 'dataprotection',
                    'clustermgmt', 'networking')
_NS_RE = re.compile(r'^/api/([a-z]+)/v4\.')


class ApiError(Exception):
    """An error reported to the caller as a v4 error body."""

    status = 500
    code = 'INTERNAL'
    error_group = 'INTERNAL_ERROR'

    def __init__(self, message, status=None, code=None, error_group=None,
                 headers=None):
        super().__init__(message)
        self.message = message
        # Extra response headers (Content-Range of a 416, ...).
        self.headers = headers or {}
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code
        if error_group is not None:
            self.error_group = error_group


class BadRequest(ApiError):
    status = 400
    code = 'BAD_REQUEST'
    error_group = 'INVALID_INPUT'


class Unauthorized(ApiError):
    status = 401
    code = 'UNAUTHORIZED'
    error_group = 'AUTHENTICATION_FAILED'


class NotFound(ApiError):
    status = 404
    code = 'NOT_FOUND'
    error_group = 'ENTITY_NOT_FOUND'


class Conflict(ApiError):
    status = 409
    code = 'CONFLICT'
    error_group = 'ENTITY_CONFLICT'


class PreconditionFailed(ApiError):
    status = 412
    code = 'PRECONDITION_FAILED'
    error_group = 'ETAG_MISMATCH'


class RangeNotSatisfiable(ApiError):
    status = 416
    code = 'RANGE_NOT_SATISFIABLE'
    error_group = 'INVALID_INPUT'


class PreconditionRequired(ApiError):
    status = 428
    code = 'PRECONDITION_REQUIRED'
    error_group = 'ETAG_REQUIRED'


class InternalError(ApiError):
    status = 500


def namespace_of(path):
    match = _NS_RE.match(path or '')
    if match and match.group(1) in KNOWN_NAMESPACES:
        return match.group(1)
    return 'prism'


def app_message(namespace, message, code, error_group=None):
    """One v4 ``<ns>.v4.error.AppMessage`` dict."""
    msg = {
        'message': message,
        'severity': 'ERROR',
        'code': code,
        'locale': 'en_US',
        '$objectType': '%s.v4.error.AppMessage' % namespace,
        '$reserved': {'$fv': 'v4.r0'},
    }
    if error_group:
        msg['errorGroup'] = error_group
    return msg


def error_body(namespace, message, code, error_group=None):
    """The full v4 error response body for one message."""
    return {
        'data': {
            'error': [app_message(namespace, message, code, error_group)],
            '$objectType': '%s.v4.error.ErrorResponse' % namespace,
            '$reserved': {'$fv': 'v4.r0'},
        },
        'metadata': {
            'flags': [
                {'name': 'hasError', 'value': True,
                 '$objectType': 'common.v1.config.Flag'},
                {'name': 'isPaginated', 'value': False,
                 '$objectType': 'common.v1.config.Flag'},
            ],
            '$objectType': 'common.v1.response.ApiResponseMetadata',
        },
        '$objectType': '%s.v4.error.ErrorResponse' % namespace,
    }


def error_code(namespace, status):
    """A Nutanix-looking code such as ``VMM-40400`` for a status."""
    return '%s-%d00' % (namespace.upper(), status)


def render(error, path=None):
    """Flask response for an :class:`ApiError`."""
    namespace = namespace_of(path if path is not None
                             else flask.request.path)
    code = error.code
    if not code or not code[:1].isalpha() or '-' not in code:
        code = error_code(namespace, error.status)
    body = error_body(namespace, error.message, code, error.error_group)
    response = flask.jsonify(body)
    response.status_code = error.status
    for name, value in getattr(error, 'headers', {}).items():
        response.headers[name] = value
    if error.status == 401:
        response.headers['WWW-Authenticate'] = 'Basic realm="Nutanix"'
    return response


def _handle_api_error(error):
    if error.status >= 500:
        LOG.error("Request %(method)s %(path)s failed: %(msg)s",
                  {'method': flask.request.method,
                   'path': flask.request.path, 'msg': error.message})
    return render(error)


def _handle_http_exception(error):
    # Routing errors (unknown path, wrong method) in the v4 shape too.
    return render(ApiError(error.description or error.name,
                           status=error.code))


def _handle_unexpected(error):
    LOG.exception("Unexpected error in %(method)s %(path)s",
                  {'method': flask.request.method,
                   'path': flask.request.path})
    return render(InternalError('Internal error: %s' % error))


def register(app):
    """Install the one error handler on ``app``."""
    app.register_error_handler(ApiError, _handle_api_error)
    app.register_error_handler(wz_exceptions.HTTPException,
                               _handle_http_exception)
    app.register_error_handler(Exception, _handle_unexpected)
