#!/usr/bin/env bash
# Generate the sample configuration files in etc/ with oslo-config-generator.
#   tools/genconfig.sh          regenerate
#   tools/genconfig.sh --check  fail if a committed sample is out of date
set -eu
cd "$(dirname "$0")/.."
check=0
[ "${1:-}" = "--check" ] && check=1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
status=0
for cfg in etc/oslo-config-generator/*.conf; do
    [ -e "$cfg" ] || continue
    name=$(basename "$cfg" .conf)
    oslo-config-generator --config-file "$cfg" --output-file "$out/$name.conf.sample"
    if [ $check -eq 1 ]; then
        if ! diff -u "etc/$name.conf.sample" "$out/$name.conf.sample"; then
            echo "etc/$name.conf.sample is out of date: run tools/genconfig.sh"
            status=1
        fi
    else
        cp "$out/$name.conf.sample" "etc/$name.conf.sample"
        echo "wrote etc/$name.conf.sample"
    fi
done
exit $status
