#!/usr/bin/env bash
# The Debian packages on Debian's own strongSwan: this repo's .debs (built by ./tests/run against
# Debian's strongswan source package) are installed with dpkg onto the packaged charon-systemd
# 5.9.8 (installed on the host by ./tests/run) in a writable overlay of the VM's root, so the
# host's files stay as they are. Debian's charon-systemd must load the packaged plugin, and a live
# VPN must move between two such gateways and back with the packaged elasticctl: the EU keeps its
# IKE_SA and never sees a replayed sequence number.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ -n "$(vm_debs)" ] || fail "no packages in $ELASTIC_BUILD/deb (./tests/run builds them)"
[ "${VM_OVERLAY:-}" = inside ] || vm_overlay_root "$0"

echo "=== dpkg -i onto Debian's strongSwan $(dpkg-query -W -f='${Version}' charon-systemd)"
# shellcheck disable=SC2046
dpkg -i $(vm_debs) >/tmp/dpkg.out 2>&1 || { cat /tmp/dpkg.out; fail "dpkg -i failed"; }
for p in strongswan-elastic elastic-syncd elastic-heartbeatd elastic-xfrm; do
	expect_eq "package $p" "$(dpkg-query -W -f='${Status}' $p)" "install ok installed"
done
expect_match "system user elastic created by elastic-syncd's postinst" "$(getent passwd elastic)" '^elastic:x:[0-9]+:[0-9]+:'
expect_eq "/etc/elastic: owner, group, mode" "$(stat -c '%U %G %a' /etc/elastic)" "root elastic 750"
expect_eq "conffiles" "$(dpkg-query -W -f='${Conffiles}\n' strongswan-elastic elastic-syncd | awk 'NF { print $1 }' | sort | tr '\n' ' ')" \
	"/etc/strongswan.d/charon/elastic.conf /etc/strongswan.d/elastic.conf "
expect_eq "the plugin in Debian's plugin directory, owned by its package" \
	"$(dpkg -S /usr/lib/ipsec/plugins/libstrongswan-elastic.so)" \
	"strongswan-elastic: /usr/lib/ipsec/plugins/libstrongswan-elastic.so"
expect_match "elasticctl --version" "$(/usr/sbin/elasticctl --version)" "^elasticctl \\(elastic-ipsec\\) [0-9.]+"

echo "=== Debian's charon-systemd with the packaged plugin, two gateways and an EU"
export CHARON_SYSTEM=1 ELASTICCTL=/usr/sbin/elasticctl
. "$ELASTIC_REPO/testbed/lib/cluster.sh"
. "$ELASTIC_REPO/testbed/lib/stream.sh"
cluster_start
for n in sg1 sg2; do
	[ "/proc/$(cat "$CHARON_RUN/$n/launcher.pid")/exe" -ef /usr/sbin/charon-systemd ] ||
		fail "$n does not run /usr/sbin/charon-systemd"
	pass "$n runs Debian's /usr/sbin/charon-systemd"
	expect_match "$n's charon loaded the packaged plugin" "$(charon_log $n)" 'loaded plugins: .* elastic'
done


# transfer FROM TO: move the EU's VPN while a 50/s stream runs; check what the EU saw.
transfer() {
	local from=$1 to=$2 spis inits seqerr stats out
	spis=$(eu_ike_spis) inits=$(eu_inits) seqerr=$(xfrm_stat eu XfrmInStateSeqError)
	stream_start "$CHARON_RUN/stream.out" 3
	sleep 1
	cluster_transfer "$from" "$to"
	stream_wait
	stats=$(stream_stats "$CHARON_RUN/stream.out")
	echo "transfer $from -> $to: $stats"
	expect_eq "EU IKE_SA SPIs unchanged" "$(eu_ike_spis)" "$spis"
	expect_eq "EU started no new IKE_SA" "$(eu_inits)" "$inits"
	expect_eq "EU XfrmInStateSeqError unchanged" "$(xfrm_stat eu XfrmInStateSeqError)" "$seqerr"
	expect_match "$to holds the VPN, active" "$(ctl "$to" list)" '^rw: ike-id [0-9]+, .*active'
	out=$(ctl "$from" list) || fail "elasticctl list on $from failed: $out"
	expect_eq "$from holds no VPN any more" "$out" ""
	expect_match "traffic through $to" "$(ip netns exec eu ping -n -c 5 -i 0.05 -W 1 -I 10.1.0.1 10.2.0.1)" ' 0% packet loss'
}

for child in gcm cbc; do
	echo "=== $child"
	topology_steer sg1
	swanctl_in eu --initiate --ike sg --child $child >/dev/null
	expect_match "tunnel up via sg1" "$(ip netns exec eu ping -n -c 5 -i 0.05 -W 1 -I 10.1.0.1 10.2.0.1)" ' 0% packet loss'
	transfer sg1 sg2
	transfer sg2 sg1
	swanctl_in eu --terminate --ike sg >/dev/null
	expect_eq "clean delete: no SAs left on sg1" "$(ip -n sg1 xfrm state | grep -c '^src' || true)" 0
done

echo "=== the plugin's metrics (elasticctl metrics, for node_exporter's textfile collector)"
m=$(ctl sg2 metrics)
printf '%s\n' "$m" >"$CHARON_RUN/sg2.prom"
python3 "$ELASTIC_REPO/tests/tools/check_exposition.py" --prefix elastic_plugin_ "$CHARON_RUN/sg2.prom" ||
	fail "sg2's metrics are not valid exposition text"
# sg2 was the target of two transfers (activate) and the source of two (release)
expect_match "sg2 answered two activations" "$m" 'elastic_plugin_requests_total\{command="activate",result="ok"\} 2'
expect_match "sg2 answered two releases" "$m" 'elastic_plugin_requests_total\{command="release",result="ok"\} 2'
expect_match "their durations" "$m" 'elastic_plugin_request_duration_seconds_count\{command="activate"\} 2'
expect_match "sg2 holds no VPN now" "$m" 'elastic_plugin_vpns\{role="active"\} 0'
