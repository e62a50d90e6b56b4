#!/bin/sh
# Write-zeroes, discard and O_DIRECT|O_SYNC writes pass through /dev/ferry0
# to the backing device; queue limits are stacked.
# disks: 256M 256M
# timeout: 480
# shellcheck source-path=SCRIPTDIR/.. source=lib.sh
. /scenarios/lib.sh

M=1048576
load_ferry
dev=$(ferry_attach v0 /dev/vdb /dev/vdc) || exit 1
disk=${dev#/dev/}
q=/sys/block/$disk/queue
bq=/sys/block/vdb/queue

step "queue limits stacked from /dev/vdb"
for a in logical_block_size physical_block_size discard_max_bytes \
	discard_granularity write_zeroes_max_bytes; do
	echo "    $a: $disk $(cat "$q/$a") vdb $(cat "$bq/$a")"
done
assert_eq "$(cat "$q/logical_block_size")" "$(cat "$bq/logical_block_size")" \
	"logical_block_size"
[ "$(cat "$bq/discard_max_bytes")" -gt 0 ] || fail "vdb does not support discard (lab bug)"
assert_eq "$(cat "$q/discard_max_bytes")" "$(cat "$bq/discard_max_bytes")" \
	"discard_max_bytes"
if [ "$(cat "$bq/write_zeroes_max_bytes")" -gt 0 ]; then
	[ "$(cat "$q/write_zeroes_max_bytes")" -gt 0 ] ||
		fail "write_zeroes_max_bytes is 0 on $disk but not on vdb (stacking limits?)"
fi

step "fill 16M..24M with random data through $dev"
dd if=/dev/urandom of="$SCRATCH/fill" bs=1M count=8 status=none
dd if="$SCRATCH/fill" of="$dev" bs=1M seek=16 oflag=direct status=none ||
	fail "writing $dev"
assert_eq "$(sum_range /dev/vdb $((16 * M)) $((8 * M)))" "$(file_sum "$SCRATCH/fill")" \
	"random fill on vdb"
before=$(sum_range "$dev" $((16 * M)) $((2 * M)))
after=$(sum_range "$dev" $((22 * M)) $((2 * M)))

step "write-zeroes 18M..22M through $dev"
ok blkdiscard -z -o $((18 * M)) -l $((4 * M)) "$dev"
z=$(zero_sum $((4 * M)))
assert_eq "$(sum_range "$dev" $((18 * M)) $((4 * M)))" "$z" "zeroed range via $dev"
assert_eq "$(sum_range /dev/vdb $((18 * M)) $((4 * M)))" "$z" "zeroed range via vdb"
for d in "$dev" /dev/vdb; do
	assert_eq "$(sum_range "$d" $((16 * M)) $((2 * M)))" "$before" "bytes before the range on $d"
	assert_eq "$(sum_range "$d" $((22 * M)) $((2 * M)))" "$after" "bytes after the range on $d"
done

step "discard through $dev"
ok blkdiscard -o $((32 * M)) -l $((8 * M)) "$dev"
ok blkdiscard "$dev"

step "O_DIRECT|O_SYNC write reads back from /dev/vdb"
dd if=/dev/urandom of="$SCRATCH/sync" bs=4k count=64 status=none
dd if="$SCRATCH/sync" of="$dev" bs=4k seek=1000 oflag=direct,sync status=none ||
	fail "O_DIRECT|O_SYNC write to $dev"
assert_eq "$(sum_range /dev/vdb $((1000 * 4096)) $((64 * 4096)))" \
	"$(file_sum "$SCRATCH/sync")" "O_DIRECT|O_SYNC data on vdb"
assert_eq "$(sum_range "$dev" $((1000 * 4096)) $((64 * 4096)))" \
	"$(file_sum "$SCRATCH/sync")" "O_DIRECT|O_SYNC data via $dev"

step "buffered write + fsync reads back from /dev/vdb"
dd if=/dev/urandom of="$SCRATCH/buf" bs=4k count=32 status=none
dd if="$SCRATCH/buf" of="$dev" bs=4k seek=3000 conv=fsync status=none ||
	fail "buffered write to $dev"
assert_eq "$(sum_range /dev/vdb $((3000 * 4096)) $((32 * 4096)))" \
	"$(file_sum "$SCRATCH/buf")" "fsync'd buffered data on vdb"

ferry_detach v0
unload_ferry
step "done"
