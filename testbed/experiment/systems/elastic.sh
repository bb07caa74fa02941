# The system under test: elastic-ipsec. X_GATEWAYS gateways and a witness, each gateway with
# charon + the elastic plugin, elastic-syncd and elastic-heartbeatd (testbed/lib/ha.sh); traffic
# steered per VPN by the plugin's steering hook. Interface of a system (engine.sh):
#   SYS_start HEARTBEAT_MS MISSES, SYS_up CHILD, SYS_event SCENARIO, SYS_restore SCENARIO.
# SYS_event leaves what it measured of the system's own work (JSON) in $X_STEPS.

# el_vpn NODE: "IKE_ID ROLE" of the EU's current VPN on NODE (empty if NODE does not hold it).
el_vpn() {
	ctl "$1" list 2>/dev/null | awk -v s="$X_EU_SPI" '$0 ~ "spi_i " s {
		gsub(",", ""); for (i = 1; i <= NF; i++) if ($i ~ /^(active|passive|fenced)$/) r = $i; print $3, r; exit }'
}

# el_holder ROLE: the gateway holding the EU's VPN in ROLE (active: its owner; passive: its alternate).
el_holder() {
	local n
	for n in $TOPOLOGY_SGS; do
		[ "$(el_vpn $n | awk '{ print $2 }')" = "$1" ] && { echo $n; return 0; }
	done
	return 1
}

# el_wait_ready: until the EU's VPN has one owner and a passive copy at its alternate, and every
# heartbeatd sees every member (the state each sample starts from).
el_wait_ready() {
	# (a restarted member rejoins within a few heartbeat intervals; QEMU/TCG is slow at it)
	local end=$(($(date +%s) + 90))
	while [ "$(date +%s)" -lt $end ]; do
		el_holder active >/dev/null && el_holder passive >/dev/null && ha_all_ready && return 0
		sleep 0.05
	done
	echo "elastic: the EU's VPN has no owner and alternate after 90 s" >&2
	return 1
}

elastic_start() {
	# exported: a gateway restarted after a failover must get the same settings
	export CLUSTER_N=$X_GATEWAYS HA_INTERVAL=${1}ms HA_MISSES=$2 CLUSTER_DPD=30s
	ha_start
	trap - EXIT
	X_STEPS='{}'
}

elastic_up() {
	swanctl_in eu --terminate --ike sg >/dev/null 2>&1 || true
	swanctl_in eu --initiate --ike sg --child "$1" >/dev/null
	X_EU_SPI=$(swanctl_in eu --list-sas --ike sg | awk '/ESTABLISHED, IKEv2/ { sub("_i.*", "", $5); print $5; exit }')
	el_wait_ready
}

# (after a move the replica at the new alternate can lag a moment: wait for it, with a reason)
elastic_prepare() {
	el_wait_ready || return 1
	X_OWNER=$(el_holder active) && X_ALT=$(el_holder passive) && X_IKE_ID=$(el_vpn $X_OWNER | awk '{ print $1 }') ||
		{ echo "elastic: the EU's VPN lost its owner or alternate before the run" >&2; return 1; }
}

elastic_event() {
	local owner=$X_OWNER alt=$X_ALT
	X_FAILED=$owner
	case $1 in
	tm) X_STEPS=$(ctl $owner transfer --ike-id "$X_IKE_ID" --to $alt --json) ;;
	drain) X_STEPS=$(ctl $owner --syncd-socket "$CHARON_RUN/$owner/syncd.sock" drain $owner --json) ;;
	ha_kill) ha_kill $owner host ;;
	ha_link) ip -n $owner link set eth-rf down && ip -n $owner link set eth-rb down ;;
	*) return 0 ;;
	esac
}

# After a failover: the takeover as the new owner's plugin logged it; the failed gateway comes
# back (processes restarted, kernel state flushed as after a reboot) and becomes the alternate.
elastic_restore() {
	case $1 in ha_kill | ha_link) ;; *) el_wait_ready; return ;; esac
	local alt line
	alt=$(el_holder active) || { echo "elastic: nobody took the VPN over" >&2; return 1; }
	line=$(grep -E 'elastic: took over [0-9]+ of [0-9]+ VPNs' "$CHARON_RUN/$alt/charon.log" | tail -1 |
		sed -nE 's/.* in ([0-9]+) ms \(steering (-?[0-9]+) ms\).*/\1 \2/p')
	X_STEPS=$(echo "$line" | awk '{ printf "{\"takeover_ms\": %s, \"steer_ms\": %s}", $1 ? $1 : "null", $2 != "" ? $2 : "null" }')
	ha_kill $X_FAILED
	ha_restart $X_FAILED
	el_wait_ready
}
