"""``compute_driver = nutanix.NutanixDriver`` loads as Nova loads drivers.

Nova imports ``nova.virt.<compute_driver>``; nothing outside ``nova.virt``
is looked at.  The package therefore ships ``nova/virt/nutanix/__init__.py``
(and never ``nova/__init__.py`` or ``nova/virt/__init__.py``), which pip
puts inside Nova's own package directory.

Two honest situations:

* installed (``tools/run-tests.sh`` installs the project non-editable, as
  production does): the shim must import from Nova's directory with no help;
* editable development install (``pip install -e``): pip puts nothing in
  Nova's directory, so the test puts the repository's ``nova/virt`` on
  ``nova.virt.__path__`` -- exactly where an install puts the file -- and
  proves with a freshly built wheel that an install ships it there.
"""

import glob
import os
import subprocess
import sys
import tempfile
import unittest
import zipfile

from oslo_config import fixture as config_fixture

import nova.virt
from nova.virt import driver as nova_driver
from nova.virt import fake

from nutanix_openstack.nova import driver as nutanix_driver
from tests.functional.nova import base


class ShimTestCase(unittest.TestCase):

    def setUp(self):
        super().setUp()
        self.installed = base.use_shim(self)
        self.emu = base.emulator()
        self.emu.admin.reset()
        cfg = config_fixture.Config(base.CONF)
        cfg.setUp()
        self.addCleanup(cfg.cleanUp)
        base.configure(cfg, self.emu)

    def test_nova_loader_loads_the_driver(self):
        drv = nova_driver.load_compute_driver(fake.FakeVirtAPI(),
                                              'nutanix.NutanixDriver')
        self.assertIsInstance(drv, nutanix_driver.NutanixDriver)
        self.assertIsInstance(drv, nova_driver.ComputeDriver)
        # ...and it talks to the cluster.
        self.assertEqual([], drv.list_instances())
        shim = sys.modules['nova.virt.nutanix']
        nova_dir = os.path.dirname(os.path.abspath(nova.virt.__file__))
        expected_dir = (nova_dir if self.installed is not None
                        else base.REPO_SHIM_DIR)
        self.assertEqual(os.path.join(expected_dir, 'nutanix'),
                         os.path.dirname(os.path.abspath(shim.__file__)))

    def test_installed_shim_is_the_repository_shim(self):
        with open(os.path.join(base.REPO_SHIM_DIR, 'nutanix',
                               '__init__.py')) as f:
            repo_shim = f.read()
        # Two lines: a comment and the re-export.
        self.assertEqual(2, len(repo_shim.strip().splitlines()))
        if self.installed is None:
            shipped = self._build_wheel_and_read_shim()
        else:
            with open(self.installed.__file__) as f:
                shipped = f.read()
        self.assertEqual(repo_shim, shipped)

    def _build_wheel_and_read_shim(self):
        out = tempfile.mkdtemp()
        subprocess.check_call(
            [sys.executable, '-m', 'pip', 'wheel', '-q', '--no-deps',
             '--no-build-isolation', '-w', out, base.REPO],
            stdout=subprocess.DEVNULL)
        (wheel,) = glob.glob(os.path.join(out, '*.whl'))
        with zipfile.ZipFile(wheel) as z:
            names = z.namelist()
            nova_files = sorted(n for n in names if n.startswith('nova/'))
            # Only the shim: Nova's own __init__ files are never shipped.
            self.assertEqual(['nova/virt/nutanix/__init__.py'], nova_files)
            return z.read('nova/virt/nutanix/__init__.py').decode()
