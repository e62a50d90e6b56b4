#!/bin/sh
# ferry daemon: one group (v0, a freeze hook that bumps a sequence file
# on the filesystem), schedule every 2s, retention keep within 6s,
# min_count 2, pin tag "keep". After ~20 s and a SIGTERM between two runs: points were
# taken on schedule, old ones pruned (kernel and catalog agree), the
# survivors are what the rules say (pinned, 2 newest, within the window),
# each survivor is labelled application and mounts with its sequence
# number, the daemon stopped cleanly and the filesystem is writable.
# disks: 512M 256M
# timeout: 480
# shellcheck source-path=SCRIPTDIR/.. source=lib.sh
. /scenarios/lib.sh

load_ferry
mkdir -p /mnt/f /mnt/s
dev=$(ferry_attach v0 /dev/vdb /dev/vdc) || exit 1
ok /usr/sbin/mkfs.ext4 -q -F "$dev"
ok mount -t ext4 "$dev" /mnt/f

HOOK=$SCRATCH/seq-hook
cat >"$HOOK" <<'HOOK_EOF'
#!/bin/sh
# freeze: the next sequence number, durable before the snapshot.
[ "$1" = freeze ] || exit 0
n=$(cat /mnt/f/seq 2>/dev/null || echo 0)
echo $((n + 1)) >/mnt/f/seq.tmp && mv /mnt/f/seq.tmp /mnt/f/seq && sync
HOOK_EOF
chmod 755 "$HOOK"

CONF=$SCRATCH/ferry.conf
cat >"$CONF" <<CONF_EOF
volumes = ( { name = "v0"; data = "/dev/vdb"; cow = "/dev/vdc"; } );
groups = (
  { name = "app"; volumes = [ "v0" ]; hook = "$HOOK"; hook_timeout = "20s";
    schedule = { every = "2s"; };
    retention = { keep = ( { within = "6s"; every = "0s"; } );
                  min_count = 2; pin_tags = [ "keep" ]; };
  }
);
CONF_EOF

step "config check"
ok "$FERRY" config check "$CONF"
printf 'groups = ( { name = "g"; volumes = [ "nope" ]; } );\n' >"$SCRATCH/bad.conf"
expect_fail "$FERRY" config check "$SCRATCH/bad.conf"
expect_err_match "bad.conf:1: unknown volume 'nope'"

step "daemon --once: one point, one prune"
ok "$FERRY" daemon --config "$CONF" --once >"$SCRATCH/once.log"
cat "$SCRATCH/once.log"
grep -q "group app: point .* v0 snapshot 1 " "$SCRATCH/once.log" ||
	fail "daemon --once took no point"
grep -q "group app: prune v0: kept 1, deleted 0" "$SCRATCH/once.log" ||
	fail "daemon --once did not prune"

step "daemon for ~20 s, tag the newest live snapshot keep=yes at ~8 s"
t0=$(date +%s)
"$FERRY" daemon --config "$CONF" >"$SCRATCH/daemon.log" 2>"$SCRATCH/daemon.err" &
dpid=$!
sleep 8
# The newest: the oldest may be pruned between the listing and the tag
# on a loaded machine; the newest is inside the keep window and min_count.
pinned=$("$FERRY" snapshots v0 --json | "$JQ" -r '[.[] | select(.state == "live")] | last | .id')
ok "$FERRY" tag v0 "$pinned" keep=yes >/dev/null
echo "    pinned snapshot $pinned"
sleep 12
# SIGTERM during a point interrupts it and logs a failure (the point is
# kept and thawed); stop the daemon between runs, once it has taken 4
# points (runs longer than the period stretch the schedule).
between_runs() {
	[ "$(grep -c "group app: point .* v0 snapshot" "$SCRATCH/daemon.log")" -ge 4 ] &&
		tail -n 1 "$SCRATCH/daemon.log" |
		grep -Eq "group app: (prune v0: kept |behind schedule)"
}
# After 30 s, stopped anyway: the checks below say what went wrong.
wait_for 30 between_runs || :
kill -TERM "$dpid"
rc=0
wait "$dpid" || rc=$?
t1=$(date +%s)
cat "$SCRATCH/daemon.log"
assert_eq "$rc" 0 "daemon exit status after SIGTERM"
[ ! -s "$SCRATCH/daemon.err" ] || fail "daemon wrote to stderr: $(cat "$SCRATCH/daemon.err")"
tail -n 1 "$SCRATCH/daemon.log" | grep -q "daemon stopped by SIGTERM" ||
	fail "the daemon's last line is not its SIGTERM stop"
! grep -q "failed" "$SCRATCH/daemon.log" || fail "a daemon action failed"

step "the filesystem is not frozen and is writable"
ok timeout 10 sh -c 'echo after >/mnt/f/after && sync'

step "points on schedule"
taken=$(grep -c "group app: point .* v0 snapshot" "$SCRATCH/daemon.log")
deleted=$(grep -c "group app: prune v0: delete" "$SCRATCH/daemon.log")
echo "    $taken points in $((t1 - t0)) s, $deleted deleted by the daemon"
# One point at the start and one per 2 s of the time the daemon really ran
# (a loaded machine stretches the test's own sleeps).
most=$(((t1 - t0) / 2 + 1))
if [ "$taken" -lt 4 ] || [ "$taken" -gt "$most" ]; then
	fail "$taken points in $((t1 - t0)) s with every = 2s"
fi
[ "$deleted" -ge 1 ] || fail "nothing was pruned"

step "survivors follow the rules"
"$FERRY" snapshots v0 --json >"$SCRATCH/list.json" || fail "ferry snapshots failed"
"$JQ" -r '.[] | select(.state == "live") | "\(.id) \(.created) \(.tags.keep // "-") \(.label)"' \
	"$SCRATCH/list.json" | sort -n >"$SCRATCH/live"
cat "$SCRATCH/live"
nlive=$(awk 'END { print NR }' "$SCRATCH/live")
grep -q "^$pinned .* yes " "$SCRATCH/live" || fail "the pinned snapshot $pinned is gone"
rank=0
# Newest first: the 2 newest, the pinned one, and those the last prune
# saw within 6 s (it ran at most one period plus its own time ago).
sort -rn "$SCRATCH/live" | while read -r id created pin label; do
	rank=$((rank + 1))
	age=$((t1 - $(date -d "$created" +%s)))
	assert_eq "$label" application "label of snapshot $id"
	if [ "$rank" -gt 2 ] && [ "$pin" != yes ] && [ "$age" -gt 14 ]; then
		fail "snapshot $id (age $age s, rank $rank) should have been pruned"
	fi
done || exit 1
[ "$nlive" -le 8 ] || fail "$nlive live snapshots: retention did not hold"

step "catalog: every pruned point is listed as deleted"
ndel=$("$JQ" '[.[] | select(.state == "deleted")] | length' "$SCRATCH/list.json")
assert_eq "$ndel" "$deleted" "deleted points in the catalog"

step "prune now, then --dry-run keeps every survivor"
"$FERRY" prune --config "$CONF" v0 >"$SCRATCH/prune.out" || fail "ferry prune failed"
cat "$SCRATCH/prune.out"
"$FERRY" prune --config "$CONF" v0 --dry-run >"$SCRATCH/dry.out" || fail "prune --dry-run failed"
cat "$SCRATCH/dry.out"
# Only a point the prune kept for being inside the time window may have
# aged out of it between the two calls; anything else must stay kept.
grep "^delete" "$SCRATCH/dry.out" | while read -r _ id _; do
	grep -q "^keep $id .* within " "$SCRATCH/prune.out" ||
		fail "dry run right after a prune wants to delete $id"
done || exit 1
grep -q "^keep $pinned .* pinned by tag keep$" "$SCRATCH/dry.out" ||
	fail "the pinned snapshot is not kept as pinned"
[ "$(grep -c "newest 2 (min_count)" "$SCRATCH/dry.out")" -ge 1 ] ||
	fail "no point kept by min_count"
# The JSON form: the same rules, the same allowance for the time window.
"$FERRY" prune --config "$CONF" v0 --dry-run --json >"$SCRATCH/dry.json" ||
	fail "prune --dry-run --json failed"
"$JQ" -e ".[] | select(.id == $pinned) | .action == \"keep\" and .reason == \"pinned by tag keep\"" \
	"$SCRATCH/dry.json" >/dev/null || fail "prune --json does not keep the pinned snapshot"
"$JQ" -r '.[] | select(.action == "delete") | .id' "$SCRATCH/dry.json" | while read -r id; do
	grep -q "^keep $id .* within " "$SCRATCH/prune.out" ||
		fail "prune --json right after a prune wants to delete $id"
done || exit 1

step "every survivor mounts and holds an increasing sequence number"
last=0
for id in $("$FERRY" snapshots v0 --json | "$JQ" -r '.[] | select(.state == "live") | .id' | sort -n); do
	sdev=$("$FERRY" snapshots v0 --json | "$JQ" -r ".[] | select(.id == $id) | .device")
	ok mount -t ext4 -o ro "$sdev" /mnt/s
	seq=$(cat /mnt/s/seq)
	ok umount /mnt/s
	echo "    snapshot $id: seq $seq"
	[ "$seq" -gt "$last" ] || fail "snapshot $id holds seq $seq after $last"
	last=$seq
done
[ "$last" -le "$(cat /mnt/f/seq)" ] || fail "a snapshot is ahead of the filesystem"

ok umount /mnt/f
ferry_detach v0
unload_ferry
step "done"
