"""The emulator's shared objects, reachable from any request.

:class:`Backend` owns the state store, the disk store, the task manager,
the fault registry and the settings; :func:`get` returns the one of the
running Flask app.  API modules use it as ``backend.get().state`` etc.
"""

import os
import shutil
import threading

import flask

from nutanix_openstack.emulator import config
from nutanix_openstack.emulator import console
from nutanix_openstack.emulator import datadir_lock
from nutanix_openstack.emulator import faults as faults_mod
from nutanix_openstack.emulator import inventory
from nutanix_openstack.emulator import reconcile
from nutanix_openstack.emulator import state as state_mod
from nutanix_openstack.emulator import tasks as tasks_mod

EXTENSION = 'nutanix_emulator'


def default_disk_store(root_dir, chunk_size):
    # Imported here so the HTTP layer can be tested with another store.
    from nutanix_openstack.emulator import storage
    return storage.DiskStore(root_dir, chunk_size=chunk_size)


def rbd_disk_store(storage_opts, chunk_size):
    """The RBD store of ``[storage]``.

    CephUnavailable (a StorageError) when Ceph or the pool cannot be
    reached.
    """
    from nutanix_openstack.emulator.storage import rbdstore
    return rbdstore.RbdDiskStore(
        storage_opts.ceph_conf, storage_opts.rbd_pool,
        rbd_user=storage_opts.rbd_user, chunk_size=chunk_size,
        connect_timeout=storage_opts.rbd_connect_timeout,
        busy_timeout=storage_opts.rbd_busy_timeout,
        busy_interval=storage_opts.rbd_busy_interval)


class Backend(object):
    """Everything a request handler needs, built once per app."""

    def __init__(self, conf, disk_store_factory=None):
        opts = conf[config.GROUP]
        self.conf = conf
        self.opts = opts
        self.data_dir = opts.data_dir
        os.makedirs(self.data_dir, exist_ok=True)
        # Before anything reads or repairs state: one process per data_dir
        # (raises DataDirInUse otherwise).
        self._dir_lock = datadir_lock.DataDirLock(self.data_dir)
        try:
            self.state = state_mod.StateStore(
                os.path.join(self.data_dir, 'state.sqlite'))
            self.disks_dir = os.path.join(self.data_dir, 'disks')
            # Scratch space for format conversions; leftovers of a killed
            # process are removed at start.
            self.tmp_dir = os.path.join(self.data_dir, 'tmp')
            shutil.rmtree(self.tmp_dir, ignore_errors=True)
            self._disk_factory = disk_store_factory
            # Ceph down or the pool missing: StorageError here, before
            # anything listens.
            self.disks = self._new_disk_store()
            self.faults = faults_mod.FaultRegistry()
            self.inventory = inventory.load(opts.inventory_file)
            inventory.seed(self.state, self.inventory)
            self.tasks = tasks_mod.TaskManager(
                self.state, mode=opts.task_mode, delay=opts.task_delay,
                cluster_ext_id=self.inventory.cluster_ext_id,
                fault_hook=self.faults.take_task_fault,
                threads=opts.task_threads, recover=False)
            # Console tokens handed out by generate-console-token, checked
            # by the console server (console.py).
            self.console_tokens = console.TokenBook()
            # Incoming replications a restart interrupted are never
            # committed.
            from nutanix_openstack.emulator import replication
            replication.sweep_sessions(self)
            # Nothing unacknowledged is left after a crash (this process
            # is alone on the data dir: see datadir_lock.py).
            # Unowned disks are collected only from the local store, which
            # lives in this data dir; a Ceph pool may be shared.
            self.reconciled = reconcile.reconcile(
                self.state, self.disks, self.tasks,
                collect_unowned=(self.conf[config.STORAGE_GROUP].backend !=
                                 'rbd'))
        except BaseException:
            self._dir_lock.release()
            raise
        # Serialises admin reset against itself.
        self.reset_lock = threading.Lock()

    def reset(self):
        """Forget every object and byte; reseed the inventory."""
        with self.reset_lock:
            self.tasks.cancel_pending(timeout=30)
            self.faults.clear()
            # Every disk goes, whoever (images, VMs, volume groups) made it.
            self.disks.clear()
            self.state.reset()
            inventory.seed(self.state, self.inventory)

    def _new_disk_store(self):
        if self._disk_factory is not None:
            return self._disk_factory(self.disks_dir, self.opts.chunk_size)
        storage_opts = self.conf[config.STORAGE_GROUP]
        if storage_opts.backend == 'rbd':
            return rbd_disk_store(storage_opts, self.opts.chunk_size)
        return default_disk_store(self.disks_dir, self.opts.chunk_size)

    def close(self):
        self.tasks.close(timeout=10)
        try:
            self.disks.close()
        finally:
            try:
                self.state.close()
            finally:
                self._dir_lock.release()


def get():
    """The Backend of the current Flask app."""
    return flask.current_app.extensions[EXTENSION]
