#!/bin/sh
# disks: 64M 64M 64M 64M
# timeout: 900
# ferry daemon runs a replication pair. v0 (vdb/vdc) is the primary, v1
# (vdd/vde) the replica behind `ferry receive` on 127.0.0.1:7000; each
# side has its own state dir. The config puts v0 in a group with a hook
# (no schedule of its own) and a pair v0 -> 127.0.0.1:7000 every 4 s with
# max_queued = 3. A writer puts random 4K..64K blocks at random offsets
# of /dev/ferry0 (never the last 64 KiB) all along. The hook, at freeze,
# parks the writer, writes the next sequence number into the last 4 KiB
# block and records the sha256 of the whole device under that number;
# at thaw it lets the writer go.
# - Link up: rounds are acknowledged (one full, then incremental); every
#   replica snapshot holds its sequence number and its sha256 is the one
#   recorded for it (the primary's bytes at that point); label
#   application (the group's hook was used).
# - Link down (receiver killed) for several ticks: each tick logs a
#   queued point and "link down", never exits; the queue is bounded at 3
#   (oldest dropped, logged, an event), status says link-down and shows
#   the backlog; the base file does not change.
# - Link back: the newest queued point arrives incremental (the base
#   survived), byte-identical; the other queued points are merged
#   (logged, deleted at the primary); kernel and catalog agree.
# - SIGTERM: exit 0, the writer is not parked (nothing frozen).
# shellcheck source-path=SCRIPTDIR/.. source=lib.sh disable=SC2016
. /scenarios/lib.sh

PORT=127.0.0.1:7000
W=/tmp/writer
SUMS=/tmp/sums
PRI=/tmp/pri
DR=/tmp/dr
load_ferry
d0=$(ferry_attach v0 /dev/vdb /dev/vdc) || exit 1
d1=$(ferry_attach v1 /dev/vdd /dev/vde) || exit 1
size=$(dev_size "$d0")
assert_eq "$size" "$(dev_size "$d1")" "sizes of $d0 and $d1"
blocks=$((size / 4096))
mkdir -p $SUMS $PRI $DR

writes() { cat $W/count 2>/dev/null || echo 0; }

# The writer: until $W/stop; parks while $W/pause exists ($W/paused says
# it is parked, between two writes). Never the last 16 blocks.
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
				seek=$(($2 % (blocks - 32))) count=$(($1 % 16 + 1)) \
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

HOOK=$SCRATCH/seq-hook
cat >"$HOOK" <<HOOK_EOF
#!/bin/sh
# freeze: park the writer, stamp the next sequence number into the last
# block, record the device's sha256 under it. thaw: release the writer.
case \$1 in
freeze)
	: >$W/pause
	i=0
	until [ -f $W/paused ] || [ -f $W/stop ]; do
		i=\$((i + 1))
		[ \$i -le 1200 ] || exit 1
		sleep 0.05
	done
	n=\$((\$(cat $SUMS/last 2>/dev/null || echo 0) + 1))
	printf 'seq %08d\n' \$n | /usr/bin/dd of=$d0 bs=4096 seek=$((blocks - 1)) \
		conv=sync,notrunc oflag=direct status=none || exit 1
	/usr/bin/dd if=$d0 bs=1M iflag=direct status=none |
		/usr/bin/sha256sum | cut -d' ' -f1 >$SUMS/\$n || exit 1
	echo \$n >$SUMS/last
	;;
thaw)
	rm -f $W/pause
	;;
esac
exit 0
HOOK_EOF
chmod 755 "$HOOK"

CONF=$SCRATCH/ferry.conf
cat >"$CONF" <<CONF_EOF
volumes = ( { name = "v0"; data = "/dev/vdb"; cow = "/dev/vdc"; } );
groups = ( { name = "app"; volumes = [ "v0" ]; hook = "$HOOK";
             hook_timeout = "120s"; } );
replication = ( { volume = "v0"; to = "$PORT"; every = "4s";
                  timeout = "300s"; max_queued = 3; } );
CONF_EOF
ok "$FERRY" config check "$CONF"

# seq_of DEV: the sequence number stamped in the last block of DEV.
seq_of() {
	/usr/bin/dd if="$1" bs=4096 skip=$((blocks - 1)) count=1 iflag=direct \
		status=none | head -c 12 | sed -n 's/^seq 0*\([0-9][0-9]*\)$/\1/p'
}

# check_replica ID: replica snapshot ID of v1 holds the bytes the primary
# had at its point (the sha256 the hook recorded for its sequence number).
check_replica() {
	_dev=$("$FERRY" --state-dir $DR snapshots v1 --json |
		$JQ -r --argjson id "$1" '.[] | select(.id == $id) | .device')
	[ -b "$_dev" ] || fail "replica snapshot $1 has no device ('$_dev')"
	_seq=$(seq_of "$_dev")
	[ -n "$_seq" ] || fail "replica snapshot $1: no sequence number in its last block"
	[ -f $SUMS/"$_seq" ] || fail "replica snapshot $1: sequence $_seq was never recorded"
	_sum=$(sum_dev "$_dev")
	assert_eq "$_sum" "$(cat $SUMS/"$_seq")" "sha256 of replica snapshot $1 (point $_seq)"
	echo "    replica snapshot $1: point $_seq, sha256 equal"
}

start_receiver() {
	"$FERRY" --state-dir $DR receive v1 --listen $PORT --verbose \
		>>"$SCRATCH/recv.out" 2>"$SCRATCH/recv.err" &
	rpid=$!
	_i=0
	until grep -q "receiving into" "$SCRATCH/recv.err"; do
		_i=$((_i + 1))
		[ $_i -le 100 ] || fail "receiver did not start: $(cat "$SCRATCH/recv.err")"
		sleep 0.1
	done
}

# wait_log PATTERN COUNT SECONDS: until COUNT lines of the daemon's log
# match PATTERN.
wait_log() {
	_i=0
	while [ "$(grep -c "$1" "$SCRATCH/daemon.log")" -lt "$2" ]; do
		_i=$((_i + 1))
		if [ $_i -gt "$3" ]; then
			cat "$SCRATCH/daemon.log" "$SCRATCH/daemon.err" >&2
			fail "no $2 log lines '$1' after $3 s"
		fi
		kill -0 "$dpid" 2>/dev/null || fail "the daemon exited"
		sleep 1
	done
}

# has_event EVENT: the pair's event log has one (each line a JSON object).
has_event() {
	$JQ -s -e --arg ev "$1" 'any(.[]; .event == $ev)' $PRI/events-v0.log >/dev/null
}

status_json() {
	"$FERRY" --state-dir $PRI status v0 --json >"$SCRATCH/status.json" ||
		fail "ferry status v0 --json"
	$JQ -r ".[0].replication | $1" "$SCRATCH/status.json"
}

live_primary() {
	"$FERRY" --state-dir $PRI snapshots v0 --json |
		$JQ -r '.[] | select(.state == "live") | .id' | sort -n
}

# A failure leaves nothing running (the VM would wait for it).
cleanup() {
	: >$W/stop
	[ -z "${dpid:-}" ] || kill "$dpid" 2>/dev/null
	[ -z "${rpid:-}" ] || kill "$rpid" 2>/dev/null
}
trap cleanup EXIT

step "receiver on $PORT, writer on $d0, daemon with a pair every 4 s"
ok dd if=/dev/urandom of="$d0" bs=1M count=$((size / 1048576)) oflag=direct \
	iflag=fullblock status=none
start_receiver
start_writer
"$FERRY" --state-dir $PRI daemon --config "$CONF" >"$SCRATCH/daemon.log" \
	2>"$SCRATCH/daemon.err" &
dpid=$!

step "link up: 4 rounds acknowledged"
wait_log "replicate v0: acked:" 4 400
grep "replicate v0:" "$SCRATCH/daemon.log"
grep -q "replicate v0: acked: point .*: full (first)" "$SCRATCH/daemon.log" ||
	fail "the first round was not a full copy"
[ "$(grep -c "replicate v0: acked: point .*: incremental," "$SCRATCH/daemon.log")" -ge 3 ] ||
	fail "later rounds were not incremental"
[ -f $W/failed ] && fail "a write of the writer failed"
[ "$(writes)" -gt 0 ] || fail "the writer wrote nothing"

step "every replica snapshot is the primary's point, byte for byte"
"$FERRY" --state-dir $DR snapshots v1 --json >"$SCRATCH/dr.json" || fail "snapshots v1"
ids=$($JQ -r '.[] | select(.state == "live") | .id' "$SCRATCH/dr.json")
n=0
for id in $ids; do
	check_replica "$id"
	assert_eq "$($JQ -r --argjson id "$id" '.[] | select(.id == $id) | .label' "$SCRATCH/dr.json")" \
		application "label of replica snapshot $id"
	n=$((n + 1))
done
[ "$n" -ge 4 ] || fail "only $n replica snapshots"
# Older replicas go: the replica's CoW store stays small.
for id in $ids; do
	[ "$id" = "$(echo "$ids" | tail -n 1)" ] || ok "$FERRY" --state-dir $DR delete v1 "$id"
done
case $(status_json .state) in
idle | sending | waiting-arrival) ;;
*) fail "state with the link up: $(status_json .state)" ;;
esac
[ "$(status_json .rpo_seconds)" -ge 0 ] || fail "no RPO in status"

step "link down: the receiver stops; points queue, the bound acts"
# Between rounds: a receiver killed inside one may have kept a point whose
# acknowledgement never reached the daemon.
wait_for 60 '[ "$(status_json .state)" = idle ]' || fail "the pair is never idle"
down0=$(grep -c "replicate v0: link down:" "$SCRATCH/daemon.log")
kill "$rpid"
wait "$rpid" 2>/dev/null
# The daemon runs one thing at a time: once it saw the link down, any
# round before is over, its acknowledgement logged and its base saved.
wait_log "replicate v0: link down:" $((down0 + 1)) 400
base=$(sed -n 's/^point=//p' $PRI/repl-v0.base)
epoch=$(sed -n 's/^epoch=//p' $PRI/repl-v0.base)
[ -n "$base" ] || fail "no base after acknowledged rounds"
acked=$(grep -c "replicate v0: acked:" "$SCRATCH/daemon.log")
wait_log "replicate v0: link down:" $((down0 + 6)) 400
grep "replicate v0:" "$SCRATCH/daemon.log" | tail -n 14
assert_eq "$(grep -c "replicate v0: acked:" "$SCRATCH/daemon.log")" "$acked" \
	"rounds acknowledged while the link was down"
grep -q "replicate v0: dropped: queued point .* dropped, queue-full: 3 queued (max 3)" \
	"$SCRATCH/daemon.log" || fail "the queue bound did not act (or was not logged)"
has_event dropped ||
	fail "no dropped event in events-v0.log"
has_event link-down ||
	fail "no link-down event in events-v0.log"
assert_eq "$(status_json .state)" link-down "state while the link is down"
queued=$(status_json .pair.backlog.queued)
if [ "$queued" -lt 2 ] || [ "$queued" -gt 3 ]; then
	fail "$queued points queued (max 3)"
fi
[ "$(status_json .pair.backlog.dropped)" -ge 1 ] || fail "status shows no dropped point"
assert_eq "$(status_json .pair.backlog.policy)" merge "backlog policy"
[ "$(status_json .pair.backlog.oldest_queued_age_seconds)" -ge 0 ] ||
	fail "no oldest queued age"
"$FERRY" --state-dir $PRI status v0 | tee "$SCRATCH/status.txt"
grep -q "replication to $PORT: link-down, rpo [0-9]*s, backlog [23] " "$SCRATCH/status.txt" ||
	fail "text status does not show the link down and the backlog"
assert_eq "$(sed -n 's/^point=//p' $PRI/repl-v0.base)" "$base" "base point while the link is down"
assert_eq "$(sed -n 's/^epoch=//p' $PRI/repl-v0.base)" "$epoch" "base epoch while the link is down"
# Every live primary snapshot is a queued point (or the one being taken).
nlive=$(live_primary | wc -l)
if [ "$nlive" -lt 2 ] || [ "$nlive" -gt 4 ]; then
	fail "$nlive live primary snapshots with 3 queued at most"
fi

step "link back: the newest point arrives, the others are merged"
start_receiver
wait_log "replicate v0: acked:" $((acked + 1)) 400
kill -TERM "$dpid"
rc=0
wait "$dpid" || rc=$?
tail -n 12 "$SCRATCH/daemon.log"
assert_eq "$rc" 0 "daemon exit status after SIGTERM"
tail -n 1 "$SCRATCH/daemon.log" | grep -q "daemon stopped by SIGTERM" ||
	fail "the daemon's last line is not its SIGTERM stop"
back=$(grep "replicate v0: acked:" "$SCRATCH/daemon.log" | sed -n "$((acked + 1))p")
echo "$back" | grep -q ": incremental," ||
	fail "the round after the link came back was not incremental: $back"
[ "$(grep -c "replicate v0: merged: queued point .* merged into" "$SCRATCH/daemon.log")" -ge 1 ] ||
	fail "no queued point was merged"
has_event merged ||
	fail "no merged event in events-v0.log"
newest=$("$FERRY" --state-dir $DR snapshots v1 --json |
	$JQ -r '[.[] | select(.state == "live")] | last | .id')
check_replica "$newest"
assert_eq "$("$FERRY" --state-dir $DR snapshots v1 --json |
	$JQ -r --argjson id "$newest" '.[] | select(.id == $id) | .tags["ferry.point"]')" \
	"$(sed -n 's/^point=//p' $PRI/repl-v0.base)" "the newest replica is the base's point"

step "the primary keeps only what is queued; kernel and catalog agree"
sed -n 's/^queued=[^ ]* \([0-9]*\) .*/\1/p' $PRI/repl-v0.queue | sort -n >"$SCRATCH/queue.ids"
live_primary >"$SCRATCH/live.ids"
cmp -s "$SCRATCH/live.ids" "$SCRATCH/queue.ids" ||
	fail "live primary snapshots ($(tr '\n' ' ' <"$SCRATCH/live.ids")) are not the queued ones ($(tr '\n' ' ' <"$SCRATCH/queue.ids"))"
echo "    live primary snapshots: $(tr '\n' ' ' <"$SCRATCH/live.ids")(queued: $(wc -l <"$SCRATCH/queue.ids"))"
assert_eq "$("$FERRY" --state-dir $PRI reconcile v0)" "" "reconcile with nothing to fix"
"$FERRY" --state-dir $PRI snapshots v0 --json >"$SCRATCH/pri.json" || fail "snapshots v0"
ndel=$($JQ '[.[] | select(.state == "deleted")] | length' "$SCRATCH/pri.json")
[ "$ndel" -ge "$acked" ] || fail "only $ndel deleted points in the catalog"

step "nothing frozen: the writer goes on"
[ ! -f $W/pause ] || fail "the writer is still parked"
w0=$(writes)
sleep 3
[ "$(writes)" -gt "$w0" ] || fail "the writer made no progress after the daemon stopped"
: >$W/stop
wait "$wpid"
[ -f $W/failed ] && fail "a write of the writer failed"

kill "$rpid"
wait "$rpid" 2>/dev/null
ok ferry_detach v0
ok ferry_detach v1
unload_ferry
step "done"
