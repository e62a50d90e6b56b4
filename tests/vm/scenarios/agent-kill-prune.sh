#!/bin/sh
# kill -9 of the agent during a prune: 60 points (3 pinned by tag, each
# with its own file), retention min_count 5 + pin_tags, so prune deletes
# 52. Once the kernel has deleted the first ones, another process takes
# the catalog's write lock (the prune's next catalog update waits on it,
# the kernel one step ahead), and the prune is killed with SIGKILL. Then:
# nothing is frozen, the kernel holds every point retention keeps with
# the same bytes as before, the next agent command (ferry reconcile)
# marks exactly the points the kernel no longer has and says so, a
# second prune finishes the job, and catalog and kernel agree.
# disks: 64M 512M
# timeout: 600
# shellcheck source-path=SCRIPTDIR/.. source=lib.sh
. /scenarios/lib.sh

N=60
PINNED="5 20 35"
STATE=/var/lib/ferry
load_ferry
mkdir -p /mnt/f
dev=$(ferry_attach v0 /dev/vdb /dev/vdc) || exit 1
ok /usr/sbin/mkfs.ext4 -q -F "$dev"
ok mount -t ext4 "$dev" /mnt/f

step "$N points, each after a new file; $PINNED tagged keep=yes"
i=1
while [ "$i" -le "$N" ]; do
	head -c 16384 /dev/urandom >"/mnt/f/f$i" || fail "writing f$i"
	tag=
	case " $PINNED " in *" $i "*) tag="--tag keep=yes" ;; esac
	# shellcheck disable=SC2086 # $tag is empty or two words
	"$FERRY" snapshot v0 $tag >/dev/null || fail "snapshot $i failed"
	i=$((i + 1))
done

CONF=$SCRATCH/ferry.conf
cat >"$CONF" <<CONF_EOF
volumes = ( { name = "v0"; data = "/dev/vdb"; cow = "/dev/vdc"; } );
groups = (
  { name = "app"; volumes = [ "v0" ];
    retention = { min_count = 5; pin_tags = [ "keep" ]; }; }
);
CONF_EOF
ok "$FERRY" config check "$CONF"

step "what retention keeps (dry run), and those snapshots' bytes"
"$FERRY" prune v0 --config "$CONF" --dry-run --json >"$SCRATCH/plan.json" ||
	fail "prune --dry-run failed"
"$JQ" -r '.[] | select(.action == "keep") | .id' "$SCRATCH/plan.json" | sort -n >"$SCRATCH/keep"
assert_eq "$(wc -l <"$SCRATCH/keep")" 8 "points retention keeps (5 newest + 3 pinned)"
"$FERRY" snapshots v0 --json >"$SCRATCH/before.json"
for id in $(tr "\n" " " <"$SCRATCH/keep"); do
	d=$("$JQ" -r ".[] | select(.id == $id) | .device" "$SCRATCH/before.json")
	echo "$id $(sum_dev "$d")" >>"$SCRATCH/sums.before"
done
pinned_ids=$("$JQ" -r '.[] | select(.tags.keep == "yes") | .id' "$SCRATCH/before.json" | sort -n | tr '\n' ' ')
echo "    keep: $(tr '\n' ' ' <"$SCRATCH/keep")(pinned: $pinned_ids)"
for id in $pinned_ids; do
	grep -qx "$id" "$SCRATCH/keep" || fail "pinned snapshot $id is not kept"
done

# ferry devices in /sys/block (the volume and its snapshots), no fork.
ndevs() {
	set -- /sys/block/ferry*
	echo $#
}
n0=$(ndevs)
assert_eq "$n0" $((N + 1)) "ferry block devices before the prune"

step "prune, and kill -9 it mid-way"
# Another process that will take the catalog's write lock once the
# kernel has deleted the first snapshot: the prune's next catalog update
# then waits on it (busy timeout) while the kernel is a step ahead.
# Started now (connection open, no lock) so that it is quick to act.
(
	echo ".timeout 20000"
	echo "SELECT 'open' FROM sqlite_master LIMIT 1;"
	while [ ! -e "$SCRATCH/lock" ]; do sleep 0.02; done
	echo "BEGIN IMMEDIATE;"
	echo "SELECT 'held';"
	while [ ! -e "$SCRATCH/unlock" ]; do sleep 0.1; done
	echo "ROLLBACK;"
) | "$SQLITE3" -batch "$STATE/catalog.db" >"$SCRATCH/lock.out" 2>&1 &
i=0
until grep -q open "$SCRATCH/lock.out"; do
	i=$((i + 1))
	[ "$i" -le 200 ] || fail "the lock holder did not start: $(cat "$SCRATCH/lock.out")"
	sleep 0.05
done
"$FERRY" prune v0 --config "$CONF" >"$SCRATCH/prune.out" 2>&1 &
agent=$!
while [ "$(ndevs)" -eq "$n0" ]; do
	kill -0 "$agent" 2>/dev/null || fail "the prune ended before deleting: $(cat "$SCRATCH/prune.out")"
done
touch "$SCRATCH/lock"
i=0
until grep -q held "$SCRATCH/lock.out"; do
	i=$((i + 1))
	[ "$i" -le 200 ] || fail "could not take the catalog lock: $(cat "$SCRATCH/lock.out")"
	sleep 0.05
done
sleep 1
kill -0 "$agent" 2>/dev/null || fail "the prune finished before the kill: $(cat "$SCRATCH/prune.out")"
kill -9 "$agent"
wait "$agent" 2>/dev/null
touch "$SCRATCH/unlock"
wait
left=$(($(ndevs) - 1))
echo "    prune killed with $left of $N snapshots left in the kernel"
{ [ "$left" -lt "$N" ] && [ "$left" -gt 8 ]; } || fail "the kill was not mid-prune ($left left)"

step "nothing frozen: the filesystem takes a write at once"
head -c 131072 /dev/urandom >"$SCRATCH/after"
timeout 5 /usr/bin/dd if="$SCRATCH/after" of=/mnt/f/after bs=64k conv=fsync status=none ||
	fail "the filesystem did not take a write within 5 s"
assert_eq "$(file_sum /mnt/f/after)" "$(file_sum "$SCRATCH/after")" "data written after the kill"
fsfreeze --unfreeze /mnt/f 2>/dev/null && fail "the filesystem was frozen"

step "what the catalog believes vs the kernel, before any reconcile"
# The kernel's list through a throw-away catalog (the real one untouched).
"$FERRY" --state-dir "$SCRATCH/other" snapshots v0 --json |
	"$JQ" -r '.[] | select(.state == "live") | .id' | sort >"$SCRATCH/kernel"
assert_eq "$(wc -l <"$SCRATCH/kernel")" "$left" "snapshots in the kernel"
"$SQLITE3" "$STATE/catalog.db" \
	"SELECT snap_id FROM points WHERE volume = 'v0' AND state = 'live';" |
	sort >"$SCRATCH/catalog"
# Points the catalog still calls live but the kernel deleted, and the
# other way round (no comm in the guest).
grep -vxF -f "$SCRATCH/kernel" "$SCRATCH/catalog" >"$SCRATCH/stale" || true
grep -vxF -f "$SCRATCH/catalog" "$SCRATCH/kernel" >"$SCRATCH/unknown" || true
assert_eq "$(wc -l <"$SCRATCH/unknown")" 0 "kernel snapshots the catalog does not know"
echo "    $(wc -l <"$SCRATCH/stale") point(s) deleted in the kernel, not yet in the catalog"
[ -s "$SCRATCH/stale" ] || fail "the kill did not land between the kernel and the catalog"

step "every point retention keeps is still in the kernel"
for id in $(tr "\n" " " <"$SCRATCH/keep"); do
	grep -qx "$id" "$SCRATCH/kernel" || fail "kept snapshot $id is gone"
done

step "ferry reconcile fixes exactly the stale points and says so"
"$FERRY" reconcile >"$SCRATCH/r1" 2>&1 || fail "ferry reconcile failed: $(cat "$SCRATCH/r1")"
cat "$SCRATCH/r1"
assert_eq "$(wc -l <"$SCRATCH/r1")" "$(wc -l <"$SCRATCH/stale")" "reconcile lines"
for id in $(tr "\n" " " <"$SCRATCH/stale"); do
	grep -q "(snapshot $id) marked deleted" "$SCRATCH/r1" || fail "reconcile did not mark snapshot $id"
done
assert_eq "$("$FERRY" reconcile)" "" "a second reconcile"

step "a second prune finishes; catalog and kernel agree"
"$FERRY" prune v0 --config "$CONF" >"$SCRATCH/prune2.out" || fail "second prune failed"
assert_eq "$(grep -c '^delete ' "$SCRATCH/prune2.out")" $((left - 8)) "points deleted by the second prune"
"$FERRY" snapshots v0 --json >"$SCRATCH/after.json"
"$JQ" -r '.[] | select(.state == "live") | .id' "$SCRATCH/after.json" | sort -n >"$SCRATCH/live"
assert_eq "$(tr '\n' ' ' <"$SCRATCH/live")" "$(tr '\n' ' ' <"$SCRATCH/keep")" "live points after the prune"
"$FERRY" --state-dir "$SCRATCH/other2" snapshots v0 --json |
	"$JQ" -r '.[] | select(.state == "live") | .id' | sort -n >"$SCRATCH/kernel2"
assert_eq "$(tr '\n' ' ' <"$SCRATCH/kernel2")" "$(tr '\n' ' ' <"$SCRATCH/keep")" "kernel snapshots after the prune"
assert_eq "$("$SQLITE3" "$STATE/catalog.db" "SELECT count(*) FROM points WHERE volume = 'v0' AND state = 'deleted';")" \
	$((N - 8)) "points the catalog marks deleted"
for id in $pinned_ids; do
	assert_eq "$("$JQ" -r ".[] | select(.id == $id) | .tags.keep" "$SCRATCH/after.json")" yes "pinned snapshot $id"
done
while read -r id sum; do
	d=$("$JQ" -r ".[] | select(.id == $id) | .device" "$SCRATCH/after.json")
	assert_eq "$(sum_dev "$d")" "$sum" "bytes of kept snapshot $id"
done <"$SCRATCH/sums.before"
assert_eq "$(ndevs)" 9 "ferry block devices (the volume and the 8 kept)"

ok umount /mnt/f
ferry_detach v0
unload_ferry
step "done"
