"""Serving the emulator app with werkzeug's threaded server (TLS optional).

Used by ``nutanix-emulator`` (:mod:`cmd`) and by the in-process test
fixture.  :class:`EmulatorServer` owns the listening socket; ``port=0``
picks a free port, available as :attr:`EmulatorServer.port`.
"""

import logging
import ssl
import threading

from werkzeug import serving

from nutanix_openstack.emulator import downloads

LOG = logging.getLogger(__name__)


class _QuietHandler(serving.WSGIRequestHandler):
    """Access log through oslo.log/logging at debug level.

    Hands its plain TCP socket to the app (``downloads.SOCKET_KEY``) so
    that disk downloads can ``sendfile`` from chunk files; never a TLS
    socket (the bytes must go through the TLS layer).
    """

    def make_environ(self):
        environ = super(_QuietHandler, self).make_environ()
        if not isinstance(self.connection, ssl.SSLSocket):
            environ[downloads.SOCKET_KEY] = self.connection
        return environ

    def log_request(self, code='-', size='-'):
        LOG.debug("%(client)s %(line)s %(code)s",
                  {'client': self.address_string(),
                   'line': self.requestline, 'code': code})

    def log(self, type, message, *args):
        if type == 'error':
            LOG.warning(message.rstrip(), *args)
        else:
            LOG.debug(message.rstrip(), *args)


def ssl_context(cert_file, key_file):
    if cert_file and key_file:
        return (cert_file, key_file)
    return None


class EmulatorServer(object):
    """A threaded WSGI server around ``app``."""

    def __init__(self, app, host='127.0.0.1', port=0, cert_file=None,
                 key_file=None, join_on_close=False):
        self.app = app
        self.tls = bool(cert_file and key_file)
        self._server = serving.make_server(
            host, port, app, threaded=True,
            request_handler=_QuietHandler,
            ssl_context=ssl_context(cert_file, key_file))
        # join_on_close: shutdown() waits for requests still being handled
        # (tests remove the data dir right after); a service does not wait
        # for slow downloads to finish when asked to stop.
        self._server.daemon_threads = not join_on_close
        self.host = host
        self.port = self._server.socket.getsockname()[1]
        self._thread = None

    @property
    def url(self):
        host = self.host if self.host not in ('0.0.0.0', '::') \
            else '127.0.0.1'
        return '%s://%s:%d' % ('https' if self.tls else 'http', host,
                               self.port)

    def serve_forever(self, poll_interval=0.5):
        LOG.info("nutanix-emulator listening on %s", self.url)
        self._server.serve_forever(poll_interval=poll_interval)

    def start_in_thread(self):
        # A short poll interval: tests stop and start servers often.
        self._thread = threading.Thread(target=self.serve_forever,
                                        args=(0.05,),
                                        name='nutanix-emulator',
                                        daemon=True)
        self._thread.start()

    def shutdown(self):
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(10)
