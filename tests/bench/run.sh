#!/bin/bash
# make bench: runs the benchmark scenario in the VM lab and prints the
# results as ratios, side by side from one run: against the raw device, and
# ferry against dm-snapshot. Absolute numbers from an emulated CPU mean
# little; the ratios are what docs/benchmarks.md records.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
mkdir -p build/bench
tests/vm/run.sh bench || exit 1
log=build/vm/logs/bench.log
res=build/bench/results.txt
tr -d '\r' <"$log" | awk '$1 == "BENCH" { print $2, $3 }' >"$res"
v() { awk -v k="$1" '$1 == k { print $2 }' "$res"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "" && b > 0) printf "%.2f", a / b; else print "n/a" }'; }
# rounds A B: A's run over B's run of the same round, each round, and the
# median of those ratios (ferry and dm-snapshot run in turns, round by round).
rounds() {
	awk -v a="$(v "$1")" -v b="$(v "$2")" 'BEGIN {
		n = split(a, x, "/"); m = split(b, y, "/")
		if (n == 0 || n != m) { print "n/a"; exit }
		for (i = 1; i <= n; i++) { r[i] = y[i] > 0 ? x[i] / y[i] : 0; s = s sprintf("%s%.2f", i > 1 ? " " : "", r[i]) }
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (r[j] < r[i]) { t = r[i]; r[i] = r[j]; r[j] = t }
		printf "%.2fx (rounds: %s)", r[int((n + 1) / 2)], s
	}'
}
sum() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "" && b != "") print a + b }'; }

echo "chunk size $(v chunk_size); fio direct, QD32; IOPS and ratio to the raw device"
printf '%-24s %10s %8s %10s %8s\n' "" "4k rand" "vs raw" "1M seq" "vs raw"
for c in raw ferry0 ferry1 ferry8 dmsnap1 dmsnap8; do
	r=$(v ${c}_randwrite_4k) s=$(v ${c}_seqwrite_1m)
	printf '%-24s %10s %8s %10s %8s\n' "$c" "$r" "$(ratio "$r" "$(v raw_randwrite_4k)")" \
		"$s" "$(ratio "$s" "$(v raw_seqwrite_1m)")"
done
echo
echo "(raw and ferry0: medians of three runs; the others: medians of $(v rounds) rounds, taken in turns)"
echo "ferry vs dm-snapshot, round by round (ferry's IOPS over dm-snapshot's in the same round):"
echo "  4k random first writes, 1 snapshot:  $(rounds ferry1_randwrite_4k_runs dmsnap1_randwrite_4k_runs)"
echo "  4k random first writes, 8 snapshots: $(rounds ferry8_randwrite_4k_runs dmsnap8_randwrite_4k_runs)"
echo "  1M sequential first writes, 1 snapshot: $(rounds ferry1_seqwrite_1m_runs dmsnap1_seqwrite_1m_runs)"
echo "8 snapshots cost vs 1 (4k random IOPS with 1 over 8, same round): ferry $(rounds ferry1_randwrite_4k_runs ferry8_randwrite_4k_runs), dm-snapshot $(rounds dmsnap1_randwrite_4k_runs dmsnap8_randwrite_4k_runs)"
echo "CoW store used with 8 snapshots after both runs: $(v ferry8_cow_used) bytes"
echo "bios held per snapshot under a 4k random writer (100 snapshots): p50 $(v stall_p50_us) us, p99 $(v stall_p99_us) us"
echo "changed-block tracking kernel memory, 64 GiB volume written all over: $(awk -v b="$(v cbt_bytes_per_tib)" 'BEGIN { if (b > 0) printf "%.1f", b / 1048576; else print "n/a" }') MiB per TiB"
echo "application-visible pause with ext4 and a writer: ferry point p50 $(v ferry_pause_p50_us) us (max $(v ferry_pause_max_us)); dmsetup suspend+resume p50 $(v dm_pause_p50_us) us (max $(v dm_pause_max_us)); ratio p50 $(ratio "$(v dm_pause_p50_us)" "$(v ferry_pause_p50_us)")x"
echo
echo "replication over 127.0.0.1, full copy of 512M random data: ferry $(v repl_full_512m_ms) ms, dd | nc | dd $(v repl_raw_nc_ms) ms; ferry takes $(ratio "$(v repl_full_512m_ms)" "$(v repl_raw_nc_ms)")x the raw copy's time (wire bytes / volume: $(ratio "$(v repl_full_512m_sent)" 536870912))"
echo "1 % random 4K delta: $(v repl_delta_written) bytes written, $(v repl_delta_changed) bytes changed, $(v repl_delta_sent) bytes sent: $(ratio "$(v repl_delta_sent)" "$(v repl_delta_written)") bytes on the wire per byte written"
echo "  ferry:           $(v repl_delta_ms) ms, sent $(v repl_delta_sent), read primary $(v repl_delta_read_src) / second site $(v repl_delta_read_dst) bytes"
echo "  rsync --inplace: $(v repl_delta_rsync_ms) ms, sent $(v repl_delta_rsync_sent) + received $(v repl_delta_rsync_recv) (literal $(v repl_delta_rsync_literal)), read primary $(v repl_delta_rsync_read_src) / second site $(v repl_delta_rsync_read_dst) bytes"
echo "  rsync / ferry: time $(ratio "$(v repl_delta_rsync_ms)" "$(v repl_delta_ms)")x, bytes on the wire (both ways) $(ratio "$(sum "$(v repl_delta_rsync_sent)" "$(v repl_delta_rsync_recv)")" "$(v repl_delta_sent)")x"
echo "peak RSS (KiB), sender / receiver: full 512M $(v repl_full_512m_send_rss_kb) / $(v repl_full_512m_recv_rss_kb), full 1G $(v repl_full_1g_send_rss_kb) / $(v repl_full_1g_recv_rss_kb), full 4G $(v repl_full_4g_send_rss_kb) / $(v repl_full_4g_recv_rss_kb)"
for sz in 1g 16g; do
	echo "  all-zero $sz: full $(v repl_sparse_${sz}_full_send_rss_kb) / $(v repl_sparse_${sz}_full_recv_rss_kb) ($(v repl_sparse_${sz}_full_ms) ms), 4096 random 4K writes $(v repl_sparse_${sz}_incr_send_rss_kb) / $(v repl_sparse_${sz}_incr_recv_rss_kb) ($(v repl_sparse_${sz}_incr_ms) ms, $(v repl_sparse_${sz}_incr_changed) bytes changed)"
done
echo "(raw numbers: $res; VM console: $log)"
