#!/usr/bin/env bash
# The Debian packages in DEB_DIR hold what an operator needs where Debian's strongSwan looks for
# it, depend on the strongSwan they were built against, and are lintian clean (each remaining tag
# overridden with its reason in debian/*.lintian-overrides).
#   contents.sh DEB_DIR
set -euo pipefail
dir=$1
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
pass() { printf 'ok: %s\n' "$*"; }
deb() { ls "$dir"/"$1"_*.deb 2>/dev/null | grep -v dbgsym | head -1; }
[ -n "$(deb strongswan-elastic)" ] || fail "no packages in $dir (./tests/run builds them)"

# has PACKAGE PATH...: each path is in the package.
has() {
	local p=$1 f list; shift
	list=$(dpkg-deb -c "$(deb "$p")" | awk '{ print $6 }' | sed 's#^\./#/#')
	for f in "$@"; do grep -qxF "$f" <<<"$list" || fail "$p lacks $f"; done
	pass "$p has $*"
}
has strongswan-elastic /usr/lib/ipsec/plugins/libstrongswan-elastic.so /usr/sbin/elasticctl \
	/etc/strongswan.d/charon/elastic.conf /usr/share/man/man8/elasticctl.8.gz \
	/usr/share/doc/strongswan-elastic/operations.md /usr/share/doc/strongswan-elastic/examples/swanctl-cluster.conf \
	/usr/share/bash-completion/completions/elasticctl
has elastic-syncd /usr/sbin/elastic-syncd /lib/systemd/system/elastic-syncd.service /etc/strongswan.d/elastic.conf \
	/usr/share/doc/elastic-syncd/syncd.md \
	/usr/share/man/man8/elastic-syncd.8.gz
has elastic-heartbeatd /usr/sbin/elastic-heartbeatd /lib/systemd/system/elastic-heartbeatd.service \
	/usr/share/man/man8/elastic-heartbeatd.8.gz
has elastic-xfrm /usr/sbin/elastic-xfrm /usr/share/man/man8/elastic-xfrm.8.gz

# The plugin is built for the strongSwan release whose headers it was compiled with.
depends=$(dpkg-deb -f "$(deb strongswan-elastic)" Depends)
grep -q 'strongswan-libcharon (>= 5\.9\.8)' <<<"$depends" || fail "no lower bound on strongswan-libcharon: $depends"
grep -q 'strongswan-libcharon (<< 5\.9\.9~)' <<<"$depends" || fail "no upper bound on strongswan-libcharon: $depends"
pass "strongswan-elastic depends on strongswan-libcharon >= 5.9.8, << 5.9.9~"

# The plugin exports only its constructor and needs Debian's libcharon, without an rpath.
x=$(mktemp -d)
trap 'rm -rf "$x"' EXIT
dpkg-deb -x "$(deb strongswan-elastic)" "$x"
so=$x/usr/lib/ipsec/plugins/libstrongswan-elastic.so
exports=$(nm -D --defined-only "$so" | awk '$2 == "T" { print $3 }')
[ "$exports" = elastic_plugin_create ] || fail "the plugin exports more than its constructor: $exports"
dyn=$(readelf -d "$so")
grep -q 'NEEDED.*\[libcharon.so.0\]' <<<"$dyn" || fail "the plugin does not link libcharon.so.0"
if grep -Eq 'RPATH|RUNPATH' <<<"$dyn"; then fail "the plugin has an rpath: $(grep -E 'RPATH|RUNPATH' <<<"$dyn")"; fi
pass "the plugin exports only elastic_plugin_create, links libcharon.so.0, no rpath"

# The configuration files keep every setting commented (as strongSwan's own); the cluster's parses
# with the daemons' reader, which then asks for what only the operator can set.
active=$(grep -Ev '^\s*(#|$)' "$x/etc/strongswan.d/charon/elastic.conf" | grep -Ev '^\s*(\w+ \{|\}|load = yes)\s*$' || true)
[ -z "$active" ] || fail "the plugin's elastic.conf: settings other than load = yes are active: $active"
pass "the plugin's elastic.conf sets only load = yes"
dpkg-deb -x "$(deb elastic-syncd)" "$x"
dpkg-deb -x "$(deb elastic-heartbeatd)" "$x"
for d in syncd heartbeatd; do
	said=$("$x/usr/sbin/elastic-$d" --check --config "$x/etc/strongswan.d/elastic.conf" 2>&1) &&
		fail "elastic-$d --check accepted the unconfigured file"
	grep -q "elastic.conf:[0-9]*: elastic.node: is not set" <<<"$said" || fail "elastic-$d --check said: $said"
done
pass "the packaged elastic.conf parses; both daemons' --check ask for elastic.node first"

out=$(lintian --tag-display-limit 0 -I "$dir"/*.changes 2>&1 | grep -v '^running with root privileges' || true)
[ -z "$out" ] || fail "lintian: $out"
pass "lintian reports nothing (errors, warnings, info) beyond the justified overrides"
