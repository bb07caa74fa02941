# A 50 packets/s stream from the EU through the tunnel (ping, 20 ms apart) and what it lost.

# stream_start FILE SECONDS: ping from $STREAM_SRC (default 10.1.0.1) to 10.2.0.1 in the
# background, output to FILE.
stream_start() {
	ip netns exec eu ping -n -i 0.02 -c $(($2 * 50)) -W 1 -I "${STREAM_SRC:-10.1.0.1}" 10.2.0.1 >"$1" 2>&1 &
	STREAM_PID=$!
}

stream_wait() { wait "$STREAM_PID" || true; }

# stream_stats FILE: "lost K interruption_ms M": K packets never answered, M the longest gap
# between two answered packets beyond the normal 20 ms spacing.
stream_stats() {
	awk '
		/icmp_seq=/ { match($0, /icmp_seq=[0-9]+/); s = substr($0, RSTART + 9, RLENGTH - 9) + 0
			if (have && s - last > gap) gap = s - last; last = s; have = 1 }
		/packets transmitted/ { tx = $1; rx = $4 }
		END { g = gap > 1 ? (gap - 1) * 20 : 0; printf "lost %d interruption_ms %d\n", tx - rx, g }' "$1"
}
