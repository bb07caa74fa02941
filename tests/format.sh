#!/usr/bin/env bash
# clang-format check of the C++ sources (the strongSwan-style C layer is excluded, see .clang-format).
#   tests/format.sh [--fix]
set -euo pipefail
cd "$(dirname "$0")/.."
files=$(git ls-files '*.cpp' '*.hpp' 'common/*.h' 'proto/*.h' 'kernel/*.h' 'daemons/*.h')
if [ "${1:-}" = --fix ]; then
	clang-format -i $files
	exit 0
fi
bad=$(for f in $files; do clang-format "$f" | cmp -s - "$f" || echo "$f"; done)
[ -z "$bad" ] || { echo "not clang-formatted (run tests/format.sh --fix):"; echo "$bad"; exit 1; }
echo "ok: $(echo "$files" | wc -w) C++ files are clang-formatted"
