"""pytest fixtures for the emulator's functional tests (real HTTP)."""

import pytest

from nutanix_openstack.emulator import fixture as emu_fixture
from tests.functional.emulator import helpers


def _start(**kwargs):
    # These tests serve image files on 127.0.0.1 (helpers.FileServer).
    kwargs.setdefault('allow_local_url_sources', True)
    fix = emu_fixture.EmulatorFixture(**kwargs)
    fix.setUp()
    return fix


@pytest.fixture
def emulator():
    """The emulator on loopback, tasks immediate."""
    fix = _start()
    yield fix
    fix.cleanUp()


@pytest.fixture
def async_emulator():
    """The emulator on loopback, tasks in background threads."""
    fix = _start(task_mode='async')
    yield fix
    fix.cleanUp()


@pytest.fixture
def api(emulator):
    return helpers.Api(emulator)


@pytest.fixture
def async_api(async_emulator):
    return helpers.Api(async_emulator)
