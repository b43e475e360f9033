"""SDK conformance: ntnx_networking_py_client against the emulator.

Every subnet and virtual switch call the emulator serves goes through
Nutanix's own generated client (``SubnetsApi``, ``VirtualSwitchesApi``),
and every answer must deserialize into the SDK's models with no field the
SDK does not know; errors must be the SDK's ``ApiException`` with the v4
error body.
"""

import json

import ntnx_networking_py_client as net
from ntnx_networking_py_client import rest as net_rest

from tests.functional.emulator import test_vms_base as base

REL_SUBNET = 'networking:config:subnet'
VMM = base.VMM


def _ip(value):
    return net.IPv4Address(value=value, prefix_length=32)


def _ipv4(cidr_ip='192.0.2.0', prefix=24, gateway='192.0.2.1',
          pools=(('192.0.2.10', '192.0.2.20'),)):
    return net.IPConfig(ipv4=net.IPv4Config(
        ip_subnet=net.IPv4Subnet(ip=_ip(cidr_ip), prefix_length=prefix),
        default_gateway_ip=_ip(gateway) if gateway else None,
        pool_list=[net.IPv4Pool(start_ip=_ip(s), end_ip=_ip(e))
                   for s, e in pools]))


class TestSdkSubnetsApi(base.SdkTestCase):

    def setUp(self):
        super().setUp()
        self.client = self.sdk(net)
        self.api = net.SubnetsApi(api_client=self.client)
        self.switches = net.VirtualSwitchesApi(api_client=self.client)

    def _switch(self):
        listed = self.switches.list_virtual_switches()
        self.assertEqual('ListVirtualSwitchesApiResponse',
                         type(listed).__name__)
        for item in listed.data:
            self.assert_parsed(item, 'VirtualSwitch')
        return listed.data[0]

    def _create(self, name='sdk-net', vlan=100, ip_config=None, **kwargs):
        body = net.Subnet(name=name, subnet_type=net.SubnetType.VLAN,
                          network_id=vlan,
                          cluster_reference=self.emu.cluster_ext_id,
                          virtual_switch_reference=self._switch().ext_id,
                          ip_config=ip_config, **kwargs)
        resp = self.api.create_subnet(body=body)
        self.assertEqual('TaskReferenceApiResponse', type(resp).__name__)
        task = self.sdk_wait(resp)
        return self.sdk_created(task, REL_SUBNET)[0]

    def _get(self, ext_id):
        resp = self.api.get_subnet_by_id(ext_id)
        self.assertEqual('GetSubnetApiResponse', type(resp).__name__)
        self.assert_parsed(resp.data, 'Subnet')
        return resp.data, self.client.get_etag(resp)

    def _error(self, call, *args, **kwargs):
        try:
            call(*args, **kwargs)
        except net_rest.ApiException as exc:
            body = json.loads(exc.body)
            self.assertEqual('networking.v4.error.ErrorResponse',
                             body['$objectType'])
            return exc.status, body['data']['error'][0]
        self.fail('%s did not fail' % call.__name__)

    def test_virtual_switches(self):
        switch = self._switch()
        self.assertTrue(switch.is_default)
        self.assertEqual([self.emu.cluster_ext_id],
                         [c.ext_id for c in switch.clusters])
        got = self.switches.get_virtual_switch_by_id(switch.ext_id)
        self.assertEqual('GetVirtualSwitchApiResponse', type(got).__name__)
        self.assert_parsed(got.data, 'VirtualSwitch')
        self.assertEqual('vs0', got.data.name)

    def test_create_get_list_update_delete_with_ipam(self):
        options = net.DhcpOptions(
            domain_name_servers=[net.IPAddress(ipv4=_ip('192.0.2.53'))],
            domain_name='example.org', search_domains=['example.org'])
        ext_id = self._create(ip_config=[_ipv4()], dhcp_options=options,
                              description='sdk')
        subnet, etag = self._get(ext_id)
        self.assertTrue(etag)
        self.assertEqual(('sdk-net', 'VLAN', 100), (
            subnet.name, subnet.subnet_type, subnet.network_id))
        self.assertEqual(self.emu.cluster_ext_id, subnet.cluster_reference)
        ipv4 = subnet.ip_config[0].ipv4
        self.assertEqual(('192.0.2.0', 24), (ipv4.ip_subnet.ip.value,
                                             ipv4.ip_subnet.prefix_length))
        self.assertEqual('192.0.2.1', ipv4.default_gateway_ip.value)
        self.assertEqual([('192.0.2.10', '192.0.2.20')],
                         [(p.start_ip.value, p.end_ip.value)
                          for p in ipv4.pool_list])
        self.assertEqual('192.0.2.53', subnet.dhcp_options
                         .domain_name_servers[0].ipv4.value)

        self._create('other', vlan=200)
        listed = self.api.list_subnets(_filter="name eq 'sdk-net'")
        self.assertEqual('ListSubnetsApiResponse', type(listed).__name__)
        self.assertEqual([ext_id], [s.ext_id for s in listed.data])
        by_vlan = self.api.list_subnets(_filter='networkId eq 200')
        self.assertEqual(['other'], [s.name for s in by_vlan.data])
        page = self.api.list_subnets(_page=1, _limit=1, _orderby='name')
        self.assertEqual(['sdk-net'], [s.name for s in page.data])
        self.assertEqual(2, page.metadata.total_available_results)
        for item in self.api.list_subnets().data:
            self.assert_parsed(item, 'Subnet')

        subnet.name = 'sdk-net-2'
        subnet.ip_config = [_ipv4(pools=(('192.0.2.100', '192.0.2.110'),))]
        self.sdk_wait(self.api.update_subnet_by_id(ext_id, subnet,
                                                   if_match=etag))
        subnet, _ = self._get(ext_id)
        self.assertEqual('sdk-net-2', subnet.name)
        self.assertEqual('192.0.2.100', subnet.ip_config[0].ipv4
                         .pool_list[0].start_ip.value)
        status, _ = self._error(
            self.api.update_subnet_by_id, ext_id,
            net.Subnet(name='x', subnet_type='VLAN', network_id=100),
            if_match=etag)
        self.assertEqual(412, status)

        self.sdk_wait(self.api.delete_subnet_by_id(ext_id))
        status, error = self._error(self.api.get_subnet_by_id, ext_id)
        self.assertEqual(404, status)
        self.assertEqual('SUBNET_NOT_FOUND', error['errorGroup'])

    def test_subnet_without_ipam(self):
        ext_id = self._create(vlan=0)
        subnet, _ = self._get(ext_id)
        self.assertEqual(0, subnet.network_id)
        self.assertIsNone(subnet.ip_config)
        self.assertEqual(0, subnet.ip_usage.num_macs)
        self.assertIsNone(subnet.ip_usage.num_free_i_ps)

    def test_bad_input_answers_400(self):
        for kwargs in ({'vlan': 4095},
                       {'ip_config': [_ipv4(gateway='10.0.0.1')]},
                       {'ip_config': [_ipv4(cidr_ip='192.0.2.7')]},
                       {'ip_config': [_ipv4(pools=(('192.0.2.30',
                                                    '192.0.2.20'),))]}):
            body = net.Subnet(
                name='bad', subnet_type='VLAN',
                network_id=kwargs.get('vlan', 5),
                cluster_reference=self.emu.cluster_ext_id,
                ip_config=kwargs.get('ip_config'))
            status, _ = self._error(self.api.create_subnet, body=body)
            self.assertEqual(400, status, kwargs)
        status, _ = self._error(self.api.create_subnet, body=net.Subnet(
            name='overlay', subnet_type='OVERLAY'))
        self.assertEqual(400, status)
        self.assertEqual([], self.api.list_subnets().data or [])

    def test_delete_in_use_answers_409(self):
        ext_id = self._create(ip_config=[_ipv4()])
        self.create_vm(nics=[{'nicNetworkInfo': {
            '$objectType': 'vmm.v4.ahv.config.VirtualEthernetNicNetworkInfo',
            'subnet': {'extId': ext_id}}}])
        status, error = self._error(self.api.delete_subnet_by_id, ext_id)
        self.assertEqual(409, status)
        self.assertEqual('SUBNET_IN_USE', error['errorGroup'])
        subnet, _ = self._get(ext_id)
        # The NIC took the first pool address.
        usage = subnet.ip_usage
        self.assertEqual((1, 1, 10), (usage.num_macs,
                                      usage.num_assigned_i_ps,
                                      usage.num_free_i_ps))
        (pool,) = usage.ip_pool_usages
        self.assertEqual((11, 10, '192.0.2.10'), (
            pool.num_total_i_ps, pool.num_free_i_ps,
            pool.range.start_ip.value))
        self.assertEqual(1, self.api.list_subnets().data[0].ip_usage
                         .num_macs)
