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
# timeout: 300
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

ferry_detach v0
unload_ferry
step "done"
