#!/usr/bin/env bash
# Runs the configuration fuzzer (both daemons' loaders behind the strongswan.conf-grammar parser)
# for a bounded number of inputs, seeded with a complete configuration and the grammar's corners.
# ELASTIC_FUZZ_RUNS sets the count (default 500000); a crash leaves its input in the work dir.
set -euo pipefail
fuzzer=$1
work=$(mktemp -d /tmp/config-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus"
cat >"$work/corpus/full" <<'CONF'
elastic {
	node = sg1
	cluster { replicas = 1
		members {
			sg1 { address = 198.51.100.2:7400 }
			sg2 { address = 198.51.100.6:7400
				weight = 2 }
			w1 { address = 198.51.100.254:7400
				witness = yes }
		} }
	syncd {
		socket = /run/elastic/syncd.sock
		queue_limit = 100000
		timeouts { handshake_ms = 5000 }
		tls { ca = /etc/elastic/ca.pem
			cert = /etc/elastic/sg1.pem
			key = /etc/elastic/sg1.key }
	}
	heartbeat {
		port = 7401
		interval = 100ms
		misses = 5
		key = /nonexistent/heartbeat.key
	}
}
CONF
printf 'elastic { node = a }\n' >"$work/corpus/small"
printf 'elastic {\n node = a # comment\n cluster { members { a { address = [2001:db8::1]:7400 } } }\n}\n' >"$work/corpus/v6"
# the grammar's corners: strings with escapes over lines, clearing, includes, refused features
printf 'elastic {\n node = "sg\\"1\\n\\\n x" # c\n k =\n include "a b"\n include x\\ y #\n}\n' >"$work/corpus/strings"
printf 'a : b, c.d { }\nk := v\ne{f{g=1}}h=2\n' >"$work/corpus/refused"
cd "$work"
"$fuzzer" -runs="${ELASTIC_FUZZ_RUNS:-500000}" -max_len=2048 -timeout=10 -print_final_stats=1 corpus 2>&1 | tail -n 12
