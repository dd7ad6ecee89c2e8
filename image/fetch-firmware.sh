#!/bin/bash
# fetch-firmware.sh DIR: the Pi's WiFi firmware (Debian's firmware-brcm80211, component
# non-free-firmware) and the regulatory database (wireless-regdb), unpacked into DIR as a
# Debian root (DIR/lib/firmware/brcm/..., DIR/lib/firmware/regulatory.db) for
# pigw image build --firmware-dir DIR. The .deb files are kept in DIR/debs: a second run with
# them there fetches nothing.
set -euo pipefail
dir=${1:?usage: fetch-firmware.sh DIR}
mkdir -p "$dir/debs"
dir=$(cd "$dir" && pwd)
pkgs=(firmware-brcm80211 wireless-regdb)
missing=()
for p in "${pkgs[@]}"; do
	ls "$dir/debs/${p}_"*.deb >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
	# A stock sources list lacks non-free-firmware: add it for this release.
	codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
	src=/etc/apt/sources.list.d/pigw-non-free-firmware.sources
	if ! grep -rqs "non-free-firmware" /etc/apt/sources.list /etc/apt/sources.list.d/; then
		echo "adding $src (Debian $codename non-free-firmware)"
		keyring=/usr/share/keyrings/debian-archive-keyring.gpg
		printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: %s\nComponents: non-free-firmware\n' "$codename" >"$src"
		[ -f "$keyring" ] && echo "Signed-By: $keyring" >>"$src"
	fi
	apt-get update -qq
	(cd "$dir/debs" && apt-get download "${missing[@]}")
fi
for deb in "$dir"/debs/*.deb; do
	dpkg-deb -x "$deb" "$dir"
done
# What pigw image build --firmware-dir takes: say what is there.
ls -d "$dir"/lib/firmware/brcm "$dir"/lib/firmware/regulatory.db*
