#!/bin/bash
# fetch-wifi-tools.sh: installs the host programs the WiFi lab (wifilab.go) copies into its
# guests' initramfs, with the libraries ldd lists: hostapd, dnsmasq, wpa_supplicant, iw, ip
# and busybox (udhcpc, udhcpd and a shell for the station side of the lab's own test), and
# qemu-aarch64-static (qemu-user-static), which runs the image's arm64 wpa_supplicant there.
# fetch-kernel.sh calls it. Idempotent: returns at once when every program is there.
# Needs root (apt-get install) unless everything is already present.
set -eu

# Program -> Debian package.
missing=
for pair in hostapd:hostapd dnsmasq:dnsmasq-base wpa_supplicant:wpasupplicant iw:iw \
	ip:iproute2 busybox:busybox qemu-aarch64-static:qemu-user-static; do
	cmd=${pair%%:*}
	pkg=${pair#*:}
	if ! command -v "$cmd" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$cmd" ] && [ ! -x "/sbin/$cmd" ]; then
		missing="$missing $pkg"
	fi
done
[ -z "$missing" ] && exit 0

echo "fetch-wifi-tools: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086
if ! apt-get install -y -qq --no-install-recommends $missing >/dev/null 2>&1; then
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
# The hostapd package enables a service that is of no use on a build host.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
	systemctl disable --now hostapd.service >/dev/null 2>&1 || true
fi
