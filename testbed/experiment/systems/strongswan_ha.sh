# Baseline for failover: strongSwan's own ha plugin, two nodes, the cluster IP moved by
# keepalived (systems/swanha.sh), in the engine's interface (systems/elastic.sh describes it).
# Its topology is its own (the gateways share an L2 segment for VRRP); the streams run between
# the same eu and rb addresses.

strongswan_ha_start() { X_HA_CHILD= X_STEPS='{}'; }

strongswan_ha_up() {
	[ -n "${X_HA_CHILD:-}" ] && swanha_stop
	swanha_start "$1"
	X_HA_CHILD=$1
}

strongswan_ha_prepare() { X_OWNER=$(swanha_owner); }

# ha_kill: every process of the active node killed and its links down (swanha_fail link), as for
# the other systems.
strongswan_ha_event() {
	case $1 in
	ha_kill) swanha_fail link ;;
	*) echo "strongswan_ha: no scenario $1" >&2; return 1 ;;
	esac
}

strongswan_ha_restore() { swanha_restore; }
