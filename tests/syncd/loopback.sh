#!/usr/bin/env bash
# Three elastic-syncd on loopback, each with its own stand-in producer (elastic-sync-client):
# contexts reach exactly their alternates; a peer killed and restarted mid-stream ends up with
# the same set (digests); repeated reconnects lose nothing; bad peers and bad frames are refused
# without disturbing anything.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
d=$(mktemp -d /tmp/syncd-test.XXXXXX)
base=$((20000 + $$ % 20000))
nodes="sg1 sg2 sg3"
trap 'for n in $nodes sg4 rogue; do [ -f "$d/$n.pid" ] && syncd_kill "$d" $n; done; rm -rf "$d"' EXIT

syncd_certs "$d" sg1 sg2 sg3 sg4
for n in $nodes; do syncd_conf "$d" $n $base 1 $nodes; done
for n in $nodes; do syncd_start "$d" $n; done

HISTORY=""
# pub NODE COUNT VERSION COUNTERS DELETE [--rate R]: publish on NODE and remember it; pub_bg
# runs it in the background (remembered here: a background job cannot change HISTORY).
publish() { "$CLIENT" publish --socket "$d/$1.sock" --node $1 --count $2 --version $3 --counters $4 --delete $5 "${@:6}" >/dev/null; }
pub() { publish "$@"; HISTORY+="${HISTORY:+,}$1:$2:$3:$4:$5"; }
pub_bg() { HISTORY+="${HISTORY:+,}$1:$2:$3:$4:$5"; publish "$@" & feeder=$!; }
check_all() {
	local n want
	for n in $nodes; do
		want=$("$CLIENT" expect --config "$d/sg1.conf" --node $n --history "$HISTORY" | awk '/^digest/ { print $2 }')
		wait_digest "$d" $n "$want" 30 || fail "$n does not hold exactly what it should ($1)"
	done
	pass "$1"
}

# 1. contexts reach exactly their alternates (with counter updates and deletes)
for n in $nodes; do pub $n 300 1 3 20; done
check_all "each node holds exactly its own VPNs and those it is alternate for (digests match)"
for n in $nodes; do
	c=$(syncd_status "$d" $n | awk '/^contexts/ { print $2 }')
	[ "$c" -gt 400 ] && [ "$c" -lt 700 ] || fail "$n holds $c contexts (own 280 + about 280 replicas)"
done
pass "replicas spread over both peers (one alternate per VPN)"

# 2. a peer killed mid-stream and restarted gets a bulk resync; its own producer re-publishes
pub_bg sg1 300 10 0 0 --rate 3000
sleep 0.03
syncd_kill "$d" sg2
wait $feeder
syncd_start "$d" sg2
pub sg2 300 1 3 20
check_all "after kill -9 and restart of sg2 mid-stream, every node holds the expected set"

# 3. repeated reconnects while updates flow: nothing lost, nothing applied out of order
pub_bg sg1 300 20 2 0 --rate 4000
for i in 1 2 3; do
	sleep 0.05
	syncd_kill "$d" sg3
	syncd_start "$d" sg3
done
wait $feeder
pub sg3 300 1 3 20
check_all "after sg3 was restarted 3 times during a stream, every node holds the expected set"

# 4. security: a CA-signed certificate of a non-member, a self-signed "sg2", plaintext
syncd_conf "$d" sg4 $base 1 $nodes sg4
"$SYNCD" --config "$d/sg4.conf" >"$d/sg4.log" 2>&1 &
echo $! >"$d/sg4.pid"
mkdir -p "$d/rogue" && syncd_certs "$d/rogue" sg2
sed "s#$d/sg2#$d/rogue/sg2#g; s#$d/ca.pem#$d/rogue/ca.pem#; s#$d/sg2.sock#$d/rogue.sock#; s#sg2.sock#rogue.sock#" \
	"$d/sg2.conf" | sed "s#127.0.0.1:$((base + 1)) }#127.0.0.1:$((base + 50)) }#" >"$d/rogue.conf"
"$SYNCD" --config "$d/rogue.conf" >"$d/rogue.log" 2>&1 &
echo $! >"$d/rogue.pid"
exec 3<>"/dev/tcp/127.0.0.1/$base" && printf 'GET / HTTP/1.0\r\n\r\n' >&3 && exec 3>&-
sleep 2
grep -q "certificate for 'sg4' is not a cluster member" "$d/sg1.log" || fail "sg1 accepted or did not log the non-member sg4"
pass "a non-member's certificate is refused and logged"
grep -q "TLS handshake failed" "$d/sg1.log" || fail "sg1 did not refuse the self-signed peer / plaintext"
pass "a self-signed peer and a plaintext client are refused at the TLS handshake"
syncd_kill "$d" sg4
syncd_kill "$d" rogue
sleep 0.3

# A recorded session of a legitimate member, replayed: TLS 1.3 without tickets refuses it.
before=$(grep -c "TLS handshake failed" "$d/sg1.log" || true)
python3 "$(dirname "$0")/replay.py" $((base + 60)) $base >"$d/replay.out" &
rp=$!
for i in $(seq 50); do grep -q ready "$d/replay.out" 2>/dev/null && break; sleep 0.1; done
printf '\000\000\000\004\001sg2' | timeout 10 openssl s_client -connect 127.0.0.1:$((base + 60)) -tls1_3 -quiet \
	-no_ign_eof -cert "$d/sg2.pem" -key "$d/sg2.key" -CAfile "$d/ca.pem" >/dev/null 2>&1 || true
wait $rp
cat "$d/replay.out" | tail -1
sleep 0.5
after=$(grep -c "TLS handshake failed" "$d/sg1.log" || true)
[ "$after" -gt "$before" ] || fail "a replayed TLS session was not refused"
pass "a replayed TLS session is refused at the handshake"

# 5. malformed, truncated and oversized frames on the local socket close that connection only
for frame in 00000000 02 7fffffff02 0000000509deadbeef 0000000a0200000000000000017878; do
	out=$("$CLIENT" raw --socket "$d/sg1.sock" "$frame")
	[ "$out" = "connection closed" ] || fail "frame $frame: $out"
done
grep -q "local client closed: malformed frame: frame length 2147483647 out of range" "$d/sg1.log" ||
	fail "no clear log line for an oversized frame"
grep -q "refused envelope" "$d/sg1.log" || fail "no clear log line for a garbage envelope"
pass "malformed/oversized frames and garbage envelopes close only that connection, with a clear log line"
check_all "after the attacks every node still holds the expected set"
for n in $nodes; do kill -0 "$(cat "$d/$n.pid")" || fail "$n died"; done
pass "all daemons still run"

# 6. the Prometheus endpoint
exec 3<>"/dev/tcp/127.0.0.1/$((base + 101))"
printf 'GET /metrics HTTP/1.0\r\n\r\n' >&3
m=$(cat <&3)
exec 3>&-
grep -q '^elastic_syncd_contexts [0-9]' <<<"$m" || fail "metrics: $m"
grep -q '^elastic_syncd_peer_connected{peer="sg2"} 1' <<<"$m" || fail "metrics: $m"
pass "Prometheus text endpoint reports contexts and peers"

# 7. live membership (elastic-heartbeatd's view on the local socket): sg3 fails; sg1's VPNs that
# had sg3 as alternate go to sg2; stale and malformed views change nothing; when sg3 rejoins it
# gets sg1's replicas again.
entries() { syncd_status "$d" $1 | awk '/^entries/ { print $2 }'; }
sg1_history=$(tr , '\n' <<<"$HISTORY" | grep '^sg1:' | paste -sd,)
on_sg3=$("$CLIENT" expect --config "$d/sg1.conf" --node sg3 --history "$sg1_history" | awk '/^entries/ { print $2 }')
[ "$on_sg3" -gt 50 ] || fail "only $on_sg3 of sg1's VPNs are placed on sg3"
sg2_before=$(entries sg2)
syncd_kill "$d" sg3
"$CLIENT" membership --socket "$d/sg1.sock" --epoch 1 --live sg1,sg2 | grep -qx "membership epoch 1 live sg1,sg2" ||
	fail "sg1 does not show the view: $(syncd_status "$d" sg1)"
for i in $(seq 300); do [ "$(entries sg2)" = $((sg2_before + on_sg3)) ] && break; sleep 0.1; done
[ "$(entries sg2)" = $((sg2_before + on_sg3)) ] ||
	fail "sg2 holds $(entries sg2) entries, expected $sg2_before + $on_sg3 of sg1's VPNs that were on sg3"
pass "membership without sg3: the $on_sg3 VPNs of sg1 placed on sg3 reach sg2 (and only those)"
"$CLIENT" membership --socket "$d/sg1.sock" --epoch 1 --live sg1,sg2,sg3 | grep -qx "membership epoch 1 live sg1,sg2" ||
	fail "a view of the same epoch was applied"
grep -q "membership: ignored a view not newer than epoch 1" "$d/sg1.log" || fail "no log line for an old epoch"
for body in "epoch=2 live=sg1,sg9" "epoch=2 live=sg1,,sg2" "epoch=x live=sg1" "live=sg1 epoch=2"; do
	hex=$(printf '%s' "$body" | od -An -tx1 | tr -d ' \n')
	"$CLIENT" raw --socket "$d/sg1.sock" "$(printf '%08x05' $((${#body} + 1)))$hex" >/dev/null
done
grep -q "membership refused: unknown member 'sg9' (not in elastic.cluster.members); keeping epoch 1 live sg1,sg2" \
	"$d/sg1.log" || fail "no clear log line for a view naming an unknown member"
[ "$(grep -c 'membership refused' "$d/sg1.log")" -ge 4 ] || fail "a malformed view was not refused"
syncd_status "$d" sg1 | grep -qx "membership epoch 1 live sg1,sg2" || fail "a refused view changed the view"
pass "views of an old epoch are ignored, malformed ones and unknown members refused with a log line"
# sg3 restarts empty: its producer re-publishes, sg2 resyncs it, sg1 sends nothing (not live)
syncd_start "$d" sg3
pub sg3 300 1 3 20
want3=$("$CLIENT" expect --config "$d/sg1.conf" --node sg3 --history "$HISTORY" | awk '/^entries/ { print $2 }')
for i in $(seq 300); do
	syncd_status "$d" sg1 | grep -q "^peer sg3 connected" && [ "$(entries sg3)" = $((want3 - on_sg3)) ] && break
	sleep 0.1
done
[ "$(entries sg3)" = $((want3 - on_sg3)) ] || fail "sg3 holds $(entries sg3) entries before rejoining, expected $((want3 - on_sg3))"
"$CLIENT" membership --socket "$d/sg1.sock" --epoch 2 --live sg1,sg2,sg3 >/dev/null
want=$("$CLIENT" expect --config "$d/sg1.conf" --node sg3 --history "$HISTORY" | awk '/^digest/ { print $2 }')
wait_digest "$d" sg3 "$want" 30 || fail "sg3 did not get sg1's replicas back after rejoining"
pass "sg3 rejoins (epoch 2): it gets exactly its replicas of sg1's VPNs again (digest matches)"
exec 3<>"/dev/tcp/127.0.0.1/$((base + 101))"
printf 'GET /metrics HTTP/1.0\r\n\r\n' >&3
m=$(cat <&3)
exec 3>&-
grep -q '^elastic_syncd_membership_epoch 2' <<<"$m" && grep -q '^elastic_syncd_members_live 3' <<<"$m" &&
	grep -q '^elastic_syncd_peer_live{peer="sg3"} 1' <<<"$m" || fail "metrics: $m"
pass "metrics show the membership view"
