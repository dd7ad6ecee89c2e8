#!/bin/bash
# fetch-arm64-programs.sh DIR PKG:PROGRAM...: programs of Debian's arm64 packages and exactly
# the shared libraries they load, unpacked into DIR as an overlay for
# pigw image build --overlay DIR:
#
#   DIR/root/usr/sbin/PROGRAM, DIR/root/usr/bin/PROGRAM   each program, nothing else of its package
#   DIR/root/lib/aarch64-linux-gnu/...          their DT_NEEDED libraries, recursively, and the
#                                               dynamic loader, with their soname links
#   DIR/root/lib/ld-linux-aarch64.so.1          the loader at the path the programs ask for
#   DIR/root/usr/share/doc/PKG/copyright        the licence of each package a file comes from
#
# make wpa-supplicant runs it as `fetch-arm64-programs.sh DIR wpasupplicant:wpa_supplicant`;
# the arm64 WiFi lab of internal/vmtest takes hostapd and its companions from it.
#
# Debian ships files under /lib, /sbin, /bin or /usr/... (usrmerge makes them one tree); the
# image's root has a real /lib and no /usr/lib, so every library goes to
# /lib/aarch64-linux-gnu, where the loader looks first, and a program found in /sbin or
# /usr/sbin (/bin or /usr/bin) to /usr/sbin (/usr/bin), which PID 1's PATH holds.
#
# The packages come from apt (arm64 is added to dpkg's architectures when missing): first the
# named ones, then, while a library is missing, the dependencies of the packages that gave a
# file. They are kept in DIR/debs: a second run with them there fetches nothing, and with
# DIR/root already made from them does nothing. Needs root (dpkg --add-architecture,
# apt-get) unless DIR/debs is complete.
set -euo pipefail
usage="usage: fetch-arm64-programs.sh DIR PKG:PROGRAM... (such as wpasupplicant:wpa_supplicant)"
dir=${1:?$usage}
shift
(($#)) || { echo "$usage" >&2; exit 2; }
want=("$@")
for w in "${want[@]}"; do
	[[ $w == ?*:?* && $w != */* ]] || { echo "fetch-arm64-programs: $w: want PKG:PROGRAM, such as wpasupplicant:wpa_supplicant" >&2; exit 2; }
done
mkdir -p "$dir/debs"
dir=$(cd "$dir" && pwd)
export LC_ALL=C

# summary: what DIR/root holds.
summary() {
	echo "fetch-arm64-programs: $dir/root: $(cat "$dir/programs") with $(find "$dir/root/lib" -type f | wc -l) libraries (the loader included), $(du -sh --apparent-size "$dir/root" | cut -f1)"
}
# Done already when DIR/root was made for these programs and no .deb (nor this script) is
# newer than it.
if [ -d "$dir/root" ] && [ "$(cat "$dir/programs" 2>/dev/null)" = "${want[*]}" ] &&
	[ -z "$(find "$dir/debs" "$0" -newer "$dir/root" -print -quit)" ]; then
	summary
	exit 0
fi

if ! command -v readelf >/dev/null; then
	echo "fetch-arm64-programs: installing binutils (readelf)"
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends binutils >/dev/null
fi

apt_ready=
apt_arm64() {
	[ -n "$apt_ready" ] && return 0
	if ! dpkg --print-foreign-architectures | grep -qx arm64; then
		echo "fetch-arm64-programs: dpkg --add-architecture arm64"
		dpkg --add-architecture arm64
	fi
	apt-get update -qq
	apt_ready=1
}

tmp=$(mktemp -d "$dir/.fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

deb() { ls "$dir/debs/${1}_"*_arm64.deb 2>/dev/null | tail -n 1 || true; }

# fetch PKG...: downloads the packages that debs/ lacks, in one apt-get call.
fetch() {
	local p get=()
	for p in "$@"; do
		[ -n "$(deb "$p")" ] || get+=("$p:arm64")
	done
	((${#get[@]})) || return 0
	apt_arm64
	(cd "$dir/debs" && apt-get download -qq -o APT::Sandbox::User=root "${get[@]}")
}

# unpacked PKG: the package's files in $tmp/pkgs/PKG.
unpacked() {
	local p=$1 deb
	[ -d "$tmp/pkgs/$p" ] && return 0
	deb=$(deb "$p")
	[ -n "$deb" ] || { echo "fetch-arm64-programs: no $p in $dir/debs" >&2; exit 1; }
	mkdir -p "$tmp/pkgs/$p"
	dpkg-deb -x "$deb" "$tmp/pkgs/$p"
	index "$p"
	{ dpkg-deb -f "$deb" Pre-Depends && echo , && dpkg-deb -f "$deb" Depends; } >"$tmp/pkgs/$p.deps"
}

# inpkg PKG PATH: PATH (absolute, may be a symlink chain) resolved inside the package's tree,
# which is usrmerged for the purpose (/lib, /sbin and /bin are /usr/lib, /usr/sbin, /usr/bin):
# prints the path relative to the tree, or nothing.
inpkg() {
	local root=$tmp/pkgs/$1 p=$2 n t found c
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

# index PKG: notes which package has each name in the directories the aarch64 loader
# searches (the first package named wins).
declare -A libpkg=()
index() {
	local p=$1 d f
	for d in lib/aarch64-linux-gnu usr/lib/aarch64-linux-gnu lib usr/lib; do
		[ -d "$tmp/pkgs/$p/$d" ] || continue
		for f in "$tmp/pkgs/$p/$d"/*; do
			[ -n "${libpkg[${f##*/}]:-}" ] || libpkg[${f##*/}]=$p
		done
	done
}

# find_lib NAME: "PKG PATH" of the package that has NAME where the loader looks.
find_lib() {
	local p=${libpkg[$1]:-} d f
	[ -n "$p" ] || return 0
	for d in /lib/aarch64-linux-gnu /usr/lib/aarch64-linux-gnu /lib /usr/lib; do
		f=$(inpkg "$p" "$d/$1")
		if [ -n "$f" ]; then
			echo "$p $f"
			return 0
		fi
	done
}

# closure: from the programs, every DT_NEEDED library, recursively, and the loaders. Fills
# progs (PKG:PATH of the programs, in want's order), files (PKG:PATH of the libraries' real
# files), names (soname or loader path -> PKG:PATH) and missing.
closure() {
	progs=() files=() missing=()
	declare -gA names=()
	local queue=() w p prog bin f lib hit interp
	for w in "${want[@]}"; do
		p=${w%%:*} prog=${w#*:}
		bin=$(inpkg "$p" "/usr/sbin/$prog")
		[ -n "$bin" ] || bin=$(inpkg "$p" "/usr/bin/$prog")
		[ -n "$bin" ] || { echo "fetch-arm64-programs: package $p has no $prog in /sbin, /usr/sbin, /bin or /usr/bin" >&2; exit 1; }
		progs+=("$p:$bin")
		queue+=("$p:$bin")
		interp=$(readelf -lW "$tmp/pkgs/$p/$bin" | sed -n 's/.*Requesting program interpreter: \(.*\)]$/\1/p')
		case $interp in
		/*) ;;
		*) echo "fetch-arm64-programs: $p's $bin asks for no dynamic loader (${interp:-none})" >&2; exit 1 ;;
		esac
		[ -n "${names[$interp]:-}" ] && continue
		for f in "${pkgs[@]}"; do
			hit=$(inpkg "$f" "$interp")
			if [ -n "$hit" ]; then names[$interp]="$f:$hit" && files+=("$f:$hit") && break; fi
		done
		[ -n "${names[$interp]:-}" ] || [[ " ${missing[*]} " == *" $interp "* ]] || missing+=("$interp")
	done
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

# Packages: the named ones, then the library dependencies (first alternatives) of each
# package a file came from, until nothing is missing.
pkgs=()
for w in "${want[@]}"; do
	[[ " ${pkgs[*]} " == *" ${w%%:*} "* ]] || pkgs+=("${w%%:*}")
done
while :; do
	fetch "${pkgs[@]}"
	for p in "${pkgs[@]}"; do unpacked "$p"; done
	closure
	((${#missing[@]})) || break
	more=()
	for f in "${progs[@]}" "${files[@]}"; do
		for d in $(tr ',' '\n' <"$tmp/pkgs/${f%%:*}.deps" | sed 's/|.*//; s/(.*)//; s/:any//; s/ //g'); do
			[[ $d == *lib* ]] || continue
			[[ " ${pkgs[*]} ${more[*]} " == *" $d "* ]] || more+=("$d")
		done
	done
	if ! ((${#more[@]})); then
		echo "fetch-arm64-programs: no package gives ${missing[*]} (searched ${pkgs[*]})" >&2
		exit 1
	fi
	pkgs+=("${more[@]}")
done

# The overlay, written next to the old one and swapped in.
out=$tmp/overlay/root
mkdir -p "$out/lib/aarch64-linux-gnu"
used=()
for f in "${progs[@]}"; do
	p=${f%%:*} bin=${f#*:}
	case $bin in
	sbin/* | usr/sbin/*) to=usr/sbin ;;
	*) to=usr/bin ;;
	esac
	install -D -m 0755 "$tmp/pkgs/$p/$bin" "$out/$to/$(basename "$bin")"
	[[ " ${used[*]} " == *" $p "* ]] || used+=("$p")
done
for f in "${files[@]}"; do
	p=${f%%:*} src=$tmp/pkgs/${f%%:*}/${f#*:}
	install -m "$(stat -c %a "$src")" "$src" "$out/lib/aarch64-linux-gnu/$(basename "$src")"
	[[ " ${used[*]} " == *" $p "* ]] || used+=("$p")
done
# Sonames and loader paths that are links to another name get the link.
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
echo "${want[*]}" >"$dir/programs"
summary
echo "  from the packages ${used[*]}:"
(cd "$dir/root" && find . ! -type d -printf '%P\t%l\n' | sort | awk -F'\t' '{ print "  /" $1 ($2 != "" ? " -> " $2 : "") }')
