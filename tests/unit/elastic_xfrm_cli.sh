#!/usr/bin/env bash
# elastic-xfrm's interface on the host (XFRM netlink exists here, ESP does not):
# --help documents every command; bad input gets a clear error and the documented exit code.
set -uo pipefail
bin=$1
fail() { echo "FAIL: $*"; exit 1; }

help=$("$bin" --help) || fail "--help exited non-zero"
for cmd in read set advance watch bulk-read bulk-advance --proto --mark --delta --replay-thresh \
	--time-thresh-ms --oseq --bitmap; do
	grep -q -- "$cmd" <<<"$help" || fail "--help does not document $cmd"
done

expect() { # expect EXIT_CODE MESSAGE_REGEX ARGS...
	local code=$1 re=$2; shift 2
	out=$("$bin" "$@" 2>&1); rc=$?
	[ "$rc" -eq "$code" ] || fail "'$*' exited $rc, expected $code: $out"
	grep -Eq -- "$re" <<<"$out" || fail "'$*' said '$out', expected /$re/"
	echo "ok: elastic-xfrm $* -> $rc: $out" | head -1
}
expect 2 'no command given' 
expect 2 "unknown command 'frobnicate'" frobnicate
expect 2 'unknown option --frob' read 192.0.2.1 1 --frob x
expect 2 'missing DST SPI' read
expect 1 "destination 'nowhere' is not an IPv4 or IPv6 address" read nowhere 0x1
expect 2 'advance needs --delta N' advance 192.0.2.1 0x1
expect 2 "--delta '-5' is not a non-negative number" advance 192.0.2.1 0x1 --delta -5
expect 2 'watch needs SAs' watch
if [ "$(id -u)" -eq 0 ]; then
	expect 1 'read 192.0.2.1 spi 0x0000abcd esp: no such SA' read 192.0.2.1 0xabcd
	printf '192.0.2.1 0x1\n192.0.2.1 0x2 esp\n' | { out=$("$bin" bulk-read - 2>&1); rc=$?
		[ "$rc" -eq 3 ] || fail "bulk-read of missing SAs exited $rc: $out"
		[ "$(grep -c 'no such SA' <<<"$out")" -eq 2 ] || fail "bulk-read did not report each SA: $out"; }
	echo "ok: bulk-read reports each missing SA, exit 3"
fi
printf '192.0.2.1 nonsense\n' | { out=$("$bin" bulk-read - 2>&1); rc=$?
	[ "$rc" -eq 1 ] && grep -q "line 1: SPI 'nonsense'" <<<"$out" || fail "bad bulk line: $rc $out"; }
echo "ok: a bad bulk line is named"
expect 0 '^elastic-xfrm [0-9]+\.[0-9]+' --version

# xfrm-bench flushes XFRM states when done: --help must never be taken for its output file.
bench=$(cd "$(dirname "$bin")" && pwd)/xfrm-bench
cd "$(mktemp -d)" || fail "no scratch directory"
out=$("$bench" --help 2>&1) && grep -q 'scratch namespace' <<<"$out" || fail "xfrm-bench --help: $out"
[ ! -e ./--help ] || fail "xfrm-bench --help wrote a file named --help"
"$bench" --frob >/dev/null 2>&1; [ $? -eq 2 ] || fail "xfrm-bench --frob did not exit 2"
[ -z "$(ls -A)" ] || fail "xfrm-bench wrote files on a usage error: $(ls -A)"
echo "ok: xfrm-bench --help/--version/bad option touch nothing: $("$bench" --version)"
