"""Booting instances: root disks cloned from images, fetched once."""

import base64
import json
import subprocess
import tempfile
import threading

from nova import exception

from nutanix_openstack.nova import driver
from nutanix_openstack.nova import utils
from nutanix_openstack.prism import locations
from tests.functional.nova import base


def root_disk_of(driver, instance):
    return utils.root_disk(driver.ops.vm.get_vm(instance))


class SpawnTestCase(base.TestCase):

    def test_boot_streams_image_once_and_clones_root(self):
        data = b'\xeb\x63\x90' + b'bootable' * 5000
        image_id = self.glance.add(data)
        instance = self.spawn(image_id=image_id,
                              instance=base.make_instance(
                                  flavor=base.make_flavor(
                                      root_gb=2, ephemeral_gb=1, swap=128,
                                      vcpus=3, memory_mb=768)))
        vm = self.driver.ops.vm.get_vm(instance)
        self.assertEqual('ON', vm['powerState'])
        self.assertEqual((3, 768 * base.MiB),
                         (vm['numSockets'], vm['memorySizeBytes']))
        root = utils.root_disk(vm)
        self.assertEqual(2 * base.GiB, utils.disk_size(root))
        self.assertEqual(data, self.emu.admin.read_disk(root['extId'], 0,
                                                        len(data)))
        sizes = sorted(utils.disk_size(d) for d in vm['disks'])
        self.assertEqual([128 * base.MiB, 1 * base.GiB, 2 * base.GiB], sizes)
        cached = self.client.images.find_by_name(
            'openstack-glance-' + image_id)
        self.assertEqual(1, len(cached))
        self.assertEqual([image_id], self.glance.downloads)

        # A second boot, and a boot by a restarted nova-compute, reuse it.
        self.spawn(image_id=image_id)
        restarted = self.new_driver()
        restarted.spawn(self.context, base.make_instance(),
                        self.image_meta(image_id), [], None, {})
        self.assertEqual([image_id], self.glance.downloads)
        self.assertEqual(3, len(self.driver.list_instances()))

    def test_image_on_this_cluster_is_cloned_without_download(self):
        data = b'in-the-cluster' * 1000
        img = self.client.images.create_for_upload(
            'glance-image', cluster_ext_id=self.emu.cluster_ext_id)
        self.client.images.upload(img['extId'], iter([data]), size=len(data))
        image_id = self.glance.add(data, locations=[locations.make_location(
            self.emu.cluster_ext_id, img['extId'])])
        instance = self.spawn(image_id=image_id)
        self.assertEqual([], self.glance.downloads)
        root = root_disk_of(self.driver, instance)
        ref = root['backingInfo'].get('dataSource', {}).get('reference', {})
        self.assertEqual(img['extId'], ref.get('imageExtId'))
        self.assertEqual(data, self.emu.admin.read_disk(root['extId'], 0,
                                                        len(data)))
        # Copy-on-write: the clone has stored nothing of its own.
        self.assertEqual(1, self.emu.admin.inventory()['storage']['chunks'])

    def test_location_on_another_cluster_is_fetched(self):
        image_id = self.glance.add(b'elsewhere', locations=[
            'nutanix://another-cluster/some-image'])
        self.spawn(image_id=image_id)
        self.assertEqual([image_id], self.glance.downloads)

    def test_qcow2_image_boots_as_raw(self):
        tmp = tempfile.mkdtemp()
        raw, qcow = tmp + '/d.raw', tmp + '/d.qcow2'
        payload = b'raw-content!' * 4096
        with open(raw, 'wb') as f:
            f.write(payload)
            f.truncate(4 * base.MiB)
        subprocess.check_call(['qemu-img', 'convert', '-f', 'raw', '-O',
                               'qcow2', raw, qcow])
        with open(qcow, 'rb') as f:
            qcow_bytes = f.read()
        image_id = self.glance.add(qcow_bytes, disk_format='qcow2')
        instance = self.spawn(image_id=image_id)
        root = root_disk_of(self.driver, instance)
        self.assertEqual(payload, self.emu.admin.read_disk(
            root['extId'], 0, len(payload)))

    def test_iso_boots_from_cdrom(self):
        image_id = self.glance.add(b'CD001' * 1000, disk_format='iso')
        instance = self.spawn(image_id=image_id)
        vm = self.driver.ops.vm.get_vm(instance)
        self.assertEqual(1, len(vm.get('cdRoms') or []))
        self.assertEqual(1 * base.GiB, utils.disk_size(utils.root_disk(vm)))

    def test_unsupported_format_creates_nothing(self):
        image_id = self.glance.add(b'kernel', disk_format='aki')
        self.assertRaises(exception.ImageUnacceptable, self.spawn,
                          image_id=image_id)
        self.assertEqual([], self.inventory().get('vm', []))

    def test_concurrent_boots_fetch_the_image_once(self):
        image_id = self.glance.add(b'shared' * 50000)
        errors = []

        def boot():
            try:
                self.spawn(image_id=image_id)
            except Exception as e:  # pragma: no cover - reported below
                errors.append(e)

        threads = [threading.Thread(target=boot) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertEqual([], errors)
        self.assertEqual([image_id], self.glance.downloads)
        self.assertEqual(3, len(self.driver.list_instance_uuids()))

    def test_failed_spawn_leaves_no_vm_or_disk(self):
        image_id = self.glance.add(b'x' * 1000)
        self.spawn(image_id=image_id)   # the image is cached now
        before = self.emu.admin.inventory()
        self.emu.admin.add_fault(method='POST', path='.*/power-on',
                                 status=500, times=10)
        self.assertRaises(driver.NutanixBackendError, self.spawn,
                          image_id=image_id)
        self.emu.admin.clear_faults()
        after = self.emu.admin.inventory()
        self.assertEqual(before['objects'].get('vm'),
                         after['objects'].get('vm'))
        self.assertEqual(before['storage']['disks'],
                         after['storage']['disks'])

    def test_failed_create_task_leaves_no_vm(self):
        image_id = self.glance.add(b'y' * 1000)
        self.spawn(image_id=image_id)
        before = self.emu.admin.inventory()
        self.emu.admin.add_fault(method='POST', path='.*/ahv/config/vms$',
                                 fail_task=True, times=1)
        self.assertRaises(driver.NutanixBackendError, self.spawn,
                          image_id=image_id)
        after = self.emu.admin.inventory()
        self.assertEqual(before['objects'].get('vm'),
                         after['objects'].get('vm'))
        self.assertEqual(before['storage']['disks'],
                         after['storage']['disks'])

    def test_user_data_and_metadata_reach_cloud_init(self):
        instance = base.make_instance(user_data='I2Nsb3VkLWNvbmZpZwo=',
                                      metadata={'role': 'web'},
                                      key_name='k', key_data='ssh-ed25519 A')
        self.spawn(instance=instance)
        vm = self.driver.ops.vm.get_vm(instance)
        config = (vm.get('guestCustomization') or {}).get('config') or {}
        self.assertEqual('I2Nsb3VkLWNvbmZpZwo=',
                         config.get('cloudInitScript', {}).get('value'))
        meta = json.loads(base64.b64decode(config['metadata']))
        self.assertEqual({'role': 'web'}, meta['meta'])
        self.assertEqual(instance.uuid, meta['uuid'])
