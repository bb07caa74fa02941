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

# vm_overlay_root SCRIPT: run SCRIPT again (with VM_OVERLAY=inside) chrooted into a writable
# overlay of the VM's root, so that it can install packages without touching the host's files;
# the repo and the build tree are shown inside too. Does not return.
vm_overlay_root() {
	local root=/tmp/overlay-root d
	"$(cat /proc/sys/kernel/modprobe)" overlay
	mkdir -p /tmp/overlay/upper /tmp/overlay/work "$root"
	mount -t overlay overlay -o lowerdir=/,upperdir=/tmp/overlay/upper,workdir=/tmp/overlay/work "$root"
	for d in proc sys dev; do mount --rbind "/$d" "$root/$d"; done
	for d in run tmp; do mount -t tmpfs tmpfs "$root/$d"; done
	mount --rbind "$ELASTIC_REPO" "$root$ELASTIC_REPO"
	case "$ELASTIC_BUILD/" in "$ELASTIC_REPO"/*) ;; *) mount --rbind "$ELASTIC_BUILD" "$root$ELASTIC_BUILD" ;; esac
	exec chroot "$root" env VM_OVERLAY=inside "$(realpath "$1")"
}

# The Debian packages built by ./tests/run (not the debug symbols).
vm_debs() { find "$ELASTIC_BUILD/deb" -maxdepth 1 -name '*.deb' ! -name '*-dbgsym_*' | sort; }

[ "${ELASTIC_IN_VM:-}" = 1 ] || fail "this test runs inside the test VM: testbed/vm/run -- $0"
