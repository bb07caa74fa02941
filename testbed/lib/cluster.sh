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
