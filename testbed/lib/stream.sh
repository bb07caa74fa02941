# A 50 packets/s stream from the EU through the tunnel (ping, 20 ms apart) and what it lost.

# stream_start FILE SECONDS: ping from $STREAM_SRC (default 10.1.0.1) to $STREAM_DST (default
# 10.2.0.1) in the background, output to FILE.
stream_start() {
	ip netns exec eu ping -n -i 0.02 -c $(($2 * 50)) -W 1 -I "${STREAM_SRC:-10.1.0.1}" "${STREAM_DST:-10.2.0.1}" >"$1" 2>&1 &
	STREAM_PID=$!
}

stream_wait() { wait "$STREAM_PID" || true; }

# stream_stats FILE [SPACING_MS]: "lost K interruption_ms M": K packets never answered, M the
# longest gap between two answered packets beyond the normal spacing (default 20 ms).
stream_stats() {
	awk -v step="${2:-20}" '
		/icmp_seq=/ { match($0, /icmp_seq=[0-9]+/); s = substr($0, RSTART + 9, RLENGTH - 9) + 0
			if (have && s - last > gap) gap = s - last; last = s; have = 1 }
		/packets transmitted/ { tx = $1; rx = $4 }
		END { g = gap > 1 ? (gap - 1) * step : 0; printf "lost %d interruption_ms %d\n", tx - rx, g }' "$1"
}

# Streams from every EU of the cluster (topology_cluster) through its VPN, as drains need them:
# a ping to 10.2.0.1 at 50 packets/s from the first EU_STREAMS_FULL EUs (default 5), at 2/s from
# the others. QEMU/TCG forwards only a few thousand ESP packets/s in all: 50 EUs at 50/s each
# overload it, and the heartbeats with it.
eu_stream_ms() { [ "${1#eu}" = "" ] || [ "${1#eu}" -le "${EU_STREAMS_FULL:-5}" ] && echo 20 || echo 500; }

# eu_streams_start SECONDS: each EU's ping output goes to $CHARON_RUN/ping-EU.out.
eu_streams_start() {
	local e inner ms
	EU_STREAM_PIDS=
	for e in $TOPOLOGY_EUS; do
		read -r _ inner _ < <(topology_eu_addrs $e)
		ms=$(eu_stream_ms $e)
		ip netns exec $e ping -n -i 0.$(printf %03d $ms) -c $(($1 * 1000 / ms)) -I $inner 10.2.0.1 \
			>"$CHARON_RUN/ping-$e.out" 2>&1 &
		EU_STREAM_PIDS+=" $!"
	done
}

# eu_streams_wait: until every stream has ended; fails naming an EU whose ping did not finish.
eu_streams_wait() {
	local e
	wait $EU_STREAM_PIDS || true
	for e in $TOPOLOGY_EUS; do
		grep -q 'packets transmitted' "$CHARON_RUN/ping-$e.out" || { echo "$e's stream did not finish" >&2; return 1; }
	done
}

# eu_streams_losses: one line per EU, "EU LOST GAP_MS PACKETS_PER_S" (see stream_stats).
eu_streams_losses() {
	local e ms
	for e in $TOPOLOGY_EUS; do
		ms=$(eu_stream_ms $e)
		echo "$e $(stream_stats "$CHARON_RUN/ping-$e.out" $ms | awk '{ print $2, $4 }') $((1000 / ms))"
	done
}
