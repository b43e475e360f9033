"""Load an OpenStack WSGI application under a generic WSGI server.

Several OpenStack WSGI entry points parse ``sys.argv`` with oslo.config when
imported (Keystone, Cinder); under gunicorn that is gunicorn's own command
line, which they reject.  The quick start therefore serves every API through
this module: ``QS_WSGI_ARGV`` is the command line the service should see
(JSON list) and ``QS_WSGI_APP`` the ``module:attribute`` to load.
"""

import importlib
import json
import os
import sys


def _neutron_models():
    # Neutron without its L3 service plugins never imports the
    # port-forwarding model, yet its port listing asks for
    # ``Port.port_forwardings`` (a backref that exists only once every
    # model is imported and the mappers are configured).
    from sqlalchemy import orm

    importlib.import_module('neutron.db.migration.models.head')
    orm.configure_mappers()


def _load():
    if os.environ['QS_WSGI_APP'].startswith('neutron.'):
        _neutron_models()
    argv = json.loads(os.environ['QS_WSGI_ARGV'])
    module_name, _, attr = os.environ['QS_WSGI_APP'].partition(':')
    saved = sys.argv
    sys.argv = argv
    try:
        module = importlib.import_module(module_name)
    finally:
        sys.argv = saved
    return getattr(module, attr or 'application')


application = _load()
