#!/usr/bin/env bash
# The whole test suite, from a fresh machine with only Python 3.11:
#   bash tools/run-tests.sh
# Creates .venv (once), installs the project and its test requirements
# (nova, cinder, glance, glance_store and the Nutanix v4 SDKs from PyPI),
# then runs style checks, the sample-config check, unit tests and functional
# tests.  nova, cinder and glance cannot share one Python process (they
# register overlapping oslo.config options), so every host project's tests
# run in a pytest process of their own.
#
# Usage: tools/run-tests.sh [stage ...]   stages: pep8 genconfig unit functional
set -u -o pipefail
cd "$(dirname "$0")/.."
TOP=$(pwd)
PY=${PYTHON:-python3}
VENV=${NUTANIX_TEST_VENV:-$TOP/.venv}
STAGES=${*:-pep8 genconfig unit functional}

log() { printf '\n==== %s ====\n' "$*"; }

ensure_system_packages() {
    # qemu-img: the emulator converts qcow2/vmdk/vhdx DISK_IMAGEs to raw,
    # as the cluster's image service does.
    if ! command -v qemu-img >/dev/null 2>&1; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
            log "installing qemu-utils"
            (apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
                apt-get install -y -qq qemu-utils >/dev/null) || \
                echo "WARNING: could not install qemu-utils"
        else
            echo "WARNING: qemu-img not found; install qemu-utils"
        fi
    fi
}

ensure_venv() {
    local stamp="$VENV/.installed"
    local want
    want=$(cat requirements.txt test-requirements.txt setup.cfg | sha1sum | cut -c1-40)
    if [ ! -x "$VENV/bin/python" ]; then
        log "creating $VENV"
        "$PY" -m venv "$VENV" || exit 1
    fi
    if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        log "installing requirements"
        "$VENV/bin/pip" install -q -U pip wheel setuptools || exit 1
        "$VENV/bin/pip" install -q -r requirements.txt -r test-requirements.txt || exit 1
        echo "$want" > "$stamp"
    fi
    # Always reinstall the project itself (not editable: the nova.virt.nutanix
    # shim must land inside nova's package directory, as in production).
    "$VENV/bin/pip" install -q --no-deps --force-reinstall . >/dev/null || exit 1
}

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

ensure_system_packages
ensure_venv
export PATH="$VENV/bin:$PATH"
cd "$TOP/tests/.." || exit 1

for stage in $STAGES; do
    case $stage in
    pep8)
        run_stage pep8 "$VENV/bin/flake8" nutanix_openstack nova tests benchmarks tools
        # Shell style as DevStack checks it (E011 would flag run_stage's one-line if).
        run_stage bashate "$VENV/bin/bashate" -i E006,E011 -e 'E*' devstack/plugin.sh \
            devstack/settings devstack/override-defaults devstack/lib/* tools/*.sh ;;
    genconfig)
        run_stage genconfig bash tools/genconfig.sh --check ;;
    unit|functional)
        for area in prism emulator glance cinder nova devstack; do
            [ -d "tests/$stage/$area" ] || continue
            run_stage "$stage/$area" "$VENV/bin/python" -m pytest -q \
                -p no:cacheprovider "tests/$stage/$area"
        done ;;
    e2e)
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
