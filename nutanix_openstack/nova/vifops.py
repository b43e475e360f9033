"""Neutron ports as NICs of the instance's AHV VM.

Neutron's ``nutanix`` mechanism driver binds a port with ``vif_type``
:data:`~nutanix_openstack.prism.nics.VIF_TYPE` and puts the extId of the
AHV subnet of the port's network in its ``vif_details``.  Each such VIF
becomes one NIC of the VM: the port's MAC address, on that subnet, with the
port's first fixed IPv4 address (which the cluster's IP address management
reserves exactly, as Neutron allocated it).  The NIC JSON itself is built
by :mod:`nutanix_openstack.prism.nics`; this module only reads Nova's
``network_info``.

At spawn the NICs are created with the VM (one create); the compute
manager's ``network-vif-plugged`` events are awaited as the libvirt driver
awaits them (see :meth:`VifOps.wait_for_plugged`).  Later NICs come and go
with ``attach_interface``/``detach_interface``; every NIC goes with the VM
when it is deleted.
"""

import contextlib

import netaddr
from oslo_log import log as logging

from nova.compute import task_states
from nova import conf as nova_conf
from nova import exception
from nova.i18n import _
from nova.network import model as network_model

from nutanix_openstack.prism import exceptions as prism_exc
from nutanix_openstack.prism import nics as prism_nics

CONF = nova_conf.CONF
LOG = logging.getLogger(__name__)


class VifCreateFailed(exception.VirtualInterfaceCreateException):
    """A port cannot become a NIC at spawn (the build is aborted)."""
    msg_fmt = _('Port %(port_id)s cannot become a NIC of the instance\'s '
                'Nutanix VM: %(reason)s')


class VifPlugTimeout(exception.VirtualInterfaceCreateException):
    msg_fmt = _('Neutron did not report port(s) %(port_ids)s plugged within '
                '%(timeout)s seconds ([DEFAULT] vif_plugging_timeout)')


class VifPlugFailed(exception.VirtualInterfaceCreateException):
    msg_fmt = _('Neutron reported a failure to plug port %(port_id)s')


class InterfaceAttachFailed(exception.InterfaceAttachFailed):
    msg_fmt = _('Failed to attach port %(port_id)s to instance '
                '%(instance_uuid)s: %(reason)s')


def port_ids(network_info):
    return [vif['id'] for vif in network_info or ()]


def first_fixed_ipv4(vif):
    """The first fixed IPv4 address of a VIF, or None."""
    network = vif.get('network') or {}
    for subnet in network.get('subnets') or ():
        for ip in subnet.get('ips') or ():
            # A subnet's ips are the port's fixed IPs (floating IPs hang
            # off them); an IP built without a type is one too.
            if ip.get('type') not in (None, 'fixed') or \
                    not ip.get('address'):
                continue
            version = ip.get('version') or netaddr.IPAddress(
                ip['address']).version
            if version == 4:
                return ip['address']
    return None


def nic_reason(vif, cluster_ext_id):
    """Why a VIF cannot become a NIC on this cluster, or None if it can."""
    if vif.get('type') != prism_nics.VIF_TYPE:
        return (_('its binding vif_type is %(type)r; the Nutanix driver '
                  'plugs only ports bound by Neutron\'s "nutanix" mechanism '
                  'driver (vif_type %(ours)r)')
                % {'type': vif.get('type'), 'ours': prism_nics.VIF_TYPE})
    details = vif.get('details') or {}
    if not details.get(prism_nics.VIF_DETAIL_SUBNET):
        return (_('its binding vif_details have no %s')
                % prism_nics.VIF_DETAIL_SUBNET)
    cluster = details.get(prism_nics.VIF_DETAIL_CLUSTER)
    if cluster and cluster_ext_id and cluster != cluster_ext_id:
        return (_('it is bound to Nutanix cluster %(theirs)s, and this '
                  'compute node is cluster %(ours)s')
                % {'theirs': cluster, 'ours': cluster_ext_id})
    if not vif.get('address'):
        return _('it has no MAC address')
    return None


def nic_for_vif(vif):
    """The v4 NIC spec of a (checked) VIF."""
    details = vif.get('details') or {}
    return prism_nics.nic_spec(vif['address'],
                               details[prism_nics.VIF_DETAIL_SUBNET],
                               ipv4_address=first_fixed_ipv4(vif))


def plug_events(network_info):
    """The ``network-vif-plugged`` events to wait for, as libvirt's.

    Only VIFs Neutron reports not yet active undergo a down->up transition
    and get an event; anything else (already up, or a stale cache) is taken
    as plugged so the spawn never blocks on it.
    """
    return [('network-vif-plugged', vif['id'])
            for vif in network_info or ()
            if vif.get('active', True) is False and
            vif.get('vnic_type') != network_model.VNIC_TYPE_REMOTE_MANAGED]


class VifOps(object):

    def __init__(self, client, virtapi, cluster_ext_id):
        self._client = client
        self._virtapi = virtapi
        self._cluster_ext_id = cluster_ext_id

    # -- specs ----------------------------------------------------------

    def _checked_vif(self, vif, error):
        reason = nic_reason(vif, self._cluster_ext_id)
        if reason is None:
            subnet = vif['details'][prism_nics.VIF_DETAIL_SUBNET]
            try:
                self._client.subnets.get(subnet)
            except prism_exc.NotFound:
                reason = (_('AHV subnet %s of its network does not exist '
                            'on the cluster') % subnet)
        if reason is not None:
            raise error(port_id=vif.get('id'), reason=reason)
        return nic_for_vif(vif)

    def nic_specs(self, network_info):
        """One NIC spec per VIF, in ``network_info`` order.

        Raises :class:`VifCreateFailed` (a VirtualInterfaceCreateException)
        for a VIF this driver cannot plug, before anything exists on the
        cluster.  Backend calls: subnets.get of each VIF's subnet.
        """
        return [self._checked_vif(vif, VifCreateFailed)
                for vif in network_info or ()]

    # -- spawn ------------------------------------------------------------

    @contextlib.contextmanager
    def creating_nics(self, network_info):
        """Turn a refused NIC create into VifCreateFailed.

        A MAC or IP another NIC of the cluster already uses answers 409:
        the spawn is aborted (a reschedule would meet the same conflict).
        """
        try:
            yield
        except (prism_exc.Conflict, prism_exc.BadRequest) as e:
            if not network_info:
                raise
            raise VifCreateFailed(
                port_id=', '.join(port_ids(network_info)),
                reason=str(e)) from e

    def _plug_failed(self, event_name, instance):
        LOG.error('Neutron reported failure on event %(event)s for instance '
                  '%(uuid)s', {'event': event_name, 'uuid': instance.uuid},
                  instance=instance)
        if CONF.vif_plugging_is_fatal:
            raise VifPlugFailed(port_id=event_name.split('-', 3)[-1])

    @contextlib.contextmanager
    def wait_for_plugged(self, instance, network_info, power_on=True):
        """Wait, after the block, for Neutron to report the ports plugged.

        As the libvirt driver: the events of the VIFs not yet active are
        prepared before the block (which creates the NICs) and awaited after
        it, up to ``[DEFAULT] vif_plugging_timeout`` seconds (0: no wait; no
        wait either for a VM that is not powered on, nor in a rebuild:
        task_state ``rebuild_spawning``, for which Neutron sends no event).
        A timeout raises :class:`VifPlugTimeout` when
        ``vif_plugging_is_fatal``, else is logged; a failure Neutron
        reports raises :class:`VifPlugFailed` when
        ``vif_plugging_is_fatal``.
        """
        timeout = CONF.vif_plugging_timeout
        if instance.task_state == task_states.REBUILD_SPAWNING:
            # A rebuild re-creates the VM with the same ports, already
            # bound to this host: Neutron adds no provisioning block and
            # sends no event, while the network_info of a rebuild comes
            # from the instance's cache, which may still show the ports
            # as they were at boot (not active).  Waiting would only time
            # out.
            timeout = 0
        events = plug_events(network_info) if (power_on and timeout) else []
        if not events:
            yield
            return
        try:
            with self._virtapi.wait_for_instance_event(
                    instance, events, timeout=timeout,
                    error_callback=self._plug_failed):
                yield
        except exception.InstanceEventTimeout:
            ports = ', '.join(tag for _name, tag in events)
            if CONF.vif_plugging_is_fatal:
                raise VifPlugTimeout(port_ids=ports, timeout=timeout)
            LOG.warning('Timeout waiting for network-vif-plugged of port(s) '
                        '%(ports)s; continuing (vif_plugging_is_fatal is '
                        'False)', {'ports': ports}, instance=instance)

    # -- attach / detach --------------------------------------------------

    def attach_interface(self, instance, vm_ext_id, vif):
        """Add the NIC of a port to the VM (vms.add_nic).

        A VIF this driver cannot plug, or a MAC or IP already used on the
        cluster, raises :class:`InterfaceAttachFailed` with the reason.  A
        VM that already has the port's NIC (an attach retried after the
        NIC was made) keeps it.  Backend calls: subnets.get, vms.list_nics,
        vms.add_nic.
        """
        def failed(port_id, reason):
            return InterfaceAttachFailed(port_id=port_id, reason=reason,
                                         instance_uuid=instance.uuid)
        spec = self._checked_vif(vif, failed)
        existing = self.find_nic(vm_ext_id, vif['address'])
        if existing is not None and prism_nics.nic_subnet_ext_id(
                existing) == prism_nics.nic_subnet_ext_id(spec):
            LOG.info('Port %(port)s already has NIC %(nic)s on the VM',
                     {'port': vif['id'], 'nic': existing.get('extId')},
                     instance=instance)
            return existing
        try:
            nic = self._client.vms.add_nic(vm_ext_id, spec)
        except (prism_exc.Conflict, prism_exc.BadRequest,
                prism_exc.TaskFailed) as e:
            raise failed(vif['id'], str(e)) from e
        LOG.info('Attached port %(port)s as NIC %(nic)s (MAC %(mac)s)',
                 {'port': vif['id'], 'nic': nic.get('extId'),
                  'mac': vif['address']}, instance=instance)
        return nic

    def find_nic(self, vm_ext_id, mac_address):
        """The VM's NIC with that MAC address, or None (vms.list_nics)."""
        mac = (mac_address or '').lower()
        for nic in self._client.vms.list_nics(vm_ext_id):
            if prism_nics.nic_mac(nic) == mac:
                return nic
        return None

    def detach_interface(self, instance, vm_ext_id, vif):
        """Remove the NIC with the port's MAC (vms.list_nics, delete_nic).

        A NIC already gone is not an error.
        """
        nic = self.find_nic(vm_ext_id, vif['address'])
        if nic is None:
            LOG.info('No NIC with MAC %(mac)s of port %(port)s: already '
                     'detached', {'mac': vif['address'], 'port': vif['id']},
                     instance=instance)
            return
        try:
            self._client.vms.delete_nic(vm_ext_id, nic['extId'])
        except prism_exc.NotFound:
            # Gone meanwhile (the NIC, or the VM with it).
            return
        LOG.info('Detached port %(port)s (NIC %(nic)s)',
                 {'port': vif['id'], 'nic': nic['extId']}, instance=instance)
