# Assertions for the shell integration tests: each prints what it checked, and a failure exits 1.
. "$(dirname "${BASH_SOURCE[0]}")/../../testbed/lib/common.sh"
. "$ELASTIC_REPO/testbed/lib/netns.sh"

fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
pass() { printf 'ok: %s\n' "$*"; }

# expect_ge WHAT ACTUAL MIN
expect_ge() {
	[ -n "$2" ] && [ "$2" -ge "$3" ] 2>/dev/null || fail "$1: expected >= $3, got '${2}'"
	pass "$1 = $2 (>= $3)"
}

# expect_eq WHAT ACTUAL EXPECTED
expect_eq() {
	[ "$2" = "$3" ] || fail "$1: expected '$3', got '$2'"
	pass "$1 = $2"
}

# expect_match WHAT TEXT REGEX
expect_match() {
	printf '%s' "$2" | grep -Eq -- "$3" || fail "$1: no match for /$3/ in: $2"
	pass "$1 matches /$3/"
}

[ "${ELASTIC_IN_VM:-}" = 1 ] || fail "this test runs inside the test VM: testbed/vm/run -- $0"
