#!/bin/bash
# make bench: runs the benchmark scenario in the VM lab and prints the
# results as ratios against the raw device (and ferry against dm-snapshot),
# side by side from one run. Absolute numbers from an emulated CPU mean
# little; the ratios are what docs/benchmarks.md records.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
mkdir -p build/bench
tests/vm/run.sh bench || exit 1
log=build/vm/logs/bench.log
tr -d '\r' <"$log" | awk '$1 == "BENCH" { print $2, $3 }' >build/bench/results.txt
v() { awk -v k="$1" '$1 == k { print $2 }' build/bench/results.txt; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

printf '%-28s %10s %10s %12s\n' "write workload (IOPS)" "4k random" "1M seq" "vs raw (4k/1M)"
for c in raw ferry0 ferry1 ferry8 dmsnap1; do
	r=$(v ${c}_randwrite_4k) s=$(v ${c}_seqwrite_1m)
	printf '%-28s %10s %10s %6s/%-6s\n' "$c" "$r" "$s" \
		"$(ratio "$r" "$(v raw_randwrite_4k)")" "$(ratio "$s" "$(v raw_seqwrite_1m)")"
done
echo
echo "ferry, 1 snapshot vs dm-snapshot, 4k random: $(ratio "$(v ferry1_randwrite_4k)" "$(v dmsnap1_randwrite_4k)")x"
echo "ferry, 8 snapshots vs 1 snapshot, 4k random: $(ratio "$(v ferry8_randwrite_4k)" "$(v ferry1_randwrite_4k)")x"
echo "CoW store used with 8 snapshots after the runs: $(v ferry8_cow_used) bytes"
echo "quiesce stall under a 4k random writer: p50 $(v stall_p50_us) us, p99 $(v stall_p99_us) us"
echo "(raw numbers: build/bench/results.txt; console: $log)"
