#!/usr/bin/env bash
# A single-member etcd on loopback: the coordination backend (tooz, through
# etcd3gw) of the high-availability tests and of `quickstart.sh --ha`.
#   tools/etcd.sh start DATA_DIR [CLIENT_PORT] [PEER_PORT]   prints the URL
#   tools/etcd.sh stop DATA_DIR
#   tools/etcd.sh install                  Debian's etcd-server (as root)
# Listens on 127.0.0.1 only.  Needs Debian's etcd-server (tools/lib/venv.sh
# ensure_debs etcd-server:etcd).
set -eu

ETCD=${ETCD:-etcd}
START_TIMEOUT=${NUTANIX_ETCD_START_TIMEOUT:-30}

usage() {
    echo "usage: $0 start DATA_DIR [CLIENT_PORT] [PEER_PORT] | stop DATA_DIR | install" >&2
    exit 2
}

cmd=${1:-}
case "$cmd" in
    install)
        cd "$(dirname "$0")/.."
        # shellcheck source=lib/venv.sh
        . tools/lib/venv.sh
        ensure_debs etcd-server:etcd
        ;;
    start)
        dir=${2:-}
        [ -n "$dir" ] || usage
        client_port=${3:-2379}
        peer_port=${4:-2380}
        url="http://127.0.0.1:$client_port"
        mkdir -p "$dir"
        if [ -f "$dir/etcd.pid" ] && kill -0 "$(cat "$dir/etcd.pid")" 2>/dev/null; then
            echo "$url"
            exit 0
        fi
        command -v "$ETCD" >/dev/null 2>&1 || {
            echo "etcd not found: run '$0 install' (Debian etcd-server)" >&2
            exit 1
        }
        ETCD_UNSUPPORTED_ARCH=${ETCD_UNSUPPORTED_ARCH:-} nohup "$ETCD" \
            --name nutanix-ha \
            --data-dir "$dir/data" \
            --listen-client-urls "$url" \
            --advertise-client-urls "$url" \
            --listen-peer-urls "http://127.0.0.1:$peer_port" \
            --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
            --initial-cluster "nutanix-ha=http://127.0.0.1:$peer_port" \
            --listen-metrics-urls "" \
            >"$dir/etcd.log" 2>&1 &
        echo $! >"$dir/etcd.pid"
        waited=0
        until curl -fsS "$url/health" 2>/dev/null | grep -q '"health":"true"'; do
            if ! kill -0 "$(cat "$dir/etcd.pid")" 2>/dev/null; then
                echo "etcd exited; see $dir/etcd.log" >&2
                tail -5 "$dir/etcd.log" >&2
                exit 1
            fi
            if [ "$waited" -ge $((START_TIMEOUT * 10)) ]; then
                echo "etcd did not become healthy in ${START_TIMEOUT}s" >&2
                exit 1
            fi
            sleep 0.1
            waited=$((waited + 1))
        done
        echo "$url"
        ;;
    stop)
        dir=${2:-}
        [ -n "$dir" ] || usage
        if [ -f "$dir/etcd.pid" ]; then
            pid=$(cat "$dir/etcd.pid")
            if kill "$pid" 2>/dev/null; then
                for _ in $(seq 50); do
                    kill -0 "$pid" 2>/dev/null || break
                    sleep 0.1
                done
                kill -9 "$pid" 2>/dev/null || true
            fi
            rm -f "$dir/etcd.pid"
        fi
        ;;
    *)
        usage
        ;;
esac
