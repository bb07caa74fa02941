#!/usr/bin/env bash
# Two gateways and a witness on loopback (interval 20 ms): the witness votes but never talks to a
# plugin; a killed gateway is taken over by the other (quorum 2 of 3 with the witness's vote);
# with the peer dead and the witness frozen, the survivor loses its quorum and fences; when the
# witness wakes (it was not declared down by anyone who could take over) the survivor unfences.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
[ -x "$HBD" ] || fail "$HBD not built"
d=$(mktemp -d /tmp/heartbeat-witness.XXXXXX)
port=$((30000 + ($$ + 7) % 20000))
nodes="sg1 sg2 w1"
cleanup() {
	local rc=$? n
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
	rm -rf "$d"
}
trap cleanup EXIT
head -c 32 /dev/urandom >"$d/hb.key"
chmod 400 "$d/hb.key"
conf() {
	cat >"$d/$1.conf" <<-CONF
	elastic {
	  node = $1
	  cluster {
	    members {
	      sg1 { address = 127.0.0.1:7400 }
	      sg2 { address = 127.0.0.2:7400 }
	      w1 { address = 127.0.0.3:7400
	           witness = yes }
	    }
	  }
	  heartbeat {
	    port = $port
	    interval = 20ms
	    key = $d/hb.key
	    socket = $d/$1.sock
	    plugin_socket = $d/$1.plugin
	  }
	}
	CONF
}
for n in $nodes; do conf $n; done
for n in sg1 sg2; do
	python3 "$HERE/fake_plugin.py" "$d/$n.plugin" "$d/$n.cmds" &
	echo $! >"$d/$n.plugin.pid"
	touch "$d/$n.cmds"
done
for s in sg1 sg2; do # the stand-ins listen before the daemons start
	for i in $(seq 250); do [ -S "$d/$s.plugin" ] && break; sleep 0.02; done
done
"$HBD" --config "$d/w1.conf" --check | grep -q "node w1 (witness), 3 members, quorum 2" || fail "--check of the witness"
for n in $nodes; do hb_start "$d" $n; done
for n in $nodes; do
	wait_for "$d" $n "^node $n state ready" 10 || fail "$n not ready"
	for m in $nodes; do [ $m = $n ] || wait_for "$d" $n "^member $m state ready" 10 || fail "$n does not see $m ready"; done
done
pass "two gateways and a witness ready"

hb_kill "$d" sg2
for n in sg1 w1; do wait_for "$d" $n "^member sg2 state down" 5 || fail "$n did not declare sg2 down"; done
sleep 0.3
[ "$(grep -c ' takeover sg2 ' "$d/sg1.cmds")" = 1 ] || fail "sg1: $(cat "$d/sg1.cmds")"
grep -Eq " takeover sg2 [0-9]+ 1 sg1=1$" "$d/sg1.cmds" || fail "sg1: bad takeover: $(cat "$d/sg1.cmds")"
! grep -q "plugin socket" "$d/w1.log" || fail "the witness tried to talk to a plugin"
pass "sg2 killed: sg1 sent one 'takeover sg2 EPOCH 1 sg1=1' (with the witness's vote); the witness sent nothing"

kill -STOP "$(hb_pid "$d" w1)"
wait_for "$d" sg1 "^node sg1 state fenced" 5 || fail "sg1 kept its lease without a quorum"
sleep 0.5
kill -CONT "$(hb_pid "$d" w1)"
wait_for "$d" sg1 "^node sg1 state ready" 5 || fail "sg1 did not regain its lease"
sleep 0.2
cmds=$(awk '{ print $2 }' "$d/sg1.cmds" | tr '\n' ' ')
# (a loaded machine may add fence/unfence pairs: a lease lost and regained; never a drop)
printf '%s' "$cmds" | grep -Eq '^takeover (fence unfence )+$' || fail "sg1 sent '$cmds', expected 'takeover fence unfence'"
pass "witness frozen: sg1 (alone) fenced; witness back: sg1 unfenced (nobody declared it down)"
