#!/bin/bash
# Run VM lab scenarios on Debian 13's 6.12 kernel:
#   tests/vm/run-612.sh [NAME...]   (default: smoke)
# The kernel image and modules come from scripts/kernel-612.sh (cached),
# ferry.ko from scripts/build-612.sh; the agent is the one built here
# (make agent). Output under build/vm-k612, result lines "pass k612:NAME".
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
[ $# -gt 0 ] || set -- smoke
root=$(scripts/kernel-612.sh --root)
ko=$(scripts/build-612.sh)
FERRY_VM_KERNEL_ROOT=$root FERRY_VM_KO=$ko FERRY_VM_OUT=$top/build/vm-k612 \
	FERRY_VM_TAG=k612 exec tests/vm/run.sh "$@"
