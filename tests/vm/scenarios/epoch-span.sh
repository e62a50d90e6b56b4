#!/bin/sh
# The per-chunk epochs (the copy-on-write decision and the changed-block
# map) take two bytes a chunk: their base moves up as old snapshots go, and
# a snapshot that outlives half the span of later ones widens them to four
# bytes. With epoch_span=10 (else it takes thousands of snapshots): over 29
# snapshots every live snapshot keeps its bytes and `ferry changed` between
# neighbours names exactly the chunks written and every 4 KiB block written
# in them (never a block no round wrote); cbt_bytes says 2 bytes
# a chunk while only recent snapshots live, 4 once an old one is kept; a
# detach and re-attach, which reloads the epochs, keeps all of it.
# disks: 16M 64M
# timeout: 600
# shellcheck source-path=SCRIPTDIR/.. source=lib.sh
. /scenarios/lib.sh

C=65536
insmod /lib/ferry/ferry.ko epoch_span=10 || fail "insmod ferry.ko epoch_span=10"
load_ferry
dev=$(ferry_attach v0 /dev/vdb /dev/vdc --chunk 64K) || exit 1
size=$(dev_size "$dev")
chunks=$((size / C))
ref=$SCRATCH/ref
: >"$SCRATCH/snaps"
round=0

cbt() { cat "/sys/block/${dev#/dev/}/ferry/cbt_bytes"; }

# next_round: 3 random 4 KiB writes (logged in w.N), a snapshot; its id and
# the sum of what the volume held go to $SCRATCH/snaps as "N ID SUM".
next_round() {
	round=$((round + 1))
	: >"$SCRATCH/w.$round"
	for _j in 1 2 3; do
		_b=$(($(od -An -N4 -tu4 /dev/urandom | tr -d ' ') % (size / 4096)))
		wr "$dev" "$ref" $((_b * 4096)) 4096 direct
		echo "$((_b * 4096)) 4096" >>"$SCRATCH/w.$round"
	done
	take_snapshot v0
	echo "$round $(snap_id v0) $(file_sum "$ref")" >>"$SCRATCH/snaps"
}

# id_of N: the snapshot id of round N.
id_of() { awk -v n="$1" '$1 == n { print $2 }' "$SCRATCH/snaps"; }

# keep_last K [ID]: delete the oldest snapshots but ID until K are left.
keep_last() {
	_ids=$(snap_ids v0)
	_n=$(echo "$_ids" | wc -w)
	for _id in $_ids; do
		[ "$_n" -le "$1" ] && break
		[ "$_id" = "${2:-}" ] && continue
		snap_delete v0 "$_id"
		_n=$((_n - 1))
	done
}

# check_snaps: every live snapshot holds what the volume held at its moment.
check_snaps() {
	for _id in $(snap_ids v0); do
		_want=$(awk -v id="$_id" '$2 == id { print $3 }' "$SCRATCH/snaps")
		assert_eq "$(sum_dev "/dev/ferry0s$_id")" "$_want" \
			"bytes of snapshot $_id (round $round)"
	done
}

# blocks FILE...: the 4 KiB blocks that "OFFSET LENGTH" lines name, one
# number a line, sorted as comm(1) wants them.
blocks() {
	cat "$@" | awk '{ for (b = int($1 / 4096); b <= int(($1 + $2 - 1) / 4096); b++) print b }' |
		sort -u
}

# check_changed N GRAIN: `ferry changed` from round N-1's snapshot to round
# N's names exactly the chunks round N wrote. With GRAIN 4096 (the precise
# map tracking) it names every 4 KiB block round N wrote and, inside those
# chunks, only blocks some round wrote: never the rest of a chunk. It may
# name a block an earlier round wrote in the same chunk, since the map
# keeps bits from the newest deleted point on (round N-2's here, as
# replication would delete N-1) and a chunk written in consecutive rounds
# keeps its older bits (docs/netlink.md).
check_changed() {
	"$FERRY" changed v0 --since "$(id_of $(($1 - 1)))" \
		--until "$(id_of "$1")" --json >"$SCRATCH/ch.json" ||
		fail "ferry changed, round $1"
	jq -r '.extents[] | "\(.offset) \(.length)"' "$SCRATCH/ch.json" \
		>"$SCRATCH/ch"
	chunk_extents "$C" "$SCRATCH/ch" >"$SCRATCH/got.chunks"
	chunk_extents "$C" "$SCRATCH/w.$1" >"$SCRATCH/want.chunks"
	cmp -s "$SCRATCH/got.chunks" "$SCRATCH/want.chunks" ||
		fail "changed, round $1: got $(cat "$SCRATCH/ch"), want the chunks $(cat "$SCRATCH/want.chunks")"
	if [ "$2" = "$C" ]; then
		cmp -s "$SCRATCH/ch" "$SCRATCH/want.chunks" ||
			fail "changed, round $1: got $(cat "$SCRATCH/ch"), want whole chunks"
		return
	fi
	blocks "$SCRATCH/ch" >"$SCRATCH/got.blocks"
	blocks "$SCRATCH/w.$1" >"$SCRATCH/want.blocks"
	blocks "$SCRATCH"/w.* >"$SCRATCH/written.blocks"
	[ -z "$(comm -23 "$SCRATCH/want.blocks" "$SCRATCH/got.blocks")" ] ||
		fail "changed, round $1: got $(cat "$SCRATCH/ch"), missing blocks of $(cat "$SCRATCH/w.$1")"
	_extra=$(comm -23 "$SCRATCH/got.blocks" "$SCRATCH/written.blocks")
	[ -z "$_extra" ] ||
		fail "changed, round $1: names 4 KiB blocks no round wrote: $_extra"
}

reattach() {
	ferry_detach v0
	dev=$(ferry_attach v0 /dev/vdb /dev/vdc) || exit 1
	for _id in $(snap_ids v0); do
		wait_dev "/dev/ferry0s$_id"
	done
}

step "fill the volume"
head -c "$size" /dev/urandom >"$ref"
ok dd if="$ref" of="$dev" bs=1M oflag=direct status=none
assert_eq "$(cbt)" $((chunks * 2 + 8)) "cbt_bytes after attach (2 bytes a chunk)"

step "14 rounds keeping the 2 newest snapshots: the base follows"
next_round
next_round
with_page=$(cbt)
while [ $round -lt 14 ]; do
	next_round
	keep_last 2
	check_snaps
	check_changed $round 4096
done
[ "$(vol_field v0 .epoch)" -gt 13 ] || fail "epoch $(vol_field v0 .epoch)"
assert_eq "$(cbt)" "$with_page" "cbt_bytes after 14 epochs (span 10)"

step "re-attach: epochs reloaded at two bytes a chunk, snapshots intact"
reattach
assert_eq "$(cbt)" $((chunks * 2 + 8)) "cbt_bytes after re-attach"
check_snaps
check_changed $round $C

step "keep one snapshot through 10 more rounds: the epochs widen"
next_round
old=$(id_of $round)
next_round
before=$(cbt)
while [ $round -lt 26 ]; do
	next_round
	keep_last 3 "$old"
	check_snaps
	check_changed $round 4096
done
assert_eq "$(cbt)" $((before + chunks * 2)) "cbt_bytes once widened"

step "re-attach with the old snapshot: still four bytes, still exact"
reattach
assert_eq "$(cbt)" $((chunks * 4 + 8)) "cbt_bytes after re-attach, widened"
check_snaps
next_round
check_snaps

step "without it, a re-attach narrows them again"
keep_last 1
reattach
assert_eq "$(cbt)" $((chunks * 2 + 8)) "cbt_bytes after re-attach, narrow"
check_snaps
next_round
next_round
check_snaps
check_changed $round 4096
ferry_detach v0
