"""NIC JSON: nic_spec, the accessors, the VM NIC calls on the wire."""

from nutanix_openstack.prism import exceptions as exc
from nutanix_openstack.prism import nics
from nutanix_openstack.prism import paths
from tests.unit.prism import base

NS = 'vmm.v4.ahv.config.'
VM = paths.VMS + '/vm-1'
NICS = VM + '/nics'


class NicSpecTest(base.PrismTestCase):

    def test_with_address(self):
        spec = nics.nic_spec('FA:16:3E:00:00:01', 'sub-1', '192.0.2.5')
        self.assertEqual({
            '$objectType': NS + 'Nic',
            'nicBackingInfo': {'$objectType': NS + 'VirtualEthernetNic',
                               'macAddress': 'fa:16:3e:00:00:01',
                               'model': 'VIRTIO', 'isConnected': True},
            'nicNetworkInfo': {
                '$objectType': NS + 'VirtualEthernetNicNetworkInfo',
                'nicType': 'NORMAL_NIC',
                'subnet': {'$objectType': NS + 'SubnetReference',
                           'extId': 'sub-1'},
                'ipv4Config': {
                    '$objectType': NS + 'Ipv4Config',
                    'shouldAssignIp': True,
                    'ipAddress': {
                        '$objectType': 'common.v1.config.IPv4Address',
                        'value': '192.0.2.5', 'prefixLength': 32}}}}, spec)

    def test_without_address_assigns_none(self):
        spec = nics.nic_spec('fa:16:3e:00:00:01', 'sub-1', model='E1000',
                             is_connected=False)
        self.assertEqual({'$objectType': NS + 'Ipv4Config',
                          'shouldAssignIp': False},
                         spec['nicNetworkInfo']['ipv4Config'])
        self.assertEqual('E1000', nics.nic_model(spec))
        self.assertFalse(nics.nic_is_connected(spec))
        self.assertRaises(ValueError, nics.nic_spec, 'm', 's',
                          model='RTL8139')

    def test_accessors_read_both_field_pairs(self):
        spec = nics.nic_spec('fa:16:3e:00:00:01', 'sub-1', '192.0.2.5')
        self.assertEqual(('fa:16:3e:00:00:01', 'sub-1', '192.0.2.5'), (
            nics.nic_mac(spec), nics.nic_subnet_ext_id(spec),
            nics.nic_ipv4_address(spec)))
        old = {'backingInfo': {'macAddress': 'AA:BB:CC:00:00:01'},
               'networkInfo': {'subnet': {'extId': 's'},
                               'ipv4Info': {'learnedIpAddresses': [
                                   {'value': '10.0.0.9'}]}}}
        self.assertEqual(('aa:bb:cc:00:00:01', 's', '10.0.0.9'), (
            nics.nic_mac(old), nics.nic_subnet_ext_id(old),
            nics.nic_ipv4_address(old)))
        self.assertEqual((None, None, None), (
            nics.nic_mac({}), nics.nic_subnet_ext_id({}),
            nics.nic_ipv4_address({})))

    def test_vif_constants(self):
        self.assertEqual('nutanix', nics.VIF_TYPE)
        self.assertEqual(('nutanix_subnet_ext_id', 'nutanix_cluster_ext_id',
                          'nutanix_vlan_id'),
                         (nics.VIF_DETAIL_SUBNET, nics.VIF_DETAIL_CLUSTER,
                          nics.VIF_DETAIL_VLAN))


class VmNicCallsTest(base.PrismTestCase):

    def setUp(self):
        super(VmNicCallsTest, self).setUp()
        self.m.get(self.url(VM), json={'data': {'extId': 'vm-1'}},
                   headers={'ETag': 'vm-etag'})
        self.nic = dict(nics.nic_spec('fa:16:3e:00:00:01', 'sub-1'),
                        extId='nic-1')
        self.m.get(self.url(NICS + '/nic-1'), json={'data': self.nic},
                   headers={'ETag': 'vm-etag'})

    def _accept(self, method, path, entities=()):
        self.m.register_uri(method, self.url(path), status_code=202,
                            json=base.task_ref())
        self.mock_task(entities=entities)

    def test_create_vm_with_nics(self):
        self._accept('POST', paths.VMS, [(paths.REL_VM, 'vm-1')])
        spec = nics.nic_spec('fa:16:3e:00:00:01', 'sub-1')
        self.client.vms.create('inst', nics=[spec])
        self.assertEqual([spec], self.requests('POST')[0].json()['nics'])
        self.client.vms.create('inst', nics=None)
        self.assertEqual([], self.requests('POST')[1].json()['nics'])

    def test_add_nic_returns_the_new_nic(self):
        self._accept('POST', NICS, [(paths.REL_VM, 'vm-1'),
                                    (paths.REL_VM_NIC, 'nic-1')])
        self.m.get(self.url(NICS), json={'data': []})
        got = self.client.vms.add_nic('vm-1', self.nic)
        self.assertEqual('nic-1', got['extId'])
        post = self.requests('POST')[0]
        self.assertEqual('vm-etag', post.headers['If-Match'])
        self.assertIn('NTNX-Request-Id', post.headers)

    def test_update_nic_puts_the_spec_with_if_match(self):
        self._accept('PUT', NICS + '/nic-1')
        spec = nics.nic_spec('fa:16:3e:00:00:09', 'sub-2', '192.0.2.7')
        self.client.vms.update_nic('vm-1', 'nic-1', spec)
        put = self.requests('PUT')[0]
        self.assertEqual(dict(spec, extId='nic-1'), put.json())
        self.assertEqual('vm-etag', put.headers['If-Match'])

    def test_delete_nic(self):
        self._accept('DELETE', NICS + '/nic-1')
        self.client.vms.delete_nic('vm-1', 'nic-1')
        self.assertEqual(1, len(self.requests('DELETE')))
        self.m.get(self.url(NICS + '/nic-2'), status_code=404,
                   json=base.error_body('gone', 'VMM-30106'))
        self.assertRaises(exc.NotFound, self.client.vms.delete_nic,
                          'vm-1', 'nic-2')

    def test_find_nic_by_mac_walks_every_vm(self):
        self.m.get(self.url(paths.VMS), [
            {'json': {'data': [{'extId': 'vm-%d' % i, 'nics': []}
                               for i in range(100)],
                      'metadata': {'totalAvailableResults': 101}}},
            {'json': {'data': [{'extId': 'vm-last', 'nics': [self.nic]}],
                      'metadata': {'totalAvailableResults': 101}}}])
        self.assertEqual(('vm-last', self.nic),
                         self.client.vms.find_nic_by_mac('FA:16:3E:00:00:01'))
        self.assertEqual(2, len(self.requests('GET', paths.VMS)))

    def test_conflict_is_raised(self):
        self.m.post(self.url(NICS), status_code=409,
                    json=base.error_body('MAC in use', 'VMM-30108',
                                         status=409))
        self.m.get(self.url(NICS), json={'data': []})
        self.assertRaises(exc.Conflict, self.client.vms.add_nic, 'vm-1',
                          self.nic)
