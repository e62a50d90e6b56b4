#!/bin/sh
# Replication between two sites in one VM: v0 (vdb/vdc) is the primary,
# v1 (vdd/vde) the replica, `ferry receive` on 127.0.0.1:7000 with its own
# state dir. A full copy first (random data plus an all-zero tail: ZERO
# frames), then an incremental one of a few scattered 4 KiB writes, then
# one with no change at all. Each replica snapshot holds the bytes of its
# point and its tags; the primary keeps no snapshot; older replica
# snapshots keep their bytes.
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
assert_eq "$size" "$(dev_size "$d1")" "sizes of $d0 and $d1"

# snap_json NAME ID FIELD: one field of a snapshot from `ferry snapshots --json`.
snap_json() {
	"$FERRY" snapshots "$1" --json >"$SCRATCH/snaps.json" ||
		fail "ferry snapshots $1 --json"
	$JQ -r --argjson id "$2" ".[] | select(.id == \$id) | $3" "$SCRATCH/snaps.json"
}

live_snaps() {
	"$FERRY" snapshots "$1" --json | $JQ '[.[] | select(.state == "live")] | length'
}

# replicate OUT: one round with --json into OUT, timed.
replicate() {
	_t=$($DATE +%s)
	"$FERRY" --state-dir /tmp/pri replicate v0 --to $PORT --once --json \
		--verbose >"$1" 2>"$SCRATCH/rep.err" || {
		cat "$SCRATCH/rep.err" >&2
		cat "$SCRATCH/recv.err" >&2
		fail "ferry replicate v0 --to $PORT --once"
	}
	cat "$SCRATCH/rep.err"
	$JQ -c . "$1"
	echo "    took $(($($DATE +%s) - _t)) s"
}

step "random data on $d0, the last 16 MiB left zero"
ok dd if=/dev/urandom of="$d0" bs=1M count=$((size / M - 16)) oflag=direct \
	iflag=fullblock status=none
sum1=$(sum_dev "$d0")

step "receiver for v1 on $PORT"
"$FERRY" --state-dir /tmp/dr receive v1 --listen $PORT --verbose \
	>"$SCRATCH/recv.out" 2>"$SCRATCH/recv.err" &
rpid=$!
i=0
until grep -q "receiving into" "$SCRATCH/recv.err"; do
	i=$((i + 1))
	[ $i -le 50 ] || fail "receiver did not start: $(cat "$SCRATCH/recv.err")"
	sleep 0.1
done

step "first replication: full"
replicate "$SCRATCH/r1.json"
assert_eq "$($JQ -r .mode "$SCRATCH/r1.json")" full "mode of the first round"
p1=$($JQ -r .point "$SCRATCH/r1.json")
rs1=$($JQ -r .replica_snap_id "$SCRATCH/r1.json")
sent1=$($JQ -r .bytes_sent "$SCRATCH/r1.json")
echo "    point $p1, replica snapshot $rs1, sent $sent1 bytes"
[ "$sent1" -lt $((size - 15 * M)) ] ||
	fail "full copy sent $sent1 bytes: the zero tail was sent as data"
rdev1=$(snap_json v1 "$rs1" .device)
assert_eq "$(sum_dev "$rdev1")" "$sum1" "replica snapshot $rs1 vs $d0 at point 1"
assert_eq "$(snap_json v1 "$rs1" '.tags["ferry.point"]')" "$p1" "ferry.point tag"
[ -n "$(snap_json v1 "$rs1" '.tags["ferry.source.id"] // empty')" ] ||
	fail "replica snapshot has no ferry.source.id tag"
assert_eq "$(live_snaps v0)" 0 "live primary snapshots after the ack"
[ -f /tmp/pri/repl-v0.base ] || fail "no base file in the primary's state dir"
grep -q "point=$p1" /tmp/pri/repl-v0.base || fail "base file: $(cat /tmp/pri/repl-v0.base)"
grep -q "point=$p1" /tmp/dr/recv-v1.state || fail "receiver state: $(cat /tmp/dr/recv-v1.state)"

step "scattered 4 KiB writes on $d0"
chunks=""
for blk in 5 3000 7777 17000 30001; do
	ok dd if=/dev/urandom of="$d0" bs=4096 seek=$blk count=1 oflag=direct \
		conv=notrunc status=none
	chunks="$chunks $((blk * 4096 / C))"
done
nchunks=$(echo "$chunks" | tr ' ' '\n' | grep . | sort -u | wc -l)
sum2=$(sum_dev "$d0")
assert_ne "$sum2" "$sum1" "content after the writes"

step "second replication: incremental"
replicate "$SCRATCH/r2.json"
assert_eq "$($JQ -r .mode "$SCRATCH/r2.json")" incremental "mode of the second round"
rs2=$($JQ -r .replica_snap_id "$SCRATCH/r2.json")
sent2=$($JQ -r .bytes_sent "$SCRATCH/r2.json")
changed2=$($JQ -r .bytes_changed "$SCRATCH/r2.json")
# The precise map: 5 blocks of 4 KiB, not their 64 KiB chunks; on the
# wire at most 5 % more plus the round's fixed messages.
limit=$((changed2 + changed2 / 20 + 4096))
echo "    sent $sent2 bytes for 5 blocks in $nchunks chunks ($changed2 bytes changed; limit $limit)"
assert_eq "$changed2" $((5 * 4096)) "bytes_changed"
[ "$sent2" -le "$limit" ] || fail "incremental round sent $sent2 bytes > $limit"
assert_ne "$rs2" "$rs1" "second replica snapshot id"
assert_eq "$(sum_dev "$(snap_json v1 "$rs2" .device)")" "$sum2" "replica snapshot $rs2 vs $d0 at point 2"
assert_eq "$(sum_dev "$rdev1")" "$sum1" "replica snapshot $rs1 still at point 1"
assert_eq "$(live_snaps v0)" 0 "live primary snapshots after the second ack"

step "third replication: nothing changed"
replicate "$SCRATCH/r3.json"
assert_eq "$($JQ -r .mode "$SCRATCH/r3.json")" incremental "mode of the third round"
assert_eq "$($JQ -r .bytes_changed "$SCRATCH/r3.json")" 0 "bytes_changed"
rs3=$($JQ -r .replica_snap_id "$SCRATCH/r3.json")
assert_eq "$(sum_dev "$(snap_json v1 "$rs3" .device)")" "$sum2" "replica snapshot $rs3"

step "text output of a round"
"$FERRY" --state-dir /tmp/pri replicate v0 --to $PORT --once >"$SCRATCH/r4.txt" ||
	fail "replicate (text)"
cat "$SCRATCH/r4.txt"
grep -q "mode incremental" "$SCRATCH/r4.txt" || fail "no 'mode incremental' in the text output"
grep -Eq "sent [0-9]+ bytes" "$SCRATCH/r4.txt" || fail "no 'sent N bytes' in the text output"

step "receiver output"
kill "$rpid"
wait "$rpid" 2>/dev/null
cat "$SCRATCH/recv.out"
grep -c "received" "$SCRATCH/recv.out" | grep -qx 4 || fail "receiver did not report 4 streams"
ok ferry_detach v0
ok ferry_detach v1
