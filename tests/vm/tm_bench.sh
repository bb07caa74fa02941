#!/usr/bin/env bash
# Benchmark (figures, not pass/fail): planned transfers in a three-gateway cluster with
# elastic-syncd and elastic-heartbeatd running, round robin sg1 -> sg2 -> sg3 -> sg1 ...; per
# transfer the longest delivery gap of a 1,000 packets/s probe through the VPN (both directions),
# the probe's and a 50 packets/s ping's losses, the EU's replay errors and elasticctl's step timings.
#   tm_bench.sh OUT.json [TRANSFERS]
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$ELASTIC_REPO/testbed/lib/ha.sh"
out=$1 runs=${2:-20}

CLUSTER_N=3 ha_start
ip netns exec rb "$ELASTIC_REPO/testbed/tools/probe.py" echo 10.2.0.1 7777 &
swanctl_in eu --initiate --ike sg --child gcm >/dev/null
for i in $(seq 300); do [ -n "$(for n in sg2 sg3; do [ "$(ha_role $n)" = passive ] && echo $n; done)" ] && break; sleep 0.02; done
rec=$CHARON_RUN/tm.txt
: >"$rec"
owner=sg1
for r in $(seq "$runs"); do
	to=sg$(( ${owner#sg} % 3 + 1 ))
	seq0=$(xfrm_stat eu XfrmInStateSeqError)
	ha_probe "$CHARON_RUN/probe.json" 3
	ip netns exec eu ping -n -q -i 0.02 -c 150 -W 1 -I 10.1.0.1 10.2.0.1 >"$CHARON_RUN/ping.out" 2>&1 &
	ping=$!
	sleep 1
	steps=$(ctl $owner transfer --ike rw --to "$CHARON_RUN/$to/charon.elastic" |
		sed -E 's/.*passive copy ([0-9.]+) ms, steer ([0-9.]+) ms, release ([0-9.]+) ms, activate ([0-9.]+) ms.*/\1 \2 \3 \4/')
	wait $probe $ping || true
	echo "$owner $to $(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["max_gap_ms"], d["lost"])' "$CHARON_RUN/probe.json") \
$(awk '/packets transmitted/ { print $1 - $4 }' "$CHARON_RUN/ping.out") $(( $(xfrm_stat eu XfrmInStateSeqError) - seq0 )) $steps" | tee -a "$rec"
	owner=$to
	for i in $(seq 300); do [ "$(ha_role $owner)" = active ] && break; sleep 0.02; done
	sleep 1  # the new owner's replica reaches its alternate before the next move
done
python3 - "$rec" "$out" <<'PY'
import json, statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
gap = [float(r[2]) for r in rows]
lost = [int(r[3]) for r in rows]
ping = [int(r[4]) for r in rows]
def p50(v): return statistics.median(v) if v else None
res = {
    "note": "tests/vm/tm_bench.sh in the QEMU/TCG test VM: three gateways with elastic-syncd and elastic-heartbeatd, "
            "elasticctl transfer by control socket (same VM), exact handover (outbound_stopped, no margin), traffic moved by "
            "the target's steering hook before the source lets go; interruption = longest gap of a 1,000 packets/s probe (both directions)",
    "n": len(rows),
    "transfer_ms_p50": p50(gap), "transfer_ms_max": max(gap),
    "transfer_lost_1000pps_p50": p50(lost), "transfer_lost_1000pps_max": max(lost),
    "transfer_lost_50pps_p50": p50(ping), "transfer_lost_50pps_max": max(ping),
    "eu_replay_errors": sum(int(r[5]) for r in rows),
    "steps_ms_p50": {k: p50([float(r[6 + i]) for r in rows if len(r) > 9]) for i, k in
                     enumerate(["passive_copy", "steer", "release", "activate"])},
    "not_measured": "drain_50_s, drain_lost_50pps_max, transfer_tcp_stall_ms_p50, transfer_tcp_retransmits_p50 "
                    "(drain and transfer by node name are not implemented yet)",
    "runs": [dict(zip(["from", "to", "max_gap_ms", "probe_lost", "ping_lost", "replay_errors",
                       "passive_copy_ms", "steer_ms", "release_ms", "activate_ms"], r)) for r in rows],
}
json.dump(res, open(sys.argv[2], "w"), indent=1)
print(json.dumps({k: v for k, v in res.items() if k != "runs"}, indent=1))
PY
