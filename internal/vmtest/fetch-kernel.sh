#!/bin/bash
# fetch-kernel.sh DIR: prepares what internal/vmtest needs to boot QEMU guests.
#
# Installs the host tools when missing (qemu-system-x86_64 and -aarch64, cpio, mkfs.ext4, mkfs.vfat,
# mcopy, depmod, xz) and, through fetch-wifi-tools.sh, the WiFi lab's programs, then
# downloads the Debian amd64 kernel that linux-image-amd64 points to, unpacks it into
# DIR/root, runs depmod, and writes DIR/kver and DIR/vmlinuz, and DIR/vmlinux: the kernel
# decompressed, which QEMU boots through its PVH entry point about 3 s faster
# than the bzImage under TCG (no decompression in the guest).
# Idempotent: when DIR is complete and the tools exist, it returns at once.
# Needs root (apt-get install) unless everything is already present.
set -eu

DIR=${1:-${PIGW_VM_KERNEL_DIR:-/var/cache/pigw-vm}}

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
bash "$(dirname "$0")/fetch-wifi-tools.sh"

PATH=$PATH:/usr/sbin:/sbin
export LC_ALL=C

# vmlinux: the ELF inside the (xz-compressed) bzImage, found by its xz magic.
extract_vmlinux() {
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

# The kernel package linux-image-amd64 depends on, e.g. linux-image-6.1.0-56-amd64.
kpkg() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -n 1
}
pkg=$(kpkg)
if [ -z "$pkg" ]; then
	apt_update
	pkg=$(kpkg)
fi
if [ -z "$pkg" ]; then
	echo "fetch-kernel: cannot resolve linux-image-amd64 with apt-cache" >&2
	exit 1
fi
kver=${pkg#linux-image-}

mkdir -p "$DIR"
tmp=$(mktemp -d "$DIR/.fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

echo "fetch-kernel: downloading $pkg" >&2
if ! (cd "$tmp" && apt-get download -qq "$pkg" >/dev/null 2>&1); then
	# Stale package lists point at a version the mirror no longer has.
	apt_update
	pkg=$(kpkg)
	kver=${pkg#linux-image-}
	(cd "$tmp" && apt-get download -qq "$pkg" >/dev/null)
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
