"""Which URLs the emulator fetches for an image ``UrlSource`` (no SSRF).

Creating an image from a URL makes the emulator open a connection on the
caller's behalf.  Left open, anyone allowed to create an image could make
it reach the emulator's own admin API (reset!) or any service listening on
loopback or a link-local address (cloud metadata services).  So:

* only ``http`` and ``https`` URLs;
* the host is resolved and every address checked: loopback, link-local,
  unspecified, multicast and reserved addresses, and the addresses of this
  machine (the emulator's own), are refused with 400 unless the
  ``allow_local_url_sources`` option is set (tests and one-machine clouds
  that serve images on 127.0.0.1);
* one exception: the ``/file`` URL of an image of this cluster, on one of
  its own addresses and without a query.  Clients ask the cluster to
  derive a raw disk image from one of its images that way (the real
  cluster fetches its own URL too);
* redirects are followed by hand, each hop checked again, and credentials
  are dropped when a redirect leaves the origin they were given for.

A host whose name resolves to an allowed address at the check and to
another at the connection (DNS rebinding) is not caught; the emulator is a
test double and this is documented.
"""

import ipaddress
import re
import socket
import urllib.parse

import requests

from nutanix_openstack.emulator import errors

MAX_REDIRECTS = 5
_OWN_IMAGE_FILE_RE = re.compile(
    r'^/api/vmm/v4\.[0-4](?:\.[ab]\d+)?/content/images/[^/]+/file$')


def _refused(message):
    return errors.ApiError(message, status=400, code='VMM-40024',
                           error_group='IMAGE_URL_NOT_ALLOWED')


def _is_local(address):
    """Whether ``address`` belongs to this machine (it can be bound)."""
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as sock:
            sock.bind((str(address), 0))
        return True
    except OSError:
        return False


def _forbidden(address):
    return (address.is_loopback or address.is_link_local or
            address.is_unspecified or address.is_multicast or
            address.is_reserved or _is_local(address))


def _addresses(host, port):
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise errors.ApiError("Could not resolve %s: %s" % (host, exc),
                              status=400, code='VMM-40020',
                              error_group='IMAGE_URL_UNREACHABLE')
    addresses = []
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split('%', 1)[0])
        mapped = getattr(address, 'ipv4_mapped', None)
        addresses.append(mapped or address)
    return addresses


def check_url(url, allow_local=False, shown=None):
    """Raise a 400 ApiError unless the emulator may fetch ``url``."""
    shown = shown or url
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError:
        raise _refused("Invalid URL %s" % shown)
    if parts.scheme not in ('http', 'https') or not parts.hostname:
        raise _refused("Only http and https URLs can be imported, not %s"
                       % shown)
    if allow_local:
        return
    port = port or (443 if parts.scheme == 'https' else 80)
    own_image_file = (_OWN_IMAGE_FILE_RE.match(parts.path) and
                      not parts.query)
    for address in _addresses(parts.hostname, port):
        if not _forbidden(address):
            continue
        if own_image_file and _is_local(address):
            continue
        raise _refused(
            "Refusing to fetch %s: %s is a loopback, link-local or local "
            "address (set allow_local_url_sources to allow it)"
            % (shown, address))


def _origin(url):
    parts = urllib.parse.urlsplit(url)
    return (parts.scheme, parts.hostname, parts.port)


def open_url(url, auth=None, verify=True, timeout=60, allow_local=False,
             shown=None, safe_url=None):
    """GET ``url`` (streamed) after :func:`check_url`; redirects checked.

    ``safe_url(url)`` renders a URL for messages without its password.
    Returns the ``requests.Response`` of the last hop.
    """
    safe_url = safe_url or (lambda u: u)
    origin = _origin(url)
    for _hop in range(MAX_REDIRECTS + 1):
        check_url(url, allow_local, shown=safe_url(url))
        hop_auth = auth if _origin(url) == origin else None
        resp = requests.get(url, stream=True, auth=hop_auth, verify=verify,
                            timeout=timeout, allow_redirects=False)
        if not resp.is_redirect:
            return resp
        location = resp.headers.get('Location') or ''
        resp.close()
        url = urllib.parse.urljoin(url, location)
    raise _refused("Too many redirects fetching %s" % (shown or url))
