#!/bin/bash
# Run VM lab scenarios: tests/vm/run.sh [NAME...] (default: all of
# tests/vm/scenarios/*.sh). Each scenario boots its own QEMU (TCG) VM.
#
# Scenario headers (comment lines near the top of the script):
#   # disks: 1G 256M 256M   sizes of /dev/vdb, /dev/vdc, ... /dev/vdz (default 3 x 512M)
#   # timeout: 300          seconds for the whole VM run (default 300)
# /dev/vda is always a 256M scratch disk.
#
# The guest prints "FERRY-SCENARIO-RESULT NAME PASS|FAIL" on its console; a
# missing marker (panic, hang, timeout) is a failure. Console logs are kept
# in build/vm/logs/NAME.log. With $FERRY_RESULTS set, "pass vm:NAME" /
# "fail vm:NAME" lines are appended to it.
#
# Environment: FERRY_VM_JOBS (parallel VMs, default: number of CPUs),
# FERRY_VM_NO_FERRY=1 (lab self-test without ferry.ko/agent), KVER,
# FERRY_VM_KERNEL_ROOT (boot ROOT/boot/vmlinuz-KVER with modules from ROOT,
# an unpacked kernel package; see build-initramfs.sh), FERRY_VM_OUT (the
# lab's output dir, default build/vm), FERRY_VM_TAG (the prefix of result
# lines, default vm).
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
vm=${FERRY_VM_OUT:-$top/build/vm}
tag=${FERRY_VM_TAG:-vm}
sdir=$top/tests/vm/scenarios

if [ $# -gt 0 ]; then
	names=("$@")
else
	names=()
	for f in "$sdir"/*.sh; do
		[ -e "$f" ] || continue
		# "# manual: yes" (the demo) runs only when named.
		grep -q '^# manual: yes' "$f" && continue
		names+=("$(basename "$f" .sh)")
	done
fi
for n in "${names[@]}"; do
	n=${n%.sh}
	if [ ! -f "$sdir/$n.sh" ]; then
		echo "vm: no scenario '$n' in tests/vm/scenarios" >&2
		[ -n "${FERRY_RESULTS:-}" ] && echo "fail $tag:$n" >>"$FERRY_RESULTS"
		exit 1
	fi
done

tests/vm/build-initramfs.sh || exit 1
kver=$(cat "$vm/kver")
kernel=${FERRY_VM_KERNEL_ROOT:-}/boot/vmlinuz-$kver
initrd=$vm/initramfs.cpio.gz
[ -r "$kernel" ] || { echo "vm: cannot read $kernel" >&2; exit 1; }

mkdir -p "$vm/logs" "$vm/status"
jobs_max=${FERRY_VM_JOBS:-$(nproc 2>/dev/null || echo 1)}
[ "$jobs_max" -ge 1 ] 2>/dev/null || jobs_max=1

header() { # file key default
	local v
	v=$(sed -n "1,40s/^#[[:space:]]*$2:[[:space:]]*//p" "$1" | head -n 1)
	echo "${v:-$3}"
}

# shellcheck disable=SC2054 # commas are QEMU option syntax
# run_one NAME: boot one VM; writes PASS/FAIL to $vm/status/NAME.
run_one() {
	local name=$1 script=$sdir/$1.sh
	local log=$vm/logs/$name.log ddir=$vm/disks/$name
	local sizes limit guest_limit i args=() letters=bcdefghijklmnopqrstuvwxyz
	sizes=$(header "$script" disks "512M 512M 512M")
	limit=$(header "$script" timeout 300)
	# The guest's own timeout leaves time for booting and reporting.
	guest_limit=$((limit - 40))
	[ "$guest_limit" -ge $((limit / 2)) ] || guest_limit=$((limit / 2))

	rm -rf "$ddir"
	mkdir -p "$ddir"
	truncate -s 256M "$ddir/vda.img"
	args+=(-drive "file=$ddir/vda.img,format=raw,if=none,id=vda,cache=unsafe,discard=unmap"
		-device virtio-blk-pci,drive=vda,serial=scratch)
	i=0
	for s in $sizes; do
		if [ "$i" -ge ${#letters} ]; then
			echo "vm: $name: more disks than /dev/vdb../dev/vdz" >&2
			echo FAIL >"$vm/status/$name"
			return
		fi
		local d=vd${letters:$i:1}
		truncate -s "$s" "$ddir/$d.img"
		args+=(-drive "file=$ddir/$d.img,format=raw,if=none,id=$d,cache=unsafe,discard=unmap"
			-device "virtio-blk-pci,drive=$d,serial=$d")
		i=$((i + 1))
	done

	# FERRY_BENCH_* settings reach the guest on the kernel command line.
	local benv
	benv=$(env | grep -E '^FERRY_BENCH_[A-Z_]+=[A-Za-z0-9.:_-]+$' | tr '\n' ',' || true)
	benv=${benv%,}
	local t0 t1 rc qpid state=$vm/logs/$name.state
	# A unix socket's path must stay short (108 bytes): not under $ddir.
	local mon=/tmp/ferry-vm-monitor.$BASHPID
	rm -f "$state"
	t0=$(date +%s)
	# A VM that outlives its limit is examined through its monitor
	# (vm-state.py): nokaslr keeps kernel addresses those of any boot,
	# sysrq_always_enabled lets it ask for the guest's tasks.
	qemu-system-x86_64 \
		-accel tcg -cpu max -m 1024 -smp 1 -nographic -no-reboot \
		-kernel "$kernel" -initrd "$initrd" \
		-append "console=ttyS0 loglevel=5 panic=-1 oops=panic no_timer_check nokaslr sysrq_always_enabled ferry.scenario=$name ferry.timeout=$guest_limit ferry.disks=$i${benv:+ ferry.env=$benv}" \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
		-monitor "unix:$mon,server=on,wait=off" \
		-nic none "${args[@]}" \
		</dev/null >"$log" 2>&1 &
	qpid=$!
	while kill -0 "$qpid" 2>/dev/null && [ $(($(date +%s) - t0)) -lt "$limit" ]; do
		sleep 1
	done
	if kill -0 "$qpid" 2>/dev/null; then
		# Outlived its limit: record what the VM was doing, then stop it.
		timeout 60 python3 "$top/tests/vm/vm-state.py" "$mon" "$log" \
			"${FERRY_VM_KO:-$top/kmod/ferry.ko}" >"$state" 2>&1
		kill "$qpid" 2>/dev/null
		sleep 5
		kill -9 "$qpid" 2>/dev/null
		wait "$qpid"
		rc=124
	else
		wait "$qpid"
		rc=$?
	fi
	t1=$(date +%s)
	rm -f "$mon"
	[ -s "$state" ] && cat "$state" >>"$log"

	local res=FAIL why=""
	if tr -d '\r' <"$log" | grep -qx "FERRY-SCENARIO-RESULT $name PASS"; then
		res=PASS
	elif tr -d '\r' <"$log" | grep -qx "FERRY-SCENARIO-RESULT $name FAIL"; then
		why="scenario failed"
	elif [ "$rc" -eq 124 ]; then
		why="no result: VM killed after ${limit}s"
	else
		why="no result marker: panic or crash? (qemu exit $rc)"
	fi

	local msg
	if [ "$res" = PASS ]; then
		rm -rf "$ddir"
		msg="vm: PASS $name ($((t1 - t0))s)"
	else
		msg="vm: FAIL $name ($((t1 - t0))s): $why
---- last lines of $log
$(tr -d '\r' <"$log" | tail -n 30)
---- full log: $log (disks kept in $ddir)"
	fi
	echo "$res" >"$vm/status/$name"
	echo "$msg"
}

rm -f "$vm"/status/*
running=0
for n in "${names[@]}"; do
	n=${n%.sh}
	if [ "$running" -ge "$jobs_max" ]; then
		wait -n
		running=$((running - 1))
	fi
	run_one "$n" &
	running=$((running + 1))
done
wait

passed=0 failed=0
for n in "${names[@]}"; do
	n=${n%.sh}
	if [ "$(cat "$vm/status/$n" 2>/dev/null)" = PASS ]; then
		passed=$((passed + 1))
		r=pass
	else
		failed=$((failed + 1))
		r=fail
	fi
	[ -n "${FERRY_RESULTS:-}" ] && echo "$r $tag:$n" >>"$FERRY_RESULTS"
done
echo "vm: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
