"""VM consoles: an RFB (VNC) server per console connection, on loopback.

Prism hands out a console token (``$actions/generate-console-token``) and
relays the VM's VNC console at ``/vnc/vm/<extId>/proxy?token=...``.  The
emulator has no guests, so it draws a console itself: a framebuffer with
the VM's name, extId and power state, served over RFB 3.8 (no RFB
authentication: the console token is the credential).

The server speaks the handshake nova-novncproxy uses when the driver's
``ConsoleVNC`` carries an ``internal_access_path``: the proxy sends
``CONNECT <path> HTTP/1.1`` and expects a ``200`` line before RFB starts.
A token that is unknown, expired or for another VM, or a VM that is not
powered on, is answered with ``HTTP/1.1 403``/``404`` and the connection is
closed.
"""

import datetime
import logging
import re
import socketserver
import struct
import threading
import urllib.parse

from nutanix_openstack.emulator import console_font

LOG = logging.getLogger(__name__)

KIND_VM = 'vm'
WIDTH = 800
HEIGHT = 240
SCALE = 2
MARGIN = 16
BACKGROUND = (16, 32, 48)
FOREGROUND = (220, 230, 240)
MAX_HEADER_BYTES = 8192
MAX_CUT_TEXT = 1 << 20
PATH_RE = re.compile(r'^/vnc/vm/(?P<ext_id>[0-9a-fA-F-]{36})/proxy$')


class TokenBook(object):
    """Console tokens handed out, until they expire."""

    def __init__(self, clock=None):
        self._tokens = {}
        self._lock = threading.Lock()
        self._clock = clock or (
            lambda: datetime.datetime.now(datetime.timezone.utc))

    def issue(self, token, vm_ext_id, expires_at):
        with self._lock:
            now = self._clock()
            for old in [t for t, (_vm, exp) in self._tokens.items()
                        if exp <= now]:
                del self._tokens[old]
            self._tokens[token] = (vm_ext_id, expires_at)

    def vm_of(self, token):
        """The VM a live token opens, or None."""
        with self._lock:
            entry = self._tokens.get(token)
        if entry is None or entry[1] <= self._clock():
            return None
        return entry[0]


def console_lines(vm):
    return [
        'Nutanix AHV emulator - VM console',
        '',
        'VM  %s' % (vm.get('name') or '')[:60],
        '    %s' % (vm.get('description') or '')[:60],
        'ID  %s' % vm.get('extId', ''),
        'Power state  %s' % vm.get('powerState', ''),
        'No guest runs here: the emulator has no hypervisor.',
    ]


def render(lines, width=WIDTH, height=HEIGHT):
    """A framebuffer: rows of (r, g, b) tuples with ``lines`` drawn."""
    fb = [[BACKGROUND] * width for _ in range(height)]
    step_x = (console_font.WIDTH + 1) * SCALE
    step_y = (console_font.HEIGHT + 3) * SCALE
    for row, text in enumerate(lines):
        top = MARGIN + row * step_y
        for col, char in enumerate(text):
            left = MARGIN + col * step_x
            if left + step_x > width or top + step_y > height:
                break
            for gy, bits in enumerate(console_font.glyph(char)):
                for gx, bit in enumerate(bits):
                    if bit != '#':
                        continue
                    for dy in range(SCALE):
                        line = fb[top + gy * SCALE + dy]
                        for dx in range(SCALE):
                            line[left + gx * SCALE + dx] = FOREGROUND
    return fb


class PixelFormat(object):
    """RFB PIXEL_FORMAT (true colour only)."""

    STRUCT = struct.Struct('>BBBBHHHBBB3x')

    def __init__(self, bpp=32, depth=24, big_endian=0, true_colour=1,
                 red_max=255, green_max=255, blue_max=255, red_shift=16,
                 green_shift=8, blue_shift=0):
        self.bpp, self.depth = bpp, depth
        self.big_endian, self.true_colour = big_endian, true_colour
        self.maxes = (red_max, green_max, blue_max)
        self.shifts = (red_shift, green_shift, blue_shift)

    def pack(self):
        return self.STRUCT.pack(self.bpp, self.depth, self.big_endian,
                                self.true_colour, *(self.maxes + self.shifts))

    @classmethod
    def unpack(cls, data):
        return cls(*cls.STRUCT.unpack(data))

    def encode(self, rgb):
        value = 0
        for channel, top, shift in zip(rgb, self.maxes, self.shifts):
            value |= (channel * top // 255) << shift
        size = self.bpp // 8
        return value.to_bytes(size, 'big' if self.big_endian else 'little')

    def raw(self, fb, x, y, w, h):
        cache = {}
        out = bytearray()
        for row in fb[y:y + h]:
            for rgb in row[x:x + w]:
                pixel = cache.get(rgb)
                if pixel is None:
                    pixel = cache[rgb] = self.encode(rgb)
                out += pixel
        return bytes(out)


class _Closed(Exception):
    pass


class ConsoleHandler(socketserver.BaseRequestHandler):

    def _recv_exact(self, size):
        data = b''
        while len(data) < size:
            chunk = self.request.recv(size - len(data))
            if not chunk:
                raise _Closed()
            data += chunk
        return data

    def _read_connect(self):
        data = b''
        while b'\r\n\r\n' not in data:
            chunk = self.request.recv(1024)
            if not chunk:
                raise _Closed()
            data += chunk
            if len(data) > MAX_HEADER_BYTES:
                raise _Closed()
        head = data.split(b'\r\n', 1)[0].decode('latin-1')
        parts = head.split(' ')
        if len(parts) != 3 or parts[0] != 'CONNECT':
            return None, None
        url = urllib.parse.urlsplit(parts[1])
        match = PATH_RE.match(url.path)
        token = urllib.parse.parse_qs(url.query).get('token', [None])[0]
        return (match.group('ext_id') if match else None), token

    def _refuse(self, status, reason):
        self.request.sendall(('HTTP/1.1 %s\r\n\r\n' % status).encode())
        LOG.info("Console connection refused: %s", reason)

    def handle(self):
        try:
            self._handle()
        except (_Closed, ConnectionError, OSError):
            pass

    def _handle(self):
        server = self.server
        ext_id, token = self._read_connect()
        if ext_id is None:
            return self._refuse('400 Bad Request', 'not a console CONNECT')
        if not token or server.tokens.vm_of(token) != ext_id:
            return self._refuse('403 Forbidden',
                                'no live console token for VM %s' % ext_id)
        vm = server.state.get(KIND_VM, ext_id)
        if vm is None:
            return self._refuse('404 Not Found', 'VM %s is gone' % ext_id)
        if vm.get('powerState') != 'ON':
            return self._refuse('409 Conflict',
                                'VM %s is not powered on' % ext_id)
        self.request.sendall(b'HTTP/1.1 200 OK\r\n\r\n')
        self._rfb(dict(vm, extId=ext_id))

    def _rfb(self, vm):
        sock = self.request
        sock.sendall(b'RFB 003.008\n')
        version = self._recv_exact(12)
        if not version.startswith(b'RFB 003.'):
            raise _Closed()
        minor = int(version[8:11])
        if minor >= 7:
            sock.sendall(b'\x01\x01')          # one security type: None
            if self._recv_exact(1) != b'\x01':
                raise _Closed()
        else:
            sock.sendall(struct.pack('>I', 1))
        if minor >= 8:
            sock.sendall(struct.pack('>I', 0))  # SecurityResult: OK
        self._recv_exact(1)                     # ClientInit (shared flag)
        fmt = PixelFormat()
        name = (vm.get('name') or vm['extId']).encode('utf-8')[:255]
        sock.sendall(struct.pack('>HH', WIDTH, HEIGHT) + fmt.pack() +
                     struct.pack('>I', len(name)) + name)
        fb = render(console_lines(vm))
        LOG.info("Console of VM %s opened", vm['extId'])
        while True:
            kind = self._recv_exact(1)[0]
            if kind == 0:                       # SetPixelFormat
                self._recv_exact(3)
                fmt = PixelFormat.unpack(self._recv_exact(16))
                if not fmt.true_colour or fmt.bpp not in (8, 16, 32):
                    raise _Closed()
            elif kind == 2:                     # SetEncodings
                _pad, count = struct.unpack('>BH', self._recv_exact(3))
                self._recv_exact(4 * count)
            elif kind == 3:                     # FramebufferUpdateRequest
                incremental, x, y, w, h = struct.unpack(
                    '>BHHHH', self._recv_exact(9))
                if incremental:
                    # Nothing ever changes on this screen: an incremental
                    # request waits for a change that never comes.
                    continue
                x, y = min(x, WIDTH), min(y, HEIGHT)
                w, h = min(w, WIDTH - x), min(h, HEIGHT - y)
                sock.sendall(struct.pack('>BxH', 0, 1) +
                             struct.pack('>HHHHi', x, y, w, h, 0) +
                             fmt.raw(fb, x, y, w, h))
            elif kind == 4:                     # KeyEvent
                self._recv_exact(7)
            elif kind == 5:                     # PointerEvent
                self._recv_exact(5)
            elif kind == 6:                     # ClientCutText
                self._recv_exact(3)
                size = struct.unpack('>I', self._recv_exact(4))[0]
                if size > MAX_CUT_TEXT:
                    raise _Closed()
                self._recv_exact(size)
            else:
                raise _Closed()


class ConsoleServer(socketserver.ThreadingTCPServer):
    """The consoles of every VM, on one port."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, state, tokens, host='127.0.0.1', port=0):
        self.state = state
        self.tokens = tokens
        socketserver.ThreadingTCPServer.__init__(self, (host, port),
                                                 ConsoleHandler)
        self._thread = None

    @property
    def port(self):
        return self.server_address[1]

    def start(self):
        self._thread = threading.Thread(target=self.serve_forever,
                                        name='vm-consoles', daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._thread is not None:
            self.shutdown()
            self._thread.join(10)
            self._thread = None
        self.server_close()
