#!/bin/bash
# Run ferry's KUnit tests under user-mode Linux.
#
# The kernel tree is Debian's linux-source-6.1, extracted once into a cache
# outside the repository (scripts/kernel-tree.sh) and reused; kmod/ is
# synced into drivers/ferry/ with checksums so that a warm run rebuilds only
# what changed. Lockdep is on (see kmod/kunitconfig).
#
# Writes "pass NAME" / "fail NAME" lines to $FERRY_RESULTS (if set) and fails
# when a test fails or when no test ran at all.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
tree=$("$top/scripts/kernel-tree.sh")
cache=$(dirname "$tree")
jobs=$(nproc)

mkdir -p "$tree/drivers/ferry/uapi/linux"
# Copy only sources that differ, so unchanged files keep their timestamps
# (warm builds); never kmod/Kbuild, which would override the KUnit Makefile.
sync_sources() {
	local from=$1 to=$2 f
	for f in "$from"/*.[ch]; do
		[ -f "$f" ] || continue
		cmp -s "$f" "$to/$(basename "$f")" || cp "$f" "$to/"
	done
}
sync_sources "$top/kmod" "$tree/drivers/ferry"
sync_sources "$top/uapi/linux" "$tree/drivers/ferry/uapi/linux"
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
