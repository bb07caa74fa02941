# Builds the Debian packages (debian/) from a copy of the repository's files, against Debian's own
# strongSwan (debswan.sh), into $ELASTIC_BUILD/deb; then checks them with lintian. Needs
# common.sh, apt.sh and debswan.sh.

DEBPKG_DIR=$ELASTIC_BUILD/deb

debpkg_version() { dpkg-parsechangelog -l "$ELASTIC_REPO/debian/changelog" -S Version; }

# The packages, one path per line.
debpkg_files() { ls "$DEBPKG_DIR"/*_"$(debpkg_version)"_*.deb; }

# debpkg_build: build unless the packaged files are unchanged since the last build.
debpkg_build() {
	local key src
	debswan_prepare
	# What the package tests use: systemd-analyze, and Debian's charon for the VM test.
	apt_ensure systemd charon-systemd libstrongswan-standard-plugins
	# The tracked files, uncommitted changes and new files (a working tree is built as it is), and
	# the strongswan source revision built against.
	key=$(cd "$ELASTIC_REPO" && {
		git ls-files -s
		git diff
		git ls-files -z --others --exclude-standard | xargs -0 -r sha256sum
		cat "$DEBSWAN_DIR/source-version"
	} | sha256sum | cut -c1-16)
	[ "$(cat "$DEBPKG_DIR/.key" 2>/dev/null)" = "$key" ] && return 0
	rm -rf "$DEBPKG_DIR" && mkdir -p "$DEBPKG_DIR"
	src=$DEBPKG_DIR/elastic-ipsec-$(debpkg_version)
	mkdir -p "$src"
	(cd "$ELASTIC_REPO" && git ls-files -z --cached --others --exclude-standard |
		xargs -0 cp --parents -t "$src")
	log "packages: dpkg-buildpackage in $DEBPKG_DIR (~5 min)"
	(cd "$src" && STRONGSWAN_SOURCE_DIR=$(debswan_tree) run_quiet "$DEBPKG_DIR/build.log" \
		dpkg-buildpackage -b -us -uc -j"$(nproc)")
	echo "$key" >"$DEBPKG_DIR/.key"
	debpkg_files >&2
}
