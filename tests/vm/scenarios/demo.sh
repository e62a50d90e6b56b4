#!/bin/sh
# make demo: the whole flow in one VM with two sites. Site A (primary):
# volume "app" on vdb (CoW vdc), an SQLite application writing on ext4.
# Site B (second site): volume "app-dr" on vdd (CoW vde) with `ferry
# receive` and `ferry watch`. Application-consistent points (the SQLite
# hook) are taken and replicated every few seconds while the application
# writes; every point that arrived is opened at site B and checked; a tag
# set at site A (drill=requested) travels to site B, where it starts a fire
# drill (a writable snapshot of the point, checked with PRAGMA
# integrity_check) while replication goes on; the result tags travel back.
# Then site A is lost: failover at site B, the application runs there,
# and failback sends site A only what differs. The report (points, labels,
# RPO over time, bytes sent vs changed, drill result, failover/failback)
# is printed between
# FERRY-DEMO-REPORT markers, and the RPO samples between FERRY-DEMO-RPO
# markers (tests/vm/demo.sh turns them into report.txt and report.html).
# manual: yes
# disks: 256M 256M 256M 256M
# timeout: 600
# shellcheck source-path=SCRIPTDIR/.. source=lib.sh
. /scenarios/lib.sh

R=/tmp/report.txt
RPO=/tmp/rpo.txt
: >"$R"
: >"$RPO"
report() { echo "$*" >>"$R"; }
A="$FERRY --state-dir /tmp/site-a"
B="$FERRY --state-dir /tmp/site-b"
PORT=127.0.0.1:7000
DB=/mnt/app/bank.db
ROUNDS=${FERRY_DEMO_ROUNDS:-5}
# The shipped SQLite hook holds the database still for the point.
HOOK=/usr/lib/ferry/hooks/sqlite
export FERRY_SQLITE_DB=/mnt/app/bank.db
# SQLite waits up to 10 s for a lock instead of failing at once.
sq() { /usr/bin/sqlite3 -cmd ".timeout 10000" "$@"; }
now() { date +%s.%N; }
elapsed() { awk "BEGIN { printf \"%.1f\", $(now) - $1 }"; }

step "two sites: app at A, app-dr at B"
load_ferry
dev=$(ferry_attach app /dev/vdb /dev/vdc) || fail "attach app failed"
drdev=$(ferry_attach app-dr /dev/vdd /dev/vde) || fail "attach app-dr failed"
/usr/sbin/mkfs.ext4 -q -F "$dev" || fail "mkfs failed"
mkdir -p /mnt/app /mnt/check
mount "$dev" /mnt/app || fail "mount failed"
sq "$DB" "PRAGMA journal_mode=WAL; CREATE TABLE tx(id INTEGER PRIMARY KEY, amount INTEGER);" >/dev/null ||
	fail "sqlite create failed"
report "site A: volume app = $dev (data /dev/vdb, CoW /dev/vdc), SQLite on ext4"
report "site B: volume app-dr = $drdev (data /dev/vdd, CoW /dev/vde), ferry receive on $PORT"

$B receive app-dr --listen $PORT >/tmp/recv.out 2>/tmp/recv.err &
recv=$!
# The fire-drill check: the application's own integrity check on the
# drill copy of its data.
cat >/tmp/drill-check <<'CHECK'
#!/bin/sh
set -e
mkdir -p /mnt/drill
/usr/bin/mount "$1" /mnt/drill
r=$(/usr/bin/sqlite3 /mnt/drill/bank.db "PRAGMA integrity_check;")
n=$(/usr/bin/sqlite3 /mnt/drill/bank.db "SELECT count(*) FROM tx;")
/usr/bin/umount /mnt/drill
echo "integrity_check $r, $n rows"
[ "$r" = ok ]
CHECK
chmod +x /tmp/drill-check
$B watch app-dr --check /tmp/drill-check --once >/tmp/watch.out 2>/tmp/watch.err &
watcher=$!
sleep 1
kill -0 "$recv" 2>/dev/null || fail "receiver did not start: $(cat /tmp/recv.err)"

# The application: one transaction per statement, committed in order.
(
	i=0
	while [ ! -f /tmp/stop ]; do
		i=$((i + 1))
		sq "$DB" "INSERT INTO tx(amount) VALUES($i);" 2>/dev/null
	done
) &
writer=$!
t_start=$(now)
sleep 2

step "$ROUNDS rounds: take a point, replicate it, wait for arrival and ack"
report ""
report "points replicated while the application wrote:"
n=0
while [ $n -lt "$ROUNDS" ]; do
	n=$((n + 1))
	before=$(sq "$DB" "SELECT count(*) FROM tx;")
	t0=$(now)
	$A replicate app --to $PORT --once --json --hook "$HOOK" >/tmp/rep.$n.json 2>/tmp/rep.$n.err ||
		fail "round $n: replicate failed: $(cat /tmp/rep.$n.err)"
	point=$(/usr/bin/jq -r .point /tmp/rep.$n.json)
	eval "before_$n=$before point_$n=$point"
	/usr/bin/jq -r --arg b "$before" --arg t "$(elapsed "$t0")" \
		'"  \(.point[0:8]) \(.mode | . + " " * (11 - length)) sent \(.bytes_sent) bytes for \(.bytes_changed) changed, replica snapshot \(.replica_snap_id), \($t) s, \($b) rows committed before"' \
		/tmp/rep.$n.json >>"$R"
	# RPO at this moment: the newest point at B was taken at t0.
	echo "$(elapsed "$t_start") $(elapsed "$t0")" >>"$RPO"
	sleep 2
	echo "$(elapsed "$t_start") $(elapsed "$t0")" >>"$RPO"
done
touch /tmp/stop
wait "$writer"

step "site B: every arrived point opens and holds what was committed before it"
report ""
report "site B, ferry snapshots app-dr:"
$B snapshots app-dr | sed 's/^/  /' >>"$R"
report ""
report "checks at site B (each point mounted read-only, PRAGMA integrity_check):"
$B snapshots app-dr --json >/tmp/dr.json
n=0
while [ $n -lt "$ROUNDS" ]; do
	n=$((n + 1))
	eval "point=\$point_$n want=\$before_$n"
	id=$(/usr/bin/jq -r --arg p "$point" '.[] | select(.point == $p and .state == "live") | .id' /tmp/dr.json)
	[ -n "$id" ] || fail "point $point did not arrive at site B"
	mount -o ro "/dev/ferry1s$id" /mnt/check || fail "point $point does not mount at B"
	integ=$(sq "file:/mnt/check/bank.db?immutable=1" "PRAGMA integrity_check;")
	rows=$(sq "file:/mnt/check/bank.db?immutable=1" "SELECT count(*) FROM tx;")
	umount /mnt/check
	[ "$integ" = ok ] || fail "point $point: integrity_check says $integ"
	[ "$rows" -ge "$want" ] || fail "point $point lost committed rows: $rows < $want"
	report "  point ${point%%-*}: replica snapshot $id, integrity ok, $rows rows (>= $want committed before)"
done
left=$($A snapshots app --json | /usr/bin/jq '[.[] | select(.state == "live")] | length')
report "site A keeps $left live snapshots: each was deleted once site B acknowledged it"

step "a tag at site A starts a fire drill at site B, replication goes on"
last=$(/usr/bin/jq -r '[.[] | select(.state == "live" and .writable == false)] | last | .id' /tmp/dr.json)
lastpoint=$(/usr/bin/jq -r --argjson id "$last" '.[] | select(.id == $id) | .point' /tmp/dr.json)
snap_sum=$(sum_dev "/dev/ferry1s$last")
t0=$(now)
$A tag app "$lastpoint" drill=requested >/dev/null || fail "tag at site A failed"
$A replicate app --to $PORT --tags-only >/dev/null 2>/tmp/tags.err ||
	fail "tags did not travel: $(cat /tmp/tags.err)"
# Replication goes on while the drill runs.
sq "$DB" "INSERT INTO tx(amount) VALUES(0);" >/dev/null
$A replicate app --to $PORT --once --json --hook "$HOOK" >/tmp/rep.drill.json 2>/tmp/rep.drill.err ||
	fail "replication during the drill failed: $(cat /tmp/rep.drill.err)"
wait "$watcher" || fail "the drill failed: $(cat /tmp/watch.err /tmp/watch.out)"
dt=$(elapsed "$t0")
# The result tags travel back to site A with the next session.
$A replicate app --to $PORT --tags-only >/dev/null 2>>/tmp/tags.err || fail "tags did not come back"
res=$($A snapshots app --json | /usr/bin/jq -r --arg p "$lastpoint" '.[] | select(.point == $p) | .tags["drill.result"]')
[ "$res" = pass ] || fail "drill result at site A: '$res' ($(cat /tmp/watch.out /tmp/watch.err))"
[ "$(sum_dev "/dev/ferry1s$last")" = "$snap_sum" ] || fail "the drill changed the replica's point"
report ""
report "fire drill: drill=requested set at site A on point ${lastpoint%%-*}; at site B ferry watch ran the check on a writable"
report "  snapshot of replica snapshot $last: $(tail -n 1 /tmp/watch.out)"
report "  result at site A: drill.result=$res after $dt s; a point replicated meanwhile ($(/usr/bin/jq -r .mode /tmp/rep.drill.json));"
report "  drill copy torn down; replica snapshot $last unchanged (sha256 equal)"
$B drills app-dr | sed 's/^/  /' >>"$R"

step "totals"
sent=$(cat /tmp/rep.*.json | /usr/bin/jq -s 'map(.bytes_sent) | add')
changed=$(cat /tmp/rep.*.json | /usr/bin/jq -s 'map(.bytes_changed) | add')
report ""
report "bytes sent in all rounds: $sent; bytes of changed extents: $changed; volume size $(dev_size "$dev")"
report "RPO samples (seconds since start, age of the newest point at site B): $(tr '\n' ';' <"$RPO")"

step "site A is lost: failover at site B, the application runs there"
kill "$recv" 2>/dev/null
wait "$recv" 2>/dev/null
umount /mnt/app
t0=$(now)
$B failover app-dr --json >/tmp/fo.json || fail "failover failed"
mount "$drdev" /mnt/check || fail "the failed-over volume does not mount"
integ=$(sq /mnt/check/bank.db "PRAGMA integrity_check;")
sq /mnt/check/bank.db "INSERT INTO tx(amount) VALUES(-2); INSERT INTO tx(amount) VALUES(-3);" ||
	fail "the application cannot write at site B"
rows_b=$(sq /mnt/check/bank.db "SELECT count(*) FROM tx;")
umount /mnt/check
report ""
report "failover at site B to point $(/usr/bin/jq -r '.point[0:8]' /tmp/fo.json) in $(elapsed "$t0") s: app-dr mounted read-write,"
report "  integrity $integ, the application wrote there ($rows_b rows)"

step "failback: site A gets only what differs"
$A failback-receive app --listen 127.0.0.1:7001 --timeout 120 --json >/tmp/fbr.json 2>/tmp/fbr.err &
fbr=$!
sleep 1
t0=$(now)
$B failback app-dr --to 127.0.0.1:7001 --json >/tmp/fb.json 2>/tmp/fb.err ||
	fail "failback failed: $(cat /tmp/fb.err /tmp/fbr.err)"
wait "$fbr" || fail "failback-receive failed: $(cat /tmp/fbr.err)"
[ "$(sum_dev "$dev")" = "$(sum_dev "$drdev")" ] || fail "site A differs from site B after failback"
mount "$dev" /mnt/app || fail "site A does not mount after failback"
rows_a=$(sq "$DB" "SELECT count(*) FROM tx;")
umount /mnt/app
[ "$rows_a" = "$rows_b" ] || fail "site A has $rows_a rows, site B $rows_b"
report "failback to site A in $(elapsed "$t0") s: sent $(/usr/bin/jq -r .bytes /tmp/fb.json) bytes of a $(dev_size "$dev")-byte volume;"
report "  site A is byte-identical to site B (sha256 of both volumes) and holds the $rows_a rows written at site B"

echo "FERRY-DEMO-REPORT-BEGIN"
cat "$R"
echo "FERRY-DEMO-REPORT-END"
echo "FERRY-DEMO-RPO-BEGIN"
cat "$RPO"
echo "FERRY-DEMO-RPO-END"
