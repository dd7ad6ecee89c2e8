#!/bin/bash
# fetch-kernel.sh DIR [ARCH]: prepares what internal/vmtest needs to boot QEMU guests.
#
# Installs the host tools when missing (qemu-system-x86_64 and -aarch64, cpio, mkfs.ext4, mkfs.vfat,
# mcopy, depmod, xz) and, through fetch-wifi-tools.sh, the WiFi lab's programs, then
# downloads the Debian kernel that linux-image-ARCH points to (ARCH amd64, the default, or
# arm64), unpacks it into DIR/root, runs depmod, and writes DIR/kver and DIR/vmlinuz. For
# amd64 also DIR/vmlinux: the kernel decompressed, which QEMU boots through its PVH entry
# point about 3 s faster than the bzImage under TCG (no decompression in the guest); arm64's
# vmlinuz is an uncompressed Image already. For arm64 the WiFi lab's programs are Debian's
# arm64 builds, in DIR/tools (fetch-wifi-tools.sh arm64 DIR/tools).
# Idempotent: when DIR is complete and the tools exist, it returns at once.
# Needs root (apt-get install, dpkg --add-architecture arm64) unless everything is already
# present.
set -eu

DIR=${1:-${PIGW_VM_KERNEL_DIR:-/var/cache/pigw-vm}}
ARCH=${2:-amd64}
case $ARCH in
amd64 | arm64) ;;
*)
	echo "fetch-kernel: architecture $ARCH: want amd64 or arm64" >&2
	exit 2
	;;
esac

apt_updated=
apt_update() {
	if [ -z "$apt_updated" ]; then
		echo "fetch-kernel: apt-get update" >&2
		apt-get update -qq
		apt_updated=1
	fi
}

# Host tools: command -> Debian package.
missing=
for pair in qemu-system-x86_64:qemu-system-x86 qemu-system-aarch64:qemu-system-arm cpio:cpio mkfs.ext4:e2fsprogs \
	mkfs.vfat:dosfstools mcopy:mtools depmod:kmod xz:xz-utils; do
	cmd=${pair%%:*}
	pkg=${pair#*:}
	if ! command -v "$cmd" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$cmd" ] && [ ! -x "/sbin/$cmd" ]; then
		missing="$missing $pkg"
	fi
done
if [ -n "$missing" ]; then
	echo "fetch-kernel: installing$missing" >&2
	apt_update
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# The WiFi lab's programs (hostapd, dnsmasq, wpa_supplicant, iw, ip, busybox).
if [ "$ARCH" = arm64 ]; then
	bash "$(dirname "$0")/fetch-wifi-tools.sh" arm64 "$DIR/tools"
else
	bash "$(dirname "$0")/fetch-wifi-tools.sh"
fi

PATH=$PATH:/usr/sbin:/sbin
export LC_ALL=C

# vmlinux: the ELF inside the (xz-compressed) bzImage, found by its xz magic.
extract_vmlinux() {
	[ "$ARCH" = amd64 ] || return 0
	[ -s "$DIR/vmlinux" ] && return 0
	local off
	for off in $(grep -abo $'\xfd7zXZ\x00' "$DIR/vmlinuz" | cut -d: -f1); do
		# xz complains about the bytes after the stream: judge by the result.
		tail -c +$((off + 1)) "$DIR/vmlinuz" | xz -dcq >"$DIR/vmlinux.tmp" 2>/dev/null || true
		if [ "$(head -c 4 "$DIR/vmlinux.tmp")" = $'\x7fELF' ]; then
			mv "$DIR/vmlinux.tmp" "$DIR/vmlinux"
			return 0
		fi
	done
	rm -f "$DIR/vmlinux.tmp"
	echo "fetch-kernel: no xz-compressed ELF in $DIR/vmlinuz; the tests will boot the bzImage (slower)" >&2
}

# Already complete?
if [ -s "$DIR/kver" ]; then
	kver=$(cat "$DIR/kver")
	if [ -s "$DIR/vmlinuz" ] && [ -s "$DIR/root/lib/modules/$kver/modules.dep" ]; then
		extract_vmlinux
		exit 0
	fi
fi

# The kernel package linux-image-ARCH depends on, e.g. linux-image-6.1.0-56-amd64.
if [ "$ARCH" != amd64 ] && ! dpkg --print-foreign-architectures | grep -qx "$ARCH"; then
	echo "fetch-kernel: dpkg --add-architecture $ARCH" >&2
	dpkg --add-architecture "$ARCH"
	apt_update
fi
kpkg() {
	apt-cache depends "linux-image-$ARCH:$ARCH" 2>/dev/null |
		sed -n "s/^ *Depends: \(linux-image-[0-9].*-$ARCH\)\(:$ARCH\)\{0,1\}\$/\1/p" | head -n 1
}
pkg=$(kpkg)
if [ -z "$pkg" ]; then
	apt_update
	pkg=$(kpkg)
fi
if [ -z "$pkg" ]; then
	echo "fetch-kernel: cannot resolve linux-image-$ARCH with apt-cache" >&2
	exit 1
fi
kver=${pkg#linux-image-}

mkdir -p "$DIR"
tmp=$(mktemp -d "$DIR/.fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

echo "fetch-kernel: downloading $pkg" >&2
if ! (cd "$tmp" && apt-get download -qq "$pkg:$ARCH" >/dev/null 2>&1); then
	# Stale package lists point at a version the mirror no longer has.
	apt_update
	pkg=$(kpkg)
	kver=${pkg#linux-image-}
	(cd "$tmp" && apt-get download -qq "$pkg:$ARCH" >/dev/null)
fi

mkdir "$tmp/root"
dpkg-deb -x "$tmp"/"$pkg"_*.deb "$tmp/root"
if [ ! -f "$tmp/root/boot/vmlinuz-$kver" ] || [ ! -d "$tmp/root/lib/modules/$kver" ]; then
	echo "fetch-kernel: $pkg has no boot/vmlinuz-$kver or lib/modules/$kver" >&2
	exit 1
fi
depmod -b "$tmp/root" "$kver"

# Swap into place; kver is written last, so its presence marks a complete DIR.
rm -rf "$DIR/root" "$DIR/vmlinuz" "$DIR/vmlinux" "$DIR/kver"
mv "$tmp/root" "$DIR/root"
cp "$DIR/root/boot/vmlinuz-$kver" "$DIR/vmlinuz"
extract_vmlinux
printf '%s\n' "$kver" >"$DIR/kver.tmp"
mv "$DIR/kver.tmp" "$DIR/kver"
echo "fetch-kernel: kernel $kver ready in $DIR" >&2
