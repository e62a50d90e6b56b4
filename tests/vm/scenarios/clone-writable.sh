#!/bin/sh
# Writable clones (fire drills): `ferry clone v0 SNAP` gives a writable
# device starting as the snapshot; writes to it (raw, then a filesystem)
# read back, while the snapshot and the origin never change; the parent
# cannot be deleted while the clone exists; deleting the clone gives its
# CoW space back (cow_used returns to its value before the clone).
# disks: 64M 256M
# timeout: 480
# shellcheck source-path=SCRIPTDIR/.. source=lib.sh
. /scenarios/lib.sh

M=1048576
load_ferry
dev=$(ferry_attach v0 /dev/vdb /dev/vdc) || exit 1
size=$(dev_size "$dev")
ref=$SCRATCH/ref
cref=$SCRATCH/cref

step "fill, snapshot, some origin writes"
head -c "$size" /dev/urandom >"$ref"
ok dd if="$ref" of="$dev" bs=1M oflag=direct status=none
take_snapshot v0
id=$(snap_id v0)
sd=$(snap_dev v0)
cp "$ref" "$cref"
sum=$(file_sum "$ref")
wr "$dev" "$ref" $((4 * M)) $((2 * M)) direct
wr "$dev" "$ref" $((40 * M + 512)) 4096 direct
wr "$dev" "$ref" 0 $((8 * M)) direct
used0=$(vol_field v0 .cow_used)
echo "    cow_used before the clone: $used0"

step "clone snapshot $id"
"$FERRY" clone v0 "$id" >"$SCRATCH/clone.out" || fail "ferry clone v0 $id failed"
read -r cn cid cdev <"$SCRATCH/clone.out" || fail "ferry clone printed nothing"
assert_eq "$(awk 'END { print NR }' "$SCRATCH/clone.out")" 1 "lines printed by ferry clone"
assert_eq "$cn" v0 "name printed by ferry clone"
case $cdev in /dev/ferry0s"$cid") ;; *) fail "clone device '$cdev' for id '$cid'" ;; esac
[ "$cid" -ne "$id" ] || fail "the clone got the snapshot's id"
wait_dev "$cdev"
assert_eq "$(snap_field v0 "$cid" .parent)" "$id" "parent of the clone"
assert_eq "$(snap_field v0 "$cid" .writable)" true "clone writable"
assert_eq "$(snap_field v0 "$id" .writable)" false "snapshot writable"
assert_eq "$(sum_dev "$cdev")" "$sum" "clone before any write"
expect_fail "$FERRY" delete v0 "$id"

step "raw writes to the clone (over chunks the origin preserved, and others)"
wr "$cdev" "$cref" 0 $((1 * M)) direct
wr "$cdev" "$cref" $((4 * M + 4096)) $((3 * M)) direct
wr "$cdev" "$cref" $((20 * M - 2048)) 4096 direct
wr "$cdev" "$cref" $((33 * M + 100)) 5000
wr "$cdev" "$cref" $((size - 4096)) 4096 direct
assert_dev_is_file "$cdev" "$cref"
assert_eq "$(sum_dev "$sd")" "$sum" "snapshot after clone writes"
assert_dev_is_file "$dev" "$ref"

step "origin writes after the clone's"
wr "$dev" "$ref" $((20 * M)) $((1 * M)) direct
wr "$dev" "$ref" $((50 * M)) 4096 direct
assert_dev_is_file "$cdev" "$cref"
assert_eq "$(sum_dev "$sd")" "$sum" "snapshot after origin writes"
# Those chunks (1M + 4K, never written since the snapshot) are preserved
# for the snapshot: cow_used without the clone grows by their size.
grow=$(printf '%s\n' "$((20 * M)) $((1 * M))" "$((50 * M)) 4096" |
	chunk_extents "$(vol_field v0 .chunk_size)" | awk '{ t += $2 } END { print t }')
used0=$((used0 + grow))

step "ext4 on the clone"
ok mkfs.ext4 -q -F -E nodiscard "$cdev"
mkdir -p /mnt/c
ok mount "$cdev" /mnt/c
make_tree /mnt/c/t 30
sum_tree /mnt/c/t >"$SCRATCH/tree.sums"
ok umount /mnt/c
ok "$E2FSCK" -fn "$cdev"
ok mount -o ro "$cdev" /mnt/c
(cd /mnt/c/t && sha256sum -c --quiet "$SCRATCH/tree.sums") || fail "files on the clone differ"
ok umount /mnt/c
assert_eq "$(sum_dev "$sd")" "$sum" "snapshot after ext4 on the clone"
assert_dev_is_file "$dev" "$ref"

step "delete the clone: its CoW space comes back"
used1=$(vol_field v0 .cow_used)
echo "    cow_used with the clone: $used1 (expected $used0 after deleting it)"
[ "$used1" -gt "$used0" ] || fail "clone writes used no CoW space ($used1 <= $used0)"
snap_delete v0 "$cid"
wait_gone "$cdev"
assert_eq "$(vol_field v0 .cow_used)" "$used0" "cow_used after deleting the clone"
assert_eq "$(sum_dev "$sd")" "$sum" "snapshot after deleting the clone"
snap_delete v0 "$id"
assert_eq "$(vol_field v0 .cow_used)" 0 "cow_used without snapshots"
assert_dev_is_file "$dev" "$ref"
ferry_detach v0
unload_ferry
step "done"
