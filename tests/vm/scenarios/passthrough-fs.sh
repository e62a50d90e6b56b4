#!/bin/sh
# ext4 and xfs on /dev/ferry0: every file written through ferry is on the
# backing device, byte for byte.
# disks: 320M 256M
# timeout: 600
# shellcheck source-path=SCRIPTDIR/.. source=lib.sh
. /scenarios/lib.sh

load_ferry
mkdir -p /mnt/f /mnt/b
for fs in ext4 xfs; do
	step "$fs: attach, mkfs, mount"
	dev=$(ferry_attach v0 /dev/vdb /dev/vdc) || exit 1
	case $fs in
	ext4) ok /usr/sbin/mkfs.ext4 -q -F "$dev" ;;
	xfs) ok /usr/sbin/mkfs.xfs -q -f "$dev" ;;
	esac
	ok mount -t "$fs" "$dev" /mnt/f

	step "$fs: write a tree"
	make_tree /mnt/f/tree 300
	sum_tree /mnt/f/tree >"$SCRATCH/sums.$fs"
	n=$(wc -l <"$SCRATCH/sums.$fs")
	[ "$n" -ge 300 ] || fail "only $n files in the tree"
	ok sync
	ok umount /mnt/f

	step "$fs: whole device through ferry equals the backing device"
	assert_same_dev "$dev" /dev/vdb
	ferry_detach v0

	step "$fs: verify $n files on /dev/vdb directly"
	ok mount -t "$fs" -o ro /dev/vdb /mnt/b
	(cd /mnt/b/tree && sha256sum -c --quiet "$SCRATCH/sums.$fs") ||
		fail "$fs: checksums differ on the backing device"
	assert_eq "$(find /mnt/b/tree -type f | wc -l)" "$n" "$fs: files on /dev/vdb"
	ok umount /mnt/b
done
unload_ferry
step "done"
