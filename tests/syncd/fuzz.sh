#!/usr/bin/env bash
# Runs the frame/envelope fuzzer for a bounded number of inputs from a seed corpus of valid frames.
# ELASTIC_FUZZ_RUNS sets the count (default 500000); a crash leaves its input in the work dir.
set -euo pipefail
fuzzer=$1
work=$(mktemp -d /tmp/frame-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus"
# Seeds: a Hello, an Ack, a Data frame with a small envelope, a Status request.
printf '\000\000\000\004\001sg2' >"$work/corpus/hello"
printf '\000\000\000\011\003\000\000\000\000\000\000\000\007' >"$work/corpus/ack"
printf '\000\000\000\001\004' >"$work/corpus/status"
printf '\000\000\000\027\002\000\000\000\000\000\000\000\001\010\001\022\003sg1\030\001\040\001\050\003\062\001v' >"$work/corpus/data"
cd "$work"
"$fuzzer" -runs="${ELASTIC_FUZZ_RUNS:-500000}" -max_len=4096 -timeout=10 -print_final_stats=1 corpus 2>&1 | tail -n 12
