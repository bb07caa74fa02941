#!/usr/bin/env bash
# The systemd unit is valid (systemd-analyze verify), with ExecStart pointed at the built binary.
set -euo pipefail
build=$1 src=$(dirname "$0")/../../daemons/syncd/elastic-syncd.service
command -v systemd-analyze >/dev/null || { echo "systemd-analyze not installed"; exit 77; }
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
sed "s#/usr/sbin/elastic-syncd#$build/daemons/syncd/elastic-syncd#g" "$src" >"$d/elastic-syncd.service"
out=$(systemd-analyze verify "$d/elastic-syncd.service" 2>&1 || true)
if [ -n "$out" ]; then echo "FAIL: $out"; exit 1; fi
grep -q '^Type=notify$' "$d/elastic-syncd.service" || { echo "FAIL: not Type=notify"; exit 1; }
echo "ok: elastic-syncd.service verifies (Type=notify, restart on failure)"
