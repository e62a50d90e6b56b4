#!/bin/sh
# fio with crc32c verification over /dev/ferry0 (random 4k, sequential 1M),
# then the whole device through ferry equals the backing device.
# disks: 256M 256M
# timeout: 600
# shellcheck source-path=SCRIPTDIR/.. source=lib.sh
. /scenarios/lib.sh

load_ferry
dev=$(ferry_attach v0 /dev/vdb /dev/vdc) || exit 1
size=$(dev_size "$dev")

# run_fio NAME ARGS...: fio must finish without errors and write something.
run_fio() {
	_name=$1
	shift
	"$FIO" --name="$_name" --filename="$dev" --direct=1 --ioengine=libaio \
		--verify=crc32c --verify_fatal=1 --do_verify=1 \
		--output-format=json --output="$SCRATCH/$_name.json" "$@" ||
		{ cat "$SCRATCH/$_name.json"; fail "fio $_name exited $?"; }
	_j=$SCRATCH/$_name.json
	assert_eq "$(jq '[.jobs[].error] | add' "$_j")" 0 "fio $_name errors"
	_w=$(jq '[.jobs[].write.io_bytes] | add' "$_j")
	_r=$(jq '[.jobs[].read.io_bytes] | add' "$_j")
	echo "    $_name: wrote $_w bytes, verified $_r bytes"
	[ "$_w" -gt 0 ] || fail "fio $_name wrote nothing"
	# Verification reads back everything that was written.
	assert_eq "$_r" "$_w" "fio $_name bytes verified vs written"
}

step "random 4k writes across the whole device, verified"
run_fio rand4k --rw=randwrite --bs=4k --iodepth=16 --size="$size" \
	--io_size=24M --randrepeat=0

step "sequential 1M writes over the whole device, verified"
run_fio seq1m --rw=write --bs=1M --iodepth=4 --size="$size"

step "whole device through ferry equals the backing device"
assert_same_dev "$dev" /dev/vdb
ferry_detach v0
unload_ferry
step "done"
