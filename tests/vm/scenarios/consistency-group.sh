#!/bin/sh
# Consistency group: a writer puts sequence number N on v0, then on v1
# (each an O_DIRECT write that completes before the next starts);
# `ferry snapshot v0 v1` must catch v1 at v0's number or one less, never
# ahead, in every round.
# disks: 64M 64M 64M 64M
# timeout: 480
# shellcheck source-path=SCRIPTDIR/.. source=lib.sh
. /scenarios/lib.sh

ROUNDS=6
load_ferry
d0=$(ferry_attach v0 /dev/vdb /dev/vdc) || exit 1
d1=$(ferry_attach v1 /dev/vdd /dev/vde) || exit 1

# put DEV N: N as 12 digits in the first 4 KiB block of DEV.
put() {
	printf '%012d' "$2" | /usr/bin/dd of="$1" bs=4096 count=1 conv=sync,notrunc \
		oflag=direct status=none
}

# seq_of DEV: the number in the first block of DEV (O_DIRECT read).
seq_of() {
	/usr/bin/dd if="$1" bs=4096 count=1 iflag=direct status=none |
		head -c 12 | sed 's/^0*//; s/^$/0/'
}

put "$d0" 0 || fail "write to $d0"
put "$d1" 0 || fail "write to $d1"
rm -f "$SCRATCH/stop"
(
	n=1
	while [ ! -e "$SCRATCH/stop" ]; do
		put "$d0" "$n" || exit 1
		put "$d1" "$n" || exit 1
		n=$((n + 1))
	done
) &
wpid=$!
sleep 2

r=1
prev=0
while [ "$r" -le "$ROUNDS" ]; do
	step "round $r: ferry snapshot v0 v1 while the writer runs"
	kill -0 "$wpid" 2>/dev/null || fail "the writer died"
	take_snapshot v0 v1
	assert_eq "$(awk 'END { print NR }' "$SCRATCH/snap.out")" 2 "lines printed"
	i0=$(snap_id v0)
	i1=$(snap_id v1)
	s0=$(snap_dev v0)
	s1=$(snap_dev v1)
	case $s0 in /dev/ferry*s"$i0") ;; *) fail "device of v0: $s0" ;; esac
	[ "$s0" != "$s1" ] || fail "both volumes got the device $s0"
	n0=$(seq_of "$s0")
	n1=$(seq_of "$s1")
	echo "    v0 snapshot at $n0, v1 snapshot at $n1"
	[ "$n0" -gt "$prev" ] || fail "the writer made no progress ($n0 after $prev)"
	[ "$n1" -eq "$n0" ] || [ "$n1" -eq $((n0 - 1)) ] ||
		fail "inconsistent group: v0 at $n0, v1 at $n1 (must be $n0 or $((n0 - 1)))"
	sleep 1
	# Still the same after the origins moved on.
	assert_eq "$(seq_of "$s0")" "$n0" "v0 snapshot after more writes"
	assert_eq "$(seq_of "$s1")" "$n1" "v1 snapshot after more writes"
	snap_delete v0 "$i0"
	snap_delete v1 "$i1"
	prev=$n0
	r=$((r + 1))
done

touch "$SCRATCH/stop"
wait "$wpid" || fail "the writer failed"
n0=$(seq_of "$d0")
n1=$(seq_of "$d1")
assert_eq "$n1" "$n0" "last number on v0 and v1 after the writer stopped"
ferry_detach v0
ferry_detach v1
unload_ferry
step "done"
