"""``nutanix-emulator --config-file F``: run the emulator as a service."""

import signal
import sys

from oslo_config import cfg
from oslo_log import log as logging

from nutanix_openstack.emulator import app as app_mod
from nutanix_openstack.emulator import config
from nutanix_openstack.emulator import console
from nutanix_openstack.emulator import datadir_lock
from nutanix_openstack.emulator import server
from nutanix_openstack.emulator.storage import errors as storage_errors

LOG = logging.getLogger(__name__)


def build_conf(argv):
    conf = cfg.ConfigOpts()
    config.register_opts(conf)
    logging.register_options(conf)
    conf(argv, project='nutanix-emulator', prog='nutanix-emulator')
    return conf


def main(argv=None):
    conf = build_conf(sys.argv[1:] if argv is None else argv)
    logging.setup(conf, 'nutanix-emulator')
    opts = conf[config.GROUP]
    try:
        app = app_mod.create_app(conf)
    except storage_errors.StorageError as exc:
        # Ceph down, the pool missing, python-rbd not installed: refuse
        # to start, saying why.
        LOG.error("Cannot start: %s", exc)
        print('nutanix-emulator: cannot start: %s' % exc, file=sys.stderr,
              flush=True)
        return 1
    except datadir_lock.DataDirInUse as exc:
        LOG.error("%s", exc)
        print(exc, file=sys.stderr, flush=True)
        return 1
    srv = server.EmulatorServer(
        app, opts.listen_host, opts.listen_port,
        opts.tls_cert_file, opts.tls_key_file,
        threads=opts.server_threads,
        socket_timeout=opts.client_socket_timeout)
    # Port 0 means "any": say which one was chosen, on stdout too, for
    # scripts that start us.
    print('nutanix-emulator listening on %s' % srv.url, flush=True)
    consoles = None
    if opts.console_port is not None:
        backend = app.extensions['nutanix_emulator']
        consoles = console.ConsoleServer(
            backend.state, backend.console_tokens, opts.listen_host,
            opts.console_port).start()
        print('nutanix-emulator VM consoles on %s:%d'
              % (opts.listen_host, consoles.port), flush=True)

    def _stop(signum, frame):
        LOG.info("Signal %d received, stopping", signum)
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, _stop)
    try:
        srv.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        srv.shutdown()
        if consoles is not None:
            consoles.stop()
        app.extensions['nutanix_emulator'].close()
    return 0


if __name__ == '__main__':
    sys.exit(main())
