"""The only place that speaks HTTP: auth, TLS, failover, retries, ETags.

* Basic auth; TLS verification on by default, optionally with a CA bundle.
* A LIST of endpoints: an endpoint that cannot be reached is marked down
  for ``endpoint_down_time`` seconds and the next one is used (the way
  Ceph clients hop between monitors); when every endpoint is down, they are
  all tried again in order.
* Retries with exponential backoff for connection errors and for HTTP
  429/502/503/504 (``Retry-After`` honoured).  Every write carries an
  ``NTNX-Request-Id`` (uuid4) that is REUSED on its retries, so the server
  recognises a retried create and never makes two objects.
* Updates carry ``If-Match`` with the ETag of a prior GET; on 412 the
  entity is read again and the update retried once.
* ``$page``/``$limit`` pagination until ``totalAvailableResults``.
* Streamed uploads (iterator bodies) and streamed downloads.
"""

import email.utils
import itertools
import logging
import time
import urllib.parse
import uuid

import requests

from nutanix_openstack.prism import exceptions as exc
from nutanix_openstack.prism import paths
from nutanix_openstack.prism import redact
from nutanix_openstack.prism import streams

LOG = logging.getLogger(__name__)

RETRY_STATUSES = frozenset([429, 502, 503, 504])
DEFAULT_PORT = 9440


def _version():
    try:
        from pbr import version as pbr_version
        return pbr_version.VersionInfo('nutanix-openstack').version_string()
    except Exception:  # pragma: no cover - not installed as a package
        return 'unknown'


USER_AGENT = 'nutanix-openstack/%s python-requests/%s' % (
    _version(), requests.__version__)


def normalize_endpoint(endpoint):
    """``host[:port]`` → ``https://host:port``; a URL is kept (no path).

    User info (``https://user:pass@host``) is dropped: see
    :func:`split_userinfo`.
    """
    endpoint = (endpoint or '').strip()
    if not endpoint:
        raise exc.ConfigurationError('empty Prism endpoint')
    if '://' not in endpoint:
        endpoint = 'https://' + endpoint
    parts = urllib.parse.urlsplit(endpoint)
    shown = redact.strip_userinfo(endpoint)
    if parts.scheme not in ('http', 'https') or not parts.hostname:
        raise exc.ConfigurationError(
            'invalid Prism endpoint %r: expected https://host[:port] or '
            'host[:port]' % shown)
    try:
        port = parts.port
    except ValueError:
        raise exc.ConfigurationError('invalid port in endpoint %r' % shown)
    endpoint, _user, _password = redact.split_userinfo(endpoint)
    parts = urllib.parse.urlsplit(endpoint)
    netloc = parts.netloc
    if port is None:
        netloc = '%s:%d' % (netloc, DEFAULT_PORT)
    return '%s://%s%s' % (parts.scheme, netloc, parts.path.rstrip('/'))


def endpoint_address(endpoint):
    """``(host, port)`` of an endpoint as the session reaches it.

    A bare ``host[:port]`` means https and a URL without a port means
    ``DEFAULT_PORT``, as for the calls themselves.
    """
    parts = urllib.parse.urlsplit(normalize_endpoint(endpoint))
    return parts.hostname, parts.port


class _Call(object):
    """One logical call of :meth:`Session.request` across its attempts."""

    def __init__(self, method, path, params, json, data, data_size,
                 headers, stream, write):
        self.method = method.upper()
        self.path = path
        self.params = params
        self.json = json
        self.data_size = data_size
        self.stream = stream
        self.write = (self.method not in ('GET', 'HEAD') if write is None
                      else write)
        self.headers = dict(headers or {})
        if self.write:
            self.headers.setdefault('NTNX-Request-Id', str(uuid.uuid4()))
        self.request_id = self.headers.get('NTNX-Request-Id')
        self.body = (streams.ReplayableBody(data) if data is not None
                     else None)
        self.last_error = None
        # Whether an attempt may have reached the server (and been
        # applied): anything but a failure to connect.
        self.reached = False

    @property
    def source_spent(self):
        """A one-shot upload source was consumed: it cannot be resent."""
        return self.body is not None and not self.body.replayable


class Session(object):
    """HTTP session over a list of Prism endpoints."""

    def __init__(self, endpoints, username, password, verify=True,
                 ca_file=None, connect_timeout=10, read_timeout=120,
                 retries=3, retry_interval=1.0, retry_max_interval=30.0,
                 endpoint_down_time=60.0, user_agent=USER_AGENT,
                 sleep=time.sleep, clock=time.monotonic,
                 ambiguous_retries=3):
        if isinstance(endpoints, str):
            endpoints = [endpoints]
        endpoints = [e.strip() for e in endpoints or [] if e and e.strip()]
        if not username and endpoints:
            # Credentials written in the first endpoint URL are used (only)
            # when none are configured; the URL itself is kept without them.
            _url, url_user, url_password = redact.split_userinfo(
                endpoints[0] if '://' in endpoints[0]
                else 'https://' + endpoints[0])
            if url_user:
                username = url_user
                if password is None:
                    password = url_password
        self.endpoints = [normalize_endpoint(e) for e in endpoints or []]
        if not self.endpoints:
            raise exc.ConfigurationError('no Prism endpoint configured')
        if not username or password is None:
            raise exc.ConfigurationError(
                'Prism username and password are required')
        self.retries = max(0, int(retries))
        # Rounds of resending a create whose every attempt ended in a
        # dropped connection (see prism/ambiguous.py).
        self.ambiguous_retries = max(0, int(ambiguous_retries))
        self.retry_interval = float(retry_interval)
        self.retry_max_interval = float(retry_max_interval)
        self.endpoint_down_time = float(endpoint_down_time)
        self.timeout = (connect_timeout, read_timeout)
        self._sleep = sleep
        self._clock = clock
        self._down_until = {}
        self.http = requests.Session()
        self.http.auth = (username, password)
        self.http.verify = (ca_file or True) if verify else False
        self.http.headers['User-Agent'] = user_agent
        self.http.headers['Accept'] = 'application/json'
        if not verify:
            import urllib3
            urllib3.disable_warnings(
                urllib3.exceptions.InsecureRequestWarning)

    def __repr__(self):
        # Never show credentials.
        return '<Session endpoints=%s>' % self.endpoints

    # -- endpoint selection -------------------------------------------

    def _ordered_endpoints(self):
        """Endpoints in the order to try them.

        Live endpoints in configured order, then the ones marked down
        (soonest to come back first).
        """
        now = self._clock()
        live = [e for e in self.endpoints
                if self._down_until.get(e, 0) <= now]
        down = sorted((e for e in self.endpoints if e not in live),
                      key=lambda e: self._down_until[e])
        return live + down

    def _mark_down(self, endpoint):
        self._down_until[endpoint] = self._clock() + self.endpoint_down_time
        if len(self.endpoints) > 1:
            LOG.warning('Prism endpoint %(ep)s unreachable, marked down for '
                        '%(t)ss', {'ep': endpoint,
                                   't': self.endpoint_down_time})

    def current_endpoint(self):
        """The endpoint the next call goes to first."""
        return self._ordered_endpoints()[0]

    @property
    def credentials(self):
        """The (username, password) of this session.

        (username, password), for URL sources the cluster fetches
        from itself.  Never log this.
        """
        return self.http.auth

    def _mark_up(self, endpoint):
        self._down_until.pop(endpoint, None)

    def _backoff(self, attempt, response=None):
        delay = min(self.retry_interval * (2 ** attempt),
                    self.retry_max_interval)
        retry_after = response is not None and response.headers.get(
            'Retry-After')
        if retry_after:
            try:
                delay = float(retry_after)
            except ValueError:
                when = email.utils.parsedate_to_datetime(retry_after)
                if when is not None:
                    delay = when.timestamp() - time.time()
            delay = max(0.0, min(delay, self.retry_max_interval))
        return delay

    # -- the one request loop --------------------------------------------

    def request(self, method, path, params=None, json=None, data=None,
                headers=None, stream=False, write=None, ok_statuses=None,
                data_size=None):
        """Send one logical call; returns the ``requests.Response``.

        ``write`` (default: any method but GET/HEAD) adds an
        ``NTNX-Request-Id`` kept across retries.  ``data`` may be a one-shot
        iterator (streamed, chunked); a failed attempt is then retried only
        if the iterator was not consumed yet, else ``UploadNotRetryable``.
        Raises the mapped :mod:`exceptions` error for error statuses.
        """
        call = _Call(method, path, params, json, data, data_size, headers,
                     stream, write)
        attempt = 0
        while True:
            response = self._attempt(call)
            if response is not None:
                if response.status_code not in RETRY_STATUSES:
                    break
                if call.source_spent and attempt < self.retries:
                    response.close()
                    raise exc.UploadNotRetryable(
                        '%s %s answered HTTP %d after the one-shot upload '
                        'source was consumed; it cannot be sent again'
                        % (call.method, path, response.status_code),
                        status=response.status_code,
                        request_id=call.request_id, url=path,
                        method=call.method)
            if attempt >= self.retries:
                break
            self._wait_before_retry(call, attempt, response)
            attempt += 1
        return self._outcome(call, response, attempt, ok_statuses)

    def _attempt(self, call):
        """One attempt: the endpoints in turn, until one answers.

        Returns the response, or None when no endpoint answered
        (``call.last_error`` says why).  An endpoint that refuses the
        connection is failed over at once; a connection dropped after it
        was made ends the attempt.
        """
        for endpoint in self._ordered_endpoints():
            url = endpoint + call.path
            try:
                response = self._send(call, url)
            except requests.exceptions.SSLError as e:
                # A certificate problem does not go away by retrying.
                raise exc.ConnectionFailed(
                    'TLS failure talking to %s (check verify_ssl and '
                    'ca_file): %s' % (endpoint, e),
                    request_id=call.request_id, url=url, method=call.method)
            except (requests.ConnectionError, requests.Timeout,
                    requests.exceptions.ChunkedEncodingError) as e:
                # ChunkedEncodingError: the answer was cut short.
                if self._connection_lost(call, endpoint, url, e):
                    continue    # fail over at once to the next endpoint
                return None
            self._mark_up(endpoint)
            return response
        return None

    def _connection_lost(self, call, endpoint, url, error):
        """Record a failed connection; True when it never reached the server.

        A connection that failed to open marks ``endpoint`` down (the
        caller then fails over); one that dropped may have reached the
        server.  A one-shot upload source already consumed cannot be
        resent either way: ``UploadNotRetryable``.
        """
        call.last_error = error
        connect_failure = isinstance(
            error, (requests.ConnectTimeout,)) or _is_connect_error(error)
        if connect_failure:
            self._mark_down(endpoint)
        else:
            call.reached = True
        if call.source_spent:
            raise exc.UploadNotRetryable(
                'upload to %s failed after the one-shot source '
                'was consumed: %s' % (url, error),
                request_id=call.request_id, url=url, method=call.method)
        if not connect_failure:
            LOG.debug('%(m)s %(u)s failed: %(e)s',
                      {'m': call.method, 'u': url, 'e': error})
        return connect_failure

    def _wait_before_retry(self, call, attempt, response):
        delay = self._backoff(attempt, response)
        LOG.info('Retrying %(m)s %(p)s in %(d).1fs (attempt %(a)d of '
                 '%(n)d): %(why)s',
                 {'m': call.method, 'p': call.path, 'd': delay,
                  'a': attempt + 1, 'n': self.retries,
                  'why': ('HTTP %d' % response.status_code
                          if response is not None else call.last_error)})
        if response is not None:
            response.close()
        self._sleep(delay)

    def _outcome(self, call, response, attempt, ok_statuses):
        """The response of the last attempt, or the error it amounts to."""
        if response is None:
            error = exc.ConnectionFailed(
                'no Prism endpoint answered %s %s after %d attempt(s): %s'
                % (call.method, call.path, attempt + 1, call.last_error),
                request_id=call.request_id, method=call.method,
                url=call.path)
            error.maybe_applied = call.write and call.reached
            raise error
        if response.status_code >= 400 and not (
                ok_statuses and response.status_code in ok_statuses):
            try:
                exc.raise_from_response(response,
                                        request_id=call.request_id)
            finally:
                response.close()
        return response

    def _send(self, call, url):
        LOG.debug('Prism request %(m)s %(u)s params=%(p)s request_id=%(r)s',
                  {'m': call.method, 'u': url, 'p': call.params,
                   'r': call.request_id})
        kwargs = {}
        if call.body is not None:
            kwargs['data'] = call.body.body()
            if call.data_size is not None and not isinstance(
                    kwargs['data'], (bytes, bytearray)):
                # A sized iterator: Content-Length instead of chunked.
                kwargs['data'] = streams.SizedIterable(kwargs['data'],
                                                       call.data_size)
        # verify per request: a session-level verify loses against
        # REQUESTS_CA_BUNDLE in the environment (requests issue #3829).
        resp = self.http.request(call.method, url, params=call.params,
                                 json=call.json, headers=call.headers,
                                 stream=call.stream, timeout=self.timeout,
                                 verify=self.http.verify, **kwargs)
        if not call.stream:
            _check_complete(resp)
        LOG.debug('Prism response %(m)s %(u)s: %(s)d',
                  {'m': call.method, 'u': url, 's': resp.status_code})
        return resp

    # -- JSON helpers ----------------------------------------------------

    def get(self, path, params=None):
        """GET → the whole JSON body."""
        return _json(self.request('GET', path, params=params))

    def get_data(self, path, params=None):
        return _data(self.get(path, params=params))

    def get_with_etag(self, path):
        """GET → (data, etag)."""
        resp = self.request('GET', path)
        body = _json(resp)
        data = _data(body)
        etag = resp.headers.get('ETag')
        if not etag and isinstance(data, dict):
            reserved = data.get('$reserved') or {}
            etag = next((v for k, v in reserved.items()
                         if k.lower() == 'etag'), None)
        return data, etag

    def post(self, path, body=None, params=None, headers=None):
        """POST a write → the whole JSON body (usually a TaskReference)."""
        return _json(self.request('POST', path, json=body, params=params,
                                  headers=headers))

    def delete(self, path, headers=None):
        return _json(self.request('DELETE', path, headers=headers))

    def put(self, path, body, etag=None, headers=None):
        hdrs = dict(headers or {})
        if etag:
            hdrs['If-Match'] = etag
        return _json(self.request('PUT', path, json=body, headers=hdrs))

    def conditional(self, method, path, etag_path=None, body=None,
                    mutate=None, params=None):
        """A write guarded by the ETag of a prior GET.

        A write carrying ``If-Match`` with the ETag of ``etag_path``
        (default: ``path``) read just before.

        ``mutate(data)`` (optional) builds the body from the entity read.
        On 412 (stale ETag: someone changed the entity in between) the
        entity is read again and the write sent once more.
        """
        etag_path = etag_path or path
        for attempt in (0, 1):
            data, etag = self.get_with_etag(etag_path)
            payload = mutate(dict(data)) if mutate is not None else body
            headers = {'If-Match': etag} if etag else {}
            try:
                return _json(self.request(method, path, json=payload,
                                          params=params, headers=headers))
            except exc.PreconditionFailed:
                if attempt:
                    raise
                LOG.info('ETag of %s changed under us, re-reading',
                         etag_path)

    def update(self, path, mutate):
        """Read-modify-write of an entity with If-Match.

        GET (for the ETag), ``mutate(data)`` → body, PUT with If-Match;
        re-read and retried once on 412.
        """
        return self.conditional('PUT', path, mutate=mutate)

    def list_all(self, path, filter=None, orderby=None, limit=None,
                 params=None, page_size=paths.MAX_PAGE_LIMIT):
        """Every item of a v4 list, following ``$page``/``$limit``.

        ``limit`` caps the number of items returned.
        """
        items = []
        base = dict(params or {})
        if filter:
            base['$filter'] = filter
        if orderby:
            base['$orderby'] = orderby
        for page in itertools.count():
            want = page_size
            if limit is not None:
                want = min(page_size, limit - len(items))
                if want <= 0:
                    break
            # Keep the page size fixed: $page counts in units of $limit.
            query = dict(base, **{'$page': page, '$limit': page_size})
            body = self.get(path, params=query)
            data = body.get('data') if isinstance(body, dict) else None
            if not isinstance(data, list):
                data = []
            items.extend(data[:want])
            total = ((body.get('metadata') or {})
                     .get('totalAvailableResults'))
            if not data or len(data) < page_size:
                break
            if total is not None and (page + 1) * page_size >= total:
                break
        return items

    def close(self):
        self.http.close()


def _check_complete(response):
    """Raise ChunkedEncodingError when a body is shorter than announced.

    A connection cut after the headers may leave a short body without an
    exception from the HTTP stack; treat it as the dropped connection it is
    so that the call is retried (with its NTNX-Request-Id).
    """
    announced = response.headers.get('Content-Length')
    if (not announced or response.headers.get('Content-Encoding') or
            response.request.method == 'HEAD' or
            response.status_code in (204, 304)):
        return
    try:
        announced = int(announced)
    except ValueError:
        return
    if len(response.content) < announced:
        response.close()
        raise requests.exceptions.ChunkedEncodingError(
            'response cut short: %d of %d bytes'
            % (len(response.content), announced))


def _is_connect_error(error):
    """Whether a requests error means the endpoint is down.

    True when the TCP/TLS connection itself failed (endpoint down),
    as opposed to a connection dropped in the middle of an answer.
    """
    text = repr(error)
    return any(s in text for s in (
        'NewConnectionError', 'ConnectTimeout', 'Connection refused',
        'Failed to establish', 'Name or service not known',
        'No route to host', 'Network is unreachable'))


def _json(response):
    try:
        if response.status_code == 204 or not response.content:
            return {}
        return response.json()
    except ValueError:
        raise exc.UnexpectedResponse(
            'non-JSON answer from %s %s (HTTP %d)'
            % (response.request.method, response.url, response.status_code),
            status=response.status_code)
    finally:
        response.close()


def _data(body):
    if isinstance(body, dict) and 'data' in body:
        return body['data']
    return body
