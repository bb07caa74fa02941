#!/usr/bin/env bash
# elastic-syncd on loopback, against misbehaving peers and clients: a member publishing another
# member's VPN is refused and counted (its own VPNs are accepted); the TLS handshake, the Hello
# and idle links are bounded by timeouts while a healthy idle link stays up (keepalive);
# connections beyond max_connections are closed at once; a regular file at the socket path is
# left intact and refused; SIGHUP does not kill it (it reloads the log level); tombstones are collected after their TTL.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
d=$(mktemp -d /tmp/syncd-hard.XXXXXX)
base=$((20000 + ($$ + 9001) % 20000))
trap 'for n in sg1 sg2 dup; do [ -f "$d/$n.pid" ] && syncd_kill "$d" $n; done; rm -rf "$d"' EXIT

syncd_certs "$d" sg1 sg2 sg3
SYNCD_EXTRA="    max_connections = 4
    tombstone_ttl_s = 1
    timeouts { handshake_ms = 1000
               hello_ms = 2000
               idle_ms = 3000 }"
for n in sg1 sg2; do syncd_conf "$d" $n $base 1 sg1 sg2 sg3; done
syncd_start "$d" sg1
syncd_start "$d" sg2
value() { syncd_status "$d" $1 | awk -v k="$2" '$1 == k { print $2 }'; }
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }
# peer ARGS...: a stand-in peer with sg2's certificate, talking to sg1
peer() { "$CLIENT" peer --connect 127.0.0.1:$base --ca "$d/ca.pem" --cert "$d/sg2.pem" --key "$d/sg2.key" "$@"; }

# 1. origin: sg2 may publish its own VPNs, not sg3's nor sg1's
entries0=$(value sg1 entries)
out=$(peer --hello sg2 --node sg3 --origin sg3 --count 5 --epoch 7) || true
[ "$out" = "acked 5" ] || fail "forged envelopes: $out"
out=$(peer --hello sg2 --node sg1 --origin sg1 --count 3 --epoch 7) || true
[ "$out" = "acked 3" ] || fail "forged envelopes: $out"
[ "$(value sg1 refused_origin)" = 8 ] || fail "refused_origin is $(value sg1 refused_origin), expected 8: $(syncd_status "$d" sg1)"
[ "$(value sg1 entries)" = "$entries0" ] || fail "a forged envelope was applied: $(syncd_status "$d" sg1)"
out=$(peer --hello sg2 --node sg2 --origin sg2 --count 5) || true
[ "$out" = "acked 5" ] || fail "own envelopes: $out"
[ "$(value sg1 entries)" = $((entries0 + 5)) ] || fail "sg2's own VPNs were not applied: $(syncd_status "$d" sg1)"
[ "$(value sg1 refused_origin)" = 8 ] || fail "an own VPN was refused"
grep -q "refused envelope from peer sg2 for VPN 'sg3/1': its origin is 'sg3'" "$d/sg1.log" ||
	fail "no log line naming the peer and the VPN"
peer --hello sg2 --node sg3 --origin sg3 --count 5 --epoch 8 >/dev/null
[ "$(value sg1 refused_origin)" = 13 ] || fail "a repeated forgery was not counted"
[ "$(grep -c "for VPN 'sg3/1'" "$d/sg1.log")" = 1 ] || fail "a refusal was logged more than once per peer and VPN"
exec 3<>"/dev/tcp/127.0.0.1/$((base + 101))"
printf 'GET /metrics HTTP/1.0\r\n\r\n' >&3
grep -q '^elastic_syncd_refused_origin_total 13$' <&3 || fail "metrics do not show elastic_syncd_refused_origin_total 13"
exec 3>&-
pass "a peer's envelopes for another member's VPNs are refused, counted and logged once; its own are applied"
# the local producer publishes this node's VPNs only
"$CLIENT" publish --socket "$d/sg1.sock" --node sg2 --count 1 >/dev/null 2>&1 && fail "sg1 took sg2's VPN from its local producer"
[ "$(value sg1 refused_origin)" = 14 ] || fail "a local envelope of another origin was not counted"
pass "the local producer may only publish VPNs of this node"

# 2. timeouts: a TCP client that sends nothing, a peer that sends no Hello, a peer that goes silent
t0=$(date +%s%N)
exec 3<>"/dev/tcp/127.0.0.1/$base"
timeout 10 cat <&3 >/dev/null || true
exec 3<&-
ms=$(ms_since $t0)
[ "$ms" -ge 800 ] && [ "$ms" -le 3000 ] || fail "a silent TCP client was closed after $ms ms (handshake_ms = 1000)"
grep -q "closed: TLS handshake timed out after 1000 ms" "$d/sg1.log" || fail "no log line for the handshake timeout"
pass "a TCP client that sends nothing is closed after $ms ms (handshake timeout 1 s)"
out=$(peer --wait-close-ms 5000) || true
ms=${out//[!0-9]/}
[[ "$out" = "closed by the daemon after "* ]] && [ "$ms" -ge 1600 ] && [ "$ms" -le 6000 ] ||
	fail "a peer without Hello: $out (hello_ms = 2000)"
grep -q "(sg2) closed: no Hello within 2000 ms" "$d/sg1.log" || fail "no log line for the Hello timeout"
pass "a peer that sends no Hello is closed after $ms ms (hello timeout 2 s)"
out=$(peer --hello sg2 --wait-close-ms 12000) || true
ms=${out//[!0-9]/}
[[ "$out" = "closed by the daemon after "* ]] && [ "$ms" -ge 2500 ] && [ "$ms" -le 9000 ] ||
	fail "a silent peer after its Hello: $out (idle_ms = 3000)"
grep -q "(sg2) closed: idle for 3000 ms" "$d/sg1.log" || fail "no log line for the idle timeout"
pass "a peer silent after its Hello is closed after $ms ms (idle timeout 3 s)"
# The links sg1 <-> sg2 carried nothing for far longer than idle_ms (6 s and more by now): the keepalive kept them up
# (each connected once: one resync each).
syncd_status "$d" sg1 | grep -q '^peer sg2 connected .* resyncs 1$' || fail "sg1's idle link to sg2 was dropped: $(syncd_status "$d" sg1)"
syncd_status "$d" sg2 | grep -q '^peer sg1 connected .* resyncs 1$' || fail "sg2's idle link to sg1 was dropped: $(syncd_status "$d" sg2)"
pass "healthy idle links stay up (keepalive)"
[ "$(value sg1 timeouts)" -ge 3 ] || fail "timeouts not counted"

# 3. max_connections = 4: sg2's link holds one, three idle clients fill the rest, more are
# closed at once and counted; the daemon serves again once the idle ones time out.
refused0=$(value sg1 refused_connections)
for fd in 3 4 5 6 7 8; do eval "exec $fd<>/dev/tcp/127.0.0.1/$base"; done
sleep 0.3
refused=$(($(value sg1 refused_connections) - refused0))
[ "$refused" -ge 2 ] && [ "$refused" -le 3 ] || fail "$refused of 6 connections beyond max_connections refused, expected 3"
grep -q "refused: 4 connections open (elastic.syncd.max_connections)" "$d/sg1.log" || fail "no log line for a refused connection"
for fd in 3 4 5 6 7 8; do eval "exec $fd<&-"; done
sleep 1.5
out=$(peer --hello sg2 --node sg2 --origin sg2 --count 6) || true
[ "$out" = "acked 6" ] || fail "sg1 does not serve peers after the flood: $out"
pass "connections beyond max_connections are closed at once and counted ($refused); the daemon still serves"

# 4. a regular file at the socket path is refused and left intact; a stale socket is replaced
echo "precious" >"$d/file.sock"
# (its own listen and metrics ports: only the socket path can stop it)
sed "s#127.0.0.1:$((base + 102))#127.0.0.1:$((base + 112))#; s#^    socket = $d/sg2.sock#    listen = 127.0.0.1:$((base + 80))\n    socket = $d/file.sock#" \
	"$d/sg2.conf" >"$d/file.conf"
timeout 10 "$SYNCD" --config "$d/file.conf" >"$d/file.out" 2>&1 && fail "syncd started over a regular file"
grep -q "$d/file.sock exists and is not a socket" "$d/file.out" || fail "unclear error: $(cat "$d/file.out")"
[ "$(cat "$d/file.sock")" = precious ] || fail "the file at the socket path was changed"
"$SYNCD" --check --config "$d/file.conf" >"$d/file.out" 2>&1 && fail "--check passed a regular file at the socket path"
grep -q "elastic.syncd.socket: $d/file.sock exists and is not a socket" "$d/file.out" || fail "--check: $(cat "$d/file.out")"
pass "a regular file at the socket path: refused with its name, left intact (start and --check)"
sed "s#127.0.0.1:$((base + 101))#127.0.0.1:$((base + 111))#; s#^\(    socket = .*\)#    listen = 127.0.0.1:$((base + 70))\n\1#" \
	"$d/sg1.conf" >"$d/dup.conf"
timeout 10 "$SYNCD" --config "$d/dup.conf" >"$d/dup.out" 2>&1 && fail "a second syncd took sg1's socket"
grep -q "$d/sg1.sock is in use by another process" "$d/dup.out" || fail "unclear error: $(cat "$d/dup.out")"
syncd_status "$d" sg1 >/dev/null || fail "sg1 lost its socket"
syncd_kill "$d" sg2
[ -S "$d/sg2.sock" ] || fail "no stale socket left by kill -9"
"$SYNCD" --config "$d/sg2.conf" >>"$d/sg2.log" 2>&1 &
echo $! >"$d/sg2.pid"
for i in $(seq 100); do syncd_status "$d" sg2 >/dev/null 2>&1 && break; sleep 0.05; done
syncd_status "$d" sg2 >/dev/null || fail "sg2 did not replace its stale socket"
pass "a socket in use is refused; a stale one is replaced"

# 5. SIGHUP: the configuration read again (log level), the daemon still serves
kill -HUP "$(cat "$d/sg1.pid")"
sleep 0.3
kill -0 "$(cat "$d/sg1.pid")" || fail "SIGHUP killed syncd"
syncd_status "$d" sg1 >/dev/null || fail "syncd does not serve after SIGHUP"
grep -q "SIGHUP: log level info; other settings take effect at the next restart" "$d/sg1.log" || fail "no SIGHUP log line"
pass "SIGHUP reloads the log level; the daemon still serves"

# 6. tombstones (tombstone_ttl_s = 1) are forgotten: 4 VPNs published then deleted on sg1
"$CLIENT" publish --socket "$d/sg1.sock" --node sg1 --count 4 --delete 4 >/dev/null
collected0=$(syncd_status "$d" sg1 | awk '$1 == "tombstones" { print $4 }')
for i in $(seq 100); do
	[ "$(syncd_status "$d" sg1 | awk '$1 == "tombstones" { print $2 }')" = 0 ] && break
	sleep 0.05
done
syncd_status "$d" sg1 | grep -qx "tombstones 0 collected $((collected0 + 4))" ||
	fail "tombstones not collected: $(syncd_status "$d" sg1)"
pass "tombstones are collected after tombstone_ttl_s"
