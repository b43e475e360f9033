"""One exception hierarchy for every failure of the Prism v4 client.

Every exception keeps what an operator needs to find the call on the
cluster side: the HTTP status, the v4 error code (``AppMessage.code``), the
backend message and the ``NTNX-Request-Id`` of the call.  The mapping from
an HTTP response lives in :func:`raise_from_response`; nothing else in the
client inspects status codes for errors.
"""

import json

from nutanix_openstack.prism import paths


class PrismError(Exception):
    """Base of all client errors."""

    status = None

    def __init__(self, message=None, status=None, code=None,
                 request_id=None, details=None, url=None, method=None):
        self.message = message or self.__class__.__name__
        if status is not None:
            self.status = status
        self.code = code
        self.request_id = request_id
        self.details = details or []
        self.url = url
        self.method = method
        super(PrismError, self).__init__(self.message)

    @property
    def entity_kind(self):
        """The ``rel`` of the entity the failed call was about, or None.

        ``paths.REL_VM`` for any call on a VM (its NICs and disks too), so
        that an adapter tells a vanished VM from a missing image or
        volume group without reading the URL itself.
        """
        return paths.entity_kind(self.url)

    def __str__(self):
        parts = [self.message]
        if self.code:
            parts.append('code=%s' % self.code)
        if self.status:
            parts.append('status=%s' % self.status)
        if self.method and self.url:
            parts.append('%s %s' % (self.method, self.url))
        if self.request_id:
            parts.append('request_id=%s' % self.request_id)
        return parts[0] + (' (%s)' % ', '.join(parts[1:])
                           if len(parts) > 1 else '')


class ConfigurationError(PrismError):
    """Invalid client configuration (bad endpoint, missing credentials)."""


class ConnectionFailed(PrismError):
    """No endpoint answered (refused, reset, timed out) after the retries.

    ``maybe_applied`` is True for a write of which at least one attempt
    reached the server before the connection dropped: the server may have
    done it (see :mod:`nutanix_openstack.prism.ambiguous`).
    """

    maybe_applied = False


class UploadNotRetryable(ConnectionFailed):
    """A streamed upload failed after its source was consumed.

    The bytes already read from a one-shot iterator cannot be sent again,
    so the call is not retried; pass a seekable file or a callable that
    returns a fresh iterator to make it retryable.
    """


class HttpError(PrismError):
    """The server answered with an error status."""


class BadRequest(HttpError):
    status = 400


class Unauthorized(HttpError):
    status = 401


class Forbidden(HttpError):
    status = 403


class NotFound(HttpError):
    status = 404


class Conflict(HttpError):
    status = 409


class PreconditionFailed(HttpError):
    """412: the ``If-Match`` ETag is stale (someone changed the entity)."""
    status = 412


class PreconditionRequired(HttpError):
    """428: an update was sent without ``If-Match``."""
    status = 428


class RequestRangeNotSatisfiable(HttpError):
    status = 416


class TooManyRequests(HttpError):
    status = 429


class ServerError(HttpError):
    status = 500


class ServiceUnavailable(ServerError):
    status = 503


class TaskFailed(PrismError):
    """A v4 task ended FAILED or CANCELED; carries the task dict."""

    def __init__(self, message=None, task=None, **kwargs):
        self.task = task or {}
        kwargs.setdefault('details', self.task.get('errorMessages') or [])
        super(TaskFailed, self).__init__(message, **kwargs)

    @property
    def task_ext_id(self):
        return self.task.get('extId')


class TaskTimeout(PrismError):
    """A task did not end within the task timeout."""

    def __init__(self, message=None, task=None, **kwargs):
        self.task = task or {}
        super(TaskTimeout, self).__init__(message, **kwargs)


class UnexpectedResponse(PrismError):
    """A 2xx answer whose body does not have the v4 shape we need."""


_BY_STATUS = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    412: PreconditionFailed,
    416: RequestRangeNotSatisfiable,
    428: PreconditionRequired,
    429: TooManyRequests,
    503: ServiceUnavailable,
}


def _error_messages(body):
    """The list of v4 AppMessage / SchemaValidationError dicts in a body.

    v4 wraps errors as ``{"data": {"error": [...], "$objectType":
    "<ns>.v4.error.ErrorResponse"}}``; ``error`` is a list of ``AppMessage``
    or one ``SchemaValidationError``.  v3 answers carry
    ``message_list``.
    """
    if not isinstance(body, dict):
        return []
    holder = body.get('data') if isinstance(body.get('data'), dict) else body
    err = holder.get('error')
    if isinstance(err, dict):
        err = [err]
    if isinstance(err, list):
        return [e for e in err if isinstance(e, dict)]
    if isinstance(body.get('message_list'), list):   # v3
        return [{'message': m.get('message'), 'code': m.get('reason'),
                 'details': m.get('details')}
                for m in body['message_list'] if isinstance(m, dict)]
    return []


def describe_messages(messages):
    """(message, code) from a list of AppMessage-like dicts."""
    texts = []
    code = None
    for msg in messages:
        text = msg.get('message')
        if not text and msg.get('validationErrorMessages'):
            text = '; '.join(
                '%s: %s' % (v.get('attributePath') or v.get('location'),
                            v.get('message'))
                for v in msg['validationErrorMessages'])
        if not text:
            text = msg.get('error')
        if text:
            texts.append(str(text))
        if code is None:
            code = msg.get('code') or msg.get('statusCode')
    return '; '.join(texts) or None, code


def exception_for_status(status):
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status >= 500:
        return ServerError
    return HttpError


def raise_from_response(response, request_id=None):
    """Raise the exception matching an error ``requests.Response``.

    Does nothing for a 1xx/2xx/3xx answer.
    """
    status = response.status_code
    if status < 400:
        return
    try:
        body = response.json()
    except ValueError:
        body = None
    messages = _error_messages(body)
    message, code = describe_messages(messages)
    if not message:
        text = (response.text or '').strip() if body is None else (
            json.dumps(body)[:500])
        message = text[:500] or response.reason or 'HTTP %d' % status
    request = getattr(response, 'request', None)
    if request_id is None and request is not None:
        request_id = request.headers.get('NTNX-Request-Id')
    if request_id is None:
        request_id = response.headers.get('NTNX-Request-Id')
    cls = exception_for_status(status)
    raise cls(message, status=status, code=code, request_id=request_id,
              details=messages,
              url=getattr(request, 'url', None) or response.url,
              method=getattr(request, 'method', None))


class CoordinationFailed(PrismError):
    """A cross-host lock could not be taken; the operation did not run.

    Raised when the coordination backend (``[coordination] backend_url``,
    etcd in production) is unreachable or a lock was not obtained within
    ``[coordination] lock_timeout``.  Nothing that needed the lock was
    done: it never runs unlocked.
    """
