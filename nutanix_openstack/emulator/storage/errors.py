"""Exceptions raised by the disk store.

The emulator's HTTP layer maps them to v4 error bodies (404 for
:class:`DiskNotFound`, 409 for :class:`DiskExists`); ``ValueError`` is used
for arguments that are wrong whatever the state (negative sizes, writes past
the end, shrinking).
"""


class StorageError(Exception):
    """Base class of every error the disk store raises on its own."""


class DiskNotFound(StorageError, KeyError):
    """No disk has this id."""

    def __init__(self, disk_id):
        super(DiskNotFound, self).__init__(disk_id)
        self.disk_id = disk_id

    def __str__(self):
        return 'disk %s not found' % self.disk_id


class DiskExists(StorageError, KeyError):
    """A disk with this id already exists."""

    def __init__(self, disk_id):
        super(DiskExists, self).__init__(disk_id)
        self.disk_id = disk_id

    def __str__(self):
        return 'disk %s already exists' % self.disk_id


class ChunkVanished(StorageError):
    """A chunk file went away between reading the metadata and opening it.

    Only another process sharing the root can do that (by deleting or
    merging a layer); readers retry with fresh metadata.
    """
