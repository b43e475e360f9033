"""Tempest against the quick-start cloud.

Writes a Tempest workspace under the stack's work directory (``tempest/``),
creates what Tempest's configuration names (two images stored through the
Glance store, two flavors), writes ``etc/tempest.conf`` from what the stack
really runs, and runs ``tempest run`` with the checked-in include and skip
lists (``tempest/include-list.txt``, ``tempest/skip-list.txt``).  Results
are read back from the workspace's stestr repository as a subunit stream.

    python -m quickstart.tempest_run --workdir .state/quickstart

runs it against a quick start left running with ``--keep``.
"""

import argparse
import collections
import functools
import http.server
import os
import subprocess
import sys
import threading
import time

from quickstart import configs
from quickstart import procs
from quickstart import stack as stack_mod

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INCLUDE_LIST = os.path.join(REPO, 'tempest', 'include-list.txt')
SKIP_LIST = os.path.join(REPO, 'tempest', 'skip-list.txt')

IMAGE_NAMES = ('tempest-image', 'tempest-image-alt')
FLAVORS = (('tempest.small', 256, 1), ('tempest.alt', 512, 1))

# What the stack does not run or the drivers do not do; each is a
# configuration switch in Tempest, so the tests behind it are skipped by
# Tempest itself with this reason (doc/source/quickstart.rst lists them).
FEATURES_OFF = {
    'compute-feature-enabled': {
        # AHV's v4 API has no pause (freeze in memory) nor suspend (save to
        # disk): the Nova driver raises NotImplementedError.
        'pause': 'False',
        'suspend': 'False',
        # No console log, no metadata service, no config drive: the v4 API
        # has no VM console log, and the stack runs no nova-metadata-api.
        # (VNC consoles work: nova-novncproxy relays the emulator's.)
        'console_output': 'False',
        'spice_console': 'False',
        'serial_console': 'False',
        'metadata_service': 'False',
        'config_drive': 'False',
        'personality': 'False',
        # One compute node: nothing to live- or cold-migrate to.
        'live_migration': 'False',
        'cold_migration': 'False',
        'shelve_migrate': 'False',
        # Setting a guest's password needs an agent in a guest we do not
        # run.  (Nova's API still returns the generated adminPass, so
        # enable_instance_password stays on: Tempest checks the schema.)
        'change_password': 'False',
        'attach_encrypted_volume': 'False',
        'swap_volume': 'False',
        'volume_multiattach': 'False',
        'stable_rescue': 'False',
        'ide_bus': 'False',
        'unified_limits': 'False',
    },
    'volume-feature-enabled': {
        # The stack runs no cinder-backup.
        'backup': 'False',
        'extend_attached_encrypted_volume': 'False',
    },
    'network-feature-enabled': {
        # AHV IP address management is IPv4 only: IPv6 subnets are not
        # carried to the cluster (doc/source/networking.rst, Limits).
        'ipv6': 'False',
        'ipv6_subnet_attributes': 'False',
        # No L3 (routers, floating IPs) and no port security: the quick
        # start runs no L3 agent and AHV VLAN subnets have no port filter.
        'floating_ips': 'False',
        'port_security': 'False',
    },
    'image-feature-enabled': {
        # glance-api is not configured to convert, and no HTTP store.
        'image_conversion': 'False',
        'http_store_enabled': 'False',
    },
}


def _say_default(msg):
    print(msg, flush=True)


class TempestRun(object):
    """One Tempest workspace for one stack."""

    def __init__(self, stack, say=_say_default, concurrency=4):
        self.stack = stack
        self.say = say
        self.concurrency = concurrency
        self.workspace = stack.lay.path('tempest')
        self.conf_path = os.path.join(self.workspace, 'etc', 'tempest.conf')
        self.log_path = stack.lay.path('logs', 'tempest.log')

    def _bin(self, name):
        return procs.bin_path(name)

    # -- resources -----------------------------------------------------------
    def _make_image_file(self, path):
        """A small bootable-looking qcow2 (boot sector, some data)."""
        raw = path + '.raw'
        with open(raw, 'wb') as f:
            f.truncate(32 * 1024 * 1024)
            f.seek(0)
            f.write(b'\xeb\x63\x90' + b'tempest boot sector'.ljust(509, b'\0'))
            f.seek(510)
            f.write(b'\x55\xaa')
            f.seek(4 * 1024 * 1024)
            f.write(os.urandom(512 * 1024))
        subprocess.run(['qemu-img', 'convert', '-f', 'raw', '-O', 'qcow2',
                        raw, path], check=True)
        os.unlink(raw)

    def create_resources(self):
        """Images and flavors that tempest.conf points at (idempotent)."""
        conn = self.stack.connection()
        image_ids = []
        for name in IMAGE_NAMES:
            found = [i for i in conn.image.images(name=name)
                     if i.status == 'active']
            if found:
                image_ids.append(found[0].id)
                continue
            path = os.path.join(self.workspace, name + '.qcow2')
            self._make_image_file(path)
            img = conn.image.create_image(
                name=name, filename=path, disk_format='qcow2',
                container_format='bare', visibility='public',
                wait=True, allow_duplicates=True)
            img = conn.image.wait_for_status(img, 'active', failures=[
                'killed', 'deleted'], wait=300)
            image_ids.append(img.id)
        flavor_ids = []
        for name, ram, disk in FLAVORS:
            flavor = conn.compute.find_flavor(name)
            if flavor is None:
                flavor = conn.compute.create_flavor(name=name, ram=ram,
                                                    vcpus=1, disk=disk)
            flavor_ids.append(flavor.id)
        return image_ids, flavor_ids

    # -- configuration -------------------------------------------------------
    def serve_image(self):
        """Serve a qcow2 over HTTP on loopback for Tempest's URL imports.

        ``[image] http_image`` and ``http_qcow2_image``: Tempest's
        web-download import tests fetch that URL through glance-api (the
        quick start lets Glance fetch from 127.0.0.1); the default, on
        download.cirros-cloud.net, needs the internet.
        """
        name = 'http-image.qcow2'
        path = os.path.join(self.workspace, name)
        if not os.path.exists(path):
            self._make_image_file(path)
        handler = functools.partial(_QuietHandler, directory=self.workspace)
        server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server, 'http://127.0.0.1:%d/%s' % (server.server_address[1],
                                                   name)

    def network_facts(self):
        """The provider network's id and Neutron's loaded extensions."""
        conn = self.stack.connection()
        net = conn.network.find_network(stack_mod.PROVIDER_NETWORK)
        return {
            'public_network_id': net.id if net is not None else '',
            'extensions': sorted(e.alias for e in conn.network.extensions()),
        }

    def conf_sections(self, image_ids, flavor_ids, http_image=None,
                      network=None):
        network = network or {'public_network_id': '', 'extensions': []}
        lay = self.stack.lay
        build_timeout = '300'
        sections = {
            'DEFAULT': {
                'log_file': lay.path('logs', 'tempest-run.log'),
            },
            'oslo_concurrency': {
                'lock_path': os.path.join(self.workspace, 'tempest_lock'),
            },
            'auth': {
                'admin_username': 'admin',
                'admin_password': configs.ADMIN_PASSWORD,
                'admin_project_name': 'admin',
                'admin_domain_name': 'Default',
                'use_dynamic_credentials': 'True',
                # No routers (no L3 agent): Tempest's per-project network,
                # subnet and router cannot be made.  Servers boot on the
                # shared provider network ([compute] fixed_network_name).
                'create_isolated_networks': 'False',
            },
            'identity': {
                'uri_v3': lay.auth_url,
                'auth_version': 'v3',
                'region': configs.REGION,
                'v3_endpoint_type': 'public',
            },
            'identity-feature-enabled': {
                'api_v2': 'False',
                'api_v3': 'True',
            },
            'compute': {
                'image_ref': image_ids[0],
                'image_ref_alt': image_ids[1],
                'flavor_ref': flavor_ids[0],
                'flavor_ref_alt': flavor_ids[1],
                'min_compute_nodes': '1',
                'build_timeout': build_timeout,
                'region': configs.REGION,
                'fixed_network_name': stack_mod.PROVIDER_NETWORK,
                # The time budget of the end-to-end stage: the tests of
                # microversions above 2.36 (mostly the same calls with
                # other schemas) are not run.
                'min_microversion': '2.1',
                'max_microversion': '2.36',
            },
            'compute-feature-enabled': {
                'resize': 'True',
                'shelve': 'True',
                'snapshot': 'True',
                'rescue': 'True',
                # nova-novncproxy relays the emulator's RFB consoles.
                'vnc_console': 'True',
                'disk_config': 'False',
            },
            'image': {
                'region': configs.REGION,
                'http_image': http_image or '',
                'http_qcow2_image': http_image or '',
                'build_timeout': build_timeout,
                'container_formats': 'bare,ami,ari,aki,ovf,ova',
                'disk_formats': 'raw,qcow2,iso,vmdk,vhdx,ami,ari,aki',
            },
            'image-feature-enabled': {
                'api_v2': 'True',
                'import_image': 'True',
                'os_glance_reserved': 'True',
                'manage_locations': 'False',
            },
            'volume': {
                'region': configs.REGION,
                'catalog_type': 'volumev3',
                'backend_names': 'nutanix',
                'storage_protocol': 'iSCSI',
                'vendor_name': 'Nutanix',
                'volume_size': '1',
                # The driver names a snapshot's recovery point as Cinder
                # names the snapshot (Tempest's default is LVM's
                # "_snapshot-%s").
                'manage_snapshot_ref': 'source-name,snapshot-%s',
                # Uploads to other formats convert with qemu-img as root
                # (privsep through cinder-rootwrap), which the quick start,
                # run as a user without sudo rules, does not have.
                'disk_format': 'raw',
                'build_timeout': build_timeout,
                'min_microversion': '3.0',
                'max_microversion': 'latest',
            },
            'volume-feature-enabled': {
                'snapshot': 'True',
                'clone': 'True',
                'manage_volume': 'True',
                'manage_snapshot': 'True',
                'extend_attached_volume': 'True',
                'multi_backend': 'False',
            },
            'validation': {
                'run_validation': 'False',
            },
            'network': {
                'region': configs.REGION,
                # The quick start's shared flat provider network (an AHV
                # subnet on VLAN 0) is the public network too.
                'public_network_id': network['public_network_id'],
                'floating_network_name': '',
                'project_network_cidr': '10.100.0.0/16',
                'project_network_mask_bits': '28',
                'build_timeout': build_timeout,
            },
            'network-feature-enabled': {
                # What the ML2 plugin really loads (no service plugins).
                'api_extensions': ','.join(network['extensions']),
            },
            'service_available': {
                'glance': 'True',
                'nova': 'True',
                'cinder': 'True',
                # ML2 with the nutanix mechanism driver: ports are NICs.
                'neutron': 'True',
                'swift': 'False',
                'horizon': 'False',
            },
        }
        for section, values in FEATURES_OFF.items():
            sections.setdefault(section, {}).update(values)
        return sections

    def init_workspace(self):
        # "tempest init" refuses a directory that exists and is not empty,
        # and a name already in its registry of workspaces: keep that
        # registry in the stack's work directory, not ~/.tempest.
        if not os.path.exists(os.path.join(self.workspace, '.stestr.conf')):
            procs.run([self._bin('tempest'), 'init', '--workspace-path',
                       self.stack.lay.path('tempest-workspaces.yaml'),
                       self.workspace], self.log_path)

    def write_conf(self, http_image=None):
        self.init_workspace()
        image_ids, flavor_ids = self.create_resources()
        text = configs.render(
            self.conf_sections(image_ids, flavor_ids, http_image,
                               self.network_facts()),
            self.stack.lay.overrides.get('tempest'))
        with open(self.conf_path, 'w') as f:
            f.write(text)
        return self.conf_path

    # -- running -------------------------------------------------------------
    def run(self, include_list=INCLUDE_LIST, skip_list=SKIP_LIST,
            timeout=3600):
        """Run Tempest; return a Results (counts, failures, wall time)."""
        self.init_workspace()
        server, http_image = self.serve_image()
        try:
            return self._run(include_list, skip_list, timeout, http_image)
        finally:
            server.shutdown()
            server.server_close()

    def _run(self, include_list, skip_list, timeout, http_image):
        self.write_conf(http_image)
        argv = [self._bin('tempest'), 'run',
                '--config-file', self.conf_path,
                '--include-list', include_list,
                '--exclude-list', skip_list,
                '--concurrency', str(self.concurrency)]
        self.say('  $ %s' % ' '.join(argv))
        start = time.time()
        with open(self.log_path, 'ab') as log:
            proc = subprocess.run(argv, cwd=self.workspace, stdout=log,
                                  stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, timeout=timeout,
                                  env=self.stack.cli_env())
        results = self.results()
        results.wall_time = time.time() - start
        results.returncode = proc.returncode
        return results

    def results(self):
        """Per-test outcomes of the last run, from the stestr repository."""
        stream = subprocess.run(
            [self._bin('stestr'), 'last', '--subunit'], cwd=self.workspace,
            capture_output=True, check=False).stdout
        return Results.from_subunit(stream)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class Results(object):

    def __init__(self):
        self.status = {}          # test id -> success/skip/fail/...
        self.details = {}         # test id -> skip reason or failure text
        self.wall_time = None
        self.returncode = None

    @classmethod
    def from_subunit(cls, data):
        import io

        import subunit
        import testtools

        res = cls()

        class Collect(testtools.StreamResult):
            def status(self, test_id=None, test_status=None, file_name=None,
                       file_bytes=None, **kwargs):
                if not test_id:
                    return
                if file_name in ('reason', 'traceback') and file_bytes:
                    # (subunit hands over memoryviews)
                    res.details[test_id] = res.details.get(test_id, '') + \
                        bytes(file_bytes).decode('utf-8', 'replace')
                if test_status in ('success', 'skip', 'fail', 'xfail',
                                   'uxsuccess'):
                    res.status[test_id] = test_status

        case = subunit.ByteStreamToStreamResult(io.BytesIO(data),
                                                non_subunit_name='stdout')
        collect = Collect()
        collect.startTestRun()
        case.run(collect)
        collect.stopTestRun()
        return res

    @staticmethod
    def _name(test_id):
        # Drop the "[id-...,tags]" suffix and setUpClass wrappers' noise.
        return test_id.split('[', 1)[0]

    def counts(self):
        c = collections.Counter(self.status.values())
        return {'passed': c['success'] + c['xfail'],
                'skipped': c['skip'],
                'failed': c['fail'] + c['uxsuccess']}

    def failures(self):
        return sorted(t for t, s in self.status.items()
                      if s in ('fail', 'uxsuccess'))

    def skip_reasons(self):
        """reason -> number of tests Tempest skipped for it."""
        reasons = collections.Counter()
        for test_id, status in self.status.items():
            if status == 'skip':
                text = self.details.get(test_id, '').strip() or '(none)'
                reasons[text.splitlines()[0][:200]] += 1
        return reasons

    def summary(self):
        lines = ['Tempest: %(passed)d passed, %(skipped)d skipped, '
                 '%(failed)d failed' % self.counts()]
        if self.wall_time is not None:
            lines[0] += ' in %.0fs' % self.wall_time
        for test_id in self.failures():
            lines.append('  FAILED %s' % self._name(test_id))
        return '\n'.join(lines)


def main(argv=None):
    from quickstart import stack as stack_mod

    p = argparse.ArgumentParser(prog='quickstart.tempest_run',
                                description=__doc__,
                                formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument('--workdir', default=os.path.join(os.getcwd(), '.state',
                                                     'quickstart'),
                   help='work directory of a running quick start (--keep)')
    p.add_argument('--port-base', type=int, default=0,
                   help='the --port-base the quick start was started with')
    p.add_argument('--concurrency', type=int, default=4)
    p.add_argument('--include-list', default=INCLUDE_LIST)
    p.add_argument('--skip-list', default=SKIP_LIST)
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    stack = stack_mod.Stack(args.workdir,
                            ports=stack_mod.ports_from_base(args.port_base))
    run = TempestRun(stack, concurrency=args.concurrency)
    results = run.run(args.include_list, args.skip_list)
    print(results.summary())
    for reason, n in results.skip_reasons().most_common():
        print('  skipped %4d: %s' % (n, reason))
    return 1 if results.failures() or not results.status else 0


if __name__ == '__main__':
    sys.exit(main())
