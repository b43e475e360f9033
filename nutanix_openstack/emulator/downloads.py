"""Response bodies of disk downloads, zero-copy where the server allows.

:class:`DiskBody` is the WSGI body of ``GET .../images/{extId}/file``.  It
walks :meth:`~nutanix_openstack.emulator.storage.DiskStore.iter_extents`
(open chunk files and runs of zeros):

* when the server offers its connection (:data:`SOCKET_KEY`, set by
  :mod:`server`: a callable that sends the status line and headers and
  returns the plain TCP socket, or None over TLS), the body sends the data
  itself: ``os.sendfile`` from the chunk files (no copy through Python)
  and, for runs of zeros, ``os.sendfile`` from one in-memory file of zeros
  (``memfd``: its pages are shared by every send, so a sparse disk's zeros
  cost no copy either), or ``sendall`` of a zero buffer where there is no
  ``memfd``;
* otherwise (TLS, another WSGI server, a fault that counts the bytes it
  lets through) it yields byte strings: file data read in blocks, zeros
  as slices of the shared zero buffer.

A client that goes away mid-body makes ``sendfile``/``sendall`` raise
``OSError``, which the server handles as for any write; the descriptors of
the chunk files are closed either way.
"""

import os
import select
import socket
import threading

# Set by the server: a callable sending the headers and returning the
# connection's plain socket (or None), for bodies that send themselves.
# Removed by the fault middleware when it must see the bytes.
SOCKET_KEY = 'nutanix_emulator.socket'
# Set by the server: a callable sending what the server holds and
# returning the connection's socket, TLS or not (faults cut it).
CONNECTION_KEY = 'nutanix_emulator.connection'
BLOCK = 1024 * 1024
_ZEROS = bytes(BLOCK)
_ZERO_VIEW = memoryview(_ZEROS)
_zero_fd = None
_zero_lock = threading.Lock()


def zero_file():
    """A descriptor of BLOCK zero bytes in memory, or None (no memfd)."""
    global _zero_fd
    if _zero_fd is None:
        with _zero_lock:
            if _zero_fd is None:
                try:
                    fd = os.memfd_create('nutanix-emulator-zeros',
                                         os.MFD_CLOEXEC)
                except (AttributeError, OSError):
                    _zero_fd = -1
                else:
                    # Real zero pages (not a hole), written once.
                    os.pwrite(fd, _ZEROS, 0)
                    _zero_fd = fd
    return _zero_fd if _zero_fd >= 0 else None


def _is_data(extent_source):
    # A store without files (RBD) gives the bytes themselves.
    return isinstance(extent_source, (bytes, bytearray, memoryview))


def _sendfile(sock, in_fd, offset, count):
    """``os.sendfile`` to ``sock``, which may have a timeout set.

    A socket with a timeout is non-blocking underneath: wait until it can
    take more (up to its timeout, as ``sendall`` would) instead of failing
    with EAGAIN.
    """
    out = sock.fileno()
    timeout = sock.gettimeout()
    while True:
        try:
            return os.sendfile(out, in_fd, offset, count)
        except BlockingIOError:
            poller = select.poll()
            poller.register(out, select.POLLOUT)
            if not poller.poll(None if timeout is None
                               else int(timeout * 1000)):
                raise socket.timeout('timed out sending a download')


class DiskBody(object):
    """An iterable WSGI body over the extents of a disk range."""

    def __init__(self, extents, take_socket=None):
        self._extents = extents
        self._take_socket = take_socket

    def __iter__(self):
        sock = self._take_socket() if self._take_socket else None
        if sock is not None:
            self._send(sock)
            return
        for fd, offset, n in self._extents:
            if _is_data(fd):
                yield fd[offset:offset + n]
                continue
            while n > 0:
                piece = min(n, BLOCK)
                if fd is None:
                    data = _ZEROS if piece == BLOCK else bytes(piece)
                else:
                    data = os.pread(fd, piece, offset)
                    if not data:    # a file shorter than its row: zeros
                        fd = None
                        continue
                    offset += len(data)
                    piece = len(data)
                yield data
                n -= piece

    def _send(self, sock):
        zeros = zero_file()
        for fd, offset, n in self._extents:
            if _is_data(fd):
                sock.sendall(memoryview(fd)[offset:offset + n])
                continue
            while n > 0:
                if fd is None:
                    piece = min(n, BLOCK)
                    sent = _sendfile(sock, zeros, 0, piece) if zeros \
                        is not None else 0
                    if not sent:
                        sock.sendall(_ZERO_VIEW[:piece])
                        sent = piece
                    piece = sent
                else:
                    piece = _sendfile(sock, fd, offset, n)
                    if not piece:   # a file shorter than its row: zeros
                        fd = None
                        continue
                    offset += piece
                n -= piece

    def close(self):
        close = getattr(self._extents, 'close', None)
        if close is not None:
            close()
