# Helpers for tests that run several elastic-syncd on loopback (host; no VM needed).
. "$(dirname "${BASH_SOURCE[0]}")/../../testbed/lib/common.sh"

SYNCD=$ELASTIC_BUILD/daemons/syncd/elastic-syncd
CLIENT=$ELASTIC_BUILD/daemons/syncd/elastic-sync-client
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
pass() { printf 'ok: %s\n' "$*"; }

# syncd_certs DIR NAME...: a cluster CA (CN=$SYNCD_CA_CN, default elastic-test-ca) and a
# certificate (CN=NAME) for each name.
syncd_certs() {
	local d=$1 n; shift
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=${SYNCD_CA_CN:-elastic-test-ca}" \
		-keyout "$d/ca.key" -out "$d/ca.pem" 2>/dev/null
	for n in "$@"; do
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$n" \
			-keyout "$d/$n.key" -out "$d/$n.csr" 2>/dev/null
		openssl x509 -req -in "$d/$n.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial -days 2 \
			-out "$d/$n.pem" 2>/dev/null
	done
	chmod 600 "$d"/*.key
}

# syncd_conf DIR NODE BASEPORT REPLICAS MEMBER...: the elastic { } section for NODE; lines in
# $SYNCD_EXTRA go into its syncd { } section.
syncd_conf() {
	local d=$1 node=$2 base=$3 k=$4 i=0 m; shift 4
	{
		echo "elastic {"
		echo "  node = $node"
		echo "  cluster {"
		echo "    replicas = $k"
		echo "    members {"
		for m in "$@"; do echo "      $m { address = 127.0.0.1:$((base + i)) }"; i=$((i + 1)); done
		echo "    }"
		echo "  }"
		echo "  syncd {"
		echo "    socket = $d/$node.sock"
		echo "    metrics = 127.0.0.1:$((base + 100 + ${node#sg}))"
		echo "    tls { ca = $d/ca.pem"
		echo "          cert = $d/$node.pem"
		echo "          key = $d/$node.key }"
		[ -z "${SYNCD_EXTRA:-}" ] || echo "$SYNCD_EXTRA"
		echo "  }"
		echo "}"
	} >"$d/$node.conf"
}

syncd_start() { # syncd_start DIR NODE
	rm -f "$1/$2.sock"
	"$SYNCD" --config "$1/$2.conf" >>"$1/$2.log" 2>&1 &
	echo $! >"$1/$2.pid"
	local i
	for i in $(seq 100); do [ -S "$1/$2.sock" ] && return 0; sleep 0.05; done
	cat "$1/$2.log" >&2
	fail "syncd $2 did not start"
}

syncd_kill() { kill -9 "$(cat "$1/$2.pid")" 2>/dev/null || true; wait "$(cat "$1/$2.pid")" 2>/dev/null || true; }
syncd_status() { "$CLIENT" status --socket "$1/$2.sock"; }

# wait_digest DIR NODE EXPECTED_DIGEST [SECONDS]: until the node holds exactly that set.
wait_digest() {
	local i got
	for i in $(seq $((${4:-20} * 50))); do
		got=$(syncd_status "$1" "$2" 2>/dev/null | awk '/^digest/ { print $2 }')
		[ "$got" = "$3" ] && return 0
		sleep 0.02
	done
	syncd_status "$1" "$2" >&2
	return 1
}
