# Shared by tools/run-tests.sh and tools/quickstart.sh: the project's
# virtualenv and the Debian packages it needs.  Source it from the repo root.

PY=${PYTHON:-python3}
VENV=${NUTANIX_TEST_VENV:-$(pwd)/.venv}

log() { printf '\n==== %s ====\n' "$*"; }

# ensure_debs package:command ...  installs the packages whose command is
# missing (as root, with apt-get); warns otherwise.
ensure_debs() {
    local missing=() item pkg cmd
    for item in "$@"; do
        pkg=${item%%:*}
        cmd=${item#*:}
        if [ "${cmd#/}" != "$cmd" ]; then
            [ -e "$cmd" ] && continue
        elif command -v "$cmd" >/dev/null 2>&1; then
            continue
        fi
        missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        log "installing ${missing[*]}"
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -qq "${missing[@]}" >/dev/null) || \
            echo "WARNING: could not install ${missing[*]}"
    else
        echo "WARNING: missing Debian packages: ${missing[*]}"
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
        log "installing requirements (a few minutes the first time)"
        "$VENV/bin/pip" install -q -U pip wheel setuptools || exit 1
        "$VENV/bin/pip" install -q -r requirements.txt -r test-requirements.txt || exit 1
        echo "$want" > "$stamp"
    fi
    # Always reinstall the project itself, not editable: the
    # nova.virt.nutanix shim must land inside nova's package directory, as
    # in production.
    "$VENV/bin/pip" install -q --no-deps --force-reinstall . >/dev/null || exit 1
}

# ensure_ceph_python: python-rbd and python-rados for the emulator's RBD
# disk store.  They are not on PyPI: Debian 12 builds them for Python 3.11
# (python3-rbd, python3-rados).  Only those two modules are made importable
# in the virtualenv, through symbolic links in a directory of their own and a
# .pth file naming it; the rest of Debian's dist-packages stays out.
ensure_ceph_python() {
    local dist=/usr/lib/python3/dist-packages dir site mod found
    ensure_debs python3-rbd:$dist/rbd.cpython-311-x86_64-linux-gnu.so \
        python3-rados:$dist/rados.cpython-311-x86_64-linux-gnu.so
    site=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])') || return 1
    dir="$VENV/lib/debian-ceph"
    mkdir -p "$dir"
    for mod in rados rbd; do
        found=$(ls "$dist/$mod".cpython-*.so 2>/dev/null | head -n 1)
        if [ -z "$found" ]; then
            echo "ERROR: python3-$mod is not installed: apt-get install python3-rbd python3-rados" >&2
            return 1
        fi
        ln -sf "$found" "$dir/"
    done
    echo "$dir" > "$site/debian-ceph.pth"
    "$VENV/bin/python" -c 'import rados, rbd' || {
        echo "ERROR: rados/rbd do not import in $VENV (Debian's python3-rbd is built for Python 3.11)" >&2
        return 1
    }
}
