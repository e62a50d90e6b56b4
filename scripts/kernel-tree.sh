#!/bin/bash
# Print the path of Debian's linux-source-6.1 tree, extracted once into a
# cache outside the repository (keyed by the package version) and shared by
# the KUnit runner and lint (checkpatch.pl, .clang-format).
set -euo pipefail

src_tar=/usr/src/linux-source-6.1.tar.xz
[ -f "$src_tar" ] || {
	echo "kernel-tree: $src_tar missing (run scripts/install-deps.sh)" >&2
	exit 1
}
ver=$(dpkg-query -W -f='${Version}' linux-source-6.1)
cache=${FERRY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ferry}/kunit-$ver
tree=$cache/linux-source-6.1

if [ ! -f "$cache/.extracted" ]; then
	echo "kernel-tree: extracting linux-source $ver into $cache (once)" >&2
	rm -rf "$cache"
	mkdir -p "$cache"
	tar -C "$cache" -xJf "$src_tar"
	# Hook drivers/ferry (placed by kunit.sh) into Kconfig and Makefile.
	echo 'source "drivers/ferry/Kconfig"' >>"$tree/drivers/Kconfig"
	echo 'obj-$(CONFIG_FERRY_KUNIT_TEST) += ferry/' >>"$tree/drivers/Makefile"
	touch "$cache/.extracted"
fi
echo "$tree"
