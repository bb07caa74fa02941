# One run's measurement inside the VM: an audio-like stream from the server (rb, 10.2.0.1) to the
# EU (10.1.0.1) through its VPN, as the paper streamed to its EU: UDP RTP-like packets every
# 20 ms (testbed/tools/rtpstream.py) or a TCP download paced at the same bit rate, 20 ms of audio
# per write (testbed/tools/tcpstream.py); and the counters around it: the EU's replay drops, the
# server's TCP retransmissions, whether the EU kept its IKE_SA.

TOOLS=$ELASTIC_REPO/testbed/tools

# wait_listen NS PROTO PORT: until a socket of NS listens on PORT (the receiver is up).
wait_listen() {
	local i
	for i in $(seq 500); do
		ip netns exec "$1" ss -Hln --"$2" "sport = :$3" | grep -q . && return 0
		sleep 0.01
	done
	echo "measure: nothing listens on $2 port $3 in $1" >&2
	return 1
}

# measure_start PROTO KBPS SECS: start the stream; returns once it flows. M_T0 = its start (ns).
measure_start() {
	local proto=$1 kbps=$2 secs=$3
	M_DIR=$CHARON_RUN/measure M_PORT=$((M_PORT + 1)) M_PROTO=$proto M_SECS=$secs
	rm -rf "$M_DIR" && mkdir -p "$M_DIR"
	: >"$M_DIR/sender.json"
	M_REPLAY0=$(xfrm_stat eu XfrmInStateSeqError) M_RETR0=$(snmp_tcp rb RetransSegs)
	M_IKE0=$(eu_ike_spis) M_INITS0=$(eu_inits)
	if [ "$proto" = udp ]; then
		ip netns exec eu "$TOOLS/rtpstream.py" recv 10.1.0.1 $M_PORT $((secs + 2)) "$M_DIR/stream.json" &
		M_RX=$!
		wait_listen eu udp $M_PORT
		PROBE_READY=$M_DIR/ready ip netns exec rb "$TOOLS/rtpstream.py" send 10.2.0.1 10.1.0.1 $M_PORT "$kbps" "$secs" \
			>"$M_DIR/sender.json" &
		M_TX=$!
		local i
		for i in $(seq 1000); do [ -e "$M_DIR/ready" ] && break; sleep 0.01; done
	else
		ip netns exec eu "$TOOLS/tcpstream.py" sink 10.1.0.1 $M_PORT "$M_DIR/stream.json" &
		M_RX=$!
		wait_listen eu tcp $M_PORT
		ip netns exec rb "$TOOLS/tcpstream.py" send 10.2.0.1 10.1.0.1 $M_PORT $((kbps * 1000)) "$secs" $((kbps * 20 / 8)) &
		M_TX=$!
	fi
	M_T0=$(date +%s%N)
}

# measure_at SECS: sleep until SECS after the stream's start.
measure_at() {
	local left
	left=$(( $1 * 1000000000 - ($(date +%s%N) - M_T0) ))
	[ $left -gt 0 ] && sleep "$(printf '%d.%09d' $((left / 1000000000)) $((left % 1000000000)))"
	return 0
}

# measure_end: wait for the stream to end (at most 90 s beyond its length: a TCP connection whose
# path died backs off) and print the counters as JSON.
measure_end() {
	local end=$(($(date +%s) + M_SECS + 90))
	while [ "$(date +%s)" -lt $end ]; do
		kill -0 $M_TX 2>/dev/null || kill -0 $M_RX 2>/dev/null || break
		sleep 0.1
	done
	kill $M_TX $M_RX 2>/dev/null || true
	wait $M_TX $M_RX 2>/dev/null || true
	[ -s "$M_DIR/stream.json" ] || echo '{"error": "the receiver wrote no result"}' >"$M_DIR/stream.json"
	local kept=false
	[ -n "$M_IKE0" ] && [ "$(eu_ike_spis)" = "$M_IKE0" ] && kept=true
	printf '{"eu_replay_errors": %d, "tcp_retransmits": %s, "eu_kept_ike_sa": %s, "eu_new_ike_sas": %d}\n' \
		$(( $(xfrm_stat eu XfrmInStateSeqError) - M_REPLAY0 )) \
		"$([ "$M_PROTO" = tcp ] && echo $(( $(snmp_tcp rb RetransSegs) - M_RETR0 )) || echo null)" \
		$kept $(( $(eu_inits) - M_INITS0 ))
}
