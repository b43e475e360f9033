"""Unit tests of nutanix_openstack.coordination (no backend needed)."""

import os
import tempfile
import threading
import unittest

from oslo_config import cfg

from nutanix_openstack import coordination
from nutanix_openstack.prism import exceptions as exc


class _Lock(object):
    """A tooz-like lock whose acquire answers as told."""

    def __init__(self, acquire=True, release_error=None):
        self._acquire = acquire
        self._release_error = release_error
        self.released = False

    def acquire(self, blocking=True):
        self.blocking = blocking
        if isinstance(self._acquire, Exception):
            raise self._acquire
        return self._acquire

    def release(self):
        self.released = True
        if self._release_error:
            raise self._release_error


class RetryError(Exception):
    """Named like tenacity's, which etcd3gw's lock raises on timeout."""


class GuardedTest(unittest.TestCase):

    def test_body_runs_under_the_lock(self):
        lock = _Lock()
        with coordination.guarded(lock, 'n', timeout=2):
            self.assertFalse(lock.released)
        self.assertTrue(lock.released)
        self.assertEqual(2.0, lock.blocking)

    def test_no_timeout_waits_forever(self):
        lock = _Lock()
        with coordination.guarded(lock, 'n', timeout=0):
            pass
        self.assertIs(True, lock.blocking)

    def _refused(self, lock):
        ran = []
        with self.assertRaises(exc.CoordinationFailed) as ctx:
            with coordination.guarded(lock, 'nutanix-openstack-x', 3,
                                      'coordination backend etcd3+http'):
                ran.append(1)
        self.assertEqual([], ran)
        return str(ctx.exception)

    def test_backend_error_runs_nothing(self):
        msg = self._refused(_Lock(ConnectionError('refused')))
        self.assertIn('etcd3+http failed', msg)
        self.assertIn('refused', msg)
        self.assertIn('not run', msg)

    def test_timeout_runs_nothing(self):
        self.assertIn('within 3s', self._refused(_Lock(False)))
        self.assertIn('within 3s', self._refused(_Lock(RetryError())))

    def test_release_failure_is_only_logged(self):
        lock = _Lock(release_error=ConnectionError('gone'))
        with coordination.guarded(lock, 'n'):
            pass
        self.assertTrue(lock.released)


class CoordinatorTest(unittest.TestCase):

    def test_file_backend_excludes_threads_and_processes(self):
        path = tempfile.mkdtemp()
        coordinator = coordination.Coordinator('file://' + path)
        self.addCleanup(coordinator.stop)
        inside = []
        overlap = []

        def work():
            with coordinator.lock('image-1'):
                inside.append(1)
                overlap.append(len(inside))
                threading.Event().wait(0.02)
                inside.pop()
        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual([1, 1, 1, 1], overlap)
        self.assertTrue(os.listdir(path))

    def test_lock_path_is_the_default_file_backend(self):
        coordinator = coordination.Coordinator(lock_path='/var/lock/x')
        self.assertEqual('file:///var/lock/x', coordinator.backend_url)
        self.assertEqual('coordination backend file', coordinator.backend)

    def test_without_backend_or_lock_path_the_lock_is_local(self):
        coordinator = coordination.Coordinator()
        self.assertIsNone(coordinator.backend_url)
        with coordinator.lock('x'):
            pass

    def test_unknown_backend_is_a_clear_error(self):
        coordinator = coordination.Coordinator('nosuch://x')
        self.assertRaises(exc.CoordinationFailed,
                          coordinator.lock('x').__enter__)

    def test_from_conf_registers_and_reads_the_options(self):
        conf = cfg.ConfigOpts()
        conf([], project='test')
        conf.register_opts([cfg.StrOpt('lock_path')],
                           group='oslo_concurrency')
        conf.set_override('lock_path', '/tmp/l', group='oslo_concurrency')
        conf.register_opts(coordination.coordination_opts,
                           group='coordination')
        conf.set_override('lock_timeout', 7, group='coordination')
        coordinator = coordination.Coordinator.from_conf(conf)
        self.assertEqual('file:///tmp/l', coordinator.backend_url)
        self.assertEqual(7, coordinator.lock_timeout)
        conf.set_override('backend_url', 'etcd3+http://127.0.0.1:2379',
                          group='coordination')
        self.assertEqual('etcd3+http://127.0.0.1:2379',
                         coordination.Coordinator.from_conf(
                             conf).backend_url)

    def test_backend_url_is_secret(self):
        opts = dict(coordination.list_opts())['coordination']
        self.assertTrue(opts[0].secret)
