#!/bin/sh
# Bad input is refused with one line on stderr and leaves nothing behind;
# busy devices cannot be detached and the module cannot be unloaded.
# disks: 320M 128M 128M 128M
# timeout: 480
# shellcheck source-path=SCRIPTDIR/.. source=lib.sh
. /scenarios/lib.sh

load_ferry

# state: what must not change after a refused command.
# I/O counters are left out: a mounted ext4 keeps writing in the
# background (lazy inode-table init), which is not a change a refused
# command made.
state() {
	echo "json: $(volumes | /usr/bin/jq -c 'map(del(.stats))')"
	echo "disks: $(ferry_devs | tr '\n' ' ')"
	echo "refcnt: $(cat /sys/module/ferry/refcnt 2>/dev/null)"
}
# refused CMD...: CMD fails with one line on stderr and changes nothing;
# the devices not in use stay claimable.
refused() {
	_before=$(state)
	expect_fail "$FERRY" "$@"
	assert_eq "$(state)" "$_before" "state after refused '$*'"
	for _d in $FREE; do
		claimable "$_d" || fail "$_d cannot be opened exclusively after '$*'"
	done
}

FREE="/dev/vdb /dev/vdc /dev/vdd /dev/vde"
long=abcdefghijklmnopqrstuvwxyz012345 # 32 characters
max=abcdefghijklmnopqrstuvwxyz01234   # 31 characters

step "bad attach arguments, nothing attached"
refused attach v0 --data /dev/nonexistent --cow /dev/vdc
refused attach v0 --data /dev/vdb --cow /dev/nonexistent
refused attach v0 --data /dev/vdb --cow /dev/vdb
refused attach "$long" --data /dev/vdb --cow /dev/vdc
refused attach a/b --data /dev/vdb --cow /dev/vdc
refused attach "a b" --data /dev/vdb --cow /dev/vdc
refused attach "" --data /dev/vdb --cow /dev/vdc
refused attach v0 --data /dev/vdb
refused attach v0 --cow /dev/vdc
refused attach v0 --data /dev/vdb --cow
refused attach --data /dev/vdb --cow /dev/vdc
refused attach
refused attach v0 --data /tmp --cow /dev/vdc
refused detach nosuch
refused detach
refused status nosuch

step "a 31-character name is fine"
dev=$(ferry_attach "$max" /dev/vdb /dev/vdc) || exit 1
ferry_detach "$max"
claimable /dev/vdb || fail "/dev/vdb still claimed after detach"

step "attach v0; conflicts with it are refused"
dev=$(ferry_attach v0 /dev/vdb /dev/vdc) || exit 1
claimable /dev/vdb && fail "/dev/vdb is not held exclusively while attached"
FREE="/dev/vdd /dev/vde"
refused attach v1 --data /dev/vdb --cow /dev/vdd
refused attach v0 --data /dev/vdd --cow /dev/vde
refused attach v1 --data /dev/vdd --cow /dev/vdc
refused attach v1 --data /dev/vdd --cow /dev/vdd

step "the refused devices attach correctly right after"
dev1=$(ferry_attach v1 /dev/vdd /dev/vde) || exit 1
assert_ne "$dev1" "$dev" "device of v1"
ferry_detach v1
[ -b "$dev1" ] && fail "$dev1 still exists after detach"

step "mounted device: detach and rmmod refused, filesystem keeps working"
ok /usr/sbin/mkfs.ext4 -q -F "$dev"
mkdir -p /mnt/f
ok mount "$dev" /mnt/f
dd if=/dev/urandom of=/mnt/f/a bs=64k count=16 status=none
a=$(file_sum /mnt/f/a)
FREE=""
refused detach v0
expect_err_match 'busy|mount|open|in use'
rmmod ferry 2>/dev/null && fail "rmmod ferry succeeded with $dev mounted"
[ -d /sys/module/ferry ] || fail "ferry module gone with $dev mounted"
dd if=/dev/urandom of=/mnt/f/b bs=64k count=16 conv=fsync status=none ||
	fail "writing to the filesystem after refused detach"
b=$(file_sum /mnt/f/b)
echo 3 >/proc/sys/vm/drop_caches
assert_eq "$(file_sum /mnt/f/a)" "$a" "file a after refused detach/rmmod"
assert_eq "$(file_sum /mnt/f/b)" "$b" "file b after refused detach/rmmod"
"$FERRY" status v0 >/dev/null || fail "status v0 after refused detach"

step "unmount, detach, rmmod"
ok umount /mnt/f
ferry_detach v0
assert_eq "$(volumes)" "[]" "status after detach"
for d in /dev/vdb /dev/vdc /dev/vdd /dev/vde; do
	claimable "$d" || fail "$d cannot be opened exclusively after detach"
done
ok mount -o ro /dev/vdb /mnt/f
assert_eq "$(file_sum /mnt/f/a)" "$a" "file a on /dev/vdb"
assert_eq "$(file_sum /mnt/f/b)" "$b" "file b on /dev/vdb"
ok umount /mnt/f
unload_ferry
step "done"
