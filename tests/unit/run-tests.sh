#!/bin/bash
# Runs cmocka test programs with TAP output and turns each test case into
# a "pass unit:SUITE/CASE" or "fail unit:SUITE/CASE" line, appended to
# $FERRY_RESULTS when it is set. SUITE is the program name without
# "test_". Exits non-zero if any case failed or any program crashed.
set -uo pipefail

results=${FERRY_RESULTS:-/dev/null}
passed=0
failed=0

record() {
	echo "$1 unit:$2" >>"$results"
	if [ "$1" = pass ]; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		echo "FAIL unit:$2"
	fi
}

run_one() {
	local prog=$1 suite=${1#test_} out rc line cases=0 plan=0 bad=0
	out=$(CMOCKA_MESSAGE_OUTPUT=TAP "./$prog" 2>&1)
	rc=$?
	while IFS= read -r line; do
		case $line in
		*"ok "[0-9]*" # SKIP "*)
			# Neither passed nor failed: reported, not recorded.
			echo "  skipped unit:$suite/${line#* # SKIP }"
			cases=$((cases + 1)) ;;
		"ok "*" - "*)
			record pass "$suite/${line#* - }"
			cases=$((cases + 1)) ;;
		"not ok "*" - "*)
			record fail "$suite/${line#* - }"
			bad=$((bad + 1))
			cases=$((cases + 1)) ;;
		1..*) plan=${line#1..} ;;
		"#"*) echo "  $prog: $line" ;;
		esac
	done <<<"$out"
	# A crash stops the program before its remaining cases report, and
	# a failed exit must never pass unnoticed.
	if [ "$cases" -lt "$plan" ] || [ "$cases" -eq 0 ] ||
		{ [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; }; then
		echo "$out" | tail -n 5 | sed "s/^/  $prog: /"
		record fail "$suite/exit-status-$rc"
	fi
	echo "$prog: $cases cases, exit $rc"
}

for t in "$@"; do
	run_one "$t"
done
echo "unit: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
