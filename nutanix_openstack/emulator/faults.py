"""Injected faults, realistic on the wire.

A fault matches requests by method (optional) and a regex searched in the
path, and does one or more of:

* ``latency``: sleep that many seconds before handling the request;
* ``status``: answer with that HTTP status and a v4 error body instead of
  handling the request; with ``retry_after`` (seconds) the answer carries
  a ``Retry-After`` header, as a busy cluster's 429/503 does;
* ``drop_after_bytes``: handle the request, send the status line, the
  headers (with the real Content-Length) and only the first N bytes of the
  body, then shut the TCP connection down: the client sees a genuinely
  truncated response;
* ``fail_task``: the next task(s) whose operation (or the request path
  that submitted it) matches fail with this message.

``times`` limits how many requests (or tasks) a fault applies to; None
means until cleared.  The admin API paths are never faulted, and neither
is a request that fails authentication: it is answered 401 and leaves the
fault for the next authenticated request.  Every field is validated when
the fault is added (a bad one is a 400, never a fault that breaks later
requests).
"""

import logging
import math
import re
import socket
import threading
import time
import uuid

from nutanix_openstack.emulator import downloads
from nutanix_openstack.emulator import errors

LOG = logging.getLogger(__name__)

ADMIN_PREFIX = '/_emulator/'
METHODS = ('GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS')
# Longest injected latency or Retry-After: long enough for any timeout
# test, short enough that a typo does not hang the emulator for days.
MAX_SECONDS = 600
MAX_TEXT = 1024


def _number(name, value, maximum):
    """A finite number of seconds in [0, maximum], or 400."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            not math.isfinite(value) or not 0 <= value <= maximum:
        raise errors.BadRequest("Fault %s must be a number of seconds from "
                                "0 to %d, got %r" % (name, maximum, value))
    return float(value)


def _integer(name, value, minimum, maximum):
    if isinstance(value, bool) or not isinstance(value, int) or \
            not minimum <= value <= maximum:
        raise errors.BadRequest("Fault %s must be an integer from %d to %d, "
                                "got %r" % (name, minimum, maximum, value))
    return value


def _text(name, value):
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise errors.BadRequest("Fault %s must be a string of at most %d "
                                "characters" % (name, MAX_TEXT))
    return value


class Fault(object):

    def __init__(self, path='.*', method=None, status=None, latency=None,
                 drop_after_bytes=None, fail_task=None, times=None,
                 message=None, retry_after=None):
        path = _text('path', path) if path is not None else '.*'
        try:
            self.path_re = re.compile(path or '.*')
        except re.error as exc:
            raise errors.BadRequest("Invalid fault path regex: %s" % exc)
        if method is not None:
            method = _text('method', method).upper()
            if method not in METHODS:
                raise errors.BadRequest("Fault method must be one of %s"
                                        % ', '.join(METHODS))
        if status is not None:
            status = _integer('status', status, 400, 599)
        if retry_after is not None:
            if status is None:
                raise errors.BadRequest("Fault retry_after needs a status")
            retry_after = int(_number('retry_after', retry_after,
                                      MAX_SECONDS))
        if latency is not None:
            latency = _number('latency', latency, MAX_SECONDS)
        if drop_after_bytes is not None:
            drop_after_bytes = _integer('drop_after_bytes', drop_after_bytes,
                                        0, 2 ** 62)
        if fail_task is True:
            # "just fail it": a message of our own.
            fail_task = 'Injected task failure'
        elif fail_task is False:
            fail_task = None
        elif fail_task is not None:
            fail_task = _text('fail_task', fail_task)
        if times is not None:
            times = _integer('times', times, 1, 10 ** 6)
        if message is not None:
            message = _text('message', message)
        if not any(v is not None for v in (status, latency,
                                           drop_after_bytes, fail_task)):
            raise errors.BadRequest(
                "A fault needs status, latency, drop_after_bytes or "
                "fail_task")
        self.id = str(uuid.uuid4())
        self.path = path or '.*'
        self.method = method
        self.status = status
        self.retry_after = retry_after
        self.latency = latency
        self.drop_after_bytes = drop_after_bytes
        self.fail_task = fail_task
        self.times = times
        self.message = message or 'Injected fault'
        self.hits = 0

    def to_dict(self):
        return {'id': self.id, 'path': self.path, 'method': self.method,
                'status': self.status, 'retry_after': self.retry_after,
                'latency': self.latency,
                'drop_after_bytes': self.drop_after_bytes,
                'fail_task': self.fail_task, 'times': self.times,
                'hits': self.hits}

    def is_request_fault(self):
        return any(v is not None for v in (self.status, self.latency,
                                           self.drop_after_bytes))

    def matches(self, method, path):
        if self.method and self.method != method.upper():
            return False
        return bool(self.path_re.search(path))


class FaultRegistry(object):
    """Thread-safe list of active faults."""

    def __init__(self):
        self._faults = []
        self._lock = threading.Lock()
        # The path of the request being handled, per thread, so that a
        # task submitted in immediate mode can match fail_task faults by
        # path as well as by operation.
        self._local = threading.local()

    def add(self, **kwargs):
        fault = Fault(**kwargs)
        with self._lock:
            self._faults.append(fault)
        LOG.info("Fault added: %s", fault.to_dict())
        return fault

    def clear(self):
        with self._lock:
            self._faults = []

    def list(self):
        with self._lock:
            return [f.to_dict() for f in self._faults]

    def _consume(self, fault):
        # Called with the lock held.
        fault.hits += 1
        if fault.times is not None:
            fault.times -= 1
            if fault.times <= 0:
                self._faults.remove(fault)

    def take_request_fault(self, method, path):
        """The first request fault matching, consumed once; or None."""
        if path.startswith(ADMIN_PREFIX):
            return None
        with self._lock:
            for fault in self._faults:
                if fault.is_request_fault() and fault.matches(method, path):
                    self._consume(fault)
                    return fault
        return None

    def take_task_fault(self, operation):
        """Message of a fail_task fault matching this task, or None.

        A fault matches when its regex is found in the task operation or
        in the path of the request that submitted the task (its method, if
        set, must be that request's).
        """
        method, path = getattr(self._local, 'request', (None, ''))
        with self._lock:
            for fault in self._faults:
                if fault.fail_task is None:
                    continue
                if fault.method and method and fault.method != method:
                    continue
                if fault.path_re.search(operation or '') or (
                        path and fault.path_re.search(path)):
                    self._consume(fault)
                    return fault.fail_task
        return None

    def set_current_request(self, method, path):
        self._local.request = (method, path)


class FaultMiddleware(object):
    """WSGI middleware applying request faults around the Flask app."""

    def __init__(self, app, registry, render_error, authenticated=None):
        self.app = app
        self.registry = registry
        # render_error(environ, status, message, headers) -> WSGI app
        # answering with a v4 error body.
        self.render_error = render_error
        # authenticated(environ) -> bool: faults apply only to requests
        # that pass authentication (the app answers the others 401).
        self.authenticated = authenticated

    def __call__(self, environ, start_response):
        method = environ.get('REQUEST_METHOD', 'GET')
        path = environ.get('PATH_INFO', '')
        self.registry.set_current_request(method, path)
        if self.authenticated is not None and \
                not self.authenticated(environ):
            return self.app(environ, start_response)
        fault = self.registry.take_request_fault(method, path)
        if fault is None:
            return self.app(environ, start_response)
        LOG.info("Applying fault %(id)s to %(method)s %(path)s",
                 {'id': fault.id, 'method': method, 'path': path})
        if fault.latency:
            time.sleep(fault.latency)
        if fault.status is not None:
            headers = {}
            if fault.retry_after is not None:
                headers['Retry-After'] = str(fault.retry_after)
            app = self.render_error(environ, fault.status, fault.message,
                                    headers)
        else:
            app = self.app
        if fault.drop_after_bytes is None:
            return app(environ, start_response)
        return self._dropping(app, environ, start_response,
                              fault.drop_after_bytes)

    @staticmethod
    def _dropping(app, environ, start_response, limit):
        # Bodies must come through here to be counted, not be sent by
        # the app itself (zero-copy downloads).
        environ.pop(downloads.SOCKET_KEY, None)
        take_connection = environ.get(downloads.CONNECTION_KEY)
        body_iter = app(environ, start_response)
        sent = 0
        try:
            for chunk in body_iter:
                if sent + len(chunk) >= limit:
                    yield chunk[:limit - sent]
                    break
                sent += len(chunk)
                yield chunk
        finally:
            close = getattr(body_iter, 'close', None)
            if close:
                close()
        # The server has written everything yielded so far (and, through
        # the connection hand-off, the status line and headers even when
        # nothing was yielded); cut the TCP connection under it, then
        # abort the response so the server does not try to finish it.
        if take_connection is not None:
            try:
                take_connection().shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        raise ConnectionAbortedError("emulator fault: connection dropped "
                                     "after %d bytes" % limit)
