# Fetches strongSwan's source from Debian's source packages and builds it into a cached prefix.
# The configured source tree is kept next to the prefix: the plugin builds against it.

swan_ready() { [ -f "$SWAN_PREFIX/.complete" ]; }

swan_fetch() {
	local dl=$ELASTIC_CACHE/src tb="strongswan_$SWAN_VERSION.orig.tar.bz2"
	mkdir -p "$dl"
	[ -s "$dl/$tb" ] && { echo "$dl/$tb"; return; }
	log "strongswan: fetching $tb from Debian's source packages"
	run_quiet "$ELASTIC_CACHE/apt-src-update.log" apt_private update
	# The newest security revision's .dsc may 404; only the orig tarball matters.
	(cd "$dl" && apt_private source --download-only strongswan >"$ELASTIC_CACHE/apt-src.log" 2>&1)
	[ -s "$dl/$tb" ] || die "could not fetch $tb (see $ELASTIC_CACHE/apt-src.log)"
	echo "$dl/$tb"
}

# Copy what 5.9.8 does not install (config.h, libcharon's and libipsec's headers) into the prefix.
swan_export_headers() {
	local src=$1 lib
	mkdir -p "$SWAN_PREFIX/include/strongswan-private"
	cp "$src/config.h" "$SWAN_PREFIX/include/strongswan-private/config.h"
	for lib in libcharon libipsec; do
		(cd "$src/src/$lib" && find . -name '*.h' -print0 |
			cpio -0 -pdm --quiet "$SWAN_PREFIX/include/strongswan-private/$lib")
	done
}

swan_build() {
	swan_ready && return 0
	local tarball src
	tarball=$(swan_fetch)
	src=$SWAN_PREFIX/src
	rm -rf "$SWAN_PREFIX" && mkdir -p "$SWAN_PREFIX"
	log "strongswan: unpacking and configuring (~2 min)"
	tar -xjf "$tarball" -C "$SWAN_PREFIX" && mv "$SWAN_PREFIX/strongswan-$SWAN_VERSION" "$src"
	# shellcheck disable=SC2086
	(cd "$src" && run_quiet "$SWAN_PREFIX/configure.log" ./configure --prefix="$SWAN_PREFIX" \
		--sysconfdir="$SWAN_PREFIX/etc" --with-piddir="$SWAN_PREFIX/var/run" $SWAN_FLAGS)
	log "strongswan: building (~5 min on 2 cores)"
	run_quiet "$SWAN_PREFIX/make.log" make -C "$src" -j"$(nproc)"
	run_quiet "$SWAN_PREFIX/install.log" make -C "$src" install
	mkdir -p "$SWAN_PREFIX/var/run"
	swan_export_headers "$src"
	touch "$SWAN_PREFIX/.complete"
	log "strongswan: installed in $SWAN_PREFIX"
}
