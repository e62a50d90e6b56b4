#!/bin/sh
# Resume of an interrupted stream. v0 (vdb/vdc) is the primary, v1
# (vdd/vde) the replica. A full copy of 128 MiB of random data, slowed
# with --bwlimit, loses its receiver to kill -9 half-way: the restarted
# receiver answers RESUME with its durable offset, the retrying sender
# goes on from there (bytes sent in all < 2 x size) and the replica
# snapshot equals the source. Then an incremental round loses its
# sender to kill -9: the primary keeps the snapshot of the point in
# flight, a new `replicate --once` sends the same point, resumed, and
# deletes the snapshot after the ack.
# disks: 128M 128M 128M 128M
# timeout: 480
# shellcheck source-path=SCRIPTDIR/.. source=lib.sh
. /scenarios/lib.sh

M=1048576
PORT=127.0.0.1:7000
RESUME=/tmp/dr/recv-v1.resume
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

start_receiver() {
	"$FERRY" --state-dir /tmp/dr receive v1 --listen $PORT --verbose \
		>>"$SCRATCH/recv.out" 2>"$SCRATCH/recv.err" &
	rpid=$!
	_i=0
	until grep -q "receiving into" "$SCRATCH/recv.err"; do
		_i=$((_i + 1))
		[ $_i -le 50 ] || fail "receiver did not start: $(cat "$SCRATCH/recv.err")"
		sleep 0.1
	done
}

# resume_offset: the receiver's durable offset (0 without a file).
resume_offset() {
	sed -n 's/^offset=//p' $RESUME 2>/dev/null | grep . || echo 0
}

# wait_progress MIN: until the receiver's resume file is past MIN bytes.
wait_progress() {
	_i=0
	while [ "$(resume_offset)" -le "$1" ]; do
		_i=$((_i + 1))
		[ $_i -le 600 ] || fail "no progress past $1 in the resume file"
		sleep 0.1
	done
	echo "    receiver durable at $(resume_offset) bytes"
}

step "random data on all of $d0 ($((size / M)) MiB)"
ok dd if=/dev/urandom of="$d0" bs=1M count=$((size / M)) oflag=direct \
	iflag=fullblock status=none
sum1=$(sum_dev "$d0")
start_receiver

step "full copy at 8 MiB/s; kill -9 the receiver part-way"
t=$($DATE +%s)
"$FERRY" --state-dir /tmp/pri replicate v0 --to $PORT --once --json \
	--verbose --bwlimit 8M --timeout 300 >"$SCRATCH/r1.json" \
	2>"$SCRATCH/r1.err" &
spid=$!
wait_progress $((16 * M))
kill -9 "$rpid"
wait "$rpid" 2>/dev/null
off1=$(resume_offset)
echo "    receiver killed; durable offset $off1"
[ "$off1" -lt "$size" ] || fail "the stream was over before the kill"
sleep 2
start_receiver
wait "$spid" || {
	cat "$SCRATCH/r1.err" "$SCRATCH/recv.err" >&2
	fail "replicate after the receiver's restart"
}
cat "$SCRATCH/r1.err"
$JQ -c . "$SCRATCH/r1.json"
echo "    took $(($($DATE +%s) - t)) s"
p1=$($JQ -r .point "$SCRATCH/r1.json")
sent1=$($JQ -r .bytes_sent "$SCRATCH/r1.json")
from1=$($JQ -r .resumed_from "$SCRATCH/r1.json")
[ "$from1" -ge "$off1" ] || fail "resumed from $from1, the receiver had $off1 durable"
[ "$from1" -gt 0 ] || fail "the sender did not resume"
[ "$sent1" -lt $((2 * size)) ] || fail "sent $sent1 bytes in all for $size"
[ "$sent1" -lt $((2 * size - from1 + 16 * M)) ] ||
	fail "sent $sent1 bytes: more than the durable part was sent twice"
echo "    sent $sent1 bytes in all for $size, resumed at $from1"
rs1=$($JQ -r .replica_snap_id "$SCRATCH/r1.json")
assert_eq "$(sum_dev "$(snap_json v1 "$rs1" .device)")" "$sum1" \
	"replica snapshot $rs1 vs the source"
assert_eq "$(snap_json v1 "$rs1" '.tags["ferry.point"]')" "$p1" "ferry.point"
assert_eq "$(live_snaps v0)" 0 "live primary snapshots after the ack"
[ ! -e $RESUME ] || fail "resume file left after the point arrived"
grep -q "^inflight_point=$" /tmp/pri/repl-v0.base ||
	fail "base file still has a point in flight: $(cat /tmp/pri/repl-v0.base)"

step "96 MiB rewritten; kill -9 the sender part-way"
ok dd if=/dev/urandom of="$d0" bs=1M count=96 oflag=direct iflag=fullblock \
	status=none
sum2=$(sum_dev "$d0")
"$FERRY" --state-dir /tmp/pri replicate v0 --to $PORT --once --json \
	--verbose --bwlimit 8M --timeout 300 >"$SCRATCH/r2.json" \
	2>"$SCRATCH/r2.err" &
spid=$!
wait_progress $((16 * M))
kill -9 "$spid"
wait "$spid" 2>/dev/null
cat "$SCRATCH/r2.err"
p2=$(sed -n 's/^inflight_point=//p' /tmp/pri/repl-v0.base)
s2=$(sed -n 's/^inflight_snap=//p' /tmp/pri/repl-v0.base)
[ -n "$p2" ] || fail "no point in flight in the base file: $(cat /tmp/pri/repl-v0.base)"
echo "    point $p2 in flight, primary snapshot $s2"
assert_eq "$(snap_json v0 "$s2" .state)" live "state of the snapshot in flight"
# The receiver still drains what the sender had sent: wait until its
# durable offset stops moving.
off2=$(resume_offset)
i=0
while sleep 1; do
	o=$(resume_offset)
	[ "$o" != "$off2" ] || break
	off2=$o
	i=$((i + 1))
	[ "$i" -le 60 ] || fail "the receiver's offset still moves after 60 s"
done
echo "    receiver durable at $off2"

step "replicate --once again: the same point, resumed"
t=$($DATE +%s)
"$FERRY" --state-dir /tmp/pri replicate v0 --to $PORT --once --json \
	--verbose --timeout 300 >"$SCRATCH/r3.json" 2>"$SCRATCH/r3.err" || {
	cat "$SCRATCH/r3.err" "$SCRATCH/recv.err" >&2
	fail "replicate after the sender was killed"
}
cat "$SCRATCH/r3.err"
$JQ -c . "$SCRATCH/r3.json"
echo "    took $(($($DATE +%s) - t)) s"
assert_eq "$($JQ -r .point "$SCRATCH/r3.json")" "$p2" "point of the rerun"
assert_eq "$($JQ -r .source_snap_id "$SCRATCH/r3.json")" "$s2" "snapshot of the rerun"
assert_eq "$($JQ -r .resumed_point "$SCRATCH/r3.json")" true "resumed_point"
assert_eq "$($JQ -r .mode "$SCRATCH/r3.json")" incremental "mode of the rerun"
from3=$($JQ -r .resumed_from "$SCRATCH/r3.json")
assert_eq "$from3" "$off2" "resumed_from vs the receiver's durable offset"
[ "$from3" -gt 0 ] || fail "the rerun did not resume"
sent3=$($JQ -r .bytes_sent "$SCRATCH/r3.json")
[ "$sent3" -le $((96 * M - from3 + M)) ] ||
	fail "rerun sent $sent3 bytes, resumed at $from3 of 96 MiB"
rs3=$($JQ -r .replica_snap_id "$SCRATCH/r3.json")
assert_eq "$(sum_dev "$(snap_json v1 "$rs3" .device)")" "$sum2" \
	"replica snapshot $rs3 vs the source"
assert_eq "$(sum_dev "$(snap_json v1 "$rs1" .device)")" "$sum1" \
	"replica snapshot $rs1 still at point 1"
assert_eq "$(live_snaps v0)" 0 "live primary snapshots after the ack"

step "a plain incremental round afterwards"
ok dd if=/dev/urandom of="$d0" bs=1M count=4 oflag=direct iflag=fullblock \
	status=none
sum4=$(sum_dev "$d0")
"$FERRY" --state-dir /tmp/pri replicate v0 --to $PORT --once --json \
	>"$SCRATCH/r4.json" 2>"$SCRATCH/r4.err" || fail "replicate: $(cat "$SCRATCH/r4.err")"
assert_eq "$(sum_dev "$(snap_json v1 "$($JQ -r .replica_snap_id "$SCRATCH/r4.json")" .device)")" \
	"$sum4" "replica after a plain incremental round"

kill "$rpid"
wait "$rpid" 2>/dev/null
cat "$SCRATCH/recv.out"
ok ferry_detach v0
ok ferry_detach v1
