"""Byte streams of the client: upload bodies and download iterators.

* :class:`ReplayableBody` tells the session whether a request body can be
  sent again after a failure (bytes, seekable files and callables returning
  a fresh iterator can; a one-shot iterator cannot once it was read).
* :class:`SizedIterable` makes requests send Content-Length instead of
  chunked encoding for an iterator of known size.
* :class:`ByteStream` is a download: chunks as they arrive, the response
  closed on early exit, a broken connection resumed with ``Range``.
"""

import logging

import requests

from nutanix_openstack.prism import exceptions as exc

LOG = logging.getLogger(__name__)


class ReplayableBody(object):
    """Wraps a request body and tells whether it can be sent again.

    ``data`` may be bytes, a seekable file object, a callable returning a
    fresh iterator of bytes (re-readable), or any iterator of bytes
    (one-shot: once consumed it cannot be sent again).
    """

    def __init__(self, data):
        self._data = data
        self._start = None
        self.consumed = False
        if hasattr(data, 'seek') and hasattr(data, 'tell'):
            try:
                self._start = data.tell()
            except (OSError, ValueError):
                self._start = None

    @property
    def replayable(self):
        d = self._data
        return (d is None or isinstance(d, (bytes, bytearray)) or
                self._start is not None or callable(d) or not self.consumed)

    def body(self):
        """The object to hand to requests for one attempt."""
        d = self._data
        if d is None or isinstance(d, (bytes, bytearray)):
            return d
        if self._start is not None:
            d.seek(self._start)
            return self._iterate(iter(lambda: d.read(1024 * 1024), b''))
        if callable(d):
            return self._iterate(d())
        if self.consumed:
            raise exc.UploadNotRetryable(
                'the upload source is a one-shot iterator that was already '
                'consumed; it cannot be sent again')
        return self._iterate(d)

    def _iterate(self, it):
        self.consumed = True
        for chunk in it:
            if chunk:
                yield chunk


class SizedIterable(object):
    """An iterator with a known length.

    An iterator with a known length, so that requests sends a
    Content-Length header and streams the chunks without chunked
    encoding.
    """

    def __init__(self, iterable, size):
        self._iterable = iterable
        self._size = size

    def __len__(self):
        return self._size

    def __iter__(self):
        return iter(self._iterable)


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


class CountingSource(object):
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


class FileSource(object):
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


class ChunkReader(object):
    """File-like ``read()`` over an iterator of byte chunks.

    What the Glance client wants as upload data: the Cinder and Nova
    drivers hand it an image download (:meth:`ImagesAPI.download`) this
    way, so the image is never whole in memory.
    """

    def __init__(self, chunks):
        self._chunks = iter(chunks)
        self._buf = b''

    def read(self, size=-1):
        while size is None or size < 0 or len(self._buf) < size:
            try:
                self._buf += next(self._chunks)
            except StopIteration:
                break
        if size is None or size < 0:
            data, self._buf = self._buf, b''
        else:
            data, self._buf = self._buf[:size], self._buf[size:]
        return data

    def __iter__(self):
        # What read() has buffered, then the chunks as they come (no
        # re-chunking copies).
        if self._buf:
            yield self._buf
            self._buf = b''
        yield from self._chunks
