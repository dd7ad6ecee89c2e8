#!/bin/bash
# fetch-wpa-supplicant.sh DIR: Debian's arm64 wpa_supplicant (package wpasupplicant) and
# exactly the shared libraries it loads, unpacked into DIR as an overlay for
# pigw image build --overlay DIR (make image WPA_SUPPLICANT=1):
#
#   DIR/root/usr/sbin/wpa_supplicant            the program (nothing else of the package)
#   DIR/root/lib/aarch64-linux-gnu/...          its DT_NEEDED libraries, recursively, and the
#                                               dynamic loader, with their soname links
#   DIR/root/lib/ld-linux-aarch64.so.1          the loader at the path the program asks for
#   DIR/root/usr/share/doc/PKG/copyright        the licence of each package a file comes from
#
# Debian ships files under /lib, /sbin or /usr/... (usrmerge makes them one tree); the image's
# root has a real /lib and no /usr/lib, so every library goes to /lib/aarch64-linux-gnu, where
# the loader looks first, and the program to /usr/sbin, which PID 1's PATH holds.
#
# The packages come from apt (arm64 is added to dpkg's architectures when missing): first
# wpasupplicant, then, while a library is missing, the dependencies of the packages that gave
# a file. They are kept in DIR/debs: a second run with them there fetches nothing.
# Needs root (dpkg --add-architecture, apt-get) unless DIR/debs is complete.
set -euo pipefail
dir=${1:?usage: fetch-wpa-supplicant.sh DIR}
mkdir -p "$dir/debs"
dir=$(cd "$dir" && pwd)
export LC_ALL=C

if ! command -v readelf >/dev/null; then
	echo "fetch-wpa-supplicant: installing binutils (readelf)"
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends binutils >/dev/null
fi

apt_ready=
apt_arm64() {
	[ -n "$apt_ready" ] && return 0
	if ! dpkg --print-foreign-architectures | grep -qx arm64; then
		echo "fetch-wpa-supplicant: dpkg --add-architecture arm64"
		dpkg --add-architecture arm64
	fi
	apt-get update -qq
	apt_ready=1
}

# summary: what DIR/root holds.
summary() {
	local version
	version=$(dpkg-deb -f "$(ls "$dir/debs/wpasupplicant_"*_arm64.deb | tail -n 1)" Version)
	echo "wpa_supplicant $version (arm64) in $dir/root: $(find "$dir/root/lib" -type f | wc -l) libraries with the loader, $(du -sh --apparent-size "$dir/root" | cut -f1)"
}
# Done already when no .deb (and not this script) is newer than the overlay.
if [ -d "$dir/root" ] && [ -z "$(find "$dir/debs" "$0" -newer "$dir/root" -print -quit)" ]; then
	summary
	exit 0
fi

tmp=$(mktemp -d "$dir/.fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

# unpacked PKG: the package's files in $tmp/pkgs/PKG, fetched first when not in debs/.
unpacked() {
	local p=$1 deb
	[ -d "$tmp/pkgs/$p" ] && return 0
	deb=$(ls "$dir/debs/${p}_"*_arm64.deb 2>/dev/null | tail -n 1 || true)
	if [ -z "$deb" ]; then
		apt_arm64
		(cd "$dir/debs" && apt-get download -qq -o APT::Sandbox::User=root "$p:arm64")
		deb=$(ls "$dir/debs/${p}_"*_arm64.deb | tail -n 1)
	fi
	mkdir -p "$tmp/pkgs/$p"
	dpkg-deb -x "$deb" "$tmp/pkgs/$p"
	{ dpkg-deb -f "$deb" Pre-Depends && echo , && dpkg-deb -f "$deb" Depends; } >"$tmp/pkgs/$p.deps"
}

# inpkg PKG PATH: PATH (absolute, may be a symlink chain) resolved inside the package's tree,
# which is usrmerged for the purpose (/lib, /sbin and /bin are /usr/lib, /usr/sbin, /usr/bin):
# prints the path relative to the tree, or nothing.
inpkg() {
	local root=$tmp/pkgs/$1 p=$2 n t
	local found c
	for n in 1 2 3 4 5 6 7 8; do
		found=
		for c in "$p" "/usr$p" "${p#/usr}"; do
			if [ -e "$root$c" ] || [ -L "$root$c" ]; then found=$c && break; fi
		done
		[ -z "$found" ] && return 0
		if [ ! -L "$root$found" ]; then
			echo "${found#/}"
			return 0
		fi
		t=$(readlink "$root$found")
		case $t in
		/*) p=$t ;;
		*) p=$(dirname "$found")/$t ;;
		esac
		p=$(realpath -m -s "$p")
	done
}

# find_lib NAME: "PKG PATH" of the first package that has NAME in a directory the aarch64
# loader searches.
find_lib() {
	local p d f
	for p in "${pkgs[@]}"; do
		for d in /lib/aarch64-linux-gnu /usr/lib/aarch64-linux-gnu /lib /usr/lib; do
			f=$(inpkg "$p" "$d/$1")
			if [ -n "$f" ]; then
				echo "$p $f"
				return 0
			fi
		done
	done
}

# closure: from the program, every DT_NEEDED library, recursively, and the loader. Fills
# files (PKG:PATH of real files), names (soname or loader path -> PKG:PATH) and missing.
closure() {
	files=() missing=() interp=
	declare -gA names=()
	local bin queue=() f lib hit
	bin=$(inpkg wpasupplicant /usr/sbin/wpa_supplicant)
	[ -n "$bin" ] || { echo "fetch-wpa-supplicant: wpasupplicant has no wpa_supplicant under /sbin or /usr/sbin" >&2; exit 1; }
	interp=$(readelf -lW "$tmp/pkgs/wpasupplicant/$bin" | sed -n 's/.*Requesting program interpreter: \(.*\)]$/\1/p')
	case $interp in
	/*) ;;
	*) echo "fetch-wpa-supplicant: $bin asks for no dynamic loader (${interp:-none})" >&2; exit 1 ;;
	esac
	files=("wpasupplicant:$bin")
	queue=("wpasupplicant:$bin")
	for p in "${pkgs[@]}"; do
		f=$(inpkg "$p" "$interp")
		if [ -n "$f" ]; then names[$interp]="$p:$f" && files+=("$p:$f") && break; fi
	done
	[ -n "${names[$interp]:-}" ] || missing+=("$interp")
	while ((${#queue[@]})); do
		f=${queue[0]}
		queue=("${queue[@]:1}")
		for lib in $(readelf -dW "$tmp/pkgs/${f%%:*}/${f#*:}" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p'); do
			[ -n "${names[$lib]:-}" ] && continue
			hit=$(find_lib "$lib")
			if [ -z "$hit" ]; then
				[[ " ${missing[*]} " == *" $lib "* ]] || missing+=("$lib")
				continue
			fi
			names[$lib]="${hit%% *}:${hit#* }"
			if [[ " ${files[*]} " != *" ${names[$lib]} "* ]]; then
				files+=("${names[$lib]}")
				queue+=("${names[$lib]}")
			fi
		done
	done
}

# Packages: wpasupplicant, then the library dependencies (first alternatives) of each package
# a file came from, until nothing is missing.
pkgs=(wpasupplicant)
while :; do
	for p in "${pkgs[@]}"; do unpacked "$p"; done
	closure
	((${#missing[@]})) || break
	more=()
	for f in "${files[@]}"; do
		for d in $(tr ',' '\n' <"$tmp/pkgs/${f%%:*}.deps" | sed 's/|.*//; s/(.*)//; s/:any//; s/ //g'); do
			[[ $d == *lib* ]] || continue
			[[ " ${pkgs[*]} ${more[*]} " == *" $d "* ]] || more+=("$d")
		done
	done
	if ! ((${#more[@]})); then
		echo "fetch-wpa-supplicant: no package gives ${missing[*]} (searched ${pkgs[*]})" >&2
		exit 1
	fi
	pkgs+=("${more[@]}")
done

# The overlay, written next to the old one and swapped in.
out=$tmp/overlay/root
mkdir -p "$out/usr/sbin" "$out/lib/aarch64-linux-gnu"
install -m 0755 "$tmp/pkgs/wpasupplicant/${files[0]#*:}" "$out/usr/sbin/wpa_supplicant"
used=(wpasupplicant)
for f in "${files[@]:1}"; do
	p=${f%%:*}
	src=$tmp/pkgs/$p/${f#*:}
	install -m "$(stat -c %a "$src")" "$src" "$out/lib/aarch64-linux-gnu/$(basename "$src")"
	[[ " ${used[*]} " == *" $p "* ]] || used+=("$p")
done
# Sonames and the loader path that are links to another name get the link.
for n in "${!names[@]}"; do
	real=$(basename "${names[$n]#*:}")
	case $n in
	/*) link=$out$n ;;
	*) link=$out/lib/aarch64-linux-gnu/$n ;;
	esac
	[ -e "$link" ] && continue
	mkdir -p "$(dirname "$link")"
	ln -s "$(realpath -m --relative-to="$(dirname "$link")" "$out/lib/aarch64-linux-gnu/$real")" "$link"
done
for p in "${used[@]}"; do
	install -D -m 0644 "$tmp/pkgs/$p/usr/share/doc/$p/copyright" "$out/usr/share/doc/$p/copyright"
done
rm -rf "$dir/root"
mv "$out" "$dir/root"
touch "$dir/root"
summary
echo "  from the packages ${used[*]}:"
(cd "$dir/root" && find . ! -type d -printf '%P\t%l\n' | sort | awk -F'\t' '{ print "  /" $1 ($2 != "" ? " -> " $2 : "") }')
