#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Print -DFERRY_HAVE_* flags for kernel APIs that differ between the kernels
# ferry supports (Debian 12's 6.1 and Debian 13's 6.12). Probes read the
# target's headers instead of trusting LINUX_VERSION_CODE, because
# distributions backport API changes.
src=${1:?kernel source tree}
have() { grep -qsE "$2" "$src/$3" && printf ' -D%s' "$1"; }

# 6.9+: block devices are opened as files.
have FERRY_HAVE_BDEV_FILE_OPEN 'bdev_file_open_by_path' include/linux/blkdev.h
# 6.9+: queue limits are passed to blk_alloc_disk().
have FERRY_HAVE_ALLOC_DISK_LIMITS 'blk_alloc_disk\(struct queue_limits' include/linux/blkdev.h
# 6.5+: ->open takes a gendisk and blk_mode_t.
have FERRY_HAVE_BLK_MODE_T 'typedef unsigned int __bitwise blk_mode_t' include/linux/blkdev.h
# 6.8+: bdev_freeze()/bdev_thaw() replace freeze_bdev()/thaw_bdev().
have FERRY_HAVE_BDEV_FREEZE 'int bdev_freeze\(' include/linux/blkdev.h
# 6.6+: a dump's attributes are in genl_info_dump(cb)->attrs.
have FERRY_HAVE_GENL_INFO_DUMP 'genl_info_dump' include/net/genetlink.h
echo
