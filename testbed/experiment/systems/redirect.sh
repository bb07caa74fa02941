# Baseline for planned moves: RFC 5685 REDIRECT (`swanctl --redirect`). Two gateways with
# identical configurations that also accept IKE on their own addresses; the owner redirects the
# EU to the target's address, the EU re-authenticates there (a new IKE_SA and CHILD_SA) and
# deletes the old one. The return path (rb) is steered to the target as soon as the target has
# installed the EU's new CHILD_SA (favourable to the baseline: an operator's script would be slower).

rdr_conf() {
	local up
	read -r up _ < <(topology_sg_addrs $1)
	swanctl_conf_cluster_sg | sed "0,/local_addrs = 203.0.113.1/s//local_addrs = 203.0.113.1, $up/"
}

redirect_start() {
	local n
	export CLUSTER_DPD=30s
	topology_cluster "$X_GATEWAYS"
	for n in $TOPOLOGY_SGS; do
		charon_start $n $n "install_routes = no"
		swanctl_load $n "$(rdr_conf $n)"
	done
	charon_start eu eu "install_routes = no"
	swanctl_load eu "$(swanctl_conf_cluster_eu eu)"
	X_STEPS='{}'
}

redirect_up() {
	swanctl_in eu --terminate --ike sg >/dev/null 2>&1 || true
	topology_steer sg1
	swanctl_in eu --initiate --ike sg --child "$1" >/dev/null
	sg_with_child >/dev/null
}

# rdr_owner: the gateway holding the EU's current IKE_SA, by its SPI (the old owner may still
# list the redirected one for a moment).
rdr_owner() {
	local spi n
	spi=$(eu_ike_spis | awk 'NR == 1 { print $1 }')
	for n in $TOPOLOGY_SGS; do
		swanctl_in $n --list-sas --ike rw 2>/dev/null | grep -q "${spi%_i*}" && { echo $n; return 0; }
	done
	return 1
}

redirect_prepare() {
	X_OWNER=$(rdr_owner) || return 1
	for X_ALT in $TOPOLOGY_SGS; do [ $X_ALT != $X_OWNER ] && break; done
}

redirect_event() {
	local owner=$X_OWNER target=$X_ALT up t0 end
	read -r up _ < <(topology_sg_addrs $target)
	t0=$(date +%s%N) end=$(($(date +%s) + 20))
	swanctl_in $owner --redirect --ike rw --gateway $up >/dev/null
	while [ "$(date +%s)" -lt $end ]; do
		swanctl_in $target --list-sas --ike rw 2>/dev/null | grep -q INSTALLED && break
		sleep 0.01
	done
	topology_steer $target
	X_STEPS="{\"reestablished_ms\": $(( ($(date +%s%N) - t0) / 1000000 ))}"
	swanctl_in $target --list-sas --ike rw 2>/dev/null | grep -q INSTALLED ||
		X_STEPS="{\"event_error\": \"the EU did not come to $target within 20 s of the redirect\"}"
}

redirect_restore() { :; }
