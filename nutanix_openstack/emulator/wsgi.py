"""WSGI entry point: ``nutanix_openstack.emulator.wsgi:application``.

The configuration file is named by the ``NUTANIX_EMULATOR_CONFIG``
environment variable (default ``/etc/nutanix-emulator/nutanix-emulator.conf``).
Several worker processes may share one data directory: state is SQLite
(WAL) and the disk store is multi-process safe.  Task threads run in the
worker that accepted the write.  Injected faults and the one-upload-per-
image guard live in each worker's memory: tests that inject faults should
run a single worker (as ``nutanix-emulator`` does).
"""

import os

from nutanix_openstack.emulator import app as app_mod
from nutanix_openstack.emulator import config

CONFIG_ENV = 'NUTANIX_EMULATOR_CONFIG'
DEFAULT_CONFIG = '/etc/nutanix-emulator/nutanix-emulator.conf'


def init_application(config_file=None):
    config_file = config_file or os.environ.get(CONFIG_ENV, DEFAULT_CONFIG)
    if not os.path.exists(config_file):
        raise RuntimeError("nutanix-emulator configuration %s not found "
                           "(set %s)" % (config_file, CONFIG_ENV))
    return app_mod.create_app(config.make_conf(['--config-file',
                                                config_file]))


class _LazyApplication(object):
    """Builds the app on first request: importing this module is cheap."""

    def __init__(self):
        self._app = None

    def __call__(self, environ, start_response):
        if self._app is None:
            self._app = init_application()
        return self._app(environ, start_response)


application = _LazyApplication()
