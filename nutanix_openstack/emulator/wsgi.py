"""WSGI entry point: ``nutanix_openstack.emulator.wsgi:application``.

The configuration file is named by the ``NUTANIX_EMULATOR_CONFIG``
environment variable (default ``/etc/nutanix-emulator/nutanix-emulator.conf``).
One process serves a data directory (see :mod:`datadir_lock`): run the
WSGI server with one worker process and several threads (gunicorn:
``--workers 1 --threads N``; ``nutanix-emulator`` itself serves with
cheroot's thread pool).  A second worker on the same data directory
refuses to serve: it answers every request 503 with a v4 error body that
says why, and logs the same at error level.
"""

import json
import logging
import os

from nutanix_openstack.emulator import app as app_mod
from nutanix_openstack.emulator import config
from nutanix_openstack.emulator import datadir_lock
from nutanix_openstack.emulator import errors

LOG = logging.getLogger(__name__)

CONFIG_ENV = 'NUTANIX_EMULATOR_CONFIG'
DEFAULT_CONFIG = '/etc/nutanix-emulator/nutanix-emulator.conf'


def init_application(config_file=None):
    config_file = config_file or os.environ.get(CONFIG_ENV, DEFAULT_CONFIG)
    if not os.path.exists(config_file):
        raise RuntimeError("nutanix-emulator configuration %s not found "
                           "(set %s)" % (config_file, CONFIG_ENV))
    return app_mod.create_app(config.make_conf(['--config-file',
                                                config_file]))


def _refusal(message):
    def refuse(environ, start_response):
        namespace = errors.namespace_of(environ.get('PATH_INFO'))
        body = json.dumps(errors.error_body(
            namespace, message, errors.error_code(namespace, 503),
            'EMULATOR_DATA_DIR_IN_USE')).encode()
        start_response('503 Service Unavailable',
                       [('Content-Type', 'application/json'),
                        ('Content-Length', str(len(body)))])
        return [body]
    return refuse


class _LazyApplication(object):
    """Builds the app on first request: importing this module is cheap."""

    def __init__(self):
        self._app = None

    def __call__(self, environ, start_response):
        if self._app is None:
            try:
                self._app = init_application()
            except datadir_lock.DataDirInUse as exc:
                LOG.error("%s", exc)
                self._app = _refusal(str(exc))
        return self._app(environ, start_response)


application = _LazyApplication()
