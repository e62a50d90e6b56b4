#!/bin/sh
# Tags travel between the sites. v0 (vdb/vdc) is the primary, v1
# (vdd/vde) the replica. After one replication round the primary's
# snapshot is gone and its point lives on in the catalog: `ferry tag`
# on that point updates the catalog and queues the update; `replicate
# --tags-only` applies it to the replica snapshot of the point. A tag
# set at the second site (a drill result) comes back to the primary's
# catalog. Updates made while the receiver is down stay queued and are
# applied in order once it is back (the last of two values wins); a
# data round carries queued updates too.
# disks: 64M 64M 64M 64M
# timeout: 480
# shellcheck source-path=SCRIPTDIR/.. source=lib.sh
. /scenarios/lib.sh

PORT=127.0.0.1:7000
Q=/tmp/pri/tagq-v0.queue
load_ferry
d0=$(ferry_attach v0 /dev/vdb /dev/vdc) || exit 1
ferry_attach v1 /dev/vdd /dev/vde >/dev/null || exit 1

pri() { "$FERRY" --state-dir /tmp/pri "$@"; }
dr() { "$FERRY" --state-dir /tmp/dr "$@"; }

# tag_of SITE NAME POINT KEY: a tag of the point in `ferry snapshots --json`.
tag_of() {
	"$1" snapshots "$2" --json >"$SCRATCH/snaps.json" ||
		fail "ferry snapshots $2 --json"
	$JQ -r --arg p "$3" --arg k "$4" \
		'.[] | select(.point == $p) | .tags[$k] // "(none)"' "$SCRATCH/snaps.json"
}

start_receiver() {
	# Not through dr(): $! must be the agent's pid, not a subshell's.
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

queued() {
	if [ -f $Q ]; then grep -c . $Q; else echo 0; fi
}

# tags_only OUT: `replicate --tags-only --json` into OUT.
tags_only() {
	pri replicate v0 --to $PORT --tags-only --json >"$1" 2>"$SCRATCH/t.err" || {
		cat "$SCRATCH/t.err" "$SCRATCH/recv.err" >&2
		fail "replicate --tags-only"
	}
	$JQ -c . "$1"
}

step "one replication round"
ok dd if=/dev/urandom of="$d0" bs=1M count=8 oflag=direct status=none
start_receiver
pri replicate v0 --to $PORT --once --json >"$SCRATCH/r1.json" 2>"$SCRATCH/r1.err" ||
	fail "replicate: $(cat "$SCRATCH/r1.err")"
p1=$($JQ -r .point "$SCRATCH/r1.json")
echo "    point $p1"
pstate=$(pri snapshots v0 --json | $JQ -r --arg p "$p1" '.[] | select(.point == $p) | .state')
[ -n "$pstate" ] || fail "point $p1 is not listed at the primary"
assert_ne "$pstate" live "state of point $p1 at the primary"

step "ferry tag on the replicated point: catalog updated, update queued"
pri tag v0 "$p1" drill=requested >"$SCRATCH/tag.out" || fail "ferry tag v0 $p1"
grep -qx "drill=requested" "$SCRATCH/tag.out" || fail "tag output: $(cat "$SCRATCH/tag.out")"
assert_eq "$(tag_of pri v0 "$p1" drill)" requested "catalog tag drill at the primary"
assert_eq "$(queued)" 1 "queued updates"
pri status v0 --json | $JQ -c '.[0].replication' >"$SCRATCH/st0.json"
cat "$SCRATCH/st0.json"
assert_eq "$($JQ -r .queued_tag_updates "$SCRATCH/st0.json")" 1 "status queued_tag_updates"

step "replicate --tags-only: the replica snapshot gets it"
tags_only "$SCRATCH/t1.json"
assert_eq "$($JQ -r .tags_sent "$SCRATCH/t1.json")" 1 "tags_sent"
assert_eq "$(tag_of dr v1 "$p1" drill)" requested "replica tag drill"
assert_eq "$(queued)" 0 "queued updates after the ack"

step "a drill result set at the second site comes back"
rs1=$(dr snapshots v1 --json | $JQ -r --arg p "$p1" '.[] | select(.point == $p) | .id')
dr tag v1 "$rs1" drill.result=pass drill.at=2026-12-07T00:00:00Z >/dev/null ||
	fail "ferry tag v1 $rs1 at the second site"
tags_only "$SCRATCH/t2.json"
[ "$($JQ -r .tags_reported "$SCRATCH/t2.json")" -ge 1 ] || fail "nothing reported back"
assert_eq "$(tag_of pri v0 "$p1" drill.result)" pass "drill.result at the primary"
assert_eq "$(tag_of pri v0 "$p1" drill.at)" 2026-12-07T00:00:00Z "drill.at at the primary"
assert_eq "$(tag_of pri v0 "$p1" drill)" requested "drill at the primary"
tags_only "$SCRATCH/t3.json"
assert_eq "$($JQ -r .tags_reported "$SCRATCH/t3.json")" 0 "reported again without a change"

step "updates while the receiver is down stay queued, then apply in order"
kill "$rpid"
wait "$rpid" 2>/dev/null
pri tag v0 "$p1" color=one >/dev/null || fail "tag color=one"
pri tag v0 "$p1" color=two size=9 >/dev/null || fail "tag color=two"
pri tag v0 "$p1" size= >/dev/null || fail "tag size="
assert_eq "$(queued)" 3 "queued updates"
expect_fail pri replicate v0 --to $PORT --tags-only --timeout 2
echo "    $ERR"
assert_eq "$(queued)" 3 "queued updates after a failed session"
start_receiver
tags_only "$SCRATCH/t4.json"
assert_eq "$($JQ -r .tags_sent "$SCRATCH/t4.json")" 3 "tags_sent"
assert_eq "$(queued)" 0 "queued updates"
assert_eq "$(tag_of dr v1 "$p1" color)" two "replica tag color (last wins)"
assert_eq "$(tag_of dr v1 "$p1" size)" "(none)" "replica tag size (removed)"
assert_eq "$(tag_of dr v1 "$p1" drill.result)" pass "replica drill.result kept"

step "a data round carries queued updates"
pri tag v0 "$p1" carried=yes >/dev/null || fail "tag carried=yes"
pri replicate v0 --to $PORT --once --json >"$SCRATCH/r2.json" 2>"$SCRATCH/r2.err" ||
	fail "replicate: $(cat "$SCRATCH/r2.err")"
$JQ -c . "$SCRATCH/r2.json"
assert_eq "$($JQ -r .tags_sent "$SCRATCH/r2.json")" 1 "tags_sent of the data round"
assert_eq "$(tag_of dr v1 "$p1" carried)" yes "replica tag carried"
assert_eq "$(queued)" 0 "queued updates"

step "status: the replication object"
pri status v0 --json >"$SCRATCH/st.json" || fail "ferry status v0 --json"
$JQ -c '.[0].replication' "$SCRATCH/st.json"
assert_eq "$($JQ -r '.[0].replication.state' "$SCRATCH/st.json")" idle "replication state"
assert_eq "$($JQ -r '.[0].replication.last_point' "$SCRATCH/st.json")" \
	"$($JQ -r .point "$SCRATCH/r2.json")" "replication last_point"
assert_eq "$($JQ -r '.[0].replication.queued_tag_updates' "$SCRATCH/st.json")" 0 \
	"queued_tag_updates"
assert_eq "$($JQ -r '.[0].replication.to' "$SCRATCH/st.json")" $PORT "replication to"
[ "$($JQ -r '.[0].replication.rpo_seconds' "$SCRATCH/st.json")" -ge 0 ] ||
	fail "rpo_seconds"
kill "$rpid"
wait "$rpid" 2>/dev/null
cat "$SCRATCH/recv.out"
ok ferry_detach v0
ok ferry_detach v1
