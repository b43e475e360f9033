"""Byte streams between Glance and the cluster.

:class:`UploadStream` turns the file-like object Glance hands to ``add()``
into the iterator the client streams to the cluster, one chunk at a time:
it hashes, feeds the signature verifier, enforces the declared size and
logs progress as the bytes go by, so the image is never held whole in
memory or spooled to local disk.

Hashing runs on a worker thread (:class:`BackgroundHashing`): md5 and
sha512 release the GIL, so chunk N is hashed while it is on the wire,
instead of hashing and sending taking turns on one thread.
"""

import concurrent.futures
import itertools
import logging
import sys
import time

from glance_store.common import utils
from glance_store import exceptions
from oslo_utils import units

from nutanix_openstack.i18n import _

LOG = logging.getLogger(__name__)


class ProgressLog(object):
    """Logs upload progress at most every ``interval`` seconds."""

    def __init__(self, what, total, interval, clock=None):
        self.what = what
        self.total = total or None
        self.interval = interval
        self._clock = clock or time.monotonic
        self._start = self._clock()
        self._last = self._start
        self.task_percent = None

    def _line(self, done):
        elapsed = max(self._clock() - self._start, 1e-6)
        return {'what': self.what, 'done': done,
                'total': self.total if self.total else 'unknown',
                'pct': ('%d%%' % (done * 100 // self.total)
                        if self.total else '?'),
                'rate': done / units.Mi / elapsed,
                'task': ('%s%%' % self.task_percent
                         if self.task_percent is not None else 'n/a')}

    def update(self, done):
        if not self.interval:
            return
        now = self._clock()
        if now - self._last >= self.interval:
            self._last = now
            LOG.info('%(what)s: %(done)d of %(total)s bytes sent (%(pct)s, '
                     '%(rate).1f MiB/s, backend task %(task)s)',
                     self._line(done))

    def task_progress(self, percent):
        """The client's ``progress_callback``: the backend task percent."""
        self.task_percent = percent

    def done(self, done):
        LOG.info('%(what)s: finished, %(done)d bytes in total '
                 '(%(rate).1f MiB/s)', self._line(done))


def _green_threads():
    """True when eventlet replaced threads by green threads.

    A green "worker thread" would only take turns with the sender on the
    one OS thread: hashing then stays inline.
    """
    eventlet = sys.modules.get('eventlet')
    if eventlet is None:
        return False
    try:
        from eventlet import patcher
        return patcher.is_monkey_patched('thread')
    except Exception:
        return False


class BackgroundHashing(object):
    """Feeds chunks, in order, to update functions on one worker thread.

    :meth:`submit` first waits for the previous chunk, so at most one
    chunk is being hashed while the caller sends it: memory stays one
    chunk above the inline version, and the hashers see every chunk
    exactly once and in order.  :meth:`wait` returns once every submitted
    chunk is hashed (re-raising what an update raised); :meth:`close`
    waits and stops the thread.  ``threaded=False`` (or green threads)
    hashes inline in :meth:`submit`.
    """

    def __init__(self, updates, threaded=None):
        self._updates = updates
        if threaded is None:
            threaded = not _green_threads()
        self._threaded = threaded
        self._executor = None
        self._pending = None

    def _update(self, chunk):
        for update in self._updates:
            update(chunk)

    def submit(self, chunk):
        self.wait()
        if not self._threaded:
            self._update(chunk)
            return
        if self._executor is None:
            self._executor = concurrent.futures.ThreadPoolExecutor(
                max_workers=1, thread_name_prefix='nutanix-upload-hash')
        self._pending = self._executor.submit(self._update, chunk)

    def wait(self):
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def close(self):
        try:
            self.wait()
        finally:
            if self._executor is not None:
                self._executor.shutdown(wait=True)
                self._executor = None


class UploadStream(object):
    """Chunks of an image on their way to the cluster.

    Iterating yields the chunks in order, updating ``checksum`` (md5),
    ``os_hash`` (the requested multihash algorithm) and the verifier.
    When the declared size is exceeded or not reached, iteration raises
    ``glance_store.exceptions.Invalid``; the exception is also kept in
    ``error``, so the caller can re-raise it even if the HTTP layer wraps
    what the iterator raised.  The hashes are complete once iteration
    ended (normally or not): a chunk is hashed on a worker thread while it
    is sent (``threaded_hashing``; None: unless eventlet patched threads).
    """

    def __init__(self, image_file, image_size, hashing_algo, verifier=None,
                 chunk_size=4 * units.Mi, progress=None,
                 threaded_hashing=None):
        self._chunks = iter(utils.chunkreadable(image_file, chunk_size))
        self._pending = []
        self.expected_size = image_size or 0
        self.bytes_read = 0
        self.checksum = utils.get_hasher('md5', False)
        self.os_hash = utils.get_hasher(hashing_algo, False)
        self.verifier = verifier
        self.progress = progress
        self.error = None
        self.finished = False
        updates = [self.checksum.update, self.os_hash.update]
        if verifier:
            updates.append(verifier.update)
        self._hashing = BackgroundHashing(updates, threaded_hashing)

    def head(self, length):
        """The first ``length`` bytes, read ahead without consuming them.

        Fewer bytes for a shorter image.
        """
        have = sum(len(c) for c in self._pending)
        while have < length:
            try:
                chunk = next(self._chunks)
            except StopIteration:
                break
            self._pending.append(chunk)
            have += len(chunk)
        return b''.join(self._pending)[:length]

    def _fail(self, exc):
        self.error = exc
        raise exc

    def __iter__(self):
        pending, self._pending = self._pending, []
        try:
            for chunk in itertools.chain(pending, self._chunks):
                if not chunk:
                    continue
                self.bytes_read += len(chunk)
                if self.expected_size and (self.bytes_read >
                                           self.expected_size):
                    self._fail(exceptions.Invalid(
                        _('Size exceeds: expected %(expected)d bytes, got '
                          'at least %(actual)d bytes') %
                        {'expected': self.expected_size,
                         'actual': self.bytes_read}))
                # Hashed on the worker while the caller sends it.
                self._hashing.submit(chunk)
                if self.progress:
                    self.progress.update(self.bytes_read)
                yield chunk
            self._hashing.wait()
            if self.expected_size and self.bytes_read < self.expected_size:
                self._fail(exceptions.Invalid(
                    _('Size mismatch: expected %(expected)d bytes, got '
                      '%(actual)d bytes') %
                    {'expected': self.expected_size,
                     'actual': self.bytes_read}))
            self.finished = True
        except Exception as exc:
            # Reading from Glance failed (client went away, quota...):
            # remember it so add() re-raises it and not a transport error.
            if self.error is None:
                self.error = exc
            raise
        finally:
            # Also when the consumer stops early: no hasher is touched
            # after iteration is over.
            self._hashing.close()


class DownloadIterator(object):
    """A backend download that raises glance_store exceptions.

    Client errors are translated where Glance consumes the bytes, and a
    body shorter than promised is an error, never a silently short image.
    """

    def __init__(self, chunks, translate, expected_size=None):
        self._chunks = chunks
        self._translate = translate
        self.expected_size = expected_size
        self.delivered = 0

    def __iter__(self):
        with self._translate():
            for chunk in self._chunks:
                if chunk:
                    self.delivered += len(chunk)
                    yield chunk
        if (self.expected_size is not None and
                self.delivered != self.expected_size):
            raise exceptions.BackendException(
                _('the cluster sent %(got)d bytes instead of %(want)d') %
                {'got': self.delivered, 'want': self.expected_size})

    def close(self):
        close = getattr(self._chunks, 'close', None)
        if close:
            close()
