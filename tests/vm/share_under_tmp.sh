#!/usr/bin/env bash
# The VM test bed from a tree under /tmp: the guest mounts its own tmpfs on /tmp, which used to
# hide such a share (a clone under /tmp could not run any VM test). Runs on the host: it starts
# the VM itself with a build directory under /tmp and checks that the guest sees its files.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d /tmp/elastic-share.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
token=$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')
echo "$token" >"$tmp/marker"
out=$(ELASTIC_BUILD=$tmp "$repo/testbed/vm/run" --timeout 120 -- sh -c "cat '$tmp/marker' && echo written-by-guest >'$tmp/back'")
grep -q "$token" <<<"$out" || { echo "FAIL: the guest did not see $tmp/marker: $out"; exit 1; }
[ "$(cat "$tmp/back" 2>/dev/null)" = written-by-guest ] || { echo "FAIL: the guest's write to $tmp did not reach the host"; exit 1; }
echo "ok: a share under /tmp is visible and writable in the guest"
