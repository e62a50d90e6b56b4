#!/bin/bash
# make demo: run the demo scenario in the VM lab and show its report.
# Writes build/demo/report.txt and build/demo/report.html (with an RPO plot).
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
out=$top/build/demo
mkdir -p "$out"

echo "demo: booting the VM lab (QEMU, TCG): two sites, an application, replication, a drill; a few minutes"
tests/vm/run.sh demo
rc=$?
log=$top/build/vm/logs/demo.log
section() { tr -d '\r' <"$log" | sed -n "/^FERRY-DEMO-$1-BEGIN\$/,/^FERRY-DEMO-$1-END\$/p" | sed '1d;$d'; }
section REPORT >"$out/report.txt"
section RPO >"$out/rpo.txt"

# The RPO plot: age of the newest point at the second site over time.
svg=$(awk '
	{ t[NR] = $1; r[NR] = $2; if ($1 > tmax) tmax = $1; if ($2 > rmax) rmax = $2 }
	END {
		if (NR == 0) exit
		if (tmax == 0) tmax = 1; if (rmax == 0) rmax = 1
		W = 600; H = 240; L = 50; B = 30
		printf "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\">", W + L + 10, H + B + 10
		printf "<line x1=\"%d\" y1=\"10\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>", L, L, H + 10
		printf "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>", L, H + 10, L + W, H + 10
		printf "<text x=\"5\" y=\"20\" font-size=\"11\">%.1f s</text>", rmax
		printf "<text x=\"%d\" y=\"%d\" font-size=\"11\">%.0f s</text>", L + W - 30, H + 28, tmax
		printf "<text x=\"%d\" y=\"%d\" font-size=\"11\">time since start</text>", L + W / 2 - 40, H + 28
		printf "<polyline fill=\"none\" stroke=\"#c33\" stroke-width=\"2\" points=\""
		for (i = 1; i <= NR; i++)
			printf "%.1f,%.1f ", L + t[i] / tmax * W, 10 + H - r[i] / rmax * H
		printf "\"/></svg>"
	}' "$out/rpo.txt")
{
	echo '<!doctype html><meta charset="utf-8"><title>ferry demo</title>'
	echo '<style>body{font-family:sans-serif;margin:2em} pre{background:#f6f6f6;padding:1em}</style>'
	echo '<h1>ferry demo: two sites, an application, replication, a fire drill</h1>'
	echo '<h2>RPO over time</h2><p>Age in seconds of the newest point that had arrived at the second site.</p>'
	echo "$svg"
	echo '<h2>Report</h2><pre>'
	sed 's/&/\&amp;/g; s/</\&lt;/g; s/>/\&gt;/g' "$out/report.txt"
	echo '</pre>'
	echo "<p>Console log of the VM: $log</p>"
} >"$out/report.html"

echo
echo "==== ferry demo report"
cat "$out/report.txt"
echo "===="
echo "report: $out/report.txt and $out/report.html (RPO plot); VM console log: $log"
exit $rc
