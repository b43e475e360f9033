"""Nova compute driver for Nutanix AHV over the v4 REST API.

``compute_driver = nutanix.NutanixDriver`` (through the ``nova.virt.nutanix``
shim).  One nova-compute manages one cluster as one compute node, as the
VMware driver manages a vCenter cluster: placing VMs on AHV hosts is the
cluster's job.  The driver keeps no state of its own; every answer comes
from the cluster, so a nova-compute started elsewhere for the same cluster
takes over with nothing lost.

This module is a thin facade: each method delegates to vmops, vifops,
volumeops, snapshotops, hostops or imagecache, and backend errors become
Nova exceptions here, at one boundary (vifops raises Nova's interface
exceptions itself for the NIC calls whose conflicts it can name).
"""

import functools
import inspect

from oslo_log import log as logging

from nova import block_device
from nova.compute import task_states
from nova import conf as nova_conf
from nova import exception
from nova.i18n import _
from nova.image import glance
from nova.virt import driver

from nutanix_openstack import coordination
from nutanix_openstack.nova import conf as nutanix_conf
from nutanix_openstack.nova import hostops
from nutanix_openstack.nova import imagecache
from nutanix_openstack.nova import rescueops
from nutanix_openstack.nova import snapshotops
from nutanix_openstack.nova import vifops
from nutanix_openstack.nova import vmops
from nutanix_openstack.nova import volumeops
from nutanix_openstack.prism import client as prism_client
from nutanix_openstack.prism import clusters as prism_clusters
from nutanix_openstack.prism import exceptions as prism_exc
from nutanix_openstack.prism import paths as prism_paths
from nutanix_openstack.prism import volume_groups as prism_vg

CONF = nova_conf.CONF
LOG = logging.getLogger(__name__)

NOT_ON_AHV = _('The Nutanix v4 API has no %s operation for AHV VMs')


class NutanixBackendError(exception.NovaException):
    msg_fmt = _('Nutanix cluster request failed: %(reason)s')


class NoInstanceReplica(exception.NovaException):
    msg_fmt = _('Instance %(instance_uuid)s cannot be evacuated to cluster '
                '%(cluster)s: no replicated recovery point of its VM is '
                'there (replicate the VM to this cluster, or boot it from '
                'a volume)')


# An instance left in one of these by a dead nova-compute had a snapshot in
# progress (Nova clears the task state at start-up).
SNAPSHOT_TASK_STATES = (
    task_states.IMAGE_SNAPSHOT, task_states.IMAGE_SNAPSHOT_PENDING,
    task_states.IMAGE_PENDING_UPLOAD, task_states.IMAGE_UPLOADING)


def _boundary(f):
    """Turn client errors into the Nova exceptions the compute manager handles.

    A missing VM becomes InstanceNotFound for the instance the method was
    called for.
    """
    sig = inspect.signature(f)

    @functools.wraps(f)
    def wrapper(self, *args, **kwargs):
        try:
            return f(self, *args, **kwargs)
        except prism_exc.NotFound as e:
            instance = sig.bind_partial(
                self, *args, **kwargs).arguments.get('instance')
            # Only a VM that vanished is the instance gone; a missing image
            # or volume group is a backend error of its own.
            if instance is not None and e.entity_kind == prism_paths.REL_VM:
                raise exception.InstanceNotFound(
                    instance_id=instance.uuid) from e
            raise NutanixBackendError(reason=str(e)) from e
        except prism_exc.ConnectionFailed as e:
            raise exception.HypervisorUnavailable(host=CONF.host) from e
        except prism_exc.PrismError as e:
            raise NutanixBackendError(reason=str(e)) from e
    return wrapper


class NutanixDriver(driver.ComputeDriver):
    """Instances as AHV VMs of one Nutanix cluster."""

    capabilities = dict(
        driver.ComputeDriver.capabilities,
        has_imagecache=False,
        # To the cluster that holds a replica of the instance's VM (see
        # rebuild).
        supports_evacuate=True,
        # One node: a cold migration "to the same host" is the only kind,
        # and a resize keeps the VM where the cluster put it.
        supports_migrate_to_same_host=True,
        supports_attach_interface=True,
        supports_device_tagging=False,
        supports_multiattach=False,
        supports_extend_volume=True,
        supports_trusted_certs=False,
        supports_image_type_raw=True,
        supports_image_type_qcow2=True,
        supports_image_type_iso=True,
        supports_image_type_vmdk=False,
        supports_image_type_vhdx=False,
    )

    def __init__(self, virtapi, read_only=False):
        super().__init__(virtapi)
        nutanix_conf.register_opts(CONF)
        self._conf = CONF[nutanix_conf.GROUP]
        missing = [name for name in ('endpoints', 'username', 'password',
                                     'storage_container')
                   if not self._conf[name]]
        if missing:
            raise exception.InvalidConfiguration(
                _('[nutanix] %s must be set for the Nutanix driver')
                % ', '.join(missing))
        self._client = prism_client.PrismClient.from_conf(self._conf)
        # What must happen once per cluster (an image's raw disk, a Glance
        # image cached in the cluster) is locked across compute hosts.
        self._coordinator = coordination.Coordinator.from_conf(CONF)
        self._client.lock = self._coordinator.lock
        self._image_api = glance.API()
        self._ops = None

    # -- wiring: the cluster and container are resolved once, lazily, so
    # that constructing the driver never needs the backend. --

    @property
    def ops(self):
        if self._ops is None:
            try:
                cluster_ext_id = self._client.cluster_ext_id()
                self._ops = _Ops(self._client, self._conf, self._image_api,
                                 cluster_ext_id, self.virtapi)
            except (prism_exc.ConfigurationError, prism_exc.NotFound) as e:
                raise exception.InvalidConfiguration(
                    _('[nutanix] cluster/storage_container: %s') % e)
        return self._ops

    # -- service --

    @_boundary
    def init_host(self, host):
        """Resolve and check the cluster and storage container.

        Backend calls: clusters.list_clusters,
        clusters.list_storage_containers.
        """
        LOG.info('Nutanix driver managing cluster %(c)s, container %(s)s',
                 {'c': self.ops.cluster_ext_id,
                  's': self.ops.container_ext_id})

    def cleanup_host(self, host):
        self._coordinator.stop()

    def process_instances_at_startup(self, context, instances):
        """Take over the instances of this host after a restart or failover.

        Called by nova-compute at start-up (after init_host, before Nova
        recovers each instance).  The VM of an instance whose build a dead
        nova-compute interrupted is removed (Nova sets the instance to
        ERROR), as is the backend image of an interrupted snapshot that
        Glance does not use; every other VM is adopted as it is, its power
        state read from the cluster.  Backend calls: see
        vmops.VMOps.remove_interrupted_builds and
        snapshotops.SnapshotOps.remove_abandoned.
        """
        # A backend failure here is logged, never fatal: nova-compute must
        # start, and what was not removed is retried at the next start (or
        # removed when the instance is deleted).
        for instance in instances:
            try:
                self.ops.vm.remove_interrupted_builds([instance])
                if instance.task_state in SNAPSHOT_TASK_STATES:
                    self.ops.snapshot.remove_abandoned(context, instance)
            except Exception:
                LOG.exception('Could not reconcile the backend objects of '
                              'the instance at start-up', instance=instance)
        return instances

    @_boundary
    def get_available_nodes(self, refresh=False):
        """The one node: the cluster's name (clusters.get_cluster)."""
        return [self.ops.host.nodename()]

    @_boundary
    def get_available_resource(self, nodename):
        """clusters.list_hosts, clusters.container_capacity, vms.list."""
        return self.ops.host.get_available_resource(nodename)

    @_boundary
    def update_provider_tree(self, provider_tree, nodename, allocations=None):
        """VCPU/MEMORY_MB/DISK_GB inventory of the cluster (see hostops)."""
        inv = provider_tree.data(nodename).inventory
        ratios = self._get_allocation_ratios(inv)
        provider_tree.update_inventory(nodename,
                                       self.ops.host.inventory(ratios))

    def get_host_ip_addr(self):
        return CONF.my_ip

    def node_is_available(self, nodename):
        return nodename in self.get_available_nodes()

    # -- instances --

    @_boundary
    def list_instances(self):
        """Names of the instance VMs of the cluster (vms.list)."""
        return self.ops.vm.list_instances()

    @_boundary
    def list_instance_uuids(self):
        """UUIDs of the instance VMs of the cluster (vms.list)."""
        return self.ops.vm.list_instance_uuids()

    @_boundary
    def instance_exists(self, instance):
        """vms.list by name."""
        return self.ops.vm.find_vm(instance) is not None

    @_boundary
    def get_info(self, instance, use_cache=True):
        """Return the VM's power state as the cluster reports it.

        Backend calls: vms.list, vms.get.  HA restarts and power changes
        made in Prism so reach Nova's power-state sync.
        """
        return self.ops.vm.get_info(instance)

    @_boundary
    def spawn(self, context, instance, image_meta, injected_files,
              admin_password, allocations, network_info=None,
              block_device_info=None, power_on=True, accel_info=None):
        """Create the instance VM with its NICs and power it on.

        Root disk cloned from the image (images.get/list, or create_for_upload
        + upload once per image; ensure_disk_image), subnets.get of each
        port's AHV subnet, vms.create (powered off) with ephemeral/swap
        disks, cloud-init and one NIC per port, volume_groups.attach_vm for
        volumes; then, once Neutron reported the ports plugged, vms.power_on.
        A failure deletes the VM with its disks and NICs (vms.delete).
        """
        self.ops.vm.spawn(context, instance, image_meta, admin_password,
                          block_device_info, network_info=network_info,
                          power_on=power_on)

    @_boundary
    def instance_on_disk(self, instance):
        """Whether this cluster holds the instance's disks.

        True when its VM is here, or a replicated recovery point of its VM
        (replication.latest_vm_point): an evacuation to this cluster then
        brings the instance back from those disks (see rebuild), not from
        the image.
        """
        return (self.ops.vm.find_vm(instance) is not None or
                self.ops.vm.find_replica(instance) is not None)

    @_boundary
    def rebuild(self, context, instance, image_meta, injected_files,
                admin_password, allocations, bdms, detach_block_devices,
                attach_block_devices, network_info=None,
                evacuate=False, block_device_info=None,
                preserve_ephemeral=False, accel_uuids=None,
                reimage_boot_volume=False):
        """Evacuation: the instance's VM again, from its newest replica.

        On the cluster of this nova-compute, the newest recovery point of
        the instance's VM (replicated here from the lost cluster) gives the
        new VM its disks (copy-on-write clones: vms.create with disk
        recovery point sources), the NICs are those of the ports as now
        bound, and the volumes are attached from the connection info Cinder
        gives now (after ``failover-host``, the volume groups on this
        cluster).  With no replica here, an instance booted from a volume
        is spawned again around its volumes (Nova's default rebuild); any
        other fails with NoInstanceReplica before anything changes (Nova
        keeps the instance's state).  A rebuild that is not an evacuation
        is Nova's default (destroy, then spawn from the image).
        """
        if not evacuate:
            raise NotImplementedError()
        replica = self.ops.vm.find_replica(instance)
        if replica is None:
            mapping = driver.block_device_info_get_mapping(block_device_info)
            if block_device.get_root_bdm(mapping) is not None:
                LOG.info('No replica of the VM on this cluster: spawning '
                         'the volume-backed instance again',
                         instance=instance)
                raise NotImplementedError()
            error = NoInstanceReplica(instance_uuid=instance.uuid,
                                      cluster=self.ops.cluster_ext_id)
            LOG.error('%s', error.format_message(), instance=instance)
            raise exception.InstanceFaultRollback(inner_exception=error)
        # Ports this cluster cannot plug fail the evacuation before any
        # volume moves (VifCreateFailed).
        self.ops.vif.nic_specs(network_info)
        rp, vmrp = replica
        LOG.info('Evacuating from recovery point %(rp)s (%(name)s, taken '
                 '%(time)s)', {'rp': rp['extId'], 'name': rp.get('name'),
                               'time': rp.get('creationTime')},
                 instance=instance)
        detach_block_devices(context, bdms)
        instance.task_state = task_states.REBUILD_BLOCK_DEVICE_MAPPING
        instance.save(expected_task_state=[task_states.REBUILDING])
        block_device_info = attach_block_devices(context, instance, bdms)
        instance.task_state = task_states.REBUILD_SPAWNING
        instance.save(
            expected_task_state=[task_states.REBUILD_BLOCK_DEVICE_MAPPING])
        self.ops.vm.spawn(context, instance, image_meta, admin_password,
                          block_device_info, network_info=network_info,
                          recovery_point=replica)

    @_boundary
    def destroy(self, context, instance, network_info, block_device_info=None,
                destroy_disks=True, destroy_secrets=True):
        """Delete the instance VM with its disks and NICs.

        volume_groups.detach_vm for each attached group, vms.power_off,
        vms.delete (the VM's own disks and NICs go with it).  Idempotent.
        """
        # A resize keeps the same VM on the one node: when Nova reverts it,
        # it "destroys the destination", which is the instance itself.
        if instance.task_state == task_states.RESIZE_REVERTING:
            LOG.info('Resize revert: keeping the VM', instance=instance)
            return
        self.ops.vm.destroy(instance)

    def cleanup(self, context, instance, network_info, block_device_info=None,
                destroy_disks=True, migrate_data=None, destroy_vifs=True,
                destroy_secrets=True):
        # destroy() removed everything: nothing lives on the compute host.
        pass

    @_boundary
    def reboot(self, context, instance, network_info, reboot_type,
               block_device_info=None, bad_volumes_callback=None,
               accel_info=None, share_info=None):
        """Reboot the VM; a stopped VM is powered on (vms.power_on).

        SOFT: vms.reboot (ACPI), vms.reset if refused; HARD: vms.reset.
        """
        self.ops.vm.reboot(instance, reboot_type)

    @_boundary
    def power_off(self, instance, timeout=0, retry_interval=0):
        """vms.shutdown and wait up to ``timeout``, then vms.power_off."""
        self.ops.vm.power_off(instance, timeout, retry_interval)

    @_boundary
    def power_on(self, context, instance, network_info,
                 block_device_info=None, accel_info=None, share_info=None):
        """vms.power_on."""
        self.ops.vm.power_on(instance)

    @_boundary
    def resume_state_on_host_boot(self, context, instance, network_info,
                                  share_info, block_device_info=None):
        """vms.power_on (Nova calls this for instances that should run)."""
        self.ops.vm.power_on(instance)

    def pause(self, instance):
        """Not supported: AHV's v4 API has no pause (freeze in memory)."""
        raise NotImplementedError(NOT_ON_AHV % 'pause')

    def unpause(self, instance):
        """Not supported: see pause."""
        raise NotImplementedError(NOT_ON_AHV % 'unpause')

    def suspend(self, context, instance):
        """Not supported: AHV's v4 API has no suspend (save to disk)."""
        raise NotImplementedError(NOT_ON_AHV % 'suspend')

    def resume(self, context, instance, network_info, block_device_info=None,
               share_info=None):
        """Not supported: see suspend."""
        raise NotImplementedError(NOT_ON_AHV % 'resume')

    @_boundary
    def rescue(self, context, instance, network_info, image_meta,
               rescue_password, block_device_info, share_info):
        """Boot from a clone of the rescue image (see rescueops)."""
        self.ops.rescue.rescue(context, instance, image_meta,
                               rescue_password)

    @_boundary
    def unrescue(self, context, instance):
        """Remove the rescue disk, boot from the root disk again."""
        self.ops.rescue.unrescue(instance)

    # -- resize on the one node --

    @_boundary
    def migrate_disk_and_power_off(self, context, instance, dest,
                                   flavor, network_info,
                                   block_device_info=None,
                                   timeout=0, retry_interval=0):
        """Checks the root disk does not shrink; vms.shutdown/power_off."""
        return self.ops.vm.migrate_disk_and_power_off(
            instance, flavor, timeout, retry_interval)

    @_boundary
    def finish_migration(self, context, migration, instance, disk_info,
                         network_info, image_meta, resize_instance,
                         allocations, block_device_info=None, power_on=True,
                         share_info=None):
        """Give the VM the new flavor.

        vms.update (vCPUs, memory), vms.resize_disk, vms.power_on.
        """
        self.ops.vm.finish_migration(instance, resize_instance, power_on)

    def confirm_migration(self, context, migration, instance, network_info):
        # Same VM before and after: nothing to clean up.
        pass

    @_boundary
    def finish_revert_migration(self, context, instance, network_info,
                                migration, block_device_info=None,
                                power_on=True, share_info=None):
        """vms.update back to the old flavor, vms.power_on."""
        self.ops.vm.finish_revert_migration(instance, power_on)

    # -- snapshots --

    @_boundary
    def snapshot(self, context, instance, image_id, update_task_state):
        """Snapshot the root disk into the Glance image.

        images.create_from_vm_disk of the root disk; the Glance image gets
        its nutanix:// location (or, when Glance refuses it, the bytes of
        images.download).
        """
        vm = snapshotops.vm_for_snapshot(self.ops.vm, instance)
        self.ops.snapshot.snapshot(context, instance, vm, image_id,
                                   update_task_state)

    # -- volumes --

    def get_volume_connector(self, instance):
        """The connector handed to Cinder's nutanix driver.

        The volume group is attached to the VM inside the cluster, so no
        session is made from this host.  ``nutanix_cluster_ext_id`` tells
        Cinder's nutanix driver which cluster the VM is on: for its own
        cluster it exports nothing over iSCSI (this host gets no access and
        needs no initiator).  ``initiator`` (this host's open-iscsi name,
        when it has one) serves other volume drivers.
        """
        connector = {
            'ip': CONF.my_block_storage_ip,
            'host': CONF.host,
            'initiator': volumeops.host_initiator(),
            'multipath': False,
            'platform': 'x86_64',
            'os_type': 'linux',
        }
        if self._ops is not None:
            connector[prism_vg.CONNECTOR_CLUSTER] = (
                self._ops.cluster_ext_id)
        return connector

    @_boundary
    def attach_volume(self, context, connection_info, instance, mountpoint,
                      disk_bus=None, device_type=None, encryption=None):
        """volume_groups.attach_vm of the volume's group."""
        volumeops.volume_group_of(connection_info)
        vm = self.ops.vm.get_vm(instance)
        self.ops.volume.attach(connection_info, vm['extId'], instance)

    @_boundary
    def detach_volume(self, context, connection_info, instance, mountpoint,
                      encryption=None):
        """volume_groups.detach_vm of the volume's group."""
        volumeops.volume_group_of(connection_info)
        vm = self.ops.vm.find_vm(instance)
        if vm is None:
            LOG.info('VM gone: volume already detached', instance=instance)
            return
        self.ops.volume.detach(connection_info, vm['extId'], instance)

    @_boundary
    def extend_volume(self, context, connection_info, instance,
                      requested_size):
        """Return the grown volume's size (volume_groups.list_disks).

        The guest sees the grown volume-group disk by itself.
        """
        self.ops.vm.get_vm(instance)
        return self.ops.volume.volume_size(connection_info)

    # -- network interfaces --

    @_boundary
    def attach_interface(self, context, instance, image_meta, vif):
        """Add the port's NIC to the VM (subnets.get, vms.add_nic).

        A port this driver cannot plug, or whose MAC or IP is used by
        another NIC of the cluster, raises InterfaceAttachFailed with the
        reason.
        """
        vm = self.ops.vm.get_vm(instance)
        self.ops.vif.attach_interface(instance, vm['extId'], vif)

    @_boundary
    def detach_interface(self, context, instance, vif):
        """Remove the NIC with the port's MAC (vms.list_nics, delete_nic).

        A NIC (or VM) already gone is not an error.
        """
        vm = self.ops.vm.find_vm(instance)
        if vm is None:
            LOG.info('VM gone: interface already detached',
                     instance=instance)
            return
        self.ops.vif.detach_interface(instance, vm['extId'], vif)

    # -- consoles --

    @_boundary
    def get_vnc_console(self, context, instance):
        """vms.console_token; host/port of the cluster's console proxy."""
        return self.ops.vm.get_vnc_console(instance)

    def get_console_output(self, context, instance):
        """Not supported: the v4 API has no console log of a VM."""
        raise NotImplementedError(NOT_ON_AHV % 'console log')


class _Ops(object):
    """The ops objects for one resolved cluster and container."""

    def __init__(self, client, conf, image_api, cluster_ext_id, virtapi):
        self.cluster_ext_id = cluster_ext_id
        container = client.clusters.find_storage_container(
            conf.storage_container, cluster_ext_id=cluster_ext_id)
        self.container_ext_id = prism_clusters.storage_container_ext_id(
            container)
        self.volume = volumeops.VolumeOps(client)
        self.vif = vifops.VifOps(client, virtapi, cluster_ext_id)
        self.images = imagecache.ImageCache(
            client, image_api, cluster_ext_id, conf.image_cache_prefix)
        self.vm = vmops.VMOps(client, conf, cluster_ext_id,
                              self.container_ext_id, self.images,
                              self.volume, self.vif)
        self.rescue = rescueops.RescueOps(client, self.container_ext_id,
                                          self.images, self.vm)
        self.snapshot = snapshotops.SnapshotOps(
            client, image_api, cluster_ext_id, conf.direct_snapshot)
        self.host = hostops.HostOps(client, cluster_ext_id,
                                    self.container_ext_id)
