#!/bin/sh
# Filesystem-consistent snapshots: with ext4, then xfs, on /dev/ferry0 and a
# writer publishing numbered files (write + fsync to tmp.N, rename to f.N)
# while the snapshot is taken: the snapshot is `frozen`, fscks clean,
# mounts read-only (ext4 without journal replay), holds every file
# published before the snapshot with its exact content, none published
# after it, and no torn file. The writer goes on after the snapshot. A
# file written just before `ferry snapshot` without any sync is in the
# snapshot with its content: the freeze flushed the dirty page cache.
#
# xfs on Linux 6.1 does not leave a clean log when frozen (checked in the
# lab with fsfreeze + a block copy, no ferry involved: `xfs_repair -n`
# exits 1 with "valuable metadata changes in a log", and `mount -o ro` of
# the read-only copy fails: "cannot mount read-only"). So for xfs the
# snapshot is mounted `ro,norecovery` (the frozen metadata is in place:
# every published file must be there), and the fsck runs on a copy of
# the snapshot on /dev/vdd after a mount has replayed its log.
# disks: 320M 256M 320M
# timeout: 600
# shellcheck source-path=SCRIPTDIR/.. source=lib.sh
. /scenarios/lib.sh

load_ferry
dev=$(ferry_attach v0 /dev/vdb /dev/vdc) || exit 1
mkdir -p /mnt/o /mnt/s
P=$SCRATCH/pat
head -c 4096 /dev/urandom >"$P.0"
head -c 24000 /dev/urandom >"$P.1"
head -c 100001 /dev/urandom >"$P.2"
head -c 307200 /dev/urandom >"$P.3"

# content N: what file N holds.
content() {
	echo "file $1"
	cat "$P.$(($1 % 4))"
}

# writer DIR: publishes DIR/f.1, f.2, ... until $SCRATCH/stop exists;
# appends N to $SCRATCH/done once f.N is renamed into place.
writer() {
	_n=1
	while [ ! -e "$SCRATCH/stop" ]; do
		content "$_n" | /usr/bin/dd of="$1/tmp.$_n" bs=1M iflag=fullblock \
			conv=fsync status=none || exit 1
		mv "$1/tmp.$_n" "$1/f.$_n" || exit 1
		echo "$_n" >>"$SCRATCH/done"
		_n=$((_n + 1))
	done
}

# done_count: the last N published.
done_count() {
	tail -n 1 "$SCRATCH/done" 2>/dev/null || echo 0
}

# wait_done N: wait up to 60 s until the writer published f.N.
wait_done() {
	_i=0
	while [ "$(done_count)" -lt "$1" ]; do
		kill -0 "$wpid" 2>/dev/null || fail "the writer died"
		_i=$((_i + 1))
		[ "$_i" -le 600 ] || fail "the writer did not reach $1 files (at $(done_count))"
		sleep 0.1
	done
}

# check_file PATH N: PATH holds content N exactly.
check_file() {
	content "$2" | cmp -s - "$1" || fail "$1 does not hold the content of file $2"
}

# run_fs ext4|xfs
run_fs() {
	fs=$1
	step "$fs: mkfs, mount, start the writer"
	case $fs in
	ext4) ok mkfs.ext4 -q -F "$dev" ;;
	xfs) ok "$MKFS_XFS" -q -f "$dev" ;;
	esac
	ok mount "$dev" /mnt/o
	mkdir -p /mnt/o/w
	rm -f "$SCRATCH/stop" "$SCRATCH/done"
	writer /mnt/o/w &
	wpid=$!
	wait_done 5

	step "$fs: a file written without any sync, then at once the snapshot"
	# Plain shell writes (no fsync, no sync): its data is only in the page
	# cache (delayed allocation: no blocks yet) until the freeze of the
	# quiesce writes it back; the snapshot must hold it.
	{
		echo "unsynced $fs $$"
		cat "$P.1"
	} >"$SCRATCH/unsynced.ref"
	before=$(done_count)
	{
		echo "unsynced $fs $$"
		cat "$P.1"
	} >/mnt/o/unsynced
	take_snapshot v0 --label filesystem
	after=$(done_count)
	id=$(snap_id v0)
	sd=$(snap_dev v0)
	echo "    published before: $before, after: $after"
	wait_done $((after + 3))
	touch "$SCRATCH/stop"
	wait "$wpid" || fail "the writer failed"
	last=$(done_count)
	assert_snap_live v0 "$id" "$sd"
	assert_eq "$(snap_field v0 "$id" .label)" filesystem "label"
	assert_eq "$(snap_field v0 "$id" .frozen)" true "frozen"
	[ "$(snap_field v0 "$id" .freeze_ns)" -gt 0 ] || fail "freeze_ns is 0 for a frozen snapshot"
	echo "    stall_ns $(snap_field v0 "$id" .stall_ns) freeze_ns $(snap_field v0 "$id" .freeze_ns)"

	step "$fs: the snapshot checks clean"
	case $fs in
	ext4) ok "$E2FSCK" -fn "$sd" ;;
	xfs)
		ok dd if="$sd" of=/dev/vdd bs=1M iflag=direct oflag=direct status=none
		ok mount -o nouuid /dev/vdd /mnt/s
		ok umount /mnt/s
		"$XFS_REPAIR" -n /dev/vdd >"$SCRATCH/repair.out" 2>&1 || {
			cat "$SCRATCH/repair.out"
			fail "xfs_repair -n on the replayed copy of the snapshot"
		}
		;;
	esac

	step "$fs: mount the snapshot read-only and check the files"
	# xfs refuses a second mount of one UUID: nouuid (not about recovery).
	case $fs in
	ext4) ok mount -o ro "$sd" /mnt/s ;;
	xfs) ok mount -o ro,norecovery,nouuid "$sd" /mnt/s ;;
	esac
	cmp -s "$SCRATCH/unsynced.ref" /mnt/s/unsynced ||
		fail "the snapshot lacks the unsynced file's content (dirty page cache not flushed by the freeze?)"
	echo "    the file written without sync is in the snapshot, content right"
	ls /mnt/s/w >"$SCRATCH/ls"
	k=$(sed -n 's/^f\.\([0-9]*\)$/\1/p' "$SCRATCH/ls" | sort -n | tail -n 1)
	k=${k:-0}
	nf=$(grep -c '^f\.' "$SCRATCH/ls")
	echo "    snapshot has f.1..f.$k ($nf files); $(grep -c '^tmp\.' "$SCRATCH/ls") tmp files"
	assert_eq "$nf" "$k" "number of f.N files (a gap in 1..$k?)"
	[ "$k" -ge "$before" ] || fail "the snapshot lacks files published before it (has $k, $before were)"
	[ "$k" -le "$after" ] || fail "the snapshot has files published after it returned (has $k, $after were)"
	n=1
	while [ "$n" -le "$k" ]; do
		check_file "/mnt/s/w/f.$n" "$n"
		n=$((n + 1))
	done
	while read -r t; do
		case $t in
		f.*) ;;
		tmp.*)
			# In flight at the snapshot: empty or complete, never torn.
			n=${t#tmp.}
			assert_eq "$n" $((k + 1)) "the only possible tmp file"
			[ ! -s "/mnt/s/w/$t" ] || check_file "/mnt/s/w/$t" "$n"
			;;
		*) fail "unexpected file $t in the snapshot" ;;
		esac
	done <"$SCRATCH/ls"
	ok umount /mnt/s

	step "$fs: the origin has all $last files"
	n=1
	while [ "$n" -le "$last" ]; do
		check_file "/mnt/o/w/f.$n" "$n"
		n=$((n + 1))
	done
	ok umount /mnt/o
	snap_delete v0 "$id"
}

run_fs ext4
run_fs xfs

ferry_detach v0
unload_ferry
step "done"
