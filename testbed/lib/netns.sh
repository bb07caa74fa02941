# Network namespace helpers for the test topologies (inside the VM).

# ns_create NAME...: fresh namespaces with loopback up.
ns_create() {
	local ns
	for ns in "$@"; do
		ip netns del "$ns" 2>/dev/null || true
		ip netns add "$ns"
		ip -n "$ns" link set lo up
	done
}

# ns_link NS1 IF1 ADDR1 NS2 IF2 ADDR2: a veth pair between two namespaces, addresses in CIDR form.
ns_link() {
	ip link add "$2" netns "$1" type veth peer name "$5" netns "$4"
	ip -n "$1" addr add "$3" dev "$2"
	ip -n "$4" addr add "$6" dev "$5"
	ip -n "$1" link set "$2" up
	ip -n "$4" link set "$5" up
}

# xfrm_stat NS FIELD: a counter from /proc/net/xfrm_stat in NS (e.g. XfrmInStateSeqError).
xfrm_stat() { ip netns exec "$1" awk -v f="$2" '$1 == f { print $2 }' /proc/net/xfrm_stat; }

# snmp_tcp NS FIELD: a Tcp counter of namespace NS (/proc/net/snmp), e.g. RetransSegs.
snmp_tcp() { snmp "$1" Tcp "$2"; }

# snmp NS PROTO FIELD: a counter of namespace NS (/proc/net/snmp), e.g. Udp RcvbufErrors.
snmp() {
	ip netns exec "$1" awk -v p="$2:" -v f="$3" '$1 == p { if (seen) { for (i = 1; i <= NF; i++) if (h[i] == f) print $i }
		else { split($0, h); seen = 1 } }' /proc/net/snmp
}

# xfrm_packets NS SPI: packet count of the SA with SPI (hex, e.g. 0x00001000) in NS.
xfrm_packets() {
	ip -n "$1" -s xfrm state | awk -v spi="$2" '
		$0 ~ "spi " spi { found = 1 }
		found && /lifetime current:/ {
			getline
			for (i = 1; i <= NF; i++) if ($i ~ /\(packets\)/) { sub(/\(packets\).*/, "", $i); print $i; exit }
		}'
}

# xfrm_show NS: ip -s xfrm state of NS with key material masked (scripts print it).
xfrm_show() { ip -n "$1" -s xfrm state | sed -E 's/0x[0-9a-f]{16,}/<key>/g'; }
