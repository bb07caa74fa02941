#!/usr/bin/env bash
# The systemd unit is valid (systemd-analyze verify), with ExecStart pointed at the built binary,
# and has what the design relies on: Type=notify, a watchdog, --check before start; and the daemon
# speaks the notify protocol: READY=1, STATUS=, WATCHDOG=1 at half the watchdog period, and
# survives SIGHUP (logged: no reload).
set -euo pipefail
build=$1 src=$(dirname "$0")/../../daemons/syncd/elastic-syncd.service
. "$(dirname "$0")/lib.sh"
SYNCD=$build/daemons/syncd/elastic-syncd
command -v systemd-analyze >/dev/null || { echo "systemd-analyze not installed"; exit 77; }
d=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$d"' EXIT
pid=
sed "s#/usr/sbin/elastic-syncd#$build/daemons/syncd/elastic-syncd#g" "$src" >"$d/elastic-syncd.service"
out=$(systemd-analyze verify --man=no "$d/elastic-syncd.service" 2>&1 || true)
[ -z "$out" ] || fail "$out"
for want in '^Type=notify$' '^WatchdogSec=[0-9]+s$' '^ExecStartPre=.* --check$' '^Restart=on-abnormal$'; do
	grep -Eq "$want" "$d/elastic-syncd.service" || fail "no line matching $want"
done
pass "elastic-syncd.service verifies (Type=notify, WatchdogSec, --check, Restart=on-abnormal)"

# The notify protocol, with a stand-in for systemd's notification socket.
syncd_certs "$d" sg1
syncd_conf "$d" sg1 $((30000 + ($$ + 17) % 20000)) 1 sg1
"$(dirname "$0")/../tools/notify_listen.py" "$d/notify.sock" "$d/notify.log" 1.5 &
listener=$!
for i in $(seq 100); do [ -S "$d/notify.sock" ] && break; sleep 0.01; done
# Its stderr as systemd's journal stream: JOURNAL_STREAM names the file (device:inode), so every
# line starts with an sd-daemon priority prefix.
: >"$d/syncd.log"
NOTIFY_SOCKET=$d/notify.sock WATCHDOG_USEC=200000 JOURNAL_STREAM=$(stat -c %d:%i "$d/syncd.log") \
	"$SYNCD" --config "$d/sg1.conf" >>"$d/syncd.log" 2>&1 &
pid=$!
# SIGHUP once the daemon is up (READY=1), as systemctl reload would be
for i in $(seq 100); do grep -q READY=1 "$d/notify.log" 2>/dev/null && break; sleep 0.01; done
# systemctl reload: a new log level applies; then a broken file changes nothing.
SYNCD_EXTRA="loglevel = debug" syncd_conf "$d" sg1 $((30000 + ($$ + 17) % 20000)) 1 sg1
kill -HUP $pid
sleep 0.3
SYNCD_EXTRA="loglevel = loud" syncd_conf "$d" sg1 $((30000 + ($$ + 17) % 20000)) 1 sg1
kill -HUP $pid
wait $listener
kill -0 $pid 2>/dev/null || fail "the daemon died on SIGHUP: $(cat "$d/syncd.log")"
kill -TERM $pid
wait $pid || fail "the daemon did not exit cleanly on SIGTERM: $(cat "$d/syncd.log")"
grep -q "READY=1" "$d/notify.log" || fail "no READY=1: $(cat "$d/notify.log")"
n=$(grep -c "^WATCHDOG=1" "$d/notify.log" || true)
# 1.5 s at one keep-alive per 100 ms (half of 200 ms), minus start-up
[ "$n" -ge 8 ] || fail "$n WATCHDOG=1 in 1.5 s with WatchdogSec=200ms: $(cat "$d/notify.log")"
pass "READY=1, then $n WATCHDOG=1 in 1.5 s with a 200 ms watchdog; alive after two SIGHUPs"
grep -q "^<5>elastic-syncd: node sg1 listening on " "$d/syncd.log" || fail "no <5> (notice) start line: $(cat "$d/syncd.log")"
grep -q "^<5>elastic-syncd: SIGHUP: log level debug; other settings take effect at the next restart" "$d/syncd.log" ||
	fail "no <5> (notice) reload line: $(cat "$d/syncd.log")"
grep -q "^<4>elastic-syncd: SIGHUP: configuration not reloaded: .*elastic.syncd.loglevel" "$d/syncd.log" ||
	fail "no <4> (warning) line for the broken file: $(cat "$d/syncd.log")"
if grep -qv "^<[3-7]>elastic-syncd: " "$d/syncd.log"; then fail "a line without a priority prefix: $(cat "$d/syncd.log")"; fi
pass "stderr as the journal (JOURNAL_STREAM): <5> start and reload lines, <4> for a broken file on reload, every line prefixed"
