#!/usr/bin/env bash
# Real kernel ESP in the VM: two namespaces joined by veth, a tunnel-mode AES-GCM SA pair keyed
# by hand with ip xfrm (xfrm_pair.sh); ping between the inner addresses must pass and both SAs
# count the packets.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

"$(dirname "$0")/xfrm_pair.sh" legacy
out=$(ip netns exec eu ping -c 10 -i 0.05 -W 2 10.2.0.1)
echo "$out" | tail -2
expect_match "ping through ESP" "$out" ' 0% packet loss'
expect_ge "EU outbound SA packets (spi 0x1001)" "$(xfrm_packets eu 0x00001001)" 10
expect_ge "SG inbound SA packets (spi 0x1001)" "$(xfrm_packets sg 0x00001001)" 10
expect_ge "SG outbound SA packets (spi 0x2002)" "$(xfrm_packets sg 0x00002002)" 10
expect_eq "EU XfrmInStateSeqError" "$(xfrm_stat eu XfrmInStateSeqError)" 0
xfrm_show sg | sed -n '1,16p'
