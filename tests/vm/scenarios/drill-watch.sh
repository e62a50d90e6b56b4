#!/bin/sh
# The tag watch at the second site: `ferry watch v1 --once` runs a drill
# when a replica snapshot is tagged drill=requested, then tags it
# drill=done next to drill.result=pass. A request made before the watch
# starts is found by its first scan; drill=done and the drill.* result
# tags never trigger a drill.
# disks: 128M 128M 128M 128M
# timeout: 480
# shellcheck source-path=SCRIPTDIR/.. source=lib.sh
. /scenarios/lib.sh

PORT=127.0.0.1:7000
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
tagv() { snap_field v1 "$1" ".tags[\"$2\"] // \"\""; }
ndrills() { $DR drills v1 --json | $JQ length; }

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

step "watch --once; tag snapshot $rs1 drill=requested"
$DR watch v1 --once --verbose >"$SCRATCH/w1.out" 2>"$SCRATCH/w1.err" &
wpid=$!
sleep 2
ok $DR tag v1 "$rs1" drill=requested >/dev/null
i=0
while kill -0 "$wpid" 2>/dev/null; do
	i=$((i + 1))
	[ $i -le 600 ] || fail "the watch did not finish: $(cat "$SCRATCH/w1.err")"
	sleep 0.1
done
wait "$wpid" || fail "ferry watch exited non-zero: $(cat "$SCRATCH/w1.err")"
cat "$SCRATCH/w1.out" "$SCRATCH/w1.err"
assert_eq "$(tagv "$rs1" drill.result)" pass "drill.result on $rs1"
assert_eq "$(tagv "$rs1" drill)" done "drill tag on $rs1"
assert_eq "$(tagv "$rs2" drill.result)" "" "drill.result on $rs2 (not requested)"
assert_eq "$(ndrills)" 1 "drills recorded"
assert_eq "$($DR drills v1 --json | $JQ -r '.[0].snapshot')" "$rs1" "drilled snapshot"
assert_eq "$("$FERRY" snapshots v1 --json | $JQ '[.[] | select((.parent // 0) != 0)] | length')" 0 "clones left"

step "a request made before the watch starts"
ok $DR tag v1 "$rs2" drill=please >/dev/null
ok timeout 120 $DR watch v1 --once >"$SCRATCH/w2.out"
cat "$SCRATCH/w2.out"
assert_eq "$(tagv "$rs2" drill)" done "drill tag on $rs2"
assert_eq "$(tagv "$rs2" drill.result)" pass "drill.result on $rs2"
assert_eq "$(ndrills)" 2 "drills recorded"

step "drill=done and drill.* tags do not trigger"
$DR watch v1 >"$SCRATCH/w3.out" 2>&1 &
wpid=$!
sleep 2
ok $DR tag v1 "$rs1" drill=done drill.result=pass drill.note=x >/dev/null
ok $DR tag v1 "$rs2" drill.extra=1 drilling=requested >/dev/null
ok $DR tag v1 "$rs2" drill= >/dev/null
sleep 3
kill -TERM "$wpid"
wait "$wpid" 2>/dev/null
cat "$SCRATCH/w3.out"
assert_eq "$(ndrills)" 2 "drills recorded after non-requests"

kill "$rpid"
wait "$rpid" 2>/dev/null
ok umount /mnt/p
ferry_detach v0
ferry_detach v1
step "done"
