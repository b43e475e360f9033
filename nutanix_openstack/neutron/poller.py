"""The NIC poller: ports go ACTIVE once their NIC exists on the cluster.

Ports bound to a Nutanix compute host carry a provisioning block of entity
``nutanix`` (:mod:`nutanix_openstack.neutron.portops`).  Every
``nic_poll_interval`` seconds the poller reads the blocked ports from the
Neutron database; only if there are any does it list the cluster's VMs
(one call, NICs included) and completes the block of every port whose MAC
is on a NIC.  Neutron then sets the port ACTIVE and tells Nova
``network-vif-plugged``.

It runs as an ML2 plugin worker (``MechanismDriver.get_workers``): in the
``neutron-periodic-workers`` process of a WSGI deployment (neutron-api
under uWSGI/gunicorn plus ``neutron-rpc-server``), or in neutron-server
where that process starts the plugin workers itself.  Several pollers (HA)
are harmless: completing a block twice is a no-op.
"""

from neutron_lib.callbacks import resources
from neutron_lib import context as n_context
from neutron_lib.db import api as db_api
from oslo_log import log as logging

from neutron.db.models import provisioning_block as pb_model
from neutron.db import models_v2
from neutron.db import provisioning_blocks

from nutanix_openstack.neutron import portops
from nutanix_openstack.prism import nics

LOG = logging.getLogger(__name__)


def pending_ports(context):
    """``[(port id, MAC)]`` of ports blocked by this driver."""
    with db_api.CONTEXT_READER.using(context):
        rows = (context.session.query(models_v2.Port.id,
                                      models_v2.Port.mac_address)
                .join(pb_model.ProvisioningBlock,
                      pb_model.ProvisioningBlock.standard_attr_id ==
                      models_v2.Port.standard_attr_id)
                .filter(pb_model.ProvisioningBlock.entity ==
                        portops.PROVISIONING_ENTITY)
                .all())
    return [(row[0], (row[1] or '').lower()) for row in rows]


class NicPoller(object):

    def __init__(self, driver):
        self._driver = driver

    def nic_macs(self):
        """MACs of every NIC of every VM of the cluster (one VM list)."""
        macs = set()
        for vm in self._driver.client.vms.list():
            for nic in vm.get('nics') or ():
                mac = nics.nic_mac(nic)
                if mac:
                    macs.add(mac)
        return macs

    def poll(self, context=None):
        """One round; returns the ids of the ports it completed."""
        context = context or n_context.get_admin_context()
        waiting = pending_ports(context)
        if not waiting:
            return []
        macs = self.nic_macs()
        done = []
        for port_id, mac in waiting:
            if mac not in macs:
                continue
            LOG.info('NIC with MAC %(mac)s of port %(port)s exists on the '
                     'cluster: provisioning complete',
                     {'mac': mac, 'port': port_id})
            provisioning_blocks.provisioning_complete(
                context, port_id, resources.PORT,
                portops.PROVISIONING_ENTITY)
            done.append(port_id)
        return done

    def __call__(self):
        # A looping call stops at the first exception: log and go on.
        try:
            self.poll()
        except Exception:
            LOG.exception('NIC poller round failed; retrying in %s s',
                          self._driver.conf.nic_poll_interval)
