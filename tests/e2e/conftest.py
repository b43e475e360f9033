"""One quick-start cloud for the whole end-to-end session.

The stack (Keystone, Glance, Placement, Neutron, Nova, Cinder, MariaDB,
RabbitMQ and the Nutanix emulator, with our three drivers) starts once on
ports from ``NUTANIX_E2E_PORT_BASE`` (default 20000, well away from a
developer's quick start on the services' usual ports) in a temporary work
directory, and stops when the session ends.  ``NUTANIX_E2E_WORKDIR`` puts
the work directory (configs, logs, the Tempest workspace) somewhere that
survives the run.
"""

import os
import shutil
import tempfile

import pytest

from quickstart import procs
from quickstart import stack as stack_mod

DEFAULT_PORT_BASE = 20000


def pytest_configure(config):
    config.addinivalue_line(
        'markers', 'stops_stack: stops the session\'s cloud; runs last')


def pytest_collection_modifyitems(session, config, items):
    # A test that stops the cloud runs after every test that uses it.
    items.sort(key=lambda item: item.get_closest_marker('stops_stack')
               is not None)


def _report(config, text):
    reporter = config.pluginmanager.get_plugin('terminalreporter')
    if reporter is not None:
        reporter.write_line(text)


@pytest.fixture(scope='session')
def stack(request):
    base = int(os.environ.get('NUTANIX_E2E_PORT_BASE', DEFAULT_PORT_BASE))
    ports = stack_mod.ports_from_base(base)
    busy = sorted(name for name, port in ports.items()
                  if procs.port_open(port))
    if busy:
        pytest.fail('ports %d..%d are not free (%s in use): set '
                    'NUTANIX_E2E_PORT_BASE to another base'
                    % (min(ports.values()), max(ports.values()),
                       ', '.join(busy)))
    workdir = os.environ.get('NUTANIX_E2E_WORKDIR')
    keep_workdir = bool(workdir)
    if workdir:
        shutil.rmtree(workdir, ignore_errors=True)
        os.makedirs(workdir)
    else:
        workdir = tempfile.mkdtemp(prefix='nutanix-e2e-')
    log_path = os.path.join(workdir, 'e2e.log')

    def say(msg):
        with open(log_path, 'a') as f:
            f.write(msg + '\n')

    cloud = stack_mod.Stack(workdir, ports=ports, say=say)
    try:
        cloud.start()
    except BaseException:
        cloud.stop()
        if not keep_workdir:
            # The logs are the only evidence: keep them, say where.
            _report(request.config, 'e2e: stack failed; logs in %s'
                    % cloud.lay.path('logs'))
        raise
    _report(request.config, 'e2e: stack up (%s), work dir %s'
            % (', '.join('%s %.0fs' % t for t in cloud.timings), workdir))
    yield cloud
    cloud.stop()
    failed = request.session.testsfailed
    if not keep_workdir and not failed:
        shutil.rmtree(workdir, ignore_errors=True)
    elif failed:
        _report(request.config, 'e2e: logs kept in %s'
                % cloud.lay.path('logs'))
