#!/usr/bin/env bash
# Fencing under a partition, with traffic flowing (two gateways and a witness):
# 1. the cluster link between sg1 and sg2 fails, both still reach the witness: nobody has a quorum
#    against the other, nothing moves, the owner keeps serving;
# 2. sg1 is cut off from the whole cluster (heartbeats and sync dropped in the front router, its
#    data path still up): sg1 loses its lease and fences its VPN (outbound blocked) BEFORE sg2 takes
#    it over; sg1's outbound SA sends nothing after the fence, so at no moment two gateways send on
#    it; the EU never sees a replayed sequence number;
# 3. the partition heals: sg1 learns it was declared down and drops its fenced copy (no DELETE);
#    the VPN has exactly one owner (sg2) and sg1 holds it passive again.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$ELASTIC_REPO/testbed/lib/ha.sh"

ha_start
pass "sg1, sg2 and the witness w1 see each other ready"
swanctl_in eu --initiate --ike sg --child gcm >/dev/null
for i in $(seq 300); do [ "$(ha_role sg2)" = passive ] && break; sleep 0.02; done
expect_eq "the VPN is owned by sg1 and held passive by sg2" "$(ha_role sg1)/$(ha_role sg2)" active/passive
seqerr=$(xfrm_stat eu XfrmInStateSeqError)
spis=$(eu_ike_spis)
ip netns exec eu ping -n -q -i 0.02 -c 100000 -I 10.1.0.1 10.2.0.1 >/dev/null 2>&1 &
ping_pid=$!

# block_between A B: drop the cluster's control traffic (heartbeats 7401/udp, sync 7400/tcp)
# between two addresses in the front router, both ways.
block_between() {
	ip netns exec rf nft add rule inet part filt ip saddr $1 ip daddr $2 meta l4proto '{ tcp, udp }' th dport '{ 7400, 7401 }' drop
	ip netns exec rf nft add rule inet part filt ip saddr $2 ip daddr $1 meta l4proto '{ tcp, udp }' th dport '{ 7400, 7401 }' drop
	ip netns exec rf nft add rule inet part filt ip saddr $1 ip daddr $2 meta l4proto '{ tcp, udp }' th sport '{ 7400, 7401 }' drop
	ip netns exec rf nft add rule inet part filt ip saddr $2 ip daddr $1 meta l4proto '{ tcp, udp }' th sport '{ 7400, 7401 }' drop
}
"$(cat /proc/sys/kernel/modprobe)" -a nfnetlink nf_tables  # the VM's module aliases are trimmed
ip netns exec rf nft add table inet part
ip netns exec rf nft add chain inet part filt '{ type filter hook forward priority 0; }'

echo "--- 1. the link sg1 <-> sg2 fails; both still reach the witness"
block_between 198.51.100.2 198.51.100.6
sleep 2
expect_eq "nothing moves: sg1 still owns the VPN, sg2 holds it passive" "$(ha_role sg1)/$(ha_role sg2)" active/passive
out=$(ip netns exec eu ping -n -c 10 -i 0.05 -W 1 -I 10.1.0.1 10.2.0.1)
expect_match "the EU is served by sg1" "$out" ' 0% packet loss'

echo "--- 2. sg1 is cut off from the cluster (its data path stays up)"
# What each gateway sends on the SA towards the EU, captured in the front router on its link.
spi_out=$(ctl sg1 list | awk '/spi_out/ { for (i = 1; i <= NF; i++) if ($i == "spi_out") { print $(i + 1); exit } }' | tr -d ,)
for sg in sg1 sg2; do
	ip netns exec rf tcpdump -i eth-$sg -n -tt -l -U "esp and dst host 192.0.2.2 and ip[20:4] = 0x$spi_out" \
		>"$CHARON_RUN/esp-$sg.txt" 2>/dev/null &
	echo $! >"$CHARON_RUN/tcpdump-$sg.pid"
done
sleep 1
block_between 198.51.100.2 198.51.100.254
for i in $(seq 100); do [ "$(ha_role sg2)" = active ] && break; sleep 0.05; done
expect_eq "sg2 took the VPN over" "$(ha_role sg2)" active
expect_eq "sg1 fenced it" "$(ha_role sg1)" fenced
ms_of() { awk -F'[ :.]' '{ print (($1 * 60 + $2) * 60 + $3) * 1000 + $4; exit }'; }
fenced=$(grep -E 'elastic: fenced [1-9]' "$CHARON_RUN/sg1/charon.log" | tail -1 | ms_of)
took=$(grep -E 'elastic: took over [1-9]' "$CHARON_RUN/sg2/charon.log" | tail -1 | ms_of)
echo "sg1 fenced at ${fenced} ms, sg2 took over at ${took} ms (charon logs, one VM clock)"
expect_ge "sg1 fenced before sg2 took over (by ms)" $((took - fenced)) 1
p1=$(xfrm_packets sg1 0x$spi_out)
sleep 1
expect_eq "sg1's outbound SA sent nothing after the fence (its data path is up)" "$(xfrm_packets sg1 0x$spi_out)" "$p1"
out=$(ip netns exec eu ping -n -c 10 -i 0.05 -W 1 -I 10.1.0.1 10.2.0.1)
expect_match "the EU is served by sg2" "$out" ' 0% packet loss'
for sg in sg1 sg2; do kill "$(cat "$CHARON_RUN/tcpdump-$sg.pid")" 2>/dev/null || true; done
sleep 0.5
last1=$(grep -Eo '^[0-9]+\.[0-9]+' "$CHARON_RUN/esp-sg1.txt" | tail -n 1) first2=$(grep -Eo '^[0-9]+\.[0-9]+' "$CHARON_RUN/esp-sg2.txt" | head -n 1)
tail -n 2 "$CHARON_RUN/esp-sg1.txt"
echo "on the wire (SPI 0x$spi_out): sg1 sent $(wc -l <"$CHARON_RUN/esp-sg1.txt") packets, the last at $last1; sg2 sent $(wc -l <"$CHARON_RUN/esp-sg2.txt"), the first at $first2"
expect_ge "sg1 sent on the SA before the partition" "$(wc -l <"$CHARON_RUN/esp-sg1.txt")" 1
expect_ge "sg2 sent on the SA after the takeover" "$(wc -l <"$CHARON_RUN/esp-sg2.txt")" 1
awk -v a="$last1" -v b="$first2" 'BEGIN { exit !(a != "" && b != "" && a + 0 < b + 0) }' ||
	fail "two gateways sent on one SA: sg1's last packet $last1 is not before sg2's first $first2"
pass "never two senders: sg1's last ESP packet on the SA precedes sg2's first (captures in the front router)"

echo "--- 3. the partition heals"
ip netns exec rf nft delete table inet part
for i in $(seq 200); do [ -z "$(ha_role sg1)" ] || [ "$(ha_role sg1)" = passive ] && ha_all_ready && break; sleep 0.05; done
ha_all_ready || fail "the cluster did not converge after healing"
pass "all members ready again"
for i in $(seq 200); do [ "$(ha_role sg1)" = passive ] && break; sleep 0.05; done
expect_eq "one owner: sg2 active, sg1 dropped its fenced copy and holds the VPN passive" \
	"$(ha_role sg1)/$(ha_role sg2)" passive/active
kill $ping_pid 2>/dev/null || true
out=$(ip netns exec eu ping -n -c 10 -i 0.05 -W 1 -I 10.1.0.1 10.2.0.1)
expect_match "service resumed" "$out" ' 0% packet loss'
expect_eq "EU IKE_SA unchanged" "$(eu_ike_spis)" "$spis"
expect_eq "EU XfrmInStateSeqError unchanged" "$(xfrm_stat eu XfrmInStateSeqError)" "$seqerr"
