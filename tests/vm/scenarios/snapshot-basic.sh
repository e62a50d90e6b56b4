#!/bin/sh
# Snapshots of a raw /dev/ferry0 (no filesystem): each snapshot device holds
# the bytes of /dev/ferry0 at its moment, whatever is written afterwards
# (aligned, 512-aligned, unaligned buffered, chunk-spanning writes,
# write-zeroes); /dev/ferry0 follows a reference model file; deleting a
# snapshot keeps the others and never grows cow_used; delete is refused
# while the device is open; 8 snapshots back to back share one copy.
# disks: 64M 160M
# timeout: 480
# shellcheck source-path=SCRIPTDIR/.. source=lib.sh
. /scenarios/lib.sh

M=1048576
C=65536
load_ferry
dev=$(ferry_attach v0 /dev/vdb /dev/vdc) || exit 1
size=$(dev_size "$dev")
assert_eq "$size" $((64 * M)) "size of $dev"
ref=$SCRATCH/ref

# check_snap DEV SUM: DEV read with O_DIRECT and through the page cache.
check_snap() {
	assert_eq "$(sum_dev "$1")" "$2" "sha256 of $1 (O_DIRECT)"
	echo 3 >/proc/sys/vm/drop_caches
	assert_eq "$($SHA256SUM <"$1" | cut -d' ' -f1)" "$2" "sha256 of $1 (buffered)"
}

step "fill $dev with random data; cow_used is 0 without snapshots"
head -c "$size" /dev/urandom >"$ref"
ok dd if="$ref" of="$dev" bs=1M oflag=direct status=none
assert_eq "$(vol_field v0 .cow_used)" 0 "cow_used"
total=$(vol_field v0 .cow_total)
echo "    cow_total $total"
[ "$total" -ge "$size" ] || fail "cow_total $total < origin size $size (lab bug: CoW disk too small)"

step "snapshot 1"
take_snapshot v0
assert_eq "$(snap_id v0)" 1 "first snapshot id"
d1=$(snap_dev v0)
assert_eq "$d1" /dev/ferry0s1 "device of snapshot 1"
sum1=$(file_sum "$ref")
assert_eq "$(sum_dev "$d1")" "$sum1" "snapshot 1 right after it was taken"
assert_snap_live v0 1 "$d1"
assert_eq "$(snap_field v0 1 .writable)" false "snapshot 1 writable"
assert_eq "$(snap_field v0 1 .frozen)" false "snapshot 1 frozen (no filesystem)"
expect_fail dd if=/dev/zero of="$d1" bs=4096 count=1 oflag=direct status=none
assert_eq "$(sum_dev "$d1")" "$sum1" "snapshot 1 after a refused write"

step "writes: aligned, 512-aligned, chunk-spanning, unaligned buffered, write-zeroes"
wr "$dev" "$ref" $((1 * M)) $((1 * M)) direct
wr "$dev" "$ref" $((3 * M + 512)) 4096 direct
wr "$dev" "$ref" $((10 * C - 2048)) 4096 direct
wr "$dev" "$ref" $((5 * M - 4096)) 8192
wr "$dev" "$ref" $((7 * M + 1000)) 3000
zr "$dev" "$ref" $((8 * M)) $((2 * M))
wr "$dev" "$ref" $((size - 4096)) 4096 direct
assert_eq "$(sum_dev "$d1")" "$sum1" "snapshot 1 after the first writes"

step "snapshot 2"
take_snapshot v0
assert_eq "$(snap_id v0)" 2 "second snapshot id"
d2=$(snap_dev v0)
sum2=$(file_sum "$ref")
assert_ne "$sum2" "$sum1" "content after the first writes"
assert_eq "$(sum_dev "$d2")" "$sum2" "snapshot 2 right after it was taken"

step "more writes, over chunks already preserved and new ones"
wr "$dev" "$ref" $((1 * M + C)) $((256 * 1024)) direct
wr "$dev" "$ref" $((3 * M)) "$C" direct
zr "$dev" "$ref" $((12 * M)) $((1 * M))
wr "$dev" "$ref" $((20 * M)) $((3 * M))
wr "$dev" "$ref" 0 4096 direct
wr "$dev" "$ref" $((9 * M + 4096)) 512 direct

step "snapshot 3"
take_snapshot v0
assert_eq "$(snap_id v0)" 3 "third snapshot id"
d3=$(snap_dev v0)
sum3=$(file_sum "$ref")
assert_eq "$(sum_dev "$d3")" "$sum3" "snapshot 3 right after it was taken"

step "writes after snapshot 3, over everything"
wr "$dev" "$ref" $((1 * M)) $((2 * M)) direct
wr "$dev" "$ref" $((30 * M)) $((5 * M))
zr "$dev" "$ref" $((40 * M)) $((4 * M))
wr "$dev" "$ref" $((10 * C - 2048)) 4096 direct
zr "$dev" "$ref" 0 $((16 * M))

step "verify the three snapshots (O_DIRECT and buffered) and the origin"
check_snap "$d1" "$sum1"
check_snap "$d2" "$sum2"
check_snap "$d3" "$sum3"
assert_dev_is_file "$dev" "$ref"
assert_eq "$(snap_ids v0)" "1 2 3" "listed snapshots"
for i in 1 2 3; do
	assert_snap_live v0 "$i" "/dev/ferry0s$i"
done

step "delete is refused while the snapshot device is open"
exec 3<"$d2"
expect_fail "$FERRY" delete v0 2
exec 3<&-
[ -b "$d2" ] || fail "$d2 vanished after a refused delete"

step "delete snapshot 2: 1 and 3 unchanged, cow_used does not grow"
used=$(vol_field v0 .cow_used)
echo "    cow_used before: $used"
[ "$used" -gt 0 ] || fail "cow_used is 0 with three snapshots and overwrites"
snap_delete v0 2
assert_eq "$(snap_ids v0)" "1 3" "listed snapshots after deleting 2"
wait_gone "$d2"
used2=$(vol_field v0 .cow_used)
echo "    cow_used after: $used2"
[ "$used2" -le "$used" ] || fail "cow_used grew from $used to $used2 when deleting a snapshot"
check_snap "$d1" "$sum1"
check_snap "$d3" "$sum3"
assert_dev_is_file "$dev" "$ref"
expect_fail "$FERRY" delete v0 2

step "delete 1 and 3: no snapshot left, cow_used 0"
snap_delete v0 1
snap_delete v0 3
assert_eq "$(snap_ids v0)" "" "listed snapshots"
assert_eq "$(vol_field v0 .cow_used)" 0 "cow_used without snapshots"

step "8 snapshots back to back, then one full overwrite: one copy per chunk"
cp "$ref" "$ref.old"
ids=
i=0
while [ "$i" -lt 8 ]; do
	take_snapshot v0
	ids="$ids $(snap_id v0)"
	i=$((i + 1))
done
ids=${ids# }
assert_eq "$ids" "4 5 6 7 8 9 10 11" "ids (never reused)"
head -c "$size" /dev/urandom >"$ref"
ok dd if="$ref" of="$dev" bs=1M oflag=direct status=none
used=$(vol_field v0 .cow_used)
echo "    cow_used $used for an origin of $size"
[ "$used" -ge $((size * 9 / 10)) ] || fail "cow_used $used: less than the overwritten $size"
[ "$used" -le $((size * 11 / 10)) ] ||
	fail "cow_used $used: more than one copy of the $size origin (not shared?)"
assert_dev_is_file "$dev" "$ref"
for i in $ids; do
	assert_dev_is_file "/dev/ferry0s$i" "$ref.old"
done
for i in $ids; do
	snap_delete v0 "$i"
done
assert_eq "$(vol_field v0 .cow_used)" 0 "cow_used after deleting every snapshot"
assert_dev_is_file "$dev" "$ref"

ferry_detach v0
unload_ferry
step "done"
