#!/usr/bin/env bash
# The systemd unit is valid (systemd-analyze verify), with ExecStart pointed at the built binary,
# and has what the design relies on: Type=notify, a watchdog, --check before start.
set -euo pipefail
build=$1 src=$(dirname "$0")/../../daemons/heartbeatd/elastic-heartbeatd.service
command -v systemd-analyze >/dev/null || { echo "systemd-analyze not installed"; exit 77; }
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
sed "s#/usr/sbin/elastic-heartbeatd#$build/daemons/heartbeatd/elastic-heartbeatd#g" "$src" >"$d/elastic-heartbeatd.service"
out=$(systemd-analyze verify "$d/elastic-heartbeatd.service" 2>&1 || true)
if [ -n "$out" ]; then echo "FAIL: $out"; exit 1; fi
for want in '^Type=notify$' '^WatchdogSec=2s$' '^ExecStartPre=.* --check$' '^Restart=on-abnormal$'; do
	grep -Eq "$want" "$d/elastic-heartbeatd.service" || { echo "FAIL: no line matching $want"; exit 1; }
done
echo "ok: elastic-heartbeatd.service verifies (Type=notify, WatchdogSec=2s, --check, Restart=on-abnormal)"
