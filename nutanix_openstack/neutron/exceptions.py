"""Neutron exceptions of the driver, and the one place backend errors turn
into them.

Every call into :mod:`nutanix_openstack.prism` goes through
:func:`translate`, which maps the client's error hierarchy onto neutron_lib
exceptions (and so onto HTTP status codes of the Neutron API): the ML2
mechanism manager wraps them in ``MechanismDriverError`` and the API
unwraps the original for the caller.
"""

import contextlib

from neutron_lib import exceptions as n_exc

from nutanix_openstack.i18n import _
from nutanix_openstack.prism import exceptions as prism_exc


class NutanixBackendError(n_exc.NeutronException):
    """The cluster answered with an error we cannot attribute to the user."""
    message = _('Nutanix cluster: %(action)s failed: %(reason)s')


class NutanixBackendUnavailable(n_exc.ServiceUnavailable):
    message = _('Nutanix cluster unreachable or busy: %(action)s failed: '
                '%(reason)s')


class NutanixBackendConflict(n_exc.Conflict):
    message = _('Nutanix cluster: %(action)s failed: %(reason)s')


class NutanixBadRequest(n_exc.BadRequest):
    message = _('Nutanix cluster refused %(action)s: %(reason)s')


class NutanixNotFound(n_exc.NotFound):
    message = _('Nutanix cluster: %(action)s failed, not found: %(reason)s')


class VlanInUse(n_exc.Conflict):
    message = _('Network %(network_id)s needs VLAN %(vlan_id)s, which the '
                'Nutanix cluster already uses for subnet %(subnet_name)s '
                '(%(subnet_ext_id)s) that OpenStack did not create.  Use '
                'another VLAN, or set [ml2_nutanix] adopt_existing_subnets = '
                'True to let this network use that subnet.')


class AmbiguousVlan(n_exc.Conflict):
    message = _('Network %(network_id)s needs VLAN %(vlan_id)s, on which the '
                'Nutanix cluster has %(count)d subnets (%(names)s): none can '
                'be adopted without choosing between them.')


class OneIPv4SubnetPerNetwork(n_exc.InvalidInput):
    message = _('Network %(network_id)s is carried by a Nutanix AHV subnet, '
                'whose IP address management holds one IPv4 range: it '
                'already has IPv4 subnet %(subnet_id)s.')


def _reason(error):
    # PrismError's str() carries the code, status, call and request id an
    # operator needs to find it on the cluster; never credentials.
    return str(error)


@contextlib.contextmanager
def translate(action):
    """Re-raise a Prism client error as the Neutron exception it means.

    ``action`` says in words what was attempted ("create the AHV subnet
    of network <id>"); it starts every message.
    """
    try:
        yield
    except prism_exc.Conflict as e:
        raise NutanixBackendConflict(action=action, reason=_reason(e))
    except prism_exc.NotFound as e:
        raise NutanixNotFound(action=action, reason=_reason(e))
    except prism_exc.BadRequest as e:
        raise NutanixBadRequest(action=action, reason=_reason(e))
    except (prism_exc.ConnectionFailed, prism_exc.ServiceUnavailable,
            prism_exc.TooManyRequests) as e:
        raise NutanixBackendUnavailable(action=action, reason=_reason(e))
    except prism_exc.PrismError as e:
        raise NutanixBackendError(action=action, reason=_reason(e))
    except ValueError as e:
        # The client's JSON builders refuse what is not IPv4 etc.
        raise NutanixBadRequest(action=action, reason=str(e))
