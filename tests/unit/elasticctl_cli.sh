#!/usr/bin/env bash
# elasticctl against misbehaving control sockets (host, no charon): a socket that never answers,
# a reply header claiming 4 GiB, a path too long for a Unix socket, options a command does not
# take, numbers out of range. Each case asserts the exit status and the message.
set -uo pipefail
bin=$1
dir=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

expect() { # expect EXIT_CODE MESSAGE_REGEX ARGS...
	local code=$1 re=$2 out rc; shift 2
	out=$(timeout 30 "$bin" "$@" 2>&1 </dev/null); rc=$?
	[ "$rc" -eq "$code" ] || fail "'$*' exited $rc, expected $code: $out"
	grep -Eq -- "$re" <<<"$out" || fail "'$*' said '$out', expected /$re/"
	echo "ok: elasticctl $* -> $rc: $(head -1 <<<"$out")"
}

# fake_server MODE PATH: a control socket that accepts and then misbehaves.
fake_server() {
	python3 - "$1" "$2" <<'PY' &
import socket, struct, sys, time
mode, path = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path); s.listen(8)
conns = []
while True:
    c, _ = s.accept()
    conns.append(c)  # keep it open: silent
    if mode == "huge":
        c.sendall(struct.pack("!I", 0xFFFFFFF0) + b"OK\n")
PY
	for _ in $(seq 100); do [ -S "$2" ] && return 0; sleep 0.05; done
	fail "fake server on $2 did not start"
}

fake_server silent "$dir/silent.sock"
expect 1 "no answer from $dir/silent.sock within 5 s" --socket "$dir/silent.sock" list
expect 1 "no status from|no answer from $dir/silent.sock within 5 s" sync-status --syncd-socket "$dir/silent.sock"
fake_server huge "$dir/huge.sock"
expect 1 "refusing a reply of 4294967280 bytes" --socket "$dir/huge.sock" list
long=$dir/$(printf 'x%.0s' $(seq 120)).sock
expect 1 "is longer than 107 bytes" --socket "$long" list
expect 1 "cannot connect to $dir/none.sock: No such file" --socket "$dir/none.sock" list

expect 2 "list does not take --ike" list --ike rw
expect 2 "export does not take --margin" export --ike rw --margin 5
expect 2 "give --ike or --ike-id, not both" export --ike rw --ike-id 3
expect 2 "option --ike given twice" export --ike rw --ike a
expect 2 "list: unexpected argument 'extra'" list extra
expect 2 "--mode 'bogus' is neither passive nor active" import --mode bogus x.ctx
expect 2 "import needs --mode" import x.ctx
expect 2 "--ike-id '4294967297' is out of range 1..4294967295" export --ike-id 4294967297
expect 2 "--ike-id '-1' is not a number" export --ike-id -1
expect 2 "--margin '99999999999999999999' is out of range" activate --ike-id 1 --margin 99999999999999999999
expect 2 "--margin '0' is out of range 1..4294967295" activate --ike-id 1 --margin 0
expect 2 "--margin ' 7' is not a number" activate --ike-id 1 --margin ' 7'
expect 2 "unknown option --frob" list --frob 1

# The socket as swanctl finds vici's: from strongswan.conf (and its includes) unless given.
mkdir -p "$dir/conf.d"
printf 'charon {\n  plugins {\n    include conf.d/*.conf\n  }\n}\n' >"$dir/strongswan.conf"
printf 'elastic {\n  socket = unix://%s/from-conf.sock\n}\n' "$dir" >"$dir/conf.d/elastic.conf"
STRONGSWAN_CONF=$dir/strongswan.conf expect 1 "cannot connect to $dir/from-conf.sock" list
STRONGSWAN_CONF=$dir/strongswan.conf expect 1 "cannot connect to $dir/none.sock" --socket "$dir/none.sock" list
STRONGSWAN_CONF=$dir/missing.conf expect 1 "cannot connect to /var/run/charon.elastic" list
expect 0 "^elasticctl \(elastic-ipsec\) [0-9]+\.[0-9]+\.[0-9]+$" --version
echo "all elasticctl CLI checks passed"
