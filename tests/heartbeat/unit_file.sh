#!/usr/bin/env bash
# The systemd unit is valid (systemd-analyze verify), with ExecStart pointed at the built binary,
# and has what the design relies on: Type=notify, a watchdog, --check before start; and the daemon
# speaks the notify protocol: READY=1, STATUS=, and WATCHDOG=1 at half the watchdog period.
set -euo pipefail
build=$1 src=$(dirname "$0")/../../daemons/heartbeatd/elastic-heartbeatd.service
command -v systemd-analyze >/dev/null || { echo "systemd-analyze not installed"; exit 77; }
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
sed "s#/usr/sbin/elastic-heartbeatd#$build/daemons/heartbeatd/elastic-heartbeatd#g" "$src" >"$d/elastic-heartbeatd.service"
out=$(systemd-analyze verify --man=no "$d/elastic-heartbeatd.service" 2>&1 || true)
if [ -n "$out" ]; then echo "FAIL: $out"; exit 1; fi
for want in '^Type=notify$' '^WatchdogSec=2s$' '^ExecStartPre=.* --check$' '^Restart=on-abnormal$'; do
	grep -Eq "$want" "$d/elastic-heartbeatd.service" || { echo "FAIL: no line matching $want"; exit 1; }
done
echo "ok: elastic-heartbeatd.service verifies (Type=notify, WatchdogSec=2s, --check, Restart=on-abnormal)"

# The notify protocol, with a stand-in for systemd's notification socket.
hbd=$build/daemons/heartbeatd/elastic-heartbeatd
head -c 32 /dev/urandom >"$d/hb.key"
chmod 600 "$d/hb.key"
port=$((30000 + ($$ + 13) % 20000))
hb_conf() { # hb_conf LOGLEVEL
cat >"$d/elastic.conf" <<CONF
elastic {
  node = sg1
  cluster { members { sg1 { address = 127.0.0.1:7400 }
                      sg2 { address = 127.0.0.2:7400 }
                      w1 { address = 127.0.0.3:7400
                           witness = yes } } }
  heartbeat { port = $port
              key = $d/hb.key
              socket = $d/hb.sock
              plugin_socket = $d/plugin.sock
              loglevel = $1 }
}
CONF
}
hb_conf warning
"$(dirname "$0")/../tools/notify_listen.py" "$d/notify.sock" "$d/notify.log" 1.5 &
listener=$!
for i in $(seq 100); do [ -S "$d/notify.sock" ] && break; sleep 0.01; done
NOTIFY_SOCKET=$d/notify.sock WATCHDOG_USEC=200000 "$hbd" --config "$d/elastic.conf" >"$d/hbd.log" 2>&1 &
pid=$!
# SIGHUP once the daemon is up (READY=1), as systemctl reload would be
for i in $(seq 100); do grep -q READY=1 "$d/notify.log" 2>/dev/null && break; sleep 0.01; done
# systemctl reload (SIGHUP): the new log level applies (notice now passes); a broken file changes
# nothing and is logged.
hb_conf notice
kill -HUP $pid
sleep 0.3
hb_conf loud
kill -HUP $pid
wait $listener
kill -0 $pid 2>/dev/null || { echo "FAIL: the daemon died on SIGHUP: $(cat "$d/hbd.log")"; exit 1; }
kill -TERM $pid
wait $pid || { echo "FAIL: the daemon did not exit cleanly on SIGTERM: $(cat "$d/hbd.log")"; exit 1; }
grep -q "READY=1" "$d/notify.log" || { echo "FAIL: no READY=1: $(cat "$d/notify.log")"; exit 1; }
n=$(grep -c "^WATCHDOG=1" "$d/notify.log" || true)
# 1.5 s at one keep-alive per 100 ms (half of 200 ms), minus start-up
[ "$n" -ge 8 ] || { echo "FAIL: $n WATCHDOG=1 in 1.5 s with WatchdogSec=200ms"; cat "$d/notify.log"; exit 1; }
echo "ok: READY=1, then $n WATCHDOG=1 in 1.5 s with a 200 ms watchdog (half-period keep-alives); alive after two SIGHUPs"
# loglevel = warning, stderr not the journal: "NAME: LEVEL: " lines, the notice at start dropped.
if grep -q "heartbeats on" "$d/hbd.log"; then echo "FAIL: the start line (notice) passed loglevel = warning"; exit 1; fi
grep -q "^elastic-heartbeatd: notice: SIGHUP: log level notice; other settings take effect at the next restart" "$d/hbd.log" ||
	{ echo "FAIL: reload to loglevel = notice not applied: $(cat "$d/hbd.log")"; exit 1; }
grep -q "^elastic-heartbeatd: warning: SIGHUP: configuration not reloaded: .*elastic.heartbeat.loglevel" "$d/hbd.log" ||
	{ echo "FAIL: no warning for the broken file on reload: $(cat "$d/hbd.log")"; exit 1; }
echo "ok: loglevel = warning dropped the start notice; a reload to notice applied ('notice: SIGHUP: log level notice'); a broken file on reload only warned"
