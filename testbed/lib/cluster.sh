# The two-gateway cluster with an EU, as the transfer/failover tests, the benchmark and the demo
# use it: namespaces (topology_cluster), three charons with the elastic plugin, configs loaded.
. "$(dirname "${BASH_SOURCE[0]}")/netns.sh"
. "$(dirname "${BASH_SOURCE[0]}")/charon.sh"
. "$(dirname "${BASH_SOURCE[0]}")/topology.sh"

# cluster_start [EXTRA_FN]: EXTRA_FN NODE may print more settings for a node's elastic plugin.
# CLUSTER_N gateways (default 2): sg1..sgN.
cluster_start() {
	local n extra
	topology_cluster "${CLUSTER_N:-2}"
	for n in $TOPOLOGY_SGS $TOPOLOGY_EUS; do
		extra=$([ -n "${1:-}" ] && "$1" $n || true)
		charon_start $n $n "install_routes = no
			plugins { elastic { node = $n
				$extra } }"
	done
	trap 'charon_cleanup $TOPOLOGY_EUS $TOPOLOGY_SGS' EXIT
	for n in $TOPOLOGY_SGS; do swanctl_load $n "$(swanctl_conf_cluster_sg)"; done
	for n in $TOPOLOGY_EUS; do swanctl_load $n "$(swanctl_conf_cluster_eu $n)"; done
}

# sg_with_child: the gateway whose charon has a CHILD_SA of the EU installed (for baselines that
# run plain charons: no elastic plugin to ask).
sg_with_child() {
	local n
	for n in $TOPOLOGY_SGS; do
		swanctl_in $n --list-sas --ike rw 2>/dev/null | grep -q 'INSTALLED' && { echo $n; return 0; }
	done
	return 1
}

# eu_ike_spis [EU [SWANCTL_ARGS...]]: "SPI_I SPI_R" of each IKE_SA the EU (default eu) has
# established: a moved VPN keeps them.
eu_ike_spis() {
	local e=${1:-eu}
	[ $# -gt 0 ] && shift
	swanctl_in "$e" --list-sas "$@" | awk '/ESTABLISHED, IKEv2/ { print $5, $6 }'
}

# eu_inits [EU]: how many IKE_SAs the EU has initiated (a moved VPN must not make it start one).
eu_inits() { grep -c 'initiating IKE_SA' "$CHARON_RUN/${1:-eu}/charon.log" || true; }

# ctl NODE ARGS...: elasticctl (ELASTICCTL, default the build's) against NODE's charon.
ctl() {
	local n=$1
	shift
	"${ELASTICCTL:-$ELASTIC_BUILD/plugins/elastic/elasticctl}" --socket "$CHARON_RUN/$n/charon.elastic" "$@"
}

# cluster_transfer FROM TO [CONN]: elasticctl transfer of the EU's VPN (of gateway connection
# CONN, default rw), traffic steered to TO.
cluster_transfer() {
	ctl "$1" transfer --ike "${3:-rw}" --to "$CHARON_RUN/$2/charon.elastic" --margin 64 \
		--steer ". $ELASTIC_REPO/testbed/lib/topology.sh; topology_steer $2"
}
