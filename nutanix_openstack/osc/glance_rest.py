"""The few Glance v2 calls the URL import makes, over OSC's session.

``client_manager.image`` is openstacksdk's image proxy, a keystoneauth
``Adapter`` bound to Glance's v2 endpoint with the user's token.  Raw REST
calls are used on purpose: openstacksdk's ``create_image`` uploads an
empty body when given no data (the image would go ``active`` with 0
bytes), and it has no call for Glance's add-location API.
"""

import json

from nutanix_openstack.i18n import _

PATCH_TYPE = 'application/openstack-images-v2.1-json-patch'


class GlanceError(Exception):
    """A Glance call failed; ``status`` is the HTTP status (or None)."""

    def __init__(self, message, status=None):
        super(GlanceError, self).__init__(message)
        self.status = status


def _explain(resp):
    try:
        body = resp.json()
    except ValueError:
        return (resp.text or '').strip()[:500]
    if isinstance(body, dict):
        for key in ('message', 'title'):
            if body.get(key):
                return str(body[key])[:500]
    return json.dumps(body)[:500]


class GlanceImages(object):
    """Glance v2 images through a keystoneauth adapter."""

    def __init__(self, adapter):
        self._adapter = adapter

    def _call(self, method, path, what, ok=(200, 201, 202, 204), **kwargs):
        resp = self._adapter.request(path, method, raise_exc=False,
                                     **kwargs)
        if resp.status_code not in ok:
            raise GlanceError(
                _('%(what)s: Glance answered %(s)s: %(e)s') %
                {'what': what, 's': resp.status_code, 'e': _explain(resp)},
                status=resp.status_code)
        return resp

    def create(self, fields):
        """``POST /v2/images``: a queued image record with no data."""
        return self._call('POST', '/images', _('Creating the Glance image'),
                          json=fields).json()

    def store_ids(self):
        """``GET /v2/info/stores``: the backend ids of a multi-store Glance.

        An empty list when Glance is not multi-store (it answers 404).
        """
        resp = self._call('GET', '/info/stores', _('Listing Glance stores'),
                          ok=(200, 404))
        if resp.status_code == 404:
            return []
        return [s.get('id') for s in resp.json().get('stores', [])]

    def get(self, image_id):
        return self._call('GET', '/images/%s' % image_id,
                          _('Reading Glance image %s') % image_id).json()

    def delete(self, image_id):
        """``DELETE /v2/images/{id}``; an image already gone is fine."""
        self._call('DELETE', '/images/%s' % image_id,
                   _('Deleting Glance image %s') % image_id,
                   ok=(200, 204, 404))

    def add_location(self, image_id, url, validation_data=None):
        """``POST /v2/images/{id}/locations`` (Glance API v2.17+).

        Glance runs a ``location_import`` task: adds the location, makes
        the image active and hashes it through the store's get().  Glance
        allows it for non-http stores to users with the ``service`` role.
        """
        body = {'url': url}
        if validation_data:
            body['validation_data'] = validation_data
        self._call('POST', '/images/%s/locations' % image_id,
                   _('Adding the location of image %s') % image_id,
                   json=body)

    def patch_add_location(self, image_id, url, metadata=None,
                           validation_data=None):
        """JSON-patch ``add /locations/-`` (needs ``show_multiple_locations``).

        The image becomes active at once; its checksum and hash are the
        ``validation_data`` given (Glance does not read the data on this
        path).
        """
        value = {'url': url, 'metadata': metadata or {}}
        if validation_data:
            value['validation_data'] = validation_data
        return self._call(
            'PATCH', '/images/%s' % image_id,
            _('Adding the location of image %s') % image_id,
            data=json.dumps([{'op': 'add', 'path': '/locations/-',
                              'value': value}]),
            headers={'Content-Type': PATCH_TYPE}).json()
