#!/usr/bin/env bash
# The quick start: a one-machine OpenStack (Keystone, Glance, Placement,
# Neutron, Nova, Cinder from PyPI) with our plugins on the Nutanix emulator,
# then an operator's day with the real `openstack` CLI.
#
#   bash tools/quickstart.sh            start, walk, stop
#   bash tools/quickstart.sh --keep     leave it running afterwards
#   bash tools/quickstart.sh --storage rbd   emulator disks on a one-node Ceph
#   bash tools/quickstart.sh --help     all options
#
# Needs Python 3.11; as root it installs the Debian packages it needs
# (qemu-utils, rabbitmq-server, mariadb-server, open-iscsi).  Everything listens on
# 127.0.0.1 only; state and logs go to .state/quickstart/.
set -u -o pipefail
cd "$(dirname "$0")/.."
. tools/lib/venv.sh
# open-iscsi: Nova's volume connector carries the host's initiator name.
ensure_debs qemu-utils:qemu-img rabbitmq-server:/usr/lib/rabbitmq/bin/rabbitmq-server \
    mariadb-server:mariadbd open-iscsi:/etc/iscsi/initiatorname.iscsi \
    novnc:/usr/share/novnc/vnc_lite.html
ensure_venv
# --storage rbd: python-rbd from Debian, linked into the virtualenv.
case " $* " in
*" --storage rbd "*|*" --storage=rbd "*) ensure_ceph_python || exit 1 ;;
esac
exec "$VENV/bin/python" -m quickstart "$@"
