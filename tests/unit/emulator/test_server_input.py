"""The emulator's ``wsgi.input`` wrapper for cheroot (emulator/server.py)."""

import socket
import threading
import unittest

from cheroot import makefile
from cheroot import server as cheroot_server

from nutanix_openstack.emulator import server


class KnownLengthReadintoTest(unittest.TestCase):
    """Bodies of known length land in the caller's buffer exactly."""

    def _input(self, body):
        ours, theirs = socket.socketpair()
        self.addCleanup(ours.close)
        self.addCleanup(theirs.close)
        sender = threading.Thread(target=theirs.sendall, args=(body,))
        sender.start()
        self.addCleanup(sender.join)
        rfile = cheroot_server.KnownLengthRFile(
            makefile.StreamReader(ours, 'rb', 8192), len(body))
        return server._Input(rfile)

    def _read_all(self, stream, piece):
        out = bytearray()
        buf = bytearray(piece)
        while True:
            n = stream.readinto(buf)
            if not n:
                return bytes(out)
            out += buf[:n]

    def test_view_larger_than_the_buffered_bytes(self):
        # The reader's buffer holds 8 KiB; a 10,000-byte view takes those,
        # then needs a refill for the rest (what a 4 MiB chunk buffer does
        # on every read of a large upload).
        body = bytes(range(256)) * 400
        stream = self._input(body)
        stream._rfile.rfile.peek(1)
        self.assertEqual(body, self._read_all(stream, 10000))

    def test_large_body_in_chunk_sized_reads(self):
        body = bytes(range(256)) * 4096 * 5
        self.assertEqual(body, self._read_all(self._input(body), 1 << 20))

    def test_reads_stop_at_the_declared_length(self):
        stream = self._input(b'x' * 100)
        buf = bytearray(1000)
        self.assertEqual(100, stream.readinto(buf) + stream.readinto(
            memoryview(buf)[100:]))
        self.assertEqual(0, stream.readinto(buf))
