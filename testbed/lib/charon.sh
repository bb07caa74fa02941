# Runs real charon instances, one per network namespace, inside the test VM.
# Each instance has its own directory on tmpfs: strongswan.conf, vici socket, pid file, log.

CHARON_RUN=/run/elastic
# CHARON_SYSTEM=1: Debian's packaged charon-systemd and swanctl with the plugin as its package
# installed it (tests/vm/deb_transfer.sh); otherwise the test bed's build (SWAN_PREFIX).
CHARON_SYSTEM=${CHARON_SYSTEM:-0}
if [ "$CHARON_SYSTEM" = 1 ]; then
	CHARON_EXEC=/usr/sbin/charon-systemd SWANCTL_EXEC=/usr/sbin/swanctl CHARON_CONFD=/etc/strongswan.d
else
	CHARON_EXEC=$SWAN_PREFIX/libexec/ipsec/charon SWANCTL_EXEC=$SWAN_PREFIX/sbin/swanctl
	CHARON_CONFD=$SWAN_PREFIX/etc/strongswan.d
fi

# charon's plugin dir is compiled in and read-only in the VM: show it, plus our freshly built
# plugin, through a bind mount of a tmpfs copy (the host's prefix is never touched).
charon_prepare_plugins() {
	local d=$CHARON_RUN/plugins plugin=$ELASTIC_BUILD/plugins/elastic/libstrongswan-elastic.so
	[ "$CHARON_SYSTEM" = 1 ] && return 0
	[ -f "$plugin" ] || die "$plugin is missing: build first (./testbed/setup)"
	mountpoint -q "$SWAN_PREFIX/lib/ipsec/plugins" && return 0
	mkdir -p "$d"
	cp "$SWAN_PREFIX"/lib/ipsec/plugins/*.so "$d/"
	cp "$plugin" "$d/"
	mount --bind "$d" "$SWAN_PREFIX/lib/ipsec/plugins"
}

# charon_conf NAME [EXTRA]: strongswan.conf for instance NAME; EXTRA is added inside charon { }.
charon_conf() {
	local dir=$CHARON_RUN/$1
	cat <<-CONF
	charon {
		load_modular = yes
		plugins {
			include $CHARON_CONFD/charon/*.conf
			kernel-libipsec { load = no }
			ha { load = no }
			load-tester { load = no }
			elastic { load = yes
				$([ "$CHARON_SYSTEM" = 1 ] && echo "socket = unix://$dir/charon.elastic") }
			vici { socket = unix://$dir/charon.vici }
		}
		filelog {
			main {
				path = $dir/charon.log
				default = 1
				ike = 2
				cfg = 2
				${CHARON_LOG_LEVELS:-}
				time_format = %T
				time_add_ms = yes
				append = no
				flush_line = yes
			}
		}
		${2:-}
	}
	swanctl { socket = unix://$dir/charon.vici }
	CONF
}

# charon_start NAME NETNS [EXTRA]: start charon NAME in NETNS and wait until vici answers.
charon_start() {
	charon_prepare_plugins
	mkdir -p "$CHARON_RUN/$1"
	charon_conf "$1" "${3:-}" >"$CHARON_RUN/$1/strongswan.conf"
	charon_launch "$1" "$2"
}

# charon_launch NAME NS [TRIES]: charon of instance NAME (its strongswan.conf written) in
# namespace NS; returns once it answers swanctl (TRIES x 0.1 s, default 100).
charon_launch() {
	local name=$1 ns=$2 dir=$CHARON_RUN/$1 i
	# The pid file path is compiled in: give each instance its own piddir in its mount namespace
	# (charon-systemd writes none). The launcher's pid is charon's (both shells exec).
	local piddir="mount --bind '$dir' '$SWAN_PREFIX/var/run' &&"
	[ "$CHARON_SYSTEM" = 1 ] && piddir=
	ip netns exec "$ns" sh -c "$piddir STRONGSWAN_CONF='$dir/strongswan.conf' exec '$CHARON_EXEC'" \
		>"$dir/charon.out" 2>&1 &
	echo $! >"$dir/launcher.pid"
	disown $!  # tests kill it: no "Killed" notice from this shell
	for i in $(seq "${3:-100}"); do
		swanctl_in "$name" --stats >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	cat "$dir/charon.out" "$dir/charon.log" >&2 2>/dev/null
	die "charon $name did not start"
}

charon_stop() {
	local dir=$CHARON_RUN/$1
	local pidf=$dir/charon.pid
	[ -f "$pidf" ] || pidf=$dir/launcher.pid
	[ -f "$pidf" ] && { kill "$(cat "$pidf")" 2>/dev/null || true; }
	return 0
}

charon_log() { cat "$CHARON_RUN/$1/charon.log"; }

# swanctl_in NAME ARGS...: swanctl against instance NAME.
swanctl_in() {
	local name=$1; shift
	STRONGSWAN_CONF=$CHARON_RUN/$name/strongswan.conf "$SWANCTL_EXEC" "$@"
}

# swanctl_load NAME CONF_TEXT: load connections and secrets into instance NAME.
swanctl_load() {
	local dir=$CHARON_RUN/$1
	printf '%s\n' "$2" >"$dir/swanctl.conf"
	# Missing credential subdirectories are fine (PSK); keep that noise out of the output.
	swanctl_in "$1" --load-all --noprompt --file "$dir/swanctl.conf" >"$dir/swanctl-load.out" 2>&1 ||
		{ grep -v 'opening directory' "$dir/swanctl-load.out" >&2; die "swanctl --load-all failed for $1"; }
}

# charon_cleanup NAME...: stop instances; if the script is failing, show the end of their logs.
charon_cleanup() {
	local rc=$? name
	for name in "$@"; do
		if [ "$rc" -ne 0 ] && [ -f "$CHARON_RUN/$name/charon.log" ]; then
			echo "--- last lines of charon $name's log" >&2
			tail -n 25 "$CHARON_RUN/$name/charon.log" >&2
		fi
		charon_stop "$name"
	done
	return "$rc"
}
