"""One "host" asking for an image's raw disk (run as its own process).

    python -m tests.functional.prism.coordination_worker ARGS_JSON

ARGS_JSON: endpoint, username, password, backend_url, image, go (a file
whose existence starts the call, so that several workers start together),
and optional lock_timeout.  Prints one JSON line: ``{"derived": extId}``
or ``{"error": class name, "message": ...}``.
"""

import json
import os
import sys
import time

from nutanix_openstack import coordination
from nutanix_openstack.prism import client as prism_client
from nutanix_openstack.prism import exceptions as exc


def main(argv):
    args = json.loads(argv[1])
    coordinator = coordination.Coordinator(
        backend_url=args['backend_url'],
        lock_timeout=args.get('lock_timeout', 60))
    client = prism_client.PrismClient(
        endpoints=[args['endpoint']], username=args['username'],
        password=args['password'], verify=False, task_poll_interval=0.05,
        retry_interval=0.05, lock=coordinator.lock)
    deadline = time.monotonic() + 30
    while args.get('go') and not os.path.exists(args['go']):
        if time.monotonic() > deadline:
            raise SystemExit('no go signal')
        time.sleep(0.01)
    try:
        result = {'derived': client.images.ensure_disk_image(args['image'])}
    except exc.PrismError as e:
        result = {'error': type(e).__name__, 'message': str(e)}
    finally:
        coordinator.stop()
        client.close()
    print(json.dumps(result), flush=True)


if __name__ == '__main__':
    main(sys.argv)
