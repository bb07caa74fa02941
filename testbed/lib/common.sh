# Shared shell helpers for testbed/ and tests/ scripts (sourced, not run).
# Paths: the repo, the build tree and a cache outside the repo that survives `git clean`.

ELASTIC_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ELASTIC_CACHE=${ELASTIC_CACHE:-/var/cache/elastic-ipsec}
ELASTIC_BUILD=${ELASTIC_BUILD:-$ELASTIC_REPO/build}

# strongSwan version and configure flags; the cached prefix is keyed by both.
SWAN_VERSION=5.9.8
SWAN_FLAGS="--with-dev-headers=yes --enable-kernel-libipsec --enable-openssl --enable-ctr \
--enable-gcm --enable-aes --enable-curve25519 --enable-swanctl --enable-vici --disable-stroke \
--enable-ha --enable-load-tester --with-systemdsystemunitdir=no"
SWAN_KEY=$(printf '%s %s' "$SWAN_VERSION" "$SWAN_FLAGS" | sha256sum | cut -c1-12)
SWAN_PREFIX=${SWAN_PREFIX:-$ELASTIC_CACHE/strongswan-$SWAN_VERSION-$SWAN_KEY}

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# run_quiet LOGFILE CMD...: run CMD with output to LOGFILE; on failure show its tail.
run_quiet() {
	local logf=$1; shift
	if ! "$@" >"$logf" 2>&1; then
		tail -n 40 "$logf" >&2
		die "'$*' failed (full log: $logf)"
	fi
}
