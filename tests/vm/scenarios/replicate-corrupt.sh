#!/bin/sh
# A DATA frame damaged in transit. The sender's test-only fault injection
# FERRY_TEST_CORRUPT_FRAME=N (docs/protocol.md) flips one payload byte of
# its N-th DATA frame after the crc was computed. v0 (vdb/vdc) is the
# primary, v1 (vdd/vde) the replica, `ferry receive` on 127.0.0.1:7000.
# - Full copy of 128 MiB, frame 20 damaged: the receiver refuses it with
#   ERROR (its stderr names the payload checksum and the offset), the
#   sender reconnects within --timeout and resumes from the receiver's
#   durable offset; the replica snapshot equals the source.
# - Incremental round of one 64 KiB chunk (a single DATA frame), damaged
#   on every try, --timeout 4: the round fails naming the checksum, and
#   the replica's bytes at that offset are still the old ones (the frame
#   was never written). The next run, damaging its first
#   frame again, retries, completes, and the replica equals the source.
# disks: 128M 128M 128M 128M
# timeout: 480
# shellcheck source-path=SCRIPTDIR/.. source=lib.sh
. /scenarios/lib.sh

M=1048576
C=65536
PORT=127.0.0.1:7000
load_ferry
d0=$(ferry_attach v0 /dev/vdb /dev/vdc) || exit 1
d1=$(ferry_attach v1 /dev/vdd /dev/vde) || exit 1
size=$(dev_size "$d0")

snap_json() {
	"$FERRY" snapshots "$1" --json >"$SCRATCH/snaps.json" ||
		fail "ferry snapshots $1 --json"
	$JQ -r --argjson id "$2" ".[] | select(.id == \$id) | $3" "$SCRATCH/snaps.json"
}

live_snaps() {
	"$FERRY" snapshots "$1" --json | $JQ '[.[] | select(.state == "live")] | length'
}

step "random data on $d0; receiver for v1 on $PORT"
ok dd if=/dev/urandom of="$d0" bs=1M count=$((size / M)) oflag=direct \
	iflag=fullblock status=none
sum1=$(sum_dev "$d0")
"$FERRY" --state-dir /tmp/dr receive v1 --listen $PORT --verbose \
	>"$SCRATCH/recv.out" 2>"$SCRATCH/recv.err" &
rpid=$!
i=0
until grep -q "receiving into" "$SCRATCH/recv.err"; do
	i=$((i + 1))
	[ $i -le 50 ] || fail "receiver did not start: $(cat "$SCRATCH/recv.err")"
	sleep 0.1
done

step "full copy, DATA frame 20 damaged"
FERRY_TEST_CORRUPT_FRAME=20 "$FERRY" --state-dir /tmp/pri replicate v0 \
	--to $PORT --once --json --verbose --timeout 300 >"$SCRATCH/r1.json" \
	2>"$SCRATCH/r1.err" || {
	cat "$SCRATCH/r1.err" "$SCRATCH/recv.err" >&2
	fail "replicate with a damaged frame did not complete"
}
cat "$SCRATCH/r1.err"
$JQ -c . "$SCRATCH/r1.json"
off=$(sed -n 's/.*FERRY_TEST_CORRUPT_FRAME: DATA frame [0-9]* at offset \([0-9]*\) corrupted.*/\1/p' "$SCRATCH/r1.err")
[ -n "$off" ] || fail "the sender did not damage a frame"
grep -E "payload checksum mismatch \(offset $off, [0-9]+ bytes\): refused, not written" \
	"$SCRATCH/recv.err" || fail "receiver stderr does not name the crc error at $off: $(cat "$SCRATCH/recv.err")"
grep -q "retrying" "$SCRATCH/r1.err" || fail "the sender did not retry"
assert_eq "$($JQ -r .connections "$SCRATCH/r1.json")" 2 "connections"
from=$($JQ -r .resumed_from "$SCRATCH/r1.json")
if [ "$from" -le 0 ] || [ "$from" -gt "$off" ]; then
	fail "resumed from $from, the damaged frame was at $off"
fi
sent=$($JQ -r .bytes_sent "$SCRATCH/r1.json")
# The first connection goes on sending past the damaged frame until the
# receiver's ERROR reaches it (socket buffers, and the receiver reads and
# drops for up to 1 s before closing): not bounded by the offset.
[ "$sent" -lt $((2 * size)) ] || fail "sent $sent bytes in all for $size"
echo "    damaged frame at $off, resumed from $from, sent $sent bytes for $size"
rs1=$($JQ -r .replica_snap_id "$SCRATCH/r1.json")
assert_eq "$(sum_dev "$(snap_json v1 "$rs1" .device)")" "$sum1" \
	"replica snapshot $rs1 vs the source"
assert_eq "$(live_snaps v0)" 0 "live primary snapshots after the ack"

step "one changed chunk; its only DATA frame damaged on every try"
blk=$((77 * C / 4096))
ok dd if=/dev/urandom of="$d0" bs=4096 seek=$blk count=$((C / 4096)) \
	oflag=direct conv=notrunc status=none
sum2=$(sum_dev "$d0")
old=$(sum_range "$d1" $((77 * C)) $C)
assert_eq "$old" "$(sum_range "$(snap_json v1 "$rs1" .device)" $((77 * C)) $C)" \
	"replica chunk 77 before the round"
assert_ne "$(sum_range "$d0" $((77 * C)) $C)" "$old" "chunk 77 after the write"
refused=$(grep -c "refused, not written" "$SCRATCH/recv.err")
if FERRY_TEST_CORRUPT_FRAME=1+ "$FERRY" --state-dir /tmp/pri replicate v0 \
	--to $PORT --once --json --verbose --timeout 4 >"$SCRATCH/r2.json" \
	2>"$SCRATCH/r2.err"; then
	cat "$SCRATCH/r2.err"
	fail "the round whose every try sent a damaged frame succeeded"
fi
cat "$SCRATCH/r2.err"
grep -q "corrupted" "$SCRATCH/r2.err" || fail "the sender did not damage a frame"
grep -q "checksum mismatch" "$SCRATCH/r2.err" ||
	fail "the sender's error does not name the checksum"
i=0
until [ "$(grep -c "refused, not written" "$SCRATCH/recv.err")" -gt "$refused" ]; do
	i=$((i + 1))
	[ $i -le 50 ] ||
		fail "receiver did not refuse the second damaged frame: $(cat "$SCRATCH/recv.err")"
	sleep 0.1
done
sleep 1 # the receiver's log of the last try
refused=$(grep -c "refused, not written" "$SCRATCH/recv.err")
assert_eq "$(sum_range "$d1" $((77 * C)) $C)" "$old" \
	"replica chunk 77 after the refused frame (written anyway?)"
assert_eq "$(live_snaps v0)" 1 "primary snapshots kept for the failed round"

step "again, first frame damaged again: retried, completes"
FERRY_TEST_CORRUPT_FRAME=1 "$FERRY" --state-dir /tmp/pri replicate v0 \
	--to $PORT --once --json --verbose --timeout 300 >"$SCRATCH/r3.json" \
	2>"$SCRATCH/r3.err" || {
	cat "$SCRATCH/r3.err" "$SCRATCH/recv.err" >&2
	fail "replicate after the failed round"
}
cat "$SCRATCH/r3.err"
$JQ -c . "$SCRATCH/r3.json"
assert_eq "$($JQ -r .resumed_point "$SCRATCH/r3.json")" true "resumed_point"
assert_eq "$($JQ -r .connections "$SCRATCH/r3.json")" 2 "connections"
assert_eq "$($JQ -r .mode "$SCRATCH/r3.json")" incremental "mode"
rs3=$($JQ -r .replica_snap_id "$SCRATCH/r3.json")
assert_eq "$(sum_dev "$(snap_json v1 "$rs3" .device)")" "$sum2" \
	"replica snapshot $rs3 vs the source"
assert_eq "$(sum_dev "$(snap_json v1 "$rs1" .device)")" "$sum1" \
	"replica snapshot $rs1 still at point 1"
assert_eq "$(live_snaps v0)" 0 "live primary snapshots after the ack"
grep -c "refused, not written" "$SCRATCH/recv.err" | grep -qx $((refused + 1)) ||
	fail "receiver did not refuse the third damaged frame"

kill "$rpid"
wait "$rpid" 2>/dev/null
grep -c "received" "$SCRATCH/recv.out" | grep -qx 2 ||
	fail "receiver did not report 2 streams: $(cat "$SCRATCH/recv.out")"
ok ferry_detach v0
ok ferry_detach v1
