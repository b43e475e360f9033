"""Instance lifecycle: AHV VMs made, powered, resized and deleted.

The driver keeps no state: a VM is found by its name (the instance uuid),
so any nova-compute configured for the cluster manages every instance VM
of the cluster.
"""

import base64
import time
import urllib.parse

from oslo_log import log as logging
from oslo_serialization import jsonutils

from nova import block_device
from nova.compute import power_state
from nova.compute import task_states
from nova.compute import vm_states
from nova.console import type as ctype
from nova import exception
from nova.virt import driver
from nova.virt import hardware

from nutanix_openstack.nova import imagecache
from nutanix_openstack.nova import utils
from nutanix_openstack.prism import exceptions as prism_exc
from nutanix_openstack.prism import formats
from nutanix_openstack.prism import session as prism_session
from nutanix_openstack.prism import vms as prism_vms

LOG = logging.getLogger(__name__)

POWER_STATES = {
    'ON': power_state.RUNNING,
    'OFF': power_state.SHUTDOWN,
    'PAUSED': power_state.PAUSED,
}


def nova_power_state(vm):
    return POWER_STATES.get(vm.get('powerState'), power_state.NOSTATE)


# Nova errors out these instances at start-up (ComputeManager._init_instance)
# because their build never finished.
INTERRUPTED_BUILD_TASK_STATES = (
    task_states.SCHEDULING, task_states.BLOCK_DEVICE_MAPPING,
    task_states.NETWORKING, task_states.SPAWNING)


def build_was_interrupted(instance):
    return (instance.vm_state == vm_states.BUILDING or
            instance.task_state in INTERRUPTED_BUILD_TASK_STATES)


class VMOps(object):

    def __init__(self, client, conf, cluster_ext_id, container_ext_id,
                 image_cache, volumeops, vifops):
        self._client = client
        self._conf = conf
        self._cluster_ext_id = cluster_ext_id
        self._container_ext_id = container_ext_id
        self._image_cache = image_cache
        self._volumeops = volumeops
        self._vifops = vifops

    # -- lookup -------------------------------------------------------

    def find_vm(self, instance):
        """The VM dict of an instance, or None (vms.list by name, vms.get)."""
        uuid = instance.uuid
        found = self._client.vms.find_by_name(uuid)
        if not found:
            return None
        if len(found) > 1:
            LOG.warning('%(n)d VMs are named %(uuid)s; using the first',
                        {'n': len(found), 'uuid': uuid})
        try:
            return self._client.vms.get(found[0]['extId'])
        except prism_exc.NotFound:
            return None

    def get_vm(self, instance):
        vm = self.find_vm(instance)
        if vm is None:
            raise exception.InstanceNotFound(instance_id=instance.uuid)
        return vm

    def list_vms(self):
        """Return the VMs made by this driver (vms.list).

        Other VMs of the cluster are not Nova's and are left out.
        """
        return [vm for vm in self._client.vms.list()
                if utils.instance_name_of(vm) is not None]

    def list_instances(self):
        return [utils.instance_name_of(vm) for vm in self.list_vms()]

    def list_instance_uuids(self):
        return [vm['name'] for vm in self.list_vms()]

    def find_replica(self, instance):
        """The newest recovery point of the instance's VM on this cluster.

        ``(recovery point, VM recovery point)`` or None
        (replication.latest_vm_point by the VM's name, the instance uuid):
        on a secondary cluster, the replica of the VM that was on the
        primary.
        """
        return self._client.replication.latest_vm_point(instance.uuid)

    def get_info(self, instance):
        vm = self.get_vm(instance)
        return hardware.InstanceInfo(state=nova_power_state(vm),
                                     internal_id=vm['extId'])

    # -- spawn --------------------------------------------------------

    def spawn(self, context, instance, image_meta, admin_password,
              block_device_info, network_info=None, power_on=True,
              recovery_point=None):
        """Create the VM with its NICs, attach its volumes, power it on.

        ``recovery_point``: ``(recovery point, VM recovery point)`` (see
        find_replica) whose disks become the VM's own disks (root,
        ephemeral, swap: copy-on-write clones of its disk recovery points),
        instead of disks from the image: an evacuation to the cluster that
        holds the instance's replica.

        The VM is created powered off with its disks, cloud-init data and
        one NIC per port (vms.create); volumes are attached while Nova
        waits for Neutron's ``network-vif-plugged`` events (see
        vifops.VifOps.wait_for_plugged), and the VM is powered on after
        them.  On any failure after the create (a plug timeout included)
        the VM -- and so its disks and NICs -- is deleted before the error
        is re-raised.
        """
        if self.find_vm(instance) is not None:
            # Never two VMs for one instance (the uuid is the VM's name).
            raise exception.InstanceExists(name=instance.name)
        # Ports this driver cannot plug fail the spawn before anything is
        # made on the cluster.
        nics = self._vifops.nic_specs(network_info)
        flavor = instance.flavor
        if recovery_point is not None:
            disks, cd_roms, boot_config = self._recovered_disks(
                recovery_point, block_device_info), [], None
        else:
            disks, cd_roms, boot_config = self._boot_disks(
                context, instance, image_meta, block_device_info)
            disks.extend(self._extra_disks(instance, block_device_info,
                                           first_index=len(disks)))
        vm_ext_id = None
        try:
            with self._vifops.wait_for_plugged(instance, network_info,
                                               power_on=power_on):
                with self._vifops.creating_nics(network_info):
                    vm = self._client.vms.create(
                        instance.uuid,
                        num_sockets=flavor.vcpus,
                        num_cores_per_socket=1,
                        memory_size_bytes=flavor.memory_mb * utils.MiB,
                        disks=disks,
                        cd_roms=cd_roms,
                        nics=nics,
                        guest_customization=self._guest_customization(
                            instance, admin_password),
                        description=utils.vm_description(instance),
                        cluster_ext_id=self._cluster_ext_id,
                        boot_config=boot_config)
                vm_ext_id = vm['extId']
                LOG.info('Created VM %(vm)s with %(n)d NIC(s)',
                         {'vm': vm_ext_id, 'n': len(nics)},
                         instance=instance)
                for bdm in driver.block_device_info_get_mapping(
                        block_device_info):
                    self._volumeops.attach(bdm['connection_info'],
                                           vm_ext_id, instance)
            if power_on:
                self._client.vms.power_on(vm_ext_id)
        except Exception:
            if vm_ext_id is not None:
                LOG.exception('Spawn failed: deleting VM %(vm)s',
                              {'vm': vm_ext_id}, instance=instance)
                with utils.ignore_backend_errors(
                        'deleting VM %s' % vm_ext_id):
                    self._delete_vm(self._client.vms.get(vm_ext_id))
            raise

    def _recovered_disks(self, recovery_point, block_device_info):
        """The VM's disks as clones of a VM recovery point's disks.

        In the order the VM had them (root first, then ephemeral and
        swap), on the SCSI bus from index 0 (1 when the root is a volume:
        index 0 stays the root's).  The disks are placed in this cluster's
        storage container.
        """
        _rp, vmrp = recovery_point
        mapping = driver.block_device_info_get_mapping(block_device_info)
        first = (utils.ROOT_INDEX + 1
                 if block_device.get_root_bdm(mapping) is not None
                 else utils.ROOT_INDEX)
        drps = vmrp.get('diskRecoveryPoints') or []
        return [prism_vms.disk_from_disk_recovery_point(
            drp['diskRecoveryPointExtId'],
            vm_recovery_point_ext_id=vmrp['extId'],
            container_ext_id=self._container_ext_id,
            bus_type=utils.ROOT_BUS, index=first + i)
            for i, drp in enumerate(drps)]

    def _boot_disks(self, context, instance, image_meta, block_device_info):
        """(disks, cd_roms, boot_config) for the root of the instance."""
        mapping = driver.block_device_info_get_mapping(block_device_info)
        if block_device.get_root_bdm(mapping) is not None:
            # Boot from volume: the volume group is attached after the VM
            # exists; AHV boots from the first disk.
            return [], [], None
        root_bytes = instance.flavor.root_gb * utils.GiB
        disk_format = (image_meta.disk_format
                       if 'disk_format' in image_meta else None)
        try:
            image_ext_id, kind = self._image_cache.image_for_boot(
                context, image_meta.id, disk_format)
        except imagecache.UnsupportedImageFormat:
            raise exception.ImageUnacceptable(
                image_id=image_meta.id,
                reason='disk format %s cannot be booted by the nutanix '
                       'driver (raw, qcow2 and iso can)' % disk_format)
        if kind == formats.ISO_IMAGE:
            disks = []
            if root_bytes:
                disks.append(prism_vms.empty_disk(
                    root_bytes, self._container_ext_id,
                    bus_type=utils.ROOT_BUS, index=utils.ROOT_INDEX))
            cd_rom = prism_vms.cd_rom_from_image(image_ext_id, 'IDE', 0)
            return disks, [cd_rom], prism_vms.boot_from_cd_rom()
        image_bytes = self._client.images.get(image_ext_id).get(
            'sizeBytes') or 0
        if root_bytes and root_bytes < image_bytes:
            raise exception.FlavorDiskSmallerThanImage(
                flavor_size=root_bytes, image_size=image_bytes)
        # root_gb 0 means "the image's size" (as in the libvirt driver).
        size = max(root_bytes, image_bytes) or None
        root = prism_vms.disk_from_image(
            image_ext_id, size_bytes=size,
            container_ext_id=self._container_ext_id,
            bus_type=utils.ROOT_BUS, index=utils.ROOT_INDEX)
        return [root], [], None

    def _extra_disks(self, instance, block_device_info, first_index):
        """Empty ephemeral and swap disks on the SCSI bus after the root."""
        sizes = []
        ephemerals = driver.block_device_info_get_ephemerals(
            block_device_info)
        if ephemerals:
            sizes.extend(e['size'] * utils.GiB for e in ephemerals
                         if e.get('size'))
        elif block_device_info is None and instance.flavor.ephemeral_gb:
            sizes.append(instance.flavor.ephemeral_gb * utils.GiB)
        swap = driver.block_device_info_get_swap(block_device_info)
        swap_mb = (swap['swap_size'] if driver.swap_is_usable(swap)
                   else (instance.flavor.swap if block_device_info is None
                         else 0))
        if swap_mb:
            sizes.append(swap_mb * utils.MiB)
        # Index 0 stays the root's even when the root is a volume.
        index = max(first_index, 1)
        return [prism_vms.empty_disk(size, self._container_ext_id,
                                     bus_type=utils.ROOT_BUS, index=index + i)
                for i, size in enumerate(sizes)]

    def _guest_customization(self, instance, admin_password):
        """Guest customization: cloud-init data of the instance.

        Config drive v2 data source with the instance's meta data and user
        data, both base64 as the v4 API wants.
        """
        meta = {
            'uuid': instance.uuid,
            'name': instance.display_name or instance.name,
            'hostname': instance.hostname or instance.uuid,
            'launch_index': instance.launch_index or 0,
            'availability_zone': instance.availability_zone,
            'meta': dict(instance.metadata or {}),
        }
        if instance.key_data:
            meta['public_keys'] = {instance.key_name or 'key':
                                   instance.key_data}
        if admin_password:
            meta['admin_pass'] = admin_password
        # Nova keeps user data base64-encoded already.
        return prism_vms.cloud_init(
            base64.b64encode(jsonutils.dump_as_bytes(meta)).decode('ascii'),
            user_data_b64=instance.user_data or None)

    # -- destroy ------------------------------------------------------

    def destroy(self, instance):
        """Delete the VM of an instance.

        Detach the VM's volume groups, power it off and delete it with its
        disks.  Idempotent: a missing VM is not an error.
        """
        vm = self.find_vm(instance)
        if vm is None:
            LOG.debug('No VM to destroy', instance=instance)
            return
        self._delete_vm(vm)
        LOG.info('Deleted VM %(vm)s', {'vm': vm['extId']}, instance=instance)

    # -- takeover -----------------------------------------------------

    def remove_interrupted_builds(self, instances):
        """Delete the half-made VMs of builds a dead nova-compute left.

        Nova sets an instance whose build (or build step) was interrupted
        by the death of its nova-compute to ERROR when the service starts
        again (ComputeManager._init_instance); its VM (found by name, the
        instance uuid) may exist half-made: without its volumes, NICs not
        plugged, powered off.  It is deleted here with its disks (volume
        groups detached first, never deleted), so that a rebuild or a new
        build makes a complete one and nothing is created twice.  VMs of
        every other instance are adopted as they are: their power state is
        read from the cluster by get_info.
        Backend calls: vms.list (by name), vms.get, volume_groups detach,
        vms.power_off, vms.delete.  Returns the uuids whose VM was removed.
        """
        removed = []
        for instance in instances:
            if not build_was_interrupted(instance):
                continue
            vm = self.find_vm(instance)
            if vm is None:
                continue
            LOG.warning('Removing VM %(vm)s of an instance whose build was '
                        'interrupted by the death of nova-compute',
                        {'vm': vm['extId']}, instance=instance)
            self._delete_vm(vm)
            removed.append(instance.uuid)
        return removed

    def _delete_vm(self, vm):
        # Volume groups first: deleting a VM must never take a Cinder
        # volume's disk with it.
        for vg_ext_id in utils.attached_volume_groups(vm):
            self._volumeops.detach_group(vg_ext_id, vm['extId'])
        if vm.get('powerState') == 'ON':
            try:
                self._client.vms.power_off(vm['extId'])
            except prism_exc.NotFound:
                return
        try:
            self._client.vms.delete(vm['extId'])
        except prism_exc.NotFound:
            pass

    # -- power --------------------------------------------------------

    def reboot(self, instance, reboot_type):
        """Reboot the VM; a stopped VM is powered on instead.

        SOFT: ACPI reboot (vms.reboot), hard reset (vms.reset) if the guest
        does not take it; HARD: vms.reset.
        """
        vm = self.get_vm(instance)
        if vm.get('powerState') != 'ON':
            self._client.vms.power_on(vm['extId'])
            return
        if reboot_type == 'SOFT':
            try:
                self._client.vms.reboot(vm['extId'])
                return
            except prism_exc.TaskFailed as e:
                LOG.warning('Soft reboot failed (%(err)s): resetting',
                            {'err': e}, instance=instance)
        self._client.vms.reset(vm['extId'])

    def power_off(self, instance, timeout=0, retry_interval=0):
        """Power the VM off, cleanly when a timeout is given.

        ACPI shutdown (vms.shutdown) waited for up to ``timeout`` seconds when
        timeout > 0, then hard power off (vms.power_off).
        """
        vm = self.get_vm(instance)
        if vm.get('powerState') == 'OFF':
            return
        if timeout and self._clean_shutdown(instance, vm, timeout):
            return
        self._client.vms.power_off(vm['extId'])

    def _clean_shutdown(self, instance, vm, timeout):
        try:
            self._client.vms.shutdown(vm['extId'])
        except prism_exc.TaskFailed as e:
            LOG.info('ACPI shutdown refused (%(err)s): powering off',
                     {'err': e}, instance=instance)
            return False
        interval = self._conf.clean_shutdown_poll_interval
        deadline = time.monotonic() + timeout
        while True:
            if self._client.vms.get(vm['extId']).get('powerState') == 'OFF':
                return True
            if time.monotonic() >= deadline:
                LOG.info('Guest did not shut down within %(t)ss: powering '
                         'off', {'t': timeout}, instance=instance)
                return False
            time.sleep(interval)

    def power_on(self, instance):
        """vms.power_on unless the VM already runs."""
        vm = self.get_vm(instance)
        if vm.get('powerState') != 'ON':
            self._client.vms.power_on(vm['extId'])

    # -- resize (same node: the VM stays, only its shape changes) -------

    def migrate_disk_and_power_off(self, instance, flavor, timeout,
                                   retry_interval):
        vm = self.get_vm(instance)
        root = utils.root_disk(vm)
        if root is not None and flavor.root_gb and (
                flavor.root_gb * utils.GiB < utils.disk_size(root)):
            raise exception.InstanceFaultRollback(
                exception.ResizeError(
                    reason='the root disk of an AHV VM cannot shrink'))
        self.power_off(instance, timeout, retry_interval)
        # Nothing moves: the VM and its disks stay where the cluster put
        # them.  Nova hands this string to finish_migration.
        return ''

    def finish_migration(self, instance, resize_instance, power_on):
        """Give the VM the new flavor.

        vms.update (vCPUs, memory), vms.resize_disk (root growth),
        vms.power_on.
        """
        vm = self.get_vm(instance)
        self._set_shape(vm, instance.flavor)
        root = utils.root_disk(vm)
        new_root = instance.flavor.root_gb * utils.GiB
        if resize_instance and root is not None and (
                new_root > utils.disk_size(root)):
            self._client.vms.resize_disk(vm['extId'], root['extId'],
                                         new_root)
        if power_on:
            self._client.vms.power_on(vm['extId'])

    def finish_revert_migration(self, instance, power_on):
        """Give the VM its old flavor's vCPUs and memory back.

        vms.power_off (AHV lowers vCPUs and memory only on a stopped VM; a
        revert discards the resized guest's state as libvirt's does),
        vms.update, vms.power_on.  A root disk that grew stays grown: AHV
        disks cannot shrink.
        """
        vm = self.get_vm(instance)
        if not self._has_shape(vm, instance.flavor) and (
                vm.get('powerState') == 'ON'):
            self._client.vms.power_off(vm['extId'])
            vm = self.get_vm(instance)
        self._set_shape(vm, instance.flavor)
        if power_on and vm.get('powerState') != 'ON':
            self._client.vms.power_on(vm['extId'])

    @staticmethod
    def _has_shape(vm, flavor):
        return (vm.get('numSockets'), vm.get('numCoresPerSocket'),
                vm.get('memorySizeBytes')) == (flavor.vcpus, 1,
                                               flavor.memory_mb * utils.MiB)

    def _set_shape(self, vm, flavor):
        if self._has_shape(vm, flavor):
            return
        self._client.vms.update(vm['extId'], numSockets=flavor.vcpus,
                                numCoresPerSocket=1,
                                memorySizeBytes=flavor.memory_mb * utils.MiB)

    # -- console ------------------------------------------------------

    def get_vnc_console(self, instance):
        """Host, port and token of the cluster's VNC websocket proxy.

        The proxy is ``/vnc/vm/<extId>/proxy``; the token comes from
        vms.console_token.
        """
        vm = self.get_vm(instance)
        if vm.get('powerState') != 'ON':
            raise exception.InstanceNotReady(instance_id=instance.uuid)
        token = self._client.vms.console_token(vm['extId'])
        if isinstance(token, dict):
            token = token.get('token') or token.get('value')
        # Prism serves the proxy where it serves the API.
        api_host, api_port = prism_session.endpoint_address(
            self._conf.endpoints[0])
        host = self._conf.console_proxy_host or api_host
        port = self._conf.console_proxy_port or api_port
        path = '/vnc/vm/%s/proxy?token=%s' % (
            vm['extId'], urllib.parse.quote(token))
        return ctype.ConsoleVNC(host=host, port=port,
                                internal_access_path=path)
