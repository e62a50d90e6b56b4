#!/bin/sh
# Failover and failback in one VM: v0 (vdb/vdc) is the primary, v1
# (vdd/vde) the replica. Two points are replicated, then the primary
# writes more without replicating (lost to the second site) and goes
# down. `ferry failover v1 P1` (an older point) makes /dev/ferry1 equal
# that snapshot byte for byte although point 2 arrived after it; a
# failover to the last point does the same with it. The application
# writes new files on v1. `ferry failback v1 --to` the first site's
# `ferry failback-receive v0` then leaves v0 byte-identical to v1 (the
# unreplicated writes of v0 undone, v1's new files there), sending about
# the changed data only.
# disks: 128M 128M 128M 128M
# timeout: 480
# shellcheck source-path=SCRIPTDIR/.. source=lib.sh
. /scenarios/lib.sh

PORT=127.0.0.1:7000
FBPORT=127.0.0.1:7001
M=1048576
PRI="$FERRY --state-dir /tmp/pri"
DR="$FERRY --state-dir /tmp/dr"
load_ferry
d0=$(ferry_attach v0 /dev/vdb /dev/vdc) || exit 1
d1=$(ferry_attach v1 /dev/vdd /dev/vde) || exit 1
size=$(dev_size "$d0")

replicate() {
	$PRI replicate v0 --to $PORT --once --json \
		>"$SCRATCH/rep.json" 2>"$SCRATCH/rep.err" ||
		fail "replicate: $(cat "$SCRATCH/rep.err")"
	$JQ -r .replica_snap_id "$SCRATCH/rep.json"
}

step "ext4 on $d0, two points replicated"
ok mkfs.ext4 -q -E nodiscard "$d0"
mkdir -p /mnt/p /mnt/r
ok mount "$d0" /mnt/p
make_tree /mnt/p/t 30
$DR receive v1 --listen $PORT >"$SCRATCH/recv.out" 2>"$SCRATCH/recv.err" &
rpid=$!
sleep 1
rs1=$(replicate)
make_tree /mnt/p/u 20
sum_tree /mnt/p >"$SCRATCH/p2.sums"
rs2=$(replicate)
echo "    replica snapshots $rs1 $rs2"
sum1=$(sum_dev "$(snap_field v1 "$rs1" .device)")
sum2=$(sum_dev "$(snap_field v1 "$rs2" .device)")
assert_ne "$sum1" "$sum2" "the two points"

step "unreplicated writes on the primary, then it goes down"
make_tree /mnt/p/lost 10
rm -rf /mnt/p/t/d3
ok umount /mnt/p

step "stop the receiver (failover refuses an open volume)"
if [ "$(vol_field v1 .open_count)" != 0 ]; then
	expect_fail $DR failover v1
	expect_err_match "open"
fi
kill "$rpid"
wait "$rpid" 2>/dev/null

step "failover to the older point ($rs1)"
$DR failover v1 "$rs1" --json >"$SCRATCH/fo1.json" || fail "failover v1 $rs1"
$JQ -c . "$SCRATCH/fo1.json"
assert_eq "$(sum_dev "$d1")" "$sum1" "v1 after failover to $rs1"
fo1=$($JQ -r .new_snapshot "$SCRATCH/fo1.json")
assert_eq "$(snap_field v1 "$fo1" '.tags["ferry.failover"]')" \
	"$(snap_field v1 "$rs1" '.tags["ferry.point"]')" "ferry.failover tag"
assert_eq "$(sum_dev "$(snap_field v1 "$rs2" .device)")" "$sum2" "snapshot $rs2 kept"

step "failover to the last point ($rs2, by point id)"
p2=$(snap_field v1 "$rs2" '.tags["ferry.point"]')
$DR failover v1 "$p2" --json >"$SCRATCH/fo2.json" || fail "failover v1 $p2"
$JQ -c . "$SCRATCH/fo2.json"
assert_eq "$(sum_dev "$d1")" "$sum2" "v1 after failover to $rs2"

step "the application runs on v1"
ok mount "$d1" /mnt/r
(cd /mnt/r && sha256sum -c --quiet "$SCRATCH/p2.sums") || fail "files of point 2 on v1"
[ ! -e /mnt/r/lost ] || fail "unreplicated files on v1"
make_tree /mnt/r/new 15
echo "after failover" >/mnt/r/new/marker
sum_tree /mnt/r >"$SCRATCH/v1.sums"
expect_fail $DR failback v1 --to $FBPORT
expect_err_match "open|mounted"
ok umount /mnt/r

step "failback to v0"
$PRI failback-receive v0 --listen $FBPORT --timeout 120 --json \
	>"$SCRATCH/fbr.json" 2>"$SCRATCH/fbr.err" &
fbpid=$!
wait_line "$SCRATCH/fbr.err" "waiting on" 60
t=$($DATE +%s)
$DR failback v1 --to $FBPORT --json >"$SCRATCH/fb.json" ||
	fail "failback: $(cat "$SCRATCH/fbr.err")"
wait "$fbpid" || fail "failback-receive: $(cat "$SCRATCH/fbr.err")"
$JQ -c . "$SCRATCH/fb.json" "$SCRATCH/fbr.json"
echo "    took $(($($DATE +%s) - t)) s"
sent=$($JQ -r .bytes "$SCRATCH/fb.json")
assert_eq "$($JQ -r .bytes "$SCRATCH/fbr.json")" "$sent" "bytes received"
assert_eq "$($JQ -r .point "$SCRATCH/fb.json")" "$p2" "base point"
echo "    sent $sent of $size bytes"
[ "$sent" -lt $((size / 4)) ] || fail "failback sent $sent bytes of a $size-byte volume"
[ "$sent" -gt 0 ] || fail "failback sent nothing"
s0=$(sum_dev "$d0")
assert_eq "$s0" "$(sum_dev "$d1")" "v0 vs v1 after failback"

step "v0 holds v1's files"
ok mount "$d0" /mnt/p
(cd /mnt/p && sha256sum -c --quiet "$SCRATCH/v1.sums") || fail "files on v0 after failback"
[ ! -e /mnt/p/lost ] || fail "unreplicated files survived on v0"
ok umount /mnt/p

step "failback --full sends the whole volume and changes nothing more"
$PRI failback-receive v0 --listen $FBPORT --timeout 60 >/dev/null 2>"$SCRATCH/fbr2.err" &
fbpid=$!
wait_line "$SCRATCH/fbr2.err" "waiting on" 60
$DR failback v1 --to $FBPORT --full --json >"$SCRATCH/fb2.json" || fail "failback --full"
wait "$fbpid" || fail "failback-receive (full): $(cat "$SCRATCH/fbr2.err")"
assert_eq "$($JQ -r .bytes "$SCRATCH/fb2.json")" "$size" "bytes of a --full failback"
assert_eq "$(sum_dev "$d0")" "$s0" "v0 after a full failback"

ferry_detach v0
ferry_detach v1
step "done"
