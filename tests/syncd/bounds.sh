#!/usr/bin/env bash
# elastic-syncd's resource bounds on loopback, each against a misbehaving local or TCP client:
#  1. max_connections on the local socket: one client more than allowed is closed at accept,
#     logged and counted, while the others keep being served; a freed slot is usable again;
#  2. local_backlog_bytes: a subscriber that never reads is closed once the bytes queued for it
#     exceed the bound (logged), while a reading subscriber gets every replica and the daemon
#     keeps serving;
#  3. the metrics endpoint: a client that sends nothing, or never ends its request head, is closed
#     after timeouts.handshake_ms (counted in timeouts); a normal scrape still works.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
d=$(mktemp -d /tmp/syncd-bounds.XXXXXX)
base=$((20000 + ($$ + 4242) % 20000))
bg=()
trap 'for p in "${bg[@]}"; do kill "$p" 2>/dev/null || true; done; [ -f "$d/sg1.pid" ] && syncd_kill "$d" sg1; rm -rf "$d"' EXIT

syncd_certs "$d" sg1 sg2
SYNCD_EXTRA="    max_connections = 3
    local_backlog_bytes = 65536
    timeouts { handshake_ms = 500 }"
syncd_conf "$d" sg1 $base 1 sg1 sg2
syncd_start "$d" sg1
metrics_port=$((base + 101))

# Local-socket helpers: frame := length:u32be type:u8 body; Status = 4, Hello = 1.
cat >"$d/local.py" <<'PY'
import os, socket, struct, sys, time

def frame(t, body=b""):
    return struct.pack(">IB", len(body) + 1, t) + body

def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.settimeout(5)
    return s

def recvn(s, n):
    out = b""
    while len(out) < n:
        chunk = s.recv(n - len(out))
        if not chunk:
            raise EOFError("closed by the daemon")
        out += chunk
    return out

def status(s):
    s.sendall(frame(4))
    n, t = struct.unpack(">IB", recvn(s, 5))
    body = recvn(s, n - 1)
    assert t == 4, "not a Status reply: type %d" % t
    return dict(l.split(" ", 1) for l in body.decode().splitlines() if " " in l)

def fail(msg):
    print(msg)
    sys.exit(1)

def limit(path, n):
    held = [connect(path) for _ in range(n)]
    for s in held:
        status(s)  # each is accepted and served
    refused0 = int(status(held[0])["refused_connections"])
    extra = connect(path)  # the kernel accepts it; the daemon closes it at once
    extra.settimeout(3)
    try:
        if extra.recv(1) != b"":
            fail("the connection beyond max_connections got data")
    except socket.timeout:
        fail("the connection beyond max_connections = %d stayed open" % n)
    for i, s in enumerate(held):
        try:
            st = status(s)
        except (EOFError, OSError) as e:
            fail("held connection %d stopped working after the refusal: %s" % (i, e))
    refused = int(st["refused_connections"]) - refused0
    if refused != 1:
        fail("refused_connections grew by %d, expected 1" % refused)
    held[0].close()
    for _ in range(50):  # the slot is freed when the daemon sees the close
        time.sleep(0.05)
        again = connect(path)
        try:
            status(again)
            break
        except (EOFError, OSError):
            again.close()
    else:
        fail("a freed local slot was not usable again")
    print("held %d, the next one closed at accept, refused_connections +1, freed slot reused" % n)

def never_read(path, ready, go):
    s = connect(path)
    s.sendall(frame(1, b"never-reads"))  # subscribe, then read nothing
    open(ready, "w").close()
    while not os.path.exists(go):
        time.sleep(0.05)
    got = 0
    s.settimeout(10)
    try:
        while True:
            chunk = s.recv(1 << 16)
            if not chunk:
                print("closed after %d bytes" % got)
                return
            got += len(chunk)
    except socket.timeout:
        print("still open after %d bytes" % got)
    except ConnectionResetError:
        print("closed (reset) after %d bytes" % got)

if sys.argv[1] == "limit":
    limit(sys.argv[2], int(sys.argv[3]))
else:
    never_read(sys.argv[2], sys.argv[3], sys.argv[4])
PY

# 1. max_connections = 3 local clients: the 4th is closed at once, the three still work
out=$(python3 "$d/local.py" limit "$d/sg1.sock" 3) || fail "$out"
grep -q "local client refused: 3 local connections open (elastic.syncd.max_connections)" "$d/sg1.log" ||
	fail "no log line for the refused local client"
pass "local socket: $out"
sleep 0.3  # the helper's connections are gone: their slots are free again

# 2. local_backlog_bytes = 65536: a subscriber that never reads, next to one that reads
"$CLIENT" listen --socket "$d/sg1.sock" --count 3000 --timeout-ms 30000 >"$d/listen.out" 2>&1 &
bg+=($!)
listener=$!
python3 "$d/local.py" never "$d/sg1.sock" "$d/ready" "$d/go" >"$d/never.out" 2>&1 &
bg+=($!)
never=$!
for i in $(seq 100); do [ -f "$d/ready" ] && grep -q '^listening' "$d/listen.out" && break; sleep 0.05; done
[ -f "$d/ready" ] && grep -q '^listening' "$d/listen.out" || fail "subscribers not ready: $(cat "$d/listen.out")"
# sg2's VPNs (sg1 is their alternate) arrive over a peer link: each goes to both subscribers
out=$("$CLIENT" peer --connect 127.0.0.1:$base --ca "$d/ca.pem" --cert "$d/sg2.pem" --key "$d/sg2.key" \
	--hello sg2 --node sg2 --origin sg2 --count 3000) || true
[ "$out" = "acked 3000" ] || fail "the peer's replicas: $out"
wait "$listener" || fail "the reading subscriber did not get every replica: $(cat "$d/listen.out")"
grep -q '^received 3000 replicas' "$d/listen.out" || fail "reading subscriber: $(cat "$d/listen.out")"
grep -Eq "local client closed: too slow to take replicas \([0-9]+ bytes waiting, elastic.syncd.local_backlog_bytes = 65536\)" \
	"$d/sg1.log" || fail "no log line for the slow subscriber: $(grep 'local client' "$d/sg1.log")"
touch "$d/go"
wait "$never" || true
grep -q '^closed' "$d/never.out" || fail "the subscriber that never reads was not closed: $(cat "$d/never.out")"
waiting=$(grep -Eo 'too slow to take replicas \([0-9]+' "$d/sg1.log" | grep -Eo '[0-9]+$' | head -n 1)
[ "$waiting" -gt 65536 ] && [ "$waiting" -le $((65536 + 65536)) ] ||
	fail "closed with $waiting bytes queued, expected just over 65536"
syncd_status "$d" sg1 | grep -q '^entries 3000$' || fail "sg1 after the slow subscriber: $(syncd_status "$d" sg1)"
pass "a subscriber that never reads is closed at $waiting queued bytes (bound 65536; $(cat "$d/never.out")); the reading one got all 3000 replicas"

# 3. metrics endpoint: silent client and unfinished request head, closed after handshake_ms = 500
timeouts0=$(syncd_status "$d" sg1 | awk '$1 == "timeouts" { print $2 }')
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }
t0=$(date +%s%N)
exec 3<>"/dev/tcp/127.0.0.1/$metrics_port"
got=$(timeout 10 cat <&3) || fail "a silent metrics client was not closed within 10 s"
exec 3<&-
ms=$(ms_since $t0)
[ -z "$got" ] && [ "$ms" -ge 400 ] && [ "$ms" -le 2500 ] ||
	fail "a silent metrics client was closed after $ms ms with '$got' (handshake_ms = 500)"
t0=$(date +%s%N)
exec 3<>"/dev/tcp/127.0.0.1/$metrics_port"
printf 'GET /metrics HTTP/1.0\r\n' >&3 # no blank line: the head never ends
got=$(timeout 10 cat <&3) || fail "a metrics client with an unfinished request was not closed within 10 s"
exec 3<&-
ms2=$(ms_since $t0)
[ -z "$got" ] && [ "$ms2" -ge 400 ] && [ "$ms2" -le 2500 ] ||
	fail "a metrics client with an unfinished request was closed after $ms2 ms with '$got'"
timeouts=$(syncd_status "$d" sg1 | awk '$1 == "timeouts" { print $2 }')
[ "$timeouts" = $((timeouts0 + 2)) ] || fail "timeouts went from $timeouts0 to $timeouts, expected +2"
exec 3<>"/dev/tcp/127.0.0.1/$metrics_port"
printf 'GET /metrics HTTP/1.0\r\n\r\n' >&3
grep -q "^elastic_syncd_timeouts_total $timeouts\$" <&3 || fail "a normal scrape after the timeouts failed"
exec 3<&-
pass "metrics: a silent client closed after $ms ms, an unfinished request after $ms2 ms (handshake_ms = 500), counted; scrapes work"
