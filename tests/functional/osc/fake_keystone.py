"""A paste filter standing in for keystonemiddleware's authtoken.

The test glance-api runs without keystone.  authtoken validates the
token and sets the identity headers Glance's ``context`` middleware turns
into a request context; this filter sets them from the token itself, so
that the real ``openstack`` CLI (``--os-token``/``--os-endpoint``) gets a
project-scoped context.  Tokens:

* ``service-token``: roles admin, member and the ``service`` role (what a
  service user such as nova or cinder has), allowed to call glance's
  add-location API (``POST /v2/images/{id}/locations``) for any store;
* ``member-token``: roles admin and member, no ``service`` role: Glance
  refuses that API for non-http stores (only the JSON-patch path is left).
"""

PROJECT_ID = 'b0b0b0b0b0b04b0b8b0b0b0b0b0b0b0b'
USER_ID = 'a1a1a1a1a1a14a1a8a1a1a1a1a1a1a1a'

TOKENS = {
    'service-token': {'roles': 'admin,member,reader',
                      'service_roles': 'service'},
    'member-token': {'roles': 'admin,member,reader', 'service_roles': ''},
}


class FakeAuthToken(object):

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        for key in list(environ):
            # Never trust identity headers sent by the client.
            if key.startswith('HTTP_X_') and key not in (
                    'HTTP_X_AUTH_TOKEN', 'HTTP_X_OPENSTACK_REQUEST_ID'):
                if key[7:].startswith(('ROLE', 'SERVICE', 'USER', 'PROJECT',
                                       'TENANT', 'IDENTITY')):
                    del environ[key]
        identity = TOKENS.get(environ.get('HTTP_X_AUTH_TOKEN'))
        if identity is None:
            start_response('401 Unauthorized',
                           [('Content-Type', 'text/plain')])
            return [b'unknown token']
        environ.update({
            'HTTP_X_IDENTITY_STATUS': 'Confirmed',
            'HTTP_X_USER_ID': USER_ID,
            'HTTP_X_PROJECT_ID': PROJECT_ID,
            'HTTP_X_TENANT_ID': PROJECT_ID,
            'HTTP_X_ROLES': identity['roles'],
        })
        if identity['service_roles']:
            environ['HTTP_X_SERVICE_ROLES'] = identity['service_roles']
        return self.app(environ, start_response)


def filter_factory(global_conf, **local_conf):
    return FakeAuthToken
