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
