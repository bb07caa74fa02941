# Downloads Debian's current generic amd64 kernel and a static busybox (unpacked, never installed
# on the host) and builds the test VM's kernel image and initramfs into the cache.

# The ABI name changes when Debian updates the kernel; resolve it now, fall back to what is cached.
vm_kver() {
	local k
	k=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/.*Depends: linux-image-//p' | head -1)
	if [ -z "$k" ] && [ -f "$ELASTIC_CACHE/vm/current" ]; then k=$(cat "$ELASTIC_CACHE/vm/current"); fi
	[ -n "$k" ] || die "cannot resolve the kernel version (apt-cache depends linux-image-amd64)"
	echo "$k"
}

vm_dir() { echo "$ELASTIC_CACHE/vm/$(vm_kver)"; }

vm_download() {
	local dir=$1 kver=$2
	mkdir -p "$dir/debs"
	(cd "$dir/debs" && apt-get download "linux-image-$kver" busybox-static >"$dir/download.log" 2>&1) ||
		{ run_quiet "$ELASTIC_CACHE/apt-update.log" apt-get update -q &&
			(cd "$dir/debs" && apt-get download "linux-image-$kver" busybox-static >"$dir/download.log" 2>&1); } ||
		die "could not download linux-image-$kver (see $dir/download.log)"
}

# The uncompressed vmlinux boots ~3 s faster than the bzImage (PVH entry, no decompression).
vm_extract_vmlinux() {
	local z=$1 out=$2 off
	off=$(grep -abo $'\xfd7zXZ\x00' "$z" | head -1 | cut -d: -f1)
	if [ -n "$off" ] && tail -c +$((off + 1)) "$z" | xz -dc >"$out" 2>/dev/null; then return; fi
	# xz reports trailing garbage after the payload; keep the image if it is a valid ELF.
	file "$out" 2>/dev/null | grep -q ELF || cp "$z" "$out"
}

vm_build_initramfs() {
	local dir=$1 kver=$2 ird=$dir/initramfs m
	rm -rf "$ird" && mkdir -p "$ird"/{bin,proc,sys,dev,newroot,lib/modules/"$kver"}
	cp "$dir/bb/bin/busybox" "$ird/bin/busybox"
	cp "$ELASTIC_REPO/testbed/vm/init" "$ird/init" && chmod 755 "$ird/init"
	# Modules to mount the 9p shares, with their dependencies, for busybox modprobe.
	local mdir=$dir/root/lib/modules/$kver
	for m in 9p 9pnet_virtio virtio_pci; do
		grep -E "^kernel/[^:]*/$m\.ko:" "$mdir/modules.dep" | tr -d ':' | tr ' ' '\n'
	done | sort -u | while read -r m; do
		[ -n "$m" ] || continue
		mkdir -p "$ird/lib/modules/$kver/$(dirname "$m")"
		cp "$mdir/$m" "$ird/lib/modules/$kver/$m"
	done
	cp "$mdir/modules.dep" "$ird/lib/modules/$kver/"
	(cd "$ird" && find . | cpio -o -H newc --quiet | gzip -1) >"$dir/initramfs.cpio.gz"
}

vm_kernel_setup() {
	local kver dir
	kver=$(vm_kver)
	dir=$ELASTIC_CACHE/vm/$kver
	# The initramfs embeds testbed/vm/init: rebuild it when that script changes.
	if [ -f "$dir/.complete" ]; then
		cmp -s "$ELASTIC_REPO/testbed/vm/init" "$dir/initramfs/init" || vm_build_initramfs "$dir" "$kver"
		return 0
	fi
	log "vm: preparing Debian kernel $kver"
	rm -rf "$dir" && mkdir -p "$dir"
	vm_download "$dir" "$kver"
	dpkg-deb -x "$dir"/debs/linux-image-*.deb "$dir/root"
	dpkg-deb -x "$dir"/debs/busybox-static*.deb "$dir/bb"
	depmod -b "$dir/root" "$kver"
	vm_extract_vmlinux "$dir/root/boot/vmlinuz-$kver" "$dir/vmlinux"
	vm_build_initramfs "$dir" "$kver"
	# The guest's kernel asks this for modules (crypto templates, xfrm_user, veth...).
	printf '#!/bin/sh\nexec /usr/sbin/modprobe -d %s "$@"\n' "$dir/root" >"$dir/modprobe"
	chmod 755 "$dir/modprobe"
	echo "$kver" >"$ELASTIC_CACHE/vm/current"
	touch "$dir/.complete"
	log "vm: kernel $kver ready in $dir"
}
