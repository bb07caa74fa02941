#!/usr/bin/env bash
# Benchmark (inside the VM): automatic failover when the VPN's owner dies (kill -9 of every
# process and its links down at once: its kernel forwards nothing either; two gateways and a
# witness), measured by a 1,000 packets/s probe in both directions (the
# longest delivery gap) and a 50 packets/s ping (lost packets), per heartbeat interval; the EU's
# replay errors over all runs, a flood run included. Prints JSON.
#   ha_bench.sh OUT.json [RUNS_AT_20MS] [RUNS_PER_OTHER_INTERVAL]
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$ELASTIC_REPO/testbed/lib/ha.sh"
out=$1 runs=${2:-10} others=${3:-3}
PROBE=$ELASTIC_REPO/testbed/tools/probe.py
export HA_MISSES=${HA_MISSES:-3}
rec=$CHARON_RUN/runs

ha_start
ip netns exec rb "$PROBE" echo 10.2.0.1 7777 &
swanctl_in eu --initiate --ike sg --child gcm >/dev/null
for i in $(seq 300); do [ "$(ha_role sg2)" = passive ] && break; sleep 0.02; done
: >"$rec"

# one_run INTERVAL_MS [flood]: kill the owner, measure, bring it back as the alternate.
one_run() {
	local ms=$1 owner alt secs seq0 probe ping flood= line
	owner=sg1 alt=sg2
	[ "$(ha_role sg2)" = active ] && owner=sg2 alt=sg1
	secs=$(( (2000 + 4 * ms * HA_MISSES) / 1000 + 2 ))
	seq0=$(xfrm_stat eu XfrmInStateSeqError)
	ha_probe "$CHARON_RUN/probe.json" $secs
	ip netns exec eu ping -n -i 0.02 -c $((secs * 50)) -W 1 -I 10.1.0.1 10.2.0.1 >"$CHARON_RUN/ping.out" 2>&1 &
	ping=$!
	[ -n "${2:-}" ] && { ip netns exec rb "$ELASTIC_REPO/testbed/tools/blast.py" 10.2.0.1 10.1.0.1 9 100000000 >/dev/null & flood=$!; }
	sleep 1
	ha_kill $owner host
	for i in $(seq 1000); do [ "$(ha_role $alt)" = active ] && break; sleep 0.01; done
	wait $probe $ping || true
	[ -n "$flood" ] && { kill $flood 2>/dev/null || true; wait $flood 2>/dev/null || true; }
	line=$(grep -E 'elastic: took over [0-9]+ of [0-9]+ VPNs' "$CHARON_RUN/$alt/charon.log" | tail -1 |
		sed -E 's/.* in ([0-9]+) ms \(steering (-?[0-9]+) ms\).*/\1 \2/')
	echo "$ms ${2:-plain} $(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["max_gap_ms"], d["lost"])' "$CHARON_RUN/probe.json") \
$(awk '/packets transmitted/ { print $1 - $4 }' "$CHARON_RUN/ping.out") $(( $(xfrm_stat eu XfrmInStateSeqError) - seq0 )) $line" >>"$rec"
	tail -1 "$rec"
	ha_restart $owner
	for i in $(seq 600); do [ "$(ha_role $owner)" = passive ] && ha_all_ready && break; sleep 0.05; done
	sleep 1
}

for ms in 20 10 50 100 1000; do
	export HA_INTERVAL=${ms}ms
	ha_heartbeat_restart
	for i in $(seq 100); do ha_all_ready && break; sleep 0.1; done
	n=$others
	[ $ms = 20 ] && n=$runs
	for r in $(seq $n); do one_run $ms; done
done
export HA_INTERVAL=20ms
ha_heartbeat_restart
for i in $(seq 100); do ha_all_ready && break; sleep 0.1; done
one_run 20 flood

# Takeover at scale: N passive VPNs generated from the live one (tests/tools/ctxgen), owned by a
# gateway "sg9" that does not exist, imported passive on the current alternate, then taken over
# in one command (what heartbeatd sends), timed from the client's side.
owner=sg1 alt=sg2
[ "$(ha_role sg2)" = active ] && owner=sg2 alt=sg1
ctl $owner export --ike rw --out "$CHARON_RUN/tmpl"
first=1
: >"$CHARON_RUN/scale"
# (10,000 is possible with TAKEOVER_COUNTS="1000 10000" but its imports alone take ~30 min under QEMU)
for count in ${TAKEOVER_COUNTS:-1000}; do
	dir=$CHARON_RUN/gen$count
	mkdir -p "$dir"
	"$ELASTIC_BUILD/tests/ctxgen" "$CHARON_RUN/tmpl" sg9 $first $count "$dir"
	t0=$(date +%s.%N)
	for f in "$dir"/ctx-*; do ctl $alt import --mode passive "$f" >/dev/null; done
	t1=$(date +%s.%N)
	rep=$(ctl $alt takeover --node sg9 --live $alt=1)
	t2=$(date +%s.%N)
	echo "$count $(awk -v a=$t0 -v b=$t1 -v c=$t2 'BEGIN { printf "%.3f %.3f", b - a, c - b }') $rep" | tee -a "$CHARON_RUN/scale"
	rm -rf "$dir"
	first=$((first + count))
done

# columns: interval kind max_gap_ms probe_lost ping_lost replay_errors activate_ms steer_ms
"$ELASTIC_REPO/testbed/tools/ha_summary.py" "$rec" "$out" "$HA_MISSES" "$CHARON_RUN/scale"
