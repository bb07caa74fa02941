#!/usr/bin/env bash
# docs/operations.md followed step by step: every command block marked `<!-- run: WHERE -->` in
# the guide runs as it is written, on the hosts it names (sg1, sg2 and the witness w1 are network
# namespaces of the test bed, each with its own /etc/strongswan.d, /etc/swanctl, /etc/elastic and
# /run), in a writable overlay of the VM's root with Debian's charon-systemd. systemctl and
# journalctl are stand-ins (tests/pkg/fakebin: systemd is not PID 1 here) that run the packaged
# units' commands as their User= with their capability set. Between the guide's sections the test
# checks what the guide promises: daemons as user elastic without capabilities, peers connected,
# a VPN moved by transfer and by drain, a failover drill; the EU keeps its IKE_SA throughout.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
[ -n "$(vm_debs)" ] || fail "no packages in $ELASTIC_BUILD/deb (./tests/run builds them)"
[ "${VM_OVERLAY:-}" = inside ] || vm_overlay_root "$0"
export CHARON_SYSTEM=1
. "$ELASTIC_REPO/testbed/lib/cluster.sh"

OPS=/root/ops
GUIDE=$ELASTIC_REPO/docs/operations.md
HOSTS="sg1 sg2 w1"
mkdir -p "$OPS/admin" "$OPS/blocks"

# The guide's marked blocks, in order: blocks/NN.sh and blocks/NN.where ("SECTION HOST...").
python3 - "$GUIDE" "$OPS/blocks" <<'PY'
import re, sys
lines = open(sys.argv[1]).read().split("\n")
section, n, i = None, 0, 0
while i < len(lines):
    m = re.match(r"^## (\d+)\. ", lines[i])
    section = m.group(1) if m else section
    m = re.match(r"^<!-- run: (.+) -->$", lines[i])
    if m:
        if lines[i + 1] != "```sh":
            sys.exit(f"{sys.argv[1]}:{i + 2}: a run marker must be followed by a ```sh block")
        j = i + 2
        while lines[j] != "```":
            j += 1
        n += 1
        open(f"{sys.argv[2]}/{n:02d}.sh", "w").write("\n".join(lines[i + 2:j]) + "\n")
        open(f"{sys.argv[2]}/{n:02d}.where", "w").write(f"{section} {m.group(1)}\n")
        i = j
    i += 1
PY
expect_ge "command blocks in the guide" "$(ls "$OPS"/blocks/*.sh | wc -l)" 10

host_ns() { if [ "$1" = w1 ]; then echo wit; else echo "$1"; fi; }

# on HOST SCRIPT: run SCRIPT as the guide's reader would on HOST (admin: the root namespace).
on() {
	local host=$1 script=$2
	if [ "$host" = admin ]; then
		(cd "$OPS/admin" && PATH=$ELASTIC_REPO/tests/pkg/fakebin:$PATH bash -euo pipefail "$script")
		return
	fi
	# shellcheck disable=SC2016
	ip netns exec "$(host_ns "$host")" bash -c 'mount --rbind "/run/nodes/$0" /run && cd "$1/$0" &&
		exec env PATH="$2:$PATH" NODE="$0" STEER_HOOK="$3" bash -euo pipefail "$4"' \
		"$host" "$OPS" "$ELASTIC_REPO/tests/pkg/fakebin" "$ELASTIC_REPO/testbed/steer-hook" "$script"
}

# guide SECTION [HOST|hosts]: run that section's blocks (only where they run on HOST, or on any host
# but the administration host); their output goes to $OPS/out-SECTION-HOST.
guide() {
	local f section where h
	for f in "$OPS"/blocks/*.sh; do
		read -r section where <"${f%.sh}.where"
		[ "$section" = "$1" ] || continue
		where=${where//gateways/sg1 sg2}
		for h in ${where//witness/w1}; do
			case "${2:-}" in "" | "$h") ;; hosts) [ "$h" != admin ] || continue ;; *) continue ;; esac
			echo "--- guide section $section on $h: $(head -1 "$f")"
			on "$h" "$f" 2>&1 | tee -a "$OPS/out-$section-$h" || fail "guide section $section failed on $h"
			touch "${f%.sh}.ran"
		done
	done
}

# elasticctl on HOST (its control socket as seen from here)
hctl() { local h=$1; shift; /usr/sbin/elasticctl --socket "/run/nodes/$h/charon.elastic" "$@"; }

echo "=== the test bed's network: EU, front and back routers, sg1, sg2, witness w1"
topology_cluster 2
ns_create wit
ns_link rf eth-wit 198.51.100.253/30 wit eth-rf 198.51.100.254/30
ip -n wit route add default via 198.51.100.253
mkdir -p /etc/elastic
for h in $HOSTS; do
	# Each host its own /run (with the namespaces visible, for the steering hook) and /etc parts.
	mkdir -p "/run/nodes/$h/netns" "$OPS/$h"
	mount --rbind /run/netns "/run/nodes/$h/netns"
	ns=$(host_ns $h)
	mkdir -p "/etc/netns/$ns/elastic"
	cp -a /etc/strongswan.d /etc/swanctl "/etc/netns/$ns/"
	# charon's log in a file too (the test's, not the guide's: there is no journal here)
	cat >"/etc/netns/$ns/strongswan.d/zz-test-filelog.conf" <<-CONF
	charon { filelog { test { path = /run/charon.log
		default = 1
		time_format = %T
		time_add_ms = yes
		flush_line = yes } } }
	CONF
	cp $(vm_debs) "$OPS/$h/"
done
cleanup() {
	local rc=$? h
	set +e # a unit killed by the drill has no process left to kill
	for h in $HOSTS; do
		for u in strongswan elastic-heartbeatd elastic-syncd; do
			[ -f "/run/nodes/$h/fake-systemd/$u.pid" ] && kill -9 "$(cat "/run/nodes/$h/fake-systemd/$u.pid")" 2>/dev/null
			if [ "$rc" -ne 0 ] && [ -f "/run/nodes/$h/fake-systemd/$u.log" ]; then
				echo "--- $h $u" >&2
				tail -n 15 "/run/nodes/$h/fake-systemd/$u.log" >&2
			fi
		done
		[ "$rc" -ne 0 ] && [ -f "/run/nodes/$h/charon.log" ] && { echo "--- $h charon" >&2; tail -n 25 "/run/nodes/$h/charon.log" >&2; }
	done
	(exit "$rc")
	charon_cleanup eu # shows the EU's log if the test failed ($?)
	return "$rc"
}
trap cleanup EXIT

echo "=== 1. Install"
guide 1
for p in strongswan-elastic elastic-syncd elastic-heartbeatd elastic-xfrm; do
	expect_eq "package $p" "$(dpkg-query -W -f='${Status}' $p)" "install ok installed"
done

echo "=== 2. Credentials"
guide 2 admin
# the copy to each host, as the guide says (scp in real life)
for h in sg1 sg2; do cp "$OPS"/admin/{ca.pem,$h.pem,$h.key,heartbeat.key,vpn.psk} "$OPS/$h/"; done
cp "$OPS/admin/heartbeat.key" "$OPS/w1/"
guide 2 hosts
expect_eq "sg1's TLS key: owner and mode" "$(ip netns exec sg1 stat -c '%U %a' /etc/elastic/sg1.key)" "elastic 600"
expect_eq "w1's heartbeat key: owner and mode" "$(ip netns exec wit stat -c '%U %a' /etc/elastic/heartbeat.key)" "elastic 600"

echo "=== 3. Configuration, 4. cluster IP and steering hook"
guide 3
guide 4
for h in sg1 sg2; do expect_match "$h: both daemons' --check" "$(cat "$OPS/out-3-$h")" "ok \\(node $h"; done

echo "=== 5. Start"
guide 5
for h in sg1 sg2; do
	for u in elastic-syncd elastic-heartbeatd; do
		pid=$(cat "/run/nodes/$h/fake-systemd/$u.pid")
		expect_eq "$h $u runs as" "$(ps -o user= -p "$pid")" elastic
		expect_eq "$h $u capabilities (effective, bounding)" \
			"$(awk '/^Cap(Eff|Bnd):/ { printf "%s ", $2 }' "/proc/$pid/status")" "0000000000000000 0000000000000000 "
	done
	expect_match "$h's charon-systemd loaded the packaged plugin" "$(cat "/run/nodes/$h/charon.log")" 'loaded plugins: .* elastic'
done
for i in $(seq 100); do
	grep -q "peer sg2 connected" < <(hctl sg1 sync-status 2>/dev/null) &&
		grep -q "peer sg1 connected" < <(hctl sg2 sync-status 2>/dev/null) && break
	sleep 0.1
done
expect_match "sg1's syncd: sg2 connected" "$(/usr/sbin/elasticctl sync-status --syncd-socket /run/nodes/sg1/elastic/syncd.sock)" 'peer sg2 connected'
guide_status() { /usr/sbin/elastic-heartbeatd --status "/run/nodes/$1/elastic/heartbeatd.sock"; }
for i in $(seq 100); do
	[ "$(guide_status sg1 | grep -c 'state ready')" -ge 3 ] && break
	sleep 0.1
done
expect_match "sg1's heartbeatd: sg2 and w1 ready" "$(guide_status sg1)" 'member sg2 state ready'
expect_match "the plugin's metrics (guide, section 5)" "$(cat "$OPS/out-5-sg1")" 'elastic_plugin_vpns\{role="active"\} 0'
expect_match "heartbeatd's metrics (guide, section 5)" "$(cat "$OPS/out-5-sg1")" 'elastic_heartbeatd_member_up\{member="sg2"\}'

echo "=== an EU connects to the cluster IP (routed to sg1)"
charon_start eu eu
psk=$(cat "$OPS/admin/vpn.psk")
swanctl_load eu "$(swanctl_conf_cluster_eu | sed "s|secret = $TOPOLOGY_PSK|secret = \"$psk\"|")"
swanctl_in eu --initiate --ike sg --child gcm >/dev/null
eu_ping() { expect_match "$1" "$(ip netns exec eu ping -n -c 5 -i 0.05 -W 1 -I 10.1.0.1 10.2.0.1)" ' 0% packet loss'; }
eu_ping "EU traffic through sg1"
spis=$(eu_ike_spis)
vpn_on() { # vpn_on HOST ROLE: wait until HOST holds the VPN in ROLE
	local i
	for i in $(seq 100); do
		hctl "$1" list 2>/dev/null | grep -Eq "^rw: .*$2" && return 0
		sleep 0.1
	done
	fail "$1 does not hold the VPN $2: $(hctl "$1" list 2>&1)"
}
vpn_on sg2 passive
pass "sg2 holds the VPN's replica (passive)"
eu_same() {
	expect_eq "EU IKE_SA unchanged" "$(eu_ike_spis)" "$spis"
	expect_eq "EU replay errors" "$(xfrm_stat eu XfrmInStateSeqError)" 0
}

echo "=== 6. Transfer"
guide 6
vpn_on sg2 active
out=$(hctl sg1 list) || fail "elasticctl list on sg1 failed: $out"
expect_eq "sg1 holds it passive afterwards or not at all" "$(grep -c ' active' <<<"$out" || true)" 0
eu_ping "EU traffic through sg2"
eu_same

echo "=== 7. Drain"
guide 7
expect_match "the drain's summary" "$(cat "$OPS/out-7-sg1")" 'drain sg2: 1 of 1 VPNs moved'
vpn_on sg1 active
eu_ping "EU traffic through sg1 after draining sg2"
eu_same

echo "=== 8. Failover drill"
guide 8 sg1
vpn_on sg2 active
guide 8 sg2
eu_ping "EU traffic through sg2 after sg1 was killed"
eu_same
expect_match "sg2's heartbeatd declared sg1 down" "$(cat "$OPS/out-8-sg2")" 'down sg1'

for f in "$OPS"/blocks/*.sh; do
	[ -f "${f%.sh}.ran" ] || fail "the guide's block $(basename "$f") ($(cat "${f%.sh}.where")) was not run"
done
pass "every one of the guide's $(ls "$OPS"/blocks/*.sh | wc -l) command blocks ran as written"
