#!/usr/bin/env bash
# Stale replicas after moves, three elastic-syncd on loopback: sg1's 300 VPNs are replicated to
# their alternates, then all move to sg2 (published there in epoch 2, as after transfers). Each
# former alternate that is not an alternate under sg2 must drop its copy (FORGET), and sg1 keeps
# none of them as its own; the placement is checked per node against testbed/tools/placement.py.
# Then a membership change: sg3 leaves the live view (its copies are forgotten) and comes back
# (it gets exactly its share again, though the forget it had was newer than those contexts).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
d=$(mktemp -d /tmp/syncd-move.XXXXXX)
base=$((20000 + ($$ + 7000) % 20000))
nodes="sg1 sg2 sg3"
trap 'for n in $nodes; do [ -f "$d/$n.pid" ] && syncd_kill "$d" $n; done; rm -rf "$d"' EXIT
syncd_certs "$d" $nodes
for n in $nodes; do syncd_conf "$d" $n $base 1 $nodes; done
for n in $nodes; do syncd_start "$d" $n; done
for n in $nodes; do
	for i in $(seq 100); do [ "$(syncd_status "$d" $n | grep -c ' connected')" -eq 2 ] && break; sleep 0.05; done
done

# placed OWNER NODE LIVE: the VPNs sg1/1..300 whose first alternate under OWNER is NODE
placed() {
	python3 - "$ELASTIC_REPO/testbed/tools" "$1" "$2" "$3" <<'PY' | LC_ALL=C sort
import sys
sys.path.insert(0, sys.argv[1])
from placement import alternates
owner, node, live = sys.argv[2], sys.argv[3], sys.argv[4].split(",")
for i in range(1, 301):
    if node in live and alternates(f"sg1/{i}", owner, live)[0] == node:
        print(f"sg1/{i}")
PY
}
held() { "$CLIENT" held --socket "$d/$1.sock" | LC_ALL=C sort; }
# expect_held NODE OWNER LIVE WHAT: until NODE holds exactly placement's share as replicas
expect_held() {
	local want i
	want=$(placed "$2" "$1" "$3")
	for i in $(seq 250); do [ "$(held $1)" = "$want" ] && break; sleep 0.02; done
	[ "$(held $1)" = "$want" ] ||
		fail "$4: $1 holds $(held $1 | wc -l) replicas, placement gives it $(printf '%s' "$want" | grep -c . || true): $(diff <(held $1) <(printf '%s\n' "$want") | head -4 | xargs)"
	pass "$4: $1 holds exactly its $(printf '%s' "$want" | grep -c . || true) replicas"
}

"$CLIENT" publish --socket "$d/sg1.sock" --node sg1 --count 300 >/dev/null
for n in sg2 sg3; do expect_held $n sg1 sg1,sg2,sg3 "owned by sg1"; done
before=$(held sg3 | wc -l)

echo "--- all 300 move to sg2 (epoch 2)"
"$CLIENT" publish --socket "$d/sg2.sock" --node sg2 --prefix sg1 --epoch 2 --count 300 >/dev/null
for n in sg1 sg3; do expect_held $n sg2 sg1,sg2,sg3 "moved to sg2"; done
own=$(syncd_status "$d" sg1 | awk '/^contexts/ { print $2 }')
expect_n=$(placed sg2 sg1 sg1,sg2,sg3 | wc -l)
[ "$own" -eq "$expect_n" ] || fail "sg1 holds $own contexts: its old copies of the moved VPNs were not dropped"
pass "sg1 holds only its replicas ($own), none of the moved VPNs as its own"
stale=$(comm -23 <(placed sg1 sg3 sg1,sg2,sg3) <(placed sg2 sg3 sg1,sg2,sg3) | wc -l)
[ "$stale" -gt 0 ] || fail "the test needs VPNs whose alternate changed (none of 300?)"
pass "$stale of sg3's $before former copies were forgotten"

echo "--- sg3 leaves the live view, then comes back"
for n in $nodes; do "$CLIENT" membership --socket "$d/$n.sock" --epoch 1 --live sg1,sg2 >/dev/null; done
expect_held sg3 sg2 sg1,sg2 "sg3 not live"
expect_held sg1 sg2 sg1,sg2 "sg3 not live"
for n in $nodes; do "$CLIENT" membership --socket "$d/$n.sock" --epoch 2 --live sg1,sg2,sg3 >/dev/null; done
expect_held sg3 sg2 sg1,sg2,sg3 "sg3 live again"
expect_held sg1 sg2 sg1,sg2,sg3 "sg3 live again"
