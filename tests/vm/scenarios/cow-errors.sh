#!/bin/sh
# Write errors on the CoW device (dm-flakey with error_writes swapped in
# under a live volume): overwriting the origin behind a snapshot never
# fails a write and leaves the right bytes on /dev/ferry0; the snapshot
# turns "invalid" (EIO on read) with a device-error or snapshot-invalid
# event; detach still works. With the store healthy again, re-attach works,
# the origin is intact, and the lost metadata shows: no live snapshot from
# before, and a new cbt_gen if the snapshots were dropped.
# disks: 64M 128M
# timeout: 480
# shellcheck source-path=SCRIPTDIR/.. source=lib.sh
. /scenarios/lib.sh

M=1048576
modprobe dm-flakey || fail "modprobe dm-flakey"
cs=$(blockdev --getsz /dev/vdc)
linear="0 $cs linear /dev/vdc 0"
flakey="0 $cs flakey /dev/vdc 0 0 1 1 error_writes"
ok "$DMSETUP" create ferry-cow --noudevsync --table "$linear"
ok "$DMSETUP" mknodes ferry-cow
[ -b /dev/mapper/ferry-cow ] || fail "no /dev/mapper/ferry-cow"

# swap_table TABLE: load TABLE into ferry-cow under the open volume.
swap_table() {
	ok "$DMSETUP" suspend --noudevsync ferry-cow
	ok "$DMSETUP" load ferry-cow --table "$1"
	ok "$DMSETUP" resume --noudevsync ferry-cow
	echo "    ferry-cow: $("$DMSETUP" table ferry-cow)"
}

load_ferry
dev=$(ferry_attach v0 /dev/vdb /dev/mapper/ferry-cow) || exit 1
size=$(dev_size "$dev")
ref=$SCRATCH/ref

step "fill, snapshot"
head -c "$size" /dev/urandom >"$ref"
ok dd if="$ref" of="$dev" bs=1M oflag=direct status=none
take_snapshot v0
id=$(snap_id v0)
sd=$(snap_dev v0)
assert_eq "$(sum_dev "$sd")" "$(file_sum "$ref")" "snapshot right after it was taken"
gen=$(vol_field v0 .cbt_gen)

step "CoW device fails every write; overwrite the origin"
swap_table "$flakey"
events_start 1 120
head -c "$size" /dev/urandom >"$ref"
ok dd if="$ref" of="$dev" bs=1M oflag=direct status=none
events_wait
case $(events_kinds) in
device-error | snapshot-invalid) ;;
*) fail "first event: $(events_kinds), expected device-error or snapshot-invalid" ;;
esac
assert_dev_is_file "$dev" "$ref"
wr "$dev" "$ref" $((3 * M + 512)) 4096 direct
assert_dev_is_file "$dev" "$ref"

step "the snapshot is invalid and its reads fail"
assert_eq "$(snap_field v0 "$id" .state)" invalid "state"
if [ -b "$sd" ]; then
	assert_read_fails "$sd"
fi

step "detach works with the CoW device still failing"
ferry_detach v0
wait_gone "$sd"
[ ! -e /dev/ferry0 ] || fail "/dev/ferry0 still there after detach"
assert_dev_is_file /dev/vdb "$ref"

step "CoW device healthy again: re-attach, origin intact, new snapshot works"
swap_table "$linear"
dev=$(ferry_attach v0 /dev/vdb /dev/mapper/ferry-cow) || exit 1
assert_dev_is_file "$dev" "$ref"
snaps_json v0 >/dev/null
echo "    snapshots: $(jq -c '[.[] | {id, state}]' "$SCRATCH/snaps.json")"
# The catalog keeps listing points whose kernel snapshot is gone as
# "deleted"; only the kernel's snapshots matter here.
if jq -e '[.[] | select(.state != "deleted")] | length == 0' "$SCRATCH/snaps.json" >/dev/null; then
	assert_ne "$(vol_field v0 .cbt_gen)" "$gen" "cbt_gen after the snapshots were dropped"
else
	assert_eq "$(snap_field v0 "$id" .state)" invalid "state of $id after re-attach"
fi
take_snapshot v0
id2=$(snap_id v0)
sd2=$(snap_dev v0)
[ "$id2" -ne "$id" ] || fail "snapshot id $id reused"
sum=$(file_sum "$ref")
wr "$dev" "$ref" 0 $((2 * M)) direct
assert_eq "$(sum_dev "$sd2")" "$sum" "new snapshot after writes"
assert_dev_is_file "$dev" "$ref"
for i in $(snap_ids v0); do
	snap_delete v0 "$i"
done
ferry_detach v0
unload_ferry
ok "$DMSETUP" remove --noudevsync ferry-cow
step "done"
