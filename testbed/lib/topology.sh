# Test and demo topologies and their swanctl configurations.
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
					esp_proposals = aes128-sha256, aes128ctr-sha256, aes128gcm16
				}
			}
		}
	}
	secrets { ike-rw { secret = $TOPOLOGY_PSK } }
	CONF
}

# The EU has one CHILD_SA config per ESP algorithm: cbc, ctr, gcm.
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
	for child in cbc:aes128-sha256 ctr:aes128ctr-sha256 gcm:aes128gcm16; do
		prop=${child#*:} child=${child%%:*}
		echo "$child { local_ts = 10.1.0.1/32
			remote_ts = 10.2.0.0/24
			esp_proposals = $prop }"
	done
	echo "} } }"
	echo "secrets { ike-sg { secret = $TOPOLOGY_PSK } }"
}

# A two-gateway cluster behind one cluster IP (203.0.113.1), with a router in front (rf: decides
# which SG receives the EU's packets) and one behind (rb: holds the protected net 10.2.0.0/24 and
# decides which SG gets the return traffic):
#   eu 192.0.2.2 (inner 10.1.0.1) -- rf -- sg1 (198.51.100.2) / sg2 (198.51.100.6) -- rb (10.2.0.1)
topology_cluster() {
	ns_create eu rf sg1 sg2 rb
	ns_link eu eth0 192.0.2.2/24 rf eth-eu 192.0.2.254/24
	ns_link rf eth-sg1 198.51.100.1/30 sg1 eth-rf 198.51.100.2/30
	ns_link rf eth-sg2 198.51.100.5/30 sg2 eth-rf 198.51.100.6/30
	ns_link sg1 eth-rb 198.51.100.9/30 rb eth-sg1 198.51.100.10/30
	ns_link sg2 eth-rb 198.51.100.13/30 rb eth-sg2 198.51.100.14/30
	ip -n eu addr add 10.1.0.1/32 dev lo
	ip -n eu route add default via 192.0.2.254 src 192.0.2.2
	ip -n rb addr add 10.2.0.1/24 dev lo
	local sg up down
	for sg in sg1 sg2; do
		[ $sg = sg1 ] && up=198.51.100.1 down=198.51.100.10 || up=198.51.100.5 down=198.51.100.14
		ip -n $sg addr add 203.0.113.1/32 dev lo
		ip -n $sg route add default via $up
		ip -n $sg route add 10.2.0.0/24 via $down
		ip netns exec $sg sysctl -qw net.ipv4.ip_forward=1
	done
	ip netns exec rf sysctl -qw net.ipv4.ip_forward=1
	topology_steer sg1
}

# topology_steer sg1|sg2: send the cluster IP's traffic (and the return path) to that gateway;
# both routers at once, so that the switch takes one process start, not three.
topology_steer() {
	local up down
	[ "$1" = sg1 ] && up=198.51.100.2 down=198.51.100.9 || up=198.51.100.6 down=198.51.100.13
	ip -n rf route replace 203.0.113.1/32 via $up &
	local rf=$!
	printf 'route replace 10.1.0.0/16 via %s\nroute replace 192.0.2.0/24 via %s\n' $down $down |
		ip -n rb -batch -
	wait $rf
}

# The cluster's gateways: identical connection configs, the cluster IP as local address.
# mobike = no: a cluster node must not announce its own addresses to the EU (ADDITIONAL_ADDRESS).
# DPD from the gateways too, so that the tests see both sides' INFORMATIONAL exchanges.
swanctl_conf_cluster_sg() {
	swanctl_conf_sg | sed 's/local_addrs = 192.0.2.1/local_addrs = 203.0.113.1\n\t\t\tmobike = no\n\t\t\tdpd_delay = 2s/'
}

# The EU of the cluster: like swanctl_conf_eu but towards the cluster IP, with DPD; connection
# "sgnat" is the same with UDP encapsulation forced (NAT-T).
swanctl_conf_cluster_eu() {
	local conf
	conf=$(swanctl_conf_eu | sed 's/remote_addrs = 192.0.2.1/remote_addrs = 203.0.113.1\n\t\tdpd_delay = 2s/')
	printf '%s\n' "$conf" | sed '$d'
	printf '%s\n' "$conf" | sed -n '/^connections { sg {/,/^} } }/p' |
		sed 's/^connections { sg {/connections { sgnat {\n\t\tencap = yes/'
	printf '%s\n' "$conf" | tail -1
}
