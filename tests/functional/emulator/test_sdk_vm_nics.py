"""SDK conformance: the NIC calls of ntnx_vmm_py_client's VmApi.

``create_vm`` with ``nics``, ``create_nic``, ``get_nic_by_id``,
``list_nics_by_vm_id``, ``update_nic_by_id`` and ``delete_nic_by_id`` go
through Nutanix's own generated client; every NIC must deserialize into
the SDK's ``Nic`` model (both the v4.0 ``backingInfo``/``networkInfo`` and
the v4.1+ ``nicBackingInfo``/``nicNetworkInfo`` pairs) with no unknown
field, and conflicts come back as the SDK's ApiException with the v4 body.
"""

import json

import ntnx_vmm_py_client as vmm
from ntnx_vmm_py_client import rest as vmm_rest

from tests.functional.emulator import test_vms_base as base
from tests.functional.emulator.test_vms_base import GiB

REL_VM = 'vmm:ahv:config:vm'
REL_NIC = 'vmm:ahv:config:vm:nic'
IPAM = {'ipSubnet': {'ip': {'value': '192.0.2.0'}, 'prefixLength': 24},
        'defaultGatewayIp': {'value': '192.0.2.1'},
        'poolList': [{'startIp': {'value': '192.0.2.10'},
                      'endIp': {'value': '192.0.2.11'}}]}


def _nic(subnet, mac=None, ip=None, assign=None, model=None):
    ipv4 = None
    if ip is not None or assign is not None:
        ipv4 = vmm.Ipv4Config(
            should_assign_ip=True if ip else assign,
            ip_address=vmm.IPv4Address(value=ip) if ip else None)
    return vmm.AhvConfigNic(
        nic_backing_info=vmm.VirtualEthernetNic(mac_address=mac,
                                                model=model),
        nic_network_info=vmm.VirtualEthernetNicNetworkInfo(
            subnet=vmm.SubnetReference(ext_id=subnet), ipv4_config=ipv4))


class TestSdkVmNics(base.SdkTestCase):

    def setUp(self):
        super().setUp()
        self.client = self.sdk(vmm)
        self.api = vmm.VmApi(api_client=self.client)
        self.managed = self.create_subnet('managed', 100, IPAM)
        self.flat = self.create_subnet('flat', 0)

    def _create_vm(self, nics=(), name='sdk-vm'):
        body = vmm.AhvConfigVm(name=name, num_sockets=1,
                               memory_size_bytes=GiB, nics=list(nics))
        task = self.sdk_wait(self.api.create_vm(body=body))
        return self.sdk_created(task, REL_VM)[0]

    def _error(self, call, *args, **kwargs):
        try:
            call(*args, **kwargs)
        except vmm_rest.ApiException as exc:
            body = json.loads(exc.body)
            self.assertEqual('vmm.v4.error.ErrorResponse',
                             body['$objectType'])
            return exc.status, body['data']['error'][0]['errorGroup']
        self.fail('%s did not fail' % call.__name__)

    def test_vm_created_with_nics(self):
        vm_id = self._create_vm([
            _nic(self.managed, mac='FA:16:3E:00:00:01', ip='192.0.2.50'),
            _nic(self.managed),
            _nic(self.flat, assign=False)])
        vm = self.api.get_vm_by_id(vm_id).data
        self.assert_parsed(vm, 'Vm')
        self.assertEqual(['fa:16:3e:00:00:01', '192.0.2.50'], [
            vm.nics[0].nic_backing_info.mac_address,
            vm.nics[0].nic_network_info.ipv4_config.ip_address.value])
        # shouldAssignIp is true by default: an address from the pool.
        self.assertEqual('192.0.2.10', vm.nics[1].nic_network_info
                         .ipv4_config.ip_address.value)
        self.assertIsNone(vm.nics[2].nic_network_info.ipv4_config.ip_address)
        for nic in vm.nics:
            self.assertEqual('VirtualEthernetNic',
                             type(nic.nic_backing_info).__name__)
            self.assertEqual('VirtualEthernetNicNetworkInfo',
                             type(nic.nic_network_info).__name__)
            self.assertEqual('EmulatedNic', type(nic.backing_info).__name__)
            self.assertEqual(nic.nic_backing_info.mac_address,
                             nic.backing_info.mac_address)
            self.assertTrue(nic.nic_backing_info.mac_address)

    def test_v40_field_pair_is_accepted(self):
        # Clients of the v4.0 models send backingInfo/networkInfo only.
        vm_id = self._create_vm()
        nic = vmm.AhvConfigNic(
            backing_info=vmm.EmulatedNic(mac_address='fa:16:3e:00:00:04',
                                         model='E1000'),
            network_info=vmm.AhvConfigNicNetworkInfo(
                subnet=vmm.SubnetReference(ext_id=self.managed),
                ipv4_config=vmm.Ipv4Config(
                    should_assign_ip=True,
                    ip_address=vmm.IPv4Address(value='192.0.2.80'))))
        task = self.sdk_wait(self.api.create_nic(vm_id, nic))
        got = self.api.get_nic_by_id(
            vm_id, self.sdk_created(task, REL_NIC)[0]).data
        self.assert_parsed(got, 'Nic')
        for backing, network in ((got.backing_info, got.network_info),
                                 (got.nic_backing_info,
                                  got.nic_network_info)):
            self.assertEqual(('fa:16:3e:00:00:04', 'E1000', '192.0.2.80'), (
                backing.mac_address, backing.model,
                network.ipv4_config.ip_address.value))

    def test_nic_sub_resource(self):
        vm_id = self._create_vm()
        listed = self.api.list_nics_by_vm_id(vm_id)
        self.assertEqual('ListNicsApiResponse', type(listed).__name__)
        self.assertIsNone(listed.data)

        resp = self.api.create_nic(vm_id, _nic(self.managed,
                                               mac='fa:16:3e:00:00:02',
                                               ip='192.0.2.60'))
        self.assertEqual('CreateNicApiResponse', type(resp).__name__)
        task = self.sdk_wait(resp)
        nic_id = self.sdk_created(task, REL_NIC)[0]
        got = self.api.get_nic_by_id(vm_id, nic_id)
        self.assertEqual('GetNicApiResponse', type(got).__name__)
        nic = got.data
        self.assert_parsed(nic, 'Nic')
        self.assertEqual('192.0.2.60',
                         nic.nic_network_info.ipv4_config.ip_address.value)
        listed = self.api.list_nics_by_vm_id(vm_id)
        self.assertEqual([nic_id], [n.ext_id for n in listed.data])
        for item in listed.data:
            self.assert_parsed(item, 'Nic')

        nic.nic_backing_info.model = 'E1000'
        nic.nic_network_info.ipv4_config.ip_address = vmm.IPv4Address(
            value='192.0.2.61')
        resp = self.api.update_nic_by_id(vm_id, nic_id, nic,
                                         if_match=self.client.get_etag(got))
        self.assertEqual('UpdateNicApiResponse', type(resp).__name__)
        self.sdk_wait(resp)
        nic = self.api.get_nic_by_id(vm_id, nic_id).data
        self.assertEqual(('E1000', '192.0.2.61'), (
            nic.nic_backing_info.model,
            nic.nic_network_info.ipv4_config.ip_address.value))
        status, _ = self._error(self.api.update_nic_by_id, vm_id, nic_id,
                                _nic(self.flat),
                                if_match=self.client.get_etag(got))
        self.assertEqual(412, status)

        resp = self.api.delete_nic_by_id(vm_id, nic_id)
        self.assertEqual('DeleteNicApiResponse', type(resp).__name__)
        self.sdk_wait(resp)
        status, group = self._error(self.api.get_nic_by_id, vm_id, nic_id)
        self.assertEqual((404, 'VM_NIC_NOT_FOUND'), (status, group))

    def test_conflicts_and_bad_input(self):
        vm_id = self._create_vm([_nic(self.managed, mac='fa:16:3e:00:00:03',
                                      ip='192.0.2.70')])
        cases = [
            (409, 'MAC_ADDRESS_IN_USE', _nic(self.flat,
                                             mac='fa:16:3e:00:00:03')),
            (409, 'IP_ADDRESS_IN_USE', _nic(self.managed, ip='192.0.2.70')),
            (400, 'VM_NIC_INVALID', _nic(self.managed, ip='198.51.100.1')),
            (400, 'VM_NIC_INVALID', _nic(self.managed, ip='192.0.2.255')),
            (400, 'VM_NIC_INVALID', _nic(self.flat, ip='192.0.2.9')),
            (400, 'VM_NIC_INVALID', _nic(self.flat, mac='01:00:5e:00:00:01')),
            (404, 'SUBNET_NOT_FOUND',
             _nic('00000000-0000-4000-8000-00000000dead')),
        ]
        for status, group, nic in cases:
            self.assertEqual((status, group),
                             self._error(self.api.create_nic, vm_id, nic))
            self.assertEqual((status, group), self._error(
                self.api.create_vm, body=vmm.AhvConfigVm(
                    name='x', nics=[nic])))
        # Both pool addresses, then the pool is exhausted.
        self.sdk_wait(self.api.create_nic(vm_id, _nic(self.managed)))
        self.sdk_wait(self.api.create_nic(vm_id, _nic(self.managed)))
        self.assertEqual((409, 'IP_POOL_EXHAUSTED'), self._error(
            self.api.create_nic, vm_id, _nic(self.managed)))
        self.assertEqual(3, len(self.api.list_nics_by_vm_id(vm_id).data))
        self.assertEqual(1, len(self.api.list_vms().data))
