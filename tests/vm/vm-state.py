#!/usr/bin/env python3
"""Print what a VM that stopped answering was doing.

vm-state.py SOCKET CONSOLE_LOG FERRY_KO

tests/vm/run.sh calls this when a VM outlives its time limit, before it
kills QEMU. SOCKET is the VM's QEMU monitor (HMP on a unix socket). It
prints the run state and the CPU's registers and says where the CPU is:
the ferry.ko function (from the load address lib.sh printed on the console
and the module's symbol table), or the kernel. Then it asks the guest
kernel (magic SysRq on the emulated keyboard) for its blocked tasks and a
backtrace of the CPU. Those reach the console log only if the guest still
takes interrupts; if it does not, the registers say so (IF, 0x200, clear
in RFL; HLT=1 for a halted CPU).
"""
import bisect
import re
import socket
import subprocess
import sys
import time

PROMPT = b"(qemu) "


def read_until_prompt(sock, limit):
    """Everything the monitor prints up to its next prompt."""
    data = b""
    end = time.monotonic() + limit
    while not data.endswith(PROMPT) and time.monotonic() < end:
        sock.settimeout(max(0.1, end - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            break
        if not chunk:
            break
        data += chunk
    # The monitor redraws its input line with terminal escapes.
    text = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", data.decode(errors="replace"))
    return text.replace("\r", "").removesuffix("(qemu) ")


def command(sock, cmd):
    sock.sendall(cmd.encode() + b"\n")
    out = read_until_prompt(sock, 10)
    # Drop the echoed command line.
    lines = [l for l in out.split("\n") if l.strip() and not l.endswith(cmd)]
    return "\n".join(lines)


def ferry_text_symbols(log, ko):
    """(base, sorted [(offset, size, name)]) of ferry.ko's .text, or None.

    load_ferry in lib.sh prints where the module's .text was loaded.
    """
    base = None
    try:
        with open(log, errors="replace") as f:
            for line in f:
                m = re.search(r"ferry\.ko \.text at (0x[0-9a-f]+)", line)
                if m:
                    base = int(m.group(1), 16)
        table = subprocess.run(["objdump", "-t", ko], capture_output=True,
                               text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"vm-state: cannot read ferry.ko's symbols: {e}")
        return None
    if base is None:
        return None
    syms = []
    for line in table.splitlines():
        parts = line.split()
        # "OFFSET l     F .text  SIZE NAME"
        if len(parts) >= 6 and parts[-3] == ".text" and "F" in parts[1:-3]:
            syms.append((int(parts[0], 16), int(parts[-2], 16), parts[-1]))
    return base, sorted(syms)


def where(rip, ferry):
    if ferry:
        base, syms = ferry
        off = rip - base
        i = bisect.bisect_right([start for start, _, _ in syms], off) - 1
        if off >= 0 and i >= 0 and off < syms[i][0] + syms[i][1]:
            return f"ferry.ko: {syms[i][2]}+{off - syms[i][0]:#x}"
    if rip >= 0xFFFFFFFFA0000000:
        return "a module (not a function in ferry.ko's .text)"
    if rip >= 0xFFFFFFFF80000000:
        return ("the kernel (nokaslr: /proc/kallsyms of any boot of this "
                "kernel names the address)")
    return "user space"


def main():
    if len(sys.argv) != 4:
        print("usage: vm-state.py SOCKET CONSOLE_LOG FERRY_KO", file=sys.stderr)
        return 2
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(sys.argv[1])
    except OSError as e:
        print(f"vm-state: {sys.argv[1]}: {e.strerror}")
        return 1
    read_until_prompt(sock, 5)
    print("==== QEMU monitor: the VM outlived its time limit")
    print(f"---- info status\n{command(sock, 'info status')}")
    # The general registers, not the FPU and vector ones after EFER.
    regs = command(sock, "info registers").split("\nFCW=")[0]
    print(f"---- info registers\n{regs}")
    print(f"---- x/6i $pc\n{command(sock, 'x/6i $pc')}")
    rip = re.search(r"RIP=([0-9a-f]+)", regs)
    if rip:
        ferry = ferry_text_symbols(sys.argv[2], sys.argv[3])
        print(f"---- the CPU is in {where(int(rip.group(1), 16), ferry)}")
    # w: blocked (D state) tasks; l: a backtrace of every CPU.
    for key in ("w", "l"):
        command(sock, f"sendkey alt-sysrq-{key}")
        time.sleep(5)
    print("---- SysRq w and l sent; their output, if any, is above in the console log")
    sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
