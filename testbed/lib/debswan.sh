# Debian's own strongSwan, for building the Debian packages: the plugin must be compiled against
# the tree Debian's charon was built from (its patches, its configure flags: config.h changes
# struct layouts and vtables) and linked against Debian's installed libstrongswan/libcharon.
# Needs testbed/lib/common.sh and apt.sh.

DEBSWAN_DIR=$ELASTIC_CACHE/debian-strongswan

debswan_ready() { [ -f "$DEBSWAN_DIR/.complete" ]; }
debswan_tree() { echo "$DEBSWAN_DIR/strongswan-$SWAN_VERSION"; }

# Source versions of strongswan in Debian's source lists, newest first.
debswan_versions() {
	local d=$ELASTIC_CACHE/apt
	apt-cache -o Dir::Etc::SourceList="$d/sources.list" -o Dir::Etc::SourceParts="$d/parts" \
		-o Dir::State::Lists="$d/lists" showsrc strongswan 2>/dev/null |
		sed -n 's/^Version: //p' | sort -u | sort -r -V
}

# The newest source revision whose Debian tarball can be fetched (the newest security revision's
# files may 404 on the mirror while its binaries are published; patches rarely touch headers).
debswan_fetch() {
	local v
	run_quiet "$ELASTIC_CACHE/apt-src-update.log" apt_private update
	for v in $(debswan_versions); do
		case "$v" in "$SWAN_VERSION"-*) ;; *) continue ;; esac
		(cd "$DEBSWAN_DIR" && apt_private source --download-only "strongswan=$v" \
			>"$DEBSWAN_DIR/fetch-$v.log" 2>&1) || true
		if [ -s "$DEBSWAN_DIR/strongswan_$v.dsc" ] && [ -s "$DEBSWAN_DIR/strongswan_$v.debian.tar.xz" ]; then
			echo "$v"
			return 0
		fi
	done
	die "no strongswan $SWAN_VERSION source revision could be fetched (logs: $DEBSWAN_DIR/fetch-*.log)"
}

# debswan_prepare: unpack with Debian's patches, install its build dependencies and the runtime
# libraries to link against, and run Debian's own configure step (debian/rules, dh defaults).
debswan_prepare() {
	debswan_ready && return 0
	local v tree
	rm -rf "$DEBSWAN_DIR" && mkdir -p "$DEBSWAN_DIR"
	apt_ensure dpkg-dev debhelper fakeroot lintian libstrongswan strongswan-libcharon
	v=$(debswan_fetch)
	tree=$(debswan_tree)
	log "debian strongswan: unpacking $v with Debian's patches"
	(cd "$DEBSWAN_DIR" && run_quiet "$DEBSWAN_DIR/source.log" dpkg-source --no-check -x "strongswan_$v.dsc" "$tree")
	log "debian strongswan: installing its build dependencies"
	DEBIAN_FRONTEND=noninteractive run_quiet "$DEBSWAN_DIR/build-dep.log" \
		apt-get build-dep -y -q --no-install-recommends "$tree"
	log "debian strongswan: configuring as debian/rules does (~2 min)"
	(cd "$tree" && run_quiet "$DEBSWAN_DIR/configure.log" debian/rules override_dh_auto_configure)
	echo "$v" >"$DEBSWAN_DIR/source-version"
	touch "$DEBSWAN_DIR/.complete"
}
