#!/bin/sh
# A freeze hook that fails and one that hangs: the command fails with one
# stderr line, no point is kept, the thaw hook ran, the hung hook's process
# group is gone, and the filesystem takes writes within seconds. With
# --accept-lower-label the point is kept, labelled filesystem, with
# ferry.hook.freeze=1, and holds the data written before it. Without a hook
# the label follows the mount: filesystem when mounted, crash when not.
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
freeze)
	echo "freeze: \$MODE"
	touch "$SCRATCH/froze"
	[ "\$MODE" = hang ] && exec sleep 1000
	[ "\$MODE" = fail ] && { echo "the database refused" >&2; exit 1; }
	exit 0 ;;
thaw)
	touch "$SCRATCH/thawed"
	echo thawed ;;
esac
HOOK
chmod +x "$hook"

count() { "$FERRY" snapshots v0 --json | "$JQ" '[.[] | select(.state == "live")] | length'; }

# writable N: a write + fsync on the ferry filesystem finishes within 5 s.
writable() {
	head -c 65536 /dev/urandom >"$SCRATCH/w$1"
	timeout 5 /usr/bin/dd if="$SCRATCH/w$1" of="/mnt/f/w$1" bs=64k conv=fsync status=none ||
		fail "the filesystem did not take a write within 5 s ($1)"
	assert_eq "$(file_sum "/mnt/f/w$1")" "$(file_sum "$SCRATCH/w$1")" "data written after $1"
}

for mode in fail hang; do
	step "freeze hook that ${mode}s"
	rm -f "$SCRATCH/froze" "$SCRATCH/thawed"
	n0=$(count)
	t0=$(date +%s)
	export MODE=$mode
	expect_fail "$FERRY" snapshot v0 --hook "$hook" --hook-timeout 3
	t1=$(date +%s)
	case $mode in
	fail) expect_err_match "freeze hook exited 1" ;;
	hang) expect_err_match "freeze hook timed out" ;;
	esac
	expect_err_match "no point taken"
	[ $((t1 - t0)) -le 15 ] || fail "the command took $((t1 - t0)) s"
	[ -e "$SCRATCH/froze" ] || fail "the freeze hook did not run"
	[ -e "$SCRATCH/thawed" ] || fail "the thaw hook did not run after a freeze hook that ${mode}s"
	assert_eq "$(count)" "$n0" "live snapshots after a failed freeze hook"
	if [ "$mode" = hang ]; then
		ps -o pid,args | grep -v grep | grep -q "sleep 1000" &&
			fail "the hung hook's process is still running"
	fi
	writable "$mode"
done

step "--accept-lower-label: a filesystem point with ferry.hook.freeze=1"
export MODE=fail
ok sync
"$FERRY" snapshot v0 --hook "$hook" --accept-lower-label --json \
	>"$SCRATCH/low.json" 2>"$SCRATCH/low.err" || fail "snapshot --accept-lower-label failed: $(cat "$SCRATCH/low.err")"
assert_eq "$(awk 'END { print NR }' "$SCRATCH/low.err")" 1 "stderr lines (one warning)"
grep -qi "warning.*filesystem" "$SCRATCH/low.err" || fail "no warning: $(cat "$SCRATCH/low.err")"
echo "    $(cat "$SCRATCH/low.err")"
id=$("$JQ" -r '.[0].id' "$SCRATCH/low.json")
"$FERRY" snapshots v0 --json >"$SCRATCH/list.json"
s=$("$JQ" -c ".[] | select(.id == $id)" "$SCRATCH/list.json")
assert_eq "$(echo "$s" | "$JQ" -r .label)" filesystem "label"
assert_eq "$(echo "$s" | "$JQ" -r '.tags["ferry.hook.freeze"]')" 1 "ferry.hook.freeze"
assert_eq "$(echo "$s" | "$JQ" -r '.tags["ferry.hook.thaw"]')" 0 "ferry.hook.thaw"
assert_eq "$(echo "$s" | "$JQ" -r .hooks.freeze.output)" "freeze: fail
the database refused" "freeze output in the catalog"
ok mount -t ext4 -o ro "$(echo "$s" | "$JQ" -r .device)" /mnt/s
for m in fail hang; do
	assert_eq "$(file_sum "/mnt/s/w$m")" "$(file_sum "$SCRATCH/w$m")" "w$m in the point"
done
ok umount /mnt/s
writable lower

step "--label application without a successful hook is refused"
expect_fail "$FERRY" snapshot v0 --label application
expect_err_match "cannot label"

step "no hook: filesystem when mounted, crash when not"
"$FERRY" snapshot v0 --json >"$SCRATCH/m.json" || fail "snapshot failed"
assert_eq "$("$JQ" -r '.[0].label' "$SCRATCH/m.json")" filesystem "label with a mounted filesystem"
ok umount /mnt/f
"$FERRY" snapshot v0 --json >"$SCRATCH/u.json" || fail "snapshot failed"
assert_eq "$("$JQ" -r '.[0].label' "$SCRATCH/u.json")" crash "label without a mounted filesystem"
ferry_detach v0
unload_ferry
step "done"
