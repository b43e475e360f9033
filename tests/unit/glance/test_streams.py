"""UploadStream: hashing on a worker thread, same results as inline."""

import hashlib
import io
import threading
from unittest import mock

from glance_store import exceptions
import testtools

from nutanix_openstack.glance import streams

MiB = 1024 * 1024


class Recorder(object):
    """A verifier stand-in: records chunks and the threads that fed it."""

    def __init__(self, fail_at=None):
        self.chunks = []
        self.threads = set()
        self.fail_at = fail_at

    def update(self, chunk):
        if self.fail_at is not None and len(self.chunks) == self.fail_at:
            raise ValueError('verifier failed')
        self.chunks.append(bytes(chunk))
        self.threads.add(threading.current_thread().name)


def hash_threads():
    return [t for t in threading.enumerate()
            if t.name.startswith('nutanix-upload-hash')]


class TestUploadStream(testtools.TestCase):

    def data(self, n):
        return bytes(range(256)) * (n // 256) + b'x' * (n % 256)

    def test_threaded_hashes_equal_inline(self):
        data = self.data(10 * MiB + 12345)
        results = []
        for threaded in (True, False):
            verifier = Recorder()
            stream = streams.UploadStream(io.BytesIO(data), len(data),
                                          'sha512', verifier=verifier,
                                          chunk_size=MiB,
                                          threaded_hashing=threaded)
            sent = b''.join(stream)
            self.assertEqual(data, sent)
            self.assertTrue(stream.finished)
            self.assertEqual(data, b''.join(verifier.chunks))
            results.append((stream.checksum.hexdigest(),
                            stream.os_hash.hexdigest()))
            if threaded:
                self.assertEqual(1, len(verifier.threads))
                self.assertNotIn(threading.current_thread().name,
                                 verifier.threads)
        self.assertEqual(results[0], results[1])
        self.assertEqual(hashlib.md5(data).hexdigest(), results[0][0])
        self.assertEqual(hashlib.sha512(data).hexdigest(), results[0][1])
        self.assertEqual([], hash_threads())

    def test_chunk_is_hashed_while_it_is_sent(self):
        # The hasher of chunk N waits until the consumer holds chunk N:
        # inline hashing would never let it, and would time out.
        data = self.data(3 * MiB)
        sent = threading.Event()
        overlapped = []

        class Waiting(Recorder):
            def update(self, chunk):
                overlapped.append(sent.wait(5))
                sent.clear()
                super(Waiting, self).update(chunk)

        stream = streams.UploadStream(io.BytesIO(data), len(data), 'sha256',
                                      verifier=Waiting(), chunk_size=MiB,
                                      threaded_hashing=True)
        for _chunk in stream:
            sent.set()
        self.assertEqual([True, True, True], overlapped)
        self.assertEqual(hashlib.sha256(data).hexdigest(),
                         stream.os_hash.hexdigest())

    def test_verifier_error_ends_the_upload(self):
        data = self.data(5 * MiB)
        stream = streams.UploadStream(io.BytesIO(data), len(data), 'sha512',
                                      verifier=Recorder(fail_at=2),
                                      chunk_size=MiB, threaded_hashing=True)
        got = []
        with testtools.ExpectedException(ValueError, 'verifier failed'):
            for chunk in stream:
                got.append(chunk)
        self.assertLess(len(got), 5)
        self.assertIsInstance(stream.error, ValueError)
        self.assertFalse(stream.finished)
        self.assertEqual([], hash_threads())

    def test_size_checks_unchanged(self):
        data = self.data(3 * MiB)
        stream = streams.UploadStream(io.BytesIO(data), 2 * MiB, 'sha512',
                                      chunk_size=MiB, threaded_hashing=True)
        self.assertRaises(exceptions.Invalid, b''.join, stream)
        self.assertIsInstance(stream.error, exceptions.Invalid)
        stream = streams.UploadStream(io.BytesIO(data), 4 * MiB, 'sha512',
                                      chunk_size=MiB, threaded_hashing=True)
        self.assertRaises(exceptions.Invalid, b''.join, stream)
        self.assertEqual([], hash_threads())

    def test_consumer_stopping_early_stops_the_worker(self):
        data = self.data(4 * MiB)
        verifier = Recorder()
        stream = streams.UploadStream(io.BytesIO(data), len(data), 'sha512',
                                      verifier=verifier, chunk_size=MiB,
                                      threaded_hashing=True)
        it = iter(stream)
        next(it)
        next(it)
        it.close()
        # Every chunk handed out was hashed; nothing runs any more.
        self.assertEqual(data[:2 * MiB], b''.join(verifier.chunks))
        self.assertEqual([], hash_threads())
        self.assertFalse(stream.finished)

    def test_green_threads_hash_inline(self):
        patcher = mock.Mock()
        patcher.is_monkey_patched.return_value = True
        fake = mock.Mock(patcher=patcher)
        with mock.patch.dict('sys.modules', {'eventlet': fake,
                                             'eventlet.patcher': patcher}):
            hashing = streams.BackgroundHashing([])
        self.assertFalse(hashing._threaded)
        patcher.is_monkey_patched.assert_called_once_with('thread')
        with mock.patch.dict('sys.modules', {'eventlet': None}):
            self.assertTrue(streams.BackgroundHashing([])._threaded)
