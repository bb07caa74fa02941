#!/usr/bin/env bash
# Bad input to the plugin's import/activate/release is refused with a clear error, and nothing that
# already runs is disturbed: the live VPN keeps passing traffic and both charons stay up.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$ELASTIC_REPO/testbed/lib/cluster.sh"

cluster_start
swanctl_in eu --initiate --ike sg --child gcm >/dev/null
d=$CHARON_RUN/ctx
mkdir -p "$d"
ctl sg1 export --ike rw --out "$d/good"
expect_eq "exported context file mode" "$(stat -c %a "$d/good")" 600

refused() { # refused WHAT REGEX CMD...: the command fails and says REGEX
	local what=$1 re=$2 out; shift 2
	if out=$("$@" 2>&1); then fail "$what was accepted: $out"; fi
	expect_match "$what refused" "$out" "$re"
}
head -c 100 "$d/good" >"$d/truncated"
head -c 3000 /dev/urandom >"$d/garbage"
printf '\010\007' >"$d/version7"  # field 1 (schema) = 7
perl -0pe 's/\x6a\x02rw/\x6a\x02zz/' "$d/good" >"$d/unknown-conn"
refused "a truncated context" 'truncated or not an elastic envelope' ctl sg2 import --mode passive "$d/truncated"
refused "garbage" 'truncated or not an elastic envelope|invalid context' ctl sg2 import --mode passive "$d/garbage"
refused "a wrong schema version" 'unsupported schema version 7' ctl sg2 import --mode passive "$d/version7"
refused "an unknown connection" "unknown connection 'zz' here" ctl sg2 import --mode passive "$d/unknown-conn"
refused "a VPN already active here" 'this IKE_SA already exists here as rw\[1\]' ctl sg1 import --mode passive "$d/good"
first=$(ctl sg2 import --mode passive "$d/good")
pol=$(ip -n sg2 xfrm policy)
expect_match "passive sg2 blocks the VPN's outbound traffic" "$pol" 'src 10.2.0.0/24 dst 10.1.0.1/32 [^\n]*'$'\n''[^\n]*dir out action block'
# "DIR ipsec|other" per policy: which directions have IPsec templates
dirs=$(printf '%s\n' "$pol" | awk '/^src/ { if (d != "") print d, t; d = ""; t = "other" }
	/dir (in|out|fwd)/ { for (i = 1; i <= NF; i++) if ($i == "dir") d = $(i + 1) } /tmpl/ { t = "ipsec" }
	END { if (d != "") print d, t }')
if printf '%s\n' "$dirs" | grep -q '^out ipsec'; then fail "passive sg2 has an outbound IPsec policy: $pol"; fi
pass "passive sg2 has no outbound IPsec policy (nothing is encrypted with the copied SAs)"
expect_match "passive sg2 accepts the EU's traffic before activation (in and fwd IPsec policies)" \
	"$(printf '%s\n' "$dirs" | sort -u | xargs)" 'fwd ipsec in ipsec'
inprio() { sed -n 's/.*dir in priority \([0-9]*\).*/\1/p' | head -1; }
passive_in=$(printf '%s\n' "$pol" | inprio) active_in=$(ip -n sg1 xfrm policy | inprio)
[ -n "$passive_in" ] && [ -n "$active_in" ] && [ "$passive_in" -gt "$active_in" ] ||
	fail "passive inbound policy priority $passive_in should rank below the active VPN's $active_in"
pass "at a lower priority than an active VPN's own (kernel priority $passive_in > $active_in)"
# A passive copy is reused by a second passive import (a transfer to a gateway that already holds
# syncd's replica); an active import of it is still refused (two live copies).
expect_eq "a second passive import reuses the passive copy" "$(ctl sg2 import --mode passive "$d/good")" "$first"
expect_match "and says so" "$(cat "$CHARON_RUN/sg2/charon.log")" "is already held here passive as IKE_SA [0-9]+: reused"
refused "an active import of a VPN held passive" 'already exists here' ctl sg2 import --mode active "$d/good"
refused "activating an active VPN" 'is not a passive VPN here' ctl sg1 activate --ike rw
refused "releasing an unknown VPN" "no VPN matches 'id:99'" ctl sg1 release --ike-id 99 --out "$d/x"
refused "an unknown command" "unknown command" ctl sg1 frobnicate
refused "a bad selector" "--ike-id 'abc' is not a number" ctl sg1 export --ike-id abc --out "$d/x"

echo "--- the control socket: strict requests, owners only, peers checked"
# raw NODE LINE: one request straight on the socket, bypassing elasticctl's own checks.
raw() {
	python3 - "$CHARON_RUN/$1/charon.elastic" "$2" <<'PY'
import socket, struct, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); req = sys.argv[2].encode() + b"\n"
s.sendall(struct.pack("!I", len(req)) + req)
n = struct.unpack("!I", s.recv(4))[0]; out = b""
while len(out) < n: out += s.recv(n - len(out))
print(out.decode(errors="replace"))
PY
}
passive=$(ctl sg2 list | sed -n 's/.*rw: ike-id \([0-9]*\),.*passive.*/\1/p' | head -1)
expect_match "a raw 'activate' with a margin that is not a number" "$(raw sg2 "activate id:$passive abc")" "ERR margin 'abc' is not a number"
expect_match "a raw 'activate' with margin 0" "$(raw sg2 "activate id:$passive 0")" "ERR margin '0' is out of range"
expect_match "a raw ike-id beyond 32 bits (not ike-id 1)" "$(raw sg1 "export id:4294967297")" "ERR ike-id '4294967297' is out of range"
expect_match "a raw request with a trailing argument" "$(raw sg1 "list extra")" "ERR list: unexpected argument 'extra'"
expect_match "a raw takeover with a bad epoch" "$(raw sg1 "takeover sgX -1 1 sg1=1")" "ERR epoch '-1' is not a number"
refused "exporting a passive copy for a move" "is not owned here" ctl sg2 export --ike-id "$passive" --out "$d/x"
refused "releasing a passive copy" "is not owned here" ctl sg2 release --ike-id "$passive" --out "$d/x"
refused "transferring a passive copy" "export: .*is not owned here" \
	ctl sg2 transfer --ike-id "$passive" --to "$CHARON_RUN/sg1/charon.elastic"
expect_eq "the control socket's mode" "$(stat -c %a "$CHARON_RUN/sg1/charon.elastic")" 600
# Opened up by mistake (0666): the plugin still checks who is calling (SO_PEERCRED).
chmod 0666 "$CHARON_RUN/sg1/charon.elastic"
bin=$(mktemp -d /tmp/ctl.XXXXXX)
cp "$ELASTIC_BUILD/plugins/elastic/elasticctl" "$bin/" && chmod 755 "$bin" "$bin/elasticctl"
refused "a non-root client (uid 65534)" "permission denied for uid 65534" \
	setpriv --reuid=65534 --regid=65534 --clear-groups "$bin/elasticctl" --socket "$CHARON_RUN/sg1/charon.elastic" list
expect_match "and the refusal is logged" "$(cat "$CHARON_RUN/sg1/charon.log")" 'control socket client uid 65534 gid 65534 \(pid [0-9]+\) refused'
chmod 0600 "$CHARON_RUN/sg1/charon.elastic"
# A client that sends half a request and stalls does not block the others (several served).
python3 -c 'import socket,sys,time; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"\0\0"); time.sleep(8)' \
	"$CHARON_RUN/sg1/charon.elastic" &
staller=$!
sleep 0.3
expect_match "list while a client stalls mid-request" "$(ctl sg1 list)" 'rw: ike-id 1'
wait $staller

echo "--- bad plugin settings stop the plugin, naming file, line and key; a file at the socket path is kept"
ip netns add bad
mkdir -p "$CHARON_RUN/bad"
printf '# included by strongswan.conf\n\nthreshold = 1k\n' >"$CHARON_RUN/bad/counters.conf"
charon_start bad bad "plugins { elastic {
	node = bad
	margin = -1
	bogus = 1
	counters {
		include counters.conf
	}
} }"
log=$(cat "$CHARON_RUN/bad/charon.log")
conf=$CHARON_RUN/bad/strongswan.conf
line_of() { grep -n -- "$1" "$conf" | cut -d: -f1; }
expect_match "margin = -1" "$log" "$conf:$(line_of 'margin = -1'): charon.plugins.elastic.margin '-1' is not a number"
expect_match "threshold = 1k (in an included file)" "$log" \
	"$CHARON_RUN/bad/counters.conf:3: charon.plugins.elastic.counters.threshold '1k' is not a number"
expect_match "an unknown key" "$log" "$conf:$(line_of 'bogus = 1'): unknown setting charon.plugins.elastic.bogus"
expect_match "the plugin does not start" "$log" "elastic: plugin not started"
[ ! -e "$CHARON_RUN/bad/charon.elastic" ] || fail "a control socket exists despite the bad settings"
pass "no control socket with bad settings"
charon_stop bad
sleep 0.5
ip netns add bad2
mkdir -p "$CHARON_RUN/bad2"
echo "operator notes, not a socket" >"$CHARON_RUN/bad2/charon.elastic"
charon_start bad2 bad2 "plugins { elastic {
	node = bad2
} }"
expect_match "a regular file at the control socket path is refused" "$(cat "$CHARON_RUN/bad2/charon.log")" \
	"charon.elastic exists and is not a socket, refusing to replace it"
expect_eq "and left intact" "$(cat "$CHARON_RUN/bad2/charon.elastic")" "operator notes, not a socket"
charon_stop bad2

out=$(ip netns exec eu ping -n -c 5 -i 0.05 -W 1 -I 10.1.0.1 10.2.0.1)
expect_match "the live VPN still passes traffic via sg1" "$out" ' 0% packet loss'
expect_match "sg1 still holds it, active" "$(ctl sg1 list)" 'rw: ike-id 1, .*active'
expect_match "sg2 holds only the passive copy" "$(ctl sg2 list)" 'rw: ike-id [0-9]+, .*passive'
for n in sg1 sg2; do kill -0 "$(cat "$CHARON_RUN/$n/charon.pid")" || fail "charon $n died"; done
pass "both charons still run"

echo "--- a target that fails after the source let go: the source takes the VPN back"
# fake_target MODE: a stand-in target that accepts the passive import, then fails the activation
# and the import of the final context; it answers list with nothing held (MODE ok) or not at all
# (MODE mute: its state is unknown).
fake_target() {
	rm -f "$CHARON_RUN/fake-target.sock"
	python3 - "$CHARON_RUN/fake-target.sock" "$1" <<'PY' &
import socket, struct, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(4)
while True:
    c, _ = s.accept()
    n = struct.unpack("!I", c.recv(4, socket.MSG_WAITALL))[0]
    req = b""
    while len(req) < n: req += c.recv(n - len(req))
    if req.startswith(b"import passive"): ans = b"OK\nike-id 77\n"
    elif req.startswith(b"list") and sys.argv[2] == "ok": ans = b"OK\n"
    elif req.startswith(b"list"): c.close(); continue
    else: ans = b"ERR injected activation failure\n"
    c.sendall(struct.pack("!I", len(ans)) + ans); c.close()
PY
	fake=$!
	for i in $(seq 100); do [ -S "$CHARON_RUN/fake-target.sock" ] && break; sleep 0.05; done
}
fake_target ok
spis=$(eu_ike_spis)
seqerr=$(xfrm_stat eu XfrmInStateSeqError)
refused "a transfer whose target fails to activate" \
	"activate on the target: injected activation failure; importing the final context there failed too: injected activation failure; the VPN was taken back here \(ike-id [0-9]+\)" \
	ctl sg1 transfer --ike rw --to "$CHARON_RUN/fake-target.sock" --steer true
kill $fake
expect_match "sg1 holds the VPN active again" "$(ctl sg1 list)" 'rw: ike-id [0-9]+, .*active'
out=$(ip netns exec eu ping -n -c 10 -i 0.05 -W 1 -I 10.1.0.1 10.2.0.1)
expect_match "the VPN passes traffic via sg1 after the take-back" "$out" ' 0% packet loss'
expect_eq "the EU kept its IKE_SA" "$(eu_ike_spis)" "$spis"
expect_eq "the EU saw no replayed sequence number" "$(xfrm_stat eu XfrmInStateSeqError)" "$seqerr"

echo "--- a target whose state is unknown after the source let go: nobody sends, the final context is saved"
fake_target mute
set +e
out=$(ctl sg1 transfer --ike rw --to "$CHARON_RUN/fake-target.sock" --steer true 2>&1)
rc=$?
set -e
kill $fake
echo "$out"
expect_eq "exit status 3: active nowhere, final context saved" $rc 3
expect_match "it says why, not taken back" "$out" 'its state is unknown: not taken back .* its final context is in /run/elasticctl-final\.[A-Za-z0-9]+'
final=$(printf '%s' "$out" | grep -Eo '/run/elasticctl-final\.[A-Za-z0-9]+')
expect_eq "the saved final context is 0600" "$(stat -c %a "$final")" 600
[ -z "$(ctl sg1 list | grep ' active,')" ] || fail "sg1 still holds the VPN active"
pass "sg1 holds it no longer (released)"
ctl sg1 import --mode active "$final" >/dev/null
rm -f "$final"
out=$(ip netns exec eu ping -n -c 10 -i 0.05 -W 1 -I 10.1.0.1 10.2.0.1)
expect_match "the operator's import of the saved context restores the VPN on sg1" "$out" ' 0% packet loss'
expect_eq "the EU kept its IKE_SA" "$(eu_ike_spis)" "$spis"
expect_eq "the EU saw no replayed sequence number" "$(xfrm_stat eu XfrmInStateSeqError)" "$seqerr"
