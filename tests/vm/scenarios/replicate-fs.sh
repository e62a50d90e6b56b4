#!/bin/sh
# Replication of a mounted ext4 file system: files written between rounds
# are in each replica snapshot (mounted read-only there); a replica that
# lost its state refuses an incremental stream with one error line at the
# sender, and --full brings it back. ferry replicate --hook and --session
# take the point as ferry snapshot does: labelled application, with the
# hook's or the session's tags at both sites; a marker the session helper
# writes while quiesced is in the replica; a helper that answers wrongly
# fails the round with one error line and leaves no primary snapshot.
# ferry daemon --once: the pair's point is taken with the group's session.
# disks: 128M 128M 128M 128M
# timeout: 480
# shellcheck source-path=SCRIPTDIR/.. source=lib.sh
. /scenarios/lib.sh

PORT=127.0.0.1:7001
load_ferry
d0=$(ferry_attach v0 /dev/vdb /dev/vdc) || exit 1
ferry_attach v1 /dev/vdd /dev/vde >/dev/null || exit 1
mkdir -p /mnt/p /mnt/r

snap_dev_of() {
	"$FERRY" snapshots v1 --json |
		$JQ -r --argjson id "$1" '.[] | select(.id == $id) | .device'
}

# check_replica ID: the replica snapshot ID holds the tree of /mnt/p/data.
check_replica() {
	_dev=$(snap_dev_of "$1")
	ok mount -o ro,noload "$_dev" /mnt/r
	sum_tree /mnt/p/data >"$SCRATCH/want"
	sum_tree /mnt/r/data >"$SCRATCH/got"
	umount /mnt/r
	cmp "$SCRATCH/want" "$SCRATCH/got" || fail "replica snapshot $1 differs from /mnt/p"
}

rep() {
	"$FERRY" --state-dir /tmp/pri replicate v0 --to $PORT --once --json "$@" \
		>"$SCRATCH/r.json" || fail "replicate $*"
	$JQ -c . "$SCRATCH/r.json"
}

step "ext4 on $d0 with files"
ok mkfs.ext4 -q -F "$d0"
ok mount "$d0" /mnt/p
make_tree /mnt/p/data 40

"$FERRY" --state-dir /tmp/dr receive v1 --listen $PORT --verbose \
	>"$SCRATCH/recv.out" 2>"$SCRATCH/recv.err" &
i=0
until grep -q "receiving into" "$SCRATCH/recv.err"; do
	i=$((i + 1))
	[ $i -le 50 ] || fail "receiver did not start"
	sleep 0.1
done

# label_of DIR VOL POINT: the label of the point's snapshot (live or
# deleted: from the catalog in state directory DIR).
label_of() {
	"$FERRY" --state-dir "$1" snapshots "$2" --json |
		$JQ -r --arg p "$3" '[.[] | select(.point == $p)][0].label'
}

step "round 1 (full), with the file system mounted"
rep
assert_eq "$($JQ -r .mode "$SCRATCH/r.json")" full "mode"
check_replica "$($JQ -r .replica_snap_id "$SCRATCH/r.json")"

step "the replica snapshot carries the point's label"
pt=$($JQ -r .point "$SCRATCH/r.json")
assert_eq "$(label_of /tmp/pri v0 "$pt")" filesystem "primary label"
assert_eq "$(label_of /tmp/dr v1 "$pt")" filesystem "replica label"
rtags=$("$FERRY" snapshots v1 --json | $JQ -c --arg p "$pt" '.[] | select(.point == $p) | .tags')
echo "replica tags: $rtags"
case $rtags in *ferry.label*) fail "ferry.label kept as a tag" ;; esac

step "more files, one changed, one removed; round 2 (incremental)"
make_tree /mnt/p/data/more 20
head -c 100000 /dev/urandom >/mnt/p/data/d1/f1
rm -f /mnt/p/data/d2/f2
rep
assert_eq "$($JQ -r .mode "$SCRATCH/r.json")" incremental "mode"
check_replica "$($JQ -r .replica_snap_id "$SCRATCH/r.json")"

step "replica state lost: incremental refused, --full recovers"
rm /tmp/dr/recv-v1.state
expect_fail "$FERRY" --state-dir /tmp/pri replicate v0 --to $PORT --once
expect_err_match "full resync"
# The failed round keeps its snapshot: the point stays in flight.
live() { "$FERRY" snapshots v0 --json | $JQ '[.[] | select(.state == "live")] | length'; }
assert_eq "$(live)" 1 "live primary snapshots after the refused round"
rep --full
assert_eq "$($JQ -r .mode "$SCRATCH/r.json")" full "mode"
assert_eq "$($JQ -r .full_reason "$SCRATCH/r.json")" requested "full_reason"
assert_eq "$($JQ -r .resumed_point "$SCRATCH/r.json")" true "the point in flight sent"
assert_eq "$(live)" 0 "live primary snapshots after the ack"
check_replica "$($JQ -r .replica_snap_id "$SCRATCH/r.json")"
rep
assert_eq "$($JQ -r .mode "$SCRATCH/r.json")" incremental "mode after --full"

step "replicate --hook: the point taken with hooks, labelled application"
nlive=$(live)
expect_fail "$FERRY" --state-dir /tmp/pri replicate v0 --to $PORT --once \
	--hook /bin/false
expect_err_match "freeze hook"
assert_eq "$(live)" "$nlive" "live primary snapshots after a failed freeze hook"
make_tree /mnt/p/data/hooked 5
rep --hook /bin/true
assert_eq "$($JQ -r .mode "$SCRATCH/r.json")" incremental "mode with --hook"
rid=$($JQ -r .replica_snap_id "$SCRATCH/r.json")
pt=$($JQ -r .point "$SCRATCH/r.json")
check_replica "$rid"
assert_eq "$(label_of /tmp/pri v0 "$pt")" application "primary label (hook)"
assert_eq "$(label_of /tmp/dr v1 "$pt")" application "replica label (hook)"
rj=$("$FERRY" snapshots v1 --json | $JQ -c --argjson id "$rid" '.[] | select(.id == $id)')
echo "replica snapshot: $rj"
assert_eq "$(echo "$rj" | $JQ -r '.tags["ferry.hook.freeze"]')" 0 "ferry.hook.freeze"
assert_eq "$(echo "$rj" | $JQ -r .point)" "$pt" "replica point"
assert_eq "$(live)" 0 "live primary snapshots after the hooked round"

step "replicate --session: the point taken inside a quiesce session"
# A session helper: on "quiesce" it writes a marker into the mounted file
# system and answers "quiesced"; on "release" it answers "released".
cat >"$SCRATCH/session" <<'SESSION_EOF'
#!/bin/sh
read -r q || exit 1
[ "$q" = quiesce ] || exit 2
case $MODE in
wrong) echo "not now" >&2; echo busy; read -r r; exit 0 ;;
esac
line="quiesced at $(date +%s) by $$"
echo "$line" >/mnt/p/data/session-marker
echo "$line" >>/tmp/session-markers
echo quiesced
read -r r || exit 1
[ "$r" = release ] || exit 2
echo released
exit 0
SESSION_EOF
chmod 755 "$SCRATCH/session"
# shellcheck disable=SC2009 # busybox ps
no_helper_left() {
	if ps -o pid,args | grep -v grep | grep -q "$SCRATCH/session"; then
		fail "a session helper process is left ($1)"
	fi
}

nlive=$(live)
export MODE=wrong
expect_fail "$FERRY" --state-dir /tmp/pri replicate v0 --to $PORT \
	--once --session "$SCRATCH/session" --session-timeout 5
expect_err_match "quiesce session answered 'busy': not now"
assert_eq "$(live)" "$nlive" "live primary snapshots after a session that answered wrongly"
[ ! -e /mnt/p/data/session-marker ] || fail "marker written by a failed session"
no_helper_left "wrong answer"

make_tree /mnt/p/data/sessioned 5
export MODE=ok
rep --session "$SCRATCH/session" --session-timeout 10
assert_eq "$($JQ -r .mode "$SCRATCH/r.json")" incremental "mode with --session"
no_helper_left "after the round"
[ -s /mnt/p/data/session-marker ] || fail "the helper wrote no marker"
rid=$($JQ -r .replica_snap_id "$SCRATCH/r.json")
pt=$($JQ -r .point "$SCRATCH/r.json")
check_replica "$rid"
ok mount -o ro,noload "$(snap_dev_of "$rid")" /mnt/r
marker=$(cat /mnt/r/data/session-marker 2>/dev/null)
umount /mnt/r
assert_eq "$marker" "$(cat /mnt/p/data/session-marker)" "the marker in the replica"
assert_eq "$(label_of /tmp/pri v0 "$pt")" application "primary label (session)"
assert_eq "$(label_of /tmp/dr v1 "$pt")" application "replica label (session)"
rj=$("$FERRY" snapshots v1 --json | $JQ -c --argjson id "$rid" '.[] | select(.id == $id)')
echo "replica snapshot: $rj"
assert_eq "$(echo "$rj" | $JQ -r '.tags["ferry.session.quiesce"]')" ok "ferry.session.quiesce"
assert_eq "$(echo "$rj" | $JQ -r '.tags["ferry.session.release"]')" ok "ferry.session.release"
assert_eq "$(echo "$rj" | $JQ -r '.tags["ferry.hook.freeze"]')" null "no freeze hook ran"
assert_eq "$(echo "$rj" | $JQ -r .point)" "$pt" "replica point"
pj=$("$FERRY" --state-dir /tmp/pri snapshots v0 --json | $JQ -c --arg p "$pt" '[.[] | select(.point == $p)][0]')
echo "primary point: $pj"
assert_eq "$(echo "$pj" | $JQ -r '.hooks.session.quiesce.status')" ok "primary catalog: session quiesce"
assert_eq "$(echo "$pj" | $JQ -r '.hooks.session.release.status')" ok "primary catalog: session release"
assert_eq "$(live)" 0 "live primary snapshots after the session round"

step "ferry daemon --once: the pair's point taken with the group's session"
rm -f /tmp/session-markers
CONF=$SCRATCH/ferry.conf
cat >"$CONF" <<CONF_EOF
volumes = ( { name = "v0"; data = "/dev/vdb"; cow = "/dev/vdc"; } );
groups = ( { name = "app"; volumes = [ "v0" ];
             session = "$SCRATCH/session"; session_timeout = "10s"; } );
replication = ( { volume = "v0"; to = "$PORT"; every = "1h";
                  timeout = "120s"; } );
CONF_EOF
ok "$FERRY" config check "$CONF"
"$FERRY" --state-dir /tmp/pri daemon --config "$CONF" --once >"$SCRATCH/once.log" 2>&1 ||
	fail "daemon --once failed: $(cat "$SCRATCH/once.log")"
cat "$SCRATCH/once.log"
grep -q "replicate v0: to $PORT every .*, session $SCRATCH/session\$" "$SCRATCH/once.log" ||
	fail "the pair does not use the group's session"
drid=$(sed -n 's/.*replicate v0: acked: .* replica snapshot \([0-9]*\)$/\1/p' "$SCRATCH/once.log")
[ -n "$drid" ] || fail "the daemon's pair acked no round"
rj=$("$FERRY" snapshots v1 --json | $JQ -c --argjson id "$drid" '.[] | select(.id == $id)')
echo "replica snapshot: $rj"
assert_eq "$(echo "$rj" | $JQ -r .label)" application "replica label (daemon pair)"
assert_eq "$(echo "$rj" | $JQ -r '.tags["ferry.session.quiesce"]')" ok "ferry.session.quiesce (daemon pair)"
assert_eq "$(echo "$rj" | $JQ -r '.tags["ferry.session.release"]')" ok "ferry.session.release (daemon pair)"
ok mount -o ro,noload "$(snap_dev_of "$drid")" /mnt/r
marker=$(cat /mnt/r/data/session-marker 2>/dev/null)
umount /mnt/r
if [ -z "$marker" ] || ! grep -qxF "$marker" /tmp/session-markers; then
	fail "the replica's marker '$marker' was not written by a session of this run"
fi
no_helper_left "daemon"
cat "$SCRATCH/recv.err"
umount /mnt/p
