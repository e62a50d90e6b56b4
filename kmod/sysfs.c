// SPDX-License-Identifier: GPL-2.0
/*
 * ferry: per-volume counters and state under /sys/block/ferryN/ferry/,
 * for monitoring without the agent.
 */
#include <linux/blkdev.h>
#include <linux/device.h>
#include <linux/sysfs.h>

#include "ferry.h"

static struct ferry_volume *ferry_dev_vol(struct device *dev)
{
	return dev_to_disk(dev)->private_data;
}

#define FERRY_STAT_ATTR(_name, _stat)					\
static ssize_t _name##_show(struct device *dev,				\
			    struct device_attribute *attr, char *buf)	\
{									\
	return sysfs_emit(buf, "%lld\n",				\
			  atomic64_read(&ferry_dev_vol(dev)->stats.v[_stat])); \
}									\
static DEVICE_ATTR_RO(_name)

FERRY_STAT_ATTR(reads, FERRY_STAT_READS);
FERRY_STAT_ATTR(read_bytes, FERRY_STAT_READ_BYTES);
FERRY_STAT_ATTR(writes, FERRY_STAT_WRITES);
FERRY_STAT_ATTR(write_bytes, FERRY_STAT_WRITE_BYTES);
FERRY_STAT_ATTR(flushes, FERRY_STAT_FLUSHES);
FERRY_STAT_ATTR(discards, FERRY_STAT_DISCARDS);
FERRY_STAT_ATTR(write_zeroes, FERRY_STAT_WRITE_ZEROES);
FERRY_STAT_ATTR(errors, FERRY_STAT_ERRORS);
FERRY_STAT_ATTR(in_flight, FERRY_STAT_IN_FLIGHT);

static ssize_t name_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	return sysfs_emit(buf, "%s\n", ferry_dev_vol(dev)->name);
}
static DEVICE_ATTR_RO(name);

/* The fields below change under map_lock. */
static ssize_t epoch_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	struct ferry_volume *vol = ferry_dev_vol(dev);
	u32 epoch;

	mutex_lock(&vol->map_lock);
	epoch = vol->epoch;
	mutex_unlock(&vol->map_lock);
	return sysfs_emit(buf, "%u\n", epoch);
}
static DEVICE_ATTR_RO(epoch);

static ssize_t cow_used_bytes_show(struct device *dev,
				   struct device_attribute *attr, char *buf)
{
	struct ferry_volume *vol = ferry_dev_vol(dev);
	u64 used;

	mutex_lock(&vol->map_lock);
	used = ferry_cow_bytes_used(vol);
	mutex_unlock(&vol->map_lock);
	return sysfs_emit(buf, "%llu\n", used);
}
static DEVICE_ATTR_RO(cow_used_bytes);

static ssize_t cow_total_bytes_show(struct device *dev,
				    struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%llu\n",
			  ferry_cow_bytes_total(ferry_dev_vol(dev)));
}
static DEVICE_ATTR_RO(cow_total_bytes);

static ssize_t live_snapshots_show(struct device *dev,
				   struct device_attribute *attr, char *buf)
{
	struct ferry_volume *vol = ferry_dev_vol(dev);
	unsigned int n;

	mutex_lock(&vol->map_lock);
	n = vol->nr_live;
	mutex_unlock(&vol->map_lock);
	return sysfs_emit(buf, "%u\n", n);
}
static DEVICE_ATTR_RO(live_snapshots);

/*
 * Kernel memory of the changed-block tracking: the per-chunk epochs and
 * the precise map's pages and page table.
 */
static ssize_t cbt_bytes_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	struct ferry_volume *vol = ferry_dev_vol(dev);
	u64 bytes;

	mutex_lock(&vol->map_lock);
	bytes = ferry_excmap_bytes(&vol->excmap) +
		vol->fine.nr_leaves * sizeof(*vol->fine.leaves) +
		vol->fine.nr_allocated * PAGE_SIZE;
	mutex_unlock(&vol->map_lock);
	return sysfs_emit(buf, "%llu\n", bytes);
}
static DEVICE_ATTR_RO(cbt_bytes);

static struct attribute *ferry_attrs[] = {
	&dev_attr_name.attr,
	&dev_attr_epoch.attr,
	&dev_attr_cow_used_bytes.attr,
	&dev_attr_cow_total_bytes.attr,
	&dev_attr_live_snapshots.attr,
	&dev_attr_reads.attr,
	&dev_attr_read_bytes.attr,
	&dev_attr_writes.attr,
	&dev_attr_write_bytes.attr,
	&dev_attr_flushes.attr,
	&dev_attr_discards.attr,
	&dev_attr_write_zeroes.attr,
	&dev_attr_errors.attr,
	&dev_attr_in_flight.attr,
	&dev_attr_cbt_bytes.attr,
	NULL,
};

static const struct attribute_group ferry_attr_group = {
	.name = "ferry",
	.attrs = ferry_attrs,
};

const struct attribute_group *ferry_attr_groups[] = {
	&ferry_attr_group,
	NULL,
};
