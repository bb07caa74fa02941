# Installs the Debian packages the build, the tests and the VM need, only if missing.

ELASTIC_APT_PACKAGES="build-essential pkg-config cmake clang clang-format libclang-rt-14-dev \
libssl-dev libgmp-dev bison flex gperf libprotobuf-dev protobuf-compiler libnl-3-dev \
libnl-xfrm-3-dev libnl-route-3-dev libboost-dev libboost-system-dev libgtest-dev libgmock-dev \
openssl python3 \
libsystemd-dev qemu-system-x86 iproute2 iputils-ping kmod cpio xz-utils bzip2 tcpdump nftables \
python3-matplotlib python3-numpy keepalived"

apt_ensure() {
	local missing=() p
	for p in $ELASTIC_APT_PACKAGES "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	log "apt: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	run_quiet "$ELASTIC_CACHE/apt-update.log" apt-get update -q
	run_quiet "$ELASTIC_CACHE/apt-install.log" apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# apt_private ARGS...: apt-get with a private source list (deb-src) and private package lists, so
# the machine's own apt sources and state stay exactly as they were.
apt_private() {
	local d=$ELASTIC_CACHE/apt
	mkdir -p "$d/lists/partial" "$d/parts"
	if [ ! -s "$d/sources.list" ]; then
		cat >"$d/sources.list" <<-'SRC'
		deb-src http://deb.debian.org/debian bookworm main
		deb-src http://deb.debian.org/debian bookworm-updates main
		deb-src http://deb.debian.org/debian-security bookworm-security main
		SRC
	fi
	apt-get -o Dir::Etc::SourceList="$d/sources.list" -o Dir::Etc::SourceParts="$d/parts" \
		-o Dir::State::Lists="$d/lists" -o APT::Get::List-Cleanup=0 "$@"
}
