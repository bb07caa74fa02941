#!/usr/bin/env bash
# elasticctl against misbehaving control sockets (host, no charon): a socket that never answers,
# a reply header claiming 4 GiB, a path too long for a Unix socket, options a command does not
# take, numbers out of range. Each case asserts the exit status and the message. Then the output
# for people and scripts: inspect of a context (built with protoc from its text form) readable and
# without key material; --json of inspect, list and sync-status parsed by Python.
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

# fake_server MODE PATH [REPLY_FILE]: a control socket that accepts and then misbehaves (silent,
# huge), or answers each request with REPLY_FILE's text as the plugin (list) or syncd (status) do.
fake_server() {
	python3 - "$1" "$2" "${3:-}" <<'PY' &
import socket, struct, sys, time
mode, path, reply = sys.argv[1], sys.argv[2], sys.argv[3]
body = open(reply, "rb").read() if reply else b""
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path); s.listen(8)
conns = []
def read(c, n):
    data = b""
    while len(data) < n:
        data += c.recv(n - len(data))
    return data
while True:
    c, _ = s.accept()
    conns.append(c)  # keep it open: silent
    if mode == "huge":
        c.sendall(struct.pack("!I", 0xFFFFFFF0) + b"OK\n")
    elif mode == "list":  # request: length, "line\nbody"; answer: length, "OK\n" and the text
        read(c, struct.unpack("!I", read(c, 4))[0])
        c.sendall(struct.pack("!I", 3 + len(body)) + b"OK\n" + body)
    elif mode == "status":  # a Status frame each way: length, type 4, text
        read(c, 5)
        c.sendall(struct.pack("!IB", 1 + len(body), 4) + body)
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
expect 2 "export does not take --json" export --ike rw --json

# A context as the plugin captures one: IKE over IPv4 behind NAT, an IPv6 virtual IP and MOBIKE
# address, a GCM CHILD_SA with ESN and IPv4 selectors, a CBC/HMAC one with PFS and IPv6 selectors.
# Every key starts with KEYMAT: neither that nor its hex or base64 form may appear in the output.
proto=$(cd "$(dirname "$0")/../../proto" && pwd)
command -v protoc >/dev/null || fail "protoc (the build's protobuf compiler) is needed"
addr() { printf '\\%03o' "$@"; } # bytes as a protobuf text string's octal escapes
eu6=$(addr 0xfd 0 0 0 0 0 0 0 0 0 0 0 0 0 0 5)
protoc --proto_path="$proto" --encode=elastic.v1.Envelope "$proto/elastic.proto" >"$dir/ctx" <<CTX || fail protoc
schema: SCHEMA_VERSION_1 origin_node: "sg1" epoch: 3 version: 42 kind: ENVELOPE_KIND_UPSERT vpn_id: "sg1/17"
context { ike_sa {
  spi_i: 0x1122334455667788 spi_r: 0x99aabbccddeeff00 role: IKE_ROLE_RESPONDER ike_version: 2
  algorithms { encryption: 20 encryption_key_bits: 256 prf: 5 dh_group: 31 }
  keys { shared_secret: "KEYMAT-shared" nonce_i: "KEYMAT-nonce-i-KEYMAT-ni" nonce_r: "KEYMAT-nonce-r-KEYMAT-nr" }
  local_id { type: 2 data: "sg.example.net" } remote_id { type: 3 data: "alice@example.net" }
  local { address: "$(addr 192 0 2 1)" port: 4500 } remote { address: "$(addr 198 51 100 7)" port: 39012 }
  nat { remote_behind_nat: true } peer_cfg: "rw" message_ids { initiate: 4 respond: 9 }
  remote_virtual_ips: "$eu6"
  peer_addresses { address: "$(addr 0x20 1 0x0d 0xb8 0 0 0 0 0 0 0 0 0 0 0 7)" port: 4500 }
  child_sas { child_cfg: "net" spi_in: 0xc1a2b3c4 spi_out: 0x0d1e2f3a protocol: CHILD_PROTOCOL_ESP
    mode: CHILD_MODE_TUNNEL udp_encap: true algorithms { encryption: 20 encryption_key_bits: 128 esn: true }
    keys { encryption_i: "KEYMAT-esp-gcm-ei-01" encryption_r: "KEYMAT-esp-gcm-er-01" }
    local_ts { from_address: "$(addr 10 10 0 0)" to_address: "$(addr 10 10 0 255)" to_port: 65535 }
    remote_ts { from_address: "$(addr 10 99 0 5)" to_address: "$(addr 10 99 0 5)" to_port: 65535 }
    replay_in { seq: 777 window: 128 } replay_out { oseq: 1000 oseq_hi: 1 } }
  child_sas { child_cfg: "net6" spi_in: 0xc5c6c7c8 spi_out: 0xd5d6d7d8 protocol: CHILD_PROTOCOL_ESP
    mode: CHILD_MODE_TUNNEL algorithms { encryption: 12 encryption_key_bits: 256 integrity: 12 dh_group: 14 }
    keys { encryption_i: "KEYMAT-esp-cbc-ei-01-KEYMAT-0001" encryption_r: "KEYMAT-esp-cbc-er-01-KEYMAT-0001"
      integrity_i: "KEYMAT-esp-sha-ii-01-KEYMAT-0001" integrity_r: "KEYMAT-esp-sha-ir-01-KEYMAT-0001" }
    local_ts { from_address: "$(addr 0x20 1 0x0d 0xb8 0 1 0 0 0 0 0 0 0 0 0 0)"
      to_address: "$(addr 0x20 1 0x0d 0xb8 0 1 255 255 255 255 255 255 255 255 255 255)" to_port: 65535 }
    remote_ts { protocol: 6 from_address: "$eu6" to_address: "$eu6" from_port: 443 to_port: 443 }
    replay_in { seq: 12 window: 32 } replay_out { oseq: 34 } }
} }
CTX
no_keys() { # no_keys WHAT OUTPUT
	! grep -Eiq 'KEYMAT|4b45594d4154|S0VZTUFU' <<<"$2" || fail "$1 shows key material: $2"
	echo "ok: $1 shows no key material"
}
out=$(timeout 30 "$bin" inspect "$dir/ctx") || fail "inspect exited $?: $out"
for want in 'local: 192.0.2.1\[4500\]' 'remote: 198.51.100.7\[39012\]' 'peer_addresses: 2001:db8::7\[4500\]' \
	'remote_virtual_ips: fd00::5' 'spi_i: 1122334455667788' 'spi_r: 99aabbccddeeff00' 'spi_in: 0xc1a2b3c4' \
	'spi_out: 0x0d1e2f3a' 'encryption: AES_GCM_16-256' 'prf: PRF_HMAC_SHA2_256' 'dh_group: CURVE_25519' \
	'encryption: AES_GCM_16-128' 'encryption: AES_CBC-256' 'integrity: HMAC_SHA2_256_128' 'dh_group: MODP_2048' \
	'esn: yes' 'esn: no' 'local_ts: 10.10.0.0/24' 'remote_ts: 10.99.0.5/32' 'local_ts: 2001:db8:1::/48' \
	'remote_ts: fd00::5/128\[tcp/443\]' 'oseq: 4294968296' 'seq: 777' 'initiate: 4' 'respond: 9' \
	'role: responder' 'vpn_id: sg1/17' 'epoch: 3' 'version: 42' 'ike_version: 2'; do
	grep -Eq "^ *(- )?$want\$" <<<"$out" || fail "inspect does not show '$want': $out"
done
echo "ok: inspect shows addresses, algorithm names, SPIs, selectors and counters"
no_keys inspect "$out"
json=$(timeout 30 "$bin" inspect --json - <"$dir/ctx") || fail "inspect --json exited $?"
no_keys "inspect --json" "$json"
python3 -c '
import json, sys
d = json.load(sys.stdin)
ike = d["ike_sa"]; esp = ike["child_sas"]
assert (d["kind"], d["vpn_id"], d["epoch"], d["version"]) == ("upsert", "sg1/17", 3, 42), d
assert (ike["local"], ike["spi_i"], ike["role"]) == ("192.0.2.1[4500]", "1122334455667788", "responder"), ike
assert ike["algorithms"] == {"encryption": "AES_GCM_16-256", "prf": "PRF_HMAC_SHA2_256", "dh_group": "CURVE_25519"}
assert ike["message_ids"] == {"initiate": 4, "respond": 9}
assert (esp[0]["spi_in"], esp[0]["algorithms"]["esn"], esp[0]["replay_out"]["oseq"]) == ("0xc1a2b3c4", True, 4294968296)
assert (esp[1]["local_ts"], esp[1]["algorithms"]["integrity"]) == (["2001:db8:1::/48"], "HMAC_SHA2_256_128")
' <<<"$json" || fail "inspect --json: $json"
echo "ok: inspect --json parses and has the fields"
expect 1 "truncated or not an elastic envelope" inspect --json "$0"

# list and sync-status as the plugin and elastic-syncd write them, and as JSON.
cat >"$dir/list" <<'LIST'
rw: ike-id 3, vpn sg1/17, epoch 1, version 5, active, spi_i 1122334455667788 spi_r 99aabbccddeeff00, message ids initiate 4 respond 9
  net: spi_in c1a2b3c4 spi_out d1e2f3a4, oseq 1000, seq 777, packets in 5 out 6
rw6: ike-id 4, vpn sg2/3, epoch 2, version 1, passive, spi_i 0000000000000001 spi_r 0000000000000002, message ids initiate 0 respond 1
LIST
fake_server list "$dir/list.sock" "$dir/list"
expect 0 "^rw: ike-id 3" --socket "$dir/list.sock" list
json=$(timeout 30 "$bin" --socket "$dir/list.sock" list --json) || fail "list --json exited $?"
python3 -c '
import json, sys
v = json.load(sys.stdin)["vpns"]
assert [x["name"] for x in v] == ["rw", "rw6"], v
assert (v[0]["ike_id"], v[0]["vpn"], v[0]["role"], v[0]["epoch"], v[0]["version"]) == (3, "sg1/17", "active", 1, 5)
assert (v[0]["spi_i"], v[0]["message_ids"]) == ("1122334455667788", {"initiate": 4, "respond": 9})
c = v[0]["child_sas"]
assert c == [{"name": "net", "spi_in": "0xc1a2b3c4", "spi_out": "0xd1e2f3a4", "oseq": 1000, "seq": 777,
              "packets": {"in": 5, "out": 6}}], c
assert (v[1]["role"], v[1]["child_sas"]) == ("passive", [])
' <<<"$json" || fail "list --json: $json"
echo "ok: list --json parses and has the fields"
printf '%s\n' 'node sg1' 'contexts 2' 'digest 0a1b' 'membership epoch 3 live sg1,sg2' \
	'placement replicas 1 live sg1=100,sg2=50' 'peer sg2 connected pending 0 unacked 1 resyncs 2' >"$dir/status"
fake_server status "$dir/status.sock" "$dir/status"
expect 0 "^peer sg2 connected" sync-status --syncd-socket "$dir/status.sock"
json=$(timeout 30 "$bin" sync-status --json --syncd-socket "$dir/status.sock") || fail "sync-status --json exited $?"
python3 -c '
import json, sys
d = json.load(sys.stdin)
assert (d["node"], d["contexts"], d["digest"]) == ("sg1", 2, "0a1b"), d
assert d["membership"] == {"epoch": 3, "live": ["sg1", "sg2"]}, d
assert d["placement"] == {"replicas": 1, "live": {"sg1": 100, "sg2": 50}}, d
assert d["peers"] == [{"name": "sg2", "connected": True, "pending": 0, "unacked": 1, "resyncs": 2}], d
' <<<"$json" || fail "sync-status --json: $json"
echo "ok: sync-status --json parses and has the fields"

# The bash completion offers each command exactly the options elasticctl accepts for it (every
# option --help names, tried on every command against sockets that do not exist).
completion=$(cd "$(dirname "$0")/../../plugins/elastic" && pwd)/elasticctl.bash-completion
complete_words() { # complete_words WORD...: what the completion offers for the last word
	bash -c 'source "$0"; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _elasticctl; printf "%s\n" "${COMPREPLY[@]}"' \
		"$completion" elasticctl "$@" 2>&1
}
options=$("$bin" --help | grep -o -- '--[a-z][a-z-]*' | grep -Ev -- '^--(help|version)$' | sort -u)
commands=$(complete_words "" | grep -v -- '^-')
[ "$(wc -w <<<"$commands")" -eq 16 ] || fail "the completion offers $(wc -w <<<"$commands") commands: $commands"
for cmd in $commands; do
	accepted=$(for opt in $options; do
		args=("$cmd" "$opt" "$dir/none.sock") # nothing is reached: no charon, no syncd
		[ "$opt" = --socket ] || args+=(--socket "$dir/none.sock")
		[ "$opt" = --syncd-socket ] || ! grep -qx -- --syncd-socket <<<"$(complete_words "$cmd" --sy)" ||
			args+=(--syncd-socket "$dir/none.sock")
		said=$(timeout 10 "$bin" "${args[@]}" 2>&1 </dev/null)
		grep -Eq "does not take $opt|cannot run on another member" <<<"$said" || echo "$opt"
	done)
	offered=$(complete_words "$cmd" -- | sort -u)
	[ "$offered" = "$accepted" ] || fail "completion of '$cmd' offers $(echo $offered), elasticctl takes $(echo $accepted)"
done
echo "ok: the bash completion offers each command's options"
echo "all elasticctl CLI checks passed"
