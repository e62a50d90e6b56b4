#!/bin/sh
# Snapshots survive a clean detach and re-attach of the same devices: same
# ids, labels, tags, epochs, creation times, devices and bytes; the same
# cbt_uuid/cbt_gen and `changed` answers (in whole chunks after the
# re-attach: the 4 KiB precise map lives in memory and starts again at the
# next snapshot); new writes after the re-attach still leave the old
# snapshots intact; ids are not reused.
#
# Not covered here: an unclean shutdown (VM killed) must drop the
# snapshots and bump cbt_gen. That needs a second boot on the same disks,
# which the lab does not do within one scenario. (cow-errors re-attaches
# after a failed metadata save, which is the nearest case.)
# disks: 64M 128M
# timeout: 480
# shellcheck source-path=SCRIPTDIR/.. source=lib.sh
. /scenarios/lib.sh

M=1048576
C=65536
load_ferry
dev=$(ferry_attach v0 /dev/vdb /dev/vdc) || exit 1
size=$(dev_size "$dev")
ref=$SCRATCH/ref
: >"$SCRATCH/w.after1"
: >"$SCRATCH/w.after2"

# w LOG OFFSET LENGTH: an O_DIRECT write, logged.
w() {
	wr "$dev" "$ref" "$2" "$3" direct
	echo "$2 $3" >>"$1"
}

# snap_state: what must survive, normalised.
snap_state() {
	snaps_json v0 | jq -S -c 'sort_by(.id) | .[] |
		{id, "label": .label, tags, epoch, created, state, device,
		 writable}' || fail "ferry snapshots v0 --json: unexpected objects"
}

# changed_json ARGS: the extents of `ferry changed v0 ARGS --json`.
changed_json() {
	"$FERRY" changed v0 "$@" --json >"$SCRATCH/ch.json" ||
		fail "ferry changed v0 $* --json failed"
	jq -r '.extents[] | "\(.offset) \(.length)"' "$SCRATCH/ch.json"
}

step "fill; snapshot 1 with tags and a label; writes; snapshot 2; tag it"
head -c "$size" /dev/urandom >"$ref"
ok dd if="$ref" of="$dev" bs=1M oflag=direct status=none
# A hook that succeeds makes the point application-consistent (honest labels).
take_snapshot v0 --tag app=db --tag run=1 --hook /bin/true
s1=$(snap_id v0)
sum1=$(file_sum "$ref")
w "$SCRATCH/w.after1" $((2 * M)) $((1 * M))
w "$SCRATCH/w.after1" $((9 * C + 512)) 4096
take_snapshot v0 --tag run=2
s2=$(snap_id v0)
sum2=$(file_sum "$ref")
"$FERRY" tag v0 "$s2" extra=yes >/dev/null || fail "ferry tag v0 $s2 extra=yes"
w "$SCRATCH/w.after2" $((2 * M)) $((64 * 1024))
w "$SCRATCH/w.after2" $((30 * M)) $((2 * M))
snap_state >"$SCRATCH/state.before"
cat "$SCRATCH/state.before"
uuid=$(vol_field v0 .cbt_uuid)
gen=$(vol_field v0 .cbt_gen)
epoch=$(vol_field v0 .epoch)
changed_json --since "$s1" >"$SCRATCH/ch1.before"
changed_json --since "$s1" --until "$s2" >"$SCRATCH/ch12.before"
# The precise map (in memory) names 4 KiB blocks; after a re-attach the
# epoch map (saved in the CoW store) answers in whole chunks.
block_extents "$SCRATCH/w.after1" >"$SCRATCH/exp12.blocks"
cmp -s "$SCRATCH/ch12.before" "$SCRATCH/exp12.blocks" || fail "changed --since $s1 --until $s2 before detach"
chunk_extents "$C" "$SCRATCH/w.after1" >"$SCRATCH/exp12"
block_extents "$SCRATCH/w.after1" "$SCRATCH/w.after2" >"$SCRATCH/exp1.blocks"
cmp -s "$SCRATCH/ch1.before" "$SCRATCH/exp1.blocks" || fail "changed --since $s1 before detach"
chunk_extents "$C" "$SCRATCH/w.after1" "$SCRATCH/w.after2" >"$SCRATCH/exp1.before"

step "detach: the snapshot devices go away"
ferry_detach v0
wait_gone "/dev/ferry0s$s1"
wait_gone "/dev/ferry0s$s2"

step "re-attach the same devices"
dev2=$(ferry_attach v0 /dev/vdb /dev/vdc) || exit 1
assert_eq "$dev2" "$dev" "device after re-attach"
wait_dev "/dev/ferry0s$s1"
wait_dev "/dev/ferry0s$s2"
snap_state >"$SCRATCH/state.after"
if ! cmp -s "$SCRATCH/state.before" "$SCRATCH/state.after"; then
	cat "$SCRATCH/state.after" >&2
	fail "snapshots differ after re-attach"
fi
# The user's tags; the agent's own (ferry.point, ferry.hook.*) are checked below.
user_tags='.tags | to_entries | map(select(.key | startswith("ferry.") | not)) | map("\(.key)=\(.value)") | sort | join(",")'
assert_eq "$(snap_field v0 "$s1" "$user_tags")" "app=db,run=1" "tags of $s1"
assert_eq "$(snap_field v0 "$s2" "$user_tags")" "extra=yes,run=2" "tags of $s2"
assert_eq "$(snap_field v0 "$s1" '.tags["ferry.hook.freeze"]')" 0 "freeze hook status of $s1"
p1=$(snap_field v0 "$s1" '.tags["ferry.point"]')
[ -n "$p1" ] && [ "$p1" != null ] || fail "snapshot $s1 lost its point id"
assert_eq "$(snap_field v0 "$s1" .point)" "$p1" "point of $s1"
assert_eq "$(snap_field v0 "$s1" .label)" application "label of $s1"
assert_eq "$(vol_field v0 .cbt_uuid)" "$uuid" "cbt_uuid after a clean re-attach"
assert_eq "$(vol_field v0 .cbt_gen)" "$gen" "cbt_gen after a clean re-attach"
echo "    epoch before $epoch, after $(vol_field v0 .epoch)"

step "same bytes, same changed blocks"
assert_eq "$(sum_dev "/dev/ferry0s$s1")" "$sum1" "snapshot $s1 after re-attach"
assert_eq "$(sum_dev "/dev/ferry0s$s2")" "$sum2" "snapshot $s2 after re-attach"
assert_dev_is_file "$dev" "$ref"
changed_json --since "$s1" >"$SCRATCH/ch1.after"
cmp -s "$SCRATCH/exp1.before" "$SCRATCH/ch1.after" || fail "changed --since $s1 after re-attach: not the chunks written"
changed_json --since "$s1" --until "$s2" >"$SCRATCH/ch12.after"
cmp -s "$SCRATCH/ch12.after" "$SCRATCH/exp12" || fail "changed --since $s1 --until $s2 after re-attach"

step "writes after the re-attach keep the old snapshots"
w "$SCRATCH/w.after2" 0 $((4 * M))
w "$SCRATCH/w.after2" $((9 * C + 512)) 4096
w "$SCRATCH/w.after2" $((size - C)) "$C"
assert_eq "$(sum_dev "/dev/ferry0s$s1")" "$sum1" "snapshot $s1 after new writes"
assert_eq "$(sum_dev "/dev/ferry0s$s2")" "$sum2" "snapshot $s2 after new writes"
assert_dev_is_file "$dev" "$ref"
chunk_extents "$C" "$SCRATCH/w.after2" >"$SCRATCH/exp2"
changed_json --since "$s2" >"$SCRATCH/ch2"
cmp -s "$SCRATCH/ch2" "$SCRATCH/exp2" || fail "changed --since $s2 after re-attach and new writes"
chunk_extents "$C" "$SCRATCH/w.after1" "$SCRATCH/w.after2" >"$SCRATCH/exp1"
changed_json --since "$s1" >"$SCRATCH/ch1"
cmp -s "$SCRATCH/ch1" "$SCRATCH/exp1" || fail "changed --since $s1 after re-attach and new writes"

step "a new snapshot gets a new id and restarts the precise map"
take_snapshot v0
s3=$(snap_id v0)
[ "$s3" -gt "$s2" ] || fail "id $s3 after re-attach, not above $s2"
assert_eq "$(sum_dev "$(snap_dev v0)")" "$(file_sum "$ref")" "snapshot $s3"
: >"$SCRATCH/w.after3"
w "$SCRATCH/w.after3" $((5 * M + 8192)) 4096
block_extents "$SCRATCH/w.after3" >"$SCRATCH/exp3"
changed_json --since "$s3" >"$SCRATCH/ch3"
cmp -s "$SCRATCH/ch3" "$SCRATCH/exp3" || fail "changed --since $s3: not the 4 KiB block written"

step "detach and re-attach once more, then clean up"
ferry_detach v0
dev2=$(ferry_attach v0 /dev/vdb /dev/vdc) || exit 1
wait_dev "/dev/ferry0s$s3"
assert_eq "$(snap_ids v0)" "$s1 $s2 $s3" "ids after the second re-attach"
assert_eq "$(sum_dev "/dev/ferry0s$s1")" "$sum1" "snapshot $s1 after the second re-attach"
for i in "$s1" "$s2" "$s3"; do
	snap_delete v0 "$i"
done
assert_eq "$(vol_field v0 .cow_used)" 0 "cow_used without snapshots"
ferry_detach v0
unload_ferry
step "done"
