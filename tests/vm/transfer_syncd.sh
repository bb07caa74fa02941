#!/usr/bin/env bash
# Planned transfers in a cluster that replicates: three gateways with elastic-syncd and
# elastic-heartbeatd running, the VPN already held passive by its alternate. `elasticctl transfer
# --to NODE` goes by member name over syncd's TLS links (no shared socket path); run on the owner
# or on any other member (--from). A transfer to the alternate reuses its replica as the passive
# copy (it used to fail: "this IKE_SA already exists here"); one to a gateway without a replica
# builds one; also over IPv6 (outside and inside). Each time the EU keeps its IKE_SA, never sees a
# replayed sequence number, and the VPN has exactly one active owner.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$ELASTIC_REPO/testbed/lib/ha.sh"

CLUSTER_N=3 ha_start
pass "sg1, sg2, sg3 and the witness see each other ready, syncd runs on every gateway"
swanctl_in eu --initiate --ike sg --child gcm >/dev/null
holder=
for i in $(seq 300); do
	for n in sg2 sg3; do [ "$(ha_role $n)" = passive ] && holder=$n; done
	[ -n "$holder" ] && break
	sleep 0.02
done
[ -n "$holder" ] || fail "no alternate holds the VPN passive"
other=sg2
[ $holder = sg2 ] && other=sg3
pass "the VPN is owned by sg1 and replicated passive to $holder"
spis=$(eu_ike_spis) seqerr=$(xfrm_stat eu XfrmInStateSeqError)
inits=$(grep -c 'IKE_SA_INIT request' "$CHARON_RUN/eu/charon.log" || true)

# owners: the gateways that hold the VPN active (must be exactly one).
owners() { for n in $TOPOLOGY_SGS; do [ "$(ha_role $n)" = active ] && echo $n; done | xargs; }

# move FROM TO [ON]: transfer by member name, run on member ON (default FROM), while a 50/s ping
# runs; TO's steering hook (the same as a takeover's) moves the traffic before FROM lets go.
move() {
	local from=$1 to=$2 on=${3:-$1} out args=(--to "$2" --json)
	[ "$on" = "$from" ] || args+=(--from "$from")
	ip netns exec eu ping -n -q -i 0.02 -c 150 -I 10.1.0.1 10.2.0.1 >"$CHARON_RUN/ping.out" 2>&1 &
	local ping=$!
	sleep 1
	out=$(ctl $on transfer --ike rw "${args[@]}")
	echo "$from -> $to (run on $on): $out"
	expect_match "the transfer reports success" "$out" "^\{\"ok\": true, \"target\": \"$to\""
	wait $ping || true
	grep -E 'packets transmitted' "$CHARON_RUN/ping.out"
	expect_eq "one owner after $from -> $to" "$(owners)" "$to"
	out=$(ip netns exec eu ping -n -c 10 -i 0.05 -W 1 -I 10.1.0.1 10.2.0.1)
	expect_match "traffic through $to" "$out" ' 0% packet loss'
	expect_eq "EU IKE_SA unchanged" "$(eu_ike_spis)" "$spis"
	expect_eq "EU XfrmInStateSeqError unchanged" "$(xfrm_stat eu XfrmInStateSeqError)" "$seqerr"
}

id_before=$(ctl $holder list | sed -n 's/.*rw: ike-id \([0-9]*\),.*/\1/p')
echo "--- the passive copy accepts the EU's traffic as soon as it is steered there, before activation"
nopols=$(xfrm_stat $holder XfrmInNoPols)
ip netns exec rb tcpdump -i any -n -l -U "icmp[icmptype] = icmp-echo and src 10.1.0.1 and dst 10.2.0.1" \
	>"$CHARON_RUN/early.txt" 2>/dev/null &
dump=$!
sleep 1
ctl $holder steer --ike-id $id_before >/dev/null  # $holder's steering hook: the EU's traffic goes there
ip netns exec eu ping -n -q -c 10 -i 0.05 -W 0.5 -I 10.1.0.1 10.2.0.1 >/dev/null || true  # no replies: passive
ctl sg1 steer --ike rw >/dev/null
sleep 0.5
kill $dump
expect_eq "echo requests decrypted by $holder's passive copy reached the server" "$(grep -c 'ICMP echo request' "$CHARON_RUN/early.txt")" 10
expect_eq "none dropped on $holder for lack of an inbound policy (XfrmInNoPols)" "$(xfrm_stat $holder XfrmInNoPols)" "$nopols"
expect_eq "still one owner, sg1" "$(owners)" sg1
out=$(ip netns exec eu ping -n -c 5 -i 0.05 -W 1 -I 10.1.0.1 10.2.0.1)
expect_match "traffic through sg1 again" "$out" ' 0% packet loss'

# Exactness, independent of timing: what each gateway sends on the SA towards the EU, captured in
# the front router on its link; the target's first sequence number must follow the source's last.
spi_out=$(ctl sg1 list | awk '/spi_out/ { for (i = 1; i <= NF; i++) if ($i == "spi_out") { print $(i + 1); exit } }' | tr -d ,)
for sg in sg1 $holder; do
	ip netns exec rf tcpdump -i eth-$sg -n -l -U "esp and dst host 192.0.2.2 and ip[20:4] = 0x$spi_out" \
		>"$CHARON_RUN/esp-$sg.txt" 2>/dev/null &
	echo $! >"$CHARON_RUN/tcpdump-$sg.pid"
done
sleep 1
move sg1 $holder
for sg in sg1 $holder; do kill "$(cat "$CHARON_RUN/tcpdump-$sg.pid")" 2>/dev/null || true; done
sleep 0.5
seqs() { grep -Eo 'seq=0x[0-9a-f]+' "$CHARON_RUN/esp-$1.txt" | sed 's/seq=//' | xargs -r printf '%d\n'; }
last=$(seqs sg1 | sed -n '$p') first=$(seqs $holder | sed -n 1p)
echo "ESP to the EU on SPI 0x$spi_out: sg1 sent $(seqs sg1 | wc -l) packets up to seq $last, $holder's first: seq $first"
[ -n "$last" ] && [ -n "$first" ] || fail "no ESP captured from sg1 or $holder"
expect_eq "the target's first ESP sequence number is the source's last + 1 (no gap, no reuse)" "$first" $((last + 1))
expect_eq "$holder activated its replica (same ike-id $id_before)" \
	"$(ctl $holder list | sed -n 's/.*rw: ike-id \([0-9]*\),.*active.*/\1/p')" "$id_before"
expect_match "$holder logged the reuse" "$(cat "$CHARON_RUN/$holder/charon.log")" "already held here passive as IKE_SA $id_before: reused"
# the new owner replicates it on: some other gateway holds it passive again
for i in $(seq 300); do
	[ -n "$(for n in sg1 $other; do [ "$(ha_role $n)" = passive ] && echo $n; done)" ] && break
	sleep 0.02
done
expect_match "the new owner's VPN is replicated again" "$(for n in sg1 $other; do echo "$n=$(ha_role $n)"; done | xargs)" 'passive'

echo "--- to a gateway that may or may not hold a replica (run on sg1, not the owner), then back to sg1 (run on $holder)"
move $holder $other sg1
move $other sg1 $holder
expect_match "the owner ran the export for sg1" "$(cat "$CHARON_RUN/$holder/charon.log")" "member sg1 runs 'export' here"
expect_match "the target ran the import for sg1" "$(cat "$CHARON_RUN/$other/charon.log")" "member sg1 runs 'import' here"
swanctl_in eu --rekey --child gcm >/dev/null
sleep 1
out=$(ip netns exec eu ping -n -c 5 -i 0.05 -W 1 -I 10.1.0.1 10.2.0.1)
expect_match "a CHILD_SA rekey after three transfers" "$out" ' 0% packet loss'
expect_eq "no new IKE_SA_INIT from the EU" "$(grep -c 'IKE_SA_INIT request' "$CHARON_RUN/eu/charon.log" || true)" "$inits"
if grep -E 'already exists here' "$CHARON_RUN"/sg*/charon.log; then fail "an import collided with a replica"; fi
pass "no import collided with a replica"

echo "--- IPv6 outside and inside: a second VPN (gateway connection rw6) moved by member name and back"
swanctl_in eu --initiate --ike sg6 --child v6 >/dev/null
inits=$(grep -c 'IKE_SA_INIT request' "$CHARON_RUN/eu/charon.log" || true)  # counting this one
# rw6_on [ROLE]: the gateways holding the IPv6 VPN (in that role: active or passive)
rw6_on() { for n in $TOPOLOGY_SGS; do ctl $n list | grep -q "^rw6: .*${1:+ $1}" && echo $n; done | xargs; }
owners6() { rw6_on active; }
ping6_ok() { expect_match "$1" "$(ip netns exec eu ping -n -c 10 -i 0.05 -W 1 -I fd00:1::1 fd00:2::1)" ' 0% packet loss'; }
expect_eq "the IPv6 VPN is owned by sg1" "$(owners6)" sg1
ping6_ok "IPv6 traffic through sg1"
spis6=$(eu_ike_spis eu --ike sg6)
for i in $(seq 300); do
	[ -n "$(rw6_on passive)" ] && break
	sleep 0.02
done
for hop in "sg1 $other sg1" "$other sg1 $holder"; do
	set -- $hop
	out=$(ctl $3 transfer --ike rw6 --to $2 --json $([ $3 = $1 ] || echo --from $1))
	echo "$1 -> $2 (run on $3): $out"
	expect_match "the IPv6 transfer reports success" "$out" "^\{\"ok\": true, \"target\": \"$2\""
	expect_eq "one owner of the IPv6 VPN after $1 -> $2" "$(owners6)" $2
	expect_match "$2's SAs are IPv6 outside" "$(ip -n $2 xfrm state)" 'src 2001:db8:113::1 dst 2001:db8:2::2'
	# the steering hook moved the EU's IPv6 address and inner network to $2
	ping6_ok "IPv6 traffic through $2 (steered by its hook)"
done
expect_eq "EU's IPv6 IKE_SA unchanged" "$(eu_ike_spis eu --ike sg6)" "$spis6"
expect_eq "EU XfrmInStateSeqError unchanged" "$(xfrm_stat eu XfrmInStateSeqError)" "$seqerr"
swanctl_in eu --terminate --ike sg6 >/dev/null
for i in $(seq 200); do [ -z "$(rw6_on)" ] && break; sleep 0.02; done
expect_eq "after the EU's delete no member holds the IPv6 VPN (active or passive)" "$(rw6_on)" ""

# rekeyed_move FROM TO WHAT: a transfer whose steering step first rekeys (WHAT: --child gcm or
# --ike sg, initiated by the EU) on the source, after the target's passive copy was made.
rekeyed_move() {
	local from=$1 to=$2 out
	local steer="STRONGSWAN_CONF=$CHARON_RUN/eu/strongswan.conf $SWAN_PREFIX/sbin/swanctl --rekey $3 >/dev/null &&
		sleep 2 && $ELASTIC_BUILD/plugins/elastic/elasticctl --socket $CHARON_RUN/$from/charon.elastic --node $to steer --ike rw >/dev/null"
	out=$(ctl $from transfer --ike rw --to $to --json --steer "$steer")
	echo "$from -> $to, rekey $3 in flight: $out"
	expect_match "the transfer succeeded" "$out" '"ok": true'
	expect_match "the target rebuilt the VPN from the final context" "$out" 'rebuilt on the target from the final context'
	expect_eq "one owner, $to" "$(owners)" "$to"
	out=$(ip netns exec eu ping -n -c 10 -i 0.05 -W 1 -I 10.1.0.1 10.2.0.1)
	expect_match "traffic through $to" "$out" ' 0% packet loss'
	expect_eq "EU XfrmInStateSeqError unchanged" "$(xfrm_stat eu XfrmInStateSeqError)" "$seqerr"
}
echo "--- a CHILD_SA rekey, then an IKE_SA rekey, between the passive copy and the release"
# the EU's installed CHILD_SA's inbound SPI (a rekeyed one stays listed DELETED for a few seconds,
# charon's delete_rekeyed_delay, with its inbound SA kept for late packets)
eu_child_in() {
	swanctl_in eu --list-sas | awk '/reqid/ { inst = /INSTALLED/ } inst && $1 == "in" { sub(",", "", $2); print $2; exit }'
}
child_before=$(eu_child_in)
rekeyed_move sg1 $holder "--child gcm"
child_after=$(eu_child_in)
[ -n "$child_after" ] && [ "$child_after" != "$child_before" ] || fail "the EU's CHILD_SA was not rekeyed ($child_before): $(swanctl_in eu --list-sas)"
pass "the EU's CHILD_SA was rekeyed (inbound SPI $child_before -> $child_after)"
rekeyed_move $holder sg1 "--ike sg"
[ "$(eu_ike_spis)" != "$spis" ] || fail "the EU's IKE_SA was not rekeyed"
spis=$(eu_ike_spis)
pass "the EU's IKE_SA was rekeyed and continues on sg1 without a new IKE_SA_INIT"
expect_eq "no new IKE_SA_INIT from the EU" "$(grep -c 'IKE_SA_INIT request' "$CHARON_RUN/eu/charon.log" || true)" "$inits"

echo "--- a member that does not exist: refused before anything moves"
if out=$(ctl sg1 transfer --ike rw --to sg9 2>&1); then fail "a transfer to sg9 succeeded: $out"; fi
expect_match "it names the member" "$out" "'sg9' is not a member of this cluster"
expect_eq "one owner, still sg1" "$(owners)" sg1

echo "--- the target's charon killed after the steering, before the activation: the source takes the VPN back"
kill9="$ELASTIC_BUILD/plugins/elastic/elasticctl --socket $CHARON_RUN/sg1/charon.elastic --node $other steer --ike rw >/dev/null &&
	kill -9 \$(cat $CHARON_RUN/$other/charon.pid) && sleep 0.5"
if out=$(ctl sg1 transfer --ike rw --to $other --steer "$kill9" 2>&1); then fail "the transfer to a dead target succeeded: $out"; fi
echo "$out"
expect_match "the VPN was taken back" "$out" "no charon with the elastic plugin is attached .* the VPN was taken back here"
expect_eq "one owner, sg1" "$(owners)" sg1
out=$(ip netns exec eu ping -n -c 10 -i 0.05 -W 1 -I 10.1.0.1 10.2.0.1)
expect_match "traffic through sg1 again (its steering hook brought it back)" "$out" ' 0% packet loss'
expect_eq "EU IKE_SA unchanged" "$(eu_ike_spis)" "$spis"
expect_eq "EU XfrmInStateSeqError unchanged" "$(xfrm_stat eu XfrmInStateSeqError)" "$seqerr"

echo "--- a steering hook that fails: the transfer stops before the source lets go"
kill "$(cat "$CHARON_RUN/steerd.pid")"
sleep 0.3
if out=$(ctl sg1 transfer --ike rw --to $holder 2>&1); then fail "the transfer succeeded without steering: $out"; fi
expect_match "it says why" "$out" 'steering to the target failed; the VPN stays here'
expect_eq "one owner, still sg1" "$(owners)" sg1
out=$(ip netns exec eu ping -n -c 10 -i 0.05 -W 1 -I 10.1.0.1 10.2.0.1)
expect_match "traffic still through sg1" "$out" ' 0% packet loss'
expect_eq "EU IKE_SA unchanged" "$(eu_ike_spis)" "$spis"
