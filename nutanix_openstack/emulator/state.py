"""Emulator metadata in SQLite (WAL): a generic entity store.

Every backend object (image, VM, volume group, task, cluster...) is one
row ``(kind, ext_id, body JSON, etag, version, created, updated)``.  The
database runs in WAL mode with ``synchronous=NORMAL``: a commit is in the
operating system's page cache when COMMIT returns, so anything a request
acknowledged survives a SIGKILL (or any crash) of the emulator process,
without an fsync per write.  A power loss or kernel crash may lose the
last commits since the previous WAL checkpoint (the database itself stays
consistent), as for the chunk files of the disk store, which are not
fsynced either.  The file can be backed up consistently while it runs.
Each thread gets its own connection (pooled: the server runs a thread per
request); :meth:`StateStore.transaction` groups several operations
atomically (nested use joins the outer transaction).

The ``requests`` table remembers ``NTNX-Request-Id`` values and the
response they produced, for idempotent retries.  The ``in_flight`` table
names the work not acknowledged yet (an image waiting for its upload, a URL
import) with the disks it owns: what :mod:`.reconcile` removes after a
crash.
"""

import contextlib
import json
import os
import sqlite3
import threading
import time
import uuid

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entities (
    kind TEXT NOT NULL,
    ext_id TEXT NOT NULL,
    body TEXT NOT NULL,
    etag TEXT NOT NULL,
    version INTEGER NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    PRIMARY KEY (kind, ext_id)
);
CREATE TABLE IF NOT EXISTS requests (
    request_id TEXT PRIMARY KEY,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    status INTEGER,
    body TEXT,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS in_flight (
    kind TEXT NOT NULL,
    ext_id TEXT NOT NULL,
    operation TEXT NOT NULL,
    disk_ids TEXT NOT NULL,
    started REAL NOT NULL,
    PRIMARY KEY (kind, ext_id)
);
CREATE TABLE IF NOT EXISTS settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""


class Record(object):
    """One stored entity: its body and bookkeeping."""

    __slots__ = ('kind', 'ext_id', 'body', 'etag', 'version', 'created',
                 'updated')

    def __init__(self, kind, ext_id, body, etag, version, created, updated):
        self.kind = kind
        self.ext_id = ext_id
        self.body = body
        self.etag = etag
        self.version = version
        self.created = created
        self.updated = updated


def new_etag():
    return uuid.uuid4().hex


class _Lease(object):
    """A thread's hold on a pooled connection.

    Kept in the thread's ``threading.local``: when the thread ends (the
    server runs each request in a new thread), the lease is collected
    and the connection goes back to the pool instead of staying open.
    """

    def __init__(self, store, conn):
        self.store = store
        self.conn = conn

    def __del__(self):
        try:
            self.store._give_back(self.conn)
        except Exception:   # interpreter shutdown
            pass


class StateStore(object):
    """Entity store over one SQLite file; safe to share between threads.

    Each thread uses its own connection, taken from a pool and given back
    when the thread ends.
    """

    # Idle connections kept for the next threads; more are closed.
    POOL_SIZE = 32

    def __init__(self, path):
        self.path = path
        dirname = os.path.dirname(os.path.abspath(path))
        os.makedirs(dirname, exist_ok=True)
        self._local = threading.local()
        self._all_conns = []
        self._idle = []
        self._closed = False
        self._conns_lock = threading.Lock()
        # Writers of this process queue here rather than in SQLite's busy
        # handler, which sleeps up to 100 ms between tries: under many
        # concurrent requests that sleeping, not the work, set the pace.
        # Other processes sharing the file still meet the busy timeout.
        self._writer = threading.Lock()
        conn = self._conn()
        conn.executescript(_SCHEMA)

    # -- connections -------------------------------------------------------

    def _conn(self):
        conn = getattr(self._local, 'conn', None)
        if conn is None:
            with self._conns_lock:
                conn = self._idle.pop() if self._idle else None
            if conn is None:
                conn = self._connect()
            self._local.conn = conn
            self._local.lease = _Lease(self, conn)
            self._local.depth = 0
        return conn

    def _connect(self):
        # isolation_level=None: we issue BEGIN/COMMIT ourselves.
        conn = sqlite3.connect(self.path, timeout=60,
                               isolation_level=None,
                               check_same_thread=False)
        conn.execute('PRAGMA journal_mode=WAL')
        # NORMAL in WAL mode: durable across process crashes, not power
        # loss (see the module docstring).
        conn.execute('PRAGMA synchronous=NORMAL')
        conn.execute('PRAGMA busy_timeout=60000')
        with self._conns_lock:
            self._all_conns.append(conn)
        return conn

    def _give_back(self, conn):
        """Pool the connection of a thread that ended (or close it)."""
        try:
            if conn.in_transaction:
                conn.execute('ROLLBACK')
        except sqlite3.Error:
            pass
        with self._conns_lock:
            if not self._closed and len(self._idle) < self.POOL_SIZE:
                self._idle.append(conn)
                return
            if conn in self._all_conns:
                self._all_conns.remove(conn)
        try:
            conn.close()
        except sqlite3.Error:
            pass

    def close(self):
        with self._conns_lock:
            self._closed = True
            self._idle = []
            for conn in self._all_conns:
                try:
                    conn.close()
                except sqlite3.Error:
                    pass
            self._all_conns = []
        self._local = threading.local()

    @contextlib.contextmanager
    def transaction(self):
        """Run the block in one write transaction (nesting joins it)."""
        conn = self._conn()
        if self._local.depth:
            self._local.depth += 1
            try:
                yield self
            finally:
                self._local.depth -= 1
            return
        # IMMEDIATE takes the write lock up front: read-modify-write
        # sequences inside the block cannot interleave with other writers.
        with self._writer:
            conn.execute('BEGIN IMMEDIATE')
            self._local.depth = 1
            try:
                yield self
            except BaseException:
                self._local.depth = 0
                conn.execute('ROLLBACK')
                raise
            else:
                self._local.depth = 0
                conn.execute('COMMIT')

    # -- entities ----------------------------------------------------------

    def get_record(self, kind, ext_id):
        row = self._conn().execute(
            'SELECT body, etag, version, created, updated FROM entities '
            'WHERE kind=? AND ext_id=?', (kind, ext_id)).fetchone()
        if row is None:
            return None
        return Record(kind, ext_id, json.loads(row[0]), row[1], row[2],
                      row[3], row[4])

    def require_record(self, kind, ext_id, not_found):
        """The record of an entity; raises ``not_found(ext_id)`` if none.

        ``not_found`` builds the resource's own 404 (code, error group).
        """
        record = self.get_record(kind, ext_id)
        if record is None:
            raise not_found(ext_id)
        return record

    def get(self, kind, ext_id):
        """The body dict of an entity, or None."""
        record = self.get_record(kind, ext_id)
        return record.body if record else None

    def put(self, kind, ext_id, body):
        """Create or replace an entity; returns its new ETag."""
        now = time.time()
        etag = new_etag()
        with self.transaction():
            conn = self._conn()
            row = conn.execute(
                'SELECT version FROM entities WHERE kind=? AND ext_id=?',
                (kind, ext_id)).fetchone()
            if row is None:
                conn.execute(
                    'INSERT INTO entities (kind, ext_id, body, etag, '
                    'version, created, updated) VALUES (?,?,?,?,?,?,?)',
                    (kind, ext_id, json.dumps(body), etag, 1, now, now))
            else:
                conn.execute(
                    'UPDATE entities SET body=?, etag=?, version=?, '
                    'updated=? WHERE kind=? AND ext_id=?',
                    (json.dumps(body), etag, row[0] + 1, now, kind, ext_id))
        return etag

    def update(self, kind, ext_id, mutate):
        """Read-modify-write an entity atomically.

        ``mutate(body)`` edits in place (or returns a new body).  Returns
        the new body, or None if the entity does not exist.
        """
        with self.transaction():
            body = self.get(kind, ext_id)
            if body is None:
                return None
            result = mutate(body)
            if result is not None:
                body = result
            self.put(kind, ext_id, body)
            return body

    def delete(self, kind, ext_id):
        """Delete an entity; True if it existed."""
        with self.transaction():
            cur = self._conn().execute(
                'DELETE FROM entities WHERE kind=? AND ext_id=?',
                (kind, ext_id))
        return cur.rowcount > 0

    def list(self, kind, where=None):
        """Bodies of every entity of ``kind`` in creation order.

        ``where(body)`` is an optional predicate filtering them.
        """
        rows = self._conn().execute(
            'SELECT body FROM entities WHERE kind=? ORDER BY created, rowid',
            (kind,)).fetchall()
        bodies = [json.loads(r[0]) for r in rows]
        if where is not None:
            bodies = [b for b in bodies if where(b)]
        return bodies

    def list_json_items(self, kind, path):
        """``(ext_id, item)`` for each element of an array in ``kind``.

        ``path`` is a SQLite JSON path such as ``'$.nics'``.  SQLite walks
        the bodies: only the elements are decoded in Python, not whole
        entities (a cluster-wide scan of VM NICs stays cheap when there
        are many VMs).
        """
        rows = self._conn().execute(
            'SELECT e.ext_id, j.value FROM entities AS e, '
            'json_each(e.body, ?) AS j WHERE e.kind=? '
            "AND json_type(e.body, ?) = 'array' "
            'ORDER BY e.created, e.rowid, j.key',
            (path, kind, path)).fetchall()
        return [(r[0], json.loads(r[1])) for r in rows]

    def ext_ids_with_field(self, kind, key, value):
        """ExtIds of ``kind`` whose body holds ``key: value`` at any depth.

        SQLite walks the JSON (``json_tree``), so finding which entity
        holds a nested object (the VM of a disk) decodes no body in
        Python.  Callers check the candidates' bodies themselves.
        """
        rows = self._conn().execute(
            'SELECT e.ext_id FROM entities AS e, json_tree(e.body) AS t '
            'WHERE e.kind=? AND t.key=? AND t.atom=? '
            'GROUP BY e.ext_id', (kind, key, value)).fetchall()
        return [r[0] for r in rows]

    def kinds(self):
        return [r[0] for r in self._conn().execute(
            'SELECT DISTINCT kind FROM entities ORDER BY kind').fetchall()]

    def count(self, kind):
        return self._conn().execute(
            'SELECT COUNT(*) FROM entities WHERE kind=?',
            (kind,)).fetchone()[0]

    # -- idempotency records ----------------------------------------------

    def claim_request(self, request_id, method, path):
        """Reserve ``request_id`` for this request.

        Returns None when this call claimed it, else ``(status, body,
        method, path)`` of the earlier request (status None while that one
        is still in progress).
        """
        with self.transaction():
            conn = self._conn()
            row = conn.execute(
                'SELECT status, body, method, path FROM requests '
                'WHERE request_id=?', (request_id,)).fetchone()
            if row is not None:
                return tuple(row)
            conn.execute(
                'INSERT INTO requests (request_id, method, path, created) '
                'VALUES (?,?,?,?)', (request_id, method, path, time.time()))
        return None

    def complete_request(self, request_id, status, body):
        with self.transaction():
            self._conn().execute(
                'UPDATE requests SET status=?, body=? WHERE request_id=?',
                (status, body, request_id))

    def release_request(self, request_id):
        with self.transaction():
            self._conn().execute('DELETE FROM requests WHERE request_id=?',
                                 (request_id,))

    def release_unfinished_requests(self):
        """Forget request ids whose request never finished (a crash).

        A retry of such a request must run again rather than be told
        forever that it "is still being processed".  Returns how many.
        """
        with self.transaction():
            cur = self._conn().execute(
                'DELETE FROM requests WHERE status IS NULL')
        return cur.rowcount

    # -- work in flight (see reconcile.py) -----------------------------------

    def begin_in_flight(self, kind, ext_id, operation, disk_ids):
        """Record that entity ``(kind, ext_id)`` is not complete yet.

        Until :meth:`end_in_flight`, a restart after a crash removes the
        entity's record (if any) and ``disk_ids``.
        """
        with self.transaction():
            self._conn().execute(
                'INSERT OR REPLACE INTO in_flight (kind, ext_id, operation, '
                'disk_ids, started) VALUES (?,?,?,?,?)',
                (kind, ext_id, operation, json.dumps(list(disk_ids)),
                 time.time()))

    def end_in_flight(self, kind, ext_id):
        with self.transaction():
            self._conn().execute(
                'DELETE FROM in_flight WHERE kind=? AND ext_id=?',
                (kind, ext_id))

    def list_in_flight(self):
        """``[(kind, ext_id, operation, [disk_id...])]``."""
        rows = self._conn().execute(
            'SELECT kind, ext_id, operation, disk_ids FROM in_flight '
            'ORDER BY started').fetchall()
        return [(r[0], r[1], r[2], json.loads(r[3])) for r in rows]

    def iter_bodies(self, exclude_kinds=()):
        """``(kind, body)`` of every entity not of ``exclude_kinds``."""
        for kind, body in self._conn().execute(
                'SELECT kind, body FROM entities').fetchall():
            if kind not in exclude_kinds:
                yield kind, json.loads(body)

    # -- small settings (task mode...) ------------------------------------

    def get_setting(self, name, default=None):
        row = self._conn().execute(
            'SELECT value FROM settings WHERE name=?', (name,)).fetchone()
        return json.loads(row[0]) if row else default

    def set_setting(self, name, value):
        with self.transaction():
            self._conn().execute(
                'INSERT OR REPLACE INTO settings (name, value) VALUES (?,?)',
                (name, json.dumps(value)))

    def reset(self):
        """Forget everything (admin reset)."""
        with self.transaction():
            conn = self._conn()
            conn.execute('DELETE FROM entities')
            conn.execute('DELETE FROM requests')
            conn.execute('DELETE FROM in_flight')
            conn.execute('DELETE FROM settings')
