"""One emulator process per data directory.

The emulator keeps part of its consistency in the memory of its process:
the lock that makes a recovery point crash-consistent across VMs and volume
groups (:data:`volumes_sources.LOCK`), the threads that run tasks, the
start-up check that fails tasks a killed process left RUNNING, the
one-upload-per-image guard and the injected faults.  Two processes on one
data directory would each hold their own copy: a recovery point could be
taken while the other process clones a disk, and a second process starting
would fail the tasks the first one is running.  So a process serves a data
directory only while it holds an exclusive ``flock`` on
``<data_dir>/emulator.lock``; a second process (another ``nutanix-emulator``,
a second WSGI worker) is refused with :class:`DataDirInUse`, which says why.
The kernel drops the lock when the process ends, ``kill -9`` included, so a
restart never finds a stale lock.  Scale the one process with threads
(``server_threads``).
"""

import errno
import fcntl
import os

LOCK_NAME = 'emulator.lock'


class DataDirInUse(RuntimeError):
    """Another process serves this data directory."""


class DataDirLock(object):
    """Holds ``<data_dir>/emulator.lock`` until :meth:`release`."""

    def __init__(self, data_dir):
        self.path = os.path.join(data_dir, LOCK_NAME)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            owner = os.pread(fd, 32, 0).decode('ascii', 'replace').strip()
            os.close(fd)
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN,
                                 errno.EACCES):
                raise
            raise DataDirInUse(
                "nutanix-emulator: data_dir %s is already served by another "
                "process (pid %s). One process serves a data directory: its "
                "consistency lock, task threads and injected faults live in "
                "that process's memory. Run a single process (one WSGI "
                "worker) and scale it with threads (server_threads; under "
                "gunicorn: --workers 1 --threads N)."
                % (os.path.dirname(self.path), owner or 'unknown'))
        os.ftruncate(fd, 0)
        os.pwrite(fd, b'%d\n' % os.getpid(), 0)
        self._fd = fd

    def release(self):
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)
