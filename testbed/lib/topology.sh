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
