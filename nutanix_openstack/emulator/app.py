"""The emulator's Flask application.

``create_app(conf)`` builds the app from an oslo.config ``ConfigOpts``
holding the ``[emulator]`` options (see :mod:`config`): it creates the
:class:`~nutanix_openstack.emulator.backend.Backend`, registers one
Blueprint per module of ``emulator/api/`` (each module exposes
``blueprint``; modules not present yet are skipped) and the admin API, and
installs, for every request:

* HTTP basic authentication (401 with a v4 error body otherwise);
* idempotency of v4 writes: POST/PUT/DELETE/PATCH under ``/api/<ns>/v4.x``
  must carry ``NTNX-Request-Id`` (400 otherwise, like the real API); a
  repeated id replays the stored answer of the first request instead of
  running the handler again;
* the one error handler of :mod:`errors`;
* the fault middleware of :mod:`faults` (outermost, so faults are real
  on the wire).

Routes use :func:`responses.v4_path` and so accept any version segment
``v4.0``..``v4.4``; the version is dropped before the view is called.
"""

import hmac
import importlib
import logging
import re

import flask
from werkzeug import datastructures
from werkzeug import routing

from nutanix_openstack.emulator import admin
from nutanix_openstack.emulator import backend as backend_mod
from nutanix_openstack.emulator import errors
from nutanix_openstack.emulator import faults
from nutanix_openstack.emulator import input_limits

LOG = logging.getLogger(__name__)

# Modules of emulator/api/, registered in this order when present.
API_MODULES = ('tasks', 'clusters', 'images', 'vms', 'vm_nics',
               'volume_groups', 'recovery_points', 'subnets', 'replication')

_V4_WRITE_RE = re.compile(r'^/api/[a-z]+/v4\.[0-4]/')
_WRITE_METHODS = ('POST', 'PUT', 'DELETE', 'PATCH')
REQUEST_ID_HEADER = 'NTNX-Request-Id'
# Highest v4 revision served (answered to the SDKs' version negotiation).
SERVER_API_VERSION = 'v4.4'


class V4VersionConverter(routing.BaseConverter):
    """Matches ``v4.0`` .. ``v4.4`` (and ``v4.0.b1``-style previews)."""

    regex = r'v4\.[0-4](?:\.[ab]\d+)?'


def _load_api_blueprints():
    blueprints = []
    for name in API_MODULES:
        module_name = 'nutanix_openstack.emulator.api.%s' % name
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            # Only a missing module is skipped; a broken one must fail.
            if exc.name != module_name:
                raise
            LOG.debug("API module %s not present, skipped", module_name)
            continue
        blueprints.append(module.blueprint)
    return blueprints


def _credentials_ok(backend, auth):
    opts = backend.opts
    return (auth is not None and auth.type == 'basic' and
            hmac.compare_digest((auth.username or '').encode(),
                                opts.username.encode()) and
            hmac.compare_digest((auth.password or '').encode(),
                                opts.password.encode()))


def _environ_authenticated(backend):
    def authenticated(environ):
        auth = datastructures.Authorization.from_header(
            environ.get('HTTP_AUTHORIZATION'))
        return _credentials_ok(backend, auth)
    return authenticated


def _check_auth(backend):
    if not _credentials_ok(backend, flask.request.authorization):
        raise errors.Unauthorized(
            "Authentication required: valid basic auth credentials "
            "were not provided.")


def _claim_request_id(backend):
    request = flask.request
    if (request.method not in _WRITE_METHODS or
            not _V4_WRITE_RE.match(request.path)):
        return None
    request_id = request.headers.get(REQUEST_ID_HEADER)
    if not request_id:
        raise errors.BadRequest(
            "The %s header is required for this operation."
            % REQUEST_ID_HEADER, code=errors.error_code(
                errors.namespace_of(request.path), 400))
    previous = backend.state.claim_request(request_id, request.method,
                                           request.path)
    if previous is None:
        flask.g.claimed_request_id = request_id
        return None
    status, body, method, path = previous
    if (method, path) != (request.method, request.path):
        raise errors.Conflict(
            "%s %s was already used for %s %s."
            % (REQUEST_ID_HEADER, request_id, method, path))
    if status is None:
        raise errors.Conflict(
            "A request with %s %s is still being processed."
            % (REQUEST_ID_HEADER, request_id))
    LOG.info("Replaying the answer to %(header)s %(id)s",
             {'header': REQUEST_ID_HEADER, 'id': request_id})
    return flask.Response(body, status=status,
                          mimetype='application/json')


def create_app(conf, disk_store_factory=None):
    """Build the Flask app (and its Backend) from ``conf``."""
    app = flask.Flask('nutanix_openstack.emulator')
    # Bodies nested too deeply are a 400, not a RecursionError.
    app.json = input_limits.BoundedJSONProvider(app)
    app.url_map.converters['v4version'] = V4VersionConverter
    app.url_map.strict_slashes = False
    # Large image uploads are streamed; never buffer them in forms.
    app.config['MAX_FORM_MEMORY_SIZE'] = None
    backend = backend_mod.Backend(conf, disk_store_factory=disk_store_factory)
    app.extensions[backend_mod.EXTENSION] = backend

    @app.url_value_preprocessor
    def _drop_version(endpoint, values):
        if values:
            values.pop('api_version', None)

    @app.before_request
    def _authenticate_and_claim():
        _check_auth(backend)
        return _claim_request_id(backend)

    @app.after_request
    def _record_request_id(response):
        request_id = flask.g.pop('claimed_request_id', None)
        if request_id:
            if 200 <= response.status_code < 300 and \
                    not response.is_streamed:
                backend.state.complete_request(
                    request_id, response.status_code,
                    response.get_data(as_text=True))
            else:
                # A failed write did nothing: a retry must run again.
                backend.state.release_request(request_id)
        return response

    @app.teardown_request
    def _release_request_id(exc):
        request_id = flask.g.pop('claimed_request_id', None)
        if request_id:
            backend.state.release_request(request_id)

    @app.route('/api/<namespace>/unversioned/info', methods=['OPTIONS'])
    def _supported_version(namespace):
        # The SDKs negotiate their API version here before the first call.
        return flask.jsonify({'data': SERVER_API_VERSION})

    errors.register(app)
    for blueprint in _load_api_blueprints():
        app.register_blueprint(blueprint)
    app.register_blueprint(admin.blueprint)

    def render_fault(environ, status, message, headers=None):
        def fault_app(environ, start_response):
            with app.request_context(environ):
                response = errors.render(errors.ApiError(
                    message, status=status,
                    code=errors.error_code(
                        errors.namespace_of(environ.get('PATH_INFO')),
                        status),
                    error_group='INJECTED_FAULT', headers=headers))
                return response(environ, start_response)
        return fault_app

    app.wsgi_app = faults.FaultMiddleware(
        app.wsgi_app, backend.faults, render_fault,
        authenticated=_environ_authenticated(backend))
    return app
