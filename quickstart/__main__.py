"""``python -m quickstart``: bring up the one-machine cloud and walk it.

    python -m quickstart            start, walk an operator's day, stop
    python -m quickstart --keep     start, walk, leave it running
    python -m quickstart --no-walk --keep   just a cloud to play with
    python -m quickstart --tempest  also run Tempest (tempest/*.txt lists)
    python -m quickstart --storage rbd   the emulator's disks on a one-node
                                         Ceph (tools/ceph.sh)
"""

import argparse
import os
import signal
import sys
import time

from quickstart import stack as stack_mod
from quickstart import walk as walk_mod


def parse_args(argv):
    p = argparse.ArgumentParser(prog='quickstart', description=__doc__,
                                formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument('--workdir', default=os.path.join(os.getcwd(), '.state',
                                                     'quickstart'),
                   help='where state, configs and logs go (wiped first)')
    p.add_argument('--keep', action='store_true',
                   help='leave the cloud running after the walk')
    p.add_argument('--no-walk', action='store_true',
                   help='only start the services')
    p.add_argument('--tempest', action='store_true',
                   help='after the walk, run Tempest\'s image, volume and '
                        'server API tests (tempest/include-list.txt minus '
                        'tempest/skip-list.txt); needs tempest installed')
    p.add_argument('--horizon', action='store_true',
                   help='also start the dashboard (Horizon) on 127.0.0.1 '
                        '(port 8080, or from --port-base)')
    p.add_argument('--port-base', type=int, default=0,
                   help='use consecutive ports from this one instead of '
                        'the services\' usual ports')
    p.add_argument('--image', help='disk image file for the walk (default: '
                                   'a small qcow2 made with qemu-img)')
    p.add_argument('--storage', choices=('local', 'rbd'), default='local',
                   help='where the emulator keeps disk bytes: its local '
                        'chunk store, or RBD images in a one-node Ceph on '
                        'loopback that tools/ceph.sh starts in the work '
                        'dir and wipes at the end')
    p.add_argument('--nutanix-endpoint',
                   help='a real cluster\'s Prism Central URL instead of the '
                        'emulator (with --nutanix-username, '
                        '--nutanix-password, --nutanix-container)')
    p.add_argument('--nutanix-username')
    p.add_argument('--nutanix-password')
    p.add_argument('--nutanix-container')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    import shutil
    shutil.rmtree(args.workdir, ignore_errors=True)
    nutanix = None
    if args.nutanix_endpoint:
        nutanix = {'endpoint': args.nutanix_endpoint,
                   'username': args.nutanix_username,
                   'password': args.nutanix_password,
                   'storage_container': args.nutanix_container,
                   'verify_ssl': True}
    stack = stack_mod.Stack(args.workdir,
                            ports=stack_mod.ports_from_base(args.port_base),
                            nutanix=nutanix, storage=args.storage,
                            horizon=args.horizon)

    def on_signal(signum, frame):
        raise KeyboardInterrupt()
    signal.signal(signal.SIGTERM, on_signal)

    status = 0
    start = time.time()
    try:
        stack.start()
        print('\nAll services up in %.0fs.' % (time.time() - start))
        if not args.no_walk:
            walk = walk_mod.Walk(stack, image_path=args.image)
            walk.run()
            print('\nStep timings:')
            for name, took in stack.timings + walk.timings:
                print('  %7.1fs  %s' % (took, name))
        if args.tempest:
            from quickstart import tempest_run
            print('\nRunning Tempest (log: %s) ...'
                  % stack.lay.path('logs', 'tempest.log'))
            results = tempest_run.TempestRun(stack).run()
            print(results.summary())
            if results.failures() or not results.status:
                status = 1
        if args.keep:
            rc = os.path.join(args.workdir, 'openrc')
            with open(rc, 'w') as f:
                f.write(stack.openrc())
            print('\n' + stack.banner(rc))
            while True:
                time.sleep(3600)
    except KeyboardInterrupt:
        print('\nInterrupted.')
        status = 130
    except Exception as e:
        print('\nFAILED: %s' % e)
        print('Logs: %s' % stack.lay.path('logs'))
        status = 1
    finally:
        print('Stopping services...')
        stack.stop()
    return status


if __name__ == '__main__':
    sys.exit(main())
