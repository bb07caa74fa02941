#!/usr/bin/env bash
# High availability end to end (real charons, real kernel ESP, every daemon): a busy VPN (100,000
# packets from the protected net to the EU, no IKE exchange meanwhile) is replicated to its
# alternate with counters that keep up (kernel AEVENTs); then kill -9 of every process of the
# owner: the heartbeat services declare it down, the alternate takes over on its own and steers
# the traffic; the EU keeps its IKE_SA and never sees a replayed sequence number; rekeys, DPD and
# a delete work on the new owner; the killed gateway rejoins as the VPN's alternate.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$ELASTIC_REPO/testbed/lib/ha.sh"
PROBE=$ELASTIC_REPO/testbed/tools/probe.py

ha_start
pass "sg1, sg2 and the witness w1 see each other ready"
# DPD from the EU only (the gateways' would be an IKE exchange during the busy phase)
for n in $TOPOLOGY_SGS; do swanctl_load $n "$(swanctl_conf_cluster_sg | sed 's/dpd_delay = 2s/dpd_delay = 300s/')"; done
ip netns exec rb "$PROBE" echo 10.2.0.1 7777 &

swanctl_in eu --initiate --ike sg --child gcm >/dev/null
for i in $(seq 300); do [ "$(ha_role sg2)" = passive ] && break; sleep 0.02; done
expect_eq "the VPN is held passive on its alternate sg2" "$(ha_role sg2)" passive
spis=$(eu_ike_spis) seqerr=$(xfrm_stat eu XfrmInStateSeqError)
inits=$(grep -c 'IKE_SA_INIT request' "$CHARON_RUN/eu/charon.log" || true)

echo "--- busy tunnel: 110,000 packets rb -> EU through sg1 (a 50/s ping keeps DPD quiet)"
ip netns exec eu ping -n -q -i 0.02 -c 100000 -I 10.1.0.1 10.2.0.1 >/dev/null 2>&1 &
ping_pid=$!
sleep 3  # a DPD the EU may have started while the VPN was idle is over
mids=$(ctl sg1 list | grep -o 'message ids initiate [0-9]* respond [0-9]*')
sent=$(ip netns exec rb "$ELASTIC_REPO/testbed/tools/blast.py" 10.2.0.1 10.1.0.1 9 110000)
sleep 0.5
o1=$(ha_oseq sg1)
expect_ge "sg1's outbound sequence number after the blast ($sent sent)" "$o1" 100000
expect_eq "sg1 still owns the VPN (no false failure detection under load)" "$(ha_role sg1)" active
o2=$(ha_oseq sg2) o1=$(ha_oseq sg1)
expect_ge "sg2's replica is at most one report threshold (1024) behind sg1 ($o2 vs $o1)" $((o2 + 1024)) "$o1"
expect_ge "and it took the blast in ($o2)" "$o2" 100000
expect_eq "no IKE exchange during the blast (message IDs unchanged)" \
	"$(ctl sg1 list | grep -o 'message ids initiate [0-9]* respond [0-9]*')" "$mids"

echo "--- a flood while sg1 dies: kill -9 of charon, syncd and heartbeatd on sg1"
# What each gateway sends on the SA towards the EU, on the wire (front router, per gateway link):
# sg1's kernel keeps encrypting (and draining its backlog) after its charon died, until the
# traffic is steered away; sg2 must start beyond every number sg1 can have used.
spi_out=$(ctl sg1 list | awk '/spi_out/ { for (i = 1; i <= NF; i++) if ($i == "spi_out") { print $(i + 1); exit } }' | tr -d ,)
for sg in sg1 sg2; do
	ip netns exec rf tcpdump -i eth-$sg -n -s 64 -U -w "$CHARON_RUN/esp-$sg.pcap" \
		"esp and dst host 192.0.2.2 and ip[20:4] = 0x$spi_out" 2>/dev/null &
	echo $! >"$CHARON_RUN/tcpdump-$sg.pid"
done
ip netns exec rb "$ELASTIC_REPO/testbed/tools/blast.py" 10.2.0.1 10.1.0.1 9 1000000 >/dev/null &
flood=$!
ha_probe "$CHARON_RUN/probe.json" 4
sleep 1
ha_kill sg1
kill -USR1 $probe
for i in $(seq 200); do [ "$(ha_role sg2)" = active ] && break; sleep 0.01; done
expect_eq "sg2 took the VPN over on its own" "$(ha_role sg2)" active
wait $probe
kill $flood 2>/dev/null || true
wait $flood 2>/dev/null || true
cat "$CHARON_RUN/probe.json"
grep -E 'took over|steering' "$CHARON_RUN/sg2/charon.log" | tail -2
out=$(ip netns exec eu ping -n -c 20 -i 0.05 -W 1 -I 10.1.0.1 10.2.0.1)
expect_match "traffic through sg2 after the takeover" "$out" ' 0% packet loss'
expect_eq "EU IKE_SA unchanged (same SPIs)" "$(eu_ike_spis)" "$spis"
expect_eq "no new IKE_SA_INIT from the EU" "$(grep -c 'IKE_SA_INIT request' "$CHARON_RUN/eu/charon.log" || true)" "$inits"
for sg in sg1 sg2; do kill "$(cat "$CHARON_RUN/tcpdump-$sg.pid")" 2>/dev/null || true; done
sleep 0.5
# seqs GW: the sequence numbers GW sent on the SA, one per line, in capture order.
seqs() { tcpdump -n -r "$CHARON_RUN/esp-$1.pcap" 2>/dev/null | grep -Eo 'seq=0x[0-9a-f]+' | sed 's/seq=//' | xargs -r printf '%d\n'; }
max1=$(seqs sg1 | sort -n | sed -n '$p') min2=$(seqs sg2 | sort -n | sed -n 1p)
[ -n "$max1" ] && [ -n "$min2" ] || fail "no ESP of sg1 or sg2 captured (sg1: '$max1', sg2: '$min2')"
drops=$(( $(xfrm_stat eu XfrmInStateSeqError) - seqerr ))
echo "on the wire: sg1 sent up to seq $max1 ($(seqs sg1 | wc -l) packets), sg2 from seq $min2 ($(seqs sg2 | wc -l));" \
	"EU replay-check drops: $drops (sg1's late packets, older than sg2's start)"
expect_ge "sg2 started beyond every sequence number sg1 sent (no reuse, on the wire)" $((min2 - max1 - 1)) 0
expect_eq "no sequence number sent by both" "$( (seqs sg1; seqs sg2) | sort -n | uniq -d | wc -l)" 0
seqerr=$(xfrm_stat eu XfrmInStateSeqError)

echo "--- the new owner runs the VPN: rekeys, DPD, delete"
swanctl_in eu --rekey --child gcm >/dev/null
sleep 1
out=$(ip netns exec eu ping -n -c 5 -i 0.05 -W 1 -I 10.1.0.1 10.2.0.1)
expect_match "after a CHILD_SA rekey (EU initiated) on sg2" "$out" ' 0% packet loss'
swanctl_in eu --rekey --ike sg >/dev/null
sleep 1
out=$(ip netns exec eu ping -n -c 5 -i 0.05 -W 1 -I 10.1.0.1 10.2.0.1)
expect_match "after an IKE_SA rekey (EU initiated) on sg2" "$out" ' 0% packet loss'
kill $ping_pid 2>/dev/null || true
sleep 5
expect_match "DPD between the EU and sg2" "$(cat "$CHARON_RUN/sg2/charon.log")" 'parsed INFORMATIONAL (request|response) [0-9]+ \[ \]'
if grep -E 'giving up|invalid|unexpected' "$CHARON_RUN/eu/charon.log" "$CHARON_RUN/sg2/charon.log"; then
	fail "IKE errors after the takeover"
fi
expect_eq "EU XfrmInStateSeqError still unchanged" "$(xfrm_stat eu XfrmInStateSeqError)" "$seqerr"

echo "--- sg1 restarts and rejoins: it becomes the VPN's alternate again"
ha_restart sg1  # its kernel state as after a reboot, charon, syncd, heartbeatd
for i in $(seq 300); do [ "$(ha_role sg1)" = passive ] && break; sleep 0.05; done
expect_eq "sg1 holds the VPN (owned by sg2 now) passive" "$(ha_role sg1)" passive
ha_all_ready || { ha_status sg1; fail "sg1 did not rejoin"; }
pass "sg1 is a ready member again"
swanctl_in eu --terminate --ike sg >/dev/null
for i in $(seq 300); do [ -z "$(ha_role sg1)" ] && break; sleep 0.02; done
expect_eq "deleted on sg2, gone from sg1" "$(ha_role sg1)" ""
