#!/bin/bash
# Run ferry's KUnit tests under user-mode Linux.
#
# The kernel tree is Debian's linux-source-6.1, extracted once into a cache
# outside the repository (keyed by the package version) and reused; kmod/ is
# synced into drivers/ferry/ with checksums so that a warm run rebuilds only
# what changed. Lockdep is on (see kmod/kunitconfig).
#
# Writes "pass NAME" / "fail NAME" lines to $FERRY_RESULTS (if set) and fails
# when a test fails or when no test ran at all.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
src_tar=/usr/src/linux-source-6.1.tar.xz
[ -f "$src_tar" ] || { echo "kunit: $src_tar missing (run scripts/install-deps.sh)" >&2; exit 1; }
ver=$(dpkg-query -W -f='${Version}' linux-source-6.1)
cache=${FERRY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ferry}/kunit-$ver
tree=$cache/linux-source-6.1
jobs=$(nproc)

if [ ! -f "$cache/.extracted" ]; then
	echo "kunit: extracting linux-source $ver into $cache (once)"
	rm -rf "$cache"
	mkdir -p "$cache"
	tar -C "$cache" -xJf "$src_tar"
	# Hook drivers/ferry into the tree's Kconfig and Makefile.
	echo 'source "drivers/ferry/Kconfig"' >>"$tree/drivers/Kconfig"
	echo 'obj-$(CONFIG_FERRY_KUNIT_TEST) += ferry/' >>"$tree/drivers/Makefile"
	touch "$cache/.extracted"
fi

mkdir -p "$tree/drivers/ferry/uapi/linux"
# -c: compare contents, so unchanged files keep their timestamps (warm builds).
rsync_like() {
	local from=$1 to=$2 f
	for f in "$from"/*; do
		[ -f "$f" ] || continue
		cmp -s "$f" "$to/$(basename "$f")" || cp "$f" "$to/"
	done
}
rsync_like "$top/kmod" "$tree/drivers/ferry"
rsync_like "$top/uapi/linux" "$tree/drivers/ferry/uapi/linux"
cmp -s "$top/kmod/Kconfig.kunit" "$tree/drivers/ferry/Kconfig" ||
	cp "$top/kmod/Kconfig.kunit" "$tree/drivers/ferry/Kconfig"
cmp -s "$top/kmod/Makefile.kunit" "$tree/drivers/ferry/Makefile" ||
	cp "$top/kmod/Makefile.kunit" "$tree/drivers/ferry/Makefile"

log=$cache/kunit.log
cd "$tree"
set +e
python3 tools/testing/kunit/kunit.py run --arch=um --jobs="$jobs" \
	--build_dir="$cache/build" \
	--kunitconfig="$top/kmod/kunitconfig" --timeout=300 \
	--raw_output=kunit >"$log" 2>&1
rc=$?
set -e

# Parse the KTAP output: "ok N name" / "not ok N name" at the case level.
passed=$(grep -cE '^ +ok [0-9]+ ' "$log" || true)
failed=$(grep -cE '^ +not ok [0-9]+ ' "$log" || true)
if [ -n "${FERRY_RESULTS:-}" ]; then
	grep -E '^ +(not )?ok [0-9]+ ' "$log" |
		sed -E 's/^ +ok [0-9]+ (.*)/pass kunit:\1/; s/^ +not ok [0-9]+ (.*)/fail kunit:\1/' \
			>>"$FERRY_RESULTS"
fi
echo "kunit: $passed passed, $failed failed (log: $log)"
if [ "$passed" -eq 0 ]; then
	echo "kunit: no test ran" >&2
	tail -30 "$log" >&2
	[ -n "${FERRY_RESULTS:-}" ] && echo "fail kunit:none-ran" >>"$FERRY_RESULTS"
	exit 1
fi
[ "$failed" -eq 0 ] && [ "$rc" -eq 0 ] || { tail -40 "$log" >&2; exit 1; }
