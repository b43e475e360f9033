"""Serving the emulator app with cheroot, a production WSGI server.

Used by ``nutanix-emulator`` (:mod:`cmd`) and by the in-process test
fixture.  cheroot serves every request from a fixed pool of threads
(``server_threads``); idle keep-alive connections wait in its selector,
not in a thread, so many clients share the pool.  The emulator runs in one
process (see :mod:`datadir_lock`): its threads share the consistency lock,
the task threads and the in-memory fault registry.

:class:`EmulatorServer` owns the listening socket; ``port=0`` picks a free
port, available as :attr:`EmulatorServer.port`.
"""

import logging
import ssl
import threading

from cheroot import server as cheroot_server
from cheroot.ssl import builtin as cheroot_ssl
from cheroot import wsgi as cheroot_wsgi

from nutanix_openstack.emulator import downloads

LOG = logging.getLogger(__name__)

DEFAULT_THREADS = 32
DEFAULT_SOCKET_TIMEOUT = 300


class _Handoff(object):
    """The connection, for response bodies that send bytes themselves.

    ``environ[downloads.SOCKET_KEY]``: calling it sends the status line
    and headers, then returns the plain TCP socket, or None when the body
    must go through the server (TLS, chunked transfer encoding).
    ``environ[downloads.CONNECTION_KEY]``: calling it sends what the
    server holds and returns the socket, TLS or not (to cut it).
    """

    def __init__(self, req, plain):
        self._req = req
        self._plain = plain

    def socket(self):
        req = self._req
        req.ensure_headers_sent()
        if not self._plain or req.chunked_write:
            return None
        return req.conn.socket

    def connection(self):
        self._req.ensure_headers_sent()
        return self._req.conn.socket


class _Input(object):
    """``wsgi.input`` with ``readinto`` (cheroot's has ``read`` only).

    For a body of known length ``readinto`` reads from the connection's
    buffered reader straight into the caller's buffer (the disk store's
    chunk buffer): no intermediate byte string per read.
    """

    def __init__(self, rfile):
        self._rfile = rfile

    def __getattr__(self, name):
        return getattr(self._rfile, name)

    def __iter__(self):
        return iter(self._rfile)

    def read(self, size=None):
        return self._rfile.read(size)

    def readline(self, size=None):
        return self._rfile.readline(size)

    def readinto(self, buf):
        rfile = self._rfile
        view = memoryview(buf).cast('B')
        if isinstance(rfile, cheroot_server.KnownLengthRFile):
            if not rfile.remaining or not len(view):
                return 0
            # readinto1, not readinto: _pyio's BufferedReader.readinto
            # (cheroot's StreamReader) fails with "lvalue and rvalue have
            # different structures" once it has copied part of its buffer
            # and refills it for the rest (CPython's _pyio sizes the second
            # copy by the whole view).  readinto1 stops after one copy.
            n = rfile.rfile.readinto1(view[:rfile.remaining]) or 0
            rfile.remaining -= n
            return n
        # Chunked transfer coding: at most what one HTTP chunk holds.
        # (cheroot's read(size) gathers chunks by concatenating bytes,
        # quadratic in the number of small chunks per read.)
        want = len(view)
        if hasattr(rfile, '_fetch') and isinstance(
                getattr(rfile, 'buffer', None), bytes):
            if not rfile.buffer:
                rfile._fetch()
            want = min(want, len(rfile.buffer))
            if not want:
                return 0
        data = rfile.read(want)
        view[:len(data)] = data
        return len(data)


class _Gateway(cheroot_wsgi.Gateway_10):
    """cheroot's WSGI 1.0 gateway, handing the connection to the app."""

    def get_environ(self):
        environ = super(_Gateway, self).get_environ()
        environ['wsgi.input'] = _Input(environ['wsgi.input'])
        handoff = _Handoff(self.req, not isinstance(self.req.conn.socket,
                                                    ssl.SSLSocket))
        environ[downloads.SOCKET_KEY] = handoff.socket
        environ[downloads.CONNECTION_KEY] = handoff.connection
        return environ

    def respond(self):
        try:
            super(_Gateway, self).respond()
        finally:
            req = self.req
            LOG.debug("%(client)s \"%(method)s %(path)s\" %(status)s",
                      {'client': self.env.get('REMOTE_ADDR'),
                       'method': self.env.get('REQUEST_METHOD'),
                       'path': self.env.get('PATH_INFO'),
                       'status': (req.status or b'-').decode('latin-1')})


class _Server(cheroot_wsgi.Server):
    """cheroot's errors through ``logging`` rather than stderr."""

    def error_log(self, msg='', level=logging.INFO, traceback=False):
        LOG.log(level if level > logging.DEBUG else logging.DEBUG, '%s',
                msg, exc_info=traceback)


class EmulatorServer(object):
    """A multi-threaded WSGI server around ``app``."""

    def __init__(self, app, host='127.0.0.1', port=0, cert_file=None,
                 key_file=None, join_on_close=False,
                 threads=DEFAULT_THREADS,
                 socket_timeout=DEFAULT_SOCKET_TIMEOUT):
        self.app = app
        self.tls = bool(cert_file and key_file)
        # join_on_close: shutdown() waits for requests still being handled
        # (tests remove the data dir right after); a service does not wait
        # long for slow downloads to finish when asked to stop.
        self._server = _Server(
            (host, port), app, numthreads=threads, max=threads,
            request_queue_size=128, timeout=socket_timeout,
            shutdown_timeout=10 if join_on_close else 1)
        self._server.gateway = _Gateway
        if self.tls:
            self._server.ssl_adapter = cheroot_ssl.BuiltinSSLAdapter(
                cert_file, key_file)
        # Binds the socket and starts the thread pool.
        self._server.prepare()
        self.host = host
        self.port = self._server.bind_addr[1]
        self._thread = None

    @property
    def url(self):
        host = self.host if self.host not in ('0.0.0.0', '::') \
            else '127.0.0.1'
        return '%s://%s:%d' % ('https' if self.tls else 'http', host,
                               self.port)

    def serve_forever(self):
        LOG.info("nutanix-emulator listening on %s", self.url)
        self._server.serve()

    def start_in_thread(self):
        self._thread = threading.Thread(target=self.serve_forever,
                                        name='nutanix-emulator',
                                        daemon=True)
        self._thread.start()

    def shutdown(self):
        self._server.stop()
        if self._thread is not None:
            self._thread.join(10)
