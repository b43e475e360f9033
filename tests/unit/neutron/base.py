"""Neutron's own ML2 plugin test case with the ``nutanix`` driver loaded.

``Ml2PluginV2TestCase`` runs the real ML2 plugin, its API and database
(SQLite); the driver is loaded by its ``neutron.ml2.mechanism_drivers``
entry point as neutron-server loads it.  Subclasses give the driver a
Prism client: a spec'd mock here (unit tests), the real client talking to
the emulator in tests/functional/neutron.

Importing neutron's test modules monkey-patches the process with
eventlet: Neutron tests run in a pytest process of their own.
"""

from unittest import mock

from neutron_lib.api.definitions import portbindings
from neutron_lib.api.definitions import provider_net as pnet
from neutron_lib import context as n_context
from neutron_lib.plugins import directory
from oslo_config import cfg
from oslo_serialization import jsonutils

from neutron.tests.unit.plugins.ml2 import test_plugin

from nutanix_openstack.neutron import mech_driver  # noqa: registers opts
from nutanix_openstack.prism import client as prism_client

COMPUTE_HOST = 'nutanix-compute-1'
OTHER_HOST = 'kvm-compute-9'
CLUSTER = 'cluster-1'


def make_client():
    """A PrismClient mock whose APIs accept only the real methods."""
    client = mock.Mock(spec=prism_client.PrismClient)
    client.subnets = mock.Mock(spec=prism_client.SubnetsAPI)
    client.vms = mock.Mock(spec=prism_client.VmsAPI)
    client.cluster_ext_id.return_value = CLUSTER
    client.subnets.find_by_name.return_value = None
    client.subnets.find_by_vlan.return_value = []
    client.subnets.default_virtual_switch.return_value = 'vs0'

    def create(name, vlan_id, cluster_ext_id, ipv4=None, **kw):
        return {'extId': 'subnet-' + name[-8:], 'name': name,
                'networkId': vlan_id, 'clusterReference': cluster_ext_id,
                'virtualSwitchReference': 'vs0'}
    client.subnets.create.side_effect = create
    client.vms.list.return_value = []
    client.vms.find_nic_by_mac.return_value = None
    return client


class NutanixMl2TestCase(test_plugin.Ml2PluginV2TestCase):
    """ML2 with ``mechanism_drivers = nutanix`` (and no other driver)."""

    _mechanism_drivers = ['nutanix']
    # Neutron's test case sets physnet1..3 with VLAN ranges; the cluster
    # carries physnet1 and physnet2.
    physical_networks = ['physnet1', 'physnet2']
    adopt_existing_subnets = False

    def nutanix_conf(self):
        """Options of [ml2_nutanix] for this test (endpoints etc.)."""
        return {'endpoints': ['http://127.0.0.1:9'],
                'username': 'admin', 'password': 'secret'}

    def setUp(self):
        # Set before the plugin (and so the driver) is loaded by setUp.
        opts = dict(compute_hosts=[COMPUTE_HOST],
                    physical_networks=self.physical_networks,
                    adopt_existing_subnets=self.adopt_existing_subnets)
        opts.update(self.nutanix_conf())
        for name, value in opts.items():
            cfg.CONF.set_override(name, value, group='ml2_nutanix')
        super(NutanixMl2TestCase, self).setUp()
        self.plugin = directory.get_plugin()
        self.mech = self.plugin.mechanism_manager.mech_drivers['nutanix'].obj
        self.admin_ctx = n_context.get_admin_context()

    # -- API helpers (real Neutron API requests) ---------------------------

    def create_network(self, network_type='vlan', physnet='physnet1',
                       vlan=None, expected=201):
        kwargs = {pnet.NETWORK_TYPE: network_type}
        if physnet is not None:
            kwargs[pnet.PHYSICAL_NETWORK] = physnet
        if vlan is not None:
            kwargs[pnet.SEGMENTATION_ID] = vlan
        res = self._create_network(
            self.fmt, 'net-%s' % network_type, True,
            arg_list=tuple(kwargs), as_admin=True, **kwargs)
        return self._answer(res, expected, 'network')

    def create_subnet(self, network_id, cidr, expected=201, **kwargs):
        res = self._create_subnet(self.fmt, network_id, cidr,
                                  as_admin=True, **kwargs)
        return self._answer(res, expected, 'subnet')

    def create_port(self, network_id, host=COMPUTE_HOST, expected=201,
                    **kwargs):
        # As Nova creates them: an instance port of a compute host
        # (Neutron puts no provisioning block on ports without an owner).
        kwargs.setdefault('device_owner', 'compute:nova')
        if host is not None:
            kwargs[portbindings.HOST_ID] = host
        arg_list = (portbindings.HOST_ID,) + tuple(kwargs.pop('arg_list', ()))
        res = self._create_port(self.fmt, network_id, is_admin=True,
                                arg_list=arg_list, **kwargs)
        return self._answer(res, expected, 'port')

    def update(self, resource, ext_id, body, expected=200):
        req = self.new_update_request(resource + 's', {resource: body},
                                      ext_id, as_admin=True)
        return self._answer(req.get_response(self.api), expected, resource)

    def show(self, resource, ext_id):
        return self._show(resource + 's', ext_id, as_admin=True)[resource]

    def delete(self, resource, ext_id, expected=204):
        self._delete(resource + 's', ext_id, expected_code=expected,
                     as_admin=True)

    def _answer(self, res, expected, resource):
        body = jsonutils.loads(res.body) if res.body else {}
        self.assertEqual(expected, res.status_int, body)
        return body.get(resource, body)

    def list_networks(self):
        return self._list('networks', as_admin=True)['networks']
