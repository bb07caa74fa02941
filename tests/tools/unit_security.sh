#!/usr/bin/env bash
# Each systemd unit file given is hardened: `systemd-analyze security --offline` rates it at most
# 4.0 ("OK"). Usage: unit_security.sh UNIT_FILE...   Exit 77 (skip) without systemd-analyze.
set -euo pipefail
max=4.0
[ $# -gt 0 ] || { echo "usage: $0 UNIT_FILE..." >&2; exit 2; }
command -v systemd-analyze >/dev/null || { echo "systemd-analyze not installed"; exit 77; }
# --offline came with systemd 250, --threshold with 250 too.
help=$(systemd-analyze --help 2>&1 || true)
case $help in *--offline*) ;; *) echo "systemd-analyze has no --offline (systemd < 250)"; exit 77 ;; esac
case $help in *--threshold*) ;; *) echo "systemd-analyze has no --threshold (systemd < 250)"; exit 77 ;; esac
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
fail=0
for unit in "$@"; do
	[ -f "$unit" ] || { echo "FAIL: $unit: no such file"; fail=1; continue; }
	name=$(basename "$unit")
	# --threshold is in tenths (40 = 4.0); it makes the exit status non-zero above it.
	rc=0
	out=$(systemd-analyze security --offline=true --threshold=40 --no-pager "$unit" 2>&1) || rc=$?
	score=$(printf '%s\n' "$out" | sed -n 's/^.*Overall exposure level for .*: \([0-9][0-9]*\.[0-9]\).*$/\1/p' | tail -n 1)
	if [ -z "$score" ]; then
		echo "FAIL: $name: no exposure level from systemd-analyze (exit $rc):"
		printf '%s\n' "$out" | tail -n 5
		fail=1
		continue
	fi
	# Compare in tenths too, so that the message never disagrees with the exit status.
	tenths=$((10#${score%.*} * 10 + 10#${score#*.}))
	if [ "$rc" -ne 0 ] || [ "$tenths" -gt 40 ]; then
		echo "FAIL: $name: exposure $score is above $max (systemd-analyze security --offline=true $unit)"
		# What counts against it ("✗", or "-" in the C locale).
		printf '%s\n' "$out" | grep -E '^(✗|-) ' || true
		fail=1
	else
		echo "ok: $name exposure $score"
	fi
done
exit $fail
