#!/bin/sh
# Smoke test: load, status, attach, status (text and JSON), detach, unload.
# disks: 512M 256M
# timeout: 480
# shellcheck source-path=SCRIPTDIR/.. source=lib.sh
. /scenarios/lib.sh

step "insmod, nothing attached"
load_ferry
assert_eq "$(volumes)" "[]" "status --json with nothing attached"
out=$("$FERRY" status) || fail "ferry status failed"
echo "$out" | grep -q ferry0 && fail "status lists a device before attach: $out"
assert_eq "$(ferry_devs)" "" "ferry disks before attach"

step "attach v0"
dev=$(ferry_attach v0 /dev/vdb /dev/vdc) || exit 1
assert_eq "$dev" /dev/ferry0 "device of the first volume"
size=$(dev_size /dev/vdb)
assert_eq "$(dev_size "$dev")" "$size" "size of $dev"

step "status shows v0"
out=$("$FERRY" status) || fail "ferry status failed"
echo "$out"
echo "$out" | grep -q v0 || fail "status does not name v0"
echo "$out" | grep -q "$dev" || fail "status does not show $dev"
"$FERRY" status v0 >/dev/null || fail "ferry status v0 failed"

ferry_json >"$SCRATCH/s.json"
cat "$SCRATCH/s.json"
j() { jq -r "$1" "$SCRATCH/s.json"; }
assert_eq "$(j length)" 1 "number of volumes"
assert_eq "$(j '.[0].name')" v0 "name"
assert_eq "$(j '.[0].device')" "$dev" "device"
assert_eq "$(j '.[0].size')" "$size" "size"
assert_eq "$(j '.[0].size | type')" number "type of size"
assert_eq "$(j '.[0].data')" /dev/vdb "data"
assert_eq "$(j '.[0].cow')" /dev/vdc "cow"
assert_eq "$(j '.[0].open_count | type')" number "type of open_count"
assert_eq "$(j '.[0].stats | type')" object "type of stats"

ferry_json v0 >"$SCRATCH/v0.json"
assert_eq "$(jq -r '.[0].name' "$SCRATCH/v0.json")" v0 "status v0 --json name"
assert_eq "$(jq -r 'length' "$SCRATCH/v0.json")" 1 "status v0 --json length"

step "a little I/O"
dd if=/dev/urandom of="$SCRATCH/blk" bs=64k count=16 status=none
dd if="$SCRATCH/blk" of="$dev" bs=64k oflag=direct status=none || fail "write $dev"
assert_eq "$(sum_range /dev/vdb 0 1048576)" "$(file_sum "$SCRATCH/blk")" \
	"data on /dev/vdb after writing $dev"

step "detach, unload"
ferry_detach v0
assert_eq "$(volumes)" "[]" "status --json after detach"
assert_eq "$(ferry_devs)" "" "ferry disks after detach"
[ -b "$dev" ] && fail "$dev still exists after detach"
unload_ferry
step "done"
