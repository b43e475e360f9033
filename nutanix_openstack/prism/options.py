"""oslo.config options of the Prism client.

The drivers register :func:`connection_opts` in their own section: Glance
and Cinder with the prefix ``nutanix_`` in the store/backend section, Nova
with no prefix in ``[nutanix]``.  :func:`list_opts` feeds
oslo-config-generator (namespace ``nutanix_openstack.prism``).
"""

import copy

from oslo_config import cfg

_connection_opts = [
    cfg.ListOpt('endpoints',
                default=[],
                help='Prism Central (or Prism Element) API endpoints, tried '
                     'in order; an endpoint that refuses connections or '
                     'times out is skipped for ``endpoint_down_time`` '
                     'seconds and the next one is used. Possible values: '
                     'URLs such as https://10.0.0.1:9440; a bare '
                     'host[:port] means https and port 9440. Related '
                     'options: verify_ssl, ca_file.'),
    cfg.StrOpt('username',
               help='User name for HTTP basic authentication against the '
                    'Prism API.'),
    cfg.StrOpt('password',
               secret=True,
               help='Password of ``username``. Never logged.'),
    cfg.BoolOpt('verify_ssl',
                default=True,
                help='Verify the TLS certificate of the endpoints. Turn off '
                     'only for test clusters with self-signed certificates; '
                     'prefer ``ca_file``. Related options: ca_file.'),
    cfg.StrOpt('ca_file',
               help='Path to a CA bundle (PEM) used to verify the '
                    'endpoints\' certificates instead of the system CA '
                    'store. Ignored when verify_ssl is False.'),
    cfg.FloatOpt('connect_timeout',
                 default=10.0,
                 min=0.1,
                 help='Seconds to wait for a TCP/TLS connection to an '
                      'endpoint before failing over to the next one.'),
    cfg.FloatOpt('read_timeout',
                 default=120.0,
                 min=0.1,
                 help='Seconds to wait for the server between two reads of '
                      'a response (not the whole transfer).'),
    cfg.IntOpt('api_retries',
               default=3,
               min=0,
               help='How many times a failed call is retried: connection '
                    'errors and HTTP 429/502/503/504 answers. Writes are '
                    'retried with the same NTNX-Request-Id, so the server '
                    'never applies them twice. 0 disables retries.'),
    cfg.IntOpt('api_ambiguous_retries',
               default=3,
               min=0,
               help='When every attempt of a create ended in a dropped '
                    'connection (the cluster may have made the object), '
                    'how many more rounds of the same request (same '
                    'NTNX-Request-Id, so the cluster answers with the task '
                    'of the first attempt) are sent before the object is '
                    'looked up by its name. Each round retries up to '
                    'api_retries times. 0 goes straight to the lookup. '
                    'Related options: api_retries, api_retry_interval.'),
    cfg.FloatOpt('api_retry_interval',
                 default=1.0,
                 min=0,
                 help='Seconds before the first retry; doubled for each '
                      'further retry up to api_retry_max_interval. A '
                      'Retry-After header from the server takes '
                      'precedence.'),
    cfg.FloatOpt('api_retry_max_interval',
                 default=30.0,
                 min=0,
                 help='Upper bound in seconds of the wait between two '
                      'retries (also caps Retry-After).'),
    cfg.FloatOpt('endpoint_down_time',
                 default=60.0,
                 min=0,
                 help='Seconds an endpoint that failed to connect is '
                      'remembered as down and tried only after the others.'),
    cfg.IntOpt('task_timeout',
               default=3600,
               min=1,
               help='Seconds to wait for an asynchronous Prism task (image '
                    'import, clone, snapshot...) before giving up with '
                    'TaskTimeout. The task keeps running on the cluster.'),
    cfg.FloatOpt('task_poll_interval',
                 default=1.0,
                 min=0.01,
                 help='Seconds between two polls of a running task.'),
    cfg.IntOpt('transfer_chunk_size',
               default=4 * 1024 * 1024,
               min=4096,
               help='Size in bytes of the chunks read from and written to '
                    'the network when image bytes are streamed.'),
    cfg.StrOpt('cluster',
               help='Name or extId of the Prism Element cluster to use. '
                    'Default: the only cluster that is not Prism Central; '
                    'required when Prism Central manages several.'),
]


def connection_opts(prefix=''):
    """NEW Opt objects for the connection options, names prefixed."""
    opts = []
    for opt in _connection_opts:
        new = copy.deepcopy(opt)
        if prefix:
            new.name = prefix + opt.name
            new.dest = prefix + opt.dest
        opts.append(new)
    return opts


def list_opts():
    """For oslo-config-generator: the options as Nova registers them."""
    return [('nutanix', connection_opts())]
