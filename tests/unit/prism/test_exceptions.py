"""raise_from_response(): status codes and v4 error bodies to exceptions."""

import unittest

import requests
import requests_mock

from nutanix_openstack.prism import exceptions as exc
from tests.unit.prism import base


def _response(status, body=None, text=None, headers=None):
    with requests_mock.Mocker() as m:
        kw = {'status_code': status, 'headers': headers or {}}
        if body is not None:
            kw['json'] = body
        else:
            kw['text'] = text or ''
        m.get('https://h:9440/x', **kw)
        return requests.get('https://h:9440/x',
                            headers={'NTNX-Request-Id': 'rid-1'})


class RaiseFromResponseTest(unittest.TestCase):

    def test_success_does_not_raise(self):
        exc.raise_from_response(_response(200, {'data': {}}))
        exc.raise_from_response(_response(202, {'data': {}}))

    def test_status_mapping(self):
        for status, cls in [(400, exc.BadRequest), (401, exc.Unauthorized),
                            (403, exc.Forbidden), (404, exc.NotFound),
                            (409, exc.Conflict),
                            (412, exc.PreconditionFailed),
                            (416, exc.RequestRangeNotSatisfiable),
                            (428, exc.PreconditionRequired),
                            (429, exc.TooManyRequests),
                            (500, exc.ServerError), (502, exc.ServerError),
                            (503, exc.ServiceUnavailable),
                            (418, exc.HttpError)]:
            with self.assertRaises(cls) as ctx:
                exc.raise_from_response(_response(status, {}))
            self.assertEqual(status, ctx.exception.status)
            self.assertIsInstance(ctx.exception, exc.PrismError)

    def test_v4_app_message_keeps_code_message_request_id(self):
        body = base.error_body('Image abc not found', 'VMM-20005')
        with self.assertRaises(exc.NotFound) as ctx:
            exc.raise_from_response(_response(404, body))
        e = ctx.exception
        self.assertEqual('Image abc not found', e.message)
        self.assertEqual('VMM-20005', e.code)
        self.assertEqual('rid-1', e.request_id)
        self.assertEqual(404, e.status)
        self.assertEqual('GET', e.method)
        self.assertIn('VMM-20005', str(e))
        self.assertIn('rid-1', str(e))
        self.assertEqual(1, len(e.details))

    def test_schema_validation_error(self):
        body = {'data': {
            '$objectType': 'volumes.v4.error.ErrorResponse',
            'error': {
                '$objectType': 'volumes.v4.error.SchemaValidationError',
                'statusCode': 400, 'error': 'Bad Request',
                'path': '/api/volumes/v4.3/config/volume-groups',
                'validationErrorMessages': [{
                    'location': 'body', 'attributePath': 'name',
                    'message': 'must not be null'}]}}}
        with self.assertRaises(exc.BadRequest) as ctx:
            exc.raise_from_response(_response(400, body))
        self.assertIn('name: must not be null', ctx.exception.message)
        self.assertEqual(400, ctx.exception.code)

    def test_v3_message_list(self):
        body = {'state': 'ERROR', 'code': 409, 'message_list': [
            {'message': 'image exists', 'reason': 'DUPLICATE'}]}
        with self.assertRaises(exc.Conflict) as ctx:
            exc.raise_from_response(_response(409, body))
        self.assertEqual('image exists', ctx.exception.message)
        self.assertEqual('DUPLICATE', ctx.exception.code)

    def test_non_json_body(self):
        with self.assertRaises(exc.ServerError) as ctx:
            exc.raise_from_response(_response(500, text='Internal oops'))
        self.assertEqual('Internal oops', ctx.exception.message)
