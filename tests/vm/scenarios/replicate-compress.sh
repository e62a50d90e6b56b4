#!/bin/sh
# Replication with zstd-compressed data frames (replicate --compress).
# v0 (vdb/vdc) is the primary, v1 (vdd/vde) the replica, `ferry receive`
# on 127.0.0.1:7000. The volume holds 16 MiB of random data (it does not
# shrink: sent raw), 96 MiB of text (compressible) and a zero tail (ZERO
# frames).
# - Full copy, compressed: the replica snapshot equals the source (sha256
#   of the whole devices); the bytes on the wire are far fewer than the
#   changed bytes; the random part went raw; the receiver counted the
#   same compressed frames and wire bytes as the sender.
# - Incremental round of text and random writes, compressed: same checks.
# - A compressed frame damaged in transit: the receiver refuses it
#   (payload checksum, before decompression), the sender resumes, the
#   replica equals the source.
# - A receiver run with --no-compress: the sender says once that it sends
#   uncompressed, and the round completes with raw frames only.
# disks: 128M 128M 128M 128M
# timeout: 600
# shellcheck source-path=SCRIPTDIR/.. source=lib.sh
. /scenarios/lib.sh

M=1048576
PORT=127.0.0.1:7000
load_ferry
d0=$(ferry_attach v0 /dev/vdb /dev/vdc) || exit 1
d1=$(ferry_attach v1 /dev/vdd /dev/vde) || exit 1
size=$(dev_size "$d0")
assert_eq "$size" "$(dev_size "$d1")" "sizes of $d0 and $d1"

snap_json() {
	"$FERRY" snapshots "$1" --json >"$SCRATCH/snaps.json" ||
		fail "ferry snapshots $1 --json"
	$JQ -r --argjson id "$2" ".[] | select(.id == \$id) | $3" "$SCRATCH/snaps.json"
}

# receiver [OPTION...]: `ferry receive v1` in the background ($rpid).
receiver() {
	: >"$SCRATCH/recv.err"
	"$FERRY" --state-dir /tmp/dr receive v1 --listen $PORT --verbose --json \
		"$@" >>"$SCRATCH/recv.out" 2>"$SCRATCH/recv.err" &
	rpid=$!
	_i=0
	until grep -q "receiving into" "$SCRATCH/recv.err"; do
		_i=$((_i + 1))
		[ $_i -le 50 ] || fail "receiver did not start: $(cat "$SCRATCH/recv.err")"
		sleep 0.1
	done
}

receiver_stop() {
	kill "$rpid"
	wait "$rpid" 2>/dev/null
}

# replicate OUT [OPTION...]: one round with --json into OUT.
replicate() {
	_out=$1
	shift
	"$FERRY" --state-dir /tmp/pri replicate v0 --to $PORT --once --json \
		--verbose "$@" >"$_out" 2>"$SCRATCH/rep.err" || {
		cat "$SCRATCH/rep.err" >&2
		cat "$SCRATCH/recv.err" >&2
		fail "ferry replicate v0 --to $PORT --once $*"
	}
	cat "$SCRATCH/rep.err"
	$JQ -c . "$_out"
	# Payload bytes on the wire are part of all the bytes sent.
	[ "$($JQ -r .bytes_data_wire "$_out")" -le "$($JQ -r .bytes_sent "$_out")" ] ||
		fail "bytes_data_wire above bytes_sent"
}

# field FILE KEY
field() { $JQ -r ".$2" "$1"; }

# last_recv KEY: KEY of the receiver's last stream report.
last_recv() { $JQ -s -r ".[-1].$1" "$SCRATCH/recv.out"; }

# check_replica JSON SUM: the round's replica snapshot holds SUM.
check_replica() {
	_rs=$(field "$1" replica_snap_id)
	assert_eq "$(sum_dev "$(snap_json v1 "$_rs" .device)")" "$2" \
		"replica snapshot $_rs vs $d0"
}

step "text file: 4 MiB of numbered lines"
txt=$SCRATCH/text
awk 'BEGIN { for (i = 0; i < 90000; i++)
	printf "%08d ferry replication test line, value %d, tag %x\n", i, i * 7919, i * 31 }' |
	head -c $((4 * M)) >"$txt"
assert_eq "$($STAT -c %s "$txt")" $((4 * M)) "size of the text file"

step "$d0: 16 MiB random, 96 MiB text, zero tail"
ok dd if=/dev/urandom of="$d0" bs=1M count=16 oflag=direct iflag=fullblock \
	status=none
k=0
while [ $k -lt 24 ]; do
	ok dd if="$txt" of="$d0" bs=1M seek=$((16 + 4 * k)) count=4 \
		oflag=direct conv=notrunc status=none
	k=$((k + 1))
done
sum1=$(sum_dev "$d0")
receiver

step "full copy, compressed"
replicate "$SCRATCH/r1.json" --compress
assert_eq "$(field "$SCRATCH/r1.json" mode)" full "mode"
assert_eq "$(field "$SCRATCH/r1.json" compress)" zstd "compress"
check_replica "$SCRATCH/r1.json" "$sum1"
sent=$(field "$SCRATCH/r1.json" bytes_sent)
changed=$(field "$SCRATCH/r1.json" bytes_changed)
data=$(field "$SCRATCH/r1.json" bytes_data)
wire=$(field "$SCRATCH/r1.json" bytes_data_wire)
zf=$(field "$SCRATCH/r1.json" zstd_frames)
echo "    changed $changed, data $data as $wire on the wire, $sent sent in all, $zf compressed frames, ratio $(field "$SCRATCH/r1.json" compression_ratio)"
assert_eq "$changed" "$size" "bytes_changed of a full copy"
assert_eq "$data" $((112 * M)) "bytes_data (the zero tail goes as ZERO frames)"
# 16 MiB raw plus 96 MiB of text at well under half: clearly fewer.
[ "$sent" -lt $((changed / 2)) ] ||
	fail "sent $sent bytes on the wire for $changed changed"
[ "$wire" -ge $((16 * M)) ] || fail "the random 16 MiB did not go raw: $wire"
[ "$wire" -lt $((16 * M + 48 * M)) ] || fail "text did not shrink: $wire"
[ "$zf" -ge 96 ] || fail "only $zf compressed frames for 96 MiB of text"
assert_eq "$(last_recv bytes_data_wire)" "$wire" "receiver's bytes_data_wire"
assert_eq "$(last_recv zstd_frames)" "$zf" "receiver's zstd_frames"
assert_eq "$(last_recv bytes_data)" "$data" "receiver's bytes_data"

step "text and random writes on $d0"
for blk in 300 700 1100 1290 1500 1700; do # 64 KiB units, in the text
	ok dd if="$txt" of="$d0" bs=64K skip=$((blk % 60)) seek=$blk count=4 \
		oflag=direct conv=notrunc status=none
done
ok dd if=/dev/urandom of="$d0" bs=64K seek=100 count=1 oflag=direct \
	conv=notrunc status=none
sum2=$(sum_dev "$d0")
assert_ne "$sum2" "$sum1" "content after the writes"

step "incremental round, compressed"
replicate "$SCRATCH/r2.json" --compress=9
assert_eq "$(field "$SCRATCH/r2.json" mode)" incremental "mode"
assert_eq "$(field "$SCRATCH/r2.json" compress)" zstd "compress"
check_replica "$SCRATCH/r2.json" "$sum2"
sent=$(field "$SCRATCH/r2.json" bytes_sent)
changed=$(field "$SCRATCH/r2.json" bytes_changed)
wire=$(field "$SCRATCH/r2.json" bytes_data_wire)
echo "    changed $changed, $wire data bytes on the wire, $sent sent in all"
[ "$changed" -ge $((24 * 65536 + 65536)) ] || fail "bytes_changed $changed"
[ "$sent" -lt $((changed / 2)) ] ||
	fail "sent $sent bytes on the wire for $changed changed"
[ "$wire" -ge 65536 ] || fail "the random 64 KiB did not go raw: $wire"
assert_eq "$(last_recv bytes_data_wire)" "$wire" "receiver's bytes_data_wire"

step "full copy, compressed, DATA frame 20 damaged in transit"
export FERRY_TEST_CORRUPT_FRAME=20
replicate "$SCRATCH/r3.json" --compress --full --timeout 300
unset FERRY_TEST_CORRUPT_FRAME
off=$(sed -n 's/.*FERRY_TEST_CORRUPT_FRAME: DATA frame [0-9]* at offset \([0-9]*\) corrupted.*/\1/p' "$SCRATCH/rep.err")
[ -n "$off" ] || fail "the sender did not damage a frame"
# 1 MiB frames: the first 16 are the random part (raw), the 20th is text.
[ "$off" -ge $((16 * M)) ] || fail "the damaged frame at $off is not compressed"
grep -E "payload checksum mismatch \(offset $off, [0-9]+ bytes\): refused, not written" \
	"$SCRATCH/recv.err" ||
	fail "receiver stderr does not name the crc error at $off: $(cat "$SCRATCH/recv.err")"
assert_eq "$(field "$SCRATCH/r3.json" connections)" 2 "connections"
check_replica "$SCRATCH/r3.json" "$sum2"
receiver_stop

step "receiver with --no-compress"
receiver --no-compress
ok dd if="$txt" of="$d0" bs=64K skip=7 seek=900 count=8 oflag=direct \
	conv=notrunc status=none
sum4=$(sum_dev "$d0")
replicate "$SCRATCH/r4.json" --compress
assert_eq "$(field "$SCRATCH/r4.json" compress)" unsupported-by-peer "compress"
assert_eq "$(grep -c "does not offer compression; sending uncompressed" "$SCRATCH/rep.err")" \
	1 "lines saying the sender falls back"
assert_eq "$(field "$SCRATCH/r4.json" zstd_frames)" 0 "zstd_frames"
assert_eq "$(field "$SCRATCH/r4.json" bytes_data_wire)" \
	"$(field "$SCRATCH/r4.json" bytes_data)" "wire bytes of raw frames"
check_replica "$SCRATCH/r4.json" "$sum4"
assert_eq "$(last_recv zstd_frames)" 0 "receiver's zstd_frames"

step "text summary of a compressed round"
ok dd if="$txt" of="$d0" bs=64K skip=3 seek=1000 count=2 oflag=direct \
	conv=notrunc status=none
receiver_stop
receiver
"$FERRY" --state-dir /tmp/pri replicate v0 --to $PORT --once --compress \
	>"$SCRATCH/r5.txt" || fail "replicate (text)"
cat "$SCRATCH/r5.txt"
grep -Eq "compression zstd: [0-9]+ bytes of data as [0-9]+ on the wire" \
	"$SCRATCH/r5.txt" || fail "no compression line in the text output"
check_replica_text() {
	_rs=$(sed -n 's/.*replica snapshot \([0-9]*\) at.*/\1/p' "$SCRATCH/r5.txt")
	assert_eq "$(sum_dev "$(snap_json v1 "$_rs" .device)")" "$(sum_dev "$d0")" \
		"replica snapshot $_rs vs $d0"
}
check_replica_text
receiver_stop
ok ferry_detach v0
ok ferry_detach v1
