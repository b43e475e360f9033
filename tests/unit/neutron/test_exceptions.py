"""The one translation of Prism client errors into Neutron exceptions."""

from neutron_lib import exceptions as n_exc
import testtools

from nutanix_openstack.neutron import exceptions
from nutanix_openstack.prism import exceptions as prism_exc


class TestTranslate(testtools.TestCase):

    def _raised(self, error):
        try:
            with exceptions.translate('create the AHV subnet of network n1'):
                raise error
        except Exception as e:
            return e
        self.fail('translate swallowed %r' % error)

    def test_mapping(self):
        cases = [
            (prism_exc.Conflict('vlan taken', request_id='r1'),
             n_exc.Conflict),
            (prism_exc.NotFound('no such subnet'), n_exc.NotFound),
            (prism_exc.BadRequest('bad cidr'), n_exc.BadRequest),
            (prism_exc.ConnectionFailed('refused'), n_exc.ServiceUnavailable),
            (prism_exc.ServiceUnavailable('busy'), n_exc.ServiceUnavailable),
            (prism_exc.TaskFailed('task failed'), n_exc.NeutronException),
            (ValueError('not IPv4'), n_exc.BadRequest),
        ]
        for error, expected in cases:
            raised = self._raised(error)
            self.assertIsInstance(raised, expected)
            self.assertIn('create the AHV subnet of network n1', str(raised))
            self.assertIn(str(error).split(' (')[0], str(raised))

    def test_request_id_kept_for_operators(self):
        raised = self._raised(prism_exc.Conflict('vlan taken',
                                                 request_id='req-42'))
        self.assertIn('req-42', str(raised))

    def test_neutron_errors_pass_through(self):
        error = exceptions.VlanInUse(network_id='n', vlan_id=5,
                                     subnet_name='s', subnet_ext_id='x')
        self.assertIs(error, self._raised(error))
