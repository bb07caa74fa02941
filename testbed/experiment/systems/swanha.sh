# Baseline for the evaluation (issue 12): strongSwan's own `ha` plugin in its two-node
# active/passive setup, with the cluster IP moved by keepalived (VRRP), in the VM test bed.
# Sourced (bash) inside the VM by the experiment engine:
#   swanha_start CHILD      topology, charons with the ha plugin, keepalived, the EU's VPN (child
#                           CHILD of the EU's connection sg); returns when the VPN passes traffic
#                           and the standby holds the IKE_SA and CHILD_SA
#   swanha_owner            prints the active gateway (sg1 or sg2)
#   swanha_fail kill|link   kill -9 of every process of the active gateway; with link its links
#                           go down at the same moment (the machine died)
#   swanha_restore          the failed gateway comes back (fresh charon, kernel state as after a
#                           reboot, keepalived) and is the synchronised standby again
#   swanha_stop             stops everything
#
# Topology (namespaces; the engine's streams run between eu 10.1.0.1 and rb 10.2.0.1):
#
#   eu 192.0.2.2 --- rf [br-front 203.0.113.254/24] --+-- sg1 eth-rf 203.0.113.11 --+ [br-back 198.51.100.254/24] rb
#   (inner 10.1.0.1)                                  +-- sg2 eth-rf 203.0.113.12 --+  (10.2.0.1/24 on lo)
#                                                    sg1 eth-ha 198.18.0.1/30 = sg2 eth-ha 198.18.0.2/30 (sync)
#
# Front: the gateways share one L2 segment (a bridge in rf's namespace) on which VRRP moves the
# cluster IP 203.0.113.1 (the address the EU's IKE_SA and ESP use). Back: a second L2 segment
# (bridge in rb's namespace) on which the same keepalived moves a back-side gateway address
# 198.51.100.1, rb's next hop for 10.1.0.0/16: the return path follows the active gateway the way
# an operator would build it (two VRRP instances in one sync group, so that both addresses move
# together; no routing daemon or notify script touches the routers). The sync link is a dedicated
# back-to-back link.
#
# charon (the test bed's build, SWAN_PREFIX) loads `ha`, not `elastic`:
#   ha { local/remote = the sync link's addresses, segment_count = 1 (active/passive: segments
#        only matter for ClusterIP load sharing), fifo_interface = yes (keepalived drives the
#        segment through it), monitor = no (keepalived is the one failure detector; the plugin's
#        own 1 s/2.1 s heartbeat would be a second, slower one that can disagree with VRRP),
#        resync = yes (a rejoining node asks for the state) }
# No `secret`: the sync messages go unauthenticated over the dedicated link (the PSK transport
# tunnel the plugin can set up is optional; it changes nothing on the failover's path, where the
# state is already synchronised).
# No ClusterIP: the cluster IP is moved by VRRP; CLUSTERIP (the iptables target the plugin's load
# sharing and per-segment filtering relied on) was deprecated and removed from Linux in 6.3 (the
# VM's 6.1 kernel still ships it as a module; it is not used). Without it the plugin's kernel part
# does nothing (no /proc/net/ipt_CLUSTERIP) and the cluster IP lives on one node at a time, which
# is the plugin's active/passive mode.
#
# keepalived (Debian's 2.2.7, installed on the host): VRRPv3 (fractional advert_int needs v3),
# advert_int SWAN_HA_ADVERT (default 0.1 s, as docs/ha.md's keepalived example; master down after
# 3 adverts + skew, ~0.36 s; keepalived accepts down to 0.01, but under QEMU/TCG 0.03 and 0.01
# flapped: a just restored standby missed adverts and claimed the addresses for a moment), both
# nodes state BACKUP with equal priority and nopreempt (the first one up is the master, a node
# that comes back stays standby), one sync group {front, back}. Its state changes go in order
# through keepalived's notify FIFO to one script: MASTER -> "+1" into charon's ha FIFO (the
# node's passive IKE_SAs become established), BACKUP/FAULT -> "-1". That is IKE only: the data
# path follows the VRRP addresses (gratuitous ARP) at once. The VRRP process runs at real-time
# priority 50 (as the test bed's heartbeatd: chrt -r 50).
#
# What a failover does to ESP sequence numbers (tests/vm/swanha_baseline.sh measures it): the
# plugin installs the standby's copy of each CHILD_SA with the outbound sequence number 0 and does
# not sync or advance it (its author on the strongSwan dev list, 2011: an extended ClusterIP kept
# them in sync), so after a takeover the new owner sends sequence numbers the old one already
# used (RFC 4303 forbids that), and the EU's replay check drops every such packet until the new
# owner's counter passes the highest number the old one sent: the outage is the VRRP takeover plus
# (packets the old owner sent on the SA) / (packet rate towards the EU), on a long-lived busy SA
# until its next rekey. (Linux's ESP IV for AES-GCM is the sequence number XOR a random salt per
# SA instance (crypto/seqiv.c), so the two nodes' nonces do not repeat each other in practice.)

. "$(dirname "${BASH_SOURCE[0]}")/../../lib/common.sh"
. "$ELASTIC_REPO/testbed/lib/netns.sh"
. "$ELASTIC_REPO/testbed/lib/charon.sh"
. "$ELASTIC_REPO/testbed/lib/topology.sh"

SWAN_HA_ADVERT=${SWAN_HA_ADVERT:-0.1}
SWANHA_KEEPALIVED=${SWANHA_KEEPALIVED:-keepalived}
SWANHA_DIR=$CHARON_RUN/swanha
SWANHA_VIP=203.0.113.1 SWANHA_BACK_VIP=198.51.100.1

# swanha_addrs sgK: "FRONT BACK SYNC PEER_SYNC" of gateway K.
swanha_addrs() {
	case $1 in
	sg1) echo 203.0.113.11 198.51.100.11 198.18.0.1 198.18.0.2 ;;
	sg2) echo 203.0.113.12 198.51.100.12 198.18.0.2 198.18.0.1 ;;
	esac
}

swanha_topology() {
	local sg
	# the bridge module is not in the VM's preload list (and not loaded on demand there)
	grep -q '^bridge ' /proc/modules || "$(cat /proc/sys/kernel/modprobe)" bridge
	ns_create eu rf sg1 sg2 rb
	ns_link eu eth0 192.0.2.2/24 rf eth-eu 192.0.2.254/24
	ip -n eu addr add 10.1.0.1/32 dev lo
	ip -n eu addr add 10.1.1.1/32 dev lo
	ip -n eu route add default via 192.0.2.254 src 192.0.2.2
	ip -n rf link add br-front type bridge forward_delay 0 stp_state 0 mcast_snooping 0
	ip -n rf addr add 203.0.113.254/24 dev br-front
	ip -n rf link set br-front up
	ip -n rb link add br-back type bridge forward_delay 0 stp_state 0 mcast_snooping 0
	ip -n rb addr add 198.51.100.254/24 dev br-back
	ip -n rb link set br-back up
	ip -n rb addr add 10.2.0.1/24 dev lo
	for sg in sg1 sg2; do
		set -- $(swanha_addrs $sg)
		ip link add eth-rf netns $sg type veth peer name eth-$sg netns rf
		ip -n rf link set eth-$sg master br-front up
		ip -n $sg addr add $1/24 dev eth-rf
		ip -n $sg link set eth-rf up
		ip link add eth-rb netns $sg type veth peer name eth-$sg netns rb
		ip -n rb link set eth-$sg master br-back up
		ip -n $sg addr add $2/24 dev eth-rb
		ip -n $sg link set eth-rb up
		swanha_routes $sg
		ip netns exec $sg sysctl -qw net.ipv4.ip_forward=1
	done
	ns_link sg1 eth-ha 198.18.0.1/30 sg2 eth-ha 198.18.0.2/30
	ip -n rb route add 10.1.0.0/16 via $SWANHA_BACK_VIP
	ip -n rb route add 192.0.2.0/24 via $SWANHA_BACK_VIP
	ip netns exec rf sysctl -qw net.ipv4.ip_forward=1
}

swanha_routes() {
	ip -n $1 route replace default via 203.0.113.254
	ip -n $1 route replace 10.2.0.0/24 via 198.51.100.254
}

# swanha_charon_conf NAME HA: charon_conf's strongswan.conf for instance NAME with the elastic
# plugin off and the ha plugin on (HA = 1, gateway NAME's sync addresses) or off (the EU); the
# later settings override charon_conf's plugin defaults.
swanha_charon_conf() {
	local ha=
	if [ "$2" = 1 ]; then
		set -- $1 $(swanha_addrs $1)
		ha="ha {
				load = yes
				local = $4
				remote = $5
				segment_count = 1
				fifo_interface = yes
				monitor = no
				resync = yes
			}"
	fi
	charon_conf "$1" "install_routes = no
		plugins {
			elastic { load = no }
			$ha
		}"
}

# swanha_charon_start NAME HA: charon_start's procedure with swanha_charon_conf.
swanha_charon_start() {
	local dir=$CHARON_RUN/$1
	mkdir -p "$dir" "$SWAN_PREFIX/var/run" 2>/dev/null || true
	rm -f "$dir/charon.pid" "$dir/charon.ha"
	swanha_charon_conf "$1" "$2" >"$dir/strongswan.conf"
	charon_launch "$1" "$1" 150
}

# keepalived reports the sync group's state changes, in order, through its notify FIFO to one
# long-running script (vrrp_notify_fifo_script: no process start per event, and a MASTER quickly
# followed by BACKUP cannot reach charon in the wrong order, as separate notify scripts could):
# MASTER -> "+1" into charon's ha FIFO (activate segment 1: the passive IKE_SAs become
# established), BACKUP/FAULT -> "-1". It also records the state for swanha_owner.
swanha_write_notify() {
	mkdir -p "$SWANHA_DIR"
	cat >"$SWANHA_DIR/notify" <<-EOF
	#!/bin/bash
	# NODE FIFO: lines such as 'GROUP "swan" MASTER 100' (and INSTANCE lines, ignored)
	dir=$CHARON_RUN/\$1
	while read -r type name state prio; do
		[ "\$type" = GROUP ] || continue
		echo "\$state \$EPOCHREALTIME" >>"\$dir/vrrp.events"
		echo "\$state" >"\$dir/vrrp.state"
		case \$state in MASTER) cmd=+1 ;; BACKUP | FAULT) cmd=-1 ;; *) continue ;; esac
		# a FIFO blocks its writer until charon reads: never hang here when charon is gone
		timeout 3 sh -c "echo \$cmd >'\$dir/charon.ha'" || echo "fifo write \$cmd failed" >>"\$dir/vrrp.events"
	done <"\$2"
	EOF
	chmod 755 "$SWANHA_DIR/notify"
	chmod 755 "$SWANHA_DIR"
}

swanha_keepalived_conf() {
	local n=$1 inst vrid dev vip
	cat <<-CONF
	global_defs {
		router_id $n
		script_user root
		enable_script_security
		vrrp_version 3
		vrrp_rt_priority 50
		vrrp_rlimit_rttime 1000000
		vrrp_notify_fifo $CHARON_RUN/$n/keepalived.fifo
		vrrp_notify_fifo_script "$SWANHA_DIR/notify $n"
	}
	vrrp_sync_group swan {
		group { front
			back }
	}
	CONF
	for inst in "front 51 eth-rf $SWANHA_VIP" "back 52 eth-rb $SWANHA_BACK_VIP"; do
		set -- $inst
		cat <<-CONF
		vrrp_instance $1 {
			state BACKUP
			interface $3
			virtual_router_id $2
			priority 100
			advert_int $SWAN_HA_ADVERT
			nopreempt
			virtual_ipaddress { $4/32 dev $3 }
		}
		CONF
	done
}

swanha_keepalived_start() {
	local n=$1 dir=$CHARON_RUN/$1
	rm -f "$dir/vrrp.state" "$dir/keepalived.fifo"
	swanha_keepalived_conf $n >"$dir/keepalived.conf"
	ip netns exec $n "$SWANHA_KEEPALIVED" -n -l -G -D -P -f "$dir/keepalived.conf" -p "$dir/keepalived.pid" \
		-r "$dir/keepalived-vrrp.pid" >>"$dir/keepalived.log" 2>&1 &
	echo $! >"$dir/keepalived.launcher"
	disown $!
}

# swanha_vrrp_state NODE: MASTER/BACKUP/FAULT as its notify script last reported it.
swanha_vrrp_state() { cat "$CHARON_RUN/$1/vrrp.state" 2>/dev/null || true; }

# swanha_wait_state NODE STATE [TRIES of 50 ms]
swanha_wait_state() {
	local i
	for i in $(seq ${3:-200}); do
		[ "$(swanha_vrrp_state $1)" = "$2" ] && return 0
		sleep 0.05
	done
	tail -n 20 "$CHARON_RUN/$1/keepalived.log" >&2
	die "keepalived on $1 did not become $2 (is: $(swanha_vrrp_state $1))"
}

swanha_owner() {
	local n
	for n in sg1 sg2; do
		[ "$(cat "$SWANHA_DIR/failed" 2>/dev/null)" = $n ] && continue
		[ "$(swanha_vrrp_state $n)" = MASTER ] && { echo $n; return 0; }
	done
	return 1
}

swanha_other() { [ "$1" = sg1 ] && echo sg2 || echo sg1; }

# swanha_synced NODE: NODE holds the EU's IKE_SA passive with its CHILD_SA installed (kernel SAs
# in both directions).
swanha_synced() {
	local sas
	sas=$(swanctl_in $1 --list-sas 2>/dev/null) || return 1
	printf '%s\n' "$sas" | grep -q 'PASSIVE, IKEv2' || return 1
	printf '%s\n' "$sas" | grep -q 'INSTALLED, TUNNEL' || return 1
	[ "$(ip -n $1 xfrm state | grep -c '^src')" -ge 2 ]
}

# swanha_wait_synced NODE SECONDS
swanha_wait_synced() {
	local end=$(( $(date +%s%N) + $2 * 1000000000 ))
	while :; do
		swanha_synced $1 && return 0
		[ "$(date +%s%N)" -lt $end ] || return 1
		sleep 0.1
	done
}

# swanha_seq NS seq|oseq: the highest replay counter of NS's SAs for the gateway -> EU direction
# (203.0.113.1 -> 192.0.2.2): "seq" on the EU (the highest sequence number it accepted), "oseq" on
# a gateway (the last sequence number it sent; 0 on a standby's copy). Non-ESN SAs.
swanha_seq() {
	local v x
	v=$(ip -n $1 -s xfrm state list src $SWANHA_VIP dst 192.0.2.2 |
		grep -Eo "(context: seq|, oseq) 0x[0-9a-f]+" | awk -v f="$2" '($1 == f || $2 == f) { print $NF }')
	[ -n "$v" ] || { echo 0; return; }
	for x in $v; do printf '%d\n' "$x"; done | sort -n | tail -1
}

swanha_traffic() { ip netns exec eu ping -n -q -c 1 -W 1 -I 10.1.0.1 10.2.0.1 >/dev/null 2>&1; }

swanha_start() {
	local child=${1:-gcm} n i
	command -v "$SWANHA_KEEPALIVED" >/dev/null || die "keepalived is missing: apt-get install keepalived (on the host)"
	swanha_topology
	rm -rf "$SWANHA_DIR"
	swanha_write_notify
	for n in sg1 sg2; do
		rm -f "$CHARON_RUN/$n/vrrp.events" "$CHARON_RUN/$n/keepalived.log"
		swanha_charon_start $n 1
		swanctl_load $n "$(swanctl_conf_cluster_sg)"
	done
	swanha_charon_start eu 0
	swanctl_load eu "$(swanctl_conf_cluster_eu eu)"
	# sg1 first: with equal priorities and nopreempt the first one up stays the master
	swanha_keepalived_start sg1
	swanha_wait_state sg1 MASTER
	swanha_keepalived_start sg2
	swanha_wait_state sg2 BACKUP
	# the routers know both gateways' link addresses (neighbour entries stay fresh on a real LAN)
	for n in sg1 sg2; do
		set -- $(swanha_addrs $n)
		ip netns exec rf ping -c 1 -W 1 $1 >/dev/null 2>&1 || true
		ip netns exec rb ping -c 1 -W 1 $2 >/dev/null 2>&1 || true
	done
	swanctl_in eu --initiate --ike sg --child "$child" >"$SWANHA_DIR/initiate.out" 2>&1 ||
		{ cat "$SWANHA_DIR/initiate.out" >&2; die "the EU could not initiate sg/$child"; }
	for i in $(seq 50); do swanha_traffic && break; done
	swanha_traffic || die "no traffic through the VPN after it came up"
	swanha_wait_synced sg2 10 || { swanctl_in sg2 --list-sas >&2; die "the standby sg2 did not get the VPN"; }
}

# swanha_fail kill|link: kill -9 of every process of the active gateway (all processes in its
# namespace: charon, keepalived, its VRRP child and its notify FIFO script), stopped first so
# that none of them can react to another's death (keepalived's VRRP child would get SIGTERM from
# its parent's death and send a "priority 0" advert: a graceful handover, not a crash); with
# "link" its links go down at the same moment. With "kill" its kernel keeps the VRRP addresses and
# SAs and keeps forwarding until the routers learn the new owner's MAC address (gratuitous ARP).
swanha_fail() {
	local n pids
	n=$(swanha_owner) || die "swanha_fail: no active gateway"
	pids=$(ip netns pids $n)
	date +%s.%N >"$SWANHA_DIR/fail.time"
	kill -STOP $pids 2>/dev/null || true
	kill -KILL $pids 2>/dev/null || true
	if [ "${1:-kill}" = link ]; then
		printf 'link set eth-rf down\nlink set eth-rb down\nlink set eth-ha down\n' | ip -n $n -batch -
	fi
	echo $n >"$SWANHA_DIR/failed"
}

# swanha_restore: the failed gateway reboots: no process, kernel state flushed (SAs, policies,
# VRRP addresses), links up, charon (its ha plugin asks the active node for a resync), the
# configuration, keepalived (stays BACKUP: nopreempt). Returns when it holds the VPN passive again.
# The active node answers a resync by sending its cached IKE state and rekeying the CHILD_SAs
# (ha_cache.c: CHILD_SAs are not cached; the rekey's CHILD_ADD reaches the new node), so the EU
# keeps its IKE_SA but gets new CHILD_SAs. Under QEMU the plugin's automatic resync request (1 s
# after charon starts) can come before swanctl has loaded the configuration (the node then drops
# the IKE_SA: "HA is missing nodes peer configuration"); then the operator's documented FIFO
# command "*1" (resync segment 1) on the active node repeats it.
swanha_restore() {
	local n act pid i
	n=$(cat "$SWANHA_DIR/failed" 2>/dev/null) || die "swanha_restore: no failed gateway"
	act=$(swanha_other $n)
	for pid in $(ip netns pids $n); do kill -KILL $pid 2>/dev/null || true; done
	for pid in $(ip netns pids $n); do while kill -0 $pid 2>/dev/null; do sleep 0.05; done; done
	ip -n $n xfrm state flush
	ip -n $n xfrm policy flush
	ip -n $n addr del $SWANHA_VIP/32 dev eth-rf 2>/dev/null || true
	ip -n $n addr del $SWANHA_BACK_VIP/32 dev eth-rb 2>/dev/null || true
	printf 'link set eth-rf up\nlink set eth-rb up\nlink set eth-ha up\n' | ip -n $n -batch -
	swanha_routes $n
	set -- $(swanha_addrs $n)
	for i in $(seq 50); do ip netns exec $n ping -c 1 -W 1 -I eth-ha $4 >/dev/null 2>&1 && break; sleep 0.1; done
	swanha_charon_start $n 1
	swanctl_load $n "$(swanctl_conf_cluster_sg)"
	swanha_keepalived_start $n
	swanha_wait_state $n BACKUP
	rm -f "$SWANHA_DIR/failed"
	if ! swanha_wait_synced $n 4; then
		echo "swanha: $n not synchronised by its own resync request; '*1' to $act's ha FIFO" >>"$SWANHA_DIR/restore.log"
		timeout 3 sh -c "echo '*1' >'$CHARON_RUN/$act/charon.ha'" || die "resync request to $act failed"
		swanha_wait_synced $n 10 || { swanctl_in $n --list-sas >&2; die "$n did not get the VPN back"; }
	else
		echo "swanha: $n synchronised by its own resync request" >>"$SWANHA_DIR/restore.log"
	fi
}

swanha_stop() {
	local n pid
	for n in sg1 sg2 eu; do
		for pid in $(ip netns pids $n 2>/dev/null); do kill -KILL $pid 2>/dev/null || true; done
	done
	for n in eu rf sg1 sg2 rb; do ip netns del $n 2>/dev/null || true; done
	rm -f "$SWANHA_DIR/failed"
	return 0
}
