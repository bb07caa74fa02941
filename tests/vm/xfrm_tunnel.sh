#!/usr/bin/env bash
# Real kernel ESP in the VM: two namespaces joined by veth, a tunnel-mode AES-GCM SA pair keyed
# by hand with ip xfrm; ping between the inner addresses must pass and both SAs count packets.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

ns_create eu sg
ns_link eu eth0 192.0.2.2/24 sg eth0 192.0.2.1/24
ip -n eu addr add 10.1.0.1/32 dev lo
ip -n sg addr add 10.2.0.1/32 dev lo
ip -n eu route add 10.2.0.0/24 via 192.0.2.1 src 10.1.0.1
ip -n sg route add 10.1.0.0/24 via 192.0.2.2 src 10.2.0.1

key_eu_sg=0x$(head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n')
key_sg_eu=0x$(head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n')
for ns in eu sg; do
	ip -n $ns xfrm state add src 192.0.2.2 dst 192.0.2.1 proto esp spi 0x00001001 reqid 1 mode tunnel \
		aead 'rfc4106(gcm(aes))' "$key_eu_sg" 128
	ip -n $ns xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x00002002 reqid 1 mode tunnel \
		aead 'rfc4106(gcm(aes))' "$key_sg_eu" 128
done
tmpl_out() { echo "tmpl src $1 dst $2 proto esp reqid 1 mode tunnel"; }
ip -n eu xfrm policy add src 10.1.0.0/24 dst 10.2.0.0/24 dir out $(tmpl_out 192.0.2.2 192.0.2.1)
ip -n eu xfrm policy add src 10.2.0.0/24 dst 10.1.0.0/24 dir in $(tmpl_out 192.0.2.1 192.0.2.2)
ip -n sg xfrm policy add src 10.2.0.0/24 dst 10.1.0.0/24 dir out $(tmpl_out 192.0.2.1 192.0.2.2)
ip -n sg xfrm policy add src 10.1.0.0/24 dst 10.2.0.0/24 dir in $(tmpl_out 192.0.2.2 192.0.2.1)

out=$(ip netns exec eu ping -c 10 -i 0.05 -W 2 10.2.0.1)
echo "$out" | tail -2
expect_match "ping through ESP" "$out" ' 0% packet loss'
expect_ge "EU outbound SA packets (spi 0x1001)" "$(xfrm_packets eu 0x00001001)" 10
expect_ge "SG inbound SA packets (spi 0x1001)" "$(xfrm_packets sg 0x00001001)" 10
expect_ge "SG outbound SA packets (spi 0x2002)" "$(xfrm_packets sg 0x00002002)" 10
expect_eq "EU XfrmInStateSeqError" "$(xfrm_stat eu XfrmInStateSeqError)" 0
xfrm_show sg | sed -n '1,16p'
