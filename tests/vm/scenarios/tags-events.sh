#!/bin/sh
# Tags and events: tags given at snapshot time and set/removed/listed with
# `ferry tag` (which prints the resulting K=V lines); invalid keys are
# refused with one line and change nothing; `ferry events --json` sees
# snapshot-created, tag-changed (with the tag) and snapshot-deleted, in
# order, and nothing for the refused commands.
# disks: 64M 64M
# timeout: 480
# shellcheck source-path=SCRIPTDIR/.. source=lib.sh
. /scenarios/lib.sh

load_ferry
ferry_attach v0 /dev/vdb /dev/vdc >/dev/null

# tags_are WHAT EXPECTED CMD...: CMD prints K=V lines equal (sorted) to
# EXPECTED (space-separated, sorted).
tags_are() {
	_what=$1 _exp=$2
	shift 2
	"$@" >"$SCRATCH/tags.out" || fail "$* failed"
	# The agent's own tags (ferry.point, ...) are not the user's.
	assert_eq "$(grep -v '^ferry\.' "$SCRATCH/tags.out" | sort | tr '\n' ' ' | sed 's/ $//')" "$_exp" "$_what"
}

# json_tags ID: the tags object of the snapshot as sorted K=V.
json_tags() {
	snap_field v0 "$1" '.tags | to_entries | map(select(.key | startswith("ferry.") | not)) | map("\(.key)=\(.value)") | sort | join(" ")'
}

events_start 5 120

step "snapshot with tags"
take_snapshot v0 --tag app=db --tag owner=ops
id=$(snap_id v0)
assert_eq "$(json_tags "$id")" "app=db owner=ops" "tags in snapshots --json"
tags_are "ferry tag v0 $id (list)" "app=db owner=ops" "$FERRY" tag v0 "$id"

step "set, set with spaces in the value, remove"
tags_are "after env=prod" "app=db env=prod owner=ops" "$FERRY" tag v0 "$id" env=prod
tags_are "after note=" "app=db env=prod note=two words owner=ops" \
	"$FERRY" tag v0 "$id" "note=two words"
tags_are "after app=" "env=prod note=two words owner=ops" "$FERRY" tag v0 "$id" app=
assert_eq "$(json_tags "$id")" "env=prod note=two words owner=ops" "tags in snapshots --json"

step "invalid keys are refused with one line and change nothing"
expect_fail "$FERRY" tag v0 "$id" "bad key=x"
expect_fail "$FERRY" tag v0 "$id" "a/b=x"
expect_fail "$FERRY" tag v0 "$id" "=x"
expect_fail "$FERRY" snapshot v0 --tag "a/b=1"
expect_fail "$FERRY" tag v0 999 x=1
assert_eq "$(snap_ids v0)" "$id" "snapshots after a refused snapshot"
tags_are "after refused tags" "env=prod note=two words owner=ops" "$FERRY" tag v0 "$id"

step "delete"
snap_delete v0 "$id"

step "events: created, 3 x tag-changed, deleted, in order"
events_wait
assert_eq "$(events_kinds)" \
	"snapshot-created tag-changed tag-changed tag-changed snapshot-deleted" "events"
jq -s -e --argjson id "$id" '
	all(.[]; .name == "v0" and .snap == $id) and
	[.[] | select(.event == "tag-changed") | .tag] ==
		["env=prod", "note=two words", "app="]' \
	"$SCRATCH/events.jsonl" >/dev/null ||
	fail "event fields (name v0, snap $id, tags env=prod, note=two words, app=)"

ferry_detach v0
unload_ferry
step "done"
