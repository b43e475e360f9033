"""Damaged disk images for the integrity tests, made with qemu-img.

``make(fmt, kind, workdir)`` returns the bytes of a small image of
``fmt`` (qcow2, vmdk, vhdx) that is ``good``, ``truncated`` (cut to two
thirds: the header is intact, the data ends early) or ``corrupted`` (a
metadata entry points past the end of the file, or for vhdx the region
table is overwritten), each failing ``qemu-img check`` or ``info``.
"""

import os
import shutil
import struct
import subprocess

QEMU_IMG = shutil.which('qemu-img')
FORMATS = ('qcow2', 'vmdk', 'vhdx')
KINDS = ('truncated', 'corrupted')
#: Far past the end of any test image (bytes for qcow2, sectors for vmdk).
_FAR = 0x7ffffff0


def raw_content(size=3 * 1024 * 1024):
    """Deterministic, non-zero content (no cluster is left unallocated)."""
    block = bytes(range(256)) * 16
    return (block * (size // len(block) + 1))[:size]


def _qcow2_corrupt(data):
    data = bytearray(data)
    l1 = struct.unpack('>Q', data[40:48])[0]
    data[l1:l1 + 8] = struct.pack('>Q', (1 << 63) | (_FAR << 16))
    return bytes(data)


def _vmdk_corrupt(data):
    # First grain table entry (of the grain directory and its redundant
    # copy) points past the end of the file.
    data = bytearray(data)
    for field in (48, 56):
        gd = struct.unpack('<Q', data[field:field + 8])[0] * 512
        gt = struct.unpack('<I', data[gd:gd + 4])[0] * 512
        data[gt:gt + 4] = struct.pack('<I', _FAR)
    return bytes(data)


def _vhdx_corrupt(data):
    data = bytearray(data)
    region_table = 192 * 1024
    data[region_table + 16:region_table + 64] = b'\xff' * 48
    return bytes(data)


_CORRUPT = {'qcow2': _qcow2_corrupt, 'vmdk': _vmdk_corrupt,
            'vhdx': _vhdx_corrupt}


def make(fmt, kind, workdir, raw=None):
    """Bytes of a ``kind`` (good, truncated, corrupted) ``fmt`` image."""
    raw_path = os.path.join(workdir, 'content.raw')
    img_path = os.path.join(workdir, 'image.' + fmt)
    with open(raw_path, 'wb') as f:
        f.write(raw if raw is not None else raw_content())
    subprocess.run([QEMU_IMG, 'convert', '-f', 'raw', '-O', fmt, raw_path,
                    img_path], check=True, stdout=subprocess.PIPE,
                   stderr=subprocess.PIPE)
    with open(img_path, 'rb') as f:
        data = f.read()
    os.unlink(raw_path)
    os.unlink(img_path)
    if kind == 'good':
        return data
    if kind == 'truncated':
        return data[:len(data) * 2 // 3]
    return _CORRUPT[fmt](data)
