"""oslo.config options of the emulator (``[emulator]`` and ``[storage]``)."""

from oslo_config import cfg

GROUP = 'emulator'
STORAGE_GROUP = 'storage'

emulator_opts = [
    cfg.HostAddressOpt(
        'listen_host', default='127.0.0.1',
        help='Address the emulator listens on. Use 0.0.0.0 to accept '
             'connections from other hosts (for example DevStack nodes).'),
    cfg.PortOpt(
        'listen_port', default=9440,
        help='TCP port the emulator listens on. Prism Central uses 9440. '
             '0 picks a free port (the chosen port is logged).'),
    cfg.IntOpt(
        'server_threads', default=32, min=1,
        help='Threads of the WSGI server (cheroot) serving requests in the '
             'one emulator process. Idle keep-alive connections do not '
             'hold a thread; a download or upload in progress does. The '
             'emulator serves a data_dir from one process only (a second '
             'process on the same data_dir refuses to start): scale with '
             'threads, not worker processes.'),
    cfg.IntOpt(
        'client_socket_timeout', default=300, min=1,
        help='Seconds a client connection may stay silent in the middle of '
             'a request (a stalled upload) before the server closes it.'),
    cfg.IntOpt(
        'task_threads', default=64, min=1,
        help='Threads running asynchronous tasks (task_mode=async). Tasks '
             'beyond this many wait in QUEUED status for a free thread.'),
    cfg.StrOpt(
        'data_dir', default='/var/lib/nutanix-emulator',
        help='Directory holding the emulator state: state.sqlite (metadata, '
             'SQLite in WAL mode) and disks/ (the chunked copy-on-write '
             'disk store). Created if missing.'),
    cfg.StrOpt(
        'username', default='admin',
        help='User name accepted by HTTP basic authentication, on the '
             'Nutanix API and on the admin API alike.'),
    cfg.StrOpt(
        'password', default='Nutanix/4u', secret=True,
        help='Password accepted by HTTP basic authentication.'),
    cfg.PortOpt(
        'console_port',
        help='TCP port of the VM consoles (on listen_host): an RFB (VNC) '
             'server that nova-novncproxy reaches with the path and token '
             'of a console (``CONNECT /vnc/vm/<extId>/proxy?token=...``, '
             'token from the generate-console-token action) and that '
             'draws the VM\'s name, extId and power state.  Unset: no '
             'console server (console tokens are still handed out).  0 '
             'picks a free port (logged).  Point the Nova driver\'s '
             '``[nutanix] console_proxy_host``/``console_proxy_port`` at '
             'it.'),
    cfg.StrOpt(
        'tls_cert_file',
        help='PEM certificate for HTTPS. When both tls_cert_file and '
             'tls_key_file are set the emulator serves HTTPS only; '
             'otherwise plain HTTP. Related options: tls_key_file.'),
    cfg.StrOpt(
        'tls_key_file',
        help='PEM private key matching tls_cert_file.'),
    cfg.StrOpt(
        'inventory_file',
        help='YAML or JSON file describing the emulated cluster: cluster '
             'name and extId, hosts (CPU, memory) and storage containers '
             '(name, extId, capacity). See '
             'etc/nutanix-emulator-inventory.yaml.sample. When unset a '
             'built-in single-cluster inventory is used.'),
    cfg.StrOpt(
        'task_mode', default='async', choices=['immediate', 'async'],
        help='How write tasks run. "async": in a background thread, like '
             'the real cluster (clients poll the task). "immediate": the '
             'task completes before the 202 answer is sent (fast tests). '
             'Can be changed at run time through the admin API.'),
    cfg.FloatOpt(
        'task_delay', default=0.0, min=0.0,
        help='Artificial delay in seconds before each asynchronous task '
             'starts, to exercise client polling. Only used with '
             'task_mode=async.'),
    cfg.IntOpt(
        'chunk_size', default=4 * 1024 * 1024, min=4096,
        help='Chunk size in bytes of the copy-on-write disk store. Changing '
             'it for an existing data_dir is not supported. With '
             '[storage] backend = rbd it is the RBD object size of new '
             'images (a power of two, 4 KiB to 32 MiB).'),
    cfg.IntOpt(
        'url_fetch_timeout', default=60, min=1,
        help='Connect/read timeout in seconds when the emulator fetches the '
             'URL of an image created from a UrlSource.'),
    cfg.BoolOpt(
        'allow_local_url_sources', default=False,
        help='Let images be created from URLs whose host is a loopback, '
             'link-local, unspecified, multicast or reserved address, or '
             'one of the addresses of the emulator\'s own machine. Off by '
             'default: an image create must not make the emulator reach '
             'its own admin API or local services (SSRF). The /file URL of '
             'one of the emulator\'s own images is always allowed (clients '
             'derive raw disk images from it). Tests and one-machine '
             'clouds that serve image files on 127.0.0.1 turn it on.'),
    cfg.StrOpt(
        'qemu_img', default='qemu-img',
        help='qemu-img binary used to check (qemu-img info, check and '
             'map) and convert qcow2/vmdk/vhdx DISK_IMAGE bytes to raw on '
             'import.'),
    cfg.IntOpt(
        'qemu_img_timeout', default=3600, min=1,
        help='Seconds one qemu-img run (the integrity check of an '
             'imported qcow2/vmdk/vhdx image, or its conversion to raw) may '
             'take before the import fails.'),
    cfg.IntOpt(
        'replication_timeout', default=60, min=1,
        help='Connect/read timeout in seconds of each request one emulator '
             'sends the emulator of a paired cluster while replicating a '
             'recovery point. Related options: replication_retries.'),
    cfg.IntOpt(
        'replication_retries', default=3, min=0,
        help='How many times a replication request that failed to connect '
             'or got 429/502/503/504 is retried before the replication '
             'fails (its partial copy is then removed). Related options: '
             'replication_retry_interval.'),
    cfg.FloatOpt(
        'replication_retry_interval', default=1.0, min=0.0,
        help='Seconds between two attempts of a replication request.'),
    cfg.IntOpt(
        'replication_block_size', default=4096, min=512,
        help='Granularity in bytes of changed regions: an incremental '
             'replication compares the chunks that may have changed block '
             'by block and ships only the blocks that differ. Also the '
             'default blockSizeByte of compute-changed-regions.'),
    cfg.IntOpt(
        'replication_transfer_size', default=4 * 1024 * 1024, min=4096,
        help='Largest number of bytes sent in one replication request.'),
    cfg.IntOpt(
        'replication_session_timeout', default=3600, min=1,
        help='Seconds after which an incoming replication that was never '
             'committed (its source died) is removed with its staging '
             'disks. Unfinished incoming replications are also removed '
             'when the emulator starts.'),
]


storage_opts = [
    cfg.StrOpt(
        'backend', default='local', choices=[
            ('local', 'copy-on-write chunk files under data_dir/disks '
                      '(embedded, the default)'),
            ('rbd', 'every disk an RBD image in a Ceph pool: snapshots '
                    'and clones are RBD snapshots and clone v2 clones')],
        help='Where the emulator keeps disk bytes. Image, VM and volume '
             'group metadata stays in data_dir/state.sqlite either way. '
             'Related options: ceph_conf, rbd_user, rbd_pool.'),
    cfg.StrOpt(
        'ceph_conf', default='/etc/ceph/ceph.conf',
        help='Ceph configuration file (monitors, keyring) used with '
             'backend = rbd.'),
    cfg.StrOpt(
        'rbd_user',
        help='Ceph client id (without "client.") used with backend = rbd; '
             'it needs "profile rbd" on rbd_pool. Unset: client.admin.'),
    cfg.StrOpt(
        'rbd_pool', default='nutanix-emulator',
        help='Ceph pool holding the disks with backend = rbd. It must '
             'exist (ceph osd pool create, rbd pool init); the emulator '
             'refuses to start without it. Give the emulator a pool of '
             'its own: an admin reset removes every image in it.'),
    cfg.IntOpt(
        'rbd_connect_timeout', default=10, min=1,
        help='Seconds to wait for the Ceph monitors at start (the emulator '
             'refuses to start after that) and for any later monitor or '
             'OSD operation.'),
    cfg.IntOpt(
        'rbd_busy_timeout', default=60, min=0,
        help='Seconds a delete retries while the RBD image still has a '
             'watcher (a client killed with the image open keeps one '
             'until the OSD times it out).'),
    cfg.FloatOpt(
        'rbd_busy_interval', default=0.5, min=0.01,
        help='Seconds between those retries. Related options: '
             'rbd_busy_timeout.'),
]


def register_opts(conf):
    conf.register_opts(emulator_opts, group=GROUP)
    conf.register_opts(storage_opts, group=STORAGE_GROUP)


def make_conf(args=None, **overrides):
    """A private ConfigOpts (never the global CONF) for the emulator.

    The options are registered, parsed from ``args`` and then overridden:
    ``name=value`` for ``[emulator]``, ``storage_<name>=value`` for
    ``[storage]``.
    """
    conf = cfg.ConfigOpts()
    register_opts(conf)
    conf(args or [], project='nutanix-emulator', default_config_files=[])
    for name, value in overrides.items():
        if name.startswith('storage_'):
            conf.set_override(name[len('storage_'):], value,
                              group=STORAGE_GROUP)
        else:
            conf.set_override(name, value, group=GROUP)
    return conf


def list_opts():
    return [(GROUP, emulator_opts), (STORAGE_GROUP, storage_opts)]
