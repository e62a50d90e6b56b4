// SPDX-License-Identifier: GPL-2.0
/*
 * ferry: application-consistent disaster recovery for block devices.
 *
 * Module entry points: the block major and the netlink family. Volumes are
 * created and destroyed over netlink (netlink.c); the device itself lives
 * in volume.c.
 */
#include <linux/module.h>

#include "ferry.h"

static int __init ferry_init(void)
{
	int ret;

	ret = ferry_volume_init();
	if (ret)
		return ret;
	ret = ferry_netlink_init();
	if (ret) {
		ferry_volume_exit();
		return ret;
	}
	pr_info("ferry: loaded\n");
	return 0;
}

/*
 * Open ferry devices hold a module reference, so only unopened volumes can
 * be left here; they are detached. The netlink family goes first so that
 * no new volume can appear meanwhile.
 */
static void __exit ferry_exit(void)
{
	ferry_netlink_exit();
	ferry_volume_exit();
	pr_info("ferry: unloaded\n");
}

module_init(ferry_init);
module_exit(ferry_exit);

MODULE_DESCRIPTION("ferry: quiesced snapshots and replication for block devices");
MODULE_LICENSE("GPL");
