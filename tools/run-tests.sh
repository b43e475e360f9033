#!/usr/bin/env bash
# The whole test suite, from a fresh machine with only Python 3.11:
#   bash tools/run-tests.sh
# Creates .venv (once), installs the project and its test requirements
# (nova, cinder, glance, glance_store and the Nutanix v4 SDKs from PyPI),
# then runs style checks, the sample-config check, unit tests and functional
# tests.  nova, cinder and glance cannot share one Python process (they
# register overlapping oslo.config options), and neutron's tests switch the
# process to eventlet, so every host project's tests run in a pytest
# process of their own.
#
# and the end-to-end tier: the quick start's whole one-machine OpenStack on
# loopback with our drivers, the operator's walk and Tempest (about 12
# minutes; see doc/source/quickstart.rst).
#
# and the ceph stage: a one-node Ceph on loopback (tools/ceph.sh) for the
# storage contract tests on RBD (the ...Rbd test classes, tests/ceph) and
# one quick start walk with the emulator's disks on RBD.
#
# Usage: tools/run-tests.sh [stage ...]
#   stages: pep8 genconfig unit functional ceph e2e (default: all of them)
set -u -o pipefail
cd "$(dirname "$0")/.."
TOP=$(pwd)
STAGES=${*:-pep8 genconfig unit functional ceph e2e}
. tools/lib/venv.sh

rc=0
failed=()
run_stage() {
    local name=$1; shift
    log "$name"
    if "$@"; then :; else
        local r=$?
        # pytest exit code 5: no test collected in that directory (yet).
        if [ $r -eq 5 ]; then echo "($name: no tests collected)"; return 0; fi
        rc=1; failed+=("$name")
    fi
}

# qemu-img: the emulator converts qcow2/vmdk/vhdx DISK_IMAGEs to raw, as the
# cluster's image service does.  etcd: the coordination backend of the
# cross-host lock tests (tools/etcd.sh starts it on loopback).
ensure_debs qemu-utils:qemu-img etcd-server:etcd
ensure_venv
export PATH="$VENV/bin:$PATH"
cd "$TOP/tests/.." || exit 1

for stage in $STAGES; do
    case $stage in
    pep8)
        run_stage pep8 "$VENV/bin/flake8" nutanix_openstack nova tests benchmarks tools quickstart
        # Shell style as DevStack checks it (E011 would flag run_stage's one-line if).
        run_stage bashate "$VENV/bin/bashate" -i E006,E011 -e 'E*' devstack/plugin.sh \
            devstack/settings devstack/override-defaults devstack/lib/* tools/*.sh ;;
    genconfig)
        run_stage genconfig bash tools/genconfig.sh --check ;;
    unit|functional)
        # The storage tests' RBD variants run in the ceph stage, on a Ceph
        # of their own; here there is none.
        export NUTANIX_TEST_SKIP_RBD=1
        for area in prism emulator glance cinder nova neutron devstack osc; do
            [ -d "tests/$stage/$area" ] || continue
            run_stage "$stage/$area" "$VENV/bin/python" -m pytest -q \
                -p no:cacheprovider "tests/$stage/$area"
        done ;;
    ceph)
        # Ceph from Debian (installed by tools/ceph.sh), python-rbd linked
        # into the virtualenv; the contract tests on RBD.
        unset NUTANIX_TEST_SKIP_RBD
        ceph_dir=$TOP/.state/ceph-stage
        if NUTANIX_CEPH_DIR=$ceph_dir bash tools/ceph.sh start && ensure_ceph_python; then
            # shellcheck disable=SC1091
            . "$ceph_dir/env"
            run_stage ceph/storage "$VENV/bin/python" -m pytest -q -p no:cacheprovider \
                -k Rbd tests/unit/emulator/test_storage.py \
                tests/unit/emulator/test_storage_cow.py \
                tests/unit/emulator/test_storage_durability.py \
                tests/unit/emulator/test_storage_extents.py
            run_stage ceph/emulator "$VENV/bin/python" -m pytest -q -p no:cacheprovider tests/ceph
        else
            rc=1; failed+=("ceph/start")
        fi
        NUTANIX_CEPH_DIR=$ceph_dir bash tools/ceph.sh stop
        unset NUTANIX_TEST_CEPH_CONF NUTANIX_TEST_CEPH_POOL NUTANIX_TEST_CEPH_USER
        # One quick start walk with the emulator's disks on RBD (it starts
        # and wipes a Ceph of its own); the e2e stage walks on local.
        ensure_debs rabbitmq-server:/usr/lib/rabbitmq/bin/rabbitmq-server \
            mariadb-server:mariadbd open-iscsi:/etc/iscsi/initiatorname.iscsi
        run_stage ceph/quickstart "$VENV/bin/python" -m quickstart --storage rbd \
            --port-base "$(( ${NUTANIX_E2E_PORT_BASE:-20000} + 100 ))" \
            --workdir "$TOP/.state/quickstart-rbd" ;;
    e2e)
        # A whole one-machine OpenStack (tests/e2e/conftest.py): MariaDB
        # and RabbitMQ from Debian, the rest from the virtualenv.  Nova's
        # volume connector carries the host's open-iscsi initiator name;
        # noVNC serves the console proxy's pages; Chromium and its driver
        # run the dashboard test (tests/e2e/test_horizon.py).
        ensure_debs rabbitmq-server:/usr/lib/rabbitmq/bin/rabbitmq-server \
            mariadb-server:mariadbd open-iscsi:/etc/iscsi/initiatorname.iscsi \
            novnc:/usr/share/novnc/vnc_lite.html chromium:/usr/bin/chromium \
            chromium-driver:/usr/bin/chromedriver
        run_stage e2e "$VENV/bin/python" -m pytest -q -p no:cacheprovider tests/e2e ;;
    *)
        echo "unknown stage $stage"; exit 2 ;;
    esac
done

log "summary"
if [ $rc -eq 0 ]; then
    echo "all stages passed: $STAGES"
else
    echo "FAILED stages: ${failed[*]}"
fi
exit $rc
