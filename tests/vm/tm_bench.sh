#!/usr/bin/env bash
# Benchmark (figures, not pass/fail): planned transfers by member name in a three-gateway cluster
# with elastic-syncd and elastic-heartbeatd running, round robin sg1 -> sg2 -> sg3 -> sg1 ...; per
# transfer the longest delivery gap of a 1,000 packets/s probe through the VPN (both directions),
# the probe's and a 50 packets/s ping's losses, the EU's replay errors and elasticctl's step timings.
# Then TCP: TCP_RUNS transfers across an 8 Mbit/s paced bulk stream (the receiver's longest stall,
# the sender's retransmitted segments). Then drains: DRAINS times, the member owning the most of
# the EUs' VPNs is drained while every EU streams (5 at 50 packets/s, the others at 2/s); per
# drain its duration and each EU's loss.
#   tm_bench.sh OUT.json [TRANSFERS] [DRAINS] [TCP_RUNS] [EUS]
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$ELASTIC_REPO/testbed/lib/ha.sh"
. "$ELASTIC_REPO/testbed/lib/stream.sh"
out=$1 runs=${2:-20} drains=${3:-4} tcp_runs=${4:-6} eus=${5:-5}

# DPD every 30 s (as in production) rather than the tests' 2 s: 50 EUs x 2 sides every 2 s, each
# exchange replicated, would load QEMU/TCG by themselves
CLUSTER_N=3 CLUSTER_EUS=$eus CLUSTER_DPD=30s ha_start
ip netns exec rb "$ELASTIC_REPO/testbed/tools/probe.py" echo 10.2.0.1 7777 &
for e in $TOPOLOGY_EUS; do swanctl_in $e --initiate --ike sg --child gcm >/dev/null; done
for i in $(seq 300); do [ -n "$(for n in sg2 sg3; do [ "$(ha_role $n)" = passive ] && echo $n; done)" ] && break; sleep 0.02; done
# the probed EU's VPN on a gateway, by its IKE SPI (the other EUs' VPNs are of the same connection)
eu_spi=$(swanctl_in eu --list-sas | awk '/ESTABLISHED, IKEv2/ { sub("_i.*", "", $5); print $5; exit }')
ike_id_of_eu() { ctl "$1" list | awk -v s="$eu_spi" '$0 ~ "spi_i " s { gsub(",", ""); print $3; exit }'; }
# wait_owner NODE: until NODE holds the probed EU's VPN active (the next move starts from there)
wait_owner() {
	local i
	for i in $(seq 300); do ctl "$1" list | grep "spi_i $eu_spi" | grep -q ' active,' && return 0; sleep 0.02; done
}
# The machine's own noise: the probe with nothing moving (QEMU/TCG under the cluster's load).
qrec=$CHARON_RUN/quiet.txt
: >"$qrec"
for q in 1 2 3; do
	ha_probe "$CHARON_RUN/probe.json" 3
	wait $probe || true
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["max_gap_ms"], d["lost"])' "$CHARON_RUN/probe.json" | tee -a "$qrec"
done
rec=$CHARON_RUN/tm.txt
: >"$rec"
owner=sg1
for r in $(seq "$runs"); do
	to=sg$(( ${owner#sg} % 3 + 1 ))
	seq0=$(xfrm_stat eu XfrmInStateSeqError) blk0=$(policy_blocked) rcv0=$(probe_rcvbuf)
	ha_probe "$CHARON_RUN/probe.json" 3
	ip netns exec eu ping -n -q -i 0.02 -c 150 -W 1 -I 10.1.0.1 10.2.0.1 >"$CHARON_RUN/ping.out" 2>&1 &
	ping=$!
	sleep 1
	steps=$(ctl $owner transfer --ike-id "$(ike_id_of_eu $owner)" --to $to |
		sed -E 's/.*passive copy ([0-9.]+) ms, steer ([0-9.]+) ms, release ([0-9.]+) ms, activate ([0-9.]+) ms.*/\1 \2 \3 \4/')
	wait $probe $ping || true
	echo "$owner $to $(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["max_gap_ms"], d["lost"])' "$CHARON_RUN/probe.json") \
$(awk '/packets transmitted/ { print $1 - $4 }' "$CHARON_RUN/ping.out") $(( $(xfrm_stat eu XfrmInStateSeqError) - seq0 )) \
$(( $(policy_blocked) - blk0 )) $steps $(( $(probe_rcvbuf) - rcv0 ))" | tee -a "$rec"
	owner=$to
	wait_owner $owner
	sleep 1  # the new owner's replica reaches its alternate before the next move
done

# TCP: a paced 8 Mbit/s bulk stream from the EU across each transfer.
trec=$CHARON_RUN/tcp.txt
: >"$trec"
for r in $(seq "$tcp_runs"); do
	to=sg$(( ${owner#sg} % 3 + 1 ))
	port=$((8000 + r))
	rm -f "$CHARON_RUN/tcp.json"
	ip netns exec rb "$ELASTIC_REPO/testbed/tools/tcpstream.py" sink 10.2.0.1 $port "$CHARON_RUN/tcp.json" &
	sink=$!
	sleep 0.5
	r0=$(snmp_tcp eu RetransSegs)
	ip netns exec eu "$ELASTIC_REPO/testbed/tools/tcpstream.py" send 10.1.0.1 10.2.0.1 $port 8000000 4 &
	sender=$!
	sleep 1.5
	ctl $owner transfer --ike-id "$(ike_id_of_eu $owner)" --to $to >/dev/null || true
	wait $sender $sink || true
	echo "$owner $to $(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["max_gap_ms"], d["bytes"])' "$CHARON_RUN/tcp.json") $(( $(snmp_tcp eu RetransSegs) - r0 ))" | tee -a "$trec"
	owner=$to
	wait_owner $owner
	sleep 1
done

# Drains: the member owning the most VPNs is emptied while every EU streams (eu_streams_start: 5
# EUs at 50 packets/s, the others at 2/s).
drec=$CHARON_RUN/drain.txt
: >"$drec"
# the probed EU's VPN back to sg1, where the others are: the first drain then moves all EUS
[ $owner = sg1 ] || { ctl $owner transfer --ike-id "$(ike_id_of_eu $owner)" --to sg1 >/dev/null || true; wait_owner sg1; sleep 1; }
for d in $(seq "$drains"); do
	from=$(for n in $TOPOLOGY_SGS; do echo "$(ctl $n list | grep -c ' active,') $n"; done | sort -rn | awk 'NR == 1 { print $2 }')
	eu_streams_start $((eus * 6 / 10 + 8))
	sleep 1
	summary=$(ctl $from --syncd-socket "$CHARON_RUN/$from/syncd.sock" drain $from --json || true)
	eu_streams_wait || true
	losses=$(eu_streams_losses)
	fast=$(echo "$losses" | awk '$4 == 50 { print $2 }' | xargs | tr ' ' ,)
	slow=$(echo "$losses" | awk '$4 == 2 { print $2 }' | sort -n | tail -1)
	echo "$summary" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["moved"], d["failed"], d["seconds"], *sys.argv[1:])' \
		"$fast" "${slow:-0}" | tee -a "$drec"
	sleep 2
	ctl $from --syncd-socket "$CHARON_RUN/$from/syncd.sock" rebalance >/dev/null || true  # some come back for the next drain
	sleep 2
done
python3 - "$rec" "$out" "$drec" "$trec" "$eus" "$qrec" <<'PY'
import json, statistics, sys
quiet = [l.split() for l in open(sys.argv[6]) if l.strip()]
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
gap = [float(r[2]) for r in rows]
lost = [int(r[3]) for r in rows]
ping = [int(r[4]) for r in rows]
def p50(v): return statistics.median(v) if v else None
tcp = [l.split() for l in open(sys.argv[4]) if l.strip()]
tcp_gap = [float(r[2]) for r in tcp]
tcp_rtx = [int(r[4]) for r in tcp]
res = {
    "note": "tests/vm/tm_bench.sh in the QEMU/TCG test VM: three gateways with elastic-syncd and elastic-heartbeatd, "
            "elasticctl transfer --to NODE (over syncd's TLS links), exact handover (outbound_stopped, no margin), traffic moved by "
            "the target's steering hook before the source lets go; interruption = longest gap of a 1,000 packets/s probe (both directions)",
    "n": len(rows),
    "quiet_ms_max": max((float(q[0]) for q in quiet), default=None),
    "quiet_lost_1000pps_max": max((int(q[1]) for q in quiet), default=None),
    "transfer_ms_p50": p50(gap), "transfer_ms_max": max(gap),
    "transfer_lost_1000pps_p50": p50(lost), "transfer_lost_1000pps_max": max(lost),
    "transfer_lost_50pps_p50": p50(ping), "transfer_lost_50pps_max": max(ping),
    "eu_replay_errors": sum(int(r[5]) for r in rows),
    "drain_lost_50pps_max": max((int(x) for l in open(sys.argv[3]) if l.strip() for x in l.split()[3].split(",")), default=None),
    "drain_s_max": max((float(l.split()[2]) for l in open(sys.argv[3]) if l.strip()), default=None),
    "drain_50_s": next((float(l.split()[2]) for l in open(sys.argv[3]) if l.strip() and int(l.split()[0]) >= 50), None),
    "transfer_policy_drops_p50": p50([int(r[6]) for r in rows]), "transfer_policy_drops_max": max(int(r[6]) for r in rows),
    "transfer_probe_rcvbuf_drops_p50": p50([int(r[11]) for r in rows if len(r) > 11]),
    "transfer_probe_rcvbuf_drops_max": max((int(r[11]) for r in rows if len(r) > 11), default=None),
    "steps_ms_p50": {k: p50([float(r[7 + i]) for r in rows if len(r) > 10]) for i, k in
                     enumerate(["passive_copy", "steer", "release", "activate"])},
    "drain_lost_2pps_max": max((int(l.split()[4]) for l in open(sys.argv[3]) if l.strip()), default=None),
    "drains": [dict(zip(["moved", "failed", "seconds", "lost_50pps_per_eu", "lost_2pps_max"], l.split())) for l in open(sys.argv[3]) if l.strip()],
    "eus": int(sys.argv[5]),
    "transfer_tcp_stall_ms_p50": p50(tcp_gap), "transfer_tcp_stall_ms_max": max(tcp_gap, default=None),
    "transfer_tcp_retransmits_p50": p50(tcp_rtx), "transfer_tcp_retransmits_max": max(tcp_rtx, default=None),
    "tcp_runs": [dict(zip(["from", "to", "max_gap_ms", "bytes", "retransmits"], l.split())) for l in open(sys.argv[4]) if l.strip()],
    "not_measured": "drain_50_s (a drain of 50 VPNs: run with EUS=50)" if int(sys.argv[5]) < 50 else "",
    "runs": [dict(zip(["from", "to", "max_gap_ms", "probe_lost", "ping_lost", "replay_errors", "policy_drops",
                       "passive_copy_ms", "steer_ms", "release_ms", "activate_ms", "probe_rcvbuf_drops"], r)) for r in rows],
}
json.dump(res, open(sys.argv[2], "w"), indent=1)
print(json.dumps({k: v for k, v in res.items() if k != "runs"}, indent=1))
PY
