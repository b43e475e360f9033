"""The emulator's VM consoles: an RFB server behind the console token.

A real TCP client does what nova-novncproxy does (``CONNECT <path>``, then
RFB 3.8 as a VNC client) against :class:`console.ConsoleServer` on
loopback, with tokens from the v4 ``generate-console-token`` action.
"""

import socket
import struct
import uuid

from nutanix_openstack.emulator import console
from tests.functional.emulator import test_vms_base as base
from tests.functional.emulator.test_vms_base import VMM

# noVNC's pixel format: 32 bpp, little-endian, red in the low byte.
NOVNC_FORMAT = console.PixelFormat(red_shift=0, green_shift=8,
                                   blue_shift=16)


class RfbClient(object):

    def __init__(self, port):
        self.sock = socket.create_connection(('127.0.0.1', port), timeout=10)

    def close(self):
        self.sock.close()

    def recv_exact(self, size):
        data = b''
        while len(data) < size:
            chunk = self.sock.recv(size - len(data))
            if not chunk:
                raise EOFError('closed after %d of %d bytes'
                               % (len(data), size))
            data += chunk
        return data

    def connect(self, path):
        """The proxy's CONNECT; returns the status line."""
        self.sock.sendall(('CONNECT %s HTTP/1.1\r\n\r\n' % path).encode())
        data = b''
        while b'\r\n\r\n' not in data:
            chunk = self.sock.recv(1)
            if not chunk:
                break
            data += chunk
        return data.split(b'\r\n')[0].decode()

    def handshake(self):
        """RFB 3.8 with security type None; returns (w, h, name)."""
        assert self.recv_exact(12) == b'RFB 003.008\n'
        self.sock.sendall(b'RFB 003.008\n')
        count = self.recv_exact(1)[0]
        types = self.recv_exact(count)
        assert types == b'\x01', types
        self.sock.sendall(b'\x01')
        assert struct.unpack('>I', self.recv_exact(4))[0] == 0
        self.sock.sendall(b'\x01')                     # shared
        width, height = struct.unpack('>HH', self.recv_exact(4))
        self.recv_exact(16)                            # pixel format
        size = struct.unpack('>I', self.recv_exact(4))[0]
        return width, height, self.recv_exact(size).decode()

    def set_pixel_format(self, fmt):
        self.sock.sendall(b'\x00\x00\x00\x00' + fmt.pack())

    def set_encodings(self, encodings):
        self.sock.sendall(struct.pack('>BxH', 2, len(encodings)) +
                          b''.join(struct.pack('>i', e) for e in encodings))

    def update(self, x, y, w, h, bytes_per_pixel=4):
        self.sock.sendall(struct.pack('>BBHHHH', 3, 0, x, y, w, h))
        kind, count = struct.unpack('>BxH', self.recv_exact(4))
        assert (kind, count) == (0, 1)
        rect = struct.unpack('>HHHHi', self.recv_exact(12))
        assert rect == (x, y, w, h, 0), rect
        return self.recv_exact(w * h * bytes_per_pixel)


class TestConsole(base.ApiTestCase):

    def setUp(self):
        super().setUp()
        self.consoles = console.ConsoleServer(
            self.emu.backend.state, self.emu.backend.console_tokens).start()
        self.addCleanup(self.consoles.stop)

    def _vm_on(self, name):
        vm_id = self.create_vm(name=name)
        self.run_ok('POST', '%s/vms/%s/$actions/power-on' % (VMM, vm_id))
        return vm_id

    def _token(self, vm_id):
        task = self.run_ok('POST', '%s/vms/%s/$actions/generate-console-token'
                           % (VMM, vm_id))
        return dict((kv['name'], kv['value'])
                    for kv in task['completionDetails'])['token']

    def _client(self):
        client = RfbClient(self.consoles.port)
        self.addCleanup(client.close)
        return client

    @staticmethod
    def _path(vm_id, token):
        return '/vnc/vm/%s/proxy?token=%s' % (vm_id, token)

    def test_console_draws_the_vm(self):
        vm_id = self._vm_on('web-01')
        client = self._client()
        self.assertEqual('HTTP/1.1 200 OK',
                         client.connect(self._path(vm_id, self._token(vm_id))))
        width, height, name = client.handshake()
        self.assertEqual((console.WIDTH, console.HEIGHT, 'web-01'),
                         (width, height, name))
        client.set_pixel_format(NOVNC_FORMAT)
        client.set_encodings([0, -223])   # raw, DesktopSize
        pixels = client.update(0, 0, width, height)
        vm, _etag = self.get('%s/vms/%s' % (VMM, vm_id))
        expected = console.render(console.console_lines(dict(vm)))
        self.assertEqual(NOVNC_FORMAT.raw(expected, 0, 0, width, height),
                         pixels)
        lit = pixels.count(NOVNC_FORMAT.encode(console.FOREGROUND))
        self.assertGreater(lit, 1000)
        # A part of the screen, in the client's format, on request.
        part = client.update(10, 20, 30, 40)
        self.assertEqual(NOVNC_FORMAT.raw(expected, 10, 20, 30, 40), part)
        # Keys, pointer and clipboard are read and ignored.
        client.sock.sendall(struct.pack('>BBxxI', 4, 1, 0x61) +
                            struct.pack('>BBHH', 5, 0, 1, 1) +
                            struct.pack('>BxxxI', 6, 2) + b'hi')
        self.assertEqual(NOVNC_FORMAT.raw(expected, 0, 0, 8, 8),
                         client.update(0, 0, 8, 8))

    def test_console_lines_name_the_vm(self):
        lines = console.console_lines({'name': 'db', 'extId': 'x-1',
                                       'powerState': 'ON'})
        self.assertIn('VM  db', lines)
        self.assertIn('ID  x-1', lines)

    def test_wrong_or_missing_token_is_refused(self):
        vm_id = self._vm_on('a')
        other = self._vm_on('b')
        for path in (self._path(vm_id, 'not-a-token'),
                     self._path(vm_id, self._token(other)),
                     '/vnc/vm/%s/proxy' % vm_id):
            client = self._client()
            self.assertEqual('HTTP/1.1 403 Forbidden', client.connect(path))
            self.assertEqual(b'', client.sock.recv(1))

    def test_powered_off_or_deleted_vm_is_refused(self):
        vm_id = self.create_vm(name='off')
        token = self._token(vm_id)
        self.assertEqual('HTTP/1.1 409 Conflict',
                         self._client().connect(self._path(vm_id, token)))
        self.emu.backend.state.delete('vm', vm_id)
        self.assertEqual('HTTP/1.1 404 Not Found',
                         self._client().connect(self._path(vm_id, token)))

    def test_not_a_console_request(self):
        client = self._client()
        client.sock.sendall(b'GET / HTTP/1.1\r\n\r\n')
        self.assertEqual(b'HTTP/1.1 400 Bad Request\r\n\r\n',
                         client.sock.recv(100))
        bogus = '/vnc/vm/%s/proxy?token=x' % uuid.uuid4()
        self.assertEqual('HTTP/1.1 403 Forbidden',
                         self._client().connect(bogus))


class TestTokenBook(base.testtools.TestCase):

    def test_expired_tokens_open_nothing(self):
        import datetime
        now = [datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)]
        book = console.TokenBook(clock=lambda: now[0])
        book.issue('t', 'vm-1', now[0] + datetime.timedelta(seconds=60))
        self.assertEqual('vm-1', book.vm_of('t'))
        self.assertIsNone(book.vm_of('u'))
        now[0] += datetime.timedelta(seconds=61)
        self.assertIsNone(book.vm_of('t'))
        book.issue('v', 'vm-2', now[0] + datetime.timedelta(seconds=60))
        self.assertNotIn('t', book._tokens)
