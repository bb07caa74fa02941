#!/usr/bin/env bash
# Benchmark (inside the VM): live transfers sg1 <-> sg2 during a 50 packets/s stream; prints JSON
# with lost packets, interruption and the time of each step, per transfer and summarized.
#   transfer_bench.sh OUT.json [ROUNDS]
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$ELASTIC_REPO/testbed/lib/cluster.sh"
. "$ELASTIC_REPO/testbed/lib/stream.sh"
out=$1 rounds=${2:-6}

cluster_start
swanctl_in eu --initiate --ike sg --child gcm >/dev/null

from=sg1 to=sg2
: >"$CHARON_RUN/rounds"
for i in $(seq "$rounds"); do
	stream_start "$CHARON_RUN/stream.out" 3
	sleep 1
	t=$(cluster_transfer $from $to)
	stream_wait
	s=$(stream_stats "$CHARON_RUN/stream.out")
	# "transferred to ike-id N: passive copy A ms, steer B ms, release C ms, activate D ms"
	echo "$s $(echo "$t" | sed -E 's/.*passive copy ([0-9.]+) ms, steer ([0-9.]+) ms, release ([0-9.]+) ms, activate ([0-9.]+) ms/\1 \2 \3 \4/')" \
		>>"$CHARON_RUN/rounds"
	tmp=$from from=$to to=$tmp
done
awk -v rounds="$rounds" '
	{ lost[NR] = $2; gap[NR] = $4; pas += $5; rel += $7; act += $8
	  if ($2 > maxlost) maxlost = $2; if ($4 > maxgap) maxgap = $4; sumlost += $2; sumgap += $4 }
	END {
		printf "{\n  \"transfers\": %d,\n  \"stream_pps\": 50,\n", rounds
		printf "  \"lost_packets_mean\": %.2f,\n  \"lost_packets_max\": %d,\n", sumlost / NR, maxlost
		printf "  \"interruption_ms_mean\": %.1f,\n  \"interruption_ms_max\": %d,\n", sumgap / NR, maxgap
		printf "  \"passive_copy_ms_mean\": %.1f,\n  \"release_ms_mean\": %.1f,\n  \"activate_ms_mean\": %.1f,\n", pas / NR, rel / NR, act / NR
		printf "  \"lost_per_transfer\": ["; for (i = 1; i <= NR; i++) printf "%s%d", (i > 1 ? ", " : ""), lost[i]; printf "]\n}\n"
	}' "$CHARON_RUN/rounds" >"$out"
cat "$out"
