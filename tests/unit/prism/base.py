"""Helpers for the wire-contract tests of the Prism client."""

import unittest
import urllib.parse

import requests_mock

from nutanix_openstack.prism import client
from nutanix_openstack.prism import paths

EP1 = 'https://10.0.0.1:9440'
EP2 = 'https://10.0.0.2:9440'
PASSWORD = 'S3cr3t-pa55word'


class FakeTime(object):
    """A clock that only moves when somebody sleeps."""

    def __init__(self):
        self.now = 1000.0
        self.sleeps = []

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds

    def clock(self):
        return self.now


def task_ref(ext_id='ZXJnb24=:task-1'):
    return {'data': {'$objectType': 'prism.v4.config.TaskReference',
                     'extId': ext_id},
            '$objectType': 'vmm.v4.content.CreateImageApiResponse'}


def task(ext_id='ZXJnb24=:task-1', status='SUCCEEDED', progress=100,
         entities=(), **extra):
    data = {'$objectType': 'prism.v4.config.Task', 'extId': ext_id,
            'status': status, 'progressPercentage': progress,
            'entitiesAffected': [{'extId': e, 'rel': r}
                                 for r, e in entities]}
    data.update(extra)
    return {'data': data}


def qs(request):
    """The query of a recorded request, case kept.

    requests_mock's ``qs`` lower-cases the values.
    """
    return urllib.parse.parse_qs(urllib.parse.urlsplit(request.url).query)


def error_body(message, code, status=404, ns='vmm'):
    return {'data': {'$objectType': '%s.v4.error.ErrorResponse' % ns,
                     'error': [{'$objectType': '%s.v4.error.AppMessage' % ns,
                                'message': message, 'code': code,
                                'severity': 'ERROR', 'locale': 'en_US'}]},
            '$objectType': '%s.v4.content.GetImageApiResponse' % ns}


class PrismTestCase(unittest.TestCase):
    endpoints = (EP1,)

    def setUp(self):
        super(PrismTestCase, self).setUp()
        self.m = requests_mock.Mocker()
        self.m.start()
        self.addCleanup(self.m.stop)
        self.time = FakeTime()
        self.client = self.make_client()

    def make_client(self, **kw):
        kw.setdefault('retries', 3)
        kw.setdefault('retry_interval', 1.0)
        kw.setdefault('task_poll_interval', 0.5)
        c = client.PrismClient(list(self.endpoints), 'admin', PASSWORD,
                               **kw)
        # Fake time everywhere: no real sleeping in unit tests.
        c.session._sleep = self.time.sleep
        c.session._clock = self.time.clock
        c.tasks._sleep = self.time.sleep
        c.tasks._clock = self.time.clock
        return c

    def url(self, path, endpoint=EP1):
        return endpoint + path

    def mock_task(self, ext_id='ZXJnb24=:task-1', entities=(), **kw):
        return self.m.get(self.url('%s/%s' % (paths.TASKS, ext_id)),
                          json=task(ext_id, entities=entities, **kw))

    def requests(self, method=None, path=None):
        return [r for r in self.m.request_history
                if (method is None or r.method == method) and
                (path is None or r.path == path.lower() or
                 r.url.split('?')[0].endswith(path))]
