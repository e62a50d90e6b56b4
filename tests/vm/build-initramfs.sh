#!/bin/bash
# Build the VM lab's initramfs: build/vm/initramfs.cpio.gz
#
# Two gzip'd cpio archives, concatenated (the kernel unpacks them in order):
#   base   busybox, GNU tools + shared libraries, kernel modules. Cached
#          outside the repository under
#          ${FERRY_CACHE:-$HOME/.cache/ferry}/vm-KVER-HASH/base.cpio.gz
#          where HASH covers this script and the versions of the packages
#          the files come from; built only when missing.
#   ferry  kmod/ferry.ko, agent/ferry + its libraries, tests/vm/lib.sh,
#          tests/vm/scenarios/*.sh, scripts/hooks/* (at /usr/lib/ferry/hooks),
#          tests/vm/tools/refmodel.c built into /usr/bin/ferry-refmodel,
#          and the init script; rebuilt every run.
#
# Layout inside the guest: busybox applets in /bin and /sbin, GNU tools at
# their Debian paths in /usr/bin and /usr/sbin (busybox sh runs its own
# applets before PATH, so scenarios call GNU tools by absolute path; see
# lib.sh). Modules under /lib/modules/KVER with a modules.dep from depmod.
#
# Environment: KVER (default: newest /boot/vmlinuz-*-amd64),
# FERRY_CACHE, FERRY_VM_KO, FERRY_VM_AGENT, FERRY_VM_NO_FERRY=1 (lab self-test: build without
# ferry.ko/agent), FERRY_VM_KERNEL_ROOT (take the kernel and its modules
# from an unpacked kernel package instead of the system:
# ROOT/boot/vmlinuz-KVER and ROOT/lib/modules/KVER or ROOT/usr/lib/modules/KVER,
# e.g. scripts/kernel-612.sh --root), FERRY_VM_OUT (default build/vm).
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
self=$top/tests/vm/build-initramfs.sh
out=${FERRY_VM_OUT:-$top/build/vm}
kroot=${FERRY_VM_KERNEL_ROOT:-}
mkdir -p "$out"

if [ -z "${KVER:-}" ]; then
	k=$(printf '%s\n' "$kroot"/boot/vmlinuz-*-amd64 | grep -v '\*' | sort -V | tail -n 1 || true)
	[ -n "$k" ] || { echo "build-initramfs: no $kroot/boot/vmlinuz-*-amd64 (make install-deps)" >&2; exit 1; }
	KVER=${k#"$kroot"/boot/vmlinuz-}
fi
# modbase: the directory whose lib/modules/KVER has the modules (for
# modprobe -d / depmod -b); moddir: their path in the guest.
modbase=${kroot:-/}
[ -n "$kroot" ] && [ ! -d "$kroot/lib/modules/$KVER" ] && modbase=$kroot/usr
moddir=/lib/modules/$KVER
[ -d "$modbase$moddir" ] || { echo "build-initramfs: no $modbase$moddir" >&2; exit 1; }
if [ -n "$kroot" ] && [ ! -s "$modbase$moddir/modules.dep" ]; then
	# A kernel package unpacked with dpkg -x has no modules.dep yet.
	depmod -b "$modbase" "$KVER"
fi

# Modules the lab needs; their dependencies come from modules.dep.
MODULES="virtio_pci virtio_blk virtio_net loop ext4 xfs dm-mod dm-snapshot
dm-flakey dm-dust dm-delay dm-zero veth sch_netem crc32c_generic
crc32c-intel libcrc32c null_blk"

# GNU tools, at their Debian paths (also their paths in the guest).
TOOLS="/usr/sbin/mke2fs /usr/sbin/e2fsck /usr/sbin/mkfs.xfs /usr/sbin/xfs_repair
/usr/sbin/xfs_db /usr/bin/fio /usr/sbin/dmsetup /usr/bin/sqlite3 /usr/bin/jq
/usr/bin/ip /usr/sbin/tc /usr/bin/date /usr/bin/timeout /usr/bin/sha256sum
/usr/bin/dd /usr/bin/stat /usr/bin/truncate /usr/bin/cmp /usr/bin/od
/usr/bin/sync /usr/sbin/blockdev /usr/sbin/blkdiscard /usr/sbin/losetup
/usr/bin/mount /usr/bin/umount /usr/bin/fallocate /usr/sbin/fsfreeze
/usr/bin/rsync"
# Symlinks to create in the guest: link target.
LINKS="/usr/sbin/mkfs.ext4 mke2fs
/usr/sbin/mkfs.ext2 mke2fs
/usr/sbin/fsck.ext4 e2fsck
/usr/sbin/ip ../bin/ip
/etc/mtab ../proc/self/mounts"
# Data files the tools read.
DATA="/etc/mke2fs.conf"

# Shared libraries of a binary (and the program interpreter), per ldd.
libs_of() {
	ldd "$1" 2>/dev/null | awk '
		/=> \// { print $3; next }
		/^[[:space:]]*\// { print $1 }'
}

# Copy a host file to the same path under a staging root, dereferenced.
put() {
	local root=$1 f=$2
	mkdir -p "$root$(dirname "$f")"
	cp -L "$f" "$root$f"
}

mkcpio() { # root archive
	(cd "$1" && find . -mindepth 1 -print0 | LC_ALL=C sort -z |
		cpio --null -o -H newc --quiet --reproducible) | gzip -1 -n >"$2.tmp"
	mv "$2.tmp" "$2"
}

# FERRY_VM_KO / FERRY_VM_AGENT: test a module or agent built elsewhere
# (e.g. another branch's agent before it is merged).
ko=${FERRY_VM_KO:-$top/kmod/ferry.ko}
agent=${FERRY_VM_AGENT:-$top/agent/ferry}
if [ "${FERRY_VM_NO_FERRY:-0}" != 1 ]; then
	missing=""
	[ -f "$ko" ] || missing="$missing kmod/ferry.ko"
	[ -x "$agent" ] || missing="$missing agent/ferry"
	if [ -n "$missing" ]; then
		echo "build-initramfs: missing$missing (run make first)" >&2
		exit 1
	fi
fi

# ---- base part -------------------------------------------------------------

busybox=$(command -v busybox || true)
[ -n "$busybox" ] && file -L "$busybox" 2>/dev/null | grep -q 'statically linked' ||
	busybox=/bin/busybox
[ -x "$busybox" ] || { echo "build-initramfs: busybox-static missing (make install-deps)" >&2; exit 1; }

for t in $TOOLS; do
	[ -x "$t" ] || { echo "build-initramfs: $t missing (make install-deps)" >&2; exit 1; }
done

# Module files: every listed module and its dependencies (incl. softdeps).
modfiles=$(
	for m in $MODULES; do
		modprobe -d "$modbase" -S "$KVER" --show-depends "$m" 2>/dev/null || true
	done | awk '$1 == "insmod" { print $2 }' | sort -u
)
libfiles=$(for t in $TOOLS; do libs_of "$t"; done | sort -u)

# Cache key: this script, the kernel, and the packages owning the files.
# shellcheck disable=SC2086 # word lists
pkgs=$( { dpkg -S "$busybox" $TOOLS $DATA "/boot/vmlinuz-$KVER" \
	$libfiles 2>/dev/null || true; } | cut -d: -f1 | tr ',[:space:]' '\n' |
	grep -v '^$' | sort -u)
# shellcheck disable=SC2086
key=$( { sha256sum "$self"; echo "$KVER"; echo "$MODULES"; echo "$kroot";
	dpkg-query -W -f='${Package} ${Version}\n' $pkgs 2>/dev/null; } |
	sha256sum | cut -c1-16)
cachedir=${FERRY_CACHE:-$HOME/.cache/ferry}/vm-$KVER-$key
base=$cachedir/base.cpio.gz

if [ ! -s "$base" ]; then
	echo "build-initramfs: building base image for $KVER (cached in $cachedir)"
	mkdir -p "$cachedir"
	stage=$(mktemp -d "$cachedir/stage.XXXXXX")
	trap 'rm -rf "$stage"' EXIT
	mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,run,root,mnt,lib/ferry}

	cp "$busybox" "$stage/bin/busybox"
	for a in $("$busybox" --list); do
		[ "$a" = busybox ] && continue
		ln -s busybox "$stage/bin/$a"
	done
	for a in modprobe insmod rmmod lsmod depmod poweroff reboot halt init \
		switch_root mdev; do
		ln -sf ../bin/busybox "$stage/sbin/$a"
	done

	for t in $TOOLS; do put "$stage" "$t"; done
	for l in $libfiles; do put "$stage" "$l"; done
	for d in $DATA; do [ -e "$d" ] && put "$stage" "$d"; done
	while read -r link target; do
		mkdir -p "$stage$(dirname "$link")"
		ln -sfn "$target" "$stage$link"
	done <<<"$LINKS"

	for f in $modfiles; do
		g=/lib/modules/${f#*/lib/modules/}
		mkdir -p "$stage$(dirname "$g")"
		cp -L "$f" "$stage$g"
		# busybox modprobe loads plain .ko files only.
		case $g in
		*.ko.xz) xz -d "$stage$g" ;;
		*.ko.zst) zstd -q -d --rm "$stage$g" ;;
		esac
	done
	for f in modules.builtin modules.builtin.modinfo modules.order; do
		[ -e "$modbase$moddir/$f" ] && cp "$modbase$moddir/$f" "$stage$moddir/"
	done
	depmod -b "$stage" "$KVER"
	printf 'root:x:0:0:root:/root:/bin/sh\n' >"$stage/etc/passwd"
	printf 'root:x:0:\n' >"$stage/etc/group"

	mkcpio "$stage" "$base"
	rm -rf "$stage"
	trap - EXIT
	# Drop base images of older script/package versions unused for a week.
	for old in "$(dirname "$cachedir")"/vm-*/base.cpio.gz; do
		[ "$old" != "$base" ] && [ -n "$(find "$old" -atime +7 2>/dev/null)" ] &&
			rm -rf "$(dirname "$old")"
	done
fi

# ---- ferry part ------------------------------------------------------------


fstage=$out/ferry-stage
rm -rf "$fstage"
mkdir -p "$fstage"/{lib/ferry,usr/sbin,scenarios}
if [ -f "$ko" ]; then cp "$ko" "$fstage/lib/ferry/ferry.ko"; fi
if [ -x "$agent" ]; then
	cp "$agent" "$fstage/usr/sbin/ferry"
	for l in $(libs_of "$agent"); do put "$fstage" "$l"; done
fi
# The reference-model tool (tests/vm/tools/refmodel.c): libc + pthreads.
mkdir -p "$fstage/usr/bin"
${CC:-cc} -O2 -Wall -Werror -pthread -o "$fstage/usr/bin/ferry-refmodel" \
	"$top/tests/vm/tools/refmodel.c"
for l in $(libs_of "$fstage/usr/bin/ferry-refmodel"); do put "$fstage" "$l"; done
cp "$top/tests/vm/init" "$fstage/init"
chmod 755 "$fstage/init"
mkdir -p "$fstage/usr/lib/ferry/hooks"
cp "$top"/scripts/hooks/* "$fstage/usr/lib/ferry/hooks/"
chmod 755 "$fstage"/usr/lib/ferry/hooks/*
cp "$top/tests/vm/lib.sh" "$fstage/scenarios/lib.sh"
cp "$top"/tests/vm/scenarios/*.sh "$fstage/scenarios/"
mkcpio "$fstage" "$out/ferry.cpio.gz"
rm -rf "$fstage"

cat "$base" "$out/ferry.cpio.gz" >"$out/initramfs.cpio.gz.tmp"
mv "$out/initramfs.cpio.gz.tmp" "$out/initramfs.cpio.gz"
echo "$KVER" >"$out/kver"
