"""Options of the ``nutanix`` glance_store driver.

They live in ``[glance_store]`` (single store) or in the store's own group
(multi-store, ``enabled_backends = cluster:nutanix`` -> ``[cluster]``).
The connection options come from :mod:`nutanix_openstack.prism.options`
with the ``nutanix_`` prefix, as for Cinder, so one cluster is configured
with the same option names in both services.

This module must stay cheap to import: glance_store loads every driver of
the ``glance_store.drivers`` entry point to list its options, and a store
whose module fails to import is skipped silently.
"""

from oslo_config import cfg

from nutanix_openstack.prism import options as prism_options

PREFIX = 'nutanix_'

_STORE_OPTS = [
    cfg.StrOpt('nutanix_storage_container',
               help="""
Storage container whose capacity backs the image uploads.

The name or extId of a storage container of the cluster selected by
``nutanix_cluster``.  ``configure`` checks that it exists (the store is
left read-only with a clear error in the log when it does not) and its
free capacity is checked before an upload of known size starts, so that a
full container fails fast with ``StorageFull`` instead of after the bytes
went over the wire.  The image create call of the API (v3 ``POST
images``) has no container field: the cluster's image service chooses
where image bytes land, so set this to that container.

Possible values:
    * The name of a storage container, e.g. ``default-container``
    * The extId (UUID) of a storage container
    * Unset: the cluster's default image placement

Related options:
    * nutanix_cluster
"""),
    cfg.IntOpt('nutanix_progress_interval',
               default=30, min=0,
               help="""
Seconds between two progress lines in the glance-api log while an image
is uploaded to the cluster.

The cluster's own task for the upload reports progress too (it can be
followed in Prism).  0 logs progress only at the start and at the end.

Possible values:
    * 0 or a positive integer (seconds)

Related options:
    * None
"""),
]


def store_opts():
    """NEW option objects: connection options, then the store's own.

    The connection options carry the ``nutanix_`` prefix.
    """
    return prism_options.connection_opts(prefix=PREFIX) + list(_STORE_OPTS)


#: Every option the store registers (the store's ``OPTIONS``).
OPTIONS = store_opts()


def list_opts():
    """oslo-config-generator entry point (``nutanix_openstack.glance``).

    Single-store deployments set these in ``[glance_store]``; in
    multi-store mode the same names go into the store's own group.
    """
    from nutanix_openstack import coordination
    return [('glance_store', OPTIONS)] + coordination.list_opts()
