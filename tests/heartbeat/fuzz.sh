#!/usr/bin/env bash
# Runs the heartbeat packet fuzzer for a bounded number of inputs from a seed corpus.
# ELASTIC_FUZZ_RUNS sets the count (default 500000); a crash leaves its input in the work dir.
set -euo pipefail
fuzzer=$1
work=$(mktemp -d /tmp/heartbeat-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus"
# Seeds: a heartbeat body without entries, one with two entries (tags do not matter: the target
# also appends a valid one).
printf 'EHB1\003sg2\000\000\000\000\000\000\000\001\000\000\000\000\000\000\000\007\000\000\000\000\000\000\000\011\000\000\000\000\000\000\000\002\000\000' >"$work/corpus/empty"
printf 'EHB1\003sg2\000\000\000\000\000\000\000\001\000\000\000\000\000\000\000\007\000\000\000\000\000\000\000\011\000\000\000\000\000\000\000\002\000\002\003sg1\000\000\000\000\000\000\000\052\000\000\000\000\000\000\000\005\000\000\000\001\001\002w1\000\000\000\000\000\000\000\053\000\000\000\000\000\000\000\006\000\000\000\000\000' >"$work/corpus/entries"
cd "$work"
"$fuzzer" -runs="${ELASTIC_FUZZ_RUNS:-500000}" -max_len=2048 -timeout=10 -print_final_stats=1 corpus 2>&1 | tail -n 12
