"""The OpenStack dashboard (Horizon, from PyPI) of the quick start.

Horizon's ``openstack_dashboard.settings`` imports ``local.local_settings``
from ``sys.path``: the quick start writes that module under
``<workdir>/horizon/`` and puts the directory on gunicorn's
``PYTHONPATH``, so nothing is written into the installed package.  This
module is also the WSGI application gunicorn serves
(``quickstart.horizon:application``): Django's application, plus the
static files (stylesheets compressed on first use into
``<workdir>/horizon/static``, everything else from Django's static file
finders), which a deployment leaves to its web server.
"""

import mimetypes
import os
import posixpath

LOCAL_SETTINGS = '''\
# Written by the quick start (quickstart/horizon.py).
import os

DEBUG = False
ALLOWED_HOSTS = ['127.0.0.1', 'localhost']
SECRET_KEY = %(secret_key)r
LOCAL_PATH = %(local_path)r
STATIC_ROOT = %(static_root)r
COMPRESS_ROOT = STATIC_ROOT
# Stylesheets are compiled (SCSS) and compressed on first use and cached.
COMPRESS_OFFLINE = False
CACHES = {'default': {
    'BACKEND': 'django.core.cache.backends.locmem.LocMemCache'}}
# Sessions in files under the work directory (no memcached).
SESSION_ENGINE = 'django.contrib.sessions.backends.file'
SESSION_FILE_PATH = %(session_dir)r
FILE_UPLOAD_TEMP_DIR = %(upload_dir)r

OPENSTACK_KEYSTONE_URL = %(auth_url)r
OPENSTACK_KEYSTONE_DEFAULT_ROLE = 'member'
OPENSTACK_API_VERSIONS = {'identity': 3, 'image': 2, 'volume': 3,
                          'compute': 2}
OPENSTACK_SSL_NO_VERIFY = True
# Image files go through Horizon to Glance (no CORS on Glance); an image
# "from URL" is a location on Glance's http store.
HORIZON_IMAGES_UPLOAD_MODE = 'legacy'
IMAGES_ALLOW_LOCATION = True
# No cinder-backup runs: no backup actions.
OPENSTACK_CINDER_FEATURES = {'enable_backup': False}
OPENSTACK_NEUTRON_NETWORK = {
    'enable_router': False,
    'enable_quotas': False,
    'enable_ipv6': False,
    'enable_distributed_router': False,
    'enable_ha_router': False,
    'enable_fip_topology_check': False,
}
# A new server's disk is the image's clone on the cluster, not a volume.
LAUNCH_INSTANCE_DEFAULTS = {'create_volume': False}
CONSOLE_TYPE = 'VNC'
LOGGING = {
    'version': 1,
    'disable_existing_loggers': False,
    'handlers': {'file': {'class': 'logging.FileHandler',
                          'filename': %(log_file)r}},
    'root': {'handlers': ['file'], 'level': 'INFO'},
}
'''


def write_settings(lay):
    """Write ``<workdir>/horizon/local/local_settings.py``.

    Returns the directory to put on ``PYTHONPATH``.
    """
    base = lay.path('horizon')
    local = os.path.join(base, 'local')
    for d in (local, os.path.join(base, 'static'),
              os.path.join(base, 'uploads'), os.path.join(base, 'sessions')):
        os.makedirs(d, exist_ok=True)
    with open(os.path.join(local, '__init__.py'), 'w'):
        pass
    with open(os.path.join(local, 'local_settings.py'), 'w') as f:
        f.write(LOCAL_SETTINGS % {
            'secret_key': os.urandom(32).hex(),
            'local_path': local,
            'static_root': os.path.join(base, 'static'),
            'upload_dir': os.path.join(base, 'uploads'),
            'session_dir': os.path.join(base, 'sessions'),
            'auth_url': lay.auth_url,
            'log_file': lay.path('logs', 'horizon-app.log'),
        })
    return base


def _static_file(rel):
    """The file behind ``STATIC_URL + rel``, or None."""
    from django.conf import settings
    from django.contrib.staticfiles import finders
    from django.core.exceptions import SuspiciousFileOperation

    rel = posixpath.normpath(rel).lstrip('/')
    if rel.startswith('..'):
        return None
    compressed = os.path.join(settings.STATIC_ROOT, rel)
    if os.path.isfile(compressed):
        return compressed
    try:
        found = finders.find(rel)
    except SuspiciousFileOperation:
        return None
    return found if found and os.path.isfile(found) else None


def _make_application():
    os.environ.setdefault('DJANGO_SETTINGS_MODULE',
                          'openstack_dashboard.settings')
    from django.conf import settings
    from django.core.wsgi import get_wsgi_application

    django_app = get_wsgi_application()
    prefix = settings.STATIC_URL

    def application(environ, start_response):
        path = environ.get('PATH_INFO', '')
        if not path.startswith(prefix):
            return django_app(environ, start_response)
        found = _static_file(path[len(prefix):])
        if found is None:
            start_response('404 Not Found',
                           [('Content-Type', 'text/plain')])
            return [b'not found\n']
        ctype = mimetypes.guess_type(found)[0] or 'application/octet-stream'
        with open(found, 'rb') as f:
            body = f.read()
        start_response('200 OK', [('Content-Type', ctype),
                                  ('Content-Length', str(len(body))),
                                  ('Cache-Control', 'max-age=3600')])
        return [body]

    return application


if os.environ.get('QS_HORIZON_WSGI'):
    application = _make_application()
