"""An operator's day on the quick-start cloud, with the real ``openstack`` CLI.

Every step prints the command, its timing and what it proves.  Backend
objects are checked through the Nutanix v4 API (the emulator's, or a real
cluster's), to show that bytes live on the cluster and that clean-up leaves
nothing behind.
"""

import http.server
import json
import os
import pty
import shlex
import subprocess
import threading
import time

from nutanix_openstack.prism import nics as prism_nics
from quickstart import configs
from quickstart import procs
from quickstart import stack as stack_mod


class StepFailed(Exception):
    pass


def _id(obj):
    # Some OSC commands (volume groups, group types) print "ID", not "id".
    return obj.get('id', obj.get('ID'))


class Walk(object):

    def __init__(self, stack, say=print, image_path=None):
        self.stack = stack
        self.say = say
        self.env = stack.cli_env()
        self.timings = []
        self.image_path = image_path
        self.workdir = stack.lay.path('walk')
        os.makedirs(self.workdir, exist_ok=True)
        self._client = None

    # -- plumbing ----------------------------------------------------------
    def osc(self, *args, parse=True, timeout=600, cli='openstack'):
        argv = [procs.bin_path(cli)] + list(args)
        if parse:
            argv += ['-f', 'json']
        self.say('    $ %s %s' % (cli, ' '.join(shlex.quote(a) for a in args)))
        # A terminal on stdin, as for an operator: with a pipe or /dev/null
        # there, "image create" without --file uploads stdin as image data.
        master, slave = pty.openpty()
        try:
            proc = subprocess.run(argv, env=self.env, capture_output=True,
                                  text=True, timeout=timeout, stdin=slave)
        finally:
            os.close(slave)
            os.close(master)
        if proc.returncode != 0:
            raise StepFailed('%s %s failed:\n%s%s'
                             % (cli, ' '.join(args), proc.stdout,
                                proc.stderr))
        if parse and proc.stdout.strip():
            return json.loads(proc.stdout)
        return proc.stdout

    def step(self, title, fn):
        self.say('\n== %s' % title)
        start = time.time()
        result = fn()
        took = time.time() - start
        self.timings.append((title, took))
        self.say('   done in %.1fs' % took)
        return result

    def wait_for(self, what, fn, timeout=300, interval=1.0):
        deadline = time.time() + timeout
        while True:
            value = fn()
            if value:
                return value
            if time.time() > deadline:
                raise StepFailed('timed out waiting for %s' % what)
            time.sleep(interval)

    def wait_status(self, kind, name_or_id, want, timeout=300,
                    bad=('error', 'ERROR', 'killed')):
        def check():
            obj = self.osc(kind, 'show', name_or_id)
            status = obj.get('status', obj.get('Status'))
            if status in bad:
                raise StepFailed('%s %s went to %s: %s'
                                 % (kind, name_or_id, status,
                                    obj.get('fault') or ''))
            return obj if status == want else None
        return self.wait_for('%s %s to be %s' % (kind, name_or_id, want),
                             check, timeout)

    @property
    def backend(self):
        if self._client is None:
            from nutanix_openstack.prism import client
            n = self.stack.nutanix
            self._client = client.PrismClient(
                endpoints=[n['endpoint']], username=n['username'],
                password=n['password'], verify=n.get('verify_ssl', False),
                task_poll_interval=0.2)
        return self._client

    def backend_counts(self):
        return {
            'images': len(self.backend.images.list()),
            'vms': len(self.backend.vms.list()),
            'volume_groups': len(self.backend.volume_groups.list()),
            'recovery_points': len(self.backend.recovery_points.list()),
            'subnets': len(self.backend.subnets.list()),
            'nics': sum(len(vm.get('nics') or [])
                        for vm in self.backend.vms.list()),
        }

    def make_image(self):
        """A small qcow2 disk image (qemu-img), unless one was given."""
        if self.image_path:
            return self.image_path
        raw = os.path.join(self.workdir, 'disk.raw')
        qcow = os.path.join(self.workdir, 'cirros-like.qcow2')
        with open(raw, 'wb') as f:
            f.truncate(64 * 1024 * 1024)
            f.seek(0)
            f.write(b'\xeb\x63\x90' + b'quickstart boot sector'.ljust(509,
                                                                      b'\0'))
            f.seek(510)
            f.write(b'\x55\xaa')
            for i in range(8):
                f.seek(i * 8 * 1024 * 1024 + 4096)
                f.write(os.urandom(256 * 1024))
        subprocess.run(['qemu-img', 'convert', '-f', 'raw', '-O', 'qcow2',
                        raw, qcow], check=True)
        os.unlink(raw)
        return qcow

    def serve_file(self, path):
        """Serve one file over HTTP on loopback, for the URL import."""
        directory = os.path.dirname(path)

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *a, **kw):
                super().__init__(*a, directory=directory, **kw)

            def do_GET(self):
                server.gets += 1
                server.clients.append(self.headers.get('User-Agent', '?'))
                return super().do_GET()

            def log_message(self, *args):
                pass

        server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        server.gets = 0
        server.clients = []
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        url = 'http://127.0.0.1:%d/%s' % (server.server_address[1],
                                          os.path.basename(path))
        return server, url

    # -- the day -------------------------------------------------------------
    STEPS = (
        ('1a. Upload an image (bytes stream to the cluster)', 'upload'),
        ('1b. Import an image from a URL (Glance web-download: Glance '
         'fetches and stages it)', 'url_import'),
        ('1c. Import an image from a URL done by the cluster (openstack '
         'nutanix image import)', 'cluster_import'),
        ('1d. List images: the bytes live on the backend', 'listing'),
        ('2a. A volume from the image (copy-on-write clone)',
         'volume_from_image'),
        ('2b. A server booted from the image, on the provider network',
         'boot_image'),
        ('2c. A server booted from a volume', 'boot_volume'),
        ('3. Snapshot a server (no bytes through nova-compute) and boot '
         'from the snapshot', 'snapshot'),
        ('4. Attach a volume, extend it while attached, detach', 'attach'),
        ('5. Consistency-group snapshot of 3 volumes and a copy of the '
         'group from it', 'group_snapshot'),
        ('6a. Each server\'s Neutron port is a NIC on the backend (same MAC '
         'and IP)', 'server_nics'),
        ('6b. Attach a second interface on a VLAN network, then detach it',
         'second_interface'),
        ('7. Clean up', 'clean_up'),
    )

    def run(self):
        before = self.backend_counts()
        self.say('\nBackend objects before: %s' % before)
        self.image_file = self.make_image()
        self.s = {}
        for title, method in self.STEPS:
            self.step(title, getattr(self, method))
        after = self.backend_counts()
        self.say('\nBackend objects after clean-up: %s' % after)
        if after != before:
            raise StepFailed('backend objects left behind: before %s, after '
                             '%s' % (before, after))
        if after['nics']:
            raise StepFailed('%d NIC(s) left on the backend' % after['nics'])
        return self.timings

    def upload(self):
        img = self.osc('image', 'create', '--disk-format', 'qcow2',
                       '--container-format', 'bare', '--file',
                       self.image_file, 'qs-image')
        self.s['image'] = img['id']
        img = self.wait_status('image', img['id'], 'active')
        # OSC prints direct_url among the "properties".
        props = img.get('properties') or {}
        self.say('   image %s active, %s bytes, stored on the cluster: '
                 '%s' % (img['id'], img.get('size'),
                         img.get('direct_url') or props.get('direct_url')
                         or props.get('locations')))

    def url_import(self):
        server, url = self.serve_file(self.image_file)
        try:
            # An image record first, then the interoperable import
            # (OSC's "image create" takes no import method or URL).
            img = self.osc('image', 'create', '--disk-format', 'qcow2',
                           '--container-format', 'bare', 'qs-imported')
            self.s['imported'] = img['id']
            self.osc('image', 'import', '--method', 'web-download',
                     '--uri', url, img['id'], parse=False)
            # OSC exits 0 even when Glance refuses the import (400):
            # an image still "queued" after a while was never imported.
            start = time.time()

            def imported():
                status = self.osc('image', 'show', img['id'])['status']
                if status == 'queued' and time.time() - start > 30:
                    raise StepFailed('Glance did not start the import; '
                                     'see logs/glance-app.log')
                return status == 'active'
            self.wait_for('image %s to be imported' % img['id'], imported)
        finally:
            server.shutdown()

    def cluster_import(self):
        server, url = self.serve_file(self.image_file)
        n = self.stack.nutanix
        saved = self.env.get('NUTANIX_PASSWORD')
        self.env['NUTANIX_PASSWORD'] = n['password']
        try:
            args = ['nutanix', 'image', 'import', '--url', url,
                    '--disk-format', 'qcow2', '--container-format',
                    'bare', '--nutanix-endpoint', n['endpoint'],
                    '--nutanix-username', n['username'],
                    '--nutanix-container', n['storage_container'],
                    '--wait']
            if not n.get('verify_ssl', True):
                args.append('--nutanix-insecure')
            img = self.osc(*(args + ['qs-cluster-imported']))
            self.s['cluster_imported'] = img['id']
            img = self.wait_status('image', img['id'], 'active')
            self.say('   image %s active, %s bytes; the URL was fetched '
                     '%d time(s), by the cluster: %s'
                     % (img['id'], img.get('size'), server.gets,
                        ', '.join(server.clients)))
        finally:
            server.shutdown()
            if saved is None:
                self.env.pop('NUTANIX_PASSWORD', None)
            else:
                self.env['NUTANIX_PASSWORD'] = saved

    def listing(self):
        out = self.osc('image', 'list', '--long')
        for img in out:
            self.say('   %s  %-12s %s' % (img['ID'], img['Name'],
                                          img['Status']))
        backend = self.backend.images.list()
        self.say('   backend images: %s'
                 % ', '.join('%s (%s, %s bytes)'
                             % (i.get('name'), i.get('type'),
                                i.get('sizeBytes')) for i in backend))
        glance_dir = self.stack.lay.path('glance')
        local = sum(len(f) for _r, _d, f in os.walk(glance_dir))
        self.say('   files under Glance\'s own directories: %d' % local)

    def volume_from_image(self):
        vol = self.osc('volume', 'create', '--size', '1', '--image',
                       self.s['image'], 'qs-vol-from-image')
        self.s['vol_image'] = vol['id']
        self.wait_status('volume', vol['id'], 'available')

    def _boot(self, key, name, *source):
        srv = self.osc('server', 'create', '--flavor', 'qs.small',
                       '--network', stack_mod.PROVIDER_NETWORK,
                       *(source + (name,)))
        self.s[key] = srv['id']
        self.wait_status('server', srv['id'], 'ACTIVE')

    def boot_image(self):
        self._boot('srv_image', 'qs-server-image', '--image',
                   self.s['image'])

    def boot_volume(self):
        vol = self.osc('volume', 'create', '--size', '1', '--image',
                       self.s['image'], '--bootable', 'qs-boot-vol')
        self.s['vol_boot'] = vol['id']
        self.wait_status('volume', vol['id'], 'available')
        self._boot('srv_volume', 'qs-server-volume', '--volume', vol['id'])

    def snapshot(self):
        self.osc('server', 'image', 'create', '--name', 'qs-snapshot',
                 self.s['srv_image'])
        img = self.wait_for(
            'snapshot image', lambda: [
                i for i in self.osc('image', 'list', '--name',
                                    'qs-snapshot')
                if i['Status'] == 'active'])[0]
        self.s['snapshot'] = img['ID']
        self._boot('srv_snap', 'qs-server-snapshot', '--image', img['ID'])

    def attach(self):
        s = self.s
        vol = self.osc('volume', 'create', '--size', '1', 'qs-data')
        s['vol_data'] = vol['id']
        self.wait_status('volume', vol['id'], 'available')
        self.osc('server', 'add', 'volume', s['srv_image'], vol['id'],
                 parse=False)
        self.wait_status('volume', vol['id'], 'in-use')
        self.osc('--os-volume-api-version', '3.42', 'volume', 'set',
                 '--size', '2', vol['id'], parse=False)
        self.wait_for('extend', lambda: self.osc(
            'volume', 'show', vol['id'])['size'] == 2)
        self.osc('server', 'remove', 'volume', s['srv_image'], vol['id'],
                 parse=False)
        self.wait_status('volume', vol['id'], 'available')

    def group_snapshot(self):
        s = self.s
        gtype = self.osc('--os-volume-api-version', '3.11', 'volume',
                         'group', 'type', 'create', 'qs-consistent')
        s['group_type'] = _id(gtype)
        self.osc('--os-volume-api-version', '3.11', 'volume', 'group',
                 'type', 'set', '--property',
                 'consistent_group_snapshot_enabled=<is> True',
                 _id(gtype), parse=False)
        grp = self.osc('--os-volume-api-version', '3.20', 'volume',
                       'group', 'create', '--volume-group-type',
                       _id(gtype), '--volume-type', 'nutanix',
                       '--name', 'qs-db-shards')
        s['group'] = _id(grp)
        self.wait_status('volume group', _id(grp), 'available')
        shards = []
        for i in range(3):
            vol = self.osc('volume', 'create', '--size', '1', '--type',
                           'nutanix', 'qs-shard-%d' % i)
            self.wait_status('volume', _id(vol), 'available')
            shards.append(_id(vol))
        s['shards'] = shards
        self.osc('--os-volume-api-version', '3.20', 'volume', 'group',
                 'add', 'volume', _id(grp), *shards, parse=False)
        snap = self.osc('--os-volume-api-version', '3.14', 'volume',
                        'group', 'snapshot', 'create', '--name',
                        'qs-shards-snap', _id(grp))
        s['group_snap'] = _id(snap)
        self.wait_status('volume group snapshot', _id(snap), 'available')
        # OSC 10 sends "source_group_id": null with --group-snapshot,
        # which Cinder's schema refuses: the cinder CLI does this one.
        self.osc('--os-volume-api-version', '3.14',
                 'group-create-from-src', '--group-snapshot', _id(snap),
                 '--name', 'qs-db-shards-copy', parse=False, cli='cinder')
        clone = self.osc('--os-volume-api-version', '3.20', 'volume',
                         'group', 'show', 'qs-db-shards-copy')
        s['group_copy'] = _id(clone)
        self.wait_status('volume group', _id(clone), 'available')

    # -- networking ------------------------------------------------------
    @staticmethod
    def _port_ips(port):
        ips = port.get('Fixed IP Addresses', port.get('fixed_ips')) or []
        if isinstance(ips, str):
            # Older OSC prints "ip_address='..', subnet_id='..'".
            return [part.split('=', 1)[1].strip("'")
                    for part in ips.replace(',', ' ').split()
                    if part.startswith('ip_address=')]
        return [ip['ip_address'] for ip in ips]

    def backend_nic(self, mac):
        """(VM name, NIC) of the backend NIC with that MAC, or None."""
        for vm in self.backend.vms.list():
            for nic in vm.get('nics') or []:
                if prism_nics.nic_mac(nic) == mac.lower():
                    return vm.get('name'), nic
        return None

    def check_port_nic(self, server_id, port):
        """The port's NIC is on the server's VM with its MAC and IP."""
        mac = port.get('MAC Address', port.get('mac_address'))
        ips = self._port_ips(port)
        found = self.wait_for('NIC with MAC %s on the backend' % mac,
                              lambda: self.backend_nic(mac), timeout=60)
        vm_name, nic = found
        nic_ip = prism_nics.nic_ipv4_address(nic)
        subnet = self.backend.subnets.get(prism_nics.nic_subnet_ext_id(nic))
        self.say('   server %s port %s: MAC %s IP %s -> backend VM %s NIC '
                 '%s MAC %s IP %s on subnet %s (VLAN %s)'
                 % (server_id, port.get('ID', port.get('id')), mac,
                    ', '.join(ips), vm_name, nic.get('extId'),
                    prism_nics.nic_mac(nic), nic_ip, subnet.get('name'),
                    subnet.get('networkId')))
        if vm_name != server_id:
            raise StepFailed('NIC of MAC %s is on VM %s, not on server %s'
                             % (mac, vm_name, server_id))
        if nic_ip not in ips:
            raise StepFailed('NIC of MAC %s has IP %s; Neutron allocated %s'
                             % (mac, nic_ip, ips))

    def server_nics(self):
        for key in ('srv_image', 'srv_volume', 'srv_snap'):
            ports = self.osc('port', 'list', '--server', self.s[key])
            if len(ports) != 1:
                raise StepFailed('server %s has %d ports, not 1'
                                 % (self.s[key], len(ports)))
            self.check_port_nic(self.s[key], ports[0])

    def second_interface(self):
        s = self.s
        net = self.osc('network', 'create', '--provider-network-type',
                       'vlan', '--provider-physical-network',
                       configs.PHYSNET, '--provider-segment', '150',
                       'qs-vlan150')
        s['network'] = net['id']
        self.osc('subnet', 'create', '--network', net['id'],
                 '--subnet-range', '10.30.0.0/24', 'qs-vlan150-v4')
        backend_subnet = self.backend.subnets.find_by_name(
            'openstack-net-%s' % net['id'])
        self.say('   backend subnet %s: VLAN %s, %s'
                 % (backend_subnet.get('name'),
                    backend_subnet.get('networkId'),
                    backend_subnet.get('extId')))
        port = self.osc('port', 'create', '--network', net['id'],
                        'qs-port2')
        s['port'] = port['id']
        server = s['srv_image']
        self.osc('server', 'add', 'port', server, port['id'], parse=False)
        port = self.wait_status('port', port['id'], 'ACTIVE')
        self.check_port_nic(server, {
            'ID': port['id'], 'mac_address': port['mac_address'],
            'fixed_ips': port['fixed_ips']})
        self.osc('server', 'remove', 'port', server, port['id'],
                 parse=False)
        self.wait_for('NIC of port %s to go' % port['id'],
                      lambda: self.backend_nic(port['mac_address']) is None,
                      timeout=120)
        self.say('   detached: no NIC with MAC %s left on the backend'
                 % port['mac_address'])

    def clean_up(self):
        self.cleanup(self.s)

    def cleanup(self, s):
        def quiet(*args):
            try:
                self.osc(*args, parse=False)
            except StepFailed as e:
                self.say('   (%s)' % str(e).splitlines()[0])

        for key in ('srv_snap', 'srv_volume', 'srv_image'):
            if key in s:
                quiet('server', 'delete', '--wait', s[key])
        if 'port' in s:
            quiet('port', 'delete', s['port'])
        if 'network' in s:
            # Takes its AHV subnet (VLAN 150) with it.
            quiet('network', 'delete', s['network'])
        if 'group_copy' in s:
            quiet('--os-volume-api-version', '3.20', 'volume', 'group',
                  'delete', '--force', s['group_copy'])
        if 'group_snap' in s:
            quiet('--os-volume-api-version', '3.14', 'volume', 'group',
                  'snapshot', 'delete', s['group_snap'])
        if 'group' in s:
            quiet('--os-volume-api-version', '3.20', 'volume', 'group',
                  'delete', '--force', s['group'])
        for key in ('vol_data', 'vol_boot', 'vol_image'):
            if key in s:
                quiet('volume', 'delete', s[key])
        if 'group' not in s:
            # (a group deleted with --force took its volumes with it)
            for vid in s.get('shards', []):
                quiet('volume', 'delete', vid)
        self.wait_for('volumes to go', lambda: not [
            v for v in self.osc('volume', 'list')
            if v['Name'].startswith('qs-')], timeout=300)
        if 'group_type' in s:
            quiet('--os-volume-api-version', '3.11', 'volume', 'group',
                  'type', 'delete', s['group_type'])
        for key in ('snapshot', 'cluster_imported', 'imported', 'image'):
            if key in s:
                quiet('image', 'delete', s[key])
