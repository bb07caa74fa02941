#!/usr/bin/env bash
# Three elastic-heartbeatd on 127.0.0.1-3 (interval 50 ms, down after 150 ms), each with a stand-in
# plugin that logs the commands it gets: a killed node is declared down by both others, each of
# which sends exactly one takeover; restarted, it rejoins; a frozen node (SIGSTOP) fences itself
# when it wakes and drops what was taken over; forged, replayed, foreign and malformed datagrams
# are counted and change nothing.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
[ -x "$HBD" ] || fail "$HBD not built"
d=$(mktemp -d /tmp/heartbeat-test.XXXXXX)
port=$((30000 + $$ % 20000))
nodes="sg1 sg2 sg3"
cleanup() {
	local rc=$?
	if [ $rc -ne 0 ]; then
		for n in $nodes; do
			echo "--- $n: commands"; cat "$d/$n.cmds" 2>/dev/null || true
			echo "--- $n: log"; tail -n 30 "$d/$n.log" 2>/dev/null || true
		done >&2
	fi
	for n in $nodes; do
		[ -f "$d/$n.pid" ] && { kill -CONT "$(hb_pid "$d" $n)" 2>/dev/null || true; hb_kill "$d" $n; }
		[ -f "$d/$n.plugin.pid" ] && kill "$(cat "$d/$n.plugin.pid")" 2>/dev/null || true
	done
	[ -f "$d/syncd.pid" ] && kill "$(cat "$d/syncd.pid")" 2>/dev/null || true
	rm -rf "$d"
}
trap cleanup EXIT
head -c 48 /dev/urandom >"$d/hb.key"
chmod 600 "$d/hb.key"
# sg1 also updates a stand-in syncd, sg2 also runs a notify program
python3 "$HERE/fake_syncd.py" "$d/sg1.syncd" "$d/sg1.frames" &
echo $! >"$d/syncd.pid"
printf '#!/bin/sh\necho "$@" >>%s\n' "$d/sg2.notified" >"$d/notify.sh"
chmod +x "$d/notify.sh"
for n in $nodes; do
	case $n in
	sg1) hb_conf "$d" $n $port "syncd_socket = $d/sg1.syncd" ;;
	sg2) hb_conf "$d" $n $port "notify = $d/notify.sh" ;;
	*) hb_conf "$d" $n $port ;;
	esac
	python3 "$HERE/fake_plugin.py" "$d/$n.plugin" "$d/$n.cmds" &
	echo $! >"$d/$n.plugin.pid"
	touch "$d/$n.cmds"
done
for s in sg1.syncd sg1.plugin sg2.plugin sg3.plugin; do # the stand-ins listen before the daemons start
	for i in $(seq 250); do [ -S "$d/$s" ] && break; sleep 0.02; done
	[ -S "$d/$s" ] || fail "stand-in $s did not start"
done
for n in $nodes; do "$HBD" --config "$d/$n.conf" --check >/dev/null || fail "--check refuses $n.conf"; done
for n in $nodes; do hb_start "$d" $n; done

all_ready() { # all_ready NODE...: each of them ready, and sees the others ready
	local n m
	for n in "$@"; do
		wait_for "$d" $n "^node $n state ready" 10 || fail "$n is not ready"
		for m in "$@"; do
			[ $m = $n ] || wait_for "$d" $n "^member $m state ready" 10 || fail "$n does not see $m ready"
		done
	done
}
takeovers() { grep -c " takeover $2 " "$d/$1.cmds" || true; }

# 1. all three come up, with leases
all_ready sg1 sg2 sg3
pass "three nodes ready, each holding a lease"
for n in $nodes; do [ ! -s "$d/$n.cmds" ] || fail "$n sent commands while nothing failed: $(cat "$d/$n.cmds")"; done

# 2. kill -9 sg3: both others declare it down, each sends exactly one takeover
hb_kill "$d" sg3
for n in sg1 sg2; do wait_for "$d" $n "^member sg3 state down" 5 || fail "$n did not declare sg3 down"; done
sleep 0.5  # a duplicate takeover would show up by now
for n in sg1 sg2; do
	[ "$(takeovers $n sg3)" = 1 ] || fail "$n sent $(takeovers $n sg3) takeovers for sg3: $(cat "$d/$n.cmds")"
	grep -Eq " takeover sg3 [0-9]+ 1 sg1=1,sg2=1$" "$d/$n.cmds" || fail "$n: bad takeover command: $(cat "$d/$n.cmds")"
	grep -q "'takeover sg3 .*' answered 'OK activated 0' [0-9]* ms after the declaration" "$d/$n.log" ||
		fail "$n did not log the takeover's answer"
done
pass "sg3 killed: sg1 and sg2 each sent exactly one 'takeover sg3 EPOCH 1 sg1=1,sg2=1'"
for n in sg1 sg2; do ! grep -Eq " (fence|unfence|drop-fenced)$" "$d/$n.cmds" || fail "$n fenced: $(cat "$d/$n.cmds")"; done
# Epoch 0 means "no view yet" (syncd keeps the configured members): never sent, syncd refuses it.
! grep -q "^5 epoch=0 " "$d/sg1.frames" || fail "syncd got an epoch-0 view: $(cat "$d/sg1.frames")"
grep -Eq "^5 epoch=[0-9]+ live=sg1,sg2$" "$d/sg1.frames" || fail "syncd did not get the view without sg3: $(cat "$d/sg1.frames")"
grep -Eq "^down sg3 [0-9]+$" "$d/sg2.notified" && grep -Eq "^takeover sg3 [0-9]+$" "$d/sg2.notified" ||
	fail "notify did not run for down and takeover: $(cat "$d/sg2.notified")"
pass "syncd got Membership frames (no epoch 0, then live=sg1,sg2); notify ran with 'down sg3 E', 'takeover sg3 E'"
# Metrics: valid exposition text (tests/tools/check_exposition.py), and the takeover measured: from
# sg3's last heartbeat to the command at least D (150 ms), and the stand-in plugin's answer.
python3 "$HERE/../tools/check_exposition.py" --self-test >/dev/null || fail "check_exposition.py --self-test"
metrics() { # metrics NODE: in $d/metrics, checked
	"$HBD" --metrics "$d/$1.sock" >"$d/metrics" || fail "$1: --metrics failed"
	python3 "$HERE/../tools/check_exposition.py" --prefix elastic_heartbeatd_ "$d/metrics" ||
		fail "$1's metrics are not valid Prometheus text: $(cat "$d/metrics")"
}
has() { grep -Eq "$1" "$d/metrics" || fail "metrics lack /$1/: $(cat "$d/metrics")"; }
value() { awk -v k="$1" '$1 == k { print $2 }' "$d/metrics"; }
for n in sg1 sg2; do
	metrics $n
	has '^elastic_heartbeatd_takeovers_total 1$'
	has '^elastic_heartbeatd_events_total\{event="takeover"\} 1$'
	has '^elastic_heartbeatd_member_up\{member="sg3"\} 0$'
	has '^elastic_heartbeatd_member_state\{member="sg3",state="down"\} 1$'
	has '^elastic_heartbeatd_takeover_detection_seconds_count 1$'
	has '^elastic_heartbeatd_takeover_duration_seconds_count 1$'
	awk -v s="$(value elastic_heartbeatd_takeover_detection_seconds_sum)" 'BEGIN { exit !(s >= 0.15 && s < 5) }' ||
		fail "$n: takeover detection took $(value elastic_heartbeatd_takeover_detection_seconds_sum) s, D is 0.15 s"
	awk -v s="$(value elastic_heartbeatd_takeover_duration_seconds_sum)" 'BEGIN { exit !(s > 0 && s < 2) }' ||
		fail "$n: takeover took $(value elastic_heartbeatd_takeover_duration_seconds_sum) s"
done
pass "metrics: valid exposition text; one takeover each, detected $(value elastic_heartbeatd_takeover_detection_seconds_sum) s after sg3's last heartbeat (sg2)"

# 3. restart sg3: it rejoins (new boot id)
epoch=$(hb_status "$d" sg1 | awk '/^node/ { print $6 }')
hb_start "$d" sg3
all_ready sg1 sg2 sg3
e2=$(hb_status "$d" sg1 | awk '/^node/ { print $6 }')
[ "$e2" -gt "$epoch" ] || fail "epoch did not move on rejoin ($epoch -> $e2)"
[ ! -s "$d/sg3.cmds" ] || fail "restarted sg3 sent commands: $(cat "$d/sg3.cmds")"
pass "sg3 restarted: ready again on sg1 and sg2 (epoch $epoch -> $e2)"

# 4. forged, replayed, foreign, malformed datagrams: counted, no state change
before=$(hb_status "$d" sg1)
boot2=$(echo "$before" | awk '/^member sg2/ { for (i = 1; i < NF; i++) if ($i == "boot") print $(i + 1) }')
python3 "$HERE/send_datagrams.py" 127.0.0.1 $port "$d/hb.key" sg2 "$boot2"
sleep 0.2
after=$(hb_status "$d" sg1)
count() { echo "$1" | awk -v k="$2" '$1 == k { print $2 }'; }
for k in rx_forged:2 rx_foreign:1 rx_replayed:1 rx_malformed:1; do
	want=${k#*:} k=${k%:*}
	got=$(($(count "$after" $k) - $(count "$before" $k)))
	[ "$got" = "$want" ] || fail "$k rose by $got, expected $want"
done
[ "$(echo "$before" | awk '/^node/ { print $6 }')" = "$(echo "$after" | awk '/^node/ { print $6 }')" ] ||
	fail "hostile datagrams changed the epoch"
all_ready sg1 sg2 sg3
metrics sg1
has '^elastic_heartbeatd_datagrams_refused_total\{reason="forged"\} [1-9]'
pass "2 forged, 1 foreign, 1 replayed, 1 malformed datagram counted; states and epoch unchanged"

# 5. a frozen node (SIGSTOP for 1 s): taken over; when it wakes, fence, then drop-fenced
kill -STOP "$(hb_pid "$d" sg3)"
for n in sg1 sg2; do wait_for "$d" $n "^member sg3 state down" 5 || fail "$n did not declare frozen sg3 down"; done
sleep 1
for n in sg1 sg2; do [ "$(takeovers $n sg3)" = 2 ] || fail "$n: $(takeovers $n sg3) takeovers of sg3 in total, expected 2"; done
kill -CONT "$(hb_pid "$d" sg3)"
all_ready sg1 sg2 sg3
sleep 0.2
cmds=$(awk '{ print $2 }' "$d/sg3.cmds" | tr '\n' ' ')
printf '%s' "$cmds" | grep -Eq '^(fence unfence )*fence drop-fenced $' || fail "sg3 sent '$cmds', expected 'fence drop-fenced'"
pass "frozen sg3 taken over by both; on waking it sent fence, then drop-fenced, and rejoined"

# 6. nothing else happened: no fence on the survivors, no extra takeover
for n in sg1 sg2; do
	! grep -Eq " (fence|unfence|drop-fenced)$" "$d/$n.cmds" || fail "$n fenced: $(cat "$d/$n.cmds")"
	[ "$(wc -l <"$d/$n.cmds")" = 2 ] || fail "$n sent: $(cat "$d/$n.cmds")"
done
pass "survivors kept their leases throughout"

# 7. SIGTERM: clean exit (under ASan: no leak or error report), status socket removed
for n in $nodes; do kill -TERM "$(hb_pid "$d" $n)"; done
for n in $nodes; do
	for i in $(seq 100); do kill -0 "$(hb_pid "$d" $n)" 2>/dev/null || break; sleep 0.02; done
	! kill -0 "$(hb_pid "$d" $n)" 2>/dev/null || fail "$n did not stop on SIGTERM"
	[ ! -e "$d/$n.sock" ] || fail "$n left its status socket behind"
	! grep -Eq "Sanitizer|runtime error" "$d/$n.log" || fail "$n: sanitizer report: $(grep -A20 -E 'Sanitizer|runtime error' "$d/$n.log")"
done
grep -q "^5 epoch=[0-9]* live=sg1,sg2,sg3$" <(tail -n 1 "$d/sg1.frames") || fail "syncd's last view is not all three"
pass "SIGTERM: all three stopped cleanly, status sockets removed"
