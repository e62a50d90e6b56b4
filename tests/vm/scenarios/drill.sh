#!/bin/sh
# Fire drills at the second site: v0 (vdb/vdc) holds ext4 and is
# replicated to v1 (vdd/vde). `ferry drill v1` clones the newest replica
# snapshot, checks it (e2fsck -fn + mount), tears the clone down and tags
# the snapshot drill.result=pass; a failing check, a hanging one
# (--timeout), one that writes past --budget and a SIGTERM each record a
# failure and leave no clone and no CoW space behind. A replication round
# during a drill goes through, and the drill changes neither the replica
# nor its older snapshots.
# disks: 128M 128M 128M 128M
# timeout: 480
# shellcheck source-path=SCRIPTDIR/.. source=lib.sh
. /scenarios/lib.sh

PORT=127.0.0.1:7000
M=1048576
DR="$FERRY --state-dir /tmp/dr"
load_ferry
d0=$(ferry_attach v0 /dev/vdb /dev/vdc) || exit 1
d1=$(ferry_attach v1 /dev/vdd /dev/vde) || exit 1

replicate() {
	"$FERRY" --state-dir /tmp/pri replicate v0 --to $PORT --once --json \
		>"$SCRATCH/rep.json" 2>"$SCRATCH/rep.err" ||
		fail "replicate: $(cat "$SCRATCH/rep.err")"
	$JQ -r .replica_snap_id "$SCRATCH/rep.json"
}

# clones V: the number of clones (snapshots with a parent) of V.
clones() {
	"$FERRY" snapshots "$1" --json | $JQ '[.[] | select((.parent // 0) != 0)] | length'
}

tagv() { snap_field v1 "$1" ".tags[\"$2\"] // \"\""; }

# torn_down USED: no clone left, cow_used back to USED, no mount of ferry1s*.
torn_down() {
	assert_eq "$(clones v1)" 0 "clones of v1 after the drill"
	assert_eq "$(vol_field v1 .cow_used)" "$1" "cow_used of v1 after the drill"
	if grep -q '^/dev/ferry1s' /proc/mounts; then
		fail "a snapshot of v1 is still mounted: $(grep ferry1s /proc/mounts)"
	fi
	ls -d /tmp/ferry-drill.* >/dev/null 2>&1 &&
		fail "drill directory left: $(ls -d /tmp/ferry-drill.*)"
	return 0
}

step "ext4 with files on $d0, replicated to v1"
ok mkfs.ext4 -q -E nodiscard "$d0"
mkdir -p /mnt/p
ok mount "$d0" /mnt/p
make_tree /mnt/p/t 40
"$FERRY" --state-dir /tmp/dr receive v1 --listen $PORT \
	>"$SCRATCH/recv.out" 2>"$SCRATCH/recv.err" &
rpid=$!
sleep 1
rs1=$(replicate)
echo "    replica snapshot $rs1"
sum1=$(sum_dev "$(snap_field v1 "$rs1" .device)")
used=$(vol_field v1 .cow_used)

step "drill: the default check passes"
t=$($DATE +%s)
$DR drill v1 --json --verbose >"$SCRATCH/d1.json" || fail "ferry drill v1 failed"
$JQ -c 'del(.output)' "$SCRATCH/d1.json"
echo "    took $(($($DATE +%s) - t)) s"
assert_eq "$($JQ -r .result "$SCRATCH/d1.json")" pass "result"
assert_eq "$($JQ -r .snapshot "$SCRATCH/d1.json")" "$rs1" "drilled snapshot"
assert_eq "$(tagv "$rs1" drill.result)" pass "drill.result tag"
tagv "$rs1" drill.at | grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T' || fail "drill.at tag"
tagv "$rs1" drill.seconds | grep -Eq '^[0-9]+$' || fail "drill.seconds tag"
torn_down "$used"
assert_eq "$(sum_dev "$(snap_field v1 "$rs1" .device)")" "$sum1" "replica snapshot after the drill"

step "drill: a failing check"
expect_fail $DR drill v1 "$rs1" --check /bin/false
expect_err_match "drill failed"
assert_eq "$(tagv "$rs1" drill.result)" fail "drill.result after /bin/false"
[ -n "$(tagv "$rs1" drill.reason)" ] || fail "no drill.reason"
torn_down "$used"

step "drill: a hanging check, --timeout 3"
printf '#!/bin/sh\nsleep 60\n' >"$SCRATCH/hang.sh"
chmod +x "$SCRATCH/hang.sh"
t=$($DATE +%s)
expect_fail $DR drill v1 --check "$SCRATCH/hang.sh" --timeout 3
expect_err_match "timeout"
took=$(($($DATE +%s) - t))
[ "$took" -lt 20 ] || fail "the timed-out drill took $took s"
pgrep -f "sleep 60" && fail "the check's sleep survived"
torn_down "$used"

step "drill: a check writing past --budget 4M"
printf '#!/bin/sh\n/usr/bin/dd if=/dev/urandom of="$1" bs=1M count=48 oflag=direct status=none\nsleep 30\n' \
	>"$SCRATCH/hog.sh"
chmod +x "$SCRATCH/hog.sh"
expect_fail $DR drill v1 --check "$SCRATCH/hog.sh" --budget 4M --timeout 60
expect_err_match "space budget"
assert_eq "$(tagv "$rs1" drill.reason)" "space budget" "drill.reason"
torn_down "$used"
assert_eq "$(sum_dev "$(snap_field v1 "$rs1" .device)")" "$sum1" "replica snapshot after the budget drill"

step "drill: SIGTERM during the check"
printf '#!/bin/sh\nmkdir -p /mnt/chk && mount "$1" /mnt/chk && sleep 60\n' >"$SCRATCH/mnt.sh"
chmod +x "$SCRATCH/mnt.sh"
$DR drill v1 --check "$SCRATCH/mnt.sh" >"$SCRATCH/term.out" 2>"$SCRATCH/term.err" &
dpid=$!
wait_line /proc/mounts " /mnt/chk " 60
kill -TERM "$dpid"
rc=0
wait "$dpid" || rc=$?
cat "$SCRATCH/term.err"
[ "$rc" -ne 0 ] || fail "an interrupted drill exited 0"
grep -q interrupted "$SCRATCH/term.err" || fail "no 'interrupted' in the error"
torn_down "$used"

step "replication during a drill"
make_tree /mnt/p/u 20
sum_tree /mnt/p >"$SCRATCH/tree2.sums"
printf '#!/bin/sh\necho started >%s\nsleep 10\n' "$SCRATCH/slow.started" >"$SCRATCH/slow.sh"
chmod +x "$SCRATCH/slow.sh"
$DR drill v1 "$rs1" --check "$SCRATCH/slow.sh" --json >"$SCRATCH/slow.json" 2>&1 &
dpid=$!
wait_line "$SCRATCH/slow.started" started 60
assert_eq "$(clones v1)" 1 "clones while the drill runs"
t=$($DATE +%s)
rs2=$(replicate)
echo "    replica snapshot $rs2 arrived in $(($($DATE +%s) - t)) s during the drill"
wait "$dpid" || fail "the slow drill failed: $(cat "$SCRATCH/slow.json")"
assert_eq "$($JQ -r .result "$SCRATCH/slow.json")" pass "slow drill"
assert_eq "$(clones v1)" 0 "clones after the slow drill"
assert_eq "$(sum_dev "$(snap_field v1 "$rs1" .device)")" "$sum1" "replica snapshot $rs1 after all"
sum2=$(sum_dev "$(snap_field v1 "$rs2" .device)")
assert_eq "$(sum_dev "$d1")" "$sum2" "replica volume vs its newest snapshot"
mkdir -p /mnt/r
ok mount -o ro "$(snap_field v1 "$rs2" .device)" /mnt/r
(cd /mnt/r && sha256sum -c --quiet "$SCRATCH/tree2.sums") || fail "files of point 2 on the replica"
ok umount /mnt/r

step "ferry drills"
$DR drills v1
assert_eq "$($DR drills v1 --json | $JQ length)" 6 "recorded drills"
assert_eq "$($DR drills v1 --json | $JQ -r '[.[].result] | join(" ")')" \
	"pass fail fail fail fail pass" "results"
$DR drills v1 --json | $JQ -e '.[3].reason == "space budget" and .[2].seconds < 20' >/dev/null ||
	fail "drills table: $($DR drills v1 --json | $JQ -c 'map(del(.output))')"

kill "$rpid"
wait "$rpid" 2>/dev/null
ok umount /mnt/p
ferry_detach v0
ferry_detach v1
step "done"
