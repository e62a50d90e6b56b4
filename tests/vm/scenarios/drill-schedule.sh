#!/bin/sh
# Scheduled drills at the second site: `ferry watch v1 --every 3s` drills
# the newest replica snapshot every 3 s (check: e2fsck -fn), records each
# drill, leaves no clone and changes no snapshot; a new point replicated
# becomes the next scheduled drill's snapshot; a snapshot drilled (by a
# tag request) since the last scheduled run is skipped once.
# disks: 64M 64M 64M 64M
# timeout: 480
# shellcheck source-path=SCRIPTDIR/.. source=lib.sh disable=SC2016
. /scenarios/lib.sh

PORT=127.0.0.1:7000
DR="$FERRY --state-dir /tmp/dr"
load_ferry
d0=$(ferry_attach v0 /dev/vdb /dev/vdc) || exit 1
ferry_attach v1 /dev/vdd /dev/vde >/dev/null || exit 1

replicate() {
	"$FERRY" --state-dir /tmp/pri replicate v0 --to $PORT --once --json \
		>"$SCRATCH/rep.json" 2>"$SCRATCH/rep.err" ||
		fail "replicate: $(cat "$SCRATCH/rep.err")"
	$JQ -r .replica_snap_id "$SCRATCH/rep.json"
}
drills() { $DR drills v1 --json; }
ndrills() { drills | $JQ length; }
nclones() {
	"$FERRY" snapshots v1 --json | $JQ '[.[] | select((.parent // 0) != 0)] | length'
}
stop_watch() {
	kill -TERM "$wpid"
	wait "$wpid" 2>/dev/null
	cat "$SCRATCH/w.out" "$SCRATCH/w.err"
}

step "ext4 on $d0, two points replicated to v1"
ok mkfs.ext4 -q -E nodiscard "$d0"
mkdir -p /mnt/p
ok mount "$d0" /mnt/p
make_tree /mnt/p/t 20
"$FERRY" --state-dir /tmp/dr receive v1 --listen $PORT \
	>"$SCRATCH/recv.out" 2>"$SCRATCH/recv.err" &
rpid=$!
sleep 1
rs1=$(replicate)
make_tree /mnt/p/u 10
rs2=$(replicate)
echo "    replica snapshots $rs1 $rs2"
sum1=$(sum_dev "$(snap_field v1 "$rs1" .device)")
sum2=$(sum_dev "$(snap_field v1 "$rs2" .device)")
cat >"$SCRATCH/chk.sh" <<'CHK'
#!/bin/sh
exec /usr/sbin/e2fsck -fn "$FERRY_DRILL_DEVICE"
CHK
chmod +x "$SCRATCH/chk.sh"

step "watch --every 3s: two scheduled drills of snapshot $rs2"
$DR watch v1 --every 3s --check "$SCRATCH/chk.sh" \
	>"$SCRATCH/w.out" 2>"$SCRATCH/w.err" &
wpid=$!
wait_for 40 '[ "$(ndrills)" -ge 2 ]' ||
	fail "$(ndrills) drills after 40 s: $(cat "$SCRATCH/w.out" "$SCRATCH/w.err")"
drills | $JQ -c 'map(del(.output))'
assert_eq "$(drills | $JQ -r '[.[].snapshot | tostring] | unique | join(" ")')" \
	"$rs2" "drilled snapshots"
assert_eq "$(drills | $JQ -r '[.[].result] | unique | join(" ")')" pass "results"
assert_eq "$(snap_field v1 "$rs2" '.tags["drill.result"] // ""')" pass "drill.result on $rs2"
assert_eq "$(snap_field v1 "$rs1" '.tags["drill.result"] // ""')" "" "drill.result on $rs1"
grep -q "scheduled drill pass" "$SCRATCH/w.out" || fail "no scheduled drill line"
# A drill may be under way: the clones of the recorded ones are gone.
drills >"$SCRATCH/drills.json"
"$FERRY" snapshots v1 --json >"$SCRATCH/snaps.json"
assert_eq "$($JQ --slurpfile s "$SCRATCH/snaps.json" \
	'[.[].clone] - [$s[0][].id] | length' "$SCRATCH/drills.json")" \
	"$($JQ length "$SCRATCH/drills.json")" "clones of recorded drills gone"

step "a new point: the next scheduled drill takes it"
make_tree /mnt/p/w 5
# Counted before the point arrives: its drill may start at once.
n=$(ndrills)
rs3=$(replicate)
echo "    replica snapshot $rs3, $n drills before it arrived"
wait_for 40 '[ "$(drills | $JQ -r ".[-1].snapshot")" = "$rs3" ]' ||
	fail "no drill of $rs3: $(cat "$SCRATCH/w.out" "$SCRATCH/w.err")"
# Drills of $rs2 may run until $rs3 arrives; after its first drill,
# every drill is of $rs3.
after=$(drills | $JQ -r --argjson n "$n" '[.[$n:][] | .snapshot | tostring] | join(" ")')
rest=" $after"
while [ "${rest#" $rs2"}" != "$rest" ]; do
	rest=${rest#" $rs2"}
done
assert_eq "$(echo "$rest" | tr ' ' '\n' | grep . | sort -u | tr '\n' ' ')" "$rs3 " \
	"drills since $rs3 arrived ($after)"
assert_eq "$(drills | $JQ -r '.[-1].result')" pass "result on $rs3"
stop_watch
assert_eq "$(nclones)" 0 "clones left"
assert_eq "$(sum_dev "$(snap_field v1 "$rs1" .device)")" "$sum1" "snapshot $rs1"
assert_eq "$(sum_dev "$(snap_field v1 "$rs2" .device)")" "$sum2" "snapshot $rs2"

step "drilled by a tag request since the last run: the scheduled drill skips"
$DR watch v1 --every 8s --check "$SCRATCH/chk.sh" \
	>"$SCRATCH/w.out" 2>"$SCRATCH/w.err" &
wpid=$!
# drill.at has whole seconds: the tag-triggered drill must start in a
# later second than the watch (allowing for a slow start), and well before
# its first scheduled run.
sleep 2.5
ok $DR tag v1 "$rs3" drill=requested >/dev/null
wait_for 40 'grep -q "scheduled" "$SCRATCH/w.out"' ||
	fail "no scheduled run: $(cat "$SCRATCH/w.out" "$SCRATCH/w.err")"
stop_watch
grep -q "^v1 snapshot $rs3 point .*: drill pass" "$SCRATCH/w.out" ||
	fail "no tag-triggered drill"
grep -q "^v1 snapshot $rs3: scheduled drill skipped" "$SCRATCH/w.out" ||
	fail "the scheduled drill did not skip"
assert_eq "$(nclones)" 0 "clones left"

kill "$rpid"
wait "$rpid" 2>/dev/null
ok umount /mnt/p
ferry_detach v0
ferry_detach v1
step "done"
