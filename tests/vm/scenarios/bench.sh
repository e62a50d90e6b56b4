#!/bin/sh
# make bench: the benchmarks of docs/benchmarks.md, side by side in one VM.
# 1. fio 4 KiB random writes (QD32) and 1 MiB sequential writes (direct) on
#    the raw device, on a ferry volume with 0, 1 and 8 live snapshots taken
#    just before, and on dm-snapshot with 1 and 8 snapshots with the same
#    chunk size, on a copy of the same disks. The I/O volume is small
#    enough that most writes are first writes to a chunk (the cost that
#    matters). ferry and dm-snapshot run in turns, round after round, so
#    that the host's load moves both alike.
# 2. The quiesce stall (bios held) over 100 snapshots under a writer, and
#    the kernel memory of changed-block tracking per TiB of volume.
# 3. The application-visible pause of a point with ext4 mounted and a writer
#    running (the freeze time ferry reports), side by side with
#    `dmsetup suspend` + `resume` of the same filesystem and writer.
# 4. Replication over 127.0.0.1 (replication_bench below): a full
#    `replicate --once` of 512M against dd | nc | dd; a 1 % random 4 KiB
#    delta, and the same with `rsync --inplace`; peak RSS of both agents
#    at 512M, 1G, 4G and 16G (rsync_delta, sparse_rss).
# Prints "BENCH key value" lines; tests/bench/run.sh turns them into ratios.
# manual: yes
# disks: 1G 1G 512M 512M 512M 512M 4G 256M 4G 256M 512M 16G 512M 512M 1G 1G 1G
# timeout: 2400
# shellcheck source-path=SCRIPTDIR/.. source=lib.sh
. /scenarios/lib.sh

# FERRY_BENCH_CHUNK: the chunk size; FERRY_BENCH_PARTS: some of the parts
# cow:stall:mem:pause:dm:repl (default all), e.g. FERRY_BENCH_PARTS=cow:dm;
# FERRY_BENCH_ROUNDS: rounds of the configurations with snapshots (default
# 9: single rounds of the ferry / dm-snapshot ratio spread from 0.8x to
# 1.4x of their run's median; more rounds make that median steadier).
CHUNK=${FERRY_BENCH_CHUNK:-64K}
ROUNDS=${FERRY_BENCH_ROUNDS:-9}
case $ROUNDS in
'' | *[!0-9]* | 0) fail "FERRY_BENCH_ROUNDS: '$ROUNDS' is not a count of rounds" ;;
esac
PARTS=" $(echo "${FERRY_BENCH_PARTS:-cow:stall:mem:pause:dm:repl}" | tr ':' ' ') "

# part NAME: is this part of the benchmark asked for?
part() {
	case $PARTS in
	*" $1 "*) return 0 ;;
	esac
	return 1
}
DM=/usr/sbin/dmsetup

# fio_iops DEV RW BS IO_SIZE: prints the write IOPS.
fio_iops() {
	/usr/bin/fio --name=b --filename="$1" --rw="$2" --bs="$3" --direct=1 \
		--ioengine=libaio --iodepth=32 --size=1G --io_size="$4" \
		--randrepeat=0 --output-format=json 2>/dev/null |
		/usr/bin/jq '.jobs[0].write.iops | floor'
}

# median N...: the middle one of an odd count of numbers.
median() {
	printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

# The sequential run's size in MiB; the checks after it expect all of it
# preserved.
SEQ_MIB=96

# bench ROUNDS "NAME DEV SETUP CHECK"...: both workloads on each
# configuration in turn, ROUNDS times; SETUP runs before each run (first
# writes again), CHECK after each sequential one. A run is short (2048
# writes of 4 KiB, SEQ_MIB of 1 MiB) and its IOPS move by a fifth or more
# from one run to the next on the emulated CPU, so the median counts, and
# every run's value is printed too, in round order: tests/bench/run.sh
# compares configurations round by round.
bench() {
	_rounds=$1
	shift
	for _w in "randwrite 4k 8M randwrite_4k" "write 1m ${SEQ_MIB}M seqwrite_1m"; do
		for _c in "$@"; do
			eval "_runs_${_c%% *}="
		done
		_r=0
		while [ $_r -lt "$_rounds" ]; do
			_r=$((_r + 1))
			for _c in "$@"; do
				# shellcheck disable=SC2086 # the fields of both
				bench_run $_c $_w
			done
		done
		for _c in "$@"; do
			eval "_runs=\$_runs_${_c%% *}"
			# shellcheck disable=SC2086 # a list of numbers
			echo "BENCH ${_c%% *}_${_w##* } $(median $_runs)"
			# shellcheck disable=SC2086
			echo "BENCH ${_c%% *}_${_w##* }_runs $(echo $_runs | tr ' ' /)"
		done
	done
}

# bench_run NAME DEV SETUP CHECK RW BS IO_SIZE KEY: one run after SETUP,
# its IOPS added to $_runs_NAME; CHECK after a sequential run.
bench_run() {
	$3
	_iops=$(fio_iops "$2" "$5" "$6" "$7")
	if [ "$8" = seqwrite_1m ]; then $4; fi
	eval "_runs_$1=\"\$_runs_$1 $_iops\""
}

# pct FILE P: the P-th percentile of the numbers in FILE.
pct() {
	sort -n "$1" | awk -v p="$2" '{ v[NR] = $1 } END { i = int(NR * p / 100); if (i < 1) i = 1; print v[i] }'
}

load_ferry
modprobe dm-snapshot || fail "no dm-snapshot"
step "prefill the data device, and the CoW device"
dd if=/dev/urandom of=/dev/vdb bs=1M count=1024 oflag=direct iflag=fullblock status=none
# The disks are sparse files: the first write to a region of one costs the
# host an allocation. Each CoW device is written once first, so that
# neither ferry's copies nor dm-snapshot's pay for it.
dd if=/dev/zero of=/dev/vdc bs=1M count=1024 oflag=direct status=none
# dm-snapshot's own origin and CoW device (vdq, vdr), the same again, so
# that both run in turns without detaching anything.
DM_ORIGIN=/dev/vdq DM_COW=/dev/vdr
if part dm; then
	dd if=/dev/vdb of=$DM_ORIGIN bs=1M count=1024 oflag=direct iflag=direct status=none
	dd if=/dev/zero of=$DM_COW bs=1M count=1024 oflag=direct status=none
fi

dev=$(ferry_attach b /dev/vdb /dev/vdc --chunk "$CHUNK")

live_ids() {
	"$FERRY" snapshots b --json | /usr/bin/jq -r '.[] | select(.state != "deleted") | .id'
}
delete_all() {
	for id in $(live_ids); do
		"$FERRY" delete b "$id" || fail "delete $id"
	done
}
snapshots() {
	delete_all
	_i=0
	while [ $_i -lt "$1" ]; do
		"$FERRY" snapshot b >/dev/null || fail "snapshot failed"
		_i=$((_i + 1))
	done
}
one_snapshot() { snapshots 1; }
eight_snapshots() { snapshots 8; }
# ferry_check: the last run, SEQ_MIB of 1 MiB writes, preserved every chunk.
ferry_check() {
	_used=$("$FERRY" status --json | /usr/bin/jq '.[0].cow_used')
	[ "$_used" -ge $((SEQ_MIB << 20)) ] ||
		fail "ferry preserved $_used bytes of $SEQ_MIB MiB written"
}

csec=$(($(echo "$CHUNK" | sed 's/K$//') * 2))
dm_clear() {
	$DM remove_all --noudevsync >/dev/null 2>&1
}
# dm_snaps N: an origin and N snapshots, each with 1/8 of the CoW device.
dm_snaps() {
	dm_clear
	_dsz=$(blockdev --getsz $DM_ORIGIN)
	_part=$(($(blockdev --getsz $DM_COW) / 8))
	dd if=/dev/zero of=$DM_COW bs=1M count=8 oflag=direct status=none
	echo "0 $_dsz snapshot-origin $DM_ORIGIN" |
		$DM create borig --noudevsync || fail "dm origin"
	_i=0
	while [ $_i -lt "$1" ]; do
		echo "0 $_part linear $DM_COW $((_i * _part))" |
			$DM create bcow$_i --noudevsync || fail "dm cow $_i"
		$DM mknodes
		dd if=/dev/zero of=/dev/mapper/bcow$_i bs=1M count=1 oflag=direct status=none
		echo "0 $_dsz snapshot $DM_ORIGIN /dev/mapper/bcow$_i P $csec" |
			$DM create bsnap$_i --noudevsync || fail "dm snapshot $_i"
		_i=$((_i + 1))
	done
	# The origin splits writes at the snapshots' chunk size, which it
	# learns when it resumes (LVM suspends and resumes it around a new
	# snapshot). Without this a 1 MiB write preserved only its first
	# chunk: 6 of 96 MiB, and an IOPS figure four times too good.
	$DM suspend --noudevsync borig && $DM resume --noudevsync borig ||
		fail "dm origin resume"
	$DM mknodes
}
# dm_check: the last run, SEQ_MIB of 1 MiB writes, preserved every chunk
# (sectors of data and metadata in snapshot 0's store).
dm_check() {
	_used=$($DM status bsnap0 | awk '{ split($4, a, "/"); print a[1] }')
	[ "$_used" -ge $((SEQ_MIB << 11)) ] ||
		fail "dm-snapshot preserved $_used sectors of $SEQ_MIB MiB written"
}
dm_one() { dm_snaps 1; }
dm_eight() { dm_snaps 8; }

# The configurations with snapshots, taken in turns, ROUNDS rounds.
cfgs=""
part cow && cfgs="$cfgs|ferry1 $dev one_snapshot ferry_check"
part dm && cfgs="$cfgs|dmsnap1 /dev/mapper/borig dm_one dm_check"
part cow && cfgs="$cfgs|ferry8 $dev eight_snapshots ferry_check"
part dm && cfgs="$cfgs|dmsnap8 /dev/mapper/borig dm_eight dm_check"
if part cow; then
	step "raw device"
	bench 3 "raw /dev/vdb true true"
	step "ferry, no snapshot"
	bench 3 "ferry0 $dev true true"
fi
if [ -n "$cfgs" ]; then
	step "$ROUNDS rounds, in turns:$(echo "$cfgs" | awk -F'|' '{ for (i = 2; i <= NF; i++) { split($i, f, " "); printf " %s", f[1] } }')"
	_ifs=$IFS
	IFS='|'
	# shellcheck disable=SC2086 # one argument per configuration
	set -- ${cfgs#|}
	IFS=$_ifs
	bench "$ROUNDS" "$@"
	dm_clear
	part cow && echo "BENCH ferry8_cow_used $("$FERRY" status --json | /usr/bin/jq '.[0].cow_used')"
fi

stall_bench() {
step "quiesce stall over 100 snapshots under a 4k random writer"
delete_all
# Over 128 MiB: 4 live snapshots copy at most 512 MiB, so the 1 GiB store
# never fills (full, snapshots would be invalidated, not measured).
/usr/bin/fio --name=w --filename="$dev" --rw=randwrite --bs=4k --direct=1 \
	--ioengine=libaio --iodepth=4 --size=128M --time_based --runtime=600 \
	>/dev/null 2>&1 &
fio_pid=$!
sleep 2
: >/tmp/stall
i=0
while [ $i -lt 100 ]; do
	i=$((i + 1))
	"$FERRY" snapshot b >/dev/null || fail "snapshot under load failed"
	"$FERRY" snapshots b --json | /usr/bin/jq '[.[] | select(.state == "live")] | last | .stall_ns' >>/tmp/stall
	# Keep a few live snapshots, as a replication schedule would.
	[ $((i % 4)) -eq 0 ] && delete_all
done
kill "$fio_pid" 2>/dev/null
wait "$fio_pid" 2>/dev/null
echo "BENCH stall_p50_us $(($(pct /tmp/stall 50) / 1000))"
echo "BENCH stall_p99_us $(($(pct /tmp/stall 99) / 1000))"
delete_all
}
part stall && stall_bench

# Kernel memory of changed-block tracking (cbt_bytes) for a 64 GiB sparse
# volume (loop devices on files in the VM's tmpfs) written all over: one
# 4 KiB block in every 128 MiB, which allocates every page of the precise
# map, with a snapshot live. Printed per TiB of volume.
mem_bench() {
step "changed-block tracking memory, 64 GiB volume written all over"
truncate -s 64G "$SCRATCH/mem-data" || fail "truncate"
truncate -s 64M "$SCRATCH/mem-cow" || fail "truncate"
_ld=$(losetup -f --show "$SCRATCH/mem-data") || fail "losetup"
_lc=$(losetup -f --show "$SCRATCH/mem-cow") || fail "losetup"
_m=$(ferry_attach mem "$_ld" "$_lc" --chunk "$CHUNK")
"$FERRY" snapshot mem >/dev/null || fail "snapshot mem"
_i=0
while [ $_i -lt 512 ]; do
	dd if=/dev/urandom of="$_m" bs=4096 count=1 seek=$((_i * 32768)) \
		oflag=direct conv=notrunc status=none || fail "write to $_m"
	_i=$((_i + 1))
done
echo "BENCH cbt_bytes_per_tib $(($(cat "/sys/block/${_m#/dev/}/ferry/cbt_bytes") * 16))"
for _id in $("$FERRY" snapshots mem --json | /usr/bin/jq -r '.[] | select(.state != "deleted") | .id'); do
	"$FERRY" delete mem "$_id" || fail "delete mem $_id"
done
ferry_detach mem
losetup -d "$_ld"
losetup -d "$_lc"
rm -f "$SCRATCH/mem-data" "$SCRATCH/mem-cow"
}
part mem && mem_bench

# writer DIR: appends 4 KiB and fsyncs in a loop until /tmp/stop-writer.
writer() {
	rm -f /tmp/stop-writer
	(
		while [ ! -f /tmp/stop-writer ]; do
			dd if=/dev/urandom of="$1/w" bs=4k count=64 conv=fsync status=none
		done
	) &
	writer_pid=$!
}
stop_writer() {
	touch /tmp/stop-writer
	wait "$writer_pid"
}

pause_bench() {
step "application-visible pause: ferry point on ext4 with a writer"
mkdir -p /mnt/b
/usr/sbin/mkfs.ext4 -q -F "$dev" || fail "mkfs"
mount "$dev" /mnt/b || fail "mount"
writer /mnt/b
sleep 1
: >/tmp/pause
i=0
while [ $i -lt 30 ]; do
	i=$((i + 1))
	"$FERRY" snapshot b >/dev/null || fail "snapshot failed"
	"$FERRY" snapshots b --json | /usr/bin/jq '[.[] | select(.state == "live")] | last | .freeze_ns' >>/tmp/pause
	[ $((i % 8)) -eq 0 ] && delete_all
done
stop_writer
umount /mnt/b
delete_all
echo "BENCH ferry_pause_p50_us $(($(pct /tmp/pause 50) / 1000))"
echo "BENCH ferry_pause_max_us $(($(sort -n /tmp/pause | tail -n 1) / 1000))"
}
part pause && pause_bench
ferry_detach b
sectors=$(blockdev --getsz /dev/vdb)

dm_pause_bench() {

step "application-visible pause: dmsetup suspend + resume with a writer"
echo "0 $sectors linear /dev/vdb 0" | $DM create blin --noudevsync || fail "dm linear"
$DM mknodes
/usr/sbin/mkfs.ext4 -q -F /dev/mapper/blin || fail "mkfs"
mount /dev/mapper/blin /mnt/b || fail "mount"
writer /mnt/b
sleep 1
: >/tmp/dmpause
i=0
while [ $i -lt 30 ]; do
	i=$((i + 1))
	t0=$(date +%s%N)
	$DM suspend --noudevsync blin && $DM resume --noudevsync blin || fail "suspend/resume"
	echo $(($(date +%s%N) - t0)) >>/tmp/dmpause
done
stop_writer
umount /mnt/b
$DM remove --noudevsync blin
echo "BENCH dm_pause_p50_us $(($(pct /tmp/dmpause 50) / 1000))"
echo "BENCH dm_pause_max_us $(($(sort -n /tmp/dmpause | tail -n 1) / 1000))"
}
part pause && dm_pause_bench


# ---- 4. replication ----
# vdd/vde: v0 (512M) and its CoW, vdf/vdg: v1, its replica; vdh/vdi: a 4G
# volume, vdj/vdk: its replica (which also takes the 1G volume on
# vdb/vdc: a replica may be larger than its source); vdl: rsync's copy of
# v0 (512M); vdp (1G) and vdm (16G): sparse volumes with their CoW on vdn,
# replicated into dm-zero with its CoW on vdo.
RPORT=127.0.0.1:7100
RSYNC=/usr/bin/rsync
BUSYBOX=/bin/busybox

# ns: nanoseconds now.
ns() { /usr/bin/date +%s%N; }

# receiver NAME STATE-DIR: `ferry receive NAME --once` under busybox time
# (peak RSS in $SCRATCH/rss-NAME); waits until it listens.
receiver() {
	rm -f "$SCRATCH/rss-$1"
	$BUSYBOX time -f %M -o "$SCRATCH/rss-$1" "$FERRY" --state-dir "$2" \
		receive "$1" --listen $RPORT --once --verbose \
		>"$SCRATCH/recv-$1.out" 2>"$SCRATCH/recv-$1.err" &
	recv_pid=$!
	_i=0
	until grep -q "receiving into" "$SCRATCH/recv-$1.err"; do
		_i=$((_i + 1))
		[ $_i -le 100 ] || fail "receiver $1: $(cat "$SCRATCH/recv-$1.err")"
		sleep 0.1
	done
}

# send NAME STATE-DIR OUT: `replicate --once --json` under busybox time.
send() {
	$BUSYBOX time -f %M -o "$SCRATCH/rss-send-$1" "$FERRY" --state-dir "$2" \
		replicate "$1" --to $RPORT --once --json --timeout 3000 >"$3" \
		2>"$SCRATCH/send-$1.err" ||
		fail "replicate $1: $(cat "$SCRATCH/send-$1.err" "$SCRATCH"/recv-*.err)"
	wait "$recv_pid" || fail "receiver: $(cat "$SCRATCH"/recv-*.err)"
}

# rd_bytes DISK...: bytes read so far from these disks (sectors read, the
# third field of /sys/block/DISK/stat).
rd_bytes() {
	_s=0
	for _d in "$@"; do
		_s=$((_s + $(awk '{ print $3 }' "/sys/block/$_d/stat")))
	done
	echo $((_s * 512))
}

# stat_num FILE LABEL: the number after "LABEL: " in rsync --stats output.
stat_num() {
	awk -F': ' -v k="$2" '$1 == k { gsub(",", "", $2); print $2 + 0 }' "$1"
}

# rsync_delta SRC DISK: the same delta with rsync's delta transfer: SRC
# (the primary volume at the new point) through an rsync daemon on
# 127.0.0.1 into /dev/DISK, which holds the previous point. Time, bytes
# each way on the wire, bytes read from the disks on both sides (v0's vdd
# and vde, and DISK); the copy must come out byte-identical.
rsync_delta() {
	printf '%s\n' "use chroot = no" "uid = 0" "gid = 0" "reverse lookup = no" \
		"[dev]" "path = /dev" "read only = no" \
		"refuse options = !write-devices" >"$SCRATCH/rsyncd.conf"
	$RSYNC --daemon --no-detach --config="$SCRATCH/rsyncd.conf" \
		--address=127.0.0.1 --port=7102 2>"$SCRATCH/rsyncd.err" &
	rsyncd_pid=$!
	_i=0
	until $RSYNC rsync://127.0.0.1:7102/ >/dev/null 2>&1; do
		_i=$((_i + 1))
		[ $_i -le 100 ] || fail "rsync daemon: $(cat "$SCRATCH/rsyncd.err")"
		sleep 0.1
	done
	# Both sides read through the page cache: start cold.
	sync
	echo 3 >/proc/sys/vm/drop_caches
	src0=$(rd_bytes vdd vde) dst0=$(rd_bytes "$2")
	t0=$(ns)
	# --ignore-times: no quick check; --fsync: on the disk at the end, as
	# ferry's receiver fdatasyncs before ARRIVED.
	$RSYNC --inplace --no-whole-file --ignore-times --copy-devices \
		--write-devices --fsync --stats "$1" "rsync://127.0.0.1:7102/dev/$2" \
		>"$SCRATCH/rsync.out" 2>&1 || fail "rsync: $(cat "$SCRATCH/rsync.out")"
	t1=$(ns)
	src1=$(rd_bytes vdd vde) dst1=$(rd_bytes "$2")
	kill "$rsyncd_pid"
	wait "$rsyncd_pid" 2>/dev/null
	grep -E '^(Literal|Matched|Total bytes)' "$SCRATCH/rsync.out"
	a=$(sha256sum "$1" | cut -d ' ' -f 1)
	b=$(sha256sum "/dev/$2" | cut -d ' ' -f 1)
	assert_eq "$b" "$a" "sha256 of rsync's copy"
	echo "BENCH repl_delta_rsync_ms $(((t1 - t0) / 1000000))"
	echo "BENCH repl_delta_rsync_sent $(stat_num "$SCRATCH/rsync.out" "Total bytes sent")"
	echo "BENCH repl_delta_rsync_recv $(stat_num "$SCRATCH/rsync.out" "Total bytes received")"
	echo "BENCH repl_delta_rsync_literal $(stat_num "$SCRATCH/rsync.out" "Literal data")"
	echo "BENCH repl_delta_rsync_read_src $((src1 - src0))"
	echo "BENCH repl_delta_rsync_read_dst $((dst1 - dst0))"
}

# sparse_round KIND: a timed round of zs to ys; its summary goes to
# $SCRATCH/z$_vsz-KIND.json and BENCH lines repl_sparse_SZ_KIND_*.
sparse_round() {
	receiver ys "/tmp/bdr-z$_vsz"
	t0=$(ns)
	send zs "/tmp/bpri-z$_vsz" "$SCRATCH/z$_vsz-$1.json"
	t1=$(ns)
	/usr/bin/jq -c . "$SCRATCH/z$_vsz-$1.json"
	echo "BENCH repl_sparse_${_vsz}_$1_ms $(((t1 - t0) / 1000000))"
	echo "BENCH repl_sparse_${_vsz}_$1_sent $(/usr/bin/jq -r .bytes_sent "$SCRATCH/z$_vsz-$1.json")"
	echo "BENCH repl_sparse_${_vsz}_$1_send_rss_kb $(cat "$SCRATCH/rss-send-zs")"
	echo "BENCH repl_sparse_${_vsz}_$1_recv_rss_kb $(cat "$SCRATCH/rss-ys")"
}

# sparse_rss SZ DISK: peak RSS of both agents at volume size SZ where
# memory could grow with it, with the host files kept sparse: a full copy
# of DISK while it is all zeroes (every byte read and checked, sent as
# ZERO frames), then an incremental round of 4096 random 4 KiB writes
# spread over the whole volume (4096 changed extents). The replica is
# ferry over dm-zero (writes dropped, reads zeroes); its CoW store (vdo)
# takes the copies made for the replica's first snapshot. The volumes are
# zs and ys whatever the size, so the kernel's CHANGED messages are laid
# out alike at every size.
sparse_rss() {
	_vsz=$1
	dd if=/dev/zero of=/dev/vdn bs=1M count=8 oflag=direct status=none
	dd if=/dev/zero of=/dev/vdo bs=1M count=8 oflag=direct status=none
	echo "0 $(blockdev --getsz "$2") zero" | $DM create rzero --noudevsync ||
		fail "dm zero"
	$DM mknodes
	_src=$(ferry_attach zs "$2" /dev/vdn --chunk "$CHUNK") || exit 1
	ferry_attach ys /dev/mapper/rzero /dev/vdo --chunk "$CHUNK" >/dev/null ||
		exit 1
	step "replication: peak RSS, full copy of an all-zero $_vsz volume"
	sparse_round full

	step "replication: peak RSS, 4096 random 4K writes over the $_vsz volume"
	/usr/bin/fio --name=s --filename="$_src" --rw=randwrite --bs=4k --direct=1 \
		--ioengine=psync --io_size=16M --randrepeat=0 >/dev/null 2>&1 ||
		fail "fio scatter"
	sparse_round incr
	[ "$(/usr/bin/jq -r .mode "$SCRATCH/z$_vsz-incr.json")" = incremental ] ||
		fail "the $_vsz round was not incremental"
	echo "BENCH repl_sparse_${_vsz}_incr_changed $(/usr/bin/jq -r .bytes_changed "$SCRATCH/z$_vsz-incr.json")"
	ferry_detach zs
	ferry_detach ys
	$DM remove --noudevsync rzero || fail "dm remove rzero"
	# Give the written blocks back: the host file stays sparse.
	blkdiscard "$2"
}

replication_bench() {
	step "replication: 512M of random data; raw copy dd | nc | dd"
	dd if=/dev/urandom of=/dev/vdd bs=1M count=512 oflag=direct \
		iflag=fullblock status=none || fail "fill vdd"
	rm -f "$SCRATCH/nc.done"
	$BUSYBOX nc -l -p 7101 -e /bin/sh -c \
		"/usr/bin/dd of=/dev/vdf bs=1M iflag=fullblock oflag=direct status=none; : >$SCRATCH/nc.done" &
	nc_pid=$!
	sleep 1
	t0=$(ns)
	/usr/bin/dd if=/dev/vdd bs=1M iflag=direct status=none |
		$BUSYBOX nc 127.0.0.1 7101 || fail "nc send"
	_i=0
	until [ -f "$SCRATCH/nc.done" ]; do
		_i=$((_i + 1))
		[ $_i -le 6000 ] || fail "nc receiver did not finish"
		sleep 0.05
	done
	t1=$(ns)
	wait "$nc_pid"
	cmp /dev/vdd /dev/vdf || fail "raw copy differs"
	echo "BENCH repl_raw_nc_ms $(((t1 - t0) / 1000000))"
	dd if=/dev/zero of=/dev/vdf bs=1M count=512 oflag=direct status=none

	step "replication: full replicate --once of 512M"
	d0=$(ferry_attach v0 /dev/vdd /dev/vde --chunk "$CHUNK") || exit 1
	ferry_attach v1 /dev/vdf /dev/vdg --chunk "$CHUNK" >/dev/null || exit 1
	receiver v1 /tmp/bdr
	t0=$(ns)
	send v0 /tmp/bpri "$SCRATCH/full.json"
	t1=$(ns)
	rs=$(/usr/bin/jq -r .replica_snap_id "$SCRATCH/full.json")
	cmp "$d0" "$("$FERRY" snapshots v1 --json | /usr/bin/jq -r ".[] | select(.id == $rs) | .device")" ||
		fail "replica differs"
	echo "BENCH repl_full_512m_ms $(((t1 - t0) / 1000000))"
	echo "BENCH repl_full_512m_sent $(/usr/bin/jq -r .bytes_sent "$SCRATCH/full.json")"
	echo "BENCH repl_full_512m_send_rss_kb $(cat "$SCRATCH/rss-send-v0")"
	echo "BENCH repl_full_512m_recv_rss_kb $(cat "$SCRATCH/rss-v1")"

	step "replication: the previous point for rsync (a copy of v0 on vdl)"
	dd if="$d0" of=/dev/vdl bs=1M iflag=direct oflag=direct status=none ||
		fail "copy v0 to vdl"

	step "replication: a 1 % delta of random 4K writes"
	# fio's random map: each 4K block at most once, 1 % of the volume.
	/usr/bin/fio --name=d --filename="$d0" --rw=randwrite --bs=4k --direct=1 \
		--ioengine=psync --size=512M --io_size=$((512 * 1048576 / 100 / 4096 * 4096)) \
		--randrepeat=0 --output-format=json >"$SCRATCH/delta.json" 2>/dev/null ||
		fail "fio delta"
	written=$(/usr/bin/jq '.jobs[0].write.io_bytes' "$SCRATCH/delta.json")
	receiver v1 /tmp/bdr
	# Bytes read from the disks: v0's data and CoW at the primary, v1's
	# (copies for the replica's previous snapshot) at the second site.
	src0=$(rd_bytes vdd vde) dst0=$(rd_bytes vdf vdg)
	t0=$(ns)
	send v0 /tmp/bpri "$SCRATCH/delta-r.json"
	t1=$(ns)
	src1=$(rd_bytes vdd vde) dst1=$(rd_bytes vdf vdg)
	/usr/bin/jq -c . "$SCRATCH/delta-r.json"
	rs=$(/usr/bin/jq -r .replica_snap_id "$SCRATCH/delta-r.json")
	cmp "$d0" "$("$FERRY" snapshots v1 --json | /usr/bin/jq -r ".[] | select(.id == $rs) | .device")" ||
		fail "replica differs after the delta"
	echo "BENCH repl_delta_written $written"
	echo "BENCH repl_delta_changed $(/usr/bin/jq -r .bytes_changed "$SCRATCH/delta-r.json")"
	echo "BENCH repl_delta_sent $(/usr/bin/jq -r .bytes_sent "$SCRATCH/delta-r.json")"
	echo "BENCH repl_delta_ms $(((t1 - t0) / 1000000))"
	echo "BENCH repl_delta_read_src $((src1 - src0))"
	echo "BENCH repl_delta_read_dst $((dst1 - dst0))"

	step "replication: the same delta with rsync --inplace (delta transfer)"
	rsync_delta "$d0" vdl
	ferry_detach v0
	ferry_detach v1

	for sz in 1g 4g; do
		step "replication: peak RSS, full copy of $sz"
		if [ $sz = 1g ]; then
			dd if=/dev/zero of=/dev/vdc bs=1M count=8 oflag=direct status=none
			ferry_attach s$sz /dev/vdb /dev/vdc --chunk "$CHUNK" >/dev/null || exit 1
		else
			# 256M of random data, the rest left sparse (ZERO frames).
			dd if=/dev/urandom of=/dev/vdh bs=1M count=256 oflag=direct \
				iflag=fullblock status=none
			ferry_attach s$sz /dev/vdh /dev/vdi --chunk "$CHUNK" >/dev/null || exit 1
		fi
		dd if=/dev/zero of=/dev/vdk bs=1M count=8 oflag=direct status=none
		ferry_attach r$sz /dev/vdj /dev/vdk --chunk "$CHUNK" >/dev/null || exit 1
		receiver r$sz /tmp/bdr-$sz
		t0=$(ns)
		send s$sz /tmp/bpri-$sz "$SCRATCH/$sz.json"
		t1=$(ns)
		/usr/bin/jq -c . "$SCRATCH/$sz.json"
		echo "BENCH repl_full_${sz}_ms $(((t1 - t0) / 1000000))"
		echo "BENCH repl_full_${sz}_send_rss_kb $(cat "$SCRATCH/rss-send-s$sz")"
		echo "BENCH repl_full_${sz}_recv_rss_kb $(cat "$SCRATCH/rss-r$sz")"
		ferry_detach s$sz
		ferry_detach r$sz
	done

	modprobe dm-zero || fail "no dm-zero"
	sparse_rss 1g /dev/vdp
	sparse_rss 16g /dev/vdm
}
part repl && replication_bench

echo "BENCH chunk_size $CHUNK"
echo "BENCH rounds $ROUNDS"
echo "BENCH done 1"
