"""AHV VLAN subnets: ipv4 dict <-> v4 JSON and the calls on the wire."""

from nutanix_openstack.prism import exceptions as exc
from nutanix_openstack.prism import paths
from nutanix_openstack.prism import subnets
from tests.unit.prism import base

NS = 'networking.v4.config.'
SUBNET = paths.SUBNETS + '/sub-1'
IPV4 = {'cidr': '192.0.2.0/24', 'gateway': '192.0.2.1',
        'pools': [('192.0.2.10', '192.0.2.20')],
        'dns_servers': ['192.0.2.53']}


def _addr(value):
    return {'$objectType': 'common.v1.config.IPv4Address', 'value': value,
            'prefixLength': 32}


class Ipv4MappingTest(base.PrismTestCase):

    def test_ipv4_config_json(self):
        expected = [{
            '$objectType': NS + 'IPConfig',
            'ipv4': {
                '$objectType': NS + 'IPv4Config',
                'ipSubnet': {'$objectType': NS + 'IPv4Subnet',
                             'ip': _addr('192.0.2.0'), 'prefixLength': 24},
                'defaultGatewayIp': _addr('192.0.2.1'),
                'poolList': [{'$objectType': NS + 'IPv4Pool',
                              'startIp': _addr('192.0.2.10'),
                              'endIp': _addr('192.0.2.20')}]}}]
        self.assertEqual(expected, subnets.ipv4_config(IPV4))
        self.assertEqual([], subnets.ipv4_config(None))
        self.assertEqual({'$objectType': NS + 'DhcpOptions',
                          'domainNameServers': [{
                              '$objectType': 'common.v1.config.IPAddress',
                              'ipv4': _addr('192.0.2.53')}]},
                         subnets.dhcp_options(IPV4))
        self.assertIsNone(subnets.dhcp_options(dict(IPV4, dns_servers=[])))

    def test_round_trip_and_bad_input(self):
        subnet = {'networkId': 7, 'ipConfig': subnets.ipv4_config(IPV4),
                  'dhcpOptions': subnets.dhcp_options(IPV4)}
        self.assertEqual(IPV4, subnets.subnet_ipv4(subnet))
        self.assertEqual(7, subnets.subnet_vlan_id(subnet))
        no_gw = dict(IPV4, gateway=None, pools=[], dns_servers=[])
        self.assertEqual(no_gw, subnets.subnet_ipv4(
            {'ipConfig': subnets.ipv4_config(no_gw)}))
        self.assertIsNone(subnets.subnet_ipv4({'networkId': 0}))
        for bad in (dict(IPV4, cidr='192.0.2.1/24'),
                    dict(IPV4, cidr='2001:db8::/64'),
                    dict(IPV4, gateway='x')):
            self.assertRaises(ValueError, subnets.ipv4_config, bad)


class SubnetCallsTest(base.PrismTestCase):

    def setUp(self):
        super(SubnetCallsTest, self).setUp()
        self.m.get(self.url(paths.VIRTUAL_SWITCHES), json={'data': [
            {'extId': 'vs-other', 'isDefault': True,
             'clusters': [{'extId': 'c-2'}]},
            {'extId': 'vs-1', 'isDefault': False,
             'clusters': [{'extId': 'c-1'}]},
            {'extId': 'vs-0', 'isDefault': True,
             'clusters': [{'extId': 'c-1'}]}]})
        subnet = {'extId': 'sub-1', 'name': 'n', 'networkId': 5,
                  'ipConfig': subnets.ipv4_config(IPV4),
                  'dhcpOptions': dict(subnets.dhcp_options(IPV4),
                                      domainName='example.org')}
        self.m.get(self.url(SUBNET), json={'data': subnet},
                   headers={'ETag': 'sub-etag'})

    def _accept(self, method, path, entities=()):
        self.m.register_uri(method, self.url(path), status_code=202,
                            json=base.task_ref())
        self.mock_task(entities=entities)

    def test_create_on_the_default_switch(self):
        self._accept('POST', paths.SUBNETS, [(paths.REL_SUBNET, 'sub-1')])
        got = self.client.subnets.create('n', 5, 'c-1', ipv4=IPV4,
                                         description='d')
        self.assertEqual('sub-1', got['extId'])
        body = self.requests('POST')[0].json()
        self.assertEqual({
            '$objectType': NS + 'Subnet', 'name': 'n', 'description': 'd',
            'subnetType': 'VLAN', 'networkId': 5, 'clusterReference': 'c-1',
            'virtualSwitchReference': 'vs-0',
            'ipConfig': subnets.ipv4_config(IPV4),
            'dhcpOptions': subnets.dhcp_options(IPV4)}, body)

    def test_create_without_ipam_on_a_given_switch(self):
        self._accept('POST', paths.SUBNETS, [(paths.REL_SUBNET, 'sub-1')])
        self.client.subnets.create('n', 0, 'c-1', virtual_switch_ext_id='v')
        body = self.requests('POST')[0].json()
        self.assertEqual((0, 'v'), (body['networkId'],
                                    body['virtualSwitchReference']))
        self.assertNotIn('ipConfig', body)
        self.assertNotIn('dhcpOptions', body)
        self.assertEqual([], self.requests('GET', paths.VIRTUAL_SWITCHES))

    def test_create_wait_false_and_no_switch(self):
        self._accept('POST', paths.SUBNETS)
        self.assertEqual({'extId': 'ZXJnb24=:task-1'},
                         self.client.subnets.create('n', 1, 'c-1',
                                                    wait=False))
        self.assertRaises(exc.NotFound, self.client.subnets.create, 'n', 1,
                          'c-9')

    def test_finders_filter_on_the_server(self):
        self.m.get(self.url(paths.SUBNETS), json={'data': [
            {'extId': 'a', 'clusterReference': 'c-1'},
            {'extId': 'b', 'clusterReference': 'c-2'}]})
        self.assertEqual('a', self.client.subnets.find_by_name(
            "it's")['extId'])
        self.assertEqual(["name eq 'it''s'"],
                         base.qs(self.m.request_history[-1])['$filter'])
        self.assertEqual(['b'], [s['extId'] for s in self.client.subnets
                                 .find_by_vlan(12, cluster_ext_id='c-2')])
        self.assertEqual(['networkId eq 12'],
                         base.qs(self.m.request_history[-1])['$filter'])
        self.m.get(self.url(paths.SUBNETS), json={})
        self.assertIsNone(self.client.subnets.find_by_name('x'))

    def test_update_ipv4_keeps_other_dhcp_options(self):
        self._accept('PUT', SUBNET)
        new = {'cidr': '198.51.100.0/24', 'gateway': None, 'pools': [],
               'dns_servers': ['198.51.100.53']}
        self.client.subnets.update_ipv4('sub-1', new)
        put = self.requests('PUT')[0]
        self.assertEqual('sub-etag', put.headers['If-Match'])
        body = put.json()
        self.assertEqual(subnets.ipv4_config(new), body['ipConfig'])
        self.assertEqual('example.org', body['dhcpOptions']['domainName'])
        self.assertEqual(subnets.dhcp_options(new)['domainNameServers'],
                         body['dhcpOptions']['domainNameServers'])
        self.assertEqual((5, 'n'), (body['networkId'], body['name']))

    def test_update_ipv4_none_removes_ipam(self):
        self._accept('PUT', SUBNET)
        self.client.subnets.update_ipv4('sub-1', None)
        body = self.requests('PUT')[0].json()
        self.assertEqual([], body['ipConfig'])
        self.assertNotIn('domainNameServers', body['dhcpOptions'])

    def test_delete_carries_if_match_and_maps_409(self):
        self._accept('DELETE', SUBNET)
        self.client.subnets.delete('sub-1')
        self.assertEqual('sub-etag',
                         self.requests('DELETE')[0].headers['If-Match'])
        self.m.delete(self.url(SUBNET), status_code=409,
                      json=base.error_body('in use', 'NET-40900', 409,
                                           ns='networking'))
        self.assertRaises(exc.Conflict, self.client.subnets.delete, 'sub-1')
