#!/usr/bin/env bash
# (Re)creates namespaces eu and sg joined by veth with a tunnel-mode AES-GCM SA pair and policies:
#   EU 192.0.2.2 (inner 10.1.0.1) -> SG 192.0.2.1 (inner 10.2.0.1): SPI 0x1001
#   SG -> EU: SPI 0x2002 (SG's outbound SA)
#   xfrm_pair.sh legacy|esn      (esn: extended sequence numbers, 128-packet window)
set -euo pipefail
. "$(dirname "$0")/../../testbed/lib/common.sh"
. "$ELASTIC_REPO/testbed/lib/netns.sh"

case "${1:-legacy}" in
legacy) flags="replay-window 32" ;;
esn) flags="flag esn replay-window 128" ;;
*) die "mode must be legacy or esn" ;;
esac
ns_create eu sg
ns_link eu eth0 192.0.2.2/24 sg eth0 192.0.2.1/24
ip -n eu addr add 10.1.0.1/32 dev lo
ip -n sg addr add 10.2.0.1/32 dev lo
ip -n eu route add 10.2.0.0/24 via 192.0.2.1 src 10.1.0.1
ip -n sg route add 10.1.0.0/24 via 192.0.2.2 src 10.2.0.1
k1=0x$(head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n')
k2=0x$(head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n')
for ns in eu sg; do
	# shellcheck disable=SC2086
	ip -n $ns xfrm state add src 192.0.2.2 dst 192.0.2.1 proto esp spi 0x1001 reqid 1 mode tunnel $flags \
		aead 'rfc4106(gcm(aes))' "$k1" 128
	# shellcheck disable=SC2086
	ip -n $ns xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x2002 reqid 1 mode tunnel $flags \
		aead 'rfc4106(gcm(aes))' "$k2" 128
done
t() { echo "tmpl src $1 dst $2 proto esp reqid 1 mode tunnel"; }
ip -n eu xfrm policy add src 10.1.0.0/24 dst 10.2.0.0/24 dir out $(t 192.0.2.2 192.0.2.1)
ip -n eu xfrm policy add src 10.2.0.0/24 dst 10.1.0.0/24 dir in $(t 192.0.2.1 192.0.2.2)
ip -n sg xfrm policy add src 10.2.0.0/24 dst 10.1.0.0/24 dir out $(t 192.0.2.1 192.0.2.2)
ip -n sg xfrm policy add src 10.1.0.0/24 dst 10.2.0.0/24 dir in $(t 192.0.2.2 192.0.2.1)
