"""The ML2 plugin with the nutanix driver against the emulator over HTTP.

Neutron's ``Ml2PluginV2TestCase`` (real ML2 plugin, API and database) with
the driver's real Prism client, configured only through ``[ml2_nutanix]``
options, talking to a ``nutanix-emulator`` subprocess on 127.0.0.1.
Neutron's test modules monkey-patch eventlet, so the emulator cannot be a
thread of this process; one emulator serves the whole pytest process and
is reset through its admin API before every test.
"""

import atexit
import shutil
import tempfile

from nutanix_openstack.emulator import fixture as emulator_fixture
from nutanix_openstack.prism import nics
from tests.unit.neutron import base

MIB = 1024 * 1024
_EMULATOR = None
_TMP = tempfile.gettempdir()


def emulator():
    """The shared emulator subprocess, started on first use."""
    global _EMULATOR
    if _EMULATOR is None:
        data_dir = tempfile.mkdtemp(prefix='neutron-emu-', dir=_TMP)
        emu = emulator_fixture.EmulatorProcess(data_dir=data_dir)
        emu.start()
        atexit.register(shutil.rmtree, data_dir, True)
        atexit.register(emu.stop)
        _EMULATOR = emu
    return _EMULATOR


class EmulatorMl2TestCase(base.NutanixMl2TestCase):

    def nutanix_conf(self):
        emu = emulator()
        return {'endpoints': [emu.endpoint], 'username': emu.username,
                'password': emu.password, 'verify_ssl': False,
                'api_retries': 1, 'api_retry_interval': 0.05,
                'task_poll_interval': 0.05,
                'nic_poll_interval': 0.1, 'nic_poll_initial_delay': 0}

    def setUp(self):
        emu = emulator()
        self.admin = emu.admin
        self.admin.reset()
        self.admin.clear_faults()
        self.admin.set_task_mode('immediate')
        super(EmulatorMl2TestCase, self).setUp()
        self.addCleanup(self.admin.clear_faults)
        # An independent client of the emulator, to look and to play Nova.
        self.prism = emu.prism_client()
        self.addCleanup(self.prism.close)
        self.cluster = emu.cluster_ext_id

    def inventory(self, kind):
        return self.admin.inventory()['objects'].get(kind) or []

    def ahv_subnet(self, network_id):
        return self.prism.subnets.find_by_name('openstack-net-' + network_id)

    def boot_vm_with_port(self, port, name='instance-1'):
        """What Nova's driver does at spawn: a VM with the port's NIC."""
        details = port['binding:vif_details']
        ip = port['fixed_ips'][0]['ip_address'] if port['fixed_ips'] \
            else None
        return self.prism.vms.create(
            name, memory_size_bytes=512 * MIB,
            nics=[nics.nic_spec(port['mac_address'],
                                details[nics.VIF_DETAIL_SUBNET], ip)])
