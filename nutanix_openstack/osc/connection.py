"""Which cluster the plugin talks to, and with which credentials.

Three sources, most specific first:

* ``--nutanix-endpoint`` / ``--nutanix-username`` (and the password from
  ``NUTANIX_PASSWORD``; there is deliberately no password option, so it
  never lands in shell history or ``ps``);
* the environment: ``NUTANIX_ENDPOINT``, ``NUTANIX_USERNAME``,
  ``NUTANIX_PASSWORD``;
* ``--glance-config FILE --glance-store BACKEND``: the Glance store's own
  ``nutanix_*`` options, read with the store's option registration
  (:func:`nutanix_openstack.glance.options.store_opts`), so that the
  image lands on exactly the cluster the store serves.

Anything given on the command line or in the environment overrides the
value read from the Glance configuration.
"""

import os

from oslo_config import cfg

from nutanix_openstack.glance import options as store_options
from nutanix_openstack.i18n import _
from nutanix_openstack.prism import options as prism_options

ENV_ENDPOINT = 'NUTANIX_ENDPOINT'
ENV_USERNAME = 'NUTANIX_USERNAME'
ENV_PASSWORD = 'NUTANIX_PASSWORD'
SINGLE_STORE_GROUP = 'glance_store'


class ConnectionError_(Exception):
    """The cluster connection cannot be set up from the given sources."""


class Connection(object):
    """Resolved connection settings.

    :ivar conf: an oslo.config group holding the ``nutanix_*`` connection
        and store options (defaults where nothing was given)
    :ivar container: storage container name or extId, or None
    :ivar source: where the settings came from, for messages
    """

    def __init__(self, conf, container, source, lock=None):
        self.conf = conf
        self.container = container
        self.source = source
        # lock(name): the cross-host lock of the Glance configuration's
        # [coordination] backend_url (see nutanix_openstack.coordination).
        self.lock = lock

    def __repr__(self):
        # Never show the password.
        from nutanix_openstack.prism import redact
        return '<Connection %s via %s>' % (
            [redact.strip_userinfo(e)
             for e in self.conf.nutanix_endpoints or []], self.source)

    def make_client(self):
        """A PrismClient for these settings."""
        from nutanix_openstack.prism import client as prism_client
        client = prism_client.PrismClient.from_conf(
            self.conf, prefix=store_options.PREFIX)
        if self.lock is not None:
            client.lock = self.lock
        return client


def _load_glance_config(path, group):
    """Register the store's options under ``group`` and parse ``path``.

    A private ConfigOpts: nothing leaks into (or from) a global CONF, and
    the many other options of glance-api.conf are simply not registered.
    """
    if not os.path.isfile(path):
        raise ConnectionError_(_('Glance configuration %s not found') % path)
    conf = cfg.ConfigOpts()
    conf.register_opts(store_options.store_opts(), group=group)
    try:
        conf(args=[], project='glance', default_config_files=[path],
             default_config_dirs=[])
        # Read every option now so a bad value fails here, with its name.
        group_conf = conf[group]
        for opt in store_options.store_opts():
            getattr(group_conf, opt.dest)
    except (cfg.Error, ValueError) as e:
        raise ConnectionError_(_('cannot read the nutanix options of '
                                 '[%(g)s] in %(p)s: %(e)s') %
                               {'g': group, 'p': path, 'e': e})
    return conf


def resolve(endpoint=None, username=None, container=None, cluster=None,
            insecure=False, ca_file=None, glance_config=None,
            glance_store=None, environ=None):
    """Build :class:`Connection` from options, environment, Glance config.

    :param glance_store: the backend section of a multi-store Glance
        (``enabled_backends = <name>:nutanix``); None means the single-store
        ``[glance_store]`` section
    :raises ConnectionError_: with a message naming what is missing
    """
    environ = os.environ if environ is None else environ
    group = glance_store or SINGLE_STORE_GROUP
    if glance_config:
        conf = _load_glance_config(glance_config, group)
        source = _('[%(g)s] of %(p)s') % {'g': group, 'p': glance_config}
    else:
        conf = cfg.ConfigOpts()
        conf.register_opts(store_options.store_opts(), group=group)
        conf(args=[], default_config_files=[], default_config_dirs=[])
        source = _('command line and environment')

    overrides = {}
    endpoint = endpoint or environ.get(ENV_ENDPOINT)
    if endpoint:
        overrides['nutanix_endpoints'] = [
            e.strip() for e in endpoint.split(',') if e.strip()]
    username = username or environ.get(ENV_USERNAME)
    if username:
        overrides['nutanix_username'] = username
    if environ.get(ENV_PASSWORD):
        overrides['nutanix_password'] = environ[ENV_PASSWORD]
    if cluster:
        overrides['nutanix_cluster'] = cluster
    if container:
        overrides['nutanix_storage_container'] = container
    if insecure:
        overrides['nutanix_verify_ssl'] = False
    if ca_file:
        overrides['nutanix_ca_file'] = ca_file
    for name, value in overrides.items():
        conf.set_override(name, value, group=group)

    group_conf = conf[group]
    missing = []
    if not group_conf.nutanix_endpoints:
        missing.append('--nutanix-endpoint / %s' % ENV_ENDPOINT)
    if not group_conf.nutanix_username:
        missing.append('--nutanix-username / %s' % ENV_USERNAME)
    if not group_conf.nutanix_password:
        missing.append(ENV_PASSWORD)
    if missing and glance_config:
        raise ConnectionError_(
            _('%(src)s does not set %(m)s: name the section of the '
              'Nutanix store with --glance-store (multi-store backend id), '
              'or give the missing values') %
            {'src': source, 'm': ', '.join(missing)})
    if missing:
        raise ConnectionError_(
            _('no cluster connection settings for: %(m)s (or give '
              '--glance-config and --glance-store to use those of the '
              'Glance store)') % {'m': ', '.join(missing)})
    # The raw disk an import derives is locked as glance-api locks it.
    from nutanix_openstack import coordination
    coordinator = coordination.Coordinator.from_conf(conf)
    return Connection(group_conf, group_conf.nutanix_storage_container,
                      source, lock=coordinator.lock)


def connection_option_names():
    """The connection option names the store reads (for docs and tests)."""
    return [store_options.PREFIX + o.name
            for o in prism_options.connection_opts()]
