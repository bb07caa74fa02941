# The experiment inside the test VM: runs what plan.py says is left, one record per run in
# OUT/runs (testbed/experiment/run). The test bed is built once per system and heartbeat
# interval, the EU's tunnel once per cipher. A run that fails stops the VM with its reason in
# OUT/log/errors.log and writes no record: `run` boots a fresh VM that resumes with it.
. "$ELASTIC_REPO/testbed/lib/ha.sh"
here=$ELASTIC_REPO/testbed/experiment
. "$here/measure.sh"
for f in "$here"/systems/*.sh; do . "$f"; done

# The EU's CHILD_SA configuration per cipher (testbed/lib/topology.sh: swanctl_conf_eu).
declare -A X_CHILD=([cbc]=cbc [ctr]=ctr [gcm]=gcm)
declare -A X_CIPHER=([cbc]=aes128-cbc [ctr]=aes128-ctr [gcm]=aes128-gcm)

# setting NAME DEFAULT: a value of the config's [experiment] section.
setting() {
	python3 -c 'import configparser,sys; c=configparser.ConfigParser(inline_comment_prefixes=("#",)); c.read(sys.argv[1]);
print(c.get("experiment", sys.argv[2], fallback=sys.argv[3]))' "$X_CONF" "$1" "$2"
}

# Everything the previous test bed left: processes and namespaces.
bed_teardown() {
	pkill -9 -f 'probe.py|rtpstream.py|tcpstream.py|steerd.py' 2>/dev/null || true
	pkill -9 -x charon 2>/dev/null || true
	pkill -9 -x elastic-syncd 2>/dev/null || true
	pkill -9 -x elastic-heartbeatd 2>/dev/null || true
	pkill -9 -x keepalived 2>/dev/null || true
	sleep 0.2
	ip -all netns delete 2>/dev/null || true
	# (not $CHARON_RUN/plugins: charon's plugin directory is bind-mounted from there)
	find "${CHARON_RUN:?}" -mindepth 1 -maxdepth 1 ! -name plugins -exec rm -rf {} + 2>/dev/null || true
}

# A forced outage for the meter's own check: rf drops the EU's packets for exactly 500 ms (a set
# element with a timeout: the kernel ends it, no process start in the measured window). The table
# is made once per test bed, before the first outage run's stream.
outage_prepare() {
	ip netns exec rf nft list table inet outage >/dev/null 2>&1 && return 0
	"$(cat /proc/sys/kernel/modprobe)" nf_tables
	ip netns exec rf nft -f - <<-NFT
	table inet outage {
		set eu { type ipv4_addr; flags timeout; }
		chain forward { type filter hook forward priority 0; ip saddr @eu drop; ip daddr @eu drop; }
	}
	NFT
}
outage_event() { ip netns exec rf nft add element inet outage eu '{ 192.0.2.2 timeout 500ms }'; }

# system_switch SYSTEM HB CIPHER: the test bed for the next run (rebuilt only when needed).
system_switch() {
	if [ "$1 $2" != "${X_SYS:-} ${X_HB:-}" ]; then
		bed_teardown
		X_SYS=$1 X_HB=$2 X_UP=
		log "experiment: starting $1${2:+ (heartbeat ${2%x*} ms x $(misses "$2"))}"
		"${1}_start" "${2%x*}" "$(misses "$2")" >"$X_OUT/log/start-$1.log" 2>&1 || { tail -20 "$X_OUT/log/start-$1.log" >&2; return 1; }
		ip netns exec rb "$TOOLS/probe.py" echo 10.2.0.250 1 >/dev/null 2>&1 &  # (keeps rb's python warm)
	fi
	if [ "$3" != "${X_UP:-}" ]; then
		"${1}_up" "${X_CHILD[$3]}" || { echo "$1: the EU's tunnel ($3) did not come up" >&2; return 1; }
		X_UP=$3
	fi
}

# misses HB: the heartbeat misses of a cell's HEARTBEAT_MS[xMISSES] (default: the config's).
misses() { case $1 in *x*) echo "${1#*x}" ;; *) echo "$X_MISSES" ;; esac; }

# failed KEY STEP: why a run stopped, for OUT/log/errors.log (the run's event log holds the detail)
failed() { echo "$1: $2 failed: $(grep -v ' Killed ' "$X_OUT/log/event.log" | tail -3)" >&2; }

# run_one KEY SCENARIO SYSTEM PROTO CIPHER KBPS HB STREAM_S
run_one() {
	local key=$1 scen=$2 sys=$3 proto=$4 cipher=$5 kbps=$6 hb=$7 secs=$8 event_rc=0
	system_switch "$sys" "$([ "$hb" = 0 ] && echo "" || echo "$hb")" "$cipher" || return 1
	X_STEPS='{}'
	case $scen in
	none) ;;
	outage) outage_prepare || return 1 ;;  # (once per test bed; a system may build its own in SYS_up)
	*) "${sys}_prepare" >"$X_OUT/log/event.log" 2>&1 || { failed "$key" prepare; return 1; } ;;
	esac
	measure_start "$proto" "$kbps" "$secs"
	measure_at "$X_EVENT_AT"
	case $scen in
	none) ;;
	outage) outage_event ;;
	*) "${sys}_event" "$scen" >>"$X_OUT/log/event.log" 2>&1 || event_rc=$? ;;
	esac
	local event_steps=$X_STEPS
	measure_end >"$M_DIR/counters.json"
	[ $event_rc = 0 ] || { failed "$key" "the $scen event"; return 1; }
	case $scen in none | outage) ;; *) "${sys}_restore" "$scen" >>"$X_OUT/log/event.log" 2>&1 || { failed "$key" restore; return 1; } ;; esac
	# a failover's own figures come from the new owner's log, read by restore
	[ "$event_steps" = '{}' ] && event_steps=$X_STEPS
	"$here/record.py" "$X_OUT/runs/$key.json" "$M_DIR/stream.json" "$M_DIR/sender.json" "$M_DIR/counters.json" "$event_steps" \
		scenario=$scen system=$sys proto=$proto cipher=${X_CIPHER[$cipher]} kbps=$kbps \
		heartbeat_ms=$([ "$hb" = 0 ] && echo null || echo "${hb%x*}") sample=$((10#${key##*-})) stream_s=$secs \
		event_at_s=$X_EVENT_AT gateways=$X_GATEWAYS misses=$(misses "$hb") commit="$X_COMMIT" \
		machine="$X_MACHINE" command="${ELASTIC_EXPERIMENT_COMMAND:-}" started="$(date -u +%FT%TZ)" \
		stalls_redone="${X_REDONE:-0}"
	quiet_stalled "$scen" "$X_OUT/runs/$key.json" || return 0
	# A run without an event is the meter's own baseline: if the emulated machine itself stalled
	# (the sender ran 100 ms or more late: with 100 ms heartbeats such a stall lapses the leases and
	# fences the gateways, as it should) and packets were lost, the run measured the machine, not
	# the meter. It is done again, twice at most; the record counts the stalls redone.
	X_REDONE=$((${X_REDONE:-0} + 1))
	[ "$X_REDONE" -le 2 ] || { X_REDONE=; return 0; }
	echo "$key: the machine stalled during a run without an event ($(quiet_stalled "$scen" "$X_OUT/runs/$key.json" print)); again" >&2
	rm -f "$X_OUT/runs/$key.json"
	run_one "$@"
	local rc=$?
	X_REDONE=
	return $rc
}

# quiet_stalled SCENARIO RECORD [print]: true if a run without an event lost packets while its
# sender was late by 100 ms or more (a stall of the machine).
quiet_stalled() {
	[ "$1" = none ] || return 1
	python3 - "$2" "${3:-}" <<-'PY'
	import json, sys
	r = json.load(open(sys.argv[1]))
	late = (r.get("sender") or {}).get("late_ms_max") or 0
	if sys.argv[2]:
	    print(f"sender late {late} ms, lost {r.get('lost')}")
	sys.exit(0 if (r.get("lost") or 0) > 1 and late >= 100 else 1)
	PY
}

# keep_logs KEY: every daemon's log of a failed run, for its diagnosis (the VM's run directory goes
# with the VM) under the build tree's experiment-failed/KEY.
keep_logs() {
	local keep=${ELASTIC_BUILD:-$ELASTIC_REPO/build}/experiment-failed/$1 d
	for d in "$CHARON_RUN"/*/; do
		[ -d "$d" ] || continue
		mkdir -p "$keep/$(basename "$d")"
		cp "$d"*.log "$keep/$(basename "$d")/" 2>/dev/null || true
	done
	cp "$X_OUT/log/event.log" "$keep/" 2>/dev/null || true
	echo "      its logs: $keep"
}

# engine_main CONFIG OUT
engine_main() {
	X_CONF=$1 X_OUT=$2
	mkdir -p "$X_OUT/runs" "$X_OUT/log"
	# ELASTIC_EXPERIMENT_TRACE=1: every command to OUT/log/trace.log (when a run hangs)
	if [ "${ELASTIC_EXPERIMENT_TRACE:-}" = 1 ]; then
		exec {trace}>>"$X_OUT/log/trace.log"
		BASH_XTRACEFD=$trace PS4='+ $(date +%T.%N | cut -c1-12) ${FUNCNAME[0]:-}: '
		set -x
	fi
	X_GATEWAYS=$(setting gateways 2) X_MISSES=$(setting misses 3) X_EVENT_AT=$(setting event_at_s 3)
	X_COMMIT=${ELASTIC_EXPERIMENT_COMMIT:-unknown}
	X_MACHINE="$(nproc) vCPU QEMU/TCG guest, Debian kernel $(uname -r); host: ${ELASTIC_EXPERIMENT_HOST:-unknown}"
	M_PORT=20000
	trap 'bed_teardown' EXIT
	local todo total done0 i=0 t0 line
	mapfile -t todo < <("$here/plan.py" "$X_CONF" "$X_OUT/runs")
	read -r done0 total < <("$here/plan.py" --count "$X_CONF" "$X_OUT/runs")
	t0=$(date +%s)
	for line in "${todo[@]}"; do
		i=$((i + 1))
		set -- $line
		if run_one "$@" 2>>"$X_OUT/log/errors.log"; then
			printf '[%d/%d] %s: %s\n' $((done0 + i)) "$total" "$1" "$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))
print("interruption %.0f ms, lost %s, MOS %s" % (r.get("interruption_ms") or 0, r.get("lost"), r.get("mos")))' "$X_OUT/runs/$1.json")"
		else
			printf '[%d/%d] %s: FAILED: %s\n' $((done0 + i)) "$total" "$1" "$(tail -1 "$X_OUT/log/errors.log")"
			keep_logs "$1"
			return 1
		fi
		printf '      %d s elapsed, ETA %d s\n' $(($(date +%s) - t0)) $(( ($(date +%s) - t0) * (${#todo[@]} - i) / i ))
	done
	log "experiment: ${#todo[@]} runs done"
}
