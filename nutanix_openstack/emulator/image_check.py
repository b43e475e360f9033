"""Integrity of a container-format disk image before it becomes a disk.

A qcow2 (vmdk, vhdx) file cut short still converts: ``qemu-img convert``
reads the clusters past the end of the file as zeros, so a truncated or
damaged download would become a bootable disk with holes of zeros.  The
cluster's image service refuses such an image, and so does the emulator,
before converting it, with three checks on the complete file:

1. ``qemu-img info``: the file opens as the sniffed format (a vhdx whose
   block table points past the end of the file does not) and has neither
   a backing file nor an external data file (either would make the
   conversion read a file of the cluster's own, never the image's).
2. ``qemu-img check``: the format's own consistency check.  Exit code 2
   (corruptions) or 1 (the check could not finish, e.g. a vmdk grain past
   the end of the file) refuses the image; 3 (leaked clusters only,
   harmless to data) and 0 pass.
3. ``qemu-img map``: no allocated extent lies past the end of the file
   (data past EOF is exactly what a truncation leaves).

Every failure is an :class:`errors.ApiError` 400 with group
``IMAGE_INTEGRITY_CHECK_FAILED`` whose message names the format and what
qemu-img found; the image import task fails with it.
"""

import json
import os
import subprocess

from nutanix_openstack.emulator import errors

ERROR_GROUP = 'IMAGE_INTEGRITY_CHECK_FAILED'
#: ``qemu-img check`` exit codes that pass: clean, and leaks only.
_CHECK_OK = (0, 3)
#: Lines of qemu-img's stderr kept in a message.
_MAX_LINES = 3


def _refuse(fmt, reason):
    raise errors.ApiError(
        'Invalid %s image: %s. The image is damaged or truncated (or not a '
        '%s image); it was not imported.' % (fmt, reason, fmt),
        status=400, code='VMM-40011', error_group=ERROR_GROUP)


def _run(qemu_img, args, timeout):
    try:
        return subprocess.run([qemu_img] + args, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=timeout)
    except FileNotFoundError:
        raise errors.ApiError(
            'Cannot check the image: %s is not installed.' % qemu_img,
            status=500, code='VMM-50010', error_group=ERROR_GROUP)
    except subprocess.TimeoutExpired:
        raise errors.ApiError(
            'Checking the image took longer than %ss.' % timeout,
            status=500, code='VMM-50011', error_group=ERROR_GROUP)


def _stderr(proc, path, max_lines=_MAX_LINES):
    lines = [line.strip() for line in
             proc.stderr.decode('utf-8', 'replace').splitlines()
             if line.strip()]
    # Errors first; the file's temporary path means nothing to a user.
    lines.sort(key=lambda line: not line.startswith('ERROR'))
    text = '; '.join(lines[:max_lines])
    return text.replace(path, '<image>').replace('qemu-img: ', '')


def check_disk_image(path, fmt, qemu_img='qemu-img', timeout=3600):
    """Refuse a damaged ``fmt`` image file at ``path`` (ApiError 400)."""
    proc = _run(qemu_img, ['info', '--output=json', '-f', fmt, path],
                timeout)
    if proc.returncode != 0:
        _refuse(fmt, 'it cannot be opened (%s)' % _stderr(proc, path))
    info = json.loads(proc.stdout or b'{}')
    if info.get('backing-filename') or info.get('full-backing-filename'):
        _refuse(fmt, 'it names a backing file')
    data = (info.get('format-specific') or {}).get('data') or {}
    if data.get('data-file'):
        _refuse(fmt, 'it names an external data file')

    proc = _run(qemu_img, ['check', '--output=json', '-f', fmt, path],
                timeout)
    if proc.returncode not in _CHECK_OK and proc.returncode != 63:
        try:
            found = json.loads(proc.stdout or b'{}')
        except ValueError:
            found = {}
        detail = _stderr(proc, path)
        if found.get('corruptions'):
            _refuse(fmt, 'qemu-img check found %d corruptions (first: %s)'
                    % (found['corruptions'], _stderr(proc, path, 1)))
        _refuse(fmt, 'qemu-img check failed (%s)' % (detail or 'exit code '
                                                     '%d' % proc.returncode))

    proc = _run(qemu_img, ['map', '--output=json', '-f', fmt, path],
                timeout)
    if proc.returncode != 0:
        _refuse(fmt, 'its allocation map cannot be read (%s)'
                % _stderr(proc, path))
    size = os.path.getsize(path)
    for extent in json.loads(proc.stdout or b'[]'):
        offset = extent.get('offset')
        if extent.get('data') and offset is not None and (
                offset + extent.get('length', 0) > size):
            _refuse(fmt, 'the file ends at byte %d but its data goes on to '
                         'byte %d (truncated)'
                    % (size, offset + extent['length']))
