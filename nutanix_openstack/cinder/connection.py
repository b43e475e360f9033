"""iSCSI exports of volume groups.

A volume group is exported to a host by attaching that host's initiator
IQN as an iSCSI client of the group; the portal is the cluster's external
data services address.  The connection info also names the volume group so
that the Nutanix Nova driver can attach the group to the VM directly.
"""

from cinder import exception
from oslo_log import log as logging

from nutanix_openstack.cinder import volumeops
from nutanix_openstack.i18n import _
from nutanix_openstack.prism import exceptions as prism_exc
from nutanix_openstack.prism import volume_groups as prism_vg

LOG = logging.getLogger(__name__)


def data_services_ip(cluster):
    """The cluster's ``network.externalDataServiceIp`` (IPv4 or IPv6)."""
    address = ((cluster.get('network') or {})
               .get('externalDataServiceIp') or {})
    for family in ('ipv4', 'ipv6'):
        value = (address.get(family) or {}).get('value')
        if value:
            return value
    return None


class ConnectionOps(object):

    def __init__(self, client, volume_ops, configuration):
        self.client = client
        self.volume_ops = volume_ops
        self.configuration = configuration
        self._portal_address = None

    def portal(self):
        """``host:port`` of the cluster's iSCSI portal (read once)."""
        if self._portal_address is None:
            address = self.configuration.nutanix_iscsi_portal_address
            if not address:
                cluster = self.client.clusters.get_cluster(
                    self.volume_ops.cluster_ext_id)
                address = data_services_ip(cluster)
            if not address:
                raise exception.VolumeBackendAPIException(
                    data=_('Cluster %s has no external data services IP '
                           'address; set one on the cluster or set '
                           'nutanix_iscsi_portal_address') %
                    self.volume_ops.cluster_ext_id)
            if ':' in address and not address.startswith('['):
                address = '[%s]' % address      # IPv6 literal
            self._portal_address = address
        return '%s:%d' % (self._portal_address,
                          self.configuration.nutanix_iscsi_port)

    def target_iqn(self, vg):
        """The IQN of the volume group's target: ``<prefix>:<targetName>``.

        ``targetName`` defaults to ``<targetPrefix or name>-<extId>``; a
        target name that is already an IQN is used as it is.
        """
        target_name = vg.get('targetName') or vg['name']
        if target_name.startswith('iqn.'):
            return target_name
        return '%s:%s' % (self.configuration.nutanix_iscsi_target_iqn_prefix,
                          target_name)

    def is_direct(self, connector):
        """Whether the connector is a VM on this cluster.

        Nova's nutanix driver attaches the volume group to the VM inside the
        cluster: no iSCSI session is made from the connector's host, so the
        host is neither required to have an initiator nor given access.
        """
        return bool(connector) and connector.get(
            prism_vg.CONNECTOR_CLUSTER) == self.volume_ops.cluster_ext_id

    def initialize_connection(self, volume, connector):
        """Export the volume group to the connector.

        Backend calls: ``GET clusters/{extId}`` (once), ``GET
        volume-groups/{extId}`` and ``.../disks``, ``POST
        volume-groups/{extId}/$actions/attach-iscsi-client`` unless that
        initiator is already a client.  For a connector on this cluster
        (see :meth:`is_direct`) no iSCSI client is attached: the Nova
        driver attaches the group to the VM itself.
        Returns os-brick's iSCSI connection info plus
        ``volume_group_ext_id``.
        """
        direct = self.is_direct(connector)
        initiator = (connector or {}).get('initiator')
        if not initiator and not direct:
            raise exception.InvalidConnectorException(missing='initiator')
        portal = self.portal()
        vg = self.volume_ops.get_volume_group(volume)
        chap = self._chap()
        disk = self.volume_ops.only_disk(vg['extId'])
        if not direct and not volumeops.is_attached(
                self.client, vg['extId'], initiator):
            self.client.volume_groups.attach_iscsi_client(
                vg['extId'], initiator,
                chap_secret=chap[1] if chap else None)
        iqn = self.target_iqn(vg)
        data = {
            'target_discovered': False,
            'target_portal': portal,
            'target_iqn': iqn,
            'target_lun': int(disk.get('index') or 0),
            'volume_id': volume.id,
            'discard': True,
            prism_vg.ATTACH_VOLUME_GROUP: vg['extId'],
            prism_vg.ATTACH_VOLUME_DISK: disk['extId'],
        }
        if chap:
            data.update(auth_method='CHAP', auth_username=chap[0],
                        auth_password=chap[1])
        if direct:
            data[prism_vg.ATTACH_ACCESS] = prism_vg.ACCESS_VM_ATTACH
            LOG.info('Volume %(vol)s handed to a VM of cluster %(cluster)s '
                     'as volume group %(vg)s',
                     {'vol': volume.id, 'vg': vg['extId'],
                      'cluster': self.volume_ops.cluster_ext_id})
        else:
            LOG.info('Volume %(vol)s exported to %(ini)s as %(iqn)s lun '
                     '%(lun)s', {'vol': volume.id, 'ini': initiator,
                                 'iqn': iqn, 'lun': data['target_lun']})
        return {'driver_volume_type': prism_vg.ATTACH_VOLUME_TYPE,
                'data': data}

    def _chap(self):
        conf = self.configuration
        if not conf.safe_get('use_chap_auth'):
            return None
        user = conf.safe_get('chap_username')
        secret = conf.safe_get('chap_password')
        if not user or not secret:
            raise exception.InvalidConfigurationValue(
                option='use_chap_auth', value=True)
        return user, secret

    def terminate_connection(self, volume, connector, other_attachments=0):
        """Detach the connector's initiator from the volume group.

        Unless another attachment of a multiattach volume on the same host
        still needs it; with no connector (force detach) every iSCSI client
        is detached.

        Backend calls: ``GET volume-groups/{extId}/...attachments``, ``POST
        .../$actions/detach-iscsi-client``.
        """
        vg = self.volume_ops.find_volume_group(volume)
        if vg is None:
            LOG.info('Volume %s has no volume group: nothing to detach',
                     volume.id)
            return
        if connector is None:
            initiators = None
        else:
            initiator = connector.get('initiator')
            if not initiator or self.is_direct(connector):
                # Nothing was exported to a direct (VM) connector; the Nova
                # driver detaches the group from the VM itself.
                return
            if other_attachments:
                LOG.debug('Volume %(vol)s is still attached %(n)d more '
                          'time(s) on host %(host)s; keeping its export',
                          {'vol': volume.id, 'n': other_attachments,
                           'host': connector.get('host')})
                return
            initiators = [initiator]
        if initiators is None:
            volumeops.detach_all_iscsi_clients(self.client, vg['extId'])
            return
        for initiator in initiators:
            if volumeops.is_attached(self.client, vg['extId'], initiator):
                try:
                    self.client.volume_groups.detach_iscsi_client(
                        vg['extId'], initiator)
                except prism_exc.NotFound:
                    pass    # detached concurrently
