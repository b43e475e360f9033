"""Nova's generic virt-driver suite, run against this driver and the emulator.

``nova.tests.unit.virt.test_virt_drivers._VirtDriverTestCase`` (shipped in
the nova wheel) drives any ComputeDriver through spawn, power, snapshot,
volumes, consoles and resources.  Most of its tests are wrapped in
``catch_notimplementederror``: a method that raises NotImplementedError
passes silently there, so the methods this driver does not implement are
listed in doc/source/nova.rst; every other test exercises the driver for
real, over HTTP, against the emulator.

The suite's instance has one port (``get_test_network_info``); here it is
bound as Neutron's nutanix mechanism driver binds it (vif_type ``nutanix``,
the AHV subnet in the vif details), on an AHV subnet made with the suite's
CIDR, so every test runs with a real NIC.  The suite has no interface
attach/detach test; the ones below are written in its style.

Only the module is imported (not its classes), so that pytest does not
collect the suite's own Fake/Libvirt cases.
"""

import tempfile
from unittest import mock

from nova import objects
from nova import test
from nova.tests.unit import utils as test_utils
from nova.tests.unit.virt import test_virt_drivers
from nova.virt import block_device as driver_block_device

from nutanix_openstack.nova import conf as nutanix_conf
from nutanix_openstack.prism import nics as prism_nics
from nutanix_openstack.prism import volume_groups as prism_vgs
from tests.functional.nova import base

# The image of the suite's test instance (GlanceFixture.image4), declared
# 'ami' there; here it is a small raw disk with real bytes.
SUITE_IMAGE_ID = 'cedef40a-ed67-4d10-800e-17455edce175'
SUITE_IMAGE_BYTES = b'\xeb\x63\x90suite-root-disk' * 4096

catch_nie = test_virt_drivers.catch_notimplementederror


class KeepTestMethodMixin(object):
    """Keep the test method attribute through nova's cleanup.

    nova.test.TestCase deletes public attributes at cleanup; pytest >= 8
    then fails on ``delattr(testcase, method_name)``.
    """

    def _clear_attrs(self):
        method = self.__dict__.get(self._testMethodName)
        super()._clear_attrs()
        if method is not None:
            self.__dict__[self._testMethodName] = method


class EmulatorConfigMixin(object):
    """Configure [nutanix] for a freshly reset emulator.

    Runs after nova's own test setUp and before the suite builds the driver.
    """

    def setUp(self):
        super().setUp()
        self.emu = base.emulator()
        self.emu.admin.reset()
        self.addCleanup(self.emu.admin.clear_faults)
        nutanix_conf.register_opts(base.CONF)
        self.flags(group='nutanix', endpoints=[self.emu.endpoint],
                   username=self.emu.username, password=self.emu.password,
                   storage_container=self.emu.container_name,
                   task_poll_interval=0.05, api_retry_interval=0.05)
        self.flags(group='oslo_concurrency', lock_path=tempfile.mkdtemp())


def _download(fixture):
    """Make GlanceFixture.download return the data as Nova's API does.

    The fixture returns nothing when asked for the data itself; Nova's real
    image API returns an iterator of chunks then.
    """
    original = fixture.download

    def download(context, image_id, data=None, dst_path=None,
                 trusted_certs=None):
        if data is None and dst_path is None:
            fixture.show(context, image_id)
            return iter([fixture._imagedata.get(image_id, b'')])
        return original(context, image_id, data=data, dst_path=dst_path,
                        trusted_certs=trusted_certs)
    return download


class NutanixVirtDriverTestCase(KeepTestMethodMixin,
                                test_virt_drivers._VirtDriverTestCase,
                                EmulatorConfigMixin,
                                test.TestCase):

    def setUp(self):
        self.driver_module = 'nutanix_openstack.nova.driver.NutanixDriver'
        super().setUp()
        image = self.image_service.images[SUITE_IMAGE_ID]
        image.update(disk_format='raw', container_format='bare',
                     size=len(SUITE_IMAGE_BYTES))
        self.image_service._imagedata[SUITE_IMAGE_ID] = SUITE_IMAGE_BYTES
        self.image_service.download = _download(self.image_service)
        self.client = self.connection._client
        # The AHV subnet of the suite's network (10.0.0.0/24), as the
        # nutanix mechanism driver would have made it.
        self.subnet_ext_id = self.client.subnets.create(
            'openstack-net-suite', 0, self.emu.cluster_ext_id,
            ipv4={'cidr': test_utils.FAKE_NETWORK_IP4_CIDR,
                  'gateway': test_utils.FAKE_NETWORK_IP4_GATEWAY,
                  'pools': [('10.0.0.2', '10.0.0.250')],
                  'dns_servers': []})['extId']

    def _network_info(self, count=1):
        """The suite's network info, bound by the nutanix mech driver."""
        network_info = test_utils.get_test_network_info(count)
        for vif in network_info:
            vif['type'] = prism_nics.VIF_TYPE
            vif['details'] = {
                prism_nics.VIF_DETAIL_SUBNET: self.subnet_ext_id,
                prism_nics.VIF_DETAIL_CLUSTER: self.emu.cluster_ext_id,
                prism_nics.VIF_DETAIL_VLAN: 0, 'port_filter': False}
        return network_info

    def _get_running_instance(self, obj=True):
        # As the suite's, with the port bound by the nutanix mech driver.
        instance_ref = test_utils.get_test_instance(obj=obj)
        network_info = self._network_info()
        network_info[0]['network']['subnets'][0]['meta']['dhcp_server'] = \
            '1.1.1.1'
        image_meta = test_utils.get_test_image_object(None, instance_ref)
        self.connection.spawn(self.ctxt, instance_ref, image_meta,
                              [], 'herp', {}, network_info=network_info)
        return instance_ref, network_info

    def _nics(self, instance_ref=None, vm_ext_id=None):
        if vm_ext_id is None:
            vm_ext_id = self.connection.ops.vm.get_vm(instance_ref)['extId']
        return [(prism_nics.nic_mac(n), prism_nics.nic_subnet_ext_id(n),
                 prism_nics.nic_ipv4_address(n))
                for n in self.client.vms.list_nics(vm_ext_id)]

    def _nutanix_volume(self):
        vg = self.client.volume_groups.create(
            'volume-suite', disks=[prism_vgs.volume_disk(
                base.GiB, self.emu.container_ext_id)],
            cluster_ext_id=self.emu.cluster_ext_id)
        return {'driver_volume_type': 'iscsi', 'serial': 'vol-suite',
                'data': {'volume_group_ext_id': vg['extId']}}

    def _attached(self, conn):
        return [a['extId'] for a in
                self.client.volume_groups.list_vm_attachments(
                    conn['data']['volume_group_ext_id'])]

    def test_spawn(self):
        super().test_spawn()
        # And for real: the VM runs with the image's bytes on its root.
        instance = self.connection.ops.vm.list_vms()[0]
        root = [d for d in instance['disks']
                if d['diskAddress']['index'] == 0][0]
        self.assertEqual(SUITE_IMAGE_BYTES, self.emu.admin.read_disk(
            root['extId'], 0, len(SUITE_IMAGE_BYTES)))
        self.assertEqual('ON', instance['powerState'])
        # With the port as its NIC.
        self.assertEqual([(test_utils.FAKE_VIF_MAC, self.subnet_ext_id,
                           test_utils.FAKE_NETWORK_IP4_ADDR1)],
                         self._nics(vm_ext_id=instance['extId']))

    def test_attach_detach_interface(self):
        self.assertTrue(
            self.connection.capabilities['supports_attach_interface'])
        instance_ref, network_info = self._get_running_instance()
        vif = self._network_info()[0]
        vif['id'] = 'b71f1699-42be-4515-930a-f3ef01f94aa8'
        vif['address'] = 'de:ad:be:ef:ca:01'
        vif['network']['subnets'][0]['ips'][0]['address'] = '10.0.0.80'
        image_meta = test_utils.get_test_image_object(None, instance_ref)
        self.assertIsNone(self.connection.attach_interface(
            self.ctxt, instance_ref, image_meta, vif))
        self.assertEqual(
            [(test_utils.FAKE_VIF_MAC, self.subnet_ext_id,
              test_utils.FAKE_NETWORK_IP4_ADDR1),
             ('de:ad:be:ef:ca:01', self.subnet_ext_id, '10.0.0.80')],
            self._nics(instance_ref))
        self.assertIsNone(self.connection.detach_interface(
            self.ctxt, instance_ref, vif))
        self.assertEqual(1, len(self._nics(instance_ref)))

    def test_attach_detach_interface_different_power_states(self):
        instance_ref, network_info = self._get_running_instance()
        self.connection.power_off(instance_ref)
        vif = self._network_info()[0]
        vif['id'] = 'b71f1699-42be-4515-930a-f3ef01f94aa9'
        vif['address'] = 'de:ad:be:ef:ca:02'
        vif['network']['subnets'][0]['ips'][0]['address'] = '10.0.0.81'
        image_meta = test_utils.get_test_image_object(None, instance_ref)
        self.connection.attach_interface(self.ctxt, instance_ref,
                                         image_meta, vif)
        self.connection.power_on(self.ctxt, instance_ref, network_info)
        self.assertEqual(2, len(self._nics(instance_ref)))
        self.connection.detach_interface(self.ctxt, instance_ref, vif)
        self.assertEqual([test_utils.FAKE_VIF_MAC],
                         [mac for mac, _s, _ip in self._nics(instance_ref)])

    # The suite attaches volumes of driver_volume_type 'fake', which this
    # driver refuses (VolumeDriverNotFound).  These overrides run the same
    # steps and assertions with a volume of the Cinder nutanix driver.

    @catch_nie
    def test_attach_detach_volume(self):
        instance_ref, network_info = self._get_running_instance()
        conn = self._nutanix_volume()
        self.assertIsNone(self.connection.attach_volume(
            None, conn, instance_ref, '/dev/sda'))
        self.assertEqual(1, len(self._attached(conn)))
        self.assertIsNone(self.connection.detach_volume(
            mock.sentinel.context, conn, instance_ref, '/dev/sda'))
        self.assertEqual([], self._attached(conn))

    @catch_nie
    def test_swap_volume(self):
        instance_ref, network_info = self._get_running_instance()
        conn = self._nutanix_volume()
        self.assertIsNone(self.connection.attach_volume(
            None, conn, instance_ref, '/dev/sda'))
        # swap_volume is not implemented (see doc/source/nova.rst).
        self.assertIsNone(self.connection.swap_volume(
            None, conn, self._nutanix_volume(), instance_ref, '/dev/sda', 2))

    @catch_nie
    def test_attach_detach_different_power_states(self):
        instance_ref, network_info = self._get_running_instance()
        conn = self._nutanix_volume()
        self.connection.power_off(instance_ref)
        self.connection.attach_volume(None, conn, instance_ref, '/dev/sda')
        bdm = {
            'root_device_name': None, 'swap': None, 'ephemerals': [],
            'block_device_mapping': driver_block_device.convert_volumes([
                objects.BlockDeviceMapping(
                    self.ctxt,
                    **test_virt_drivers.fake_block_device
                    .FakeDbBlockDeviceDict(
                        {'id': 1, 'instance_uuid': instance_ref['uuid'],
                         'device_name': '/dev/sda',
                         'source_type': 'volume',
                         'destination_type': 'volume',
                         'delete_on_termination': False,
                         'snapshot_id': None, 'volume_id': 'abcdedf',
                         'volume_size': None, 'no_device': None}))])}
        bdm['block_device_mapping'][0]['connection_info'] = conn
        with mock.patch.object(driver_block_device.DriverVolumeBlockDevice,
                               'save'):
            self.connection.power_on(self.ctxt, instance_ref, network_info,
                                     bdm)
            self.assertEqual('ON', self.connection.ops.vm.get_vm(
                instance_ref)['powerState'])
            self.connection.detach_volume(mock.sentinel.context, conn,
                                          instance_ref, '/dev/sda')
        self.assertEqual([], self._attached(conn))

    def test_live_migration(self):
        self.skipTest('one nova-compute manages one cluster as one node: '
                      'there is no other node to live-migrate to (AHV '
                      'hosts are the cluster\'s business)')

    def test_live_migration_force_complete(self):
        self.skipTest('no live migration between nodes (see '
                      'test_live_migration)')
