"""One emulator process per data directory (datadir_lock)."""

import subprocess
import sys
import textwrap

import pytest

from nutanix_openstack.emulator import datadir_lock


def test_second_holder_is_refused_until_release(tmp_path):
    first = datadir_lock.DataDirLock(str(tmp_path))
    with pytest.raises(datadir_lock.DataDirInUse) as exc:
        datadir_lock.DataDirLock(str(tmp_path))
    message = str(exc.value)
    assert str(tmp_path) in message
    assert 'one process' in message.lower() or 'One process' in message
    assert 'server_threads' in message
    first.release()
    again = datadir_lock.DataDirLock(str(tmp_path))
    again.release()


def test_another_process_holding_it_is_named(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, '-c', textwrap.dedent('''
            import sys, time
            from nutanix_openstack.emulator import datadir_lock
            lock = datadir_lock.DataDirLock(sys.argv[1])
            print('held', flush=True)
            sys.stdin.read()
        '''), str(tmp_path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline() == b'held\n'
        with pytest.raises(datadir_lock.DataDirInUse,
                           match='pid %d' % holder.pid):
            datadir_lock.DataDirLock(str(tmp_path))
    finally:
        holder.kill()
        holder.wait()
    # The kernel dropped the dead process's lock: no stale lock file.
    datadir_lock.DataDirLock(str(tmp_path)).release()
