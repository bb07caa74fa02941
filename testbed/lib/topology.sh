# Test and demo topologies and their swanctl configurations. POSIX sh: `elasticctl transfer
# --steer` sources it with sh.
# EU (end user) 192.0.2.2, inner 10.1.0.1  <->  SG (gateway) 192.0.2.1, protected net 10.2.0.0/24.

topology_eu_sg() {
	ns_create eu sg
	ns_link eu eth0 192.0.2.2/24 sg eth0 192.0.2.1/24
	ip -n eu addr add 10.1.0.1/32 dev lo
	ip -n sg addr add 10.2.0.1/24 dev lo
}

# Test-only pre-shared key; real deployments use certificates or EAP.
TOPOLOGY_PSK=elastic-test-psk-not-secret

# The gateway accepts any EU and the three ESP proposals the tests exercise.
swanctl_conf_sg() {
	cat <<-CONF
	connections {
		rw {
			version = 2
			local_addrs = 192.0.2.1
			proposals = aes256-sha256-x25519
			local { auth = psk
				id = sg.example.net }
			remote { auth = psk }
			children {
				net {
					local_ts = 10.2.0.0/24
					remote_ts = 10.1.0.0/16
					esp_proposals = aes128-sha256, aes128ctr-sha256, aes128gcm16, aes128gcm16-esn
				}
			}
		}
		rwvip {
			version = 2
			local_addrs = 192.0.2.1
			proposals = aes256-sha256-x25519
			pools = vips
			local { auth = psk
				id = sg.example.net }
			remote { auth = psk
				id = *@vip.example.net }
			children { net { local_ts = 10.2.0.0/24
				esp_proposals = aes128gcm16 } }
		}
	}
	pools { vips { addrs = 10.1.200.0/24 } }
	secrets { ike-rw { secret = $TOPOLOGY_PSK } }
	CONF
}

# The EU has one CHILD_SA config per ESP algorithm: cbc, ctr, gcm, gcmesn (AES-GCM with extended
# sequence numbers); and "two", a second AES-GCM CHILD_SA for its second inner address 10.1.1.1.
swanctl_conf_eu() {
	local child prop
	echo "connections { sg {"
	cat <<-CONF
		version = 2
		local_addrs = 192.0.2.2
		remote_addrs = 192.0.2.1
		proposals = aes256-sha256-x25519
		local { auth = psk
			id = eu@example.net }
		remote { auth = psk
			id = sg.example.net }
	CONF
	echo "children {"
	for child in cbc:aes128-sha256 ctr:aes128ctr-sha256 gcm:aes128gcm16 gcmesn:aes128gcm16-esn; do
		prop=${child#*:} child=${child%%:*}
		echo "$child { local_ts = 10.1.0.1/32
			remote_ts = 10.2.0.0/24
			esp_proposals = $prop }"
	done
	echo "two { local_ts = 10.1.1.1/32
		remote_ts = 10.2.0.0/24
		esp_proposals = aes128gcm16 }"
	echo "} } }"
	echo "secrets { ike-sg { secret = $TOPOLOGY_PSK } }"
}

# A cluster of gateways behind one cluster IP (203.0.113.1), with a router in front (rf: decides
# which SG receives the EU's packets) and one behind (rb: holds the protected net 10.2.0.0/24 and
# decides which SG gets the return traffic):
#   eu 192.0.2.2 (inner 10.1.0.1) -- rf -- sg1 (198.51.100.2) / sg2 (198.51.100.6) / ... -- rb (10.2.0.1)
# topology_cluster [N]: N gateways (default 2, at most 8). Each gateway K also has a routing table
# 100+K in rf that sends the cluster IP to it: the steering hook moves one EU at a time with a
# source rule into that table (testbed/steer-hook); topology_steer moves everything.
topology_cluster() {
	local n=${1:-2} k sg up down rfa rba eu inner
	TOPOLOGY_SGS=
	for k in $(seq "$n"); do TOPOLOGY_SGS="$TOPOLOGY_SGS sg$k"; done
	TOPOLOGY_EUS=eu
	for k in $(seq 2 "${CLUSTER_EUS:-1}"); do TOPOLOGY_EUS="$TOPOLOGY_EUS eu$k"; done
	ns_create $TOPOLOGY_EUS rf $TOPOLOGY_SGS rb
	ns_link eu eth0 192.0.2.2/24 rf eth-eu 192.0.2.254/24
	ip -n eu addr add 10.1.0.1/32 dev lo
	ip -n eu addr add 10.1.1.1/32 dev lo  # the second CHILD_SA's inner address
	ip -n eu route add default via 192.0.2.254 src 192.0.2.2
	for k in $(seq 2 "${CLUSTER_EUS:-1}"); do
		set -- $(topology_eu_addrs eu$k)
		eu=$1 inner=$2 rfa=$3
		ns_link eu$k eth0 $eu/30 rf eth-eu$k $rfa/30
		ip -n eu$k addr add $inner/32 dev lo
		ip -n eu$k route add default via $rfa src $eu
	done
	ip -n rb addr add 10.2.0.1/24 dev lo
	for sg in $TOPOLOGY_SGS; do
		set -- $(topology_sg_addrs $sg)
		up=$1 down=$2 rfa=$3 rba=$4
		ns_link rf eth-$sg $rfa/30 $sg eth-rf $up/30
		ns_link $sg eth-rb $down/30 rb eth-$sg $rba/30
		ip -n $sg addr add 203.0.113.1/32 dev lo
		ip -n $sg route add default via $rfa
		ip -n $sg route add 10.2.0.0/24 via $rba
		ip netns exec $sg sysctl -qw net.ipv4.ip_forward=1
		ip -n rf route add 203.0.113.1/32 via $up table $((100 + ${sg#sg}))
	done
	ip netns exec rf sysctl -qw net.ipv4.ip_forward=1
	topology_cluster6
	topology_steer sg1
}

# The same cluster over IPv6 (EU 1 only): outer eu 2001:db8:2::2 -> cluster IP 2001:db8:113::1,
# inner fd00:1::1 (the EU) <-> fd00:2::/64 (rb holds fd00:2::1); rf's table 100+K routes the
# cluster IP to gateway K as for IPv4. No duplicate address detection: addresses work at once.
topology_cluster6() {
	local sg up down rfa rba
	ip -n eu addr add 2001:db8:2::2/64 dev eth0 nodad
	ip -n rf addr add 2001:db8:2::fe/64 dev eth-eu nodad
	ip -n eu addr add fd00:1::1/128 dev lo
	ip -n eu -6 route add default via 2001:db8:2::fe src 2001:db8:2::2
	ip -n rb addr add fd00:2::1/64 dev lo
	for sg in $TOPOLOGY_SGS; do
		set -- $(topology_sg_addrs6 $sg)
		up=$1 down=$2 rfa=$3 rba=$4
		ip -n rf addr add $rfa/64 dev eth-$sg nodad
		ip -n $sg addr add $up/64 dev eth-rf nodad
		ip -n $sg addr add $down/64 dev eth-rb nodad
		ip -n rb addr add $rba/64 dev eth-$sg nodad
		ip -n $sg addr add 2001:db8:113::1/128 dev lo
		ip -n $sg -6 route add default via $rfa
		ip -n $sg -6 route add fd00:2::/64 via $rba
		ip netns exec $sg sysctl -qw net.ipv6.conf.all.forwarding=1
		ip -n rf -6 route add 2001:db8:113::1/128 via $up table $((100 + ${sg#sg}))
	done
	ip netns exec rf sysctl -qw net.ipv6.conf.all.forwarding=1
}

# topology_sg_addrs6 sgK: "UP DOWN RF_SIDE RB_SIDE" as topology_sg_addrs, for IPv6.
topology_sg_addrs6() {
	local k=${1#sg}
	echo 2001:db8:51:$k::2 2001:db8:52:$k::2 2001:db8:51:$k::1 2001:db8:52:$k::1
}

# topology_sg_addrs sgK: "UP DOWN RF_SIDE RB_SIDE": the gateway's address towards rf, its address
# towards rb, and the routers' addresses on those links (sg1 and sg2 keep their historic ones).
topology_sg_addrs() {
	local k=${1#sg} b
	case $k in
	1) echo 198.51.100.2 198.51.100.9 198.51.100.1 198.51.100.10 ;;
	2) echo 198.51.100.6 198.51.100.13 198.51.100.5 198.51.100.14 ;;
	*) b=$((8 * (k - 3)))
	   echo 198.51.101.$((b + 2)) 198.51.101.$((b + 5)) 198.51.101.$((b + 1)) 198.51.101.$((b + 6)) ;;
	esac
}

# topology_eu_addrs euK: "OUTER INNER RF_SIDE" of EU K (eu = EU 1: 192.0.2.2, inner 10.1.0.1).
topology_eu_addrs() {
	local k=${1#eu}
	k=${k:-1}
	[ "$k" = 1 ] && { echo 192.0.2.2 10.1.0.1 192.0.2.254; return; }
	echo 192.0.3.$((4 * (k - 2) + 2)) 10.1.0.$k 192.0.3.$((4 * (k - 2) + 1))
}

# topology_steer sgK: send the cluster IP's traffic (and the return path) to that gateway;
# both routers at once, so that the switch takes one process start, not three.
topology_steer() {
	local up down up6 down6
	set -- $(topology_sg_addrs "$1") $(topology_sg_addrs6 "$1")
	up=$1 down=$2 up6=$5 down6=$6
	printf 'route replace 203.0.113.1/32 via %s\nroute replace 2001:db8:113::1/128 via %s\n' $up $up6 |
		ip -n rf -batch - &
	local rf=$!
	printf 'route replace %s via %s\n' 10.1.0.0/16 $down 192.0.2.0/24 $down fd00:1::/48 $down6 2001:db8:2::/64 $down6 |
		ip -n rb -batch -
	wait $rf
}

# The cluster's gateways: identical connection configs, the cluster IP as local address.
# mobike = no: a cluster node must not announce its own addresses to the EU (ADDITIONAL_ADDRESS).
# DPD from the gateways too, so that the tests see both sides' INFORMATIONAL exchanges; every
# CLUSTER_DPD (default 2s: busy for many EUs under QEMU/TCG, where a benchmark uses 30s).
# Connection "rw6": the same over IPv6 (cluster IP 2001:db8:113::1) for IPv6 and IPv4 inside.
swanctl_conf_cluster_sg() {
	swanctl_conf_sg | sed "s/local_addrs = 192.0.2.1/local_addrs = 203.0.113.1\n\t\t\tmobike = no\n\t\t\tdpd_delay = ${CLUSTER_DPD:-2s}/"
	cat <<-CONF
	connections { rw6 {
		version = 2
		local_addrs = 2001:db8:113::1
		mobike = no
		dpd_delay = ${CLUSTER_DPD:-2s}
		proposals = aes256-sha256-x25519
		local { auth = psk
			id = sg.example.net }
		remote { auth = psk }
		children { net {
			local_ts = fd00:2::/64, 10.2.0.0/24
			remote_ts = fd00:1::/48, 10.1.0.0/16
			esp_proposals = aes128gcm16, aes128-sha256 } }
	} }
	CONF
}

# The EU of the cluster: like swanctl_conf_eu but towards the cluster IP, with DPD; connection
# "sgnat" is the same with UDP encapsulation forced (NAT-T), "sgvip" (identity euK@vip.example.net,
# gateway connection "rwvip") asks for a virtual IP from the gateways' pool 10.1.200.0/24 (inside
# the EU range the routers steer) for its one child "vip"; EU 1 also has "sg6" over IPv6 (to
# 2001:db8:113::1) with children "v6" (fd00:1::1 <-> fd00:2::/64) and "dual" (both families in
# one CHILD_SA). swanctl_conf_cluster_eu [euK]: the configuration of EU K (its own addresses and
# identity).
swanctl_conf_cluster_eu() {
	local conf eu inner k=${1:-eu}
	set -- $(topology_eu_addrs $k)
	eu=$1 inner=$2
	conf=$(swanctl_conf_eu | sed "s/remote_addrs = 192.0.2.1/remote_addrs = 203.0.113.1\n\t\tdpd_delay = ${CLUSTER_DPD:-2s}/;
		s/local_addrs = 192.0.2.2/local_addrs = $eu/; s/eu@example.net/$k@example.net/; s#10.1.0.1/32#$inner/32#")
	printf '%s\n' "$conf" | sed '$d'
	printf '%s\n' "$conf" | sed -n '/^connections { sg {/,/^} } }/p' |
		sed 's/^connections { sg {/connections { sgnat {\n\t\tencap = yes/'
	printf '%s\n' "$conf" | sed -n '/^connections { sg {/,/^} } }/p' |
		sed 's/^connections { sg {/connections { sgvip {\n\t\tvips = 0.0.0.0/; s/@example.net/@vip.example.net/' |
		sed '/^children {/,/^} } }/c\children { vip { local_ts = dynamic\n\t\tremote_ts = 10.2.0.0/24\n\t\tesp_proposals = aes128gcm16 } } } }'
	[ "$k" = eu ] && cat <<-CONF
	connections { sg6 {
		version = 2
		local_addrs = 2001:db8:2::2
		remote_addrs = 2001:db8:113::1
		dpd_delay = ${CLUSTER_DPD:-2s}
		proposals = aes256-sha256-x25519
		local { auth = psk
			id = eu@example.net }
		remote { auth = psk
			id = sg.example.net }
		children {
			v6 { local_ts = fd00:1::1/128
				remote_ts = fd00:2::/64
				esp_proposals = aes128gcm16 }
			dual { local_ts = fd00:1::1/128, 10.1.0.1/32
				remote_ts = fd00:2::/64, 10.2.0.0/24
				esp_proposals = aes128-sha256 }
		}
	} }
	CONF
	printf '%s\n' "$conf" | tail -1
}
