#!/bin/sh
# Install everything ferry's build, tests, lint, benchmarks and demo need.
# Idempotent: when every package is present it prints nothing and does not
# touch the network.
set -eu

PKGS="build-essential pkg-config bc flex bison libelf-dev libssl-dev
python3 kmod cpio busybox-static qemu-system-x86 qemu-utils
linux-headers-amd64 linux-image-amd64 linux-source-6.1
libnl-3-dev libnl-genl-3-dev liburing-dev libsqlite3-dev sqlite3
libcmocka-dev libconfig-dev libjson-c-dev libzstd-dev
clang llvm sparse e2fsprogs xfsprogs dmsetup fio jq
zstd xz-utils iproute2 util-linux rsync"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
		grep -q '^install ok installed$' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages:$missing (run as root)" >&2
	exit 1
fi
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null || true
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
