#!/bin/sh
# make demo: what ferry does today, in one VM. An application (SQLite)
# writes on ext4 on a ferry volume; filesystem-consistent snapshots are
# taken every few seconds while it runs; each is opened and checked; a
# writable clone is brought up and used like a fire drill; changed blocks
# between points are measured; the volume is detached and re-attached and
# its snapshots are still there. The report is printed between
# FERRY-DEMO-REPORT markers (tests/vm/demo.sh extracts it).
# manual: yes
# disks: 512M 256M
# timeout: 480
# shellcheck source-path=SCRIPTDIR/.. source=lib.sh
. /scenarios/lib.sh

R=/tmp/report.txt
: >"$R"
report() { echo "$*" >>"$R"; }
DB=/mnt/app/bank.db
# SQLite waits up to 10 s for a lock instead of failing at once.
sq() { /usr/bin/sqlite3 -cmd ".timeout 10000" "$@"; }

step "attach the volume and put an application on it"
load_ferry
dev=$(ferry_attach app /dev/vdb /dev/vdc) || fail "attach failed"
/usr/sbin/mkfs.ext4 -q -F "$dev" || fail "mkfs failed"
mkdir -p /mnt/app /mnt/snap
mount "$dev" /mnt/app || fail "mount failed"
sq "$DB" "PRAGMA journal_mode=WAL; CREATE TABLE tx(id INTEGER PRIMARY KEY, amount INTEGER);" >/dev/null ||
	fail "sqlite create failed"
report "volume: app = $dev over /dev/vdb ($(dev_size /dev/vdb) bytes), CoW store /dev/vdc"

# The application: one transaction per statement, committed in order.
(
	i=0
	while [ ! -f /tmp/stop ]; do
		i=$((i + 1))
		sq "$DB" "INSERT INTO tx(amount) VALUES($i);" 2>/dev/null
	done
) &
writer=$!
sleep 3

step "snapshots every 2 seconds while the application writes"
report ""
report "points taken while the application wrote:"
n=0
while [ $n -lt 5 ]; do
	n=$((n + 1))
	before=$(sq "$DB" "SELECT count(*) FROM tx;" 2>/dev/null)
	line=$("$FERRY" snapshot app --tag demo.round=$n --label filesystem) ||
		fail "snapshot $n failed"
	id=$(echo "$line" | awk '{print $2}')
	eval "before_$id=$before"
	report "  $line  (rows committed before: $before)"
	sleep 2
done
touch /tmp/stop
wait "$writer"

step "every point opens and holds what was committed before it"
report ""
"$FERRY" snapshots app >/tmp/snaps.txt || fail "ferry snapshots failed"
report "ferry snapshots app:"
sed 's/^/  /' /tmp/snaps.txt >>"$R"
report ""
report "checks of each point (mounted read-only, PRAGMA integrity_check):"
for id in $("$FERRY" snapshots app --json | /usr/bin/jq -r '.[].id'); do
	mount -o ro "/dev/ferry0s$id" /mnt/snap || fail "snapshot $id does not mount"
	integ=$(sq "file:/mnt/snap/bank.db?immutable=1" "PRAGMA integrity_check;")
	rows=$(sq "file:/mnt/snap/bank.db?immutable=1" "SELECT count(*) FROM tx;")
	umount /mnt/snap
	want=0
	eval "want=\$before_$id"
	[ "$integ" = ok ] || fail "snapshot $id: integrity_check says $integ"
	[ "$rows" -ge "$want" ] || fail "snapshot $id lost committed rows: $rows < $want"
	report "  point $id: integrity ok, $rows rows (>= $want committed before it)"
done

step "a writable clone of the newest point, used like a fire drill"
last=$("$FERRY" snapshots app --json | /usr/bin/jq -r '.[-1].id')
snap_sum=$(sum_dev "/dev/ferry0s$last")
t0=$(date +%s.%N)
cl=$("$FERRY" clone app "$last") || fail "clone failed"
cdev=$(echo "$cl" | awk '{print $3}')
mount "$cdev" /mnt/snap || fail "clone does not mount"
sq /mnt/snap/bank.db "INSERT INTO tx(amount) VALUES(-1);" || fail "cannot write in the clone"
integ=$(sq /mnt/snap/bank.db "PRAGMA integrity_check;")
umount /mnt/snap
cid=$(echo "$cl" | awk '{print $2}')
"$FERRY" delete app "$cid" || fail "cannot delete the clone"
t1=$(date +%s.%N)
[ "$integ" = ok ] || fail "clone integrity_check: $integ"
[ "$(sum_dev "/dev/ferry0s$last")" = "$snap_sum" ] || fail "the clone changed its snapshot"
report ""
report "fire-drill preview: clone of point $last mounted, written, checked: integrity $integ;"
report "  torn down in $(awk "BEGIN { printf \"%.1f\", $t1 - $t0 }") s; point $last unchanged (sha256 equal)"

step "changed blocks between the first and the newest point"
first=$("$FERRY" snapshots app --json | /usr/bin/jq -r '.[0].id')
bytes=$("$FERRY" changed app --since "$first" --until "$last" --json | /usr/bin/jq -r .bytes)
report ""
report "changed between point $first and point $last: $bytes bytes of $(dev_size "$dev") (what replication will send)"

step "detach and re-attach: the points survive"
umount /mnt/app
"$FERRY" detach app || fail "detach failed"
dev=$(ferry_attach app /dev/vdb /dev/vdc) || fail "re-attach failed"
count=$("$FERRY" snapshots app --json | /usr/bin/jq length)
[ "$count" -ge 5 ] || fail "only $count snapshots after re-attach"
[ "$(sum_dev "/dev/ferry0s$last")" = "$snap_sum" ] || fail "point $last changed across detach"
report ""
report "after detach + attach: $count points listed, point $last byte-identical"
"$FERRY" status app >>"$R"

echo "FERRY-DEMO-REPORT-BEGIN"
cat "$R"
echo "FERRY-DEMO-REPORT-END"
