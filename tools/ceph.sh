#!/usr/bin/env bash
# A single-node Ceph on loopback for the emulator's RBD disk store: one
# monitor, one manager and one OSD on memstore (data in the OSD's memory),
# every daemon bound to 127.0.0.1.  For tests and the quick start only.
#
#   bash tools/ceph.sh start    install the packages (as root, apt-get), start
#                               the daemons, wait for HEALTH_OK, create the
#                               pool and the emulator's client key
#   bash tools/ceph.sh stop     stop the daemons and wipe their directory
#   bash tools/ceph.sh status   `ceph -s`
#   bash tools/ceph.sh env      print the shell variables tests read
#
# Settings (environment):
#   NUTANIX_CEPH_DIR   state, logs and ceph.conf (default .state/ceph)
#   NUTANIX_CEPH_PORT  monitor port, msgr2 (default 23300)
#   NUTANIX_CEPH_POOL  RBD pool (default nutanix-emulator)
#   NUTANIX_CEPH_USER  client id of the emulator (default nutanix-emulator)
#   NUTANIX_CEPH_HEALTH_TIMEOUT  seconds to wait for HEALTH_OK (default 120)
set -u -o pipefail
cd "$(dirname "$0")/.."
TOP=$(pwd)
. tools/lib/venv.sh

DIR=${NUTANIX_CEPH_DIR:-$TOP/.state/ceph}
PORT=${NUTANIX_CEPH_PORT:-23300}
POOL=${NUTANIX_CEPH_POOL:-nutanix-emulator}
CLIENT=${NUTANIX_CEPH_USER:-nutanix-emulator}
HEALTH_TIMEOUT=${NUTANIX_CEPH_HEALTH_TIMEOUT:-120}
CONF=$DIR/ceph.conf

ceph_cli() { timeout 30 ceph -c "$CONF" "$@"; }

write_conf() {
    local fsid=$1
    mkdir -p "$DIR"/{run,log,mon,mgr,osd}
    cat > "$CONF" <<EOF
[global]
fsid = $fsid
mon_host = [v2:127.0.0.1:$PORT]
public_addr = 127.0.0.1
public_network = 127.0.0.0/8
ms_bind_msgr1 = false
ms_bind_ipv6 = false
auth_cluster_required = cephx
auth_service_required = cephx
auth_client_required = cephx
auth_allow_insecure_global_id_reclaim = false
keyring = $DIR/keyring
run_dir = $DIR/run
log_file = $DIR/log/\$name.log
admin_socket = $DIR/run/\$name.asok
pid_file = $DIR/run/\$name.pid
mon_data = $DIR/mon/\$cluster-\$id
mgr_data = $DIR/mgr/\$cluster-\$id
osd_data = $DIR/osd/\$cluster-\$id
osd_pool_default_size = 1
osd_pool_default_min_size = 1
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
mon_allow_pool_size_one = true
mon_allow_pool_delete = true
mon_warn_on_pool_no_redundancy = false
osd_crush_chooseleaf_type = 0
crash_dir = $DIR/crash
[mon]
# Snapshot ids come from the monitor: every RBD snapshot and clone removal
# waits for a Paxos proposal, 1 s apart by default.  A one-monitor test
# cluster proposes at once.
paxos_propose_interval = 0.01
paxos_min_wait = 0.01
mon_data_avail_warn = 1
mon_data_avail_crit = 0
[osd]
# A client killed with its images open keeps their watches (and so blocks
# their removal) this many seconds.
osd_client_watch_timeout = 5
osd_objectstore = memstore
memstore_device_bytes = 17179869184
osd_class_update_on_start = false
osd_max_object_name_len = 256
osd_max_object_namespace_len = 64
[mgr]
mgr_initial_modules = iostat
[client]
rbd_default_clone_format = 2
rbd_cache = false
EOF
}

start() {
    ensure_debs ceph-mon:ceph-mon ceph-mgr:ceph-mgr ceph-osd:ceph-osd \
        ceph-common:ceph python3-rbd:/usr/lib/python3/dist-packages/rbd.cpython-311-x86_64-linux-gnu.so
    for cmd in ceph-mon ceph-mgr ceph-osd ceph-authtool monmaptool; do
        command -v "$cmd" >/dev/null || {
            echo "ERROR: $cmd missing: apt-get install ceph-mon ceph-mgr ceph-osd" >&2
            exit 1
        }
    done
    if [ -e "$DIR/run/mon.a.pid" ]; then
        echo "a Ceph is already set up in $DIR: bash tools/ceph.sh stop first" >&2
        exit 1
    fi
    rm -rf "$DIR"
    local fsid osd_uuid started
    fsid=$(uuidgen)
    osd_uuid=$(uuidgen)
    started=$(date +%s)
    write_conf "$fsid"
    ceph-authtool --create-keyring "$DIR/mon.keyring" --gen-key -n mon. \
        --cap mon 'allow *' >/dev/null || exit 1
    ceph-authtool --create-keyring "$DIR/keyring" --gen-key -n client.admin \
        --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' \
        --cap mds 'allow *' >/dev/null || exit 1
    ceph-authtool "$DIR/mon.keyring" --import-keyring "$DIR/keyring" >/dev/null
    monmaptool --create --addv a "[v2:127.0.0.1:$PORT]" --fsid "$fsid" \
        "$DIR/monmap" >/dev/null || exit 1
    ceph-mon -c "$CONF" --mkfs -i a --monmap "$DIR/monmap" \
        --keyring "$DIR/mon.keyring" || exit 1
    ceph-mon -c "$CONF" -i a || exit 1
    ceph_cli config set mon auth_allow_insecure_global_id_reclaim false
    ceph_cli osd set-require-min-compat-client mimic >/dev/null || exit 1

    mkdir -p "$DIR/mgr/ceph-x"
    ceph_cli auth get-or-create mgr.x mon 'allow profile mgr' osd 'allow *' \
        mds 'allow *' -o "$DIR/mgr/ceph-x/keyring" || exit 1
    ceph-mgr -c "$CONF" -i x --keyring "$DIR/mgr/ceph-x/keyring" || exit 1

    local id
    id=$(ceph_cli osd new "$osd_uuid") || exit 1
    mkdir -p "$DIR/osd/ceph-$id"
    ceph-osd -c "$CONF" -i "$id" --mkfs --mkkey --no-mon-config --osd-uuid "$osd_uuid" \
        --keyring "$DIR/osd/ceph-$id/keyring" 2>"$DIR/log/osd-mkfs.log" || {
        cat "$DIR/log/osd-mkfs.log" >&2; exit 1; }
    ceph_cli auth add "osd.$id" osd 'allow *' mon 'allow profile osd' \
        mgr 'allow profile osd' -i "$DIR/osd/ceph-$id/keyring" || exit 1
    ceph-osd -c "$CONF" -i "$id" --keyring "$DIR/osd/ceph-$id/keyring" || exit 1

    ceph_cli osd pool create "$POOL" 8 8 >/dev/null || exit 1
    ceph_cli osd pool set "$POOL" size 1 --yes-i-really-mean-it >/dev/null
    timeout 60 rbd -c "$CONF" pool init "$POOL" || exit 1
    ceph_cli auth get-or-create "client.$CLIENT" mon 'profile rbd' \
        osd "profile rbd pool=$POOL" >> "$DIR/keyring" || exit 1

    local waited=0 health
    while :; do
        health=$(ceph_cli health 2>&1)
        [ "$health" = HEALTH_OK ] && break
        if [ $waited -ge "$HEALTH_TIMEOUT" ]; then
            echo "ERROR: no HEALTH_OK after ${waited}s: $health" >&2
            ceph_cli -s >&2
            exit 1
        fi
        sleep 1
        waited=$((waited + 1))
    done
    write_env
    echo "Ceph up in $(( $(date +%s) - started ))s: $CONF, pool $POOL, client.$CLIENT"
}

write_env() {
    cat > "$DIR/env" <<EOF
export NUTANIX_TEST_CEPH_CONF=$CONF
export NUTANIX_TEST_CEPH_POOL=$POOL
export NUTANIX_TEST_CEPH_USER=$CLIENT
EOF
}

stop() {
    local pidfile pid i
    for pidfile in "$DIR"/run/osd.*.pid "$DIR"/run/mgr.*.pid "$DIR"/run/mon.*.pid; do
        [ -e "$pidfile" ] || continue
        pid=$(cat "$pidfile")
        kill "$pid" 2>/dev/null || continue
        for i in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.2
        done
        kill -9 "$pid" 2>/dev/null
    done
    rm -rf "$DIR"
}

case ${1:-} in
start) start ;;
stop) stop ;;
status) ceph_cli -s ;;
env) cat "$DIR/env" ;;
*) sed -n '2,20p' "$0"; exit 2 ;;
esac
