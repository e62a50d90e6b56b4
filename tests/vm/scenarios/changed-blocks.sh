#!/bin/sh
# Changed-block tracking: `ferry changed --since A [--until B]` reports
# exactly the 4 KiB blocks written after snapshot A (up to B), merged into
# extents, in JSON and in the human form; it still answers after A is
# deleted, with --since-epoch. After a re-attach (the precise map is kept
# in memory only) it answers in whole 64 KiB chunks until the next
# snapshot starts the precise map again. 4096 extents in one answer, under
# an 8-character volume name, arrive whole.
# disks: 64M 64M
# timeout: 480
# shellcheck source-path=SCRIPTDIR/.. source=lib.sh
. /scenarios/lib.sh

K=1024
M=1048576
C=65536
load_ferry
dev=$(ferry_attach v0 /dev/vdb /dev/vdc --chunk 64K) || exit 1
size=$(dev_size "$dev")
assert_eq "$(vol_field v0 .chunk_size)" "$C" "chunk size"
ref=$SCRATCH/ref
: >"$SCRATCH/w.ab"
: >"$SCRATCH/w.b"

# w LOG OFFSET LENGTH: an O_DIRECT write, recorded in LOG.
w() {
	wr "$dev" "$ref" "$2" "$3" direct
	echo "$2 $3" >>"$1"
}

# expected FILE...: the merged extents of the 4 KiB blocks the writes in
# FILEs touched (the precise map tracks writes from the first snapshot on).
expected() {
	block_extents "$@"
}

# check_changed WHAT EXPECTED_FILE ARGS...: `ferry changed v0 ARGS`, JSON
# and human, must list exactly the extents of EXPECTED_FILE.
check_changed() {
	_what=$1 _exp=$2
	shift 2
	"$FERRY" changed v0 "$@" --json >"$SCRATCH/ch.json" ||
		fail "ferry changed v0 $* --json failed"
	jq -e '(.extents | type == "array") and (.bytes | type == "number") and
		(.cbt_gen | type == "number") and has("cbt_uuid")' \
		"$SCRATCH/ch.json" >/dev/null ||
		fail "ferry changed v0 $* --json: $(cat "$SCRATCH/ch.json")"
	jq -r '.extents[] | "\(.offset) \(.length)"' "$SCRATCH/ch.json" \
		>"$SCRATCH/ch.got"
	if ! cmp -s "$SCRATCH/ch.got" "$_exp"; then
		echo "expected:" >&2
		cat "$_exp" >&2
		echo "got:" >&2
		cat "$SCRATCH/ch.got" >&2
		fail "changed $*: wrong extents ($_what)"
	fi
	_bytes=$(awk '{ t += $2 } END { print t + 0 }' "$_exp")
	_n=$(awk 'END { print NR }' "$_exp")
	assert_eq "$(jq -r .bytes "$SCRATCH/ch.json")" "$_bytes" "bytes of changed $*"
	assert_eq "$(jq -r .cbt_uuid "$SCRATCH/ch.json")" "$cbt_uuid" "cbt_uuid of changed $*"
	assert_eq "$(jq -r .cbt_gen "$SCRATCH/ch.json")" "$cbt_gen" "cbt_gen of changed $*"
	"$FERRY" changed v0 "$@" >"$SCRATCH/ch.txt" ||
		fail "ferry changed v0 $* failed"
	{
		cat "$_exp"
		echo "total $_bytes in $_n extents"
	} >"$SCRATCH/ch.exp.txt"
	if ! cmp -s "$SCRATCH/ch.txt" "$SCRATCH/ch.exp.txt"; then
		echo "expected:" >&2
		cat "$SCRATCH/ch.exp.txt" >&2
		echo "got:" >&2
		cat "$SCRATCH/ch.txt" >&2
		fail "changed $*: human output differs from the JSON ($_what)"
	fi
	echo "    changed $*: $_n extents, $_bytes bytes"
}

step "fill, snapshot A"
head -c "$size" /dev/urandom >"$ref"
ok dd if="$ref" of="$dev" bs=1M oflag=direct status=none
cbt_uuid=$(vol_field v0 .cbt_uuid)
cbt_gen=$(vol_field v0 .cbt_gen)
echo "    cbt_uuid $cbt_uuid cbt_gen $cbt_gen"
take_snapshot v0
a=$(snap_id v0)
ea=$(snap_field v0 "$a" .epoch)
: >"$SCRATCH/none"
check_changed "nothing written since A" "$SCRATCH/none" --since "$a"

step "4K writes at known offsets; snapshot B"
w "$SCRATCH/w.ab" 0 $((4 * K))
w "$SCRATCH/w.ab" $((8 * K)) $((4 * K))
w "$SCRATCH/w.ab" $((C - 4 * K)) $((4 * K))
w "$SCRATCH/w.ab" "$C" $((4 * K))
w "$SCRATCH/w.ab" $((M + 8 * K)) $((4 * K))
w "$SCRATCH/w.ab" $((2 * M - 2 * K)) $((4 * K))
w "$SCRATCH/w.ab" $((5 * M + 512)) 512
w "$SCRATCH/w.ab" $((20 * M)) $((4 * K))
w "$SCRATCH/w.ab" $((20 * M + 3 * C)) $((4 * K))
w "$SCRATCH/w.ab" $((size - 4 * K)) $((4 * K))
take_snapshot v0
b=$(snap_id v0)
expected "$SCRATCH/w.ab" >"$SCRATCH/exp.ab"
echo "    expected A..B: $(tr "\n" " " <"$SCRATCH/exp.ab")"
check_changed "A..B, B just taken" "$SCRATCH/exp.ab" --since "$a" --until "$b"
check_changed "A..now, nothing after B yet" "$SCRATCH/exp.ab" --since "$a"
check_changed "B..now, nothing yet" "$SCRATCH/none" --since "$b"

step "writes after B (some over chunks already written since A)"
w "$SCRATCH/w.b" $((M + 8 * K)) $((4 * K))
w "$SCRATCH/w.b" $((2 * C)) $((4 * K))
w "$SCRATCH/w.b" $((10 * M + C - 512)) $((4 * K))
w "$SCRATCH/w.b" $((20 * M + C)) $((8 * K))
expected "$SCRATCH/w.b" >"$SCRATCH/exp.b"
expected "$SCRATCH/w.ab" "$SCRATCH/w.b" >"$SCRATCH/exp.a"
check_changed "A..B after later writes" "$SCRATCH/exp.ab" --since "$a" --until "$b"
check_changed "A..now" "$SCRATCH/exp.a" --since "$a"
check_changed "B..now" "$SCRATCH/exp.b" --since "$b"

step "unknown snapshot: one-line error"
expect_fail "$FERRY" changed v0 --since 999

step "delete A: --since-epoch $ea gives the same answers"
snap_delete v0 "$a"
check_changed "epoch of A..B" "$SCRATCH/exp.ab" --since-epoch "$ea" --until "$b"
check_changed "epoch of A..now" "$SCRATCH/exp.a" --since-epoch "$ea"
expect_fail "$FERRY" changed v0 --since "$a"

step "the origin and B still hold the right bytes"
assert_dev_is_file "$dev" "$ref"

step "after a re-attach the precise map starts again at the next snapshot"
ferry_detach v0
dev=$(ferry_attach v0 /dev/vdb /dev/vdc) || exit 1
# Only the epoch map survived: whole chunks.
chunk_extents "$C" "$SCRATCH/w.b" >"$SCRATCH/exp.b.chunks"
check_changed "B..now after re-attach" "$SCRATCH/exp.b.chunks" --since "$b"
take_snapshot v0
c3=$(snap_id v0)
: >"$SCRATCH/w.c"
w "$SCRATCH/w.c" $((3 * M + 4 * K)) $((4 * K))
w "$SCRATCH/w.c" $((3 * M + 12 * K)) $((8 * K))
expected "$SCRATCH/w.c" >"$SCRATCH/exp.c"
check_changed "C..now, 4 KiB blocks again" "$SCRATCH/exp.c" --since "$c3"
chunk_extents "$C" "$SCRATCH/w.b" "$SCRATCH/w.c" >"$SCRATCH/exp.bc"
check_changed "B..now, older than the map: whole chunks" "$SCRATCH/exp.bc" --since "$b"
assert_dev_is_file "$dev" "$ref"
snap_delete v0 "$c3"
snap_delete v0 "$b"
ferry_detach v0

# A dump of thousands of extents spans many netlink messages; where each
# ends depends on the volume name's length. No extent may be cut in two
# (the agent would refuse the answer and replication would start over).
step "4096 separate 4 KiB extents under an 8-character volume name"
dev=$(ferry_attach database /dev/vdb /dev/vdc) || exit 1
"$FERRY" snapshot database >"$SCRATCH/db.snap" || fail "snapshot database"
d=$(awk '{ print $2 }' "$SCRATCH/db.snap")
# Every other 4 KiB block of the first 32 MiB.
/usr/bin/fio --name=holes --filename="$dev" --rw=write:4k --bs=4k \
	--direct=1 --size=32M --ioengine=psync >/dev/null 2>&1 ||
	fail "fio write with holes"
awk 'BEGIN { for (i = 0; i < 4096; i++) print i * 8192, 4096 }' \
	>"$SCRATCH/exp.holes"
"$FERRY" changed database --since "$d" --json >"$SCRATCH/db.json" ||
	fail "ferry changed database --since $d --json failed"
jq -r '.extents[] | "\(.offset) \(.length)"' "$SCRATCH/db.json" \
	>"$SCRATCH/db.got"
cmp -s "$SCRATCH/db.got" "$SCRATCH/exp.holes" ||
	fail "changed database: $(wc -l <"$SCRATCH/db.got") extents, first difference: $(cmp "$SCRATCH/db.got" "$SCRATCH/exp.holes" 2>&1)"
snap_delete database "$d"
ferry_detach database
unload_ferry
step "done"
