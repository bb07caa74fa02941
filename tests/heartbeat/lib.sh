# Helpers for tests that run several elastic-heartbeatd on loopback (host; no VM needed).
HBD=${ELASTIC_BUILD:-build}/daemons/heartbeatd/elastic-heartbeatd
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
pass() { printf 'ok: %s\n' "$*"; }

# hb_conf DIR NODE PORT [EXTRA...]: the elastic { } section for NODE of sg1 sg2 sg3 on 127.0.0.1-3.
hb_conf() {
	local d=$1 node=$2 port=$3
	shift 3
	cat >"$d/$node.conf" <<-CONF
	elastic {
	  node = $node
	  cluster {
	    replicas = 1
	    members {
	      sg1 { address = 127.0.0.1:7400 }
	      sg2 { address = 127.0.0.2:7400 }
	      sg3 { address = 127.0.0.3:7400
	            weight = 2 }
	    }
	  }
	  heartbeat {
	    port = $port
	    interval = 50ms
	    misses = 3
	    key = $d/hb.key
	    socket = $d/$node.sock
	    plugin_socket = $d/$node.plugin
	    $*
	  }
	}
	CONF
}

hb_start() { # hb_start DIR NODE
	rm -f "$1/$2.sock"
	"$HBD" --config "$1/$2.conf" >>"$1/$2.log" 2>&1 &
	echo $! >"$1/$2.pid"
	disown $!  # no "Killed" notice from the shell when a test kills it
	local i
	for i in $(seq 200); do [ -S "$1/$2.sock" ] && return 0; sleep 0.02; done
	cat "$1/$2.log" >&2
	fail "heartbeatd $2 did not start"
}
hb_pid() { cat "$1/$2.pid"; }
hb_kill() { # kill -9, and wait until it is gone (it is disowned: no `wait`)
	local pid i
	pid=$(hb_pid "$1" "$2")
	kill -9 "$pid" 2>/dev/null || return 0
	for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.01; done
}
hb_status() { "$HBD" --status "$1/$2.sock"; }

# wait_for DIR NODE AWK_PATTERN [SECONDS]: until the status of NODE has a line matching it.
wait_for() {
	local i
	for i in $(seq $((${4:-10} * 50))); do
		hb_status "$1" "$2" 2>/dev/null | grep -Eq "$3" && return 0
		sleep 0.02
	done
	hb_status "$1" "$2" >&2 || true
	return 1
}
