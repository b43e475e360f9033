"""Facade over the Nutanix v4 REST API: the only entry point the adapters use.

CONTRACT (agreed between the client, the emulator and the three drivers;
change it only together with its users):

* Every method returns plain ``dict``/``list`` objects holding the v4 JSON
  ``data`` exactly as the server sent it (camelCase keys, ``$objectType``
  kept), so field names are the ones of the official ``ntnx-*-py-client``
  models.
* Every write is asynchronous on the server (202 + task reference).  The
  facade methods wait for the task (``wait=True``, the default) and then
  return the resulting entity fetched with a GET; with ``wait=False`` they
  return the task reference dict (``{'extId': ...}``).  A failed task raises
  :class:`~nutanix_openstack.prism.exceptions.TaskFailed`; a task that does
  not end within the task timeout raises ``TaskTimeout``.
* ``progress_callback(percent:int)`` is called while a task runs.
* Errors are the hierarchy of :mod:`nutanix_openstack.prism.exceptions`
  (``NotFound``, ``Conflict``, ``PreconditionFailed``, ``ConnectionFailed``,
  ``TaskFailed``...).  Nothing here imports nova, cinder or glance.
* Byte streams are iterators of ``bytes``; nothing is held whole in memory.

Construction::

    client = PrismClient(endpoints=['https://10.0.0.1:9440'], username='u',
                         password='p', verify=True, ca_file=None, ...)
    client = PrismClient.from_conf(conf.nutanix)          # nova
    client = PrismClient.from_conf(conf, prefix='nutanix_')  # cinder/glance

The implementations live in one module per resource (``images.py``,
``vms.py``, ``volume_groups.py``, ``recovery_points.py``,
``replication.py``, ``clusters.py``, ``subnets.py``, ``tasks.py``; NIC JSON
in ``nics.py``) over the one HTTP session of ``session.py``; they are
re-exported here.
"""

from nutanix_openstack.prism import clusters
from nutanix_openstack.prism import images
from nutanix_openstack.prism import recovery_points
from nutanix_openstack.prism import replication
from nutanix_openstack.prism import session as session_mod
from nutanix_openstack.prism import subnets
from nutanix_openstack.prism import tasks
from nutanix_openstack.prism import vms
from nutanix_openstack.prism import volume_groups

ImagesAPI = images.ImagesAPI
VmsAPI = vms.VmsAPI
VolumeGroupsAPI = volume_groups.VolumeGroupsAPI
RecoveryPointsAPI = recovery_points.RecoveryPointsAPI
ReplicationAPI = replication.ReplicationAPI
ClustersAPI = clusters.ClustersAPI
TasksAPI = tasks.TasksAPI
SubnetsAPI = subnets.SubnetsAPI
derived_disk_image_name = images.derived_disk_image_name


class PrismClient(object):
    """One session (auth, TLS, failover, retries) shared by all resources."""

    images = None             # ImagesAPI
    vms = None                # VmsAPI
    volume_groups = None      # VolumeGroupsAPI
    recovery_points = None    # RecoveryPointsAPI
    replication = None        # ReplicationAPI
    clusters = None           # ClustersAPI
    tasks = None              # TasksAPI
    subnets = None            # SubnetsAPI

    def __init__(self, endpoints, username, password, verify=True,
                 ca_file=None, connect_timeout=10, read_timeout=120,
                 retries=3, retry_interval=1.0, task_timeout=3600,
                 task_poll_interval=1.0, chunk_size=4 * 1024 * 1024,
                 retry_max_interval=30.0, endpoint_down_time=60.0,
                 cluster=None, ambiguous_retries=3, lock=None):
        self.session = session_mod.Session(
            endpoints, username, password, verify=verify, ca_file=ca_file,
            connect_timeout=connect_timeout, read_timeout=read_timeout,
            retries=retries, retry_interval=retry_interval,
            retry_max_interval=retry_max_interval,
            endpoint_down_time=endpoint_down_time,
            ambiguous_retries=ambiguous_retries)
        self.cluster = cluster
        self.tasks = TasksAPI(self.session, timeout=task_timeout,
                              poll_interval=task_poll_interval)
        # lock(name): the cross-host lock of what must happen once per
        # cluster (see nutanix_openstack.coordination); default: this
        # process only.
        self.images = ImagesAPI(self.session, self.tasks,
                                chunk_size=chunk_size, lock=lock)
        self.vms = VmsAPI(self.session, self.tasks)
        self.volume_groups = VolumeGroupsAPI(self.session, self.tasks)
        self.recovery_points = RecoveryPointsAPI(self.session, self.tasks)
        self.replication = ReplicationAPI(self.session, self.tasks)
        self.clusters = ClustersAPI(self.session)
        self.subnets = SubnetsAPI(self.session, self.tasks)
        self._cluster_ext_id = None

    def __repr__(self):
        return '<PrismClient %s>' % self.session.endpoints

    @property
    def lock(self):
        """``lock(name)`` context manager shared by the resources."""
        return self.images.lock

    @lock.setter
    def lock(self, lock):
        self.images.lock = lock or images.local_lock

    @classmethod
    def from_conf(cls, conf_group, prefix='', **overrides):
        """Build a client from oslo.config options.

        Build from options registered by
        :func:`nutanix_openstack.prism.options.connection_opts(prefix)`;
        ``overrides`` replace single constructor arguments (a replication
        target's own endpoints and credentials).
        """
        def opt(name):
            return getattr(conf_group, prefix + name)
        kwargs = dict(endpoints=opt('endpoints'),
                      username=opt('username'),
                      password=opt('password'),
                      verify=opt('verify_ssl'),
                      ca_file=opt('ca_file'),
                      connect_timeout=opt('connect_timeout'),
                      read_timeout=opt('read_timeout'),
                      retries=opt('api_retries'),
                      retry_interval=opt('api_retry_interval'),
                      retry_max_interval=opt('api_retry_max_interval'),
                      endpoint_down_time=opt('endpoint_down_time'),
                      task_timeout=opt('task_timeout'),
                      task_poll_interval=opt('task_poll_interval'),
                      chunk_size=opt('transfer_chunk_size'),
                      cluster=opt('cluster'),
                      ambiguous_retries=opt('api_ambiguous_retries'))
        kwargs.update(overrides)
        return cls(**kwargs)

    def cluster_ext_id(self):
        """The extId of the cluster this client works on.

        extId of the configured cluster (option ``cluster``), or of the
        only non-Prism-Central cluster; looked up once.
        """
        if self._cluster_ext_id is None:
            self._cluster_ext_id = self.clusters.find_cluster(
                self.cluster)['extId']
        return self._cluster_ext_id

    def close(self):
        self.session.close()
