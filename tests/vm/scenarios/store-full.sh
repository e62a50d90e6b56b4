#!/bin/sh
# A full CoW store: overwriting the whole origin behind a snapshot with an
# 8M store never fails a write and leaves the right bytes on /dev/ferry0;
# the snapshot turns "invalid" (its reads fail with EIO), and `ferry
# events` reports cow-low and snapshot-invalid. After deleting it, a new
# snapshot works.
# disks: 128M 8M
# timeout: 480
# shellcheck source-path=SCRIPTDIR/.. source=lib.sh
. /scenarios/lib.sh

M=1048576
load_ferry
dev=$(ferry_attach v0 /dev/vdb /dev/vdc --chunk 64K) || exit 1
size=$(dev_size "$dev")
ref=$SCRATCH/ref

step "fill, snapshot"
head -c "$size" /dev/urandom >"$ref"
ok dd if="$ref" of="$dev" bs=1M oflag=direct status=none
take_snapshot v0
id=$(snap_id v0)
sd=$(snap_dev v0)
assert_eq "$(sum_dev "$sd")" "$(file_sum "$ref")" "snapshot right after it was taken"
echo "    cow_total $(vol_field v0 .cow_total)"

step "overwrite all $size bytes: every write succeeds"
events_start 2 120
head -c "$size" /dev/urandom >"$ref"
ok dd if="$ref" of="$dev" bs=1M oflag=direct status=none
events_wait
assert_eq "$(jq -r .event "$SCRATCH/events.jsonl" | sort | tr '\n' ' ')" \
	"cow-low snapshot-invalid " "events"
jq -e --argjson id "$id" 'select(.event == "snapshot-invalid") |
	.name == "v0" and .snap == $id' "$SCRATCH/events.jsonl" >/dev/null ||
	fail "snapshot-invalid event does not name v0 snapshot $id"
assert_dev_is_file "$dev" "$ref"

step "the snapshot is invalid and its reads fail"
assert_eq "$(snap_field v0 "$id" .state)" invalid "state"
if [ -b "$sd" ]; then
	assert_read_fails "$sd"
else
	echo "    $sd is gone (device null: $(snap_field v0 "$id" .device))"
fi
echo "    cow_used now $(vol_field v0 .cow_used)"

step "more writes still succeed"
wr "$dev" "$ref" $((5 * M)) $((3 * M)) direct
assert_dev_is_file "$dev" "$ref"

step "delete it; a new snapshot works"
snap_delete v0 "$id"
take_snapshot v0
id2=$(snap_id v0)
sd2=$(snap_dev v0)
[ "$id2" -gt "$id" ] || fail "new id $id2 not above $id"
sum=$(file_sum "$ref")
wr "$dev" "$ref" $((64 * M)) $((2 * M)) direct
wr "$dev" "$ref" $((100 * M + 4096)) 4096 direct
assert_eq "$(snap_field v0 "$id2" .state)" live "state of the new snapshot"
assert_eq "$(sum_dev "$sd2")" "$sum" "new snapshot after writes"
assert_dev_is_file "$dev" "$ref"
snap_delete v0 "$id2"

ferry_detach v0
unload_ferry
step "done"
