#!/usr/bin/env bash
# libnl-xfrm against the real kernel: creates SAs in a namespace, runs libnl-xfrm-probe
# (kernel/tools/libnl_xfrm_probe.cpp) and checks that every verdict is the one docs/kernel.md
# records ("libnl-xfrm: what we use and why not more"). The DIFF lines are libnl bugs or
# limitations asserted present: a libnl that fixes one changes a verdict, and this test then fails
# naming it, so that the docs and kernel/'s choice get revisited.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

probe=$ELASTIC_BUILD/kernel/libnl-xfrm-probe
[ -x "$probe" ] || fail "no $probe: cmake --build build --target libnl-xfrm-probe"

ns_create probe
# sa SPI REQID OPTIONS...: an ESP tunnel-mode AES-GCM SA 192.0.2.2 -> 192.0.2.1 in namespace probe.
sa() {
	local key
	key=0x$(head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n')
	ip -n probe xfrm state add src 192.0.2.2 dst 192.0.2.1 proto esp spi "$1" reqid "$2" mode tunnel "${@:3}" \
		aead 'rfc4106(gcm(aes))' "$key" 128
}
sa 0x100 1 replay-window 32
sa 0x200 2 flag esn replay-window 128
sa 0x300 3 replay-window 128
sa 0x400 4 replay-window 32 mark 0x7 mask 0xff
sa 0x400 5 replay-window 32 mark 0x8 mask 0xff

out=$(ip netns exec probe "$probe") || { echo "$out"; fail "libnl-xfrm-probe did not run"; }
echo "$out"
xfrm_show probe | grep -E '^(src|	proto|	replay|	anti-replay|	seq|	mark)' || true

# What docs/kernel.md records, one "VERDICT: CHECK" per probe line.
expected="ok: ae-set lifetime
ok: ae-get legacy
ok: sa-get legacy
ok: ae-get esn-128
ok: sa-get esn-128
ok: ae-get window-128-no-esn
ok: sa-get window-128-no-esn
ok: ae-get mark
ok: sa-get mark
ok: ae-get mark-twin
ok: sa-get mark-twin
ok: ae-set legacy
ok: ae-set esn-128
ok: ae-set mark
ok: ae-set mark-twin untouched
ok: ae-set thresholds
DIFF: ae-get thresholds
DIFF: ae-get request
DIFF: ae-parse thresholds
ok: ae-parse aevent esn-128
ok: ae-parse aevent mark
ok: sa-cache esn-128
ok: sa-cache mark twins
DIFF: sa-cache get mark
DIFF: cache aevents"
got=$(printf '%s\n' "$out" | sed -n -E 's/^(ok|DIFF|FAIL): ([^:]*):.*/\1: \2/p')
if [ "$got" != "$expected" ]; then
	echo "CHANGED: libnl-xfrm no longer behaves as docs/kernel.md records (< recorded, > now):"
	diff <(echo "$expected") <(echo "$got") || true
	fail "libnl-xfrm verdicts differ from docs/kernel.md: update its libnl-xfrm section (libnl upgrade?)"
fi
pass "libnl-xfrm-probe: all $(echo "$expected" | wc -l) verdicts as docs/kernel.md records"
