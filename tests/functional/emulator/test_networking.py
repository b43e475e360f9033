"""The emulator's networking behaviour over plain HTTP: subnets with and
without IPAM, NIC MAC/IP uniqueness, pool allocation, delete rules,
idempotent retries, recovery point restores, and persistence across a
kill -9."""

import pytest

from nutanix_openstack.emulator import fixture as emu_fixture
from tests.functional.emulator import helpers
from tests.functional.emulator import test_vms_base as base

VMM = base.VMM
NET = base.NETWORKING
MAC1 = 'fa:16:3e:00:00:01'
MAC2 = 'fa:16:3e:00:00:02'
IPAM = {'ipSubnet': {'ip': {'value': '10.1.0.0'}, 'prefixLength': 28},
        'defaultGatewayIp': {'value': '10.1.0.1'},
        'dhcpServerAddress': {'value': '10.1.0.14'},
        'poolList': [{'startIp': {'value': '10.1.0.5'},
                      'endIp': {'value': '10.1.0.6'}}]}


def nic(subnet=None, mac=None, ip=None, assign=None):
    network = {}
    if subnet:
        network['subnet'] = {'extId': subnet}
    if ip or assign is not None:
        network['ipv4Config'] = {'shouldAssignIp': bool(ip) or assign}
        if ip:
            network['ipv4Config']['ipAddress'] = {'value': ip}
    body = {'nicNetworkInfo': network}
    if mac:
        body['nicBackingInfo'] = {'macAddress': mac}
    return body


def ip_of(nic_json):
    ipv4 = nic_json['nicNetworkInfo'].get('ipv4Config') or {}
    return (ipv4.get('ipAddress') or {}).get('value')


class NetworkingTest(base.ApiTestCase):

    def setUp(self):
        super().setUp()
        self.managed = self.create_subnet('managed', 10, IPAM)
        self.flat = self.create_subnet('flat', 0)

    def nics(self, vm_ext_id):
        return self.list('%s/vms/%s/nics' % (VMM, vm_ext_id))

    def add_nic(self, vm_ext_id, body):
        task = self.run_ok('POST', '%s/vms/%s/nics' % (VMM, vm_ext_id), body)
        return self.created(task, 'vmm:ahv:config:vm:nic')[0]

    def test_pool_allocation_skips_taken_and_reserved_addresses(self):
        vm = self.create_vm(nics=[nic(self.managed, ip='10.1.0.5'),
                                  nic(self.managed)])
        self.assertEqual(['10.1.0.5', '10.1.0.6'],
                         [ip_of(n) for n in self.nics(vm)])
        resp = self.call('POST', '%s/vms/%s/nics' % (VMM, vm),
                         nic(self.managed))
        self.assert_error(resp, 409, 'VMM-30110')
        # Outside the pools but inside the CIDR: reserved exactly.
        self.add_nic(vm, nic(self.managed, ip='10.1.0.9'))
        for reserved in ('10.1.0.0', '10.1.0.1', '10.1.0.14', '10.1.0.15'):
            resp = self.call('POST', '%s/vms/%s/nics' % (VMM, vm),
                             nic(self.managed, ip=reserved))
            self.assert_error(resp, 400, 'VMM-30107')
        self.assertEqual(3, len(self.nics(vm)))

    def test_uniqueness_within_one_request(self):
        resp = self.call('POST', VMM + '/vms', self.vm_body(
            nics=[nic(self.flat, mac=MAC1), nic(self.flat, mac=MAC1)]))
        self.assert_error(resp, 409, 'VMM-30108')
        resp = self.call('POST', VMM + '/vms', self.vm_body(
            nics=[nic(self.managed, ip='10.1.0.8'),
                  nic(self.managed, ip='10.1.0.8')]))
        self.assert_error(resp, 409, 'VMM-30109')
        self.assertEqual([], self.list(VMM + '/vms'))

    def test_same_ip_on_two_subnets_and_mac_case(self):
        other = self.create_subnet('other', 11, IPAM)
        vm = self.create_vm(nics=[nic(self.managed, MAC1.upper(), '10.1.0.8'),
                                  nic(other, MAC2, '10.1.0.8')])
        self.assertEqual([MAC1, MAC2], [
            n['nicBackingInfo']['macAddress'] for n in self.nics(vm)])
        resp = self.call('POST', '%s/vms/%s/nics' % (VMM, vm),
                         nic(self.flat, mac=MAC1))
        self.assert_error(resp, 409, 'VMM-30108')

    def test_nic_update_rules(self):
        vm = self.create_vm()
        first = self.add_nic(vm, nic(self.managed, MAC1, '10.1.0.8'))
        second = self.add_nic(vm, nic(self.managed, MAC2, '10.1.0.9'))
        path = '%s/vms/%s/nics/%s' % (VMM, vm, first)
        body, etag = self.get(path)
        resp = self.call('PUT', path, body)
        self.assert_error(resp, 428)
        body['nicNetworkInfo']['ipv4Config']['ipAddress']['value'] = \
            '10.1.0.9'
        self.assert_error(self.call('PUT', path, body,
                                    {'If-Match': etag}), 409, 'VMM-30109')
        body['nicBackingInfo']['macAddress'] = MAC2
        body['nicNetworkInfo']['ipv4Config']['ipAddress']['value'] = \
            '10.1.0.10'
        self.assert_error(self.call('PUT', path, body,
                                    {'If-Match': etag}), 409, 'VMM-30108')
        # An update without MAC or address keeps both.
        self.run_ok('PUT', path, {'nicNetworkInfo': {
            'subnet': {'extId': self.managed}}}, {'If-Match': etag})
        kept, etag = self.get(path)
        self.assertEqual((MAC1, '10.1.0.8'), (
            kept['nicBackingInfo']['macAddress'], ip_of(kept)))
        self.assertEqual(kept['nicBackingInfo'], {
            k: v for k, v in kept['backingInfo'].items()
            if k != '$objectType'} | {
                '$objectType': 'vmm.v4.ahv.config.VirtualEthernetNic'})
        self.run_ok('DELETE', '%s/vms/%s/nics/%s' % (VMM, vm, second))
        self.assert_error(self.call('GET', '%s/vms/%s/nics/%s'
                                    % (VMM, vm, second)), 404, 'VMM-30106')

    def test_subnet_delete_rules_and_vm_delete_frees(self):
        vm = self.create_vm(nics=[nic(self.managed, MAC1, '10.1.0.8')])
        resp = self.call('DELETE', '%s/subnets/%s' % (NET, self.managed))
        self.assert_error(resp, 409, 'NET-40900')
        self.run_ok('DELETE', '%s/vms/%s' % (VMM, vm))
        self.assertNotIn('nic', self.emu.admin.inventory()['objects'])
        self.create_vm(nics=[nic(self.flat, MAC1)])
        self.run_ok('DELETE', '%s/subnets/%s' % (NET, self.managed))
        resp = self.call('DELETE', '%s/subnets/%s' % (NET, self.managed))
        self.assert_error(resp, 404, 'NET-40400')
        self.assertEqual([self.flat],
                         self.emu.admin.inventory()['objects']['subnet'])

    def test_ipam_change_that_strands_an_address_is_refused(self):
        self.create_vm(nics=[nic(self.managed, ip='10.1.0.8')])
        path = '%s/subnets/%s' % (NET, self.managed)
        subnet, etag = self.get(path)
        subnet['ipConfig'][0]['ipv4']['defaultGatewayIp']['value'] = \
            '10.1.0.8'
        self.assert_error(self.call('PUT', path, subnet,
                                    {'If-Match': etag}), 409, 'NET-40901')
        del subnet['ipConfig']
        self.assert_error(self.call('PUT', path, subnet,
                                    {'If-Match': etag}), 409, 'NET-40901')
        subnet['networkId'] = 99
        self.assert_error(self.call('PUT', path, subnet,
                                    {'If-Match': etag}), 400)

    def test_bad_bodies_answer_400_never_500(self):
        bodies = [
            {}, {'name': 'x'}, {'name': 'x', 'subnetType': 'VLAN'},
            {'name': 'x', 'subnetType': 'VLAN', 'networkId': 'ten'},
            {'name': 'x', 'subnetType': 'VLAN', 'networkId': True},
            {'name': 'x', 'subnetType': 'VLAN', 'networkId': 1,
             'ipConfig': 'nope'},
            {'name': 'x', 'subnetType': 'VLAN', 'networkId': 1,
             'ipConfig': [{'ipv4': {'ipSubnet': {'ip': {'value': 'a.b'},
                                                 'prefixLength': 24}}}]},
            {'name': 'x', 'subnetType': 'VLAN', 'networkId': 1,
             'ipConfig': [{'ipv4': {'ipSubnet': {'ip': {'value': '10.0.0.0'},
                                                 'prefixLength': 33}}}]},
            {'name': 'x', 'subnetType': 'VLAN', 'networkId': 1,
             'ipConfig': [{'ipv6': {}}]},
            {'name': 'x', 'subnetType': 'VLAN', 'networkId': 1,
             'dhcpOptions': {'domainNameServers': ['8.8.8.8']}},
            {'name': 'x', 'subnetType': 'VLAN', 'networkId': 1,
             'clusterReference': 5},
        ]
        for body in bodies:
            self.assert_error(self.call('POST', NET + '/subnets', body), 400)
        self.assert_error(self.call('POST', NET + '/subnets', [1]), 400)
        resp = self.call('POST', NET + '/subnets', {
            'name': 'x', 'subnetType': 'VLAN', 'networkId': 1,
            'clusterReference': '00000000-0000-4000-8000-0000000000c0'})
        self.assert_error(resp, 404)
        vm = self.create_vm()
        for body in ({'nicBackingInfo': 'x'}, {'nicBackingInfo': {
                'macAddress': 'zz:zz'}}, {'nicBackingInfo': {
                    'model': 'RTL8139'}}, {'nicNetworkInfo': {
                        'subnet': 'x'}}, nic(ip='10.1.0.8'),
                {'nicNetworkInfo': {'subnet': {'extId': self.managed},
                                    'ipv4Config': {
                                        'shouldAssignIp': False,
                                        'ipAddress': {'value': '10.1.0.8'}}}},
                {'nicBackingInfo': {'$objectType':
                                    'vmm.v4.ahv.config.SriovNic'}}, [1]):
            self.assert_error(self.call(
                'POST', '%s/vms/%s/nics' % (VMM, vm), body), 400)
        self.assertEqual(['subnet'], sorted(
            k for k in self.emu.admin.inventory()['objects']
            if k in ('subnet', 'nic')))

    def test_racing_creates_take_a_mac_once(self):
        # Both requests pass the early check; the task re-checks under the
        # lock, so exactly one NIC gets the MAC and the address.
        vm = self.create_vm()
        self.emu.admin.set_task_mode('async', delay=0.3)
        path = '%s/vms/%s/nics' % (VMM, vm)
        accepted = [self.call('POST', path, nic(self.managed, MAC1,
                                                '10.1.0.8'))
                    for _ in range(2)]
        accepted += [self.call('POST', VMM + '/vms', self.vm_body(
            nics=[nic(self.flat, MAC2)])) for _ in range(2)]
        tasks = [self.wait_task(resp) for resp in accepted]
        self.assertEqual(['FAILED', 'SUCCEEDED'] * 2,
                         sorted(t['status'] for t in tasks[:2]) +
                         sorted(t['status'] for t in tasks[2:]))
        codes = [t['errorMessages'][0]['code'] for t in tasks
                 if t['status'] == 'FAILED']
        self.assertEqual(['VMM-30108', 'VMM-30108'], codes)
        self.assertEqual(2, len(self.emu.admin.inventory()['objects']['nic']))
        self.assertEqual(2, len(self.list(VMM + '/vms')))

    def test_retried_create_makes_one_nic(self):
        vm = self.create_vm()
        path = '%s/vms/%s/nics' % (VMM, vm)
        first = self.call('POST', path, nic(self.managed), request_id='r-1')
        again = self.call('POST', path, nic(self.managed), request_id='r-1')
        self.assertEqual(first.json(), again.json())
        self.assertEqual(1, len(self.nics(vm)))

    def test_restored_vm_gets_new_macs_and_no_addresses(self):
        vm = self.create_vm(nics=[nic(self.managed, MAC1, '10.1.0.8')])
        task = self.run_ok('POST', base.DP + '/recovery-points', {
            'name': 'rp', 'vmRecoveryPoints': [{'vmExtId': vm}]})
        rp = self.created(task, 'dataprotection:config:recovery-point')[0]
        task = self.run_ok('POST', '%s/recovery-points/%s/$actions/restore'
                           % (base.DP, rp), {})
        restored = self.created(task, 'vmm:ahv:config:vm')[0]
        (new,) = self.nics(restored)
        self.assertNotEqual(MAC1, new['nicBackingInfo']['macAddress'])
        self.assertEqual(self.managed, new['nicNetworkInfo']['subnet'][
            'extId'])
        self.assertIsNone(ip_of(new))


@pytest.fixture
def process():
    proc = emu_fixture.EmulatorProcess()
    proc.start()
    yield proc
    proc.cleanup()


def test_subnets_and_nics_survive_kill(process):
    api = helpers.Api(process)
    resp = api.post(NET + '/subnets', json={
        'name': 'kept', 'subnetType': 'VLAN', 'networkId': 7,
        'ipConfig': [{'ipv4': IPAM}]})
    task = api.wait_task(api.accepted_task(resp))
    subnet = task['entitiesAffected'][0]['extId']
    resp = api.post(VMM + '/vms', json={
        'name': 'vm', 'nics': [nic(subnet, MAC1, '10.1.0.8')]})
    api.wait_task(api.accepted_task(resp))
    process.kill()
    process.start()
    api = helpers.Api(process)
    assert api.get('%s/subnets/%s' % (NET, subnet)).json()['data'][
        'name'] == 'kept'
    (vm,) = api.get(VMM + '/vms').json()['data']
    assert [ip_of(n) for n in vm['nics']] == ['10.1.0.8']
    # The address and MAC are still held after the restart.
    resp = api.post(VMM + '/vms', json={
        'name': 'vm2', 'nics': [nic(subnet, MAC2, '10.1.0.8')]})
    assert resp.status_code == 409
    resp = api.post(VMM + '/vms', json={
        'name': 'vm2', 'nics': [nic(subnet, MAC1)]})
    assert resp.status_code == 409
    assert process.admin.inventory()['objects']['nic'] == [
        vm['nics'][0]['extId']]


@pytest.mark.parametrize('name', ['evil\r\nSet-Cookie: x=1', 'tab\tname',
                                  'nul\x00', 'x' * 100000, '', '   ', 5])
def test_bad_subnet_names_are_refused(api, emulator, name):
    resp = api.post(NET + '/subnets', json={
        'name': name, 'subnetType': 'VLAN', 'networkId': 1})
    assert resp.status_code == 400, (resp.status_code, resp.text[:300])
    assert 'subnet' not in emulator.admin.inventory()['objects']


@pytest.mark.parametrize('depth', [100, 100000])
def test_deeply_nested_networking_bodies_are_a_400(api, emulator, depth):
    body = '{"name": "x", "nicNetworkInfo": %s%s}' % ('[' * depth,
                                                      ']' * depth)
    resp = api.post(VMM + '/vms', json={'name': 'vm'})
    vm = api.wait_task(api.accepted_task(resp))['entitiesAffected'][0][
        'extId']
    for path in (NET + '/subnets', '%s/vms/%s/nics' % (VMM, vm)):
        resp = api.post(path, data=body,
                        headers={'Content-Type': 'application/json'})
        assert resp.status_code == 400, (path, resp.status_code)


@pytest.mark.parametrize('value', [2 ** 70, -1, 4095, 1.5, '7', None])
def test_out_of_range_numbers_are_a_400(api, value):
    resp = api.post(NET + '/subnets', json={
        'name': 'n', 'subnetType': 'VLAN', 'networkId': value})
    assert resp.status_code == 400
    resp = api.post(VMM + '/vms', json={'name': 'vm', 'nics': [{
        'nicBackingInfo': {'numQueues': value}}]})
    assert resp.status_code == (202 if value is None else 400)
