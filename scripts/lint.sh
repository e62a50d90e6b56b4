#!/bin/bash
# make lint: checkpatch.pl --strict, sparse and W=1 for the module;
# clang-format (the kernel's .clang-format) for the agent and its tests;
# sh -n for the scripts. Prints one line per check and fails on any finding.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
tree=$(scripts/kernel-tree.sh) || exit 1
KDIR=${KDIR:-$(ls -d /usr/src/linux-headers-*-amd64 | sort -V | tail -n 1)}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
failed=0 total=0

check() {
	local name=$1 log=$out/$1.log
	shift
	total=$((total + 1))
	if "$@" >"$log" 2>&1; then
		echo "lint: $name clean"
	else
		failed=$((failed + 1))
		echo "lint: $name FAILED"
		sed 's/^/  /' "$log" | head -60
	fi
}

# Findings are judged from the output, not exit codes (pipefail is on).
checkpatch() {
	local found
	found=$("$tree/scripts/checkpatch.pl" --strict --no-tree --terse \
		--show-types -f $(ls kmod/*.[ch] | grep -v '\.mod\.c$') \
		uapi/linux/ferry.h | grep -v '^total: 0 errors, 0 warnings, 0 checks')
	[ -z "$found" ] || { echo "$found"; return 1; }
}

# Build the module with sparse on every file and W=1; any warning fails.
kbuild_warnings() {
	make -s -C "$KDIR" M="$top" clean >/dev/null
	local found
	found=$(make -C "$KDIR" M="$top" W=1 C=2 \
		CHECK="sparse -Wno-unknown-attribute" modules 2>&1 |
		grep -E 'warning|error' | grep -v 'Skipping BTF')
	[ -z "$found" ] || { echo "$found"; return 1; }
}

clang_format() {
	local files
	files=$(ls agent/*.[ch] tests/unit/*.[ch] tests/fuzz/*.[ch] tests/vm/tools/*.[ch] 2>/dev/null)
	[ -z "$files" ] && return 0
	# shellcheck disable=SC2086
	clang-format --dry-run --Werror $files
}

shell_syntax() {
	local f rc=0
	for f in scripts/*.sh tests/vm/*.sh tests/vm/scenarios/*.sh \
		tests/bench/*.sh scripts/hooks/* .ci/run; do
		[ -f "$f" ] || continue
		bash -n "$f" || rc=1
	done
	return $rc
}

check checkpatch checkpatch
check sparse+W=1 kbuild_warnings
check clang-format clang_format
check shell-syntax shell_syntax
echo "lint: $((total - failed))/$total clean"
[ "$failed" -eq 0 ]
