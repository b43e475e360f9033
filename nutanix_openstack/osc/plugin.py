"""OpenStackClient plugin hooks (``openstack.cli.extension`` = nutanix).

OSC loads this module for every ``openstack`` run, so it imports nothing
heavy: the commands (``openstack.nutanix.v1`` entry points) import the
Prism client only when they run.
"""

import logging

from osc_lib import utils

LOG = logging.getLogger(__name__)

DEFAULT_API_VERSION = '1'
API_VERSION_OPTION = 'os_nutanix_api_version'
API_NAME = 'nutanix'
#: The command group is ``openstack.nutanix.v<version>``.
API_VERSIONS = ('1',)


def make_client(instance):
    """``client_manager.nutanix``.

    There is no Nutanix endpoint in the Keystone catalog: the commands
    build their cluster client from their own ``--nutanix-*`` options, the
    environment or the Glance store configuration
    (:mod:`nutanix_openstack.osc.connection`), so there is nothing to
    share here.
    """
    return None


def build_option_parser(parser):
    """The global ``--os-nutanix-api-version`` option (OSC convention)."""
    parser.add_argument(
        '--os-nutanix-api-version',
        metavar='<nutanix-api-version>',
        default=utils.env('OS_NUTANIX_API_VERSION'),
        help='Version of the nutanix commands, default=%s '
             '(Env: OS_NUTANIX_API_VERSION)' % DEFAULT_API_VERSION)
    return parser


def check_api_version(check_version):
    """False: OSC then checks the version against API_VERSIONS."""
    return False
