#!/bin/bash
# Build ferry.ko against Debian 13's 6.12 kernel headers (fetched and
# cached by scripts/kernel-612.sh) and print the module's path:
#   build/k612/kmod/ferry.ko
# The sources are copied to build/k612 first, so this never touches the
# objects or the ferry.ko of the default (6.1) build in kmod/.
# Fails on any compiler or modpost warning, like the 6.1 build's -Werror
# policy in make lint.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
hdr=$("$top/scripts/kernel-612.sh")
out=$top/build/k612
log=$out/build.log

mkdir -p "$out/kmod" "$out/uapi"
# Refresh the copy; unchanged files keep their times, so rebuilds are
# incremental.
cp -u -p "$top/Kbuild" "$out/"
cp -u -p "$top"/kmod/Kbuild "$top"/kmod/probe.sh "$top"/kmod/*.[ch] "$out/kmod/"
cp -u -p -r "$top"/uapi/. "$out/uapi/"
# Files deleted in kmod/ must not linger in the copy.
for f in "$out"/kmod/*.[ch]; do
	case $f in *.mod.c) continue ;; esac
	[ -e "$top/kmod/${f##*/}" ] || rm -f "$f"
done

# CC: gcc-12 standing in for the gcc-14 the headers were configured with
# (scripts/k612-cc.sh). No module BTF: it needs trixie's pahole.
# W=1: the extra warnings make lint asks of the 6.1 build.
if ! make -C "$hdr" M="$out" CC="$top/scripts/k612-cc.sh" W=1 \
	CONFIG_DEBUG_INFO_BTF_MODULES= modules >"$log" 2>&1; then
	cat "$log" >&2
	echo "build-612: build failed (log: $log)" >&2
	exit 1
fi
if grep -E 'warning:|WARNING:' "$log" >&2; then
	echo "build-612: warnings (log: $log)" >&2
	exit 1
fi
echo "$out/kmod/ferry.ko"
