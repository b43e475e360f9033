"""Cross-host locks: several processes ask for the same image's raw disk.

Each "host" is a separate OS process (``coordination_worker``) with its
own PrismClient and its own tooz coordinator, against one emulator whose
tasks take long enough for the callers to overlap.  Backends: a file lock
(one host) and a real etcd on loopback (tools/etcd.sh, Debian's
etcd-server), the production backend.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

from nutanix_openstack import coordination
from nutanix_openstack.emulator import fixture as emu_fixture
from nutanix_openstack.prism import exceptions as exc
from nutanix_openstack.prism import images
from nutanix_openstack.prism import paths
from tests.functional.prism import base

MIB = 1024 * 1024
REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))))
ETCD_SH = os.path.join(REPO, 'tools', 'etcd.sh')
WORKER = 'tests.functional.prism.coordination_worker'
# Long enough for every worker to be waiting while the first derives.
TASK_DELAY = 1.0


class _Contention(object):
    """Mixed into a test case per backend."""

    task_mode = 'async'

    def setUp(self):
        super().setUp()
        self.admin.set_task_mode('async', delay=TASK_DELAY)
        self.tmp = tempfile.mkdtemp(prefix='nutanix-coord-')
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.go = os.path.join(self.tmp, 'go')
        self.iso = self.upload_image('iso', base.random_bytes(MIB),
                                     image_type='ISO_IMAGE')

    def backend_url(self):
        raise NotImplementedError

    def start_worker(self, backend_url=None, go=True, **extra):
        args = dict(endpoint=self.emulator.endpoint,
                    username=self.emulator.username,
                    password=self.emulator.password,
                    backend_url=backend_url or self.backend_url(),
                    image=self.iso, go=self.go if go else None, **extra)
        proc = subprocess.Popen(
            [sys.executable, '-m', WORKER, json.dumps(args)], cwd=REPO,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.addCleanup(_reap, proc)
        return proc

    def result(self, proc, timeout=60):
        out, err = proc.communicate(timeout=timeout)
        lines = out.decode().strip().splitlines()
        self.assertTrue(lines, 'worker said nothing: %s' % err.decode())
        return json.loads(lines[-1])

    def derived_images(self):
        name = images.derived_disk_image_name(self.iso)
        return [i for i in self.client.images.list() if i['name'] == name]

    def create_image_tasks(self):
        """The cluster tasks that create the derived image."""
        name = images.derived_disk_image_name(self.iso)
        return [t for t in self.client.session.list_all(paths.TASKS)
                if t.get('operation') == 'CreateImage' and
                name in [e.get('name') for e in t.get('entitiesAffected')
                         or ()]]

    def assert_processes_derive_once(self, count=3):
        procs = [self.start_worker() for _ in range(count)]
        # Every worker imports, connects to the backend and waits for go.
        time.sleep(1.5)
        open(self.go, 'w').close()
        results = [self.result(p) for p in procs]
        derived = {r.get('derived') for r in results}
        self.assertEqual(1, len(derived), results)
        self.assertNotIn(None, derived, results)
        self.assertEqual(derived, {i['extId'] for i in self.derived_images()})
        self.assertEqual(1, len(self.create_image_tasks()))
        self.assertEqual(2, len(self.inventory('image')))

    def test_processes_on_two_hosts_make_one_raw_disk(self):
        self.assert_processes_derive_once()

    def test_a_held_lock_times_out_and_nothing_is_made(self):
        coordinator = coordination.Coordinator(
            backend_url=self.backend_url(), lock_timeout=5)
        self.addCleanup(coordinator.stop)
        with coordinator.lock('derived-image-' + self.iso):
            proc = self.start_worker(go=False, lock_timeout=0.5)
            result = self.result(proc)
        self.assertEqual('CoordinationFailed', result['error'])
        self.assertIn('within 0.5s', result['message'])
        self.assertEqual([], self.derived_images())
        self.assertEqual([], self.create_image_tasks())

    def test_a_successor_joins_the_derivation_of_a_killed_holder(self):
        # Slow enough to kill the first caller while its task runs.
        self.admin.set_task_mode('async', delay=3.0)
        first = self.start_worker(go=False)
        deadline = time.monotonic() + 30
        while not self.create_image_tasks():
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.05)
        first.send_signal(signal.SIGKILL)
        first.wait()
        # The lock died with its holder; the cluster's task did not.
        result = self.result(self.start_worker(go=False))
        self.assertIn('derived', result)
        self.assertEqual([result['derived']],
                         [i['extId'] for i in self.derived_images()])
        self.assertEqual(1, len(self.create_image_tasks()))


def _reap(proc):
    if proc.poll() is None:
        proc.kill()
    proc.communicate()


class FileLockTest(_Contention, base.EmulatorTestCase):
    """file:// — every process of one host."""

    def backend_url(self):
        return 'file://' + os.path.join(self.tmp, 'locks')


class EtcdLockTest(_Contention, base.EmulatorTestCase):
    """etcd on loopback, through etcd3gw: the production backend."""

    @classmethod
    def setUpClass(cls):
        if not shutil.which('etcd'):
            raise unittest.SkipTest(
                'etcd is not installed (tools/etcd.sh install; '
                'tools/run-tests.sh installs it)')
        super().setUpClass()
        cls.etcd_dir = tempfile.mkdtemp(prefix='nutanix-etcd-')
        cls.addClassCleanup(shutil.rmtree, cls.etcd_dir, True)
        port, peer = emu_fixture.free_port(), emu_fixture.free_port()
        url = subprocess.check_output(
            ['bash', ETCD_SH, 'start', cls.etcd_dir, str(port), str(peer)],
            timeout=60).decode().strip()
        cls.addClassCleanup(subprocess.call,
                            ['bash', ETCD_SH, 'stop', cls.etcd_dir])
        # A dead holder's lock lives until its lease ends (tooz's
        # lock_timeout, 30 s by default): short here.
        cls.etcd_url = url.replace('http://', 'etcd3+http://') + (
            '?lock_timeout=4')

    def backend_url(self):
        return self.etcd_url

    def test_etcd_unreachable_fails_clearly_and_runs_nothing(self):
        dead = 'etcd3+http://127.0.0.1:%d' % emu_fixture.free_port()
        result = self.result(self.start_worker(backend_url=dead, go=False))
        self.assertEqual('CoordinationFailed', result['error'])
        self.assertIn('cannot be reached', result['message'])
        self.assertIn('etcd3+http', result['message'])
        self.assertEqual([], self.derived_images())
        self.assertEqual([], self.create_image_tasks())

    def test_in_process_unreachable_backend_raises(self):
        dead = 'etcd3+http://127.0.0.1:%d' % emu_fixture.free_port()
        coordinator = coordination.Coordinator(backend_url=dead)
        self.client.lock = coordinator.lock
        self.assertRaises(exc.CoordinationFailed,
                          self.client.images.ensure_disk_image, self.iso)
        self.assertEqual([], self.derived_images())
