"""The quick start keeps to loopback, and leaves nothing behind when stopped.

While the cloud runs, every socket a process of ours listens on (every
process in the sessions the stack started: the services, their workers,
gunicorn, MariaDB, RabbitMQ and its Erlang port mapper) is bound to
127.0.0.1, read from /proc/net.  The stop test runs last in the session: it
stops the stack and finds no process of its own left and no port answering.
"""

import subprocess

import pytest

from quickstart import configs
from quickstart import procs


def test_nothing_listens_beyond_loopback(stack):
    listeners = stack.group.listeners()
    ports = {port for _pid, _comm, _proto, _addr, port in listeners}
    # The check sees the sockets it is about: RabbitMQ's AMQP and
    # distribution ports, its port mapper, MariaDB, the APIs.
    for name in ('rabbit', 'rabbit_dist', 'epmd', 'mysql', 'keystone',
                 'nova', 'cinder', 'glance', 'emulator', 'vnc',
                 'novncproxy'):
        assert stack.ports[name] in ports, (name, listeners)
    beyond = [sock for sock in listeners if not procs.is_loopback(sock[3])]
    assert beyond == [], beyond


def test_backup_commands_are_refused(stack):
    conn = stack.connection()
    volume = conn.block_storage.create_volume(name='qs-backup-probe', size=1)
    try:
        conn.block_storage.wait_for_status(volume, 'available', wait=120)
        proc = subprocess.run(
            [procs.bin_path('openstack'), 'volume', 'backup', 'create',
             '--name', 'qs-backup', volume.id],
            env=stack.cli_env(), capture_output=True, text=True,
            stdin=subprocess.DEVNULL, timeout=120)
        assert proc.returncode != 0
        assert '403' in proc.stderr, proc.stderr
        assert 'backup:create' in proc.stderr, proc.stderr
        assert list(conn.block_storage.backups()) == []
    finally:
        conn.block_storage.delete_volume(volume)
        conn.block_storage.wait_for_delete(volume, wait=120)


def test_demo_project_quota_fits_min_10(stack):
    conn = stack.connection()
    demo = conn.identity.find_project('demo')
    quota = conn.compute.get_quota_set(demo)
    assert quota.instances == configs.QUOTA_INSTANCES
    assert quota.cores >= configs.QUOTA_INSTANCES
    assert quota.ram >= configs.QUOTA_INSTANCES * 512


@pytest.mark.stops_stack
def test_stop_leaves_no_process_of_its_own(stack):
    ports = sorted(stack.ports.values())
    assert stack.group.pids()
    stack.stop()
    assert stack.group.pids() == []
    still_open = [p for p in ports if procs.port_open(p)]
    assert still_open == []
