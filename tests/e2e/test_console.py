"""A server's console through nova-novncproxy, as a browser reaches it.

``openstack console url show`` gives noVNC's page on nova-novncproxy with
Nova's console token; the page loads, and a WebSocket client (websockify's,
the library the proxy itself runs on) speaks RFB through the proxy to the
emulator's console of the server's VM, which draws the VM's name.
"""

import json
import subprocess
import urllib.parse

import requests
from websockify import websocket

from quickstart import procs


def _cli(stack, *args):
    proc = subprocess.run([procs.bin_path('openstack')] + list(args) +
                          ['-f', 'json'], env=stack.cli_env(),
                          capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


class _WebSocket(websocket.WebSocket):
    # websockify's client sends the URL's path only; noVNC sends the query
    # (the token) too.
    query = ''

    def send_request(self, type, path):
        super().send_request(type, path + self.query)


class WsRfb(object):
    """RFB over nova-novncproxy's WebSocket."""

    def __init__(self, url, origin):
        self.ws = _WebSocket()
        query = urllib.parse.urlsplit(url).query
        self.ws.query = '?' + query if query else ''
        self.ws.connect(url, origin=origin, protocols=['binary'])
        self.buf = b''

    def recv_exact(self, size):
        while len(self.buf) < size:
            data = self.ws.recvmsg()
            assert data is not None, 'proxy closed: %s %s' % (
                self.ws.close_code, self.ws.close_reason)
            self.buf += data
        out, self.buf = self.buf[:size], self.buf[size:]
        return out

    def send(self, data):
        self.ws.sendmsg(data)

    def close(self):
        self.ws.shutdown(2)


def test_console_url_opens_the_vms_console(stack):
    conn = stack.connection()
    image = conn.image.create_image(
        name='qs-console-image', data=b'\0' * (1 << 20), disk_format='raw',
        container_format='bare')
    server = None
    try:
        server = conn.compute.create_server(
            name='qs-console', image_id=image.id,
            flavor_id=conn.compute.find_flavor('qs.small').id,
            networks='none')
        server = conn.compute.wait_for_server(server, wait=300)
        console = _cli(stack, 'console', 'url', 'show', '--novnc',
                       server.id)
        url = console['url']
        assert url.startswith(stack.lay.novnc_url() + '?'), url
        page = requests.get(url, timeout=30)
        assert page.status_code == 200
        assert 'noVNC' in page.text
        # noVNC connects to the proxy's WebSocket with the page's "path".
        path = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)[
            'path'][0]
        origin = 'http://127.0.0.1:%d' % stack.ports['novncproxy']
        rfb = WsRfb('ws://127.0.0.1:%d/%s' % (stack.ports['novncproxy'],
                                              path.lstrip('/')), origin)
        try:
            assert rfb.recv_exact(12) == b'RFB 003.008\n'
            rfb.send(b'RFB 003.008\n')
            count = rfb.recv_exact(1)[0]
            assert rfb.recv_exact(count) == b'\x01'
            rfb.send(b'\x01')
            assert rfb.recv_exact(4) == b'\0\0\0\0'
            rfb.send(b'\x01')
            rfb.recv_exact(4 + 16)
            size = int.from_bytes(rfb.recv_exact(4), 'big')
            # The driver names a VM after its instance.
            assert rfb.recv_exact(size).decode() == server.id
        finally:
            rfb.close()
        # A bad token is refused by the proxy.
        bad = WsRfb('ws://127.0.0.1:%d/?token=not-a-token'
                    % stack.ports['novncproxy'], origin)
        try:
            assert bad.ws.recvmsg() is None
        finally:
            bad.close()
    finally:
        if server is not None:
            conn.compute.delete_server(server)
            conn.compute.wait_for_delete(server, wait=300)
        conn.image.delete_image(image)
