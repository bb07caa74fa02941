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
	ip netns exec eu "$PROBE" send 10.1.0.1 10.2.0.1 7777 1000 $secs >"$CHARON_RUN/probe.json" &
	probe=$!
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
for count in ${TAKEOVER_COUNTS:-1000 10000}; do
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
python3 - "$rec" "$out" "$HA_MISSES" "$CHARON_RUN/scale" <<'PY'
import json, statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
def col(rs, i): return [float(r[i]) for r in rs if len(r) > i]
def summ(v): return {"n": len(v), "median": statistics.median(v) if v else None, "max": max(v) if v else None}
plain = [r for r in rows if r[1] == "plain"]
at20 = [r for r in plain if r[0] == "20"]
res = {
    "heartbeat_misses": int(sys.argv[3]),
    "failover_ms": statistics.median(col(at20, 2)) if at20 else None,
    "failover_ms_at_20ms": summ(col(at20, 2)),
    "failover_ms_by_interval": {ms: summ(col([r for r in plain if r[0] == ms], 2)) for ms in ["10", "20", "50", "100", "1000"]},
    "failover_lost_50pps": statistics.median(col(at20, 4)) if at20 else None,
    "failover_lost_50pps_by_interval": {ms: summ(col([r for r in plain if r[0] == ms], 4)) for ms in ["10", "20", "50", "100", "1000"]},
    "failover_eu_replay_errors": int(sum(col(rows, 5))),
    "flood_run": {"max_gap_ms": col([r for r in rows if r[1] == "flood"], 2), "replay_errors": col([r for r in rows if r[1] == "flood"], 5)},
    "activate_ms": summ(col(rows, 6)),
    "steer_ms": summ(col(rows, 7)),
    "takeover_1k_s": None,
    "takeover_10k_s": None,
    "takeover_scale": [],
    "runs": [dict(zip(["interval_ms", "kind", "max_gap_ms", "probe_lost", "ping_lost", "replay_errors", "activate_ms", "steer_ms"], r)) for r in rows],
}
# scale lines: count import_s takeover_s activated N failed M activate_ms A steer_ms S
for l in open(sys.argv[4]):
    f = l.split()
    if len(f) < 11:
        continue
    row = {"vpns": int(f[0]), "import_passive_s": float(f[1]), "takeover_s": float(f[2]), "activated": int(f[4]),
           "failed": int(f[6]), "activate_ms": int(f[8]), "steer_ms": int(f[10]), "live_eus": 1}
    res["takeover_scale"].append(row)
    if row["vpns"] == 1000: res["takeover_1k_s"] = row["takeover_s"]
    if row["vpns"] == 10000: res["takeover_10k_s"] = row["takeover_s"]
json.dump(res, open(sys.argv[2], "w"), indent=2)
print(json.dumps(res, indent=2))
PY
