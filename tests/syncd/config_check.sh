#!/usr/bin/env bash
# `elastic-syncd --check` (and elastic-heartbeatd --check for the keys they share) on bad
# configurations: each is refused (exit 1) with a message naming FILE:LINE: KEY; a good one
# passes. --version works on both daemons.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
HBD=$ELASTIC_BUILD/daemons/heartbeatd/elastic-heartbeatd
d=$(mktemp -d /tmp/syncd-check.XXXXXX)
trap 'rm -rf "$d"' EXIT
chmod 755 "$d"
syncd_certs "$d" sg1 sg2 other
head -c 40 /dev/urandom >"$d/hb.key" && chmod 600 "$d/hb.key"

# conf [SED_EXPR]: the good configuration, edited by SED_EXPR (lines marked "# HERE" are the
# ones an error must point at).
conf() {
	cat <<-CONF | sed "${1:-}" >"$d/t.conf"
	elastic {
	  node = sg1
	  cluster {
	    replicas = 1
	    members {
	      sg1 { address = 127.0.0.1:7400 }
	      sg2 { address = 127.0.0.2:7400
	            weight = 2 }
	      sg3 { address = 127.0.0.3:7400 }
	    }
	  }
	  syncd {
	    socket = $d/sg1.sock
	    metrics = 127.0.0.1:9641
	    queue_limit = 1000
	    tls { ca = $d/ca.pem
	          cert = $d/sg1.pem
	          key = $d/sg1.key }
	    timeouts { handshake_ms = 2000 }
	  }
	  heartbeat { key = $d/hb.key }
	}
	CONF
}

# bad KEY MESSAGE SED_EXPR: --check refuses the edited configuration with
# "FILE:LINE: KEY: ..." (LINE: the line marked # HERE) containing MESSAGE.
bad() {
	local key=$1 msg=$2 out line
	conf "$3"
	line=$(grep -n '# HERE' "$d/t.conf" | cut -d: -f1)
	[ -n "$line" ] || fail "test bug: no '# HERE' in the configuration for $key"
	if out=$("$SYNCD" --check --config "$d/t.conf" 2>&1); then fail "accepted ($key, $msg): $out"; fi
	case "$out" in
	"elastic-syncd: $d/t.conf:$line: $key: "*"$msg"*) pass "$key: $out" ;;
	*) fail "expected '$d/t.conf:$line: $key: ...$msg...', got: $out" ;;
	esac
}

conf
out=$("$SYNCD" --check --config "$d/t.conf") || fail "the good configuration was refused: $out"
pass "a good configuration passes: $out"

bad elastic.syncd.colour "unknown key" 's/^\(    queue_limit = 1000\)/\1\n    colour = blue # HERE/'
bad elastic.cluster.members.sg2.port "unknown key" 's/^\(            weight = 2 }\)/            port = 1 # HERE\n\1/'
bad elastic.syncd.tls.password "unknown key" 's/^\(          cert = .*\)/\1\n          password = x # HERE/'
bad elastic.syncd.timeouts.connect_ms "unknown key" 's/handshake_ms = 2000 }/connect_ms = 9 } # HERE/'
bad elastic.colour "unknown key" 's/^\(  node = sg1\)/\1\n  colour = blue # HERE/'
bad elastic.cluster.witnesses "unknown section" 's/^\(    replicas = 1\)/\1\n    witnesses { } # HERE/'
bad elastic.syncd.queue_limit "value '-1' is not a number" 's/queue_limit = 1000/queue_limit = -1 # HERE/'
bad elastic.syncd.queue_limit "value '99999999999999999999' is out of range" \
	's/queue_limit = 1000/queue_limit = 99999999999999999999 # HERE/'
bad elastic.cluster.members.sg2.weight "value 'nan' is not a number" 's/weight = 2 }/weight = nan } # HERE/'
bad elastic.cluster.members.sg2.weight "value 'abc' is not a number" 's/weight = 2 }/weight = abc } # HERE/'
bad elastic.cluster.members.sg2.weight "value '1.5' is not a number" 's/weight = 2 }/weight = 1.5 } # HERE/'
bad elastic.cluster.members.sg2.weight "value '0' is out of range 1..1000" 's/weight = 2 }/weight = 0 } # HERE/'
bad elastic.cluster.replicas "'-1': expected a number" 's/replicas = 1/replicas = -1 # HERE/'
bad elastic.syncd.timeouts.handshake_ms "value '0' is out of range" 's/handshake_ms = 2000/handshake_ms = 0/; s/timeouts {.*/& # HERE/'
bad elastic.cluster.members.sg2 "member listed twice" \
	's/^\(      sg3 { address = 127.0.0.3:7400 }\)/\1\n      sg2 { address = 127.0.0.4:7400 } # HERE/'
bad elastic.cluster.members.sg1.address "'localhost' is not an IP address" 's/127.0.0.1:7400 }/localhost:7400 } # HERE/'
bad elastic.cluster.members.sg3.address "'sg3.example.net' is not an IP address" \
	's/127.0.0.3:7400 }/sg3.example.net:7400 } # HERE/'
bad elastic.cluster.members.sg3.address "port '70000' is out of range 1..65535" 's/127.0.0.3:7400 }/127.0.0.3:70000 } # HERE/'
bad elastic.syncd.metrics "'localhost' is not an IP address" 's/metrics = 127.0.0.1:9641/metrics = localhost:9641 # HERE/'
bad elastic.syncd.metrics "expected IP:PORT" 's/metrics = 127.0.0.1:9641/metrics = 9641 # HERE/'
bad elastic.syncd.listen "'any' is not an IP address" 's/^\(    queue_limit = 1000\)/\1\n    listen = any:7400 # HERE/'
bad elastic.syncd.loglevel "'verbose': expected err, warning, notice, info or debug" \
	's/^\(    queue_limit = 1000\)/\1\n    loglevel = verbose # HERE/'
bad elastic.syncd.loglevel "'INFO': expected err, warning, notice, info or debug" \
	's/^\(    queue_limit = 1000\)/\1\n    loglevel = INFO # HERE/'
for level in err warning notice info debug; do
	conf "s/^\(    queue_limit = 1000\)/\1\n    loglevel = $level/"
	out=$("$SYNCD" --check --config "$d/t.conf" 2>&1) || fail "loglevel = $level was refused: $out"
done
pass "elastic.syncd.loglevel: err, warning, notice, info and debug pass"
# what the daemon will open: the TLS files (errno text kept), the socket path
bad elastic.syncd.tls.key "cannot read $d/nowhere.key: No such file or directory" "s#key = $d/sg1.key }#key = $d/nowhere.key } \# HERE#"
bad elastic.syncd.tls.key "cannot read $d: Is a directory" "s#key = $d/sg1.key }#key = $d } \# HERE#"
bad elastic.syncd.tls.ca "cannot read $d/none.pem: No such file or directory" "s#ca = $d/ca.pem#ca = $d/none.pem \# HERE#"
bad elastic.syncd.tls.key "TLS key $d/other.key" "s#key = $d/sg1.key }#key = $d/other.key } \# HERE#"
bad elastic.syncd.tls.cert "TLS certificate $d/sg1.key" "s#cert = $d/sg1.pem#cert = $d/sg1.key \# HERE#"
mkdir "$d/sg1.sock"
bad elastic.syncd.socket "$d/sg1.sock exists and is not a socket" 's/^\(    socket = .*\)/\1 # HERE/'
rmdir "$d/sg1.sock"
# An unreadable key file (as a user who may not read it): the check runs as that user.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$SYNCD"; then
	conf 's/^\(          key = .*\)/\1 # HERE/'
	chmod 644 "$d/t.conf" "$d"/*.pem
	line=$(grep -n '# HERE' "$d/t.conf" | cut -d: -f1)
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$SYNCD" --check --config "$d/t.conf" 2>&1) &&
		fail "an unreadable key file passed --check"
	[ "$out" = "elastic-syncd: $d/t.conf:$line: elastic.syncd.tls.key: cannot read $d/sg1.key: Permission denied" ] ||
		fail "unreadable key: $out"
	pass "an unreadable key file: $out"
else
	echo "skip: the unreadable-file case needs root and setpriv"
fi
out=$("$SYNCD" --check --config "$d/missing.conf" 2>&1) && fail "a missing configuration passed"
[ "$out" = "elastic-syncd: cannot read $d/missing.conf: No such file or directory" ] || fail "missing file: $out"
pass "a missing configuration file: $out"

# elastic-heartbeatd reads the same cluster section: the same strictness
hb_bad() {
	local key=$1 msg=$2 out line
	conf "$3"
	line=$(grep -n '# HERE' "$d/t.conf" | cut -d: -f1)
	if out=$("$HBD" --check --config "$d/t.conf" 2>&1); then fail "heartbeatd accepted ($key): $out"; fi
	case "$out" in
	"elastic-heartbeatd: $d/t.conf:$line: $key: "*"$msg"*) pass "heartbeatd: $out" ;;
	*) fail "heartbeatd: expected '$d/t.conf:$line: $key: ...$msg...', got: $out" ;;
	esac
}
conf
out=$("$HBD" --check --config "$d/t.conf") || fail "heartbeatd refused the good configuration: $out"
hb_bad elastic.cluster.members.sg2.weight "'nan': expected a whole number" 's/weight = 2 }/weight = nan } # HERE/'
hb_bad elastic.cluster.members.sg2.port "unknown key" 's/^\(            weight = 2 }\)/            port = 1 # HERE\n\1/'
hb_bad elastic.cluster.members.sg2 "member listed twice" \
	's/^\(      sg3 { address = 127.0.0.3:7400 }\)/\1\n      sg2 { address = 127.0.0.4:7400 } # HERE/'
hb_bad elastic.heartbeat.port "expected 1..65535" 's#heartbeat { key = .*#&\n    port = -1 } \# HERE#; s#\(heartbeat { key = [^ ]*\) }#\1#'
hb_bad elastic.heartbeat.interval "is not a duration" 's#heartbeat { key = .*#&\n    interval = 1e2 } \# HERE#; s#\(heartbeat { key = [^ ]*\) }#\1#'
hb_bad elastic.heartbeat.loglevel "'3': expected err, warning, notice, info or debug" \
	's#heartbeat { key = .*#&\n    loglevel = 3 } \# HERE#; s#\(heartbeat { key = [^ ]*\) }#\1#'
conf 's#heartbeat { key = .*#&\n    loglevel = debug }#; s#\(heartbeat { key = [^ ]*\) }#\1#'
out=$("$HBD" --check --config "$d/t.conf" 2>&1) || fail "heartbeatd refused loglevel = debug: $out"
pass "elastic.heartbeat.loglevel = debug passes"

for b in "$SYNCD" "$HBD"; do
	out=$("$b" --version) || fail "$b --version failed"
	[[ "$out" =~ ^elastic-(syncd|heartbeatd)\ \(elastic-ipsec\)\ [0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "--version: $out"
	pass "--version: $out"
done
