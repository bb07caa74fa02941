#!/usr/bin/env bash
# Live transfer of a VPN between two real charons (SG1, SG2 behind one cluster IP) with real kernel
# ESP, steered by elasticctl alone: during a 50 packets/s stream, for AES-GCM, AES-CBC, AES-CTR,
# AES-GCM with extended sequence numbers, NAT-T, an IKE_SA with two CHILD_SAs, a virtual IP, IPv6
# outside and inside (and IPv4 inside IPv6 in one CHILD_SA); there and back. The EU must keep its
# IKE_SA (same SPIs, no new IKE_SA_INIT), its kernel must never see a replayed sequence number, and
# the moved VPN must stay fully alive.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$ELASTIC_REPO/testbed/lib/cluster.sh"
. "$ELASTIC_REPO/testbed/lib/stream.sh"

# A sanity bound, not a speed target (speed is measured by ./tests/bench transfer): a transfer that
# loses half a second of the 50/s stream is broken. Typical under QEMU/TCG: 1-2 packets.
MAX_LOST=${ELASTIC_MAX_LOST:-25}
export CHARON_LOG_LEVELS="cfg = 4"

cluster_start

# transfer FROM TO: move the EU's VPN while the stream runs; check what the EU saw.
transfer() {
	local from=$1 to=$2 spis inits seqerr plain out stats
	spis=$(eu_ike_spis) inits=$(eu_inits) seqerr=$(xfrm_stat eu XfrmInStateSeqError)
	plain=$(xfrm_stat eu XfrmInTmplMismatch)
	stream_start "$CHARON_RUN/stream.out" 3
	sleep 1
	out=$(cluster_transfer $from $to "${GW_CONN:-rw}")
	echo "$out"
	stream_wait
	stats=$(stream_stats "$CHARON_RUN/stream.out")
	echo "transfer $from -> $to: $stats"
	expect_ge "lost packets at most $MAX_LOST (negated)" $((MAX_LOST - $(echo "$stats" | awk '{print $2}'))) 0
	expect_eq "EU IKE_SA SPIs unchanged" "$(eu_ike_spis)" "$spis"
	expect_eq "EU started no new IKE_SA" "$(eu_inits)" "$inits"
	expect_eq "EU XfrmInStateSeqError unchanged" "$(xfrm_stat eu XfrmInStateSeqError)" "$seqerr"
	# A reply forwarded by a gateway without its IPsec policy would reach the EU in cleartext and
	# fail the EU's inbound policy check.
	expect_eq "no cleartext reached the EU (XfrmInTmplMismatch unchanged)" "$(xfrm_stat eu XfrmInTmplMismatch)" "$plain"
	expect_match "$to holds the VPN, active" "$(ctl $to list)" "^${GW_CONN:-rw}: ike-id [0-9]+, vpn sg1/[0-9a-f]+/[0-9]+, epoch [0-9]+, .*active"
	expect_eq "$from holds no VPN any more" "$(ctl $from list)" ""
	if ip -n $to xfrm policy | grep -q 'action block'; then fail "$to kept a passive DROP policy"; fi
	if ip -n $from xfrm policy | grep -q 'action block'; then fail "$from kept its release fence (DROP)"; fi
	pass "$to replaced its passive DROP policies by IPsec policies"
}

ping_ok() {
	local out
	out=$(ip netns exec eu ping -n -c 5 -i 0.05 -W 1 -I "${STREAM_SRC:-10.1.0.1}" "${STREAM_DST:-10.2.0.1}")
	expect_match "$1" "$out" ' 0% packet loss'
}

ping_two() { # the second CHILD_SA (inner address 10.1.1.1)
	expect_match "$1" "$(ip netns exec eu ping -n -c 5 -i 0.05 -W 1 -I 10.1.1.1 10.2.0.1)" ' 0% packet loss'
}

ping_v4() { # IPv4 inside the "dual" CHILD_SA over IPv6
	expect_match "$1" "$(ip netns exec eu ping -n -c 5 -i 0.05 -W 1 -I 10.1.0.1 10.2.0.1)" ' 0% packet loss'
}

for conn_child in sg:gcm sg:cbc sg:ctr sg:gcmesn sgnat:gcm sg:gcm+two sgvip:vip sg6:v6 sg6:dual; do
	conn=${conn_child%%:*} child=${conn_child#*:}
	echo "=== $conn/$child"
	topology_steer sg1
	for c in ${child/+/ }; do swanctl_in eu --initiate --ike "$conn" --child "$c" >/dev/null; done
	unset STREAM_SRC STREAM_DST GW_CONN
	if [ "$conn" = sgvip ]; then  # the traffic goes from the virtual IP the gateway assigned
		GW_CONN=rwvip
		STREAM_SRC=$(ip -n eu -o -4 addr | grep -oE '10\.1\.200\.[0-9]+' | head -1)
		[ -n "$STREAM_SRC" ] || fail "the EU got no virtual IP"
		pass "the EU got virtual IP $STREAM_SRC from sg1's pool"
		export STREAM_SRC
	fi
	if [ "$conn" = sg6 ]; then  # IPv6 outside (EU 2001:db8:2::2 to 2001:db8:113::1) and inside
		export GW_CONN=rw6 STREAM_SRC=fd00:1::1 STREAM_DST=fd00:2::1
		expect_match "IPv6 outer addresses (sg1's SAs)" "$(ip -n sg1 xfrm state)" 'src 2001:db8:113::1 dst 2001:db8:2::2'
	fi
	ping_ok "tunnel up via sg1"
	case $child in
	dual) ping_v4 "IPv4 inside the IPv6 CHILD_SA via sg1" ;;
	gcmesn) expect_match "ESN negotiated (the EU's SAs)" "$(ip -n eu xfrm state)" 'flag .*esn' ;;
	gcm) if ip -n eu xfrm state | grep -q 'flag .*esn'; then fail "ESN negotiated for the gcm child"; fi ;;
	*two) ping_two "the second CHILD_SA up via sg1"
	      expect_eq "one IKE_SA with two CHILD_SAs on sg1" "$(ctl sg1 list | grep -c 'spi_in')" 2 ;;
	esac
	transfer sg1 sg2
	[ "$conn" = sgvip ] && expect_match "sg2 knows the EU's virtual IP" "$(swanctl_in sg2 --list-sas)" "remote .*\\[$STREAM_SRC\\]"
	[ "$conn" = sgnat ] && expect_match "NAT-T: sg2's SAs are UDP-encapsulated" "$(xfrm_show sg2)" 'encap type espinudp sport 4500'
	[ "$conn" = sg6 ] && expect_match "sg2's SAs are IPv6 outside" "$(ip -n sg2 xfrm state)" 'src 2001:db8:113::1 dst 2001:db8:2::2'
	[ "$child" = dual ] && ping_v4 "IPv4 inside the IPv6 CHILD_SA through sg2"
	[ "$child" = gcm+two ] && ping_two "the second CHILD_SA through sg2"
	ping_ok "traffic through sg2 after the transfer"
	transfer sg2 sg1
	[ "$child" = gcm+two ] && ping_two "the second CHILD_SA through sg1 after the transfer back"
	[ "$child" = dual ] && ping_v4 "IPv4 inside the IPv6 CHILD_SA through sg1 after the transfer back"
	ping_ok "traffic through sg1 after the transfer back"
	swanctl_in eu --terminate --ike "$conn" >/dev/null
	unset STREAM_SRC STREAM_DST GW_CONN
	expect_eq "clean delete: no SAs left on sg1" "$(ip -n sg1 xfrm state | grep -c '^src' || true)" 0
done

echo "=== the moved VPN is fully alive on sg2"
topology_steer sg1
swanctl_in eu --initiate --ike sg --child gcm >/dev/null
transfer sg1 sg2
swanctl_in eu --rekey --child gcm >/dev/null
sleep 1
ping_ok "EU-initiated CHILD_SA rekey on sg2"
swanctl_in sg2 --rekey --child net >/dev/null
sleep 1
ping_ok "SG-initiated CHILD_SA rekey on sg2"
spis=$(eu_ike_spis)
swanctl_in eu --rekey --ike sg >/dev/null
sleep 1
[ "$(eu_ike_spis)" != "$spis" ] || fail "EU-initiated IKE_SA rekey did not change the SPIs"
pass "EU-initiated IKE_SA rekey on sg2"
spis=$(eu_ike_spis)
swanctl_in sg2 --rekey --ike rw >/dev/null
sleep 1
[ "$(eu_ike_spis)" != "$spis" ] || fail "SG-initiated IKE_SA rekey did not change the SPIs"
pass "SG-initiated IKE_SA rekey on sg2"
ping_ok "traffic after both rekeys"
sleep 3  # DPD (2 s on both sides) runs as an INFORMATIONAL exchange with sg2
# DPD runs on both sides; whichever is idle first sends (the other's timer then resets).
expect_match "DPD between the EU and sg2 (INFORMATIONAL, right message IDs)" "$(cat "$CHARON_RUN/sg2/charon.log")" \
	'parsed INFORMATIONAL (request|response) [0-9]+ \[ \]'
if grep -E 'retransmit|invalid|unexpected|expected' "$CHARON_RUN/eu/charon.log" "$CHARON_RUN/sg2/charon.log"; then
	fail "message IDs out of step after the transfer"
fi
pass "no retransmits or message ID errors on the EU or sg2"
# The keys of the SAs that were just moved (ESP keys as the EU's kernel holds them) appear in no
# log, though the plugin logs at level 4 (CHARON_LOG_LEVELS): neither as hex nor as a chunk dump.
keys=$(ip -n eu xfrm state | grep -oE '0x[0-9a-f]{32,}' | sed 's/^0x//' | sort -u)
[ "$(wc -l <<<"$keys")" -ge 2 ] || fail "no ESP keys found in the EU's SAs: $keys"
for k in $keys; do
	dump=$(printf '%s' "${k:0:16}" | sed 's/../& /g; s/ $//' | tr a-f A-F)  # charon's chunk dump form
	if grep -rqiF -e "$k" -e "${k:0:24}" -e "$dump" "$CHARON_RUN"/*/charon.log; then
		fail "a log contains ESP key material (${k:0:8}...)"
	fi
done
pass "none of the $(wc -l <<<"$keys") current ESP keys is in any charon log (plugin at log level 4)"
swanctl_in eu --terminate --ike sg >/dev/null
expect_eq "clean delete on sg2: no SAs left" "$(ip -n sg2 xfrm state | grep -c '^src' || true)" 0
