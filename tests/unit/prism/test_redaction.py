"""No Prism password in a logged or printed URL; none sent to a third party.

Issue 11 items 7 and 8: a password written inside the endpoint URL
(``https://user:pass@host:9440``) must not show up in a log line, a repr or
an exception message, and the client's Prism credentials must never be
handed (as a ``UrlSource.basicAuth``) to a URL that is not the cluster's.
"""

import logging

import requests

from nutanix_openstack.prism import client as prism_client
from nutanix_openstack.prism import exceptions as exc
from nutanix_openstack.prism import paths
from nutanix_openstack.prism import redact
from nutanix_openstack.prism import session as session_mod
from tests.unit.prism import base

SECRET = 'Pa55-in-the-url'
EP_WITH_PASSWORD = 'https://admin:%s@10.0.0.1:9440' % SECRET


class StripUserinfoTest(base.PrismTestCase):

    def test_strip_userinfo(self):
        strip = redact.strip_userinfo
        self.assertEqual('https://h:9440/x', strip('https://u:p@h:9440/x'))
        self.assertEqual('https://h', strip('https://u@h'))
        self.assertEqual('https://h:1', strip('https://u:p%40q@h:1'))
        self.assertEqual('https://h:9440', strip('https://h:9440'))
        self.assertEqual('h:9440', strip('h:9440'))
        self.assertEqual('h:9440', strip('u:p@h:9440'))
        self.assertIsNone(strip(None))

    def test_split_userinfo_decodes(self):
        self.assertEqual(('https://h:1', 'u', 'p@q'),
                         redact.split_userinfo('https://u:p%40q@h:1'))
        self.assertEqual(('https://h', None, None),
                         redact.split_userinfo('https://h'))

    def test_normalized_endpoint_has_no_userinfo(self):
        self.assertEqual('https://10.0.0.1:9440',
                         session_mod.normalize_endpoint(EP_WITH_PASSWORD))
        self.assertEqual('https://10.0.0.1:9440',
                         session_mod.normalize_endpoint('u:p@10.0.0.1'))

    def test_bad_endpoint_message_has_no_password(self):
        try:
            session_mod.normalize_endpoint('ftp://u:%s@h' % SECRET)
        except exc.ConfigurationError as e:
            self.assertNotIn(SECRET, str(e))
        else:
            self.fail('ftp endpoint accepted')


class SessionWithPasswordInUrlTest(base.PrismTestCase):
    endpoints = (EP_WITH_PASSWORD,)

    def test_repr_and_endpoints_hide_the_password(self):
        for text in (repr(self.client), repr(self.client.session),
                     str(self.client.session.endpoints),
                     self.client.images.file_url('img-1')):
            self.assertNotIn(SECRET, text)
            self.assertNotIn('admin@', text)

    def test_debug_log_and_errors_hide_the_password(self):
        self.m.get(base.EP1 + paths.IMAGES + '/img-1',
                   json={'data': {'extId': 'img-1'}})
        self.m.get(base.EP1 + paths.IMAGES + '/gone',
                   exc=requests.exceptions.ConnectionError('dropped'))
        with self.assertLogs('nutanix_openstack.prism', logging.DEBUG) as cm:
            self.client.images.get('img-1')
            self.assertRaises(exc.ConnectionFailed,
                              self.client.images.get, 'gone')
        self.assertTrue(cm.output)
        for line in cm.output:
            self.assertNotIn(SECRET, line)
        # The URL sent carries no user info either: auth is a header.
        for req in self.m.request_history:
            self.assertNotIn(SECRET, req.url)

    def test_credentials_from_the_url_are_used_when_none_configured(self):
        c = prism_client.PrismClient([EP_WITH_PASSWORD], None, None)
        self.assertEqual(('admin', SECRET), c.session.credentials)
        self.assertEqual(['https://10.0.0.1:9440'], c.session.endpoints)
        self.assertNotIn(SECRET, repr(c))


class CredentialsNeverForwardedTest(base.PrismTestCase):

    def test_own_credentials_refused_for_a_third_party_url(self):
        creds = self.client.session.credentials
        for url in ('https://images.example.com/x.img',
                    'https://10.0.0.1:9441/api/x',      # another port
                    'http://10.0.0.1:9440/api/x',       # another scheme
                    'https://u:p@10.0.0.1:9440/api/x'):
            self.assertRaises(exc.ConfigurationError,
                              self.client.images.create_from_url, 'n', url,
                              basic_auth=creds)
        self.assertEqual([], self.m.request_history)

    def test_own_credentials_allowed_for_the_clusters_own_url(self):
        self.m.post(base.EP1 + paths.IMAGES, status_code=202,
                    json=base.task_ref())
        self.client.images.create_from_url(
            'n', self.client.images.file_url('img-1'),
            basic_auth=self.client.session.credentials, wait=False)
        body = self.m.request_history[0].json()
        self.assertEqual('admin', body['source']['basicAuth']['username'])

    def test_other_credentials_may_go_to_a_third_party(self):
        self.m.post(base.EP1 + paths.IMAGES, status_code=202,
                    json=base.task_ref())
        self.client.images.create_from_url(
            'n', 'https://images.example.com/x.img',
            basic_auth=('mirror-user', 'mirror-pass'), wait=False)
        self.assertEqual(1, len(self.m.request_history))
