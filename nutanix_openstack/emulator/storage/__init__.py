"""The emulator's disk store: chunked copy-on-write disks on local files.

Every disk of the fake cluster (image disks, VM disks, volume-group disks)
lives here under its v4 extId.  See :mod:`.store` for the model (RBD-style
layering in files), :mod:`.metadata` for the SQLite schema and
:mod:`.chunkfiles` for the on-disk layout.
"""

from nutanix_openstack.emulator.storage.errors import DiskExists  # noqa
from nutanix_openstack.emulator.storage.errors import DiskNotFound  # noqa
from nutanix_openstack.emulator.storage.errors import StorageError  # noqa
from nutanix_openstack.emulator.storage.store import DEFAULT_CHUNK_SIZE  # noqa
from nutanix_openstack.emulator.storage.store import DiskStore  # noqa

__all__ = ['DiskStore', 'StorageError', 'DiskNotFound', 'DiskExists',
           'DEFAULT_CHUNK_SIZE']
