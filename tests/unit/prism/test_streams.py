"""Upload bodies: which ones can be sent again."""

import io
import unittest

from nutanix_openstack.prism import exceptions as exc
from nutanix_openstack.prism import streams


class ReplayableBodyTest(unittest.TestCase):

    def test_bytes(self):
        body = streams.ReplayableBody(b'abc')
        self.assertEqual(b'abc', body.body())
        self.assertTrue(body.replayable)

    def test_seekable_file_rewinds_to_its_start(self):
        f = io.BytesIO(b'headerDATA')
        f.seek(6)
        body = streams.ReplayableBody(f)
        self.assertEqual(b'DATA', b''.join(body.body()))
        self.assertTrue(body.replayable)
        self.assertEqual(b'DATA', b''.join(body.body()))

    def test_callable_gives_a_fresh_iterator(self):
        body = streams.ReplayableBody(lambda: iter([b'a', b'', b'b']))
        self.assertEqual(b'ab', b''.join(body.body()))
        self.assertTrue(body.replayable)
        self.assertEqual(b'ab', b''.join(body.body()))

    def test_one_shot_iterator(self):
        body = streams.ReplayableBody(iter([b'x', b'y']))
        self.assertTrue(body.replayable)       # nothing read yet
        gen = body.body()
        self.assertTrue(body.replayable)       # still nothing read
        self.assertEqual(b'x', next(gen))
        self.assertFalse(body.replayable)
        self.assertRaises(exc.UploadNotRetryable, body.body)


class SizedIterableTest(unittest.TestCase):

    def test_len_and_iteration(self):
        sized = streams.SizedIterable(iter([b'ab', b'c']), 3)
        self.assertEqual(3, len(sized))
        self.assertEqual(b'abc', b''.join(sized))


class CountingSourceTest(unittest.TestCase):

    def test_progress_never_reaches_100_before_the_server_is_done(self):
        seen = []
        counter = streams.CountingSource(None, 4, seen.append)
        self.assertEqual(b'abcd', b''.join(counter.wrap([b'ab', b'cd'])))
        self.assertEqual([50, 99], seen)
        self.assertEqual(4, counter.sent)


class ChunkReaderTest(unittest.TestCase):
    """Upload data for the Glance client (Cinder and Nova drivers)."""

    def test_read_sizes(self):
        reader = streams.ChunkReader(iter([b'abc', b'defg', b'h']))
        self.assertEqual(b'ab', reader.read(2))
        self.assertEqual(b'cdefg', reader.read(5))
        self.assertEqual(b'h', reader.read(10))
        self.assertEqual(b'', reader.read(10))

    def test_read_sizes_with_empty_chunks_and_read_all(self):
        r = streams.ChunkReader(iter([b'abc', b'', b'defg', b'h']))
        self.assertEqual(b'ab', r.read(2))
        self.assertEqual(b'cdef', r.read(4))
        self.assertEqual(b'gh', r.read())
        self.assertEqual(b'', r.read(3))

    def test_iterates(self):
        r = streams.ChunkReader(iter([b'abc', b'de']))
        r.read(1)
        self.assertEqual(b'bcde', b''.join(r))
