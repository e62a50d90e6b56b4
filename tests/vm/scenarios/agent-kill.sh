#!/bin/sh
# kill -9 of the agent while its freeze hook sleeps: the filesystem is not
# left frozen (the kernel freezes only inside its netlink call), no point
# appears, and the catalog is reconciled with the kernel afterwards: a
# point another catalog took is added, one deleted behind this catalog's
# back is listed as deleted.
# disks: 256M 256M
# timeout: 480
# shellcheck source-path=SCRIPTDIR/.. source=lib.sh
. /scenarios/lib.sh

load_ferry
mkdir -p /mnt/f /mnt/s
dev=$(ferry_attach v0 /dev/vdb /dev/vdc) || exit 1
ok /usr/sbin/mkfs.ext4 -q -F "$dev"
ok mount -t ext4 "$dev" /mnt/f

hook=$SCRATCH/hook
cat >"$hook" <<HOOK
#!/bin/sh
case \$1 in
freeze) touch "$SCRATCH/froze"; sleep 5; touch "$SCRATCH/slept" ;;
thaw) touch "$SCRATCH/thawed" ;;
esac
HOOK
chmod +x "$hook"

step "kill -9 the agent during its freeze hook"
"$FERRY" snapshot v0 --hook "$hook" >"$SCRATCH/snap.out" 2>&1 &
agent=$!
i=0
while [ ! -e "$SCRATCH/froze" ]; do
	i=$((i + 1))
	[ "$i" -le 100 ] || fail "the freeze hook did not start"
	sleep 0.1
done
kill -9 "$agent"
wait "$agent" 2>/dev/null
echo "    agent $agent killed"

step "the filesystem takes writes at once"
head -c 131072 /dev/urandom >"$SCRATCH/after"
timeout 5 /usr/bin/dd if="$SCRATCH/after" of=/mnt/f/after bs=64k conv=fsync status=none ||
	fail "the filesystem did not take a write within 5 s"
assert_eq "$(file_sum /mnt/f/after)" "$(file_sum "$SCRATCH/after")" "data written after the kill"
fsfreeze --unfreeze /mnt/f 2>/dev/null && fail "the filesystem was frozen"

step "no point from the killed run"
assert_eq "$("$FERRY" snapshots v0 --json | "$JQ" length)" 0 "snapshots after the kill"
assert_eq "$("$FERRY" reconcile)" "" "reconcile output with nothing to fix"
# The orphaned hook finishes by itself; nobody thaws, and that is fine.
sleep 6

step "a point taken with another catalog is added by reconcile"
"$FERRY" --state-dir "$SCRATCH/other" snapshot v0 --json >"$SCRATCH/a.json" ||
	fail "snapshot with --state-dir failed"
ida=$("$JQ" -r '.[0].id' "$SCRATCH/a.json")
pa=$("$JQ" -r '.[0].point' "$SCRATCH/a.json")
"$FERRY" reconcile >"$SCRATCH/r1" || fail "ferry reconcile failed"
cat "$SCRATCH/r1"
assert_eq "$(wc -l <"$SCRATCH/r1")" 1 "reconcile lines"
grep -q "point $pa (snapshot $ida) added" "$SCRATCH/r1" || fail "reconcile did not add $pa"
assert_eq "$("$FERRY" reconcile)" "" "a second reconcile"

step "the point's data: the file written after the kill"
ok mount -t ext4 -o ro "$("$JQ" -r '.[0].device' "$SCRATCH/a.json")" /mnt/s
assert_eq "$(file_sum /mnt/s/after)" "$(file_sum "$SCRATCH/after")" "after in the point"
ok umount /mnt/s

step "deleted behind this catalog's back (by point id): listed as deleted"
ok "$FERRY" --state-dir "$SCRATCH/other" delete v0 "$pa"
"$FERRY" reconcile >"$SCRATCH/r2" || fail "ferry reconcile failed"
cat "$SCRATCH/r2"
grep -q "point $pa (snapshot $ida) marked deleted" "$SCRATCH/r2" || fail "reconcile did not mark $pa deleted"
"$FERRY" snapshots v0 --json >"$SCRATCH/list.json"
assert_eq "$("$JQ" -r ".[] | select(.point == \"$pa\") | .state" "$SCRATCH/list.json")" deleted "state of $pa"
assert_eq "$("$JQ" -r ".[] | select(.point == \"$pa\") | .device" "$SCRATCH/list.json")" null "device of $pa"

ok umount /mnt/f
ferry_detach v0
unload_ferry
step "done"
