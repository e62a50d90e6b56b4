#!/bin/sh
# A fire drill requested at the primary runs at the second site while
# replication goes on: `ferry receive v1 --drill-check CMD` runs the
# drill watch beside the receiver. `ferry tag v0 POINT drill=requested`
# travels with `replicate --tags-only`; the watch drills the replica
# snapshot of the point (a clone: the snapshot's bytes stay), tags it
# drill.result=pass and drill=done, and the next session reports that
# back to the primary's catalog. While the receiver runs it holds
# STATE_DIR/v1.lock: `ferry failover v1` refuses with one line.
# disks: 128M 128M 128M 128M
# timeout: 480
# shellcheck source-path=SCRIPTDIR/.. source=lib.sh
. /scenarios/lib.sh

PORT=127.0.0.1:7000
load_ferry
d0=$(ferry_attach v0 /dev/vdb /dev/vdc) || exit 1
ferry_attach v1 /dev/vdd /dev/vde >/dev/null || exit 1

pri() { "$FERRY" --state-dir /tmp/pri "$@"; }
dr() { "$FERRY" --state-dir /tmp/dr "$@"; }
tagv() { snap_field v1 "$1" ".tags[\"$2\"] // \"\""; }
# ptag POINT KEY: a tag of the point in the primary's catalog.
ptag() {
	pri snapshots v0 --json | $JQ -r --arg p "$1" --arg k "$2" \
		'.[] | select(.point == $p) | .tags[$k] // ""'
}
rep() {
	pri replicate v0 --to $PORT --once --json "$@" >"$SCRATCH/r.json" \
		2>"$SCRATCH/r.err" || fail "replicate $*: $(cat "$SCRATCH/r.err")"
	$JQ -c . "$SCRATCH/r.json"
}
tags_only() {
	pri replicate v0 --to $PORT --tags-only --json >"$SCRATCH/t.json" \
		2>"$SCRATCH/t.err" || fail "replicate --tags-only: $(cat "$SCRATCH/t.err")"
	$JQ -c . "$SCRATCH/t.json"
}

step "ext4 on $d0; receiver with the drill watch"
ok mkfs.ext4 -q -E nodiscard "$d0"
mkdir -p /mnt/p
ok mount "$d0" /mnt/p
make_tree /mnt/p/t 20
mkdir -p /mnt/c
cat >/tmp/check.sh <<'EOS'
#!/bin/sh
# The drill check, given the clone's device: passes when its file system
# mounts and holds the tree written at the primary.
/usr/bin/mount -o ro,noload "$1" /mnt/c || exit 1
test -d /mnt/c/t
rc=$?
/usr/bin/umount /mnt/c
echo "check of $FERRY_DRILL_POINT on $1: $rc"
exit $rc
EOS
chmod +x /tmp/check.sh
"$FERRY" --state-dir /tmp/dr receive v1 --listen $PORT --verbose \
	--drill-check /tmp/check.sh --drill-timeout 120 \
	>"$SCRATCH/recv.out" 2>"$SCRATCH/recv.err" &
rpid=$!
i=0
until grep -q "receiving into" "$SCRATCH/recv.err"; do
	i=$((i + 1))
	[ $i -le 50 ] || fail "receiver did not start: $(cat "$SCRATCH/recv.err")"
	sleep 0.1
done

step "failover refuses while the receiver runs"
expect_fail dr failover v1
expect_err_match "locked"

step "one point replicated"
rep
p1=$($JQ -r .point "$SCRATCH/r.json")
rs1=$($JQ -r .replica_snap_id "$SCRATCH/r.json")
dev1=$(snap_field v1 "$rs1" .device)
sum1=$(sum_dev "$dev1")

step "drill=requested at the primary travels with --tags-only"
ok pri tag v0 "$p1" drill=requested >/dev/null
tags_only
i=0
until [ "$(tagv "$rs1" drill)" = done ]; do
	i=$((i + 1))
	[ $i -le 60 ] || fail "no drill=done on $rs1 after 60 s: $(cat "$SCRATCH/recv.out" "$SCRATCH/recv.err")"
	sleep 1
done
cat "$SCRATCH/recv.out"
assert_eq "$(tagv "$rs1" drill.result)" pass "drill.result at the replica"
assert_eq "$(sum_dev "$dev1")" "$sum1" "replica snapshot bytes after the drill"

step "replication goes on; the result comes back to the primary"
make_tree /mnt/p/u 5
rep
rs2=$($JQ -r .replica_snap_id "$SCRATCH/r.json")
assert_eq "$(tagv "$rs2" drill.result)" "" "drill.result on the new point"
tags_only
assert_eq "$(ptag "$p1" drill.result)" pass "drill.result at the primary"
assert_eq "$(ptag "$p1" drill)" done "drill at the primary"
assert_eq "$(sum_dev "$dev1")" "$sum1" "replica snapshot bytes at the end"
assert_eq "$(dr drills v1 --json | $JQ length)" 1 "drills recorded"
assert_eq "$("$FERRY" snapshots v1 --json | $JQ '[.[] | select(.writable)] | length')" 0 "clones left"

step "receiver stopped: the lock is free"
kill "$rpid"
wait "$rpid" 2>/dev/null
cat "$SCRATCH/recv.err"
umount /mnt/p
