"""Facade over the Nutanix v4 REST API: the only entry point the adapters use.

CONTRACT (agreed between the client, the emulator and the three drivers;
change it only together with its users):

* Every method returns plain ``dict``/``list`` objects holding the v4 JSON
  ``data`` exactly as the server sent it (camelCase keys, ``$objectType``
  kept), so field names are the ones of the official ``ntnx-*-py-client``
  models.
* Every write is asynchronous on the server (202 + task reference).  The
  facade methods wait for the task (``wait=True``, the default) and then
  return the resulting entity fetched with a GET; with ``wait=False`` they
  return the task reference dict (``{'extId': ...}``).  A failed task raises
  :class:`~nutanix_openstack.prism.exceptions.TaskFailed`; a task that does
  not end within the task timeout raises ``TaskTimeout``.
* ``progress_callback(percent:int)`` is called while a task runs.
* Errors are the hierarchy of :mod:`nutanix_openstack.prism.exceptions`
  (``NotFound``, ``Conflict``, ``PreconditionFailed``, ``ConnectionFailed``,
  ``TaskFailed``...).  Nothing here imports nova, cinder or glance.
* Byte streams are iterators of ``bytes``; nothing is held whole in memory.

Construction::

    client = PrismClient(endpoints=['https://10.0.0.1:9440'], username='u',
                         password='p', verify=True, ca_file=None, ...)
    client = PrismClient.from_conf(conf.nutanix)          # nova
    client = PrismClient.from_conf(conf, prefix='nutanix_')  # cinder/glance
"""

# NOTE: the method signatures below are the contract. Implementations may
# live in one module per resource (images.py, vms.py, ...) and be re-exported
# here.


class ImagesAPI(object):
    """``/api/vmm/v4.x/content/images`` (+ v3 byte upload)."""

    def create_from_url(self, name, url, image_type='DISK_IMAGE',
                        description=None, cluster_ext_ids=None,
                        allow_insecure_url=False, wait=True,
                        progress_callback=None):
        """POST images with a ``UrlSource``; the server fetches the URL."""
        raise NotImplementedError()

    def create_from_vm_disk(self, name, vm_ext_id, disk_ext_id,
                            image_type='DISK_IMAGE', description=None,
                            cluster_ext_ids=None, wait=True,
                            progress_callback=None):
        """POST images with a ``VmDiskSource`` (copy-on-write on the cluster)."""
        raise NotImplementedError()

    def create_for_upload(self, name, image_type='DISK_IMAGE',
                          description=None, cluster_ext_id=None):
        """v3 ``POST /api/nutanix/v3/images`` with no source: an empty image
        whose bytes are then sent with :meth:`upload`.  Returns the image
        dict (v4 GET of the new uuid)."""
        raise NotImplementedError()

    def upload(self, ext_id, data_iter, size=None, progress_callback=None):
        """v3 ``PUT /api/nutanix/v3/images/{uuid}/file`` streamed
        (octet-stream, chunked when ``size`` is None) from ``data_iter``.
        Waits for the resulting task; returns the image dict."""
        raise NotImplementedError()

    def get(self, ext_id):
        raise NotImplementedError()

    def list(self, filter=None, limit=None, orderby=None):
        """All pages, as a list (``$page``/``$limit`` handled here)."""
        raise NotImplementedError()

    def update(self, ext_id, **fields):
        """GET for the ETag, then PUT with ``If-Match``."""
        raise NotImplementedError()

    def delete(self, ext_id, wait=True):
        raise NotImplementedError()

    def ensure_disk_image(self, ext_id, progress_callback=None):
        """Return the extId of a bootable raw DISK_IMAGE with the content of
        image ``ext_id``, for copy-on-write clones by Cinder and Nova.

        A DISK_IMAGE is its own answer.  Any other image (the Glance store
        keeps qcow2/vmdk/vhdx bytes as ISO_IMAGE so that Glance gets back
        exactly what it stored) gets a derived DISK_IMAGE named
        ``derived_disk_image_name(ext_id)``, created ONCE by the cluster
        from the image's own ``/file`` URL (a ``UrlSource``; the cluster
        converts it to raw) and reused by later calls; concurrent callers
        in one process create it once (a lock per image).  The Glance store
        deletes derived images together with their source."""
        raise NotImplementedError()

    def download(self, ext_id, offset=0, length=None, chunk_size=None):
        """GET ``/content/images/{extId}/file`` with a Range header when
        offset/length ask for part of it; returns an iterator of bytes."""
        raise NotImplementedError()


class VmsAPI(object):
    """``/api/vmm/v4.x/ahv/config/vms``.

    Disk specs are v4 ``Disk`` dicts; build them with the module-level
    helpers in :mod:`nutanix_openstack.prism.vms`: ``disk_from_image``,
    ``disk_from_vm_disk``, ``disk_from_volume_disk``,
    ``disk_from_disk_recovery_point``, ``empty_disk``, ``volume_group_disk``.
    """

    def create(self, name, num_sockets=1, num_cores_per_socket=1,
               memory_size_bytes=None, disks=(), cd_roms=(), nics=(),
               guest_customization=None, description=None,
               cluster_ext_id=None, boot_config=None, wait=True):
        raise NotImplementedError()

    def get(self, ext_id):
        raise NotImplementedError()

    def list(self, filter=None, limit=None):
        raise NotImplementedError()

    def update(self, ext_id, **fields):
        """GET + PUT with If-Match (vCPU/memory changes, name...)."""
        raise NotImplementedError()

    def delete(self, ext_id, wait=True):
        raise NotImplementedError()

    def power_on(self, ext_id, wait=True):
        raise NotImplementedError()

    def power_off(self, ext_id, wait=True):
        """Hard power off."""
        raise NotImplementedError()

    def shutdown(self, ext_id, wait=True):
        """ACPI shutdown (``$actions/shutdown``)."""
        raise NotImplementedError()

    def reboot(self, ext_id, wait=True):
        """ACPI reboot (``$actions/reboot``)."""
        raise NotImplementedError()

    def reset(self, ext_id, wait=True):
        """Hard reset (``$actions/reset``)."""
        raise NotImplementedError()

    def list_disks(self, vm_ext_id):
        raise NotImplementedError()

    def add_disk(self, vm_ext_id, disk, wait=True):
        """POST ``/vms/{vmExtId}/disks``; returns the new disk dict."""
        raise NotImplementedError()

    def resize_disk(self, vm_ext_id, disk_ext_id, size_bytes, wait=True):
        """GET disk + PUT with If-Match and the new ``diskSizeBytes``."""
        raise NotImplementedError()

    def delete_disk(self, vm_ext_id, disk_ext_id, wait=True):
        raise NotImplementedError()

    def migrate_to_host(self, ext_id, host_ext_id, wait=True):
        raise NotImplementedError()

    def console_token(self, ext_id):
        """``$actions/generate-console-token``: returns the token dict."""
        raise NotImplementedError()


class VolumeGroupsAPI(object):
    """``/api/volumes/v4.x/config/volume-groups``."""

    def create(self, name, disks=(), description=None, sharing_status=None,
               target_prefix=None, cluster_ext_id=None, wait=True):
        """``disks`` are v4 ``VolumeDisk`` dicts; build them with
        :mod:`nutanix_openstack.prism.volume_groups` helpers
        (``volume_disk(size_bytes, container_ext_id, data_source=None)``,
        where the data source references an image, a VM disk, a volume disk
        or a disk recovery point).  Disks are added after the group exists
        when the API needs that.  Returns the group dict."""
        raise NotImplementedError()

    def get(self, ext_id):
        raise NotImplementedError()

    def list(self, filter=None, limit=None):
        raise NotImplementedError()

    def update(self, ext_id, **fields):
        raise NotImplementedError()

    def delete(self, ext_id, wait=True):
        raise NotImplementedError()

    def list_disks(self, vg_ext_id):
        raise NotImplementedError()

    def add_disk(self, vg_ext_id, disk, wait=True):
        raise NotImplementedError()

    def resize_disk(self, vg_ext_id, disk_ext_id, size_bytes, wait=True):
        raise NotImplementedError()

    def delete_disk(self, vg_ext_id, disk_ext_id, wait=True):
        raise NotImplementedError()

    def attach_vm(self, vg_ext_id, vm_ext_id, wait=True):
        raise NotImplementedError()

    def detach_vm(self, vg_ext_id, vm_ext_id, wait=True):
        raise NotImplementedError()

    def list_vm_attachments(self, vg_ext_id):
        raise NotImplementedError()

    def attach_iscsi_client(self, vg_ext_id, initiator_name,
                            chap_secret=None, wait=True):
        raise NotImplementedError()

    def detach_iscsi_client(self, vg_ext_id, initiator_name, wait=True):
        raise NotImplementedError()

    def list_iscsi_attachments(self, vg_ext_id):
        raise NotImplementedError()

    def revert(self, vg_ext_id, volume_group_recovery_point_ext_id,
               wait=True):
        raise NotImplementedError()


class RecoveryPointsAPI(object):
    """``/api/dataprotection/v4.x/config/recovery-points``."""

    def create(self, name, vm_ext_ids=(), volume_group_ext_ids=(),
               recovery_point_type='CRASH_CONSISTENT', expiration_time=None,
               wait=True):
        """One recovery point over all the given VMs and volume groups
        (crash-consistent across them).  The returned dict carries
        ``vmRecoveryPoints`` / ``volumeGroupRecoveryPoints`` with their
        extIds and disk recovery points."""
        raise NotImplementedError()

    def get(self, ext_id):
        raise NotImplementedError()

    def list(self, filter=None, limit=None):
        raise NotImplementedError()

    def delete(self, ext_id, wait=True):
        raise NotImplementedError()

    def restore(self, ext_id, volume_group_overrides=None,
                vm_overrides=None, wait=True):
        """``$actions/restore``: new VMs / volume groups from the recovery
        point (copy-on-write).  Returns the list of created entities as
        ``[{'extId': ..., 'rel': 'volumes:config:volume-group'}, ...]``
        taken from the task's ``entitiesAffected``/completion details."""
        raise NotImplementedError()


class ClustersAPI(object):
    """``/api/clustermgmt/v4.x/config/...``."""

    def list_clusters(self, filter=None):
        raise NotImplementedError()

    def get_cluster(self, ext_id):
        raise NotImplementedError()

    def list_hosts(self, cluster_ext_id=None):
        raise NotImplementedError()

    def get_host(self, cluster_ext_id, host_ext_id):
        raise NotImplementedError()

    def list_storage_containers(self, filter=None):
        raise NotImplementedError()

    def get_storage_container(self, ext_id):
        raise NotImplementedError()

    def find_storage_container(self, name_or_ext_id, cluster_ext_id=None):
        """By extId or by name; raises NotFound."""
        raise NotImplementedError()

    def container_capacity(self, ext_id):
        """``{'total_bytes', 'used_bytes', 'free_bytes',
        'provisioned_bytes'}`` from the container's capacity fields/stats."""
        raise NotImplementedError()


class TasksAPI(object):
    """``/api/prism/v4.x/config/tasks``."""

    def get(self, ext_id):
        raise NotImplementedError()

    def wait(self, ext_id, timeout=None, progress_callback=None):
        """Poll until SUCCEEDED (returns the task dict) or FAILED/CANCELED
        (raises TaskFailed with the backend's message and error codes)."""
        raise NotImplementedError()


class PrismClient(object):
    """One session (auth, TLS, failover, retries) shared by all resources."""

    images = None             # ImagesAPI
    vms = None                # VmsAPI
    volume_groups = None      # VolumeGroupsAPI
    recovery_points = None    # RecoveryPointsAPI
    clusters = None           # ClustersAPI
    tasks = None              # TasksAPI

    def __init__(self, endpoints, username, password, verify=True,
                 ca_file=None, connect_timeout=10, read_timeout=120,
                 retries=3, retry_interval=1.0, task_timeout=3600,
                 task_poll_interval=1.0, chunk_size=4 * 1024 * 1024):
        raise NotImplementedError()

    @classmethod
    def from_conf(cls, conf_group, prefix=''):
        """Build from options registered by
        :func:`nutanix_openstack.prism.options.connection_opts(prefix)`."""
        raise NotImplementedError()
