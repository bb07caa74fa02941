# A high-availability cluster in the test VM: the gateways of cluster.sh, each with the plugin,
# elastic-syncd and elastic-heartbeatd, plus a witness (namespace wit, behind rf) that votes on
# membership; the plugin steers VPNs through testbed/steer-hook. Used by tests/vm/ha_*.sh, the
# ha benchmark and the demo.
. "$(dirname "${BASH_SOURCE[0]}")/cluster.sh"
. "$(dirname "${BASH_SOURCE[0]}")/../../tests/syncd/lib.sh"

SYNCD=${SYNCD:-$ELASTIC_BUILD/daemons/syncd/elastic-syncd}
HEARTBEATD=${HEARTBEATD:-$ELASTIC_BUILD/daemons/heartbeatd/elastic-heartbeatd}
# Tests detect in 500 ms: the test VM is emulated (TCG) on a shared 2-core machine, where 20 ms
# heartbeats stall often enough to flap (false detections, fences). The ha benchmark sweeps the
# interval down to 10 ms and reports what it costs.
HA_INTERVAL=${HA_INTERVAL:-100ms}
HA_MISSES=${HA_MISSES:-5}

# ha_conf NODE: the shared elastic { } section for NODE (syncd and heartbeatd read it).
ha_conf() {
	local n=$1 sg up rest
	echo "elastic {"
	echo "	node = $n"
	echo "	cluster { replicas = 1"
	echo "		members {"
	for sg in $TOPOLOGY_SGS; do
		read -r up rest < <(topology_sg_addrs $sg)
		echo "			$sg { address = $up:7400 }"
	done
	echo "			w1 { address = 198.51.100.254:7400
				witness = yes }"
	echo "		} }"
	cat <<-CONF
		syncd {
			socket = $CHARON_RUN/$n/syncd.sock
			tls { ca = $CHARON_RUN/certs/ca.pem
				cert = $CHARON_RUN/certs/$n.pem
				key = $CHARON_RUN/certs/$n.key }
		}
		heartbeat {
			port = 7401
			interval = $HA_INTERVAL
			misses = $HA_MISSES
			key = $CHARON_RUN/certs/heartbeat.key
			socket = $CHARON_RUN/$n/heartbeatd.sock
			plugin_socket = $CHARON_RUN/$n/charon.elastic
			syncd_socket = $CHARON_RUN/$n/syncd.sock
		}
	}
	CONF
}

# The plugin's settings on a gateway (cluster_start's EXTRA_FN).
ha_plugin_conf() {
	[ "${1#eu}" != "$1" ] && return 0
	echo "syncd_socket = $CHARON_RUN/$1/syncd.sock
		steer = ${HA_STEER:-unix://$CHARON_RUN/steer.sock}"
}

# ha_daemons_start NODE: syncd (gateways only) and heartbeatd of NODE in its namespace.
ha_daemons_start() {
	local n=$1 ns=$1
	[ "$n" = w1 ] && ns=wit
	mkdir -p "$CHARON_RUN/$n"
	ha_conf $n >"$CHARON_RUN/$n/elastic.conf"
	if [ "$n" != w1 ]; then
		ip netns exec $ns "$SYNCD" --config "$CHARON_RUN/$n/elastic.conf" >"$CHARON_RUN/$n/syncd.log" 2>&1 &
		echo $! >"$CHARON_RUN/$n/syncd.pid"
	fi
	# Real-time priority, as its systemd unit sets it: a saturated gateway must still send its
	# heartbeats (under QEMU a busy tunnel otherwise starves it into false failure detections).
	ip netns exec $ns chrt -r 50 "$HEARTBEATD" --config "$CHARON_RUN/$n/elastic.conf" >"$CHARON_RUN/$n/heartbeatd.log" 2>&1 &
	echo $! >"$CHARON_RUN/$n/heartbeatd.pid"
}

# ha_kill NODE [host]: kill -9 of every process of a gateway (charon, syncd, heartbeatd); with
# "host" its links go down at the same moment (the machine died: its kernel forwards nothing).
ha_kill() {
	local f pids=
	for f in charon syncd heartbeatd; do
		[ -f "$CHARON_RUN/$1/$f.pid" ] && pids+=" $(cat "$CHARON_RUN/$1/$f.pid")"
	done
	kill -9 $pids 2>/dev/null || true
	if [ "${2:-}" = host ]; then
		ip -n $1 link set eth-rf down
		ip -n $1 link set eth-rb down
	fi
}

ha_cleanup() {
	local rc=$? n
	for n in $TOPOLOGY_SGS w1; do
		for f in syncd heartbeatd; do
			[ -f "$CHARON_RUN/$n/$f.pid" ] && kill "$(cat "$CHARON_RUN/$n/$f.pid")" 2>/dev/null || true
		done
	done
	pkill -f probe.py 2>/dev/null || true
	[ -f "$CHARON_RUN/steerd.pid" ] && kill "$(cat "$CHARON_RUN/steerd.pid")" 2>/dev/null || true
	if [ "$rc" -ne 0 ]; then
		# keep every log for a look after the VM is gone (the repo is shared read-write)
		for n in $TOPOLOGY_SGS w1 $TOPOLOGY_EUS; do
			mkdir -p "$ELASTIC_REPO/build/vm-logs/$n" && cp "$CHARON_RUN/$n/"*.log "$ELASTIC_REPO/build/vm-logs/$n/" 2>/dev/null || true
		done
		for n in $TOPOLOGY_SGS w1; do
			echo "--- last lines of $n's syncd and heartbeatd logs" >&2
			tail -n 8 "$CHARON_RUN/$n/syncd.log" "$CHARON_RUN/$n/heartbeatd.log" >&2 2>/dev/null || true
		done
	fi
	return "$rc"
}

# ha_start: CLUSTER_N gateways (default 2) with all daemons, the witness, the EU; waits until
# every heartbeatd sees every member ready.
ha_start() {
	local n i
	mkdir -p "$CHARON_RUN/certs"
	syncd_certs "$CHARON_RUN/certs" $(for n in $(seq "${CLUSTER_N:-2}"); do echo sg$n; done) >/dev/null
	head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$CHARON_RUN/certs/heartbeat.key"
	chmod 600 "$CHARON_RUN/certs/heartbeat.key"
	cluster_start ha_plugin_conf
	trap 'ha_cleanup; charon_cleanup $TOPOLOGY_EUS $TOPOLOGY_SGS' EXIT
	# the long-running steering helper (no process start on the failover's critical path)
	chrt -r 40 "$ELASTIC_REPO/testbed/tools/steerd.py" "$CHARON_RUN/steer.sock" &
	echo $! >"$CHARON_RUN/steerd.pid"
	ns_create wit
	ns_link rf eth-wit 198.51.100.253/30 wit eth-rf 198.51.100.254/30
	ip -n wit route add default via 198.51.100.253
	for n in $TOPOLOGY_SGS w1; do ha_daemons_start $n; done
	ha_warm_neighbours
	for i in $(seq 300); do
		ha_all_ready && return 0
		sleep 0.05
	done
	for n in $TOPOLOGY_SGS w1; do echo "--- $n"; ha_status $n; tail -5 "$CHARON_RUN/$n/heartbeatd.log"; done
	die "the cluster's heartbeats did not converge"
}

# The routers know every gateway's link address before a failover (as on a real network, where
# neighbour entries stay fresh): the first packets after a steering flip do not wait for ARP.
ha_warm_neighbours() {
	local sg
	for sg in $TOPOLOGY_SGS; do
		set -- $(topology_sg_addrs $sg)
		ip netns exec rf ping -c 1 -W 1 $1 >/dev/null 2>&1 || true
		ip netns exec rb ping -c 1 -W 1 $2 >/dev/null 2>&1 || true
	done
}

ha_status() { "$HEARTBEATD" --status "$CHARON_RUN/$1/heartbeatd.sock" 2>/dev/null; }

# True when every member's heartbeatd shows every member ready.
ha_all_ready() {
	local n st
	for n in $TOPOLOGY_SGS w1; do
		st=$(ha_status $n | grep '^member') || return 1
		printf '%s\n' "$st" | grep -vq 'state ready' && return 1
	done
	return 0
}

# vpn_roles: "VPN_ID NODE ROLE" for every VPN on every gateway that is up, sorted.
vpn_roles() {
	local n
	for n in $TOPOLOGY_SGS; do
		{ ctl $n list 2>/dev/null || true; } | awk -v n=$n '/ike-id/ { gsub(",", ""); r = "";
			for (i = 1; i <= NF; i++) { if ($i == "vpn") v = $(i + 1); if ($i ~ /^(active|passive|fenced)$/) r = $i }
			print v, n, r }'
	done | sort
}

# ha_role NODE: "active"/"passive"/"fenced" of the EU's VPN on NODE (empty if none).
ha_role() { ctl "$1" list 2>/dev/null | awk '/ike-id/ { gsub(",", ""); for (i = 1; i <= NF; i++) if ($i ~ /^(active|passive|fenced)$/) print $i; exit }'; }

# ha_oseq NODE: outbound sequence number of the EU's VPN's first CHILD_SA as NODE holds it.
ha_oseq() { ctl "$1" list 2>/dev/null | awk '/spi_in/ { for (i = 1; i <= NF; i++) if ($i == "oseq") { v = $(i + 1); gsub(",", "", v); print v; exit } }'; }

# ha_reboot_net NODE: a failed gateway's network as after a reboot: no SAs or policies, links up,
# its routes.
ha_reboot_net() {
	ip -n $1 xfrm state flush && ip -n $1 xfrm policy flush
	ip -n $1 link set eth-rf up && ip -n $1 link set eth-rb up
	ip -n $1 route replace default via "$(topology_sg_addrs $1 | awk '{ print $3 }')"
	ip -n $1 route replace 10.2.0.0/24 via "$(topology_sg_addrs $1 | awk '{ print $4 }')"
}

# ha_restart NODE: a killed gateway comes back (kernel state as after a reboot), all daemons.
ha_restart() {
	ha_reboot_net $1
	charon_start $1 $1 "install_routes = no
		plugins { elastic { node = $1
			$(ha_plugin_conf $1) } }"
	swanctl_load $1 "$(swanctl_conf_cluster_sg)"
	ha_daemons_start $1
}

# ha_heartbeat_restart: every heartbeatd again, with the current HA_INTERVAL/HA_MISSES.
ha_heartbeat_restart() {
	local n ns
	for n in $TOPOLOGY_SGS w1; do
		kill "$(cat "$CHARON_RUN/$n/heartbeatd.pid")" 2>/dev/null || true
	done
	sleep 0.2
	for n in $TOPOLOGY_SGS w1; do
		ns=$n
		[ $n = w1 ] && ns=wit
		ha_conf $n >"$CHARON_RUN/$n/elastic.conf"
		ip netns exec $ns chrt -r 50 "$HEARTBEATD" --config "$CHARON_RUN/$n/elastic.conf" >>"$CHARON_RUN/$n/heartbeatd.log" 2>&1 &
		echo $! >"$CHARON_RUN/$n/heartbeatd.pid"
	done
}

# policy_blocked: packets the gateways' DROP policies dropped (XfrmOutPolBlock, all gateways). In a
# transfer: the traffic to the EU that met the target before its activation or the source after its
# fence, i.e. the data plane's window (at 1,000 packets/s about one packet per ms), counted by the
# kernel, free of the probe's own scheduling.
policy_blocked() { local n t=0; for n in $TOPOLOGY_SGS; do t=$((t + $(xfrm_stat $n XfrmOutPolBlock))); done; echo $t; }

# probe_rcvbuf: datagrams dropped because a receiving socket was full (the probe's sender at the EU,
# its echo at rb): the probe's own losses when its Python process is not scheduled in time.
probe_rcvbuf() { echo $(( $(snmp eu Udp RcvbufErrors) + $(snmp rb Udp RcvbufErrors) )); }

# ha_probe OUT SECS: start the 1,000/s delivery probe from the EU (output JSON to OUT) in the
# background, set $probe to its pid and return once it handles SIGUSR1 (is really sending).
ha_probe() {
	rm -f "$CHARON_RUN/probe.ready"
	PROBE_READY="$CHARON_RUN/probe.ready" ip netns exec eu "$ELASTIC_REPO/testbed/tools/probe.py" \
		send 10.1.0.1 10.2.0.1 7777 1000 "$2" >"$1" &
	probe=$!
	local i
	for i in $(seq 1000); do [ -e "$CHARON_RUN/probe.ready" ] && return 0; sleep 0.01; done
	echo "ha_probe: the probe did not start within 10 s" >&2
	return 1
}
