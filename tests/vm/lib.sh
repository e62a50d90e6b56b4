# shellcheck shell=sh
# shellcheck disable=SC2034 # variables and functions are for the scenarios
# Helpers for VM lab scenarios (sourced by /scenarios/NAME.sh, run by
# busybox sh inside the guest).
#
# Busybox sh runs its own applets before anything on PATH, even when a GNU
# tool of the same name is installed. The functions below make the usual
# names run the GNU tools (by absolute path); the paths are also available
# as $DD, $DATE, ... Scenario code should compare bytes, not exit codes.

set -u

DD=/usr/bin/dd
DATE=/usr/bin/date
TIMEOUT=/usr/bin/timeout
SHA256SUM=/usr/bin/sha256sum
STAT=/usr/bin/stat
TRUNCATE=/usr/bin/truncate
CMP=/usr/bin/cmp
OD=/usr/bin/od
BLOCKDEV=/usr/sbin/blockdev
BLKDISCARD=/usr/sbin/blkdiscard
LOSETUP=/usr/sbin/losetup
MOUNT=/usr/bin/mount
UMOUNT=/usr/bin/umount
MKE2FS=/usr/sbin/mke2fs
MKFS_EXT4=/usr/sbin/mkfs.ext4
MKFS_XFS=/usr/sbin/mkfs.xfs
FIO=/usr/bin/fio
JQ=/usr/bin/jq
DMSETUP=/usr/sbin/dmsetup
SQLITE3=/usr/bin/sqlite3
IP=/usr/bin/ip
TC=/usr/sbin/tc
FERRY=/usr/sbin/ferry

dd() { /usr/bin/dd "$@"; }
date() { /usr/bin/date "$@"; }
timeout() { /usr/bin/timeout "$@"; }
sha256sum() { /usr/bin/sha256sum "$@"; }
stat() { /usr/bin/stat "$@"; }
truncate() { /usr/bin/truncate "$@"; }
cmp() { /usr/bin/cmp "$@"; }
od() { /usr/bin/od "$@"; }
fallocate() { /usr/bin/fallocate "$@"; }
fsfreeze() { /usr/sbin/fsfreeze "$@"; }
blockdev() { /usr/sbin/blockdev "$@"; }
blkdiscard() { /usr/sbin/blkdiscard "$@"; }
losetup() { /usr/sbin/losetup "$@"; }
mount() { /usr/bin/mount "$@"; }
umount() { /usr/bin/umount "$@"; }
mke2fs() { /usr/sbin/mke2fs "$@"; }
ip() { /usr/bin/ip "$@"; }
tc() { /usr/sbin/tc "$@"; }

# Scratch directory for this scenario (tmpfs).
SCRATCH=$(mktemp -d /tmp/scenario.XXXXXX)
SCENARIO=$(basename "$0" .sh)

# step TEXT: a progress line, with seconds since the scenario started.
_t0=$(/usr/bin/date +%s)
step() {
	echo "--- [$(($(/usr/bin/date +%s) - _t0))s] $*"
}

# fail MSG: print and end the scenario with status 1.
fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# assert_eq ACTUAL EXPECTED [WHAT]
assert_eq() {
	[ "$1" = "$2" ] ||
		fail "${3:-value}: got '$1', expected '$2'"
}

# assert_ne ACTUAL UNEXPECTED [WHAT]
assert_ne() {
	[ "$1" != "$2" ] ||
		fail "${3:-value}: got '$1', expected anything else"
}

# ok CMD...: run CMD, fail the scenario if it exits non-zero.
ok() {
	"$@" || fail "command failed (exit $?): $*"
}

# expect_fail CMD...: CMD must exit non-zero and print exactly one
# (non-empty) line on stderr. That line is left in $ERR, stdout in $OUT.
ERR=
OUT=
expect_fail() {
	_rc=0
	"$@" >"$SCRATCH/ef.out" 2>"$SCRATCH/ef.err" || _rc=$?
	OUT=$(cat "$SCRATCH/ef.out")
	ERR=$(cat "$SCRATCH/ef.err")
	_lines=$(awk 'END { print NR }' "$SCRATCH/ef.err")
	if [ "$_rc" -eq 0 ]; then
		fail "expected failure, got exit 0: $* (stderr: $ERR)"
	fi
	[ "$_rc" -lt 124 ] || fail "exit $_rc (killed/crashed?): $*"
	if [ "$_lines" -ne 1 ] || [ -z "$ERR" ]; then
		echo "stderr was:" >&2
		cat "$SCRATCH/ef.err" >&2
		fail "expected exactly one line on stderr, got $_lines: $*"
	fi
	echo "    expected failure (exit $_rc): $ERR"
}

# expect_err_match PATTERN: $ERR (from expect_fail) matches grep -E -i PATTERN.
expect_err_match() {
	echo "$ERR" | grep -Eiq -- "$1" ||
		fail "error message '$ERR' does not match /$1/"
}

# load_ferry: insert the module, check the agent talks to it.
load_ferry() {
	[ -f /lib/ferry/ferry.ko ] || fail "no /lib/ferry/ferry.ko in the initramfs"
	[ -x "$FERRY" ] || fail "no $FERRY in the initramfs"
	if [ ! -d /sys/module/ferry ]; then
		insmod /lib/ferry/ferry.ko || fail "insmod ferry.ko failed"
	fi
	[ -d /sys/module/ferry ] || fail "ferry module not loaded"
	# For tests/vm/vm-state.py, should this VM stop answering.
	echo "ferry.ko .text at $(cat /sys/module/ferry/sections/.text)"
	"$FERRY" status >/dev/null || fail "ferry status failed after insmod"
}

# unload_ferry: rmmod, must succeed.
unload_ferry() {
	rmmod ferry || fail "rmmod ferry failed"
	[ ! -d /sys/module/ferry ] || fail "ferry module still loaded after rmmod"
}

# ferry_attach NAME DATA COW [ARGS...]: attach, echo the device path (the
# last line of the agent's stdout); fails the scenario otherwise.
ferry_attach() {
	_n=$1 _d=$2 _c=$3
	shift 3
	"$FERRY" attach "$_n" --data "$_d" --cow "$_c" "$@" >"$SCRATCH/attach.out" ||
		fail "ferry attach $_n --data $_d --cow $_c $* failed"
	_dev=$(tail -n 1 "$SCRATCH/attach.out")
	case $_dev in
	/dev/ferry[0-9]*) ;;
	*) fail "ferry attach printed '$_dev' as its last line, expected /dev/ferryN" ;;
	esac
	wait_dev "$_dev"
	echo "$_dev"
}

# ferry_detach NAME
ferry_detach() {
	"$FERRY" detach "$1" || fail "ferry detach $1 failed"
}

# wait_dev PATH: wait up to 5 s for a block device node.
wait_dev() {
	_i=0
	while [ ! -b "$1" ]; do
		_i=$((_i + 1))
		[ "$_i" -le 50 ] || fail "$1 did not appear"
		sleep 0.1
	done
}

# sum_dev DEV: sha256 of the whole device, read with O_DIRECT (no page
# cache: what is on the device, whichever device wrote it).
sum_dev() {
	/usr/bin/dd if="$1" bs=1M iflag=direct status=none |
		/usr/bin/sha256sum | cut -d' ' -f1
}

# sum_range DEV OFFSET LENGTH: sha256 of a byte range (multiples of 4 KiB).
sum_range() {
	/usr/bin/dd if="$1" bs=4096 skip=$(($2 / 4096)) count=$(($3 / 4096)) \
		iflag=direct status=none | /usr/bin/sha256sum | cut -d' ' -f1
}

# zero_sum LENGTH: sha256 of LENGTH zero bytes (multiple of 4 KiB).
zero_sum() {
	/usr/bin/dd if=/dev/zero bs=4096 count=$(($1 / 4096)) status=none |
		/usr/bin/sha256sum | cut -d' ' -f1
}

# dev_size DEV: size in bytes.
dev_size() {
	/usr/sbin/blockdev --getsize64 "$1"
}

# ferry_json [NAME]: `ferry status --json`, checked to be valid JSON.
# shellcheck disable=SC2120 # NAME is optional
ferry_json() {
	"$FERRY" status "$@" --json >"$SCRATCH/status.json" ||
		fail "ferry status $* --json failed"
	/usr/bin/jq -e . "$SCRATCH/status.json" >/dev/null ||
		fail "ferry status --json printed invalid JSON: $(cat "$SCRATCH/status.json")"
	cat "$SCRATCH/status.json"
}

# volumes: `ferry status --json` of every volume, compact, on one line.
volumes() {
	# shellcheck disable=SC2119 # no NAME: every volume
	ferry_json | /usr/bin/jq -c .
}

# ferry_devs: the /dev/ferryN nodes present, one a line.
ferry_devs() {
	for _b in /sys/block/ferry*; do
		[ -e "$_b" ] && echo "${_b#/sys/block/}"
	done
	return 0
}

# make_tree DIR NFILES: NFILES files with random contents under DIR, most
# small, some 512 KiB and 4 MiB, plus a few odd sizes. (busybox head: no
# exec of a dynamically linked program per file, which is slow under TCG.)
make_tree() {
	_dir=$1 _n=$2 _i=0
	mkdir -p "$_dir"
	while [ "$_i" -lt "$_n" ]; do
		_sub=$_dir/d$((_i % 16))
		[ -d "$_sub" ] || mkdir -p "$_sub"
		case $((_i % 50)) in
		0) _kb=4096 ;;
		1 | 2) _kb=512 ;;
		*) _kb=$((_i % 13 + 1)) ;;
		esac
		head -c $((_kb * 1024)) /dev/urandom >"$_sub/f$_i" ||
			fail "writing $_sub/f$_i"
		_i=$((_i + 1))
	done
	head -c 1 /dev/urandom >"$_dir/odd1"
	head -c 12297 /dev/urandom >"$_dir/odd2"
	: >"$_dir/empty"
}

# sum_tree DIR: sha256sum lines for every file under DIR, paths relative.
sum_tree() {
	(cd "$1" && find . -type f | sort | xargs /usr/bin/sha256sum)
}

# assert_same_dev A B: the whole devices A and B hold the same bytes.
# (cmp, after dropping clean page cache so both are read from the devices;
# a byte compare is several times faster than sha256 under TCG.)
assert_same_dev() {
	_sa=$(/usr/sbin/blockdev --getsize64 "$1") || fail "size of $1"
	_sb=$(/usr/sbin/blockdev --getsize64 "$2") || fail "size of $2"
	assert_eq "$_sa" "$_sb" "size of $1 vs $2"
	sync
	echo 3 >/proc/sys/vm/drop_caches
	/usr/bin/cmp "$1" "$2" || fail "$1 and $2 differ"
}

# claimable DEV: true when DEV can be opened exclusively (device-mapper
# claims the devices of a table with O_EXCL).
claimable() {
	/usr/sbin/dmsetup create ferry-probe --table "0 8 linear $1 0" \
		>/dev/null 2>&1 || return 1
	/usr/sbin/dmsetup remove ferry-probe >/dev/null 2>&1 ||
		fail "dmsetup remove ferry-probe"
	return 0
}

# file_sum FILE: sha256 of a file.
file_sum() {
	/usr/bin/sha256sum <"$1" | cut -d' ' -f1
}

# ---- snapshots (CLI contract: docs/ferry.8) ----

E2FSCK=/usr/sbin/e2fsck
XFS_REPAIR=/usr/sbin/xfs_repair

# take_snapshot ARGS...: `ferry snapshot ARGS...`; every output line must be
# `NAME ID /dev/ferryNsID`; waits for the devices. The lines stay in
# $SCRATCH/snap.out for snap_id / snap_dev.
take_snapshot() {
	"$FERRY" snapshot "$@" >"$SCRATCH/snap.out" ||
		fail "ferry snapshot $* failed"
	awk 'NF != 3 || $2 !~ /^[0-9]+$/ ||
	     $3 !~ "^/dev/ferry[0-9]+s" $2 "$" { bad = 1 }
	     END { exit bad || NR == 0 }' "$SCRATCH/snap.out" ||
		fail "ferry snapshot $* printed: $(cat "$SCRATCH/snap.out")"
	while read -r _n _id _dev; do
		wait_dev "$_dev"
	done <"$SCRATCH/snap.out"
	sed 's/^/    snapshot: /' "$SCRATCH/snap.out"
}

# snap_id NAME / snap_dev NAME: from the last take_snapshot.
snap_id() {
	awk -v n="$1" '$1 == n { print $2 }' "$SCRATCH/snap.out"
}
snap_dev() {
	awk -v n="$1" '$1 == n { print $3 }' "$SCRATCH/snap.out"
}

# snaps_json NAME: `ferry snapshots NAME --json`, checked to be an array.
snaps_json() {
	"$FERRY" snapshots "$1" --json >"$SCRATCH/snaps.json" ||
		fail "ferry snapshots $1 --json failed"
	/usr/bin/jq -e 'type == "array"' "$SCRATCH/snaps.json" >/dev/null ||
		fail "ferry snapshots $1 --json: not a JSON array: $(cat "$SCRATCH/snaps.json")"
	cat "$SCRATCH/snaps.json"
}

# snap_field NAME ID JQ: jq -r JQ on the snapshot object with that id
# (e.g. snap_field v0 1 .state); fails when there is no such snapshot.
snap_field() {
	snaps_json "$1" >/dev/null
	/usr/bin/jq -e --argjson id "$2" 'any(.[]; .id == $id)' \
		"$SCRATCH/snaps.json" >/dev/null ||
		fail "snapshot $2 of $1 not listed: $(cat "$SCRATCH/snaps.json")"
	/usr/bin/jq -r --argjson id "$2" ".[] | select(.id == \$id) | $3" \
		"$SCRATCH/snaps.json"
}

# snap_ids NAME: the listed ids, ascending, on one line.
snap_ids() {
	# Points the catalog remembers as "deleted" have no kernel snapshot.
	snaps_json "$1" | /usr/bin/jq -r '[.[] | select(.state != "deleted") | .id] | sort | map(tostring) | join(" ")'
}

# vol_field NAME JQ: jq -r JQ on the volume's `ferry status NAME --json`
# object (e.g. vol_field v0 .cow_used).
vol_field() {
	ferry_json "$1" >/dev/null
	/usr/bin/jq -r ".[0] | $2" "$SCRATCH/status.json"
}

# wait_gone PATH: wait up to 5 s for a device node to disappear.
wait_gone() {
	_i=0
	while [ -e "$1" ]; do
		_i=$((_i + 1))
		[ "$_i" -le 50 ] || fail "$1 still exists"
		sleep 0.1
	done
}

# wait_for SECONDS SHELL-TEST (quoted: evaluated every 0.1 s): 1 if it
# did not hold within SECONDS.
wait_for() {
	_wf=0
	until eval "$2"; do
		_wf=$((_wf + 1))
		[ "$_wf" -le $(($1 * 10)) ] || return 1
		sleep 0.1
	done
}

# wait_line FILE REGEX SECONDS: until a line of FILE (a background
# command's output) matches REGEX; fails the scenario after SECONDS.
wait_line() {
	# Globals: wait_for evaluates the test with its own arguments.
	_wl_file=$1 _wl_re=$2
	wait_for "$3" 'grep -Eq "$_wl_re" "$_wl_file" 2>/dev/null' ||
		fail "no line /$2/ in $1 after $3 s: $(tail -n 3 "$1" 2>/dev/null)"
}

# snap_delete NAME ID: must succeed and print nothing on stderr.
snap_delete() {
	"$FERRY" delete "$1" "$2" 2>"$SCRATCH/del.err" ||
		fail "ferry delete $1 $2 failed: $(cat "$SCRATCH/del.err")"
	[ ! -s "$SCRATCH/del.err" ] ||
		fail "ferry delete $1 $2 wrote on stderr: $(cat "$SCRATCH/del.err")"
}

# events_start COUNT TIMEOUT: `ferry events --json` in the background into
# $SCRATCH/events.out (pid in $EVENTS_PID), once it has joined a multicast
# group.
EVENTS_PID=
events_start() {
	"$FERRY" events --json --count "$1" --timeout "$2" \
		>"$SCRATCH/events.out" 2>"$SCRATCH/events.err" &
	EVENTS_PID=$!
	wait_for 30 events_subscribed ||
		fail "ferry events did not subscribe in 30 s: $(cat "$SCRATCH/events.err")"
}

# events_subscribed: /proc/net/netlink lists a generic netlink (16) socket
# of $EVENTS_PID (libnl's port: pid + n << 22) with a group bit set.
events_subscribed() {
	awk -v p="$EVENTS_PID" '$2 == 16 && $3 % 4194304 == p && $4 != "00000000" { f = 1 }
		END { exit !f }' /proc/net/netlink
}

# events_wait: waits for the listener; it must exit 0 and print valid JSON
# objects, one a line; prints them compact, one a line.
events_wait() {
	wait "$EVENTS_PID" ||
		fail "ferry events exited $?: $(cat "$SCRATCH/events.err")"
	sed 's/^/    event: /' "$SCRATCH/events.out"
	/usr/bin/jq -e -c 'if type == "object" and has("event") then . else error("not an event") end' \
		"$SCRATCH/events.out" >"$SCRATCH/events.jsonl" ||
		fail "ferry events printed something else than event objects"
}

# events_kinds: the "event" fields in order, one line.
events_kinds() {
	/usr/bin/jq -r .event "$SCRATCH/events.jsonl" | tr '\n' ' ' | sed 's/ $//'
}

# wr DEV REF OFFSET LENGTH [direct]: LENGTH random bytes at byte OFFSET of
# DEV and of the reference file REF (the model of what DEV must hold).
# With "direct", O_DIRECT (OFFSET and LENGTH multiples of 512).
wr() {
	head -c "$4" /dev/urandom >"$SCRATCH/wr.data"
	_fl=seek_bytes
	[ "${5:-}" = direct ] && _fl=seek_bytes,direct
	/usr/bin/dd if="$SCRATCH/wr.data" of="$1" bs="$4" count=1 seek="$3" \
		oflag="$_fl" conv=notrunc,fsync status=none ||
		fail "write of $4 bytes at $3 to $1"
	/usr/bin/dd if="$SCRATCH/wr.data" of="$2" bs="$4" count=1 seek="$3" \
		oflag=seek_bytes conv=notrunc status=none ||
		fail "write of $4 bytes at $3 to $2"
}

# zr DEV REF OFFSET LENGTH: write-zeroes (blkdiscard -z) on DEV, zeros in REF.
zr() {
	/usr/sbin/blkdiscard -z -o "$3" -l "$4" "$1" ||
		fail "blkdiscard -z -o $3 -l $4 $1"
	/usr/bin/dd if=/dev/zero of="$2" bs="$4" count=1 seek="$3" \
		oflag=seek_bytes conv=notrunc status=none ||
		fail "zeroing $4 bytes at $3 of $2"
}

# assert_dev_is_file DEV FILE: DEV holds exactly the bytes of FILE.
assert_dev_is_file() {
	assert_eq "$(dev_size "$1")" "$(/usr/bin/stat -c %s "$2")" "size of $1 vs $2"
	sync
	echo 3 >/proc/sys/vm/drop_caches
	/usr/bin/cmp "$1" "$2" || fail "$1 differs from $2"
}

# assert_read_fails DEV: reading DEV (O_DIRECT) must fail with an I/O error.
assert_read_fails() {
	if /usr/bin/dd if="$1" of=/dev/null bs=1M iflag=direct status=none \
		2>"$SCRATCH/rf.err"; then
		fail "reading $1 succeeded, expected an I/O error"
	fi
	grep -qi "input/output error" "$SCRATCH/rf.err" ||
		fail "reading $1 failed, but not with EIO: $(cat "$SCRATCH/rf.err")"
}

# assert_snap_live NAME ID DEV: the snapshot is listed with the field types
# of the contract, state "live" and device DEV.
assert_snap_live() {
	snap_field "$1" "$2" . >"$SCRATCH/snap.obj"
	/usr/bin/jq -e --arg dev "$3" '
		(.id | type == "number") and .device == $dev and
		.state == "live" and (.label | type == "string") and
		(.created | type == "string" and
		 test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}")) and
		(.tags | type == "object") and (.epoch | type == "number") and
		(.stall_ns | type == "number") and (.freeze_ns | type == "number") and
		(.frozen | type == "boolean") and (.cow_bytes | type == "number") and
		(.writable | type == "boolean") and has("point")' \
		"$SCRATCH/snap.obj" >/dev/null ||
		fail "snapshot $2 of $1: unexpected object $(/usr/bin/jq -c . "$SCRATCH/snap.obj")"
}

# block_extents FILE...: as chunk_extents, for the 4 KiB blocks the precise
# changed-block map tracks (what `ferry changed` reports for writes made
# since a snapshot taken while the map was tracking).
block_extents() {
	chunk_extents 4096 "$@"
}

# chunk_extents CHUNK FILE...: FILEs hold "OFFSET LENGTH" lines (bytes) of
# writes; prints the CHUNK-aligned extents they touch, adjacent chunks
# merged, ascending, as "OFFSET LENGTH" lines (what `ferry changed` must
# report for them).
chunk_extents() {
	_c=$1
	shift
	cat "$@" | awk -v c="$_c" '
		{ for (i = int($1 / c); i <= int(($1 + $2 - 1) / c); i++) print i }' |
		sort -n -u | awk -v c="$_c" '
		NR == 1 { s = $1; e = $1; next }
		$1 == e + 1 { e = $1; next }
		{ print s * c, (e - s + 1) * c; s = $1; e = $1 }
		END { if (NR) print s * c, (e - s + 1) * c }'
}
