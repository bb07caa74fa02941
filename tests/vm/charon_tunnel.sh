#!/usr/bin/env bash
# Real charon with the elastic plugin, kernel-netlink and real kernel ESP: an EU and an SG
# namespace bring up IKEv2 PSK tunnels with AES-CBC, AES-CTR and AES-GCM CHILD_SAs in turn;
# ping passes and the kernel SAs count the packets.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$ELASTIC_REPO/testbed/lib/charon.sh"
. "$ELASTIC_REPO/testbed/lib/topology.sh"

topology_eu_sg
charon_start sg sg
charon_start eu eu
trap 'charon_cleanup eu sg' EXIT
swanctl_load sg "$(swanctl_conf_sg)"
swanctl_load eu "$(swanctl_conf_eu)"

loaded=$(grep 'loaded plugins:' "$CHARON_RUN/sg/charon.log")
echo "$loaded"
expect_match "SG charon loaded the elastic plugin" "$loaded" ' elastic( |$)'
expect_match "elastic plugin logged its version" "$(charon_log sg)" 'elastic plugin [0-9]+\.[0-9]+\.[0-9]+ \(context schema v1'

# child name, kernel algorithm name as ip xfrm shows it
for pair in "cbc:enc cbc\(aes\)" "ctr:enc rfc3686\(ctr\(aes\)\)" "gcm:aead rfc4106\(gcm\(aes\)\)"; do
	child=${pair%%:*} alg=${pair#*:}
	echo "--- CHILD_SA $child"
	swanctl_in eu --initiate --ike sg --child "$child" >/dev/null || fail "initiate $child failed"
	out=$(ip netns exec eu ping -c 10 -i 0.05 -W 2 -I 10.1.0.1 10.2.0.1)
	expect_match "ping through the $child tunnel" "$out" ' 0% packet loss'
	states=$(xfrm_show sg)
	expect_match "SG kernel SA algorithm ($child)" "$states" "$alg"
	spi_out=$(ip -n sg xfrm state | awk '/^src 192.0.2.1 dst 192.0.2.2/ { getline; print $4; exit }')
	expect_ge "SG outbound SA $spi_out packets" "$(xfrm_packets sg "$spi_out")" 10
	expect_ge "EU inbound SA $spi_out packets" "$(xfrm_packets eu "$spi_out")" 10
	swanctl_in eu --terminate --ike sg >/dev/null
	expect_eq "SAs left after terminate" "$(ip -n sg xfrm state | grep -c '^src' || true)" 0
done
