#!/bin/bash
# make demo: run the demo scenario in the VM lab and show its report.
# The report is also written to build/demo/report.txt and report.html.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
out=$top/build/demo
mkdir -p "$out"

echo "demo: booting the VM lab (QEMU, TCG); this takes a few minutes"
tests/vm/run.sh demo
rc=$?
log=$top/build/vm/logs/demo.log
tr -d '\r' <"$log" | sed -n '/^FERRY-DEMO-REPORT-BEGIN$/,/^FERRY-DEMO-REPORT-END$/p' |
	sed '1d;$d' >"$out/report.txt"
{
	echo '<!doctype html><meta charset="utf-8"><title>ferry demo</title>'
	echo '<h1>ferry demo</h1><pre>'
	sed 's/&/\&amp;/g; s/</\&lt;/g; s/>/\&gt;/g' "$out/report.txt"
	echo '</pre>'
	echo "<p>Console log: $log</p>"
} >"$out/report.html"

echo
echo "==== ferry demo report"
cat "$out/report.txt"
echo "===="
echo "report: $out/report.txt, $out/report.html; console log: $log"
exit $rc
