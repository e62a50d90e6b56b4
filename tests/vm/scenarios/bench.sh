#!/bin/sh
# make bench: the benchmarks of docs/benchmarks.md, side by side in one VM.
# fio 4 KiB random writes and 1 MiB sequential writes (direct I/O) on the raw
# backing device, on a ferry volume with no snapshot, 1 snapshot and 8
# snapshots, and on dm-snapshot with the same chunk size and CoW device;
# then the quiesce stall of ferry snapshots under a writer (p50/p99).
# Prints "BENCH key value" lines; tests/bench/run.sh turns them into ratios.
# manual: yes
# disks: 1G 1G
# timeout: 900
# shellcheck source-path=SCRIPTDIR/.. source=lib.sh
. /scenarios/lib.sh

CHUNK=${FERRY_BENCH_CHUNK:-64K}
SIZE=256M
RUNTIME=8

# fio_iops DEV RW BS: prints the write IOPS.
fio_iops() {
	/usr/bin/fio --name=b --filename="$1" --rw="$2" --bs="$3" --direct=1 \
		--ioengine=libaio --iodepth=16 --size=$SIZE --time_based \
		--runtime=$RUNTIME --randseed=42 --output-format=json 2>/dev/null |
		/usr/bin/jq '.jobs[0].write.iops | floor'
}

# bench NAME DEV [SETUP]: both workloads, SETUP run before each.
bench() {
	_name=$1 _dev=$2 _setup=${3:-true}
	$_setup
	echo "BENCH ${_name}_randwrite_4k $(fio_iops "$_dev" randwrite 4k)"
	$_setup
	echo "BENCH ${_name}_seqwrite_1m $(fio_iops "$_dev" write 1m)"
}

load_ferry
step "prefill the data device"
dd if=/dev/urandom of=/dev/vdb bs=1M count=256 oflag=direct status=none

step "raw device"
bench raw /dev/vdb

step "ferry, no snapshot"
dev=$(ferry_attach b /dev/vdb /dev/vdc --chunk "$CHUNK")
bench ferry0 "$dev"

delete_all() {
	for id in $("$FERRY" snapshots b --json | /usr/bin/jq -r '.[].id'); do
		"$FERRY" delete b "$id" || fail "delete $id"
	done
}
one_snapshot() {
	delete_all
	"$FERRY" snapshot b >/dev/null || fail "snapshot failed"
}
eight_snapshots() {
	delete_all
	for _i in 1 2 3 4 5 6 7 8; do
		"$FERRY" snapshot b >/dev/null || fail "snapshot failed"
	done
}
step "ferry, 1 snapshot"
bench ferry1 "$dev" one_snapshot
step "ferry, 8 snapshots"
bench ferry8 "$dev" eight_snapshots
echo "BENCH ferry8_cow_used $("$FERRY" status --json | /usr/bin/jq '.[0].cow_used')"

step "quiesce stall under a writer"
delete_all
/usr/bin/fio --name=w --filename="$dev" --rw=randwrite --bs=4k --direct=1 \
	--ioengine=libaio --iodepth=4 --size=$SIZE --time_based --runtime=60 \
	>/dev/null 2>&1 &
fio_pid=$!
sleep 2
for _i in $(seq 1 20); do
	"$FERRY" snapshot b >/dev/null || fail "snapshot under load failed"
	sleep 1
done
kill "$fio_pid" 2>/dev/null
wait "$fio_pid" 2>/dev/null
"$FERRY" snapshots b --json | /usr/bin/jq -r '[.[].stall_ns] | sort |
	"BENCH stall_p50_us \(.[(length * 0.5 | floor)] / 1000 | floor)\nBENCH stall_p99_us \(.[(length * 0.99 | floor)] / 1000 | floor)"'
delete_all
ferry_detach b

step "dm-snapshot, same chunk size and CoW device"
modprobe dm-snapshot || fail "no dm-snapshot"
sectors=$(blockdev --getsz /dev/vdb)
csec=$(($(echo "$CHUNK" | sed 's/K$//') * 2))
dm_one() {
	/usr/sbin/dmsetup remove_all --noudevsync >/dev/null 2>&1
	dd if=/dev/zero of=/dev/vdc bs=1M count=4 oflag=direct status=none
	echo "0 $sectors snapshot-origin /dev/vdb" |
		/usr/sbin/dmsetup create borig --noudevsync || fail "dm origin"
	echo "0 $sectors snapshot /dev/vdb /dev/vdc P $csec" |
		/usr/sbin/dmsetup create bsnap --noudevsync || fail "dm snapshot"
	/usr/sbin/dmsetup mknodes
}
bench dmsnap1 /dev/mapper/borig dm_one
/usr/sbin/dmsetup remove_all --noudevsync
echo "BENCH done 1"
