"""The disk store's metadata: disks, layers and chunks in SQLite (WAL).

Tables:

``layers(id, parent, refs)``
    A layer is a sparse set of chunks.  ``refs`` counts its users: the disks
    whose head it is plus the layers whose parent it is.  A layer with
    children is never written again (it was frozen by a clone); a layer is
    freed, with its chunks, when ``refs`` drops to zero, which releases its
    parent in turn.  Ids come from AUTOINCREMENT and are never reused, so the
    directory of a freed layer can be removed after the commit without racing
    a new layer of the same id.
``disks(id, head, size)``
    A disk is a writable head layer plus a size in bytes.
``chunks(layer, idx, nbytes, zero, gen)``
    One row per chunk a layer holds.  ``zero = 1`` is a tombstone: the chunk
    reads as zeros even though an ancestor holds data for it.  Data rows name
    their file ``<layer>/<idx>.<gen>`` with a fresh ``gen`` on every write, so
    a rewrite never reuses the name a concurrent reader may have resolved and
    the old file can be unlinked after the commit.

Every operation runs in one SQLite transaction under a process-wide lock
(one connection shared by threads); writers use ``BEGIN IMMEDIATE`` so two
processes sharing the root serialize their changes, chunk file creation
included.
"""

import contextlib
import sqlite3
import threading

from nutanix_openstack.emulator.storage import errors

_SCHEMA = (
    'CREATE TABLE IF NOT EXISTS meta ('
    ' key TEXT PRIMARY KEY, value TEXT NOT NULL)',
    'CREATE TABLE IF NOT EXISTS layers ('
    ' id INTEGER PRIMARY KEY AUTOINCREMENT,'
    ' parent INTEGER REFERENCES layers(id),'
    ' refs INTEGER NOT NULL)',
    'CREATE TABLE IF NOT EXISTS disks ('
    ' id TEXT PRIMARY KEY,'
    ' head INTEGER NOT NULL REFERENCES layers(id),'
    ' size INTEGER NOT NULL)',
    'CREATE TABLE IF NOT EXISTS chunks ('
    ' layer INTEGER NOT NULL,'
    ' idx INTEGER NOT NULL,'
    ' nbytes INTEGER NOT NULL,'
    ' zero INTEGER NOT NULL,'
    ' gen INTEGER NOT NULL,'
    ' PRIMARY KEY (layer, idx)) WITHOUT ROWID',
)

# Ancestors of a layer, the layer itself at depth 0.
_CHAIN_CTE = (
    'WITH RECURSIVE chain(id, parent, depth) AS ('
    ' SELECT id, parent, 0 FROM layers WHERE id = ?'
    ' UNION ALL'
    ' SELECT l.id, l.parent, chain.depth + 1'
    ' FROM layers l JOIN chain ON l.id = chain.parent) ')


class ChunkRow(object):
    """One chunk row, seen from a disk: ``depth`` 0 is the disk's head."""

    __slots__ = ('depth', 'layer', 'idx', 'nbytes', 'zero', 'gen')

    def __init__(self, depth, layer, idx, nbytes, zero, gen):
        self.depth = depth
        self.layer = layer
        self.idx = idx
        self.nbytes = nbytes
        self.zero = bool(zero)
        self.gen = gen


class Transaction(object):
    """Queries and changes inside one SQLite transaction.

    ``after_commit`` collects file removals that must only happen once the
    rows that pointed at the files are gone for good; ``on_rollback`` the
    removal of files written for rows that will never be committed.
    """

    def __init__(self, conn):
        self.conn = conn
        self.after_commit = []
        self.on_rollback = []

    def _one(self, sql, args=()):
        return self.conn.execute(sql, args).fetchone()

    # Disks

    def disk(self, disk_id):
        """Return ``(head, size)``; raise DiskNotFound."""
        row = self._one('SELECT head, size FROM disks WHERE id = ?',
                        (disk_id,))
        if row is None:
            raise errors.DiskNotFound(disk_id)
        return row

    def disk_exists(self, disk_id):
        return self._one('SELECT 1 FROM disks WHERE id = ?',
                         (disk_id,)) is not None

    def insert_disk(self, disk_id, head, size):
        self.conn.execute('INSERT INTO disks (id, head, size) '
                          'VALUES (?, ?, ?)', (disk_id, head, size))

    def set_head(self, disk_id, head):
        self.conn.execute('UPDATE disks SET head = ? WHERE id = ?',
                          (head, disk_id))

    def set_size(self, disk_id, size):
        self.conn.execute('UPDATE disks SET size = ? WHERE id = ?',
                          (size, disk_id))

    def delete_disk(self, disk_id):
        self.conn.execute('DELETE FROM disks WHERE id = ?', (disk_id,))

    def clear(self):
        """Delete every disk, layer and chunk; return the layer ids."""
        layers = self.layer_ids()
        for table in ('disks', 'chunks', 'layers'):
            self.conn.execute('DELETE FROM %s' % table)
        return layers

    def disk_ids(self):
        return [r[0] for r in
                self.conn.execute('SELECT id FROM disks ORDER BY id')]

    # Layers

    def new_layer(self, parent):
        """Create an empty layer on top of ``parent`` (None: no parent)."""
        cur = self.conn.execute(
            'INSERT INTO layers (parent, refs) VALUES (?, 0)', (parent,))
        if parent is not None:
            self.conn.execute('UPDATE layers SET refs = refs + 1 '
                              'WHERE id = ?', (parent,))
        return cur.lastrowid

    def add_ref(self, layer):
        self.conn.execute('UPDATE layers SET refs = refs + 1 WHERE id = ?',
                          (layer,))

    def parent(self, layer):
        return self._one('SELECT parent FROM layers WHERE id = ?',
                         (layer,))[0]

    def set_parent(self, layer, parent, count=True):
        """Re-point ``layer``; the caller releases the old parent.

        ``count=False`` when the new parent inherits the reference of a
        layer being merged away.
        """
        self.conn.execute('UPDATE layers SET parent = ? WHERE id = ?',
                          (parent, layer))
        if parent is not None and count:
            self.add_ref(parent)

    def release(self, layer):
        """Drop one reference; free layers nobody uses any more.

        Returns ``(freed, survivor)``: the ids of the freed layers (their
        directories are removed by the caller after the commit) and the
        layer where the cascade stopped because it still has users (None
        if it went down to the root).
        """
        freed = []
        while layer is not None:
            self.conn.execute('UPDATE layers SET refs = refs - 1 '
                              'WHERE id = ?', (layer,))
            refs, parent = self._one(
                'SELECT refs, parent FROM layers WHERE id = ?', (layer,))
            if refs > 0:
                return freed, layer
            self.drop_layer(layer)
            freed.append(layer)
            layer = parent
        return freed, None

    def drop_layer(self, layer):
        """Delete a layer and its rows; no reference counting."""
        self.conn.execute('DELETE FROM chunks WHERE layer = ?', (layer,))
        self.conn.execute('DELETE FROM layers WHERE id = ?', (layer,))

    def refs(self, layer):
        return self._one('SELECT refs FROM layers WHERE id = ?',
                         (layer,))[0]

    def set_refs(self, layer, refs):
        self.conn.execute('UPDATE layers SET refs = ? WHERE id = ?',
                          (refs, layer))

    def children(self, layer):
        return [r[0] for r in self.conn.execute(
            'SELECT id FROM layers WHERE parent = ?', (layer,))]

    def repoint(self, old, new):
        """Make every disk and layer on top of ``old`` sit on ``new``."""
        self.conn.execute('UPDATE disks SET head = ? WHERE head = ?',
                          (new, old))
        self.conn.execute('UPDATE layers SET parent = ? WHERE parent = ?',
                          (new, old))

    def layer_is_empty(self, layer):
        return self._one('SELECT 1 FROM chunks WHERE layer = ? LIMIT 1',
                         (layer,)) is None

    def chain(self, head):
        """Layer ids from ``head`` down to the root layer."""
        return [r[0] for r in self.conn.execute(
            _CHAIN_CTE + 'SELECT id FROM chain ORDER BY depth', (head,))]

    # Chunks

    def rows(self, head, first_idx, last_idx):
        """Chunk rows of the chain of ``head`` for indexes in a range.

        Returns ``{idx: [ChunkRow, ...]}``, each list ordered from the head
        down, so ``[0]`` is what a read sees.
        """
        found = {}
        cur = self.conn.execute(
            _CHAIN_CTE +
            'SELECT chain.depth, c.layer, c.idx, c.nbytes, c.zero, c.gen '
            'FROM chain JOIN chunks c ON c.layer = chain.id '
            'WHERE c.idx BETWEEN ? AND ? ORDER BY c.idx, chain.depth',
            (head, first_idx, last_idx))
        for row in cur:
            found.setdefault(row[2], []).append(ChunkRow(*row))
        return found

    def layer_rows(self, layer):
        return [ChunkRow(0, layer, *r) for r in self.conn.execute(
            'SELECT idx, nbytes, zero, gen FROM chunks WHERE layer = ?',
            (layer,))]

    def put_chunk(self, layer, idx, nbytes, zero, gen):
        self.conn.execute(
            'INSERT OR REPLACE INTO chunks (layer, idx, nbytes, zero, gen) '
            'VALUES (?, ?, ?, ?, ?)',
            (layer, idx, nbytes, 1 if zero else 0, gen))

    def delete_chunk(self, layer, idx):
        self.conn.execute('DELETE FROM chunks WHERE layer = ? AND idx = ?',
                          (layer, idx))

    def allocated_bytes(self, layer):
        return self._one('SELECT COALESCE(SUM(nbytes), 0) FROM chunks '
                         'WHERE layer = ? AND zero = 0', (layer,))[0]

    def data_chunk_files(self):
        """``{(layer, idx, gen)}`` of every data chunk (for the sweep)."""
        return set(self.conn.execute(
            'SELECT layer, idx, gen FROM chunks WHERE zero = 0'))

    def layer_ids(self):
        return set(r[0] for r in self.conn.execute('SELECT id FROM layers'))

    def stats(self):
        disks = self._one('SELECT COUNT(*) FROM disks')[0]
        layers = self._one('SELECT COUNT(*) FROM layers')[0]
        chunks, stored = self._one(
            'SELECT COUNT(*), COALESCE(SUM(nbytes), 0) FROM chunks '
            'WHERE zero = 0')
        tombstones = self._one(
            'SELECT COUNT(*) FROM chunks WHERE zero = 1')[0]
        return dict(disks=disks, layers=layers, chunks=chunks,
                    bytes_stored=stored, tombstones=tombstones)


class Metadata(object):
    """The SQLite database of one store root."""

    def __init__(self, path, chunk_size):
        self.path = path
        self._lock = threading.RLock()
        # One connection shared by all threads, always used under the lock;
        # autocommit mode so that transactions are exactly the BEGINs below.
        self._conn = sqlite3.connect(path, timeout=60, isolation_level=None,
                                     check_same_thread=False)
        self._conn.execute('PRAGMA busy_timeout = 60000')
        self._conn.execute('PRAGMA journal_mode = WAL')
        # WAL + NORMAL: a commit is in the OS once COMMIT returns, so it
        # survives the death of the process (not of the machine), without
        # an fsync per write.
        self._conn.execute('PRAGMA synchronous = NORMAL')
        with self.transaction(write=True) as txn:
            for statement in _SCHEMA:
                txn.conn.execute(statement)
            row = txn.conn.execute("SELECT value FROM meta "
                                   "WHERE key = 'chunk_size'").fetchone()
            if row is None:
                txn.conn.execute("INSERT INTO meta (key, value) "
                                 "VALUES ('chunk_size', ?)",
                                 (str(chunk_size),))
            elif int(row[0]) != chunk_size:
                raise errors.StorageError(
                    'store %s uses chunk size %s, not %d'
                    % (path, row[0], chunk_size))

    @contextlib.contextmanager
    def transaction(self, write=False):
        """Run the body in one transaction; yield a :class:`Transaction`.

        Callables in ``after_commit`` run after a successful commit; an
        exception rolls everything back and runs ``on_rollback`` instead.
        """
        with self._lock:
            if self._conn is None:
                raise errors.StorageError('disk store is closed')
            self._conn.execute('BEGIN IMMEDIATE' if write else 'BEGIN')
            txn = Transaction(self._conn)
            try:
                yield txn
                self._conn.execute('COMMIT')
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute('ROLLBACK')
                for action in txn.on_rollback:
                    action()
                raise
            for action in txn.after_commit:
                action()

    def close(self):
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
