#!/bin/sh
# Replication under a writer. v0 (vdb/vdc) is the primary, v1 (vdd/vde)
# the replica, `ferry receive` on 127.0.0.1:7000. A writer puts random
# 4K..64K blocks at random 4K offsets of /dev/ferry0 (O_DIRECT dd) in a
# loop during a full round and 20 incremental ones.
# - Even rounds: the writer is paused for the whole round (handshake
#   through files: no dd in flight), `replicate --once`; the replica
#   snapshot must equal /dev/ferry0 byte for byte (cmp, the writer still
#   paused) and the primary keep no snapshot after the ack.
# - Odd rounds (and the full one): the writer keeps writing during the
#   round; `replicate --once --keep-snapshot` keeps the primary snapshot
#   of the point, which must equal the replica snapshot byte for byte
#   (cmp); it is then deleted by hand.
# Every round must carry changes (bytes_changed > 0). The writer sleeps
# 0.2 s between writes: on one emulated CPU a tight loop starves the
# rounds (~50 s each).
# disks: 128M 128M 128M 128M
# timeout: 900
# shellcheck source-path=SCRIPTDIR/.. source=lib.sh
. /scenarios/lib.sh

PORT=127.0.0.1:7000
ROUNDS=20
W=/tmp/writer
load_ferry
d0=$(ferry_attach v0 /dev/vdb /dev/vdc) || exit 1
d1=$(ferry_attach v1 /dev/vdd /dev/vde) || exit 1
size=$(dev_size "$d0")
assert_eq "$size" "$(dev_size "$d1")" "sizes of $d0 and $d1"
blocks=$((size / 4096))

snap_json() {
	"$FERRY" snapshots "$1" --json >"$SCRATCH/snaps.json" ||
		fail "ferry snapshots $1 --json"
	$JQ -r --argjson id "$2" ".[] | select(.id == \$id) | $3" "$SCRATCH/snaps.json"
}

live_snaps() {
	"$FERRY" snapshots "$1" --json | $JQ '[.[] | select(.state == "live")] | length'
}

writes() { cat $W/count 2>/dev/null || echo 0; }

# The writer: until $W/stop; parks while $W/pause exists ($W/paused says
# it is parked, between two writes).
start_writer() {
	rm -rf $W
	mkdir -p $W
	echo 0 >$W/count
	(
		n=0
		while [ ! -f $W/stop ]; do
			if [ -f $W/pause ]; then
				: >$W/paused
				while [ -f $W/pause ] && [ ! -f $W/stop ]; do
					sleep 0.05
				done
				rm -f $W/paused
				continue
			fi
			# shellcheck disable=SC2046
			set -- $(/usr/bin/od -An -N4 -tu2 /dev/urandom)
			/usr/bin/dd if=/dev/urandom of="$d0" bs=4096 \
				seek=$(($2 % (blocks - 16))) count=$(($1 % 16 + 1)) \
				oflag=direct conv=notrunc status=none ||
				: >$W/failed
			sleep 0.2
			n=$((n + 1))
			echo $n >$W/count.tmp
			mv $W/count.tmp $W/count
		done
	) &
	wpid=$!
}

pause_writer() {
	: >$W/pause
	_i=0
	until [ -f $W/paused ]; do
		_i=$((_i + 1))
		[ $_i -le 600 ] || fail "the writer does not pause"
		sleep 0.05
	done
}

# resume_writer: returns once a write has landed since the pause, so that
# the next round has something to carry.
resume_writer() {
	_c=$(writes)
	rm -f $W/pause
	wait_for 60 '[ "$(writes)" -gt "$_c" ]' || fail "the writer does not resume"
}

# round N OUT [OPTS]: one replicate --once --json into OUT.
round() {
	_n=$1 _out=$2
	shift 2
	"$FERRY" --state-dir /tmp/pri replicate v0 --to $PORT --once --json \
		--timeout 300 "$@" >"$_out" 2>"$SCRATCH/rep.err" || {
		cat "$SCRATCH/rep.err" "$SCRATCH/recv.err" >&2
		fail "round $_n: ferry replicate v0 --once $*"
	}
}

step "random data on $d0; receiver for v1 on $PORT"
ok dd if=/dev/urandom of="$d0" bs=1M count=$((size / 1048576)) oflag=direct \
	iflag=fullblock status=none
"$FERRY" --state-dir /tmp/dr receive v1 --listen $PORT --verbose \
	>"$SCRATCH/recv.out" 2>"$SCRATCH/recv.err" &
rpid=$!
i=0
until grep -q "receiving into" "$SCRATCH/recv.err"; do
	i=$((i + 1))
	[ $i -le 50 ] || fail "receiver did not start: $(cat "$SCRATCH/recv.err")"
	sleep 0.1
done

start_writer
sleep 1
prev_rs=
during=0
r=0
while [ $r -le $ROUNDS ]; do
	if [ $r -gt 0 ] && [ $((r % 2)) -eq 0 ]; then
		pause_writer
		w0=$(writes)
		round $r "$SCRATCH/r$r.json"
		rs=$($JQ -r .replica_snap_id "$SCRATCH/r$r.json")
		cmp "$d0" "$(snap_json v1 "$rs" .device)" ||
			fail "round $r: replica snapshot $rs differs from the paused $d0"
		assert_eq "$(writes)" "$w0" "round $r: writes while paused"
		resume_writer
		assert_eq "$(live_snaps v0)" 0 "round $r: live primary snapshots after the ack"
		how="paused"
	else
		w0=$(writes)
		round $r "$SCRATCH/r$r.json" --keep-snapshot
		w1=$(writes)
		during=$((during + w1 - w0))
		ps=$($JQ -r .source_snap_id "$SCRATCH/r$r.json")
		pt=$($JQ -r .point "$SCRATCH/r$r.json")
		assert_eq "$(snap_json v0 "$ps" .state)" live "round $r: kept primary snapshot $ps"
		assert_eq "$(snap_json v0 "$ps" '.tags["ferry.point"]')" "$pt" \
			"round $r: ferry.point of the kept snapshot"
		rs=$($JQ -r .replica_snap_id "$SCRATCH/r$r.json")
		cmp "$(snap_json v0 "$ps" .device)" "$(snap_json v1 "$rs" .device)" ||
			fail "round $r: replica snapshot $rs differs from primary snapshot $ps"
		ok "$FERRY" delete v0 "$ps"
		assert_eq "$(live_snaps v0)" 0 "round $r: live primary snapshots after the delete"
		how="writing ($((w1 - w0)) writes during the round)"
	fi
	[ -f $W/failed ] && fail "a write of the writer failed"
	mode=$($JQ -r .mode "$SCRATCH/r$r.json")
	changed=$($JQ -r .bytes_changed "$SCRATCH/r$r.json")
	if [ $r -eq 0 ]; then
		assert_eq "$mode" full "mode of round 0"
	else
		assert_eq "$mode" incremental "mode of round $r"
		[ "$changed" -gt 0 ] || fail "round $r: nothing changed since the last point"
	fi
	echo "    round $r $mode, $how: sent $($JQ -r .bytes_sent "$SCRATCH/r$r.json")" \
		"changed $changed, replica snapshot $rs equal"
	# Only the newest replica snapshot is kept: the CoW store stays small.
	[ -z "$prev_rs" ] || ok "$FERRY" delete v1 "$prev_rs"
	prev_rs=$rs
	r=$((r + 1))
done
: >$W/stop
wait $wpid
step "writer stopped after $(writes) writes, $during during the kept rounds"
[ "$during" -gt 0 ] || fail "no write ran during a replication round"

kill "$rpid"
wait "$rpid" 2>/dev/null
ok ferry_detach v0
ok ferry_detach v1
