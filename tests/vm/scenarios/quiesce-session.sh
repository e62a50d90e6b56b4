#!/bin/sh
# Quiesce sessions (ferry snapshot --session, config key session): a
# writer commits continuously to a WAL SQLite database on ext4 on
# /dev/ferry0.
# (a) With scripts/hooks/sqlite-session, which holds BEGIN IMMEDIATE from
#     "quiesced" to "release" and records max(id) while it holds the lock:
#     the point is labelled application, the session's steps are in the
#     tags and the catalog, and the database in the point holds exactly
#     the rows committed before the lock (max(id) equals the recorded
#     one: nothing written while quiesced or after release), while the
#     live one moves on. With a hook and a session, the order is freeze,
#     quiesce, release, thaw, and all four statuses are in the tags.
# (b) Helpers that answer wrongly, hang past a short deadline, die, and
#     the real helper failing to take a lock another process holds: no
#     point, one error line, the filesystem takes writes at once, no
#     helper process is left; with --accept-lower-label a filesystem
#     point is kept with the failed status in its tags.
# (c) ferry daemon --config F --once uses the group's session.
# (d) The helper's stdin closing (what a kill -9 of the agent does)
#     releases the lock at once.
# disks: 512M 256M
# timeout: 600
# shellcheck source-path=SCRIPTDIR/.. source=lib.sh
. /scenarios/lib.sh

HELPER=/usr/lib/ferry/hooks/sqlite-session
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

# What the helper records while it holds the lock: "held|MAXID".
export FERRY_SQLITE_SESSION_SQL="SELECT 'held', coalesce(max(id), 0) FROM t;"

live_count() { "$FERRY" snapshots v0 --json | "$JQ" '[.[] | select(.state == "live")] | length'; }

# no_helper_left: no session helper (or its sqlite3, or a test helper)
# is running.
# shellcheck disable=SC2009 # busybox: no pgrep -f with patterns like these
no_helper_left() {
	if ps -o pid,args | grep -v grep | grep -E "sqlite-session|$SCRATCH/helper|sleep 4321"; then
		fail "a session helper process is left ($1)"
	fi
}

# writable WHAT: a write + fsync on the ferry filesystem within 5 s.
writable() {
	head -c 65536 /dev/urandom >"$SCRATCH/w$1"
	timeout 5 /usr/bin/dd if="$SCRATCH/w$1" of="/mnt/f/w$1" bs=64k conv=fsync status=none ||
		fail "the filesystem did not take a write within 5 s ($1)"
	assert_eq "$(file_sum "/mnt/f/w$1")" "$(file_sum "$SCRATCH/w$1")" "data written after $1"
}

# check_point ID HELD: the snapshot's database passes integrity_check
# and its newest row is HELD, the newest row while the lock was held.
check_point() {
	_dev=$("$FERRY" snapshots v0 --json | "$JQ" -r ".[] | select(.id == $1) | .device")
	ok mount -t ext4 -o ro "$_dev" /mnt/s
	rm -rf "$SCRATCH/copy" && mkdir "$SCRATCH/copy"
	for _f in /mnt/s/app.db /mnt/s/app.db-wal; do
		[ -e "$_f" ] && cp "$_f" "$SCRATCH/copy/"
	done
	ok umount /mnt/s
	assert_eq "$("$SQLITE3" "$SCRATCH/copy/app.db" "PRAGMA integrity_check;")" ok \
		"integrity_check of snapshot $1"
	assert_eq "$("$SQLITE3" "$SCRATCH/copy/app.db" "SELECT max(id) FROM t;")" "$2" \
		"newest row in snapshot $1 (the one seen under the lock)"
	assert_eq "$("$SQLITE3" "$SCRATCH/copy/app.db" "SELECT count(*) FROM t;")" "$2" \
		"rows in snapshot $1"
}

step "(a) ferry snapshot --session sqlite-session: an application point"
before=$(max)
"$FERRY" snapshot v0 --session "$HELPER $DB" --session-timeout 30 --json \
	>"$SCRATCH/a.json" 2>"$SCRATCH/a.err" ||
	fail "snapshot --session failed: $(cat "$SCRATCH/a.err")"
[ ! -s "$SCRATCH/a.err" ] || fail "snapshot --session wrote to stderr: $(cat "$SCRATCH/a.err")"
id=$("$JQ" -r '.[0].id' "$SCRATCH/a.json")
assert_eq "$("$JQ" -r '.[0].label' "$SCRATCH/a.json")" application "label"
assert_eq "$("$JQ" -r '.[0].hooks.session.quiesce.status' "$SCRATCH/a.json")" ok "quiesce status (snapshot --json)"
"$FERRY" snapshots v0 --json >"$SCRATCH/list.json" || fail "ferry snapshots failed"
s=$("$JQ" -c ".[] | select(.id == $id)" "$SCRATCH/list.json")
echo "    $(echo "$s" | "$JQ" -c '{id: .id, label: .label, tags: .tags, session: .hooks.session}')"
assert_eq "$(echo "$s" | "$JQ" -r '.tags["ferry.session.quiesce"]')" ok "ferry.session.quiesce"
assert_eq "$(echo "$s" | "$JQ" -r '.tags["ferry.session.release"]')" ok "ferry.session.release"
assert_eq "$(echo "$s" | "$JQ" -r '.hooks.session.release.status')" ok "hooks.session.release.status"
assert_eq "$(echo "$s" | "$JQ" -r '.hooks.freeze')" null "no freeze hook ran"
held=$(echo "$s" | "$JQ" -r '.hooks.session.quiesce.output' | sed -n 's/^held|//p')
[ -n "$held" ] || fail "the helper's record is not in the catalog: $s"
echo "$s" | "$JQ" -r '.hooks.session.release.output' | grep -q "released" ||
	fail "release output not recorded: $s"
[ "$held" -ge "$before" ] || fail "held $held < $before committed before the command"
no_helper_left "after a successful session"
wait_for 30 '[ "$(max)" -gt "$held" ]' ||
	fail "the writer did not resume in 30 s after release (max $(max))"
check_point "$id" "$held"
echo "    snapshot $id holds rows 1..$held; the live database is at $(max)"

step "(a) a second point: the same again"
"$FERRY" snapshot v0 --session "$HELPER $DB" --json >"$SCRATCH/a2.json" 2>"$SCRATCH/a2.err" ||
	fail "second snapshot --session failed: $(cat "$SCRATCH/a2.err")"
id2=$("$JQ" -r '.[0].id' "$SCRATCH/a2.json")
held2=$("$FERRY" snapshots v0 --json | "$JQ" -r ".[] | select(.id == $id2) | .hooks.session.quiesce.output" | sed -n 's/^held|//p')
[ "$held2" -gt "$held" ] || fail "second point held $held2, first $held"
check_point "$id2" "$held2"

step "(a) a hook and a session: freeze, quiesce, snapshot, release, thaw"
cat >"$SCRATCH/order-hook" <<ORDER_EOF
#!/bin/sh
echo "hook-\$1" >>"$SCRATCH/order"
ORDER_EOF
cat >"$SCRATCH/order-session" <<ORDER_EOF
#!/bin/sh
read -r q && echo "session-\$q" >>"$SCRATCH/order" && echo quiesced
read -r r && echo "session-\$r" >>"$SCRATCH/order" && echo released
ORDER_EOF
chmod 755 "$SCRATCH/order-hook" "$SCRATCH/order-session"
"$FERRY" snapshot v0 --hook "$SCRATCH/order-hook" --session "$SCRATCH/order-session" --json \
	>"$SCRATCH/both.json" 2>"$SCRATCH/both.err" || fail "snapshot --hook --session failed: $(cat "$SCRATCH/both.err")"
assert_eq "$(tr '\n' ' ' <"$SCRATCH/order")" "hook-freeze session-quiesce session-release hook-thaw " "order of the steps"
assert_eq "$("$JQ" -r '.[0].label' "$SCRATCH/both.json")" application "label with a hook and a session"
assert_eq "$("$JQ" -r '.[0].tags | [.["ferry.hook.freeze"], .["ferry.session.quiesce"], .["ferry.session.release"], .["ferry.hook.thaw"]] | join(" ")' "$SCRATCH/both.json")" \
	"0 ok ok 0" "hook and session tags"

step "(b) helpers that fail"
cat >"$SCRATCH/helper" <<'HELPER_EOF'
#!/bin/sh
# A session helper that fails as $MODE says.
read -r q
case $MODE in
wrong) echo "busy: try later" >&2; echo busy; read -r r; exit 0 ;;
hang) exec sleep 4321 ;;
die) echo "no database here" >&2; exit 3 ;;
esac
HELPER_EOF
chmod 755 "$SCRATCH/helper"
for mode in wrong hang die; do
	step "(b) a helper that ${mode}s: no point"
	n0=$(live_count)
	export MODE=$mode
	t0=$(date +%s)
	expect_fail "$FERRY" snapshot v0 --session "$SCRATCH/helper" --session-timeout 2
	t1=$(date +%s)
	case $mode in
	wrong) expect_err_match "quiesce session answered 'busy': busy: try later" ;;
	hang) expect_err_match "quiesce session did not answer within" ;;
	die) expect_err_match "quiesce session exited 3 without answering: no database here" ;;
	esac
	expect_err_match "no point taken"
	[ $((t1 - t0)) -le 15 ] || fail "the command took $((t1 - t0)) s"
	assert_eq "$(live_count)" "$n0" "live snapshots after a helper that ${mode}s"
	no_helper_left "helper that ${mode}s"
	writable "$mode"
done

step "(b) sqlite-session cannot take the lock another process holds"
n0=$(live_count)
(
	echo ".timeout 60000"
	echo "BEGIN IMMEDIATE;"
	echo "SELECT 'blocker-locked';"
	# Hold the lock until the snapshot attempt is over, however slow.
	wait_for 120 '[ -e "$SCRATCH/blocker.release" ]' || :
	echo "ROLLBACK;"
) | "$SQLITE3" -batch "$DB" >"$SCRATCH/blocker.out" 2>&1 &
blocker=$!
i=0
until grep -q blocker-locked "$SCRATCH/blocker.out"; do
	i=$((i + 1))
	[ "$i" -le 100 ] || fail "the blocker did not get its lock"
	sleep 0.1
done
export FERRY_SQLITE_BUSY_MS=500
expect_fail "$FERRY" snapshot v0 --session "$HELPER $DB" --session-timeout 5
unset FERRY_SQLITE_BUSY_MS
expect_err_match "quiesce session answered 'failed'"
assert_eq "$(live_count)" "$n0" "live snapshots after a lock that could not be taken"
no_helper_left "sqlite-session that could not lock"
touch "$SCRATCH/blocker.release"
wait "$blocker"
writable blocked

step "(b) --accept-lower-label: a filesystem point with ferry.session.quiesce=exited-3"
export MODE=die
ok sync
"$FERRY" snapshot v0 --session "$SCRATCH/helper" --session-timeout 2 --accept-lower-label --json \
	>"$SCRATCH/low.json" 2>"$SCRATCH/low.err" || fail "snapshot --accept-lower-label failed: $(cat "$SCRATCH/low.err")"
assert_eq "$(awk 'END { print NR }' "$SCRATCH/low.err")" 1 "stderr lines (one warning)"
grep -qi "warning.*quiesce session exited 3.*label filesystem" "$SCRATCH/low.err" ||
	fail "no warning: $(cat "$SCRATCH/low.err")"
lid=$("$JQ" -r '.[0].id' "$SCRATCH/low.json")
s=$("$FERRY" snapshots v0 --json | "$JQ" -c ".[] | select(.id == $lid)")
assert_eq "$(echo "$s" | "$JQ" -r .label)" filesystem "label"
assert_eq "$(echo "$s" | "$JQ" -r '.tags["ferry.session.quiesce"]')" exited-3 "ferry.session.quiesce"
assert_eq "$(echo "$s" | "$JQ" -r '.hooks.session.quiesce.output')" "no database here" "quiesce output in the catalog"
ok mount -t ext4 -o ro "$(echo "$s" | "$JQ" -r .device)" /mnt/s
for m in wrong hang die blocked; do
	assert_eq "$(file_sum "/mnt/s/w$m")" "$(file_sum "$SCRATCH/w$m")" "w$m in the point"
done
ok umount /mnt/s
no_helper_left "accept-lower-label"

step "(c) ferry daemon --once: the group's session"
CONF=$SCRATCH/ferry.conf
cat >"$CONF" <<CONF_EOF
volumes = ( { name = "v0"; data = "/dev/vdb"; cow = "/dev/vdc"; } );
groups = (
  { name = "app"; volumes = [ "v0" ];
    session = "$HELPER $DB"; session_timeout = "30s";
    schedule = { every = "1h"; };
  }
);
CONF_EOF
ok "$FERRY" config check "$CONF"
printf 'volumes = ( { name = "v0"; data = "/d"; cow = "/c"; } );\ngroups = ( { name = "g"; volumes = [ "v0" ];\n  session_timeout = "5s"; } );\n' >"$SCRATCH/bad.conf"
expect_fail "$FERRY" config check "$SCRATCH/bad.conf"
expect_err_match "bad.conf:3: 'session_timeout' needs 'session' in group 'g'"
ok "$FERRY" daemon --config "$CONF" --once >"$SCRATCH/once.log" 2>&1
cat "$SCRATCH/once.log"
did=$(sed -n 's/.*group app: point .* v0 snapshot \([0-9]*\) .*/\1/p' "$SCRATCH/once.log")
[ -n "$did" ] || fail "daemon --once took no point"
s=$("$FERRY" snapshots v0 --json | "$JQ" -c ".[] | select(.id == $did)")
assert_eq "$(echo "$s" | "$JQ" -r .label)" application "label of the daemon's point"
assert_eq "$(echo "$s" | "$JQ" -r '.tags["ferry.session.quiesce"]')" ok "ferry.session.quiesce of the daemon's point"
assert_eq "$(echo "$s" | "$JQ" -r '.tags["ferry.session.release"]')" ok "ferry.session.release of the daemon's point"
dheld=$(echo "$s" | "$JQ" -r '.hooks.session.quiesce.output' | sed -n 's/^held|//p')
[ "$dheld" -gt "$held2" ] || fail "the daemon's point held $dheld"
no_helper_left "daemon"
check_point "$did" "$dheld"

step "(d) the helper's stdin closes while it holds the lock: released at once"
rm -f "$SCRATCH/ctl" "$SCRATCH/ans"
mkfifo "$SCRATCH/ctl" "$SCRATCH/ans"
"$HELPER" "$DB" <"$SCRATCH/ctl" >"$SCRATCH/ans" 2>"$SCRATCH/d.err" &
hpid=$!
exec 5>"$SCRATCH/ctl" 6<"$SCRATCH/ans"
echo quiesce >&5
IFS= read -r answer <&6
assert_eq "$answer" quiesced "the helper's answer"
m0=$(max)
sleep 1
assert_eq "$(max)" "$m0" "rows committed while the helper holds the lock"
"$SQLITE3" "$DB" ".timeout 200" "INSERT INTO t (v) VALUES (-1);" 2>/dev/null &&
	fail "a write went through while the helper held the lock"
t0=$(date +%s)
exec 5>&- # what the kernel does to the agent's end at kill -9
i=0
while kill -0 "$hpid" 2>/dev/null; do
	i=$((i + 1))
	[ "$i" -le 150 ] || fail "the helper did not exit within 15 s of EOF"
	sleep 0.1
done
exec 6<&-
wait "$hpid" || fail "the helper exited $? after EOF: $(cat "$SCRATCH/d.err")"
grep -q "releasing" "$SCRATCH/d.err" || fail "no release on EOF: $(cat "$SCRATCH/d.err")"
ok "$SQLITE3" "$DB" ".timeout 5000" "INSERT INTO t (v) VALUES (-2);"
sleep 1
[ "$(max)" -gt "$m0" ] || fail "the writer did not resume after EOF"
echo "    released $(($(date +%s) - t0)) s after EOF"

touch "$SCRATCH/stop"
wait
step "writer stopped at $(max) rows"
assert_eq "$("$SQLITE3" "$DB" "PRAGMA integrity_check;")" ok "integrity_check of the live db"
no_helper_left "end"
ok umount /mnt/f
ferry_detach v0
unload_ferry
step "done"
