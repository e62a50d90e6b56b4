#!/bin/sh
# Self-test of the VM lab itself (no ferry): GNU tools, modules, disks,
# dm, discard. Must stay cheap.
# disks: 320M 64M 64M
# timeout: 480
# shellcheck source-path=SCRIPTDIR/.. source=lib.sh
. /scenarios/lib.sh

step "disks present"
for d in vda vdb vdc vdd; do
	[ -b /dev/$d ] || fail "/dev/$d missing"
done
assert_eq "$(dev_size /dev/vdb)" $((320 * 1024 * 1024)) "size of vdb"
assert_eq "$(dev_size /dev/vdc)" $((64 * 1024 * 1024)) "size of vdc"

step "GNU tools, not busybox applets"
dd --version | grep -q coreutils || fail "dd is not GNU dd"
timeout --version | grep -q coreutils || fail "timeout is not GNU"
mount --version | grep -q util-linux || fail "mount is not util-linux"
assert_eq "$(date -d @0 -u +%Y)" 1970 "GNU date"
for t in "$JQ" "$SQLITE3" "$FIO" "$DMSETUP" "$MKFS_XFS" "$IP"; do
	"$t" --version >/dev/null 2>&1 || "$t" -V >/dev/null 2>&1 ||
		fail "$t does not run"
done
[ "${DM_DISABLE_UDEV:-}" = 1 ] || fail "DM_DISABLE_UDEV not exported"

step "ext4 on vdc: write, remount, verify"
ok mkfs.ext4 -q -F /dev/vdc
mkdir -p /mnt/a
ok mount /dev/vdc /mnt/a
make_tree /mnt/a/t 40
sum_tree /mnt/a/t >"$SCRATCH/sums"
ok umount /mnt/a
ok mount -o ro /dev/vdc /mnt/a
(cd /mnt/a/t && sha256sum -c --quiet "$SCRATCH/sums") || fail "checksums differ"
ok umount /mnt/a

step "xfs on vdb"
ok mkfs.xfs -q -f /dev/vdb
ok mount /dev/vdb /mnt/a
echo hello >/mnt/a/x
ok umount /mnt/a

step "write-zeroes and discard on vdd"
dd if=/dev/urandom of=/dev/vdd bs=1M count=4 oflag=direct status=none
ok blkdiscard -z -o 1048576 -l 1048576 /dev/vdd
assert_eq "$(sum_range /dev/vdd 1048576 1048576)" "$(zero_sum 1048576)" "zeroed range"
ok blkdiscard /dev/vdd
[ "$(cat /sys/block/vdd/queue/discard_max_bytes)" -gt 0 ] || fail "no discard on vdd"

step "device mapper: flakey and snapshot"
for m in dm-flakey dm-snapshot; do modprobe $m || fail "modprobe $m"; done
ok dmsetup create lin --table "0 8192 linear /dev/vdd 0"
[ -b /dev/mapper/lin ] || fail "no /dev/mapper/lin"
ok dmsetup remove lin

step "modules on demand: veth, netem, loop"
ok modprobe veth
ok ip link add va type veth peer name vb
ok modprobe sch_netem
ok tc qdisc add dev va root netem delay 1ms
ok ip link del va
ok truncate -s 16M "$SCRATCH/img"
l=$(losetup -f --show "$SCRATCH/img") || fail "losetup"
ok losetup -d "$l"
step "done"
