# Baseline "no context sharing": X_GATEWAYS gateways with identical configurations and nothing
# shared between them (no elastic-syncd, no heartbeat; the elastic plugin is loaded but idle,
# without its sync socket). When the owner dies the cluster IP moves to the survivor at once (as
# VRRP or a router would; favourable to the baseline), and the EU finds out by its own DPD
# and re-establishes from scratch: IKE_SA_INIT, IKE_AUTH, new CHILD_SA. The EU's settings are
# the fastest commonly deployed ones, stated in docs/results: DPD after 2 s without traffic
# (CLUSTER_DPD), retransmissions after 1 s, 1.8 s, 3.24 s (retransmit_timeout 1, tries 2), then
# dpd_action = restart. strongSwan's defaults (4 s, 5 tries) would take 165 s.

dpdr_gateway() {
	charon_start $1 $1 "install_routes = no"
	swanctl_load $1 "$(swanctl_conf_cluster_sg)"
}

dpd_reconnect_start() {
	local n
	export CLUSTER_DPD=2s
	topology_cluster "$X_GATEWAYS"
	for n in $TOPOLOGY_SGS; do dpdr_gateway $n; done
	charon_start eu eu "install_routes = no
		retransmit_timeout = 1.0
		retransmit_tries = 2"
	swanctl_load eu "$(swanctl_conf_cluster_eu eu | sed 's/esp_proposals = \([^ }]*\)/esp_proposals = \1\n\t\t\tdpd_action = restart/')"
	X_STEPS='{}'
}

dpd_reconnect_up() {
	swanctl_in eu --terminate --ike sg >/dev/null 2>&1 || true
	swanctl_in eu --initiate --ike sg --child "$1" >/dev/null
	sg_with_child >/dev/null
}

dpd_reconnect_prepare() { X_OWNER=$(sg_with_child); }

dpd_reconnect_event() {
	local owner=$X_OWNER n
	X_FAILED=$owner
	case $1 in
	ha_kill)
		ha_kill $owner host  # (its charon; this baseline runs no syncd or heartbeatd)
		for n in $TOPOLOGY_SGS; do [ $n != $owner ] && { topology_steer $n; break; }; done ;;
	*) echo "dpd_reconnect: no scenario $1" >&2; return 1 ;;
	esac
}

# The dead gateway comes back empty; the next sample kills the survivor, which now holds the EU's
# new IKE_SA.
dpd_reconnect_restore() {
	local owner=$X_FAILED end=$(($(date +%s) + 60))
	while [ "$(date +%s)" -lt $end ]; do sg_with_child >/dev/null && break; sleep 0.05; done
	X_STEPS="{\"reestablished\": $(sg_with_child >/dev/null && echo true || echo false)}"
	ha_reboot_net $owner
	dpdr_gateway $owner
}
