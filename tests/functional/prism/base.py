"""Functional tests of the Prism client against the emulator on loopback.

One emulator per test class (started in ``setUpClass``), reset through its
admin API before every test: real HTTP, real bytes, no mocks.
"""

import os
import unittest

from nutanix_openstack.emulator import fixture as emu_fixture


class EmulatorTestCase(unittest.TestCase):
    tls = False
    task_mode = 'immediate'

    @classmethod
    def setUpClass(cls):
        super(EmulatorTestCase, cls).setUpClass()
        cls.emulator = emu_fixture.EmulatorFixture(tls=cls.tls,
                                                   task_mode=cls.task_mode)
        cls.emulator.setUp()
        cls.addClassCleanup(cls.emulator.cleanUp)

    def setUp(self):
        super(EmulatorTestCase, self).setUp()
        self.admin = self.emulator.admin
        self.admin.reset()
        self.admin.clear_faults()
        self.admin.set_task_mode(self.task_mode)
        self.client = self.emulator.prism_client()
        self.addCleanup(self.client.close)

    def inventory(self, kind=None):
        objects = self.admin.inventory()['objects']
        return objects if kind is None else objects.get(kind, [])

    def upload_image(self, name, data, image_type='DISK_IMAGE', chunk=None):
        img = self.client.images.create_for_upload(name,
                                                   image_type=image_type)
        chunk = chunk or 1024 * 1024
        self.client.images.upload(
            img['extId'],
            (data[i:i + chunk] for i in range(0, len(data), chunk)))
        return img['extId']


def random_bytes(size):
    return os.urandom(size)
