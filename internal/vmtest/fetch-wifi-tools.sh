#!/bin/bash
# fetch-wifi-tools.sh: installs the host programs the WiFi lab (wifilab.go) copies into its
# guests' initramfs, with the libraries ldd lists: hostapd, dnsmasq, wpa_supplicant, iw, ip
# and busybox (udhcpc, udhcpd and a shell for the station side of the lab's own test).
# fetch-kernel.sh calls it. Idempotent: returns at once when every program is there.
# Needs root (apt-get install) unless everything is already present.
#
# fetch-wifi-tools.sh arm64 DIR: the same programs but wpa_supplicant (the arm64 lab runs the
# image's own) from Debian's arm64 packages, with coap-client-notls for the lab's probe, as
# an arm64 root in DIR/root (image/fetch-arm64-programs.sh); fetch-kernel.sh DIR arm64 calls it.
set -eu

if [ "${1:-}" = arm64 ]; then
	exec bash "$(dirname "$0")/../../image/fetch-arm64-programs.sh" "${2:?usage: fetch-wifi-tools.sh arm64 DIR}" \
		hostapd:hostapd dnsmasq-base:dnsmasq iw:iw iproute2:ip busybox:busybox libcoap3-bin:coap-client-notls
fi

# Program -> Debian package.
missing=
for pair in hostapd:hostapd dnsmasq:dnsmasq-base wpa_supplicant:wpasupplicant iw:iw \
	ip:iproute2 busybox:busybox; do
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
