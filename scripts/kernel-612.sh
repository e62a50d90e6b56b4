#!/bin/bash
# Fetch Debian 13 (trixie)'s 6.12 kernel headers, kbuild and image, without
# touching the system's apt configuration, and print the headers directory.
#
# The archive is taken from this machine's own apt sources (the first
# Debian archive URI in /etc/apt/sources.list or sources.list.d/*). The
# packages are unpacked with dpkg -x into
#   ${FERRY_CACHE:-$HOME/.cache/ferry}/k612-VERSION/
# (usr/src/linux-headers-*, boot/vmlinuz-*, lib/modules/*), once per
# package version. With --root, print that directory instead.
#
# The kbuild package's host tools are built for trixie's glibc; those that
# do not run here are run with trixie's libc6 (see fix_host_tools). The
# headers' config was made by gcc-14, which Debian 12 lacks: build with
# CC=scripts/k612-cc.sh (see there) and CONFIG_DEBUG_INFO_BTF_MODULES=
# (module BTF needs a pahole as new as trixie's), as scripts/build-612.sh
# does.
set -euo pipefail

want_root=0
[ "${1:-}" = --root ] && want_root=1

base=${FERRY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ferry}
apt_dir=$base/k612-apt
mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial"

# The Debian archive URI of this machine's apt sources (run time only).
archive_uri() {
	local f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
		/etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		case $f in
		*.sources)
			awk '/^URIs:/ { for (i = 2; i <= NF; i++) print $i }' "$f"
			;;
		*)
			awk '$1 == "deb" { for (i = 2; i <= NF; i++)
				if ($i ~ /^[a-z+]+:\/\//) { print $i; break } }' "$f"
			;;
		esac
	done | grep -E '/debian/?$' | head -n 1
}

apt_opts=(-o "Dir::Etc::SourceList=$apt_dir/trixie.list"
	-o Dir::Etc::SourceParts=/dev/null
	-o "Dir::State::Lists=$apt_dir/lists"
	-o "Dir::Cache::Archives=$apt_dir/archives"
	-o Debug::NoLocking=1
	-o "APT::Sandbox::User=$(id -un)"
	-o APT::Architecture=amd64)

# The newest downloaded .deb of package $1.
newest_deb() {
	find "$apt_dir/archives" -maxdepth 1 -name "${1}_*.deb" | sort -V | tail -n 1
}

# Refresh the package lists at most once a day.
stamp=$apt_dir/lists/.updated
if [ -z "$(find "$stamp" -mmin -1440 2>/dev/null)" ]; then
	uri=$(archive_uri)
	[ -n "$uri" ] || { echo "kernel-612: no Debian archive in the apt sources" >&2; exit 1; }
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${uri%/} trixie main" \
		>"$apt_dir/trixie.list"
	echo "kernel-612: apt-get update (trixie main)" >&2
	apt-get "${apt_opts[@]}" -qq update >&2
	touch "$stamp"
fi

# The newest 6.12 amd64 image package: linux-image-6.12.N+debX-amd64.
names=$(apt-cache "${apt_opts[@]}" pkgnames linux-headers-6.12 | sort -V)
hdr=$(echo "$names" | grep -E '^linux-headers-6\.12\.[0-9.+a-z]+-amd64$' | tail -n 1)
[ -n "$hdr" ] || { echo "kernel-612: no linux-headers-6.12*-amd64 in trixie" >&2; exit 1; }
abi=${hdr#linux-headers-}
abi=${abi%-amd64}
ver=$(apt-cache "${apt_opts[@]}" show "$hdr" | sed -n 's/^Version: //p' | sort -V | tail -n 1)
root=$base/k612-$ver

if [ ! -f "$root/.extracted" ]; then
	# linux-kbuild-6.12.N+debX (newer) or linux-kbuild-6.12 (older).
	kb=$(apt-cache "${apt_opts[@]}" show "$hdr" | sed -n 's/^Depends: //p' |
		tr ',' '\n' | sed -n 's/^ *\(linux-kbuild-6\.12[^ ]*\).*/\1/p' | head -n 1)
	img=$(apt-cache "${apt_opts[@]}" pkgnames "linux-image-$abi-amd64" |
		grep -xF -e "linux-image-$abi-amd64" \
			-e "linux-image-$abi-amd64-unsigned" | sort | head -n 1)
	pkgs="$hdr linux-headers-$abi-common $kb $img"
	echo "kernel-612: downloading $pkgs" >&2
	rm -rf "$root"
	mkdir -p "$root"
	# shellcheck disable=SC2086 # word list
	(cd "$apt_dir/archives" && apt-get "${apt_opts[@]}" -qq download $pkgs >&2)
	for p in $pkgs; do
		dpkg -x "$(newest_deb "$p")" "$root"
	done
	# The headers' Makefile includes the common headers by absolute path
	# (/usr/src/...); point it at the copy in the cache.
	sed -i "s|^include /usr/src/|include $root/usr/src/|" \
		"$root/usr/src/linux-headers-$abi-amd64/Makefile"
	touch "$root/.extracted"
	# Drop older versions' trees and packages.
	find "$base" -maxdepth 1 -name 'k612-[0-9]*' ! -path "$root" \
		-exec rm -rf {} +
	find "$apt_dir/archives" -maxdepth 1 -name 'linux-*.deb' \
		! -name "*_${ver}_*" -delete
fi

hdir=$root/usr/src/linux-headers-$abi-amd64

# The kbuild package's host tools are built for trixie's glibc (2.41);
# most need only 2.34, but objtool, modpost and resolve_btfids need 2.38's
# C23 strtol family, which Debian 12's glibc (2.36) lacks. Run those with
# trixie's own libc6 (unpacked next to them, not installed): each such
# binary X becomes a wrapper that runs X.trixie with trixie's dynamic
# loader. Their other libraries (libelf, zlib) come from the system.
fix_host_tools() {
	local k f deb libc=$root/trixie-libc
	local -a bad=()
	[ -f "$root/.host-tools" ] && return 0
	k=$(readlink -f "$hdir/scripts/..")
	while IFS= read -r -d '' f; do
		# ldd says "not a dynamic executable" for scripts.
		LC_ALL=C ldd "$f" 2>&1 | grep -q 'not found' && bad+=("$f")
	done < <(find "$k" -type f -perm -u+x ! -name '*.trixie' -print0)
	if [ "${#bad[@]}" -gt 0 ]; then
		echo "kernel-612: running ${bad[*]##*/} with trixie's libc6" >&2
		(cd "$apt_dir/archives" && apt-get "${apt_opts[@]}" -qq download libc6 >&2)
		deb=$(newest_deb libc6)
		rm -rf "$libc"
		dpkg -x "$deb" "$libc"
		for f in "${bad[@]}"; do
			mv "$f" "$f.trixie"
			cat >"$f" <<-WRAP
			#!/bin/sh
			exec "$libc/usr/lib64/ld-linux-x86-64.so.2" \\
			     --library-path "$libc/usr/lib/x86_64-linux-gnu" \\
			     "$f.trixie" "\$@"
			WRAP
			chmod 755 "$f"
		done
	fi
	touch "$root/.host-tools"
}
fix_host_tools

if [ "$want_root" = 1 ]; then
	echo "$root"
else
	echo "$hdir"
fi
