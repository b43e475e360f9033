"""Bounds on what a request may carry, as the real API enforces them.

Hostile or broken input must end in a 400 with a v4 error body, never in a
500, a crash, a hang or a header the client cannot read:

* JSON bodies nested deeper than :data:`MAX_JSON_DEPTH` are refused (the
  parser would otherwise die with a RecursionError);
* names are strings of 1..N characters without control characters
  (:func:`check_name`); a name is never written into a header as is
  (:func:`download_filename`);
* disk sizes are bounded by what the volumes API documents
  (:data:`MAX_DISK_SIZE_BYTES`, ``VolumeDisk.diskSizeBytes`` in the
  official SDK), every other integer by 64 bits (SQLite's INTEGER);
* ``Content-Length`` must be a non-negative decimal integer
  (:func:`declared_length`).
"""

import json
import re

import flask
from flask import json as flask_json

from nutanix_openstack.emulator import errors

# Deeper than any v4 body (a VM spec nests about ten levels).
MAX_JSON_DEPTH = 64
# VolumeDisk.diskSizeBytes maximum in ntnx-volumes-py-client (200 TiB); AHV
# VM disks have the same ceiling.
MAX_DISK_SIZE_BYTES = 219902325555200
MAX_INT64 = 2 ** 63 - 1
# Image names: 1..256 characters (vmm.v4.content.Image.name in the SDK).
MAX_IMAGE_NAME = 256

_CONTROL_RE = re.compile('[\x00-\x1f\x7f-\x9f\u2028\u2029]')
_FILENAME_UNSAFE_RE = re.compile(r'[^A-Za-z0-9._-]+')
_DECIMAL_RE = re.compile(r'^[0-9]{1,19}$')


def _too_deep(value):
    """Whether ``value`` nests containers deeper than MAX_JSON_DEPTH."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return True
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return False


class BoundedJSONProvider(flask_json.provider.DefaultJSONProvider):
    """Flask's JSON provider, refusing bodies nested too deeply (400)."""

    def loads(self, s, **kwargs):
        try:
            value = json.loads(s, **kwargs)
        except RecursionError:
            raise errors.BadRequest(
                "The JSON body is nested more than %d levels deep."
                % MAX_JSON_DEPTH)
        if _too_deep(value):
            raise errors.BadRequest(
                "The JSON body is nested more than %d levels deep."
                % MAX_JSON_DEPTH)
        return value


def check_name(value, field='name', max_length=MAX_IMAGE_NAME,
               required=True, code=None):
    """A name: a string of 1..max_length characters, no control chars.

    Returns it; raises a 400 naming ``field`` otherwise.  None is accepted
    when not ``required``.
    """
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise errors.BadRequest("'%s' is required and must be a non-empty "
                                "string." % field, code=code)
    if len(value) > max_length:
        raise errors.BadRequest("'%s' must be at most %d characters, got %d."
                                % (field, max_length, len(value)),
                                code=code)
    if _CONTROL_RE.search(value):
        raise errors.BadRequest("'%s' must not contain control characters."
                                % field, code=code)
    return value


def check_int(value, field, minimum=0, maximum=MAX_INT64):
    """An integer within [minimum, maximum] (bools refused); 400 if not."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise errors.BadRequest("'%s' must be an integer." % field)
    if value < minimum or value > maximum:
        raise errors.BadRequest("'%s' must be between %d and %d, got %d."
                                % (field, minimum, maximum, value))
    return value


def check_disk_size(value, field='diskSizeBytes'):
    return check_int(value, field, 1, MAX_DISK_SIZE_BYTES)


def download_filename(name, fallback):
    """A Content-Disposition filename that is safe whatever the name is.

    Only letters, digits, ``.``, ``_`` and ``-``, no leading dot (so never
    ``..``), at most 128 characters: a client that writes the file under
    this name stays in its download directory.
    """
    safe = _FILENAME_UNSAFE_RE.sub('_', name or '').lstrip('._')[:128]
    return safe or fallback


def declared_length(maximum=MAX_DISK_SIZE_BYTES):
    """The request's Content-Length as an int, None when absent (chunked).

    werkzeug reads a negative or malformed value as 0; the raw header is
    checked here and refused with 400 instead.
    """
    raw = flask.request.headers.get('Content-Length')
    if raw is None:
        return None
    raw = raw.strip()
    if not _DECIMAL_RE.match(raw):
        raise errors.BadRequest("Content-Length must be a non-negative "
                                "integer, got %r." % raw[:40])
    value = int(raw)
    if value > maximum:
        raise errors.BadRequest("Content-Length %d exceeds the largest disk "
                                "(%d bytes)." % (value, maximum))
    return value
