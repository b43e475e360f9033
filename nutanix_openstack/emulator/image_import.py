"""Bringing image bytes in: URL fetches and qcow2/vmdk/vhdx -> raw.

Like the cluster's image service, a DISK_IMAGE whose bytes are qcow2, vmdk
or vhdx is converted to a raw disk on import (``qemu-img convert -O raw``
with the source format given explicitly, never probed); ISO_IMAGE bytes
and anything else are kept as sent.  Before converting, the complete file
must pass :func:`image_check.check_disk_image` (``qemu-img info``,
``check`` and ``map``): a truncated or damaged image fails the import
instead of becoming a disk whose missing data reads as zeros.
"""

import hashlib
import logging
import os
import subprocess
import tempfile
import urllib.parse

import requests

from nutanix_openstack.emulator import errors
from nutanix_openstack.emulator import image_check
from nutanix_openstack.emulator import url_policy

LOG = logging.getLogger(__name__)

FETCH_BLOCK = 1024 * 1024
CONVERTIBLE = ('qcow2', 'vmdk', 'vhdx')


def safe_url(url):
    """``url`` without any user:password part, for messages and logs."""
    parts = urllib.parse.urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    netloc = parts.hostname or ''
    if parts.port:
        netloc += ':%d' % parts.port
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def sniff_format(head):
    """Container format named by the first bytes (512 are enough)."""
    if head[:4] == b'QFI\xfb':
        return 'qcow2'
    if head[:4] == b'KDMV' or head[:21] == b'# Disk DescriptorFile':
        return 'vmdk'
    if head[:8] == b'vhdxfile':
        return 'vhdx'
    return 'raw'


def disk_format(disks, disk_id):
    if disks.size(disk_id) == 0:
        return 'raw'
    return sniff_format(disks.read(disk_id, 0, 512))


def convert_to_raw_if_needed(disks, disk_id, tmp_dir, qemu_img='qemu-img',
                             timeout=3600):
    """Replace a disk holding qcow2/vmdk/vhdx bytes by its raw content.

    The bytes are checked first (:mod:`image_check`); a damaged image
    raises ApiError 400 and the disk is left as it was.  ``timeout`` bounds
    each qemu-img run, in seconds.  Returns the source format found
    ('raw' when nothing was done).
    """
    fmt = disk_format(disks, disk_id)
    if fmt not in CONVERTIBLE:
        return fmt
    os.makedirs(tmp_dir, exist_ok=True)
    work = tempfile.mkdtemp(prefix='convert-', dir=tmp_dir)
    src = os.path.join(work, 'src.' + fmt)
    dst = os.path.join(work, 'dst.raw')
    try:
        disks.export_file(disk_id, src)
        image_check.check_disk_image(src, fmt, qemu_img, timeout)
        cmd = [qemu_img, 'convert', '-f', fmt, '-O', 'raw', src, dst]
        LOG.info("Converting disk %(id)s from %(fmt)s to raw",
                 {'id': disk_id, 'fmt': fmt})
        try:
            proc = subprocess.run(cmd, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, timeout=timeout)
        except FileNotFoundError:
            raise errors.ApiError(
                "Cannot convert %s image: %s is not installed."
                % (fmt, qemu_img), status=500, code='VMM-50010',
                error_group='IMAGE_CONVERSION_FAILED')
        except subprocess.TimeoutExpired:
            raise errors.ApiError(
                "Converting the %s image took longer than %ss."
                % (fmt, timeout), status=500, code='VMM-50011',
                error_group='IMAGE_CONVERSION_FAILED')
        if proc.returncode != 0:
            raise errors.ApiError(
                "Invalid %s image: %s" % (
                    fmt, proc.stderr.decode('utf-8', 'replace').strip()),
                status=400, code='VMM-40010',
                error_group='IMAGE_CONVERSION_FAILED')
        # Swap the content under the same disk id.
        disks.delete(disk_id)
        disks.import_file(disk_id, dst)
    finally:
        for path in (src, dst):
            if os.path.exists(path):
                os.unlink(path)
        os.rmdir(work)
    return fmt


class _Hashing(object):
    def __init__(self, body_iter, total, progress):
        self.body_iter = body_iter
        self.total = total
        self.progress = progress
        self.count = 0
        self.sha1 = hashlib.sha1()
        self.sha256 = hashlib.sha256()

    def __iter__(self):
        for block in self.body_iter:
            if not block:
                continue
            self.count += len(block)
            self.sha1.update(block)
            self.sha256.update(block)
            if self.total and self.progress:
                self.progress(self.count * 90 // self.total)
            yield block


def fetch_url_into_disk(disks, disk_id, url, basic_auth=None,
                        allow_insecure=False, timeout=60, progress=None,
                        checksum=None, allow_local=False):
    """Stream ``url`` into the (existing, empty) disk ``disk_id``.

    ``checksum`` is a v4 ``ImageSha1Checksum``/``ImageSha256Checksum``
    dict verified against the bytes.  The URL (and every redirect) must
    pass :func:`url_policy.check_url` (``allow_local``).  Raises ApiError
    on any failure.
    """
    shown = safe_url(url)
    auth = None
    if basic_auth:
        auth = (basic_auth.get('username') or '',
                basic_auth.get('password') or '')
    try:
        resp = url_policy.open_url(url, auth=auth,
                                   verify=not allow_insecure,
                                   timeout=timeout, allow_local=allow_local,
                                   shown=shown, safe_url=safe_url)
    except requests.RequestException as exc:
        raise errors.ApiError("Could not fetch %s: %s" % (shown, exc),
                              status=400, code='VMM-40020',
                              error_group='IMAGE_URL_UNREACHABLE')
    with resp:
        if resp.status_code != 200:
            raise errors.ApiError(
                "Fetching %s failed with HTTP %d" % (shown, resp.status_code),
                status=400, code='VMM-40021',
                error_group='IMAGE_URL_FETCH_FAILED')
        total = int(resp.headers.get('Content-Length') or 0)
        hashing = _Hashing(resp.iter_content(FETCH_BLOCK), total, progress)
        try:
            disks.write_stream(disk_id, iter(hashing), 0, grow=True)
        except requests.RequestException as exc:
            raise errors.ApiError(
                "Fetching %s broke after %d bytes: %s"
                % (shown, hashing.count, exc), status=400, code='VMM-40022',
                error_group='IMAGE_URL_FETCH_FAILED')
    if total and hashing.count != total:
        raise errors.ApiError(
            "Fetching %s returned %d of %d bytes"
            % (shown, hashing.count, total), status=400, code='VMM-40022',
            error_group='IMAGE_URL_FETCH_FAILED')
    if checksum:
        kind = checksum.get('$objectType', '')
        want = (checksum.get('hexDigest') or '').lower()
        got = (hashing.sha1 if 'Sha1' in kind else hashing.sha256).hexdigest()
        if want and want != got:
            raise errors.ApiError(
                "Checksum mismatch for %s: expected %s, got %s"
                % (shown, want, got), status=400, code='VMM-40023',
                error_group='IMAGE_CHECKSUM_MISMATCH')
    return hashing.count
