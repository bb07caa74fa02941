#!/usr/bin/env bash
# End to end with real charons, the plugin and elastic-syncd on each gateway (TLS between them):
# a VPN established on sg1 is installed passive on sg2 by replication; after sg1 dies (kill -9),
# sg2 takes over from its replica (activate): the EU keeps its IKE_SA, traffic and DPD continue,
# and the EU never sees a replayed sequence number.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$ELASTIC_REPO/testbed/lib/cluster.sh"
. "$ELASTIC_REPO/tests/syncd/lib.sh"

certs=$CHARON_RUN/certs
mkdir -p "$certs"
syncd_certs "$certs" sg1 sg2
for n in sg1 sg2; do
	mkdir -p "$CHARON_RUN/$n"
	cat >"$CHARON_RUN/$n/elastic.conf" <<-CONF
	elastic {
		node = $n
		cluster {
			replicas = 1
			members {
				sg1 { address = 198.51.100.2:7400 }
				sg2 { address = 198.51.100.6:7400 }
			}
		}
		syncd {
			socket = $CHARON_RUN/$n/syncd.sock
			tls { ca = $certs/ca.pem
				cert = $certs/$n.pem
				key = $certs/$n.key }
		}
	}
	CONF
done
syncd_socket_of() { [ "$1" = eu ] || echo "syncd_socket = $CHARON_RUN/$1/syncd.sock"; }
cluster_start syncd_socket_of
# DPD from the EU only: a gateway killed between sending its own DPD request and processing the
# answer leaves the EU one message ID ahead of every replica, which only RFC 6311 message-ID sync
# by the new owner resolves (not implemented yet, docs/ha.md); the EU's DPD exercises the sync.
for n in sg1 sg2; do swanctl_load $n "$(swanctl_conf_cluster_sg | sed 's/dpd_delay = 2s/dpd_delay = 300s/')"; done
for n in sg1 sg2; do
	ip netns exec $n "$SYNCD" --config "$CHARON_RUN/$n/elastic.conf" >"$CHARON_RUN/$n/syncd.log" 2>&1 &
	echo $! >"$CHARON_RUN/$n/syncd.pid"
done
trap 'charon_cleanup eu sg1 sg2; for n in sg1 sg2; do kill $(cat $CHARON_RUN/$n/syncd.pid) 2>/dev/null || true; done' EXIT

for i in $(seq 100); do grep -q 'connected' "$CHARON_RUN/sg1/syncd.log" && break; sleep 0.1; done
# A VPN that ends on its owner ends on the alternate too (the owner publishes a delete).
swanctl_in eu --initiate --ike sg --child gcm >/dev/null
for i in $(seq 300); do ctl sg2 list | grep -q passive && break; sleep 0.02; done
expect_match "a first VPN is replicated to sg2" "$(ctl sg2 list)" 'passive'
swanctl_in eu --terminate --ike sg >/dev/null
for i in $(seq 300); do [ -z "$(ctl sg2 list)" ] && break; sleep 0.02; done
expect_eq "deleted on sg1, its passive copy on sg2 is gone" "$(ctl sg2 list)" ""
expect_eq "and its kernel SAs" "$(ip -n sg2 xfrm state | grep -c '^src' || true)" 0

swanctl_in eu --initiate --ike sg --child gcm >/dev/null
t0=$(date +%s%N)
for i in $(seq 500); do ctl sg2 list | grep -q passive && break; sleep 0.01; done
t1=$(date +%s%N)
# From sg1's log line for the established CHILD_SA to sg2's for the import (charon logs carry ms).
ms_of() { awk -F'[ :.]' '{ print (($1 * 60 + $2) * 60 + $3) * 1000 + $4; exit }'; }
up=$(grep -E 'CHILD_SA net\{[0-9]+\} established' "$CHARON_RUN/sg1/charon.log" | tail -1 | ms_of)
in=$(grep -E 'imported VPN sg1/[0-9a-f]+/[0-9]+ as passive' "$CHARON_RUN/sg2/charon.log" | tail -1 | ms_of)
echo "replication: CHILD_SA up on sg1 -> passive on sg2 in $((in - up)) ms (charon logs; under QEMU/TCG)"
expect_match "sg2 holds the VPN passive" "$(ctl sg2 list)" 'rw: ike-id [0-9]+, vpn sg1/[0-9a-f]+/[0-9]+, .*passive'
st=$("$ELASTIC_BUILD/plugins/elastic/elasticctl" sync-status --syncd-socket "$CHARON_RUN/sg1/syncd.sock")
echo "$st"
expect_match "elasticctl sync-status shows sg1's peer link" "$st" 'peer sg2 connected pending 0 unacked 0'
expect_eq "sg2's passive IKE_SA has sg1's SPIs" "$(ctl sg2 list | grep -o 'spi_i [0-9a-f]* spi_r [0-9a-f]*')" \
	"$(ctl sg1 list | grep -o 'spi_i [0-9a-f]* spi_r [0-9a-f]*')"
expect_match "sg2's passive SAs are in its kernel" "$(ip -n sg2 xfrm state)" "$(ctl sg1 list | awk '/spi_in/ { print "spi 0x" $3; exit }')"

# An IKE_SA rekey on sg1 reaches sg2: its passive copy is replaced by one with the new SPIs.
swanctl_in eu --rekey --ike sg >/dev/null
for i in $(seq 300); do
	[ "$(ctl sg2 list | grep -o 'spi_i [0-9a-f]* spi_r [0-9a-f]*')" = "$(ctl sg1 list | grep -o 'spi_i [0-9a-f]* spi_r [0-9a-f]*')" ] && break
	sleep 0.02
done
expect_eq "after an IKE rekey sg2's passive copy has sg1's new SPIs" "$(ctl sg2 list | grep -o 'spi_i [0-9a-f]* spi_r [0-9a-f]*')" \
	"$(ctl sg1 list | grep -o 'spi_i [0-9a-f]* spi_r [0-9a-f]*')"
expect_eq "sg2 holds one passive VPN (the old IKE_SA's copy is gone)" "$(ctl sg2 list | grep -c 'ike-id')" 1

out=$(ip netns exec eu ping -n -c 50 -i 0.02 -W 1 -I 10.1.0.1 10.2.0.1)
expect_match "traffic through sg1" "$out" ' 0% packet loss'
sleep 3  # a DPD exchange with sg1: its message IDs reach sg2 through syncd
spis=$(eu_ike_spis) seqerr=$(xfrm_stat eu XfrmInStateSeqError)

echo "--- sg1 fails (kill -9 of charon and syncd); sg2 takes over from its replica"
kill -9 "$(cat "$CHARON_RUN/sg1/charon.pid")" "$(cat "$CHARON_RUN/sg1/syncd.pid")"
topology_steer sg2
ctl sg2 activate --ike rw
out=$(ip netns exec eu ping -n -c 20 -i 0.05 -W 1 -I 10.1.0.1 10.2.0.1)
expect_match "traffic through sg2 after the takeover" "$out" ' 0% packet loss'
expect_eq "EU IKE_SA unchanged" "$(eu_ike_spis)" "$spis"
expect_eq "EU XfrmInStateSeqError unchanged (sg2 jumped past sg1's sequence numbers)" \
	"$(xfrm_stat eu XfrmInStateSeqError)" "$seqerr"
sleep 5
# A request in flight during the outage is retransmitted and must then be answered by sg2 with the
# right message ID: no "giving up", no invalid/unexpected message IDs anywhere.
if grep -E 'giving up|invalid|unexpected|expected' "$CHARON_RUN/eu/charon.log" "$CHARON_RUN/sg2/charon.log"; then
	fail "message IDs out of step after the takeover"
fi
# DPD runs on both sides; whichever is idle first sends (the other's timer then resets).
expect_match "DPD between the EU and sg2 (INFORMATIONAL, right message IDs)" "$(cat "$CHARON_RUN/sg2/charon.log")" \
	'parsed INFORMATIONAL (request|response) [0-9]+ \[ \]'
swanctl_in eu --rekey --child gcm >/dev/null
sleep 1
out=$(ip netns exec eu ping -n -c 5 -i 0.05 -W 1 -I 10.1.0.1 10.2.0.1)
expect_match "CHILD_SA rekey on sg2 after the takeover" "$out" ' 0% packet loss'
