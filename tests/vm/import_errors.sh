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
ctl sg2 import --mode passive "$d/good" >/dev/null
pol=$(ip -n sg2 xfrm policy)
expect_match "passive sg2 blocks the VPN's outbound traffic" "$pol" 'src 10.2.0.0/24 dst 10.1.0.1/32 [^\n]*'$'\n''[^\n]*dir out action block'
if printf '%s' "$pol" | grep -q 'tmpl'; then fail "passive sg2 has IPsec policies: $pol"; fi
pass "passive sg2 has no IPsec policies (nothing is encrypted with the copied SAs)"
refused "a second import of the same VPN" 'already exists here' ctl sg2 import --mode passive "$d/good"
refused "activating an active VPN" 'is not a passive VPN here' ctl sg1 activate --ike rw
refused "releasing an unknown VPN" "no VPN matches 'id:99'" ctl sg1 release --ike-id 99 --out "$d/x"
refused "an unknown command" "unknown command" ctl sg1 frobnicate
refused "a bad selector" "--ike-id 'abc' is not a number" ctl sg1 export --ike-id abc --out "$d/x"

out=$(ip netns exec eu ping -n -c 5 -i 0.05 -W 1 -I 10.1.0.1 10.2.0.1)
expect_match "the live VPN still passes traffic via sg1" "$out" ' 0% packet loss'
expect_match "sg1 still holds it, active" "$(ctl sg1 list)" 'rw: ike-id 1, .*active'
expect_match "sg2 holds only the passive copy" "$(ctl sg2 list)" 'rw: ike-id [0-9]+, .*passive'
for n in sg1 sg2; do kill -0 "$(cat "$CHARON_RUN/$n/charon.pid")" || fail "charon $n died"; done
pass "both charons still run"
