#!/usr/bin/env bash
# Diagnostic (not a test): why a TCP download across a failover sometimes stalls ~2.8 s while UDP
# recovers in ~0.3 s (docs/results/experiment/report.md). Four failovers of the experiment's
# elastic system (100 ms x 3) under its 48 kbps TCP stream, with tcpdump on rb (the server), the
# new owner and the EU, and the xfrm/TCP counters of every namespace before and after; pcaps and
# counters go to build/diag-tcp-failover. Read them with tcpdump -r -tt against kill-N.time.
#   testbed/vm/run -- testbed/experiment/diag_tcp_failover.sh
set -uo pipefail
. "$(dirname "$0")/../lib/common.sh"
X_OUT=${ELASTIC_BUILD:-$ELASTIC_REPO/build}/diag-tcp-failover
mkdir -p "$X_OUT/log" "$X_OUT/runs"
. "$ELASTIC_REPO/testbed/experiment/engine.sh"
X_GATEWAYS=2 X_MISSES=3 X_EVENT_AT=3
M_PORT=21000
elastic_start 100 3 >"$X_OUT/log/start.log" 2>&1 || { tail -20 "$X_OUT/log/start.log"; exit 1; }
elastic_up cbc || exit 1
trap bed_teardown EXIT
ctrs() { for n in eu rf rb $TOPOLOGY_SGS; do echo "== $n"; ip netns exec $n nstat -az 2>/dev/null | grep -E 'Xfrm|TcpExtTCPLoss|IpOutNoRoutes|IpInAddrErrors|IpExtInNoRoutes|Retrans|TCPTimeouts' | awk '$2 != 0'; done; }
for i in $(seq ${N:-4}); do
	elastic_prepare || exit 1
	echo "=== run $i: owner $X_OWNER alt $X_ALT"
	ctrs >"$X_OUT/ctr-$i-before.txt"
	ip netns exec rb tcpdump -i any -n -tt -s 96 -w "$X_OUT/rb-$i.pcap" 'tcp or icmp or arp' 2>/dev/null & d1=$!
	ip netns exec eu tcpdump -i any -n -tt -s 96 -w "$X_OUT/eu-$i.pcap" 'tcp or esp or icmp or udp port 4500' 2>/dev/null & d2=$!
	ip netns exec $X_ALT tcpdump -i any -n -tt -s 96 -w "$X_OUT/alt-$i.pcap" 'tcp or esp or icmp or arp' 2>/dev/null & d3=$!
	sleep 1
	measure_start tcp 48 8
	measure_at 3
	date +%s.%N >"$X_OUT/kill-$i.time"
	elastic_event ha_kill
	measure_end >"$M_DIR/counters.json"
	cp "$M_DIR/stream.json" "$X_OUT/stream-$i.json"
	ip netns exec rb ip route show; ip -n rb neigh show
	ip -n $X_ALT xfrm policy | grep -E '^src|dir|action' | head -20 >"$X_OUT/alt-pol-$i.txt"
	ctrs >"$X_OUT/ctr-$i-after.txt"
	kill $d1 $d2 $d3; wait $d1 $d2 $d3 2>/dev/null
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("stall", d.get("max_gap_ms"), d.get("gap_at_s"), "retrans", json.load(open(sys.argv[2])))' "$X_OUT/stream-$i.json" "$M_DIR/counters.json"
	diff "$X_OUT/ctr-$i-before.txt" "$X_OUT/ctr-$i-after.txt"
	elastic_restore ha_kill >>"$X_OUT/log/restore.log" 2>&1 || { echo restore failed; tail "$X_OUT/log/restore.log"; exit 1; }
done
