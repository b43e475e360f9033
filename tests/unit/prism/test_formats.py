"""Which bytes are uploaded as ISO_IMAGE (kept exactly) or DISK_IMAGE."""

import os
import shutil
import subprocess
import tempfile
import unittest

from nutanix_openstack.prism import formats


class TestSniff(unittest.TestCase):

    def test_magics(self):
        cases = {
            b'QFI\xfb\x00\x00\x00\x03': 'qcow2',
            b'QED\x00': 'qed',
            b'KDMV\x01\x00\x00\x00': 'vmdk',
            b'# Disk DescriptorFile\n': 'vmdk',
            b'vhdxfile': 'vhdx',
            b'conectix': 'vhd',
            b'\x00' * 64 + b'\x7f\x10\xda\xbe': 'vdi',
        }
        for head, fmt in cases.items():
            self.assertEqual(fmt, formats.sniff_format(head), head)
            self.assertEqual((formats.ISO_IMAGE, fmt),
                             formats.backend_image_type(head))

    def test_raw_and_short_images_are_disk_images(self):
        for head in (b'', b'Q', b'\x00' * 512, b'\xebc\x90' + b'\x00' * 509,
                     b'I am a bootable image, I promise'):
            self.assertEqual((formats.DISK_IMAGE, 'raw'),
                             formats.backend_image_type(head))

    @unittest.skipUnless(shutil.which('qemu-img'), 'qemu-img not installed')
    def test_real_images_made_by_qemu_img(self):
        tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, tmp)
        for fmt, expected in (('qcow2', 'qcow2'), ('vmdk', 'vmdk'),
                              ('vhdx', 'vhdx'), ('vpc', 'vhd'),
                              ('vdi', 'vdi'), ('qed', 'qed'),
                              ('raw', None)):
            path = os.path.join(tmp, 'disk.' + fmt)
            subprocess.check_call(['qemu-img', 'create', '-q', '-f', fmt,
                                   path, '1M'])
            with open(path, 'rb') as f:
                head = f.read(formats.SNIFF_BYTES)
            self.assertEqual(expected, formats.sniff_format(head), fmt)
