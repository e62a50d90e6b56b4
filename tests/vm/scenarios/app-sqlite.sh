#!/bin/sh
# Application-consistent points of SQLite: a writer commits continuously
# to a WAL database on ext4 on /dev/ferry0 while `ferry snapshot --hook
# /usr/lib/ferry/hooks/sqlite DB` takes points. Every point is labelled
# application, its filesystem mounts read-only, the database copied out of
# it passes PRAGMA integrity_check and holds every row committed before
# the snapshot command started.
# disks: 512M 256M
# timeout: 480
# shellcheck source-path=SCRIPTDIR/.. source=lib.sh
. /scenarios/lib.sh

POINTS=4
load_ferry
mkdir -p /mnt/f /mnt/s
dev=$(ferry_attach v0 /dev/vdb /dev/vdc) || exit 1
ok /usr/sbin/mkfs.ext4 -q -F "$dev"
ok mount -t ext4 "$dev" /mnt/f
DB=/mnt/f/app.db
ok "$SQLITE3" "$DB" "PRAGMA journal_mode=WAL;" \
	"CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER NOT NULL, pad BLOB);" >/dev/null

step "writer: one transaction per row, continuously"
(
	i=0
	echo ".timeout 60000"
	while [ ! -e "$SCRATCH/stop" ]; do
		echo "INSERT INTO t (v, pad) VALUES ($i, randomblob(64));"
		i=$((i + 1))
	done
) | "$SQLITE3" -batch "$DB" >"$SCRATCH/writer.out" 2>&1 &
max() { "$SQLITE3" "$DB" ".timeout 60000" "SELECT coalesce(max(id), 0) FROM t;"; }
wait_for 30 '[ "$(max 2>/dev/null)" -gt 0 ] 2>/dev/null' ||
	fail "the writer committed nothing in 30 s"

n=1
while [ "$n" -le "$POINTS" ]; do
	before=$(max)
	step "point $n: $before rows committed before the command"
	t0=$(date +%s%N)
	"$FERRY" snapshot v0 --hook "/usr/lib/ferry/hooks/sqlite $DB" --json \
		>"$SCRATCH/snap$n.json" 2>"$SCRATCH/snap$n.err" ||
		fail "snapshot $n failed: $(cat "$SCRATCH/snap$n.err")"
	t1=$(date +%s%N)
	[ ! -s "$SCRATCH/snap$n.err" ] || fail "snapshot $n wrote to stderr: $(cat "$SCRATCH/snap$n.err")"
	echo "$before" >"$SCRATCH/before$n"
	id=$("$JQ" -r '.[0].id' "$SCRATCH/snap$n.json")
	summary=$("$JQ" -c '.[0] | {label: .label, freeze: .hooks.freeze.status, thaw: .hooks.thaw.status, hook_ms: .hooks.hook_ms}' "$SCRATCH/snap$n.json")
	echo "    snapshot $id in $(((t1 - t0) / 1000000)) ms: $summary"
	echo "$id" >"$SCRATCH/id$n"
	after=$(max)
	[ "$after" -gt "$before" ] || fail "the writer stopped (max id $after after point $n)"
	n=$((n + 1))
	sleep 2
done
touch "$SCRATCH/stop"
wait
step "writer stopped at $(max) rows"

"$FERRY" snapshots v0 --json >"$SCRATCH/list.json" || fail "ferry snapshots failed"
n=1
while [ "$n" -le "$POINTS" ]; do
	id=$(cat "$SCRATCH/id$n")
	before=$(cat "$SCRATCH/before$n")
	step "point $n (snapshot $id): label, tags, hooks"
	s=$("$JQ" -c ".[] | select(.id == $id)" "$SCRATCH/list.json")
	assert_eq "$(echo "$s" | "$JQ" -r .label)" application "label of snapshot $id"
	assert_eq "$(echo "$s" | "$JQ" -r .state)" live "state of snapshot $id"
	assert_eq "$(echo "$s" | "$JQ" -r '.tags["ferry.hook.freeze"]')" 0 "ferry.hook.freeze"
	assert_eq "$(echo "$s" | "$JQ" -r '.tags["ferry.hook.thaw"]')" 0 "ferry.hook.thaw"
	assert_eq "$(echo "$s" | "$JQ" -r '.hooks.freeze.status')" 0 "hooks.freeze.status"
	point=$(echo "$s" | "$JQ" -r .point)
	assert_eq "$(echo "$s" | "$JQ" -r '.tags["ferry.point"]')" "$point" "point id"
	echo "$s" | "$JQ" -r .hooks.freeze.output | grep -q locked ||
		fail "freeze output not recorded: $s"
	sdev=$(echo "$s" | "$JQ" -r .device)

	step "point $n: mount read-only, integrity_check, rows <= $before"
	ok mount -t ext4 -o ro "$sdev" /mnt/s
	rm -rf "$SCRATCH/copy" && mkdir "$SCRATCH/copy"
	for f in /mnt/s/app.db /mnt/s/app.db-wal; do
		[ -e "$f" ] && cp "$f" "$SCRATCH/copy/"
	done
	ok umount /mnt/s
	chk=$("$SQLITE3" "$SCRATCH/copy/app.db" "PRAGMA integrity_check;")
	assert_eq "$chk" ok "integrity_check of point $n"
	got=$("$SQLITE3" "$SCRATCH/copy/app.db" "SELECT count(*) FROM t WHERE id <= $before;")
	assert_eq "$got" "$before" "rows committed before point $n found in it"
	has=$("$SQLITE3" "$SCRATCH/copy/app.db" "SELECT max(id) FROM t;")
	echo "    point $n holds $has rows (>= $before)"
	n=$((n + 1))
done

step "the live database is fine and writable"
assert_eq "$("$SQLITE3" "$DB" "PRAGMA integrity_check;")" ok "integrity_check of the live db"
ok "$SQLITE3" "$DB" ".timeout 5000" "INSERT INTO t (v) VALUES (-1);"
ok umount /mnt/f
ferry_detach v0
unload_ferry
step "done"
