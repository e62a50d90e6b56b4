#!/bin/sh
# Reference model (tests/vm/tools/refmodel.c, /usr/bin/ferry-refmodel) on a
# raw 32M /dev/ferry0: first thousands of random O_DIRECT writes (4K- and
# 512-aligned, chunk-crossing), discards and write-zeroes between
# `ferry snapshot` / `ferry delete` (at most 8 live), every live snapshot
# read back whole and compared with the model at its moment, the origin
# with the current model; then 4 concurrent writers with 10 snapshots
# taken meanwhile: each writer's region in each snapshot is its state
# after exactly one write between before and after `ferry snapshot`.
# disks: 32M 384M
# timeout: 480
# shellcheck source-path=SCRIPTDIR/.. source=lib.sh
. /scenarios/lib.sh

RM=/usr/bin/ferry-refmodel
[ -x "$RM" ] || fail "no $RM in the initramfs"
# A fresh seed per run, printed by the tool (--seed S reproduces a run).
seed=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')

load_ferry
dev=$(ferry_attach v0 /dev/vdb /dev/vdc) || exit 1
assert_eq "$dev" /dev/ferry0 "device"
assert_eq "$(dev_size "$dev")" 33554432 "size of $dev"

step "sequential: random writes, discards, write-zeroes, snapshots, deletes"
"$RM" --dev "$dev" --name v0 --seed "$seed" --ops 3000 --snapshots 40 \
	--check-every 1000 >"$SCRATCH/seq.out" 2>&1
rc=$?
cat "$SCRATCH/seq.out"
[ "$rc" -eq 0 ] || fail "ferry-refmodel (sequential, seed $seed) exited $rc"
assert_eq "$(snap_ids v0)" "" "snapshots left after the sequential run"
assert_eq "$(vol_field v0 .cow_used)" 0 "cow_used without snapshots"

step "concurrent: 4 writers, 10 snapshots"
"$RM" --dev "$dev" --name v0 --seed "$seed" --writers 4 --snapshots 10 \
	>"$SCRATCH/conc.out" 2>&1
rc=$?
cat "$SCRATCH/conc.out"
[ "$rc" -eq 0 ] || fail "ferry-refmodel (concurrent, seed $seed) exited $rc"
assert_eq "$(snap_ids v0)" "" "snapshots left after the concurrent run"

# The tool must see what it is there to see: ferry wrappers that change
# the origin behind its back just before the real `ferry snapshot`.
# del_all: delete the snapshots a failed run left.
del_all() {
	for _id in $(snap_ids v0); do
		snap_delete v0 "$_id"
	done
}

step "self-check, sequential: 4K written behind the model's back is found"
cat >"$SCRATCH/ferry-seq" <<EOT
#!/bin/sh
[ "\$1" = snapshot ] && /usr/bin/dd if=/dev/urandom of=$dev bs=4096 \\
	seek=100 count=1 oflag=direct conv=notrunc status=none
exec $FERRY "\$@"
EOT
chmod +x "$SCRATCH/ferry-seq"
"$RM" --dev "$dev" --name v0 --seed "$seed" --ops 200 --snapshots 10 \
	--check-every 200 --ferry "$SCRATCH/ferry-seq" >"$SCRATCH/neg.out" 2>&1 &&
	fail "ferry-refmodel passed with a write behind its back"
cat "$SCRATCH/neg.out"
grep -Eq "FAIL: snapshot [0-9]+ \(/dev/ferry0s[0-9]+\): chunk 6, offset 409600 " \
	"$SCRATCH/neg.out" || fail "ferry-refmodel did not name snapshot, chunk 6, offset 409600"
del_all

step "self-check, concurrent: an older version of one sector put back is found"
# Sector 2048 (offset 1M, writer 0): read it, let the writers go on for a
# second, stop the tool (every writer), write the old sector back, take
# the snapshot, continue.
cat >"$SCRATCH/ferry-conc" <<EOT
#!/bin/sh
[ "\$1" = snapshot ] || exec $FERRY "\$@"
/usr/bin/dd if=$dev of=$SCRATCH/old bs=512 skip=2048 count=1 iflag=direct status=none
sleep 1
kill -STOP \$PPID
sleep 0.3
/usr/bin/dd if=$SCRATCH/old of=$dev bs=512 seek=2048 count=1 oflag=direct \\
	conv=notrunc status=none
$FERRY "\$@"
rc=\$?
kill -CONT \$PPID
exit \$rc
EOT
chmod +x "$SCRATCH/ferry-conc"
"$RM" --dev "$dev" --name v0 --seed "$seed" --writers 4 --snapshots 2 \
	--ferry "$SCRATCH/ferry-conc" >"$SCRATCH/neg.out" 2>&1 &&
	fail "ferry-refmodel passed with a sector put back behind its back"
cat "$SCRATCH/neg.out"
grep -Eq "FAIL: snapshot [0-9]+: writer 0, chunk 16, offset 1048576: region matches no single write index" \
	"$SCRATCH/neg.out" || fail "ferry-refmodel did not name snapshot, writer 0, offset 1048576"
del_all

ferry_detach v0
unload_ferry
step "done"
