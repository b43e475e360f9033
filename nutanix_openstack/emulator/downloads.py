"""Response bodies of disk downloads, zero-copy where the server allows.

:class:`DiskBody` is the WSGI body of ``GET .../images/{extId}/file``.  It
walks :meth:`~nutanix_openstack.emulator.storage.DiskStore.iter_extents`
(open chunk files and runs of zeros):

* when the server put its plain TCP socket in the environ
  (:data:`SOCKET_KEY`, set by :mod:`server` for HTTP, never for HTTPS),
  the body yields one empty string (the server sends the status line and
  headers) and then sends the data itself: ``os.sendfile`` from the chunk
  files (no copy through Python) and, for runs of zeros, ``os.sendfile``
  from one in-memory file of zeros (``memfd``: its pages are shared by
  every send, so a sparse disk's zeros cost no copy either), or
  ``sendall`` of a zero buffer where there is no ``memfd``;
* otherwise (TLS, another WSGI server, a fault that counts the bytes it
  lets through) it yields byte strings: file data read in blocks, zeros
  as slices of the shared zero buffer.

A client that goes away mid-body makes ``sendfile``/``sendall`` raise
``OSError``, which the server handles as for any write; the descriptors of
the chunk files are closed either way.
"""

import os
import threading

# Set by the server: the connection's socket, for bodies that send
# themselves.  Removed by the fault middleware when it must see the bytes.
SOCKET_KEY = 'nutanix_emulator.socket'
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


class DiskBody(object):
    """An iterable WSGI body over the extents of a disk range."""

    def __init__(self, extents, sock=None):
        self._extents = extents
        self._sock = sock

    def __iter__(self):
        if self._sock is not None:
            yield b''       # headers first, by the server
            self._send(self._sock)
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
        out = sock.fileno()
        zeros = zero_file()
        for fd, offset, n in self._extents:
            if _is_data(fd):
                sock.sendall(memoryview(fd)[offset:offset + n])
                continue
            while n > 0:
                if fd is None:
                    piece = min(n, BLOCK)
                    sent = os.sendfile(out, zeros, 0, piece) if zeros \
                        is not None else 0
                    if not sent:
                        sock.sendall(_ZERO_VIEW[:piece])
                        sent = piece
                    piece = sent
                else:
                    piece = os.sendfile(out, fd, offset, n)
                    if not piece:   # a file shorter than its row: zeros
                        fd = None
                        continue
                    offset += piece
                n -= piece

    def close(self):
        close = getattr(self._extents, 'close', None)
        if close is not None:
            close()
