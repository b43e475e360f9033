"""Start, watch and stop the quick start's processes."""

import os
import signal
import socket
import subprocess
import sys
import time

import requests


class ServiceFailed(Exception):
    pass


class ProcessGroup(object):
    """Processes of one stack, each in its own session, logs in ``log_dir``."""

    def __init__(self, log_dir, env=None):
        self.log_dir = log_dir
        self.env = dict(os.environ, **(env or {}))
        self.procs = []   # (name, Popen, logfile)
        # Every process we started leads its own session: what remains in
        # these sessions after stop_all is a leftover of ours.
        self.sessions = set()
        os.makedirs(log_dir, exist_ok=True)

    def log_path(self, name):
        return os.path.join(self.log_dir, '%s.log' % name)

    def start(self, name, argv, env=None, cwd=None):
        log = open(self.log_path(name), 'ab')
        proc = subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, env=dict(self.env, **(env or {})),
            cwd=cwd, start_new_session=True)
        self.procs.append((name, proc, log))
        self.sessions.add(proc.pid)
        return proc

    def check_alive(self):
        for name, proc, _log in self.procs:
            if proc.poll() is not None:
                raise ServiceFailed(
                    '%s exited with status %s; see %s'
                    % (name, proc.returncode, self.log_path(name)))

    def tail(self, name, lines=30):
        try:
            with open(self.log_path(name), 'rb') as f:
                data = f.read()[-20000:]
        except OSError:
            return ''
        return '\n'.join(data.decode('utf-8', 'replace').splitlines()[-lines:])

    def stop_all(self, timeout=15):
        for name, proc, _log in reversed(self.procs):
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.time() + timeout
        for name, proc, log in reversed(self.procs):
            remaining = max(0.1, deadline - time.time())
            try:
                proc.wait(remaining)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait()
            log.close()
        self.procs = []
        # Children that left their leader's process group but stayed in
        # its session (daemons that fork without setsid).
        # Workers (cotyledon, gunicorn) get their leader's SIGTERM too and
        # may still be finishing.
        deadline = time.time() + timeout
        while session_pids(self.sessions) and time.time() < deadline:
            time.sleep(0.2)
        for pid in session_pids(self.sessions):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        deadline = time.time() + 10
        while session_pids(self.sessions) and time.time() < deadline:
            time.sleep(0.1)

    def pids(self):
        """Every live process of ours (leaders and their sessions)."""
        return session_pids(self.sessions)

    def listeners(self):
        """(pid, command, proto, address, port) our processes listen on."""
        return listening_sockets(self.pids())


def _proc_stat(pid):
    with open('/proc/%d/stat' % pid) as f:
        data = f.read()
    # comm is in parentheses and may hold spaces.
    comm = data[data.index('(') + 1:data.rindex(')')]
    fields = data[data.rindex(')') + 2:].split()
    # fields[0] is the state, [3] the session id.
    return comm, fields[0], int(fields[3])


def session_pids(sessions):
    """Live processes (not zombies) whose session is one of ``sessions``."""
    found = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            _comm, state, sid = _proc_stat(int(entry))
        except (OSError, ValueError):
            continue
        if sid in sessions and state != 'Z':
            found.append(int(entry))
    return sorted(found)


def _socket_inodes(pid):
    inodes = set()
    fd_dir = '/proc/%d/fd' % pid
    try:
        fds = os.listdir(fd_dir)
    except OSError:
        return inodes
    for fd in fds:
        try:
            target = os.readlink(os.path.join(fd_dir, fd))
        except OSError:
            continue
        if target.startswith('socket:['):
            inodes.add(int(target[8:-1]))
    return inodes


def _decode_address(hexaddr):
    raw = bytes.fromhex(hexaddr)
    # /proc/net prints each 32-bit word in host (little-endian) order.
    words = [raw[i:i + 4][::-1] for i in range(0, len(raw), 4)]
    raw = b''.join(words)
    if len(raw) == 4:
        return socket.inet_ntop(socket.AF_INET, raw)
    return socket.inet_ntop(socket.AF_INET6, raw)


def is_loopback(address):
    import ipaddress
    ip = ipaddress.ip_address(address)
    if getattr(ip, 'ipv4_mapped', None):
        ip = ip.ipv4_mapped
    return ip.is_loopback


def listening_sockets(pids):
    """TCP listeners and bound UDP sockets of ``pids`` (from /proc/net)."""
    owner = {}
    for pid in pids:
        for inode in _socket_inodes(pid):
            owner[inode] = pid
    found = []
    # TCP: state 0A is LISTEN.  UDP: state 07 with no peer is a bound,
    # receiving socket.
    for proto, state_wanted in (('tcp', '0A'), ('tcp6', '0A'),
                                ('udp', '07'), ('udp6', '07')):
        try:
            with open('/proc/net/%s' % proto) as f:
                lines = f.read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            local, remote, state, inode = cols[1], cols[2], cols[3], \
                int(cols[9])
            if state != state_wanted or inode not in owner:
                continue
            if proto.startswith('udp') and int(remote.split(':')[1], 16):
                continue
            addr, port = local.split(':')
            pid = owner[inode]
            try:
                comm = _proc_stat(pid)[0]
            except (OSError, ValueError):
                comm = '?'
            found.append((pid, comm, proto, _decode_address(addr),
                          int(port, 16)))
    return found


def run(argv, log_path, env=None, cwd=None, timeout=600):
    """Run a one-shot command (db sync...), its output appended to a log."""
    with open(log_path, 'ab') as log:
        log.write(('\n$ %s\n' % ' '.join(argv)).encode())
        log.flush()
        proc = subprocess.run(argv, stdout=log, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL, timeout=timeout,
                              env=dict(os.environ, **(env or {})), cwd=cwd)
    if proc.returncode != 0:
        with open(log_path, 'rb') as f:
            tail = f.read()[-4000:].decode('utf-8', 'replace')
        raise ServiceFailed('%s failed (exit %s):\n%s'
                            % (' '.join(argv), proc.returncode, tail))


def port_open(port, host='127.0.0.1'):
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def wait_http(url, group, name, timeout=180, ok=(200, 300, 401)):
    """Wait until ``url`` answers with a status in the ``ok`` ranges."""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        group.check_alive()
        try:
            r = requests.get(url, timeout=5)
            if any(s <= r.status_code < s + 100 for s in ok if s % 100 == 0) \
                    or r.status_code in ok:
                return
            last = 'HTTP %s' % r.status_code
        except requests.RequestException as e:
            last = str(e)
        time.sleep(0.5)
    raise ServiceFailed('%s did not answer at %s within %ss (%s)\n%s'
                        % (name, url, timeout, last, group.tail(name)))


def bin_path(name):
    """A console script of the Python environment running us."""
    return os.path.join(os.path.dirname(sys.executable), name)
