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
trap 'for n in $nodes sg4; do [ -f "$d/$n.pid" ] && syncd_kill "$d" $n; done; rm -rf "$d"' EXIT

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
# The same placement, computed independently: `expect` (check_all's oracle) uses the daemon's own
# placement code, so a bug there would be shared. Per testbed/tools/placement.py, each node holds
# as replicas exactly the other nodes' live VPNs ("N/21".."N/300") whose first alternate it is.
placed_on() { # NODE: those VPN ids, sorted
	python3 - "$ELASTIC_REPO/testbed/tools" "$1" $nodes <<'EOF' | LC_ALL=C sort
import sys
sys.path.insert(0, sys.argv[1])
from placement import alternates
node, members = sys.argv[2], sys.argv[3:]
for origin in members:
    for i in range(21, 301):
        if origin != node and alternates(f"{origin}/{i}", origin, members)[0] == node:
            print(f"{origin}/{i}")
EOF
}
total=0
for n in $nodes; do
	placed_on $n >"$d/$n.placed"
	"$CLIENT" held --socket "$d/$n.sock" | LC_ALL=C sort >"$d/$n.held"
	diff "$d/$n.placed" "$d/$n.held" >"$d/$n.diff" ||
		fail "$n holds $(wc -l <"$d/$n.held") replicas, placement.py places $(wc -l <"$d/$n.placed") on it: $(head -5 "$d/$n.diff")"
	total=$((total + $(wc -l <"$d/$n.held")))
done
[ $total = 840 ] || fail "$total replicas in all, expected one of each of the 840 live VPNs"
pass "each node holds exactly the replicas testbed/tools/placement.py places on it ($(wc -l <"$d/sg1.held"), $(wc -l <"$d/sg2.held"), $(wc -l <"$d/sg3.held"))"

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

# 4. security. Each attempt on its own: sg1 logs exactly one more refused handshake, for the
# reason of that case, and the client never gets an Ack.
refusals() { grep -c "closed: TLS handshake failed" "$d/sg1.log" || true; }
# refused NAME REASON CMD...: CMD (a client of sg1) must be refused at the handshake for REASON
refused() {
	local what=$1 reason=$2 before after i line; shift 2
	before=$(refusals)
	"$@" >"$d/attempt.out" 2>&1 || true
	for i in $(seq 50); do [ "$(refusals)" -gt "$before" ] && break; sleep 0.1; done
	sleep 0.2
	after=$(refusals)
	[ "$after" = $((before + 1)) ] ||
		fail "$what: sg1 logged $((after - before)) refused handshakes, expected 1 (client: $(cat "$d/attempt.out"))"
	line=$(grep "closed: TLS handshake failed" "$d/sg1.log" | tail -1)
	grep -q "$reason" <<<"$line" || fail "$what: not refused for '$reason': $line"
	! grep -q "^acked" "$d/attempt.out" || fail "$what: its envelope was acknowledged ($(cat "$d/attempt.out"))"
}
mkdir -p "$d/rogue" && SYNCD_CA_CN=other-ca syncd_certs "$d/rogue" sg2 # an "sg2" of another CA
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=sg2 \
	-keyout "$d/rogue/self.key" -out "$d/rogue/self.pem" 2>/dev/null
# Clients that trust sg1's CA (so that sg1 is the one to decide) and send a Hello and a context.
as_peer() { "$CLIENT" peer --connect 127.0.0.1:$base --ca "$d/ca.pem" --cert "$1" --key "$2" --hello sg2 \
	--node sg2 --count 1; }
refused "a self-signed sg2" "certificate verify failed" as_peer "$d/rogue/self.pem" "$d/rogue/self.key"
pass "a self-signed certificate is refused at the handshake and logged"
refused "an sg2 of another CA" "certificate verify failed" as_peer "$d/rogue/sg2.pem" "$d/rogue/sg2.key"
pass "a certificate of another CA is refused at the handshake and logged"
plaintext() { exec 3<>"/dev/tcp/127.0.0.1/$base" && printf "$1" >&3 && sleep 0.5 && exec 3>&-; }
refused "a plaintext Hello" "wrong version number" plaintext '\000\000\000\004\001sg2'
refused "a plaintext HTTP request" "http request" plaintext 'GET / HTTP/1.0\r\n\r\n'
pass "plaintext (a Hello frame, an HTTP request) is refused at the handshake and logged"

syncd_conf "$d" sg4 $base 1 $nodes sg4
"$SYNCD" --config "$d/sg4.conf" >"$d/sg4.log" 2>&1 &
echo $! >"$d/sg4.pid"
for i in $(seq 50); do grep -q "certificate for 'sg4' is not a cluster member" "$d/sg1.log" && break; sleep 0.1; done
grep -q "certificate for 'sg4' is not a cluster member" "$d/sg1.log" || fail "sg1 accepted or did not log the non-member sg4"
pass "a non-member's certificate is refused and logged"
syncd_kill "$d" sg4

# No session resumption: a member that connects again with the session (ticket) of a connection
# that is still open gets a full handshake. (Tickets arrive after the handshake.)
sclient() { sleep "$1" | openssl s_client -connect 127.0.0.1:$base -tls1_3 -cert "$d/sg2.pem" -key "$d/sg2.key" \
	-CAfile "$d/ca.pem" "${@:2}" 2>&1; }
sclient 3 -sess_out "$d/session.pem" >"$d/first.out" &
first=$!
for i in $(seq 20); do [ -s "$d/session.pem" ] && break; sleep 0.1; done
sleep 0.2
if [ -s "$d/session.pem" ]; then # a ticket arrived (stateful: it names a session sg1 does not keep)
	sclient 0.5 -sess_in "$d/session.pem" >"$d/second.out" || true
	! grep -q "^Reused," "$d/second.out" || fail "sg1 resumed a session: $(cat "$d/second.out")"
	grep -q "^New, TLSv1.3" "$d/second.out" || fail "no full handshake with a stale session: $(cat "$d/second.out")"
fi
wait $first || true
grep -q "^New, TLSv1.3" "$d/first.out" && grep -q "^Verify return code: 0 (ok)" "$d/first.out" ||
	fail "no TLS 1.3 handshake with sg1: $(cat "$d/first.out")"
if [ -s "$d/session.pem" ]; then
	pass "a TLS session cannot be resumed: with the ticket of the first, the second connection is a full handshake"
else
	! grep -q "New Session Ticket" "$d/first.out" || fail "a session ticket arrived but was not saved"
	pass "a TLS session cannot be resumed: sg1 sends no session ticket"
fi

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

# 6. the Prometheus endpoint: valid exposition text (tests/tools/check_exposition.py: families
# not interleaved, HELP and TYPE, counters _total, histograms cumulative), and what it reports
# scrape NODE: its raw HTTP answer in $d/metrics, checked
scrape() {
	exec 3<>"/dev/tcp/127.0.0.1/$((base + 100 + ${1#sg}))"
	printf 'GET /metrics HTTP/1.0\r\n\r\n' >&3
	cat <&3 >"$d/metrics"
	exec 3>&-
	python3 "$ELASTIC_REPO/tests/tools/check_exposition.py" --prefix elastic_syncd_ "$d/metrics" ||
		fail "$1's metrics are not valid Prometheus text: $(cat "$d/metrics")"
}
python3 "$ELASTIC_REPO/tests/tools/check_exposition.py" --self-test >/dev/null || fail "check_exposition.py --self-test"
scrape sg1
has() { grep -Eq "$1" "$d/metrics" || fail "metrics lack /$1/: $(cat "$d/metrics")"; }
has '^elastic_syncd_contexts [0-9]'
has '^elastic_syncd_peer_connected\{peer="sg2"\} 1$'
has '^# TYPE elastic_syncd_updates_received_total counter$'
has '^elastic_syncd_updates_received_total\{source="local"\} [1-9]'
has '^# TYPE elastic_syncd_peer_updates_sent_total counter$'
# sg1 replicated to both peers: each link measured round trips
has '^# TYPE elastic_syncd_replication_round_trip_seconds histogram$'
has '^elastic_syncd_replication_round_trip_seconds_count\{peer="sg2"\} [1-9]'
has '^elastic_syncd_replication_round_trip_seconds_count\{peer="sg3"\} [1-9]'
pass "Prometheus text endpoint: valid exposition text; contexts, peers, counters, round-trip histograms"

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
scrape sg1
has '^elastic_syncd_membership_epoch 2$'
has '^elastic_syncd_members_live 3$'
has '^elastic_syncd_peer_live\{peer="sg3"\} 1$'
has '^elastic_syncd_membership_refused_total [4-9]'
pass "metrics show the membership view (valid exposition text)"
