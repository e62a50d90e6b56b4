// SPDX-License-Identifier: GPL-2.0
/*
 * ferry-refmodel: a reference model of a ferry device and its snapshots.
 *
 * Sequential mode (default): thousands of random operations on the device
 * (O_DIRECT writes of 512 B .. 256 KiB at 4 KiB- and 512 B-aligned offsets,
 * many crossing chunk boundaries; BLKDISCARD; BLKZEROOUT) interleaved with
 * `ferry snapshot NAME` and `ferry delete NAME ID`. The whole device is
 * modelled in memory; each live snapshot keeps a 64-bit hash of every
 * 4 KiB block of the model at its moment. Every --check-every operations
 * and at the end, every live snapshot device is read completely (O_DIRECT)
 * and compared block by block with its hashes, and the device with the
 * model. After a discard the origin's content is undefined: the range is
 * read back into the model (the snapshots must still hold the old bytes).
 * Write-zeroes must read back as zeroes.
 *
 * Concurrent mode (--writers K): K threads each own a disjoint region (the
 * boundaries fall inside chunks, so neighbours share chunks) and write it
 * continuously; every 512-byte sector written carries a stamp (writer,
 * write index, sector) and filler derived from it. The main thread takes
 * snapshots meanwhile (and deletes some). For each snapshot and writer,
 * the region in the snapshot must be exactly the region's state after
 * ONE write index i, with i between the writes completed before
 * `ferry snapshot` started and the writes started when it returned: no
 * write lost, none half in, none from later.
 *
 * Exit status: 0 all checks passed, 1 a mismatch (one precise line on
 * stderr: snapshot id, chunk, offset), 2 usage or environment error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SECTOR 512u
#define BLOCK 4096u
#define MAX_IO (256u * 1024)
#define READ_BUF (1024u * 1024)
#define MAX_SNAPS 64
#define STAMP_MAGIC 0x5952524546ull /* "FERRY" */

static const char *opt_dev = "/dev/ferry0";
static const char *opt_name = "v0";
static const char *opt_ferry = "/usr/sbin/ferry";
static uint64_t opt_ops = 2000;
static uint64_t opt_seed;
static uint64_t opt_size;
static uint64_t opt_chunk = 65536;
static unsigned int opt_writers;
static unsigned int opt_snaps = 10;
static unsigned int opt_max_live = 8;
static uint64_t opt_check_every = 1000;
static int opt_keep;

static uint64_t size; /* bytes modelled: [0, size) of the device */
static int dev_fd;
static time_t t_start;

/* Counters for the summary. */
static uint64_t n_writes, n_discards, n_zeroouts, n_taken, n_deleted;
static uint64_t n_checks, n_cleaned, bytes_written, bytes_verified;

static void die(int status, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

static void die(int status, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "ferry-refmodel: %s: ", status == 1 ? "FAIL" : "error");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void note(const char *fmt, ...)
{
	va_list ap;

	printf("[%lds] ", (long)(time(NULL) - t_start));
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* ---- random numbers and hashing ---- */

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in [0, n). */
static uint64_t rnd(uint64_t *s, uint64_t n)
{
	return n ? splitmix(s) % n : 0;
}

static void fill_random(uint64_t *s, void *buf, size_t len)
{
	uint64_t *p = buf;
	uint64_t x = splitmix(s) | 1;
	size_t i;

	/* xorshift64: fast enough under TCG, seeded from the main stream. */
	for (i = 0; i < len / 8; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = x;
	}
}

static uint64_t rotl(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

/* 64-bit hash of a 4 KiB block (a multiply-rotate mix, xxhash-like). */
static uint64_t hash_block(const void *buf)
{
	const uint64_t *p = buf;
	uint64_t h = 0x27d4eb2f165667c5ull;
	unsigned int i;

	for (i = 0; i < BLOCK / 8; i++) {
		h ^= p[i] * 0xc2b2ae3d27d4eb4full;
		h = rotl(h, 31) * 0x9e3779b185ebca87ull;
	}
	h ^= h >> 33;
	h *= 0x165667b19e3779f9ull;
	return h ^ (h >> 29);
}

/* ---- I/O helpers ---- */

static void *xalloc(size_t len)
{
	void *p;

	if (posix_memalign(&p, BLOCK, len ? len : BLOCK))
		die(2, "out of memory (%zu bytes)", len);
	memset(p, 0, len);
	return p;
}

static void pwrite_all(int fd, const void *buf, size_t len, uint64_t off)
{
	ssize_t n = pwrite(fd, buf, len, (off_t)off);

	if (n < 0)
		die(2, "write of %zu bytes at %" PRIu64 " to %s: %s", len, off,
		    opt_dev, strerror(errno));
	if ((size_t)n != len)
		die(2, "short write at %" PRIu64 ": %zd of %zu bytes", off, n,
		    len);
}

static void pread_all(int fd, const char *dev, void *buf, size_t len,
		      uint64_t off)
{
	ssize_t n = pread(fd, buf, len, (off_t)off);

	if (n < 0)
		die(1, "read of %zu bytes at %" PRIu64 " from %s: %s", len, off,
		    dev, strerror(errno));
	if ((size_t)n != len)
		die(1, "short read at %" PRIu64 " from %s: %zd of %zu bytes",
		    off, dev, n, len);
}

static uint64_t dev_size_of(int fd, const char *dev)
{
	uint64_t bytes;

	if (ioctl(fd, BLKGETSIZE64, &bytes))
		die(2, "BLKGETSIZE64 %s: %s", dev, strerror(errno));
	return bytes;
}

static int open_dev(const char *dev, int flags)
{
	int fd = open(dev, flags | O_DIRECT | O_CLOEXEC);

	if (fd < 0)
		die(2, "open %s: %s", dev, strerror(errno));
	return fd;
}

/* ---- the agent ---- */

/*
 * Runs `ferry ARGS...`; its stdout (up to outlen - 1 bytes) into out. The
 * exit status must be 0.
 */
static void run_ferry(char *out, size_t outlen, const char *a1, const char *a2,
		      const char *a3)
{
	const char *argv[] = { opt_ferry, a1, a2, a3, NULL };
	size_t got = 0;
	int pfd[2], status;
	ssize_t n;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC))
		die(2, "pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		die(2, "fork: %s", strerror(errno));
	if (!pid) {
		dup2(pfd[1], STDOUT_FILENO);
		execv(opt_ferry, (char **)argv);
		fprintf(stderr, "exec %s: %s\n", opt_ferry, strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	while ((n = read(pfd[0], out + got, outlen - 1 - got)) > 0)
		got += (size_t)n;
	out[got] = 0;
	close(pfd[0]);
	if (waitpid(pid, &status, 0) < 0)
		die(2, "waitpid: %s", strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		die(2, "ferry %s %s%s%s failed (status 0x%x), stdout: %s", a1,
		    a2, a3 ? " " : "", a3 ? a3 : "", status, out);
}

struct snap {
	unsigned long id;
	char dev[64];
	uint64_t *hashes; /* sequential: per 4 KiB block of the model */
	uint64_t *before; /* concurrent: per writer */
	uint64_t *after;
	int live;
};

static struct snap snaps[MAX_SNAPS];
static unsigned int nsnaps;

static unsigned int live_count(void)
{
	unsigned int i, n = 0;

	for (i = 0; i < nsnaps; i++)
		n += snaps[i].live;
	return n;
}

/* `ferry snapshot NAME`: expects one line `NAME ID DEVICE`. */
static struct snap *take_snapshot(void)
{
	char out[512], name[64], dev[64];
	unsigned long id;
	struct snap *s;
	struct stat st;
	int i;

	if (nsnaps == MAX_SNAPS)
		die(2, "more than %d snapshots", MAX_SNAPS);
	run_ferry(out, sizeof(out), "snapshot", opt_name, NULL);
	if (sscanf(out, "%63s %lu %63s", name, &id, dev) != 3 ||
	    strcmp(name, opt_name) || strncmp(dev, "/dev/ferry", 10))
		die(2,
		    "ferry snapshot %s printed '%s', expected 'NAME ID DEVICE'",
		    opt_name, out);
	for (i = 0; i < 100 && stat(dev, &st); i++)
		usleep(50000);
	if (stat(dev, &st) || !S_ISBLK(st.st_mode))
		die(2, "snapshot %lu: no block device %s", id, dev);
	s = &snaps[nsnaps++];
	memset(s, 0, sizeof(*s));
	s->id = id;
	snprintf(s->dev, sizeof(s->dev), "%s", dev);
	s->live = 1;
	n_taken++;
	return s;
}

static void delete_snapshot(struct snap *s)
{
	char out[256], id[32];

	snprintf(id, sizeof(id), "%lu", s->id);
	run_ferry(out, sizeof(out), "delete", opt_name, id);
	s->live = 0;
	free(s->hashes);
	s->hashes = NULL;
	n_deleted++;
}

/* A random live snapshot, or NULL. */
static struct snap *pick_live(uint64_t *rs)
{
	unsigned int n = live_count(), k, i;

	if (!n)
		return NULL;
	k = (unsigned int)rnd(rs, n);
	for (i = 0; i < nsnaps; i++)
		if (snaps[i].live && !k--)
			return &snaps[i];
	return NULL;
}

/* ---- sequential mode ---- */

static uint8_t *model;
static uint64_t *cur_hash; /* per 4 KiB block of the model, when clean */
static uint8_t *dirty;
static uint64_t nblocks;
static uint64_t zero_hash;

static void mark_dirty(uint64_t off, uint64_t len)
{
	uint64_t b;

	for (b = off / BLOCK; b < (off + len + BLOCK - 1) / BLOCK; b++)
		dirty[b] = 1;
}

static void rehash_model(void)
{
	uint64_t b;

	for (b = 0; b < nblocks; b++)
		if (dirty[b]) {
			cur_hash[b] = hash_block(model + b * BLOCK);
			dirty[b] = 0;
		}
}

/*
 * A random extent: 4 KiB-aligned or (one in four) 512 B-aligned, length
 * 512 B .. max; half of them start shortly before a chunk boundary.
 */
static void random_extent(uint64_t *rs, uint64_t max, uint64_t *offp,
			  uint64_t *lenp)
{
	uint64_t align = rnd(rs, 4) ? BLOCK : SECTOR;
	uint64_t len = (1 + rnd(rs, max / align)) * align;
	uint64_t off;

	if (len > size)
		len = size;
	if (rnd(rs, 2)) {
		uint64_t c = 1 + rnd(rs, size / opt_chunk - 1);

		uint64_t back = len < c * opt_chunk ? len : c * opt_chunk;

		off = c * opt_chunk - (1 + rnd(rs, back / align)) * align;
		if (off + len > size)
			off = size - len;
	} else {
		off = rnd(rs, (size - len) / align + 1) * align;
	}
	*offp = off;
	*lenp = len;
}

static void read_back(uint64_t off, uint64_t len)
{
	uint8_t *buf = xalloc(len);

	pread_all(dev_fd, opt_dev, buf, len, off);
	memcpy(model + off, buf, len);
	mark_dirty(off, len);
	free(buf);
}

static void op_write(uint64_t *rs, uint8_t *buf)
{
	uint64_t off, len;

	random_extent(rs, MAX_IO, &off, &len);
	fill_random(rs, buf, len);
	pwrite_all(dev_fd, buf, len, off);
	memcpy(model + off, buf, len);
	mark_dirty(off, len);
	n_writes++;
	bytes_written += len;
}

static void op_range(uint64_t *rs, int zero)
{
	uint64_t off, len, range[2];
	uint8_t *buf;
	uint64_t i;

	random_extent(rs, 4 * MAX_IO, &off, &len);
	range[0] = off;
	range[1] = len;
	if (ioctl(dev_fd, zero ? BLKZEROOUT : BLKDISCARD, range))
		die(2, "%s of %" PRIu64 " bytes at %" PRIu64 " on %s: %s",
		    zero ? "BLKZEROOUT" : "BLKDISCARD", len, off, opt_dev,
		    strerror(errno));
	if (!zero) {
		/* Undefined content: whatever reads back is the model. */
		read_back(off, len);
		n_discards++;
		return;
	}
	buf = xalloc(len);
	pread_all(dev_fd, opt_dev, buf, len, off);
	for (i = 0; i < len; i++)
		if (buf[i])
			die(1,
			    "%s: byte %" PRIu64 " (chunk %" PRIu64
			    ") is 0x%02x after BLKZEROOUT of %" PRIu64
			    " bytes at %" PRIu64,
			    opt_dev, off + i, (off + i) / opt_chunk, buf[i],
			    len, off);
	free(buf);
	memset(model + off, 0, len);
	mark_dirty(off, len);
	n_zeroouts++;
	bytes_written += len;
}

/* What the wrong content of a snapshot block looks like, for the report. */
static const char *explain(struct snap *s, uint64_t b, uint64_t h)
{
	static char why[160];
	unsigned int i;

	if (h == zero_hash)
		return "reads as zeroes";
	if (h == cur_hash[b])
		return "holds the origin's current content";
	for (i = 0; i < nsnaps; i++)
		if (snaps[i].live && &snaps[i] != s &&
		    snaps[i].hashes[b] == h) {
			snprintf(why, sizeof(why),
				 "holds the content of snapshot %lu",
				 snaps[i].id);
			return why;
		}
	return "holds content the model never had here";
}

static void check_snapshot(struct snap *s, uint8_t *buf)
{
	int fd = open_dev(s->dev, O_RDONLY);
	uint64_t off, b, bad = 0, first = 0, firsth = 0;

	if (dev_size_of(fd, s->dev) < size)
		die(1,
		    "snapshot %lu: %s has %" PRIu64
		    " bytes, expected >= %" PRIu64,
		    s->id, s->dev, dev_size_of(fd, s->dev), size);
	for (off = 0; off < size; off += READ_BUF) {
		uint64_t len = size - off < READ_BUF ? size - off : READ_BUF;

		pread_all(fd, s->dev, buf, len, off);
		for (b = off / BLOCK; b < (off + len) / BLOCK; b++) {
			uint64_t h = hash_block(buf + (b * BLOCK - off));

			if (h == s->hashes[b])
				continue;
			if (!bad++) {
				first = b;
				firsth = h;
			}
		}
	}
	close(fd);
	if (bad)
		die(1,
		    "snapshot %lu (%s): chunk %" PRIu64 ", offset %" PRIu64
		    " (4 KiB block %" PRIu64 ") differs from the model at "
		    "the snapshot's moment: it %s; %" PRIu64 " of %" PRIu64
		    " blocks differ",
		    s->id, s->dev, first * BLOCK / opt_chunk, first * BLOCK,
		    first, explain(s, first, firsth), bad, nblocks);
	bytes_verified += size;
}

static void check_origin(uint8_t *buf)
{
	uint64_t off, i;

	for (off = 0; off < size; off += READ_BUF) {
		uint64_t len = size - off < READ_BUF ? size - off : READ_BUF;

		pread_all(dev_fd, opt_dev, buf, len, off);
		if (!memcmp(buf, model + off, len))
			continue;
		for (i = 0; buf[i] == model[off + i]; i++)
			;
		die(1,
		    "%s: chunk %" PRIu64 ", offset %" PRIu64
		    ": 0x%02x, the model has 0x%02x",
		    opt_dev, (off + i) / opt_chunk, off + i, buf[i],
		    model[off + i]);
	}
	bytes_verified += size;
}

static void check_all(uint8_t *buf)
{
	unsigned int i;

	rehash_model();
	for (i = 0; i < nsnaps; i++)
		if (snaps[i].live)
			check_snapshot(&snaps[i], buf);
	check_origin(buf);
	n_checks++;
}

static void sequential(uint64_t *rs)
{
	uint8_t *buf = xalloc(READ_BUF);
	uint64_t op, every_snap = opt_ops / (opt_snaps ? opt_snaps : 1);
	struct snap *s;

	nblocks = size / BLOCK;
	model = xalloc(size);
	cur_hash = calloc(nblocks, sizeof(*cur_hash));
	dirty = calloc(nblocks, 1);
	if (!cur_hash || !dirty)
		die(2, "out of memory");
	memset(buf, 0, BLOCK);
	zero_hash = hash_block(buf);
	note("reading %s (%" PRIu64 " bytes) into the model", opt_dev, size);
	read_back(0, size);

	if (!every_snap)
		every_snap = 1;
	for (op = 1; op <= opt_ops; op++) {
		uint64_t r = rnd(rs, 100);

		if (r < 80)
			op_write(rs, buf);
		else if (r < 90)
			op_range(rs, 1);
		else
			op_range(rs, 0);

		/* Snapshot about every every_snap ops, at a random spot. */
		if (!rnd(rs, every_snap)) {
			if (live_count() >= opt_max_live)
				delete_snapshot(pick_live(rs));
			rehash_model();
			s = take_snapshot();
			s->hashes = malloc(nblocks * sizeof(*s->hashes));
			if (!s->hashes)
				die(2, "out of memory");
			memcpy(s->hashes, cur_hash,
			       nblocks * sizeof(*s->hashes));
		}
		/* And delete one now and then, before the cap forces it. */
		if (!rnd(rs, 4 * every_snap) && live_count() > 1)
			delete_snapshot(pick_live(rs));
		if (op % opt_check_every == 0 || op == opt_ops) {
			check_all(buf);
			note("op %" PRIu64 ": checked %u live snapshots and %s",
			     op, live_count(), opt_dev);
		}
	}
	free(buf);
}

/* ---- concurrent mode ---- */

struct wlog {
	uint32_t first; /* sector in the region */
	uint32_t count;
};

struct writer {
	unsigned int idx;
	pthread_t thread;
	int fd;
	uint64_t base; /* byte offset of the region */
	uint32_t nsect; /* region length in sectors */
	uint64_t seed;
	struct wlog *log; /* log[w - 1] is write w; write 0 fills the region */
	uint64_t cap;
	uint64_t issued; /* writes started (atomic) */
	uint64_t completed; /* writes completed (atomic) */
	uint64_t sectors;
};

static struct writer *writers;
static int stop_writers;

/* Sector s of the region as written by write w of writer wr. */
static void make_sector(const struct writer *wr, uint64_t w, uint32_t s,
			uint64_t *p)
{
	uint64_t x = (wr->seed ^ (w << 24) ^ s) * 0x9e3779b97f4a7c15ull | 1;
	unsigned int i;

	p[0] = STAMP_MAGIC;
	p[1] = wr->idx;
	p[2] = w;
	p[3] = s;
	for (i = 4; i < SECTOR / 8; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = x;
	}
}

static void writer_write(struct writer *wr, uint8_t *buf, uint64_t w,
			 uint32_t first, uint32_t count)
{
	uint32_t i;

	for (i = 0; i < count; i++)
		make_sector(wr, w, first + i, (uint64_t *)(buf + i * SECTOR));
	pwrite_all(wr->fd, buf, (size_t)count * SECTOR,
		   wr->base + (uint64_t)first * SECTOR);
}

static void *writer_main(void *arg)
{
	struct writer *wr = arg;
	uint8_t *buf = xalloc(MAX_IO);
	uint64_t rs = wr->seed, w;
	uint32_t chunk_s = (uint32_t)(opt_chunk / SECTOR);

	for (w = 1; !__atomic_load_n(&stop_writers, __ATOMIC_ACQUIRE); w++) {
		uint32_t count = (uint32_t)(1 + rnd(&rs, MAX_IO / SECTOR));
		uint32_t first;

		if (count > wr->nsect)
			count = wr->nsect;
		/* Half start just before a chunk boundary of the device. */
		if (rnd(&rs, 2)) {
			uint64_t abs = wr->base / SECTOR + rnd(&rs, wr->nsect) +
				       chunk_s;
			uint64_t f = abs - abs % chunk_s - wr->base / SECTOR;

			f -= rnd(&rs, count < f ? count : f);
			first = (uint32_t)(f + count > wr->nsect ?
						   wr->nsect - count :
						   f);
		} else {
			first = (uint32_t)rnd(&rs, wr->nsect - count + 1);
		}
		if (w > wr->cap)
			die(2, "writer %u: write log full", wr->idx);
		wr->log[w - 1].first = first;
		wr->log[w - 1].count = count;
		__atomic_store_n(&wr->issued, w, __ATOMIC_SEQ_CST);
		writer_write(wr, buf, w, first, count);
		__atomic_store_n(&wr->completed, w, __ATOMIC_SEQ_CST);
		wr->sectors += count;
	}
	free(buf);
	return NULL;
}

/*
 * The region of writer wr in dev (buf: the region's bytes) must be the
 * region's state after one write index in [lo, hi]; returns the first
 * such index.
 */
static uint64_t check_region(const char *what, unsigned long id,
			     struct writer *wr, const uint8_t *buf, uint64_t lo,
			     uint64_t hi)
{
	uint32_t n = wr->nsect, s, i;
	uint64_t *ver = calloc(n, sizeof(*ver)); /* version in the device */
	uint64_t *cur = calloc(n, sizeof(*cur)); /* model after write w */
	uint64_t expect[SECTOR / 8], w, bad = 0, best = lo, bestbad, match = lo;

	if (!ver || !cur)
		die(2, "out of memory");
	for (s = 0; s < n; s++) {
		const uint64_t *p =
			(const uint64_t *)(buf + (size_t)s * SECTOR);
		uint64_t off = wr->base + (uint64_t)s * SECTOR;

		if (p[0] != STAMP_MAGIC || p[1] != wr->idx || p[3] != s ||
		    p[2] > wr->completed)
			die(1,
			    "%s %lu: writer %u, chunk %" PRIu64
			    ", offset %" PRIu64
			    ": sector holds no stamp of this writer/sector "
			    "(magic %#" PRIx64 ", writer %" PRIu64
			    ", write %" PRIu64 ", sector %" PRIu64 ")",
			    what, id, wr->idx, off / opt_chunk, off, p[0], p[1],
			    p[2], p[3]);
		make_sector(wr, p[2], s, expect);
		if (memcmp(p, expect, SECTOR))
			die(1,
			    "%s %lu: writer %u, chunk %" PRIu64
			    ", offset %" PRIu64 ": sector of write %" PRIu64
			    " is torn (stamp right, data wrong)",
			    what, id, wr->idx, off / opt_chunk, off, p[2]);
		ver[s] = p[2];
	}
	/* The state after write lo, then one write at a time up to hi. */
	for (w = 1; w <= lo; w++)
		for (i = 0; i < wr->log[w - 1].count; i++)
			cur[wr->log[w - 1].first + i] = w;
	for (s = 0; s < n; s++)
		bad += cur[s] != ver[s];
	bestbad = bad;
	for (w = lo + 1; w <= hi && bad; w++) {
		for (i = 0; i < wr->log[w - 1].count; i++) {
			s = wr->log[w - 1].first + i;
			bad -= cur[s] != ver[s];
			cur[s] = w;
			bad += cur[s] != ver[s];
		}
		if (bad < bestbad) {
			bestbad = bad;
			best = w;
		}
		match = w;
	}
	if (bad) {
		/* Report against the closest state. */
		memset(cur, 0, n * sizeof(*cur));
		for (w = 1; w <= best; w++)
			for (i = 0; i < wr->log[w - 1].count; i++)
				cur[wr->log[w - 1].first + i] = w;
		for (s = 0; cur[s] == ver[s]; s++)
			;
		die(1,
		    "%s %lu: writer %u, chunk %" PRIu64 ", offset %" PRIu64
		    ": region matches no single write index in [%" PRIu64
		    ", %" PRIu64 "]; closest state (after write %" PRIu64
		    ", %" PRIu64 " sectors off) has write %" PRIu64
		    " in this sector, the device has write %" PRIu64 "%s",
		    what, id, wr->idx,
		    (wr->base + (uint64_t)s * SECTOR) / opt_chunk,
		    wr->base + (uint64_t)s * SECTOR, lo, hi, best, bestbad,
		    cur[s], ver[s],
		    ver[s] > hi	    ? " (a write from after the snapshot)" :
		    ver[s] > cur[s] ? " (a later write half in?)" :
				      " (a write lost?)");
	}
	free(ver);
	free(cur);
	return match;
}

static void check_concurrent(const char *what, unsigned long id,
			     const char *dev, const uint64_t *lo,
			     const uint64_t *hi)
{
	int fd = open_dev(dev, O_RDONLY);
	char line[1024] = "";
	size_t used = 0;
	unsigned int k;

	for (k = 0; k < opt_writers; k++) {
		struct writer *wr = &writers[k];
		size_t len = (size_t)wr->nsect * SECTOR;
		uint8_t *buf = xalloc(len);
		uint64_t w;

		pread_all(fd, dev, buf, len, wr->base);
		w = check_region(what, id, wr, buf, lo[k], hi[k]);
		if (used < sizeof(line))
			used += (size_t)snprintf(line + used,
						 sizeof(line) - used,
						 " %" PRIu64 " of [%" PRIu64
						 ", %" PRIu64 "]",
						 w, lo[k], hi[k]);
		bytes_verified += len;
		free(buf);
	}
	close(fd);
	note("%s %lu: the writers' regions are their states after write%s",
	     what, id, line);
}

static void concurrent(uint64_t *rs)
{
	uint64_t region = (size / opt_writers) / BLOCK * BLOCK;
	uint64_t shift = opt_chunk / 2, *fin;
	uint8_t *buf = xalloc(MAX_IO);
	unsigned int k, i;
	struct snap *s;

	if (region <= shift + MAX_IO)
		die(2, "device too small for %u writers", opt_writers);
	writers = calloc(opt_writers, sizeof(*writers));
	fin = calloc(opt_writers, sizeof(*fin));
	if (!writers || !fin)
		die(2, "out of memory");
	/* Regions [shift + k * region, ...): boundaries in mid-chunk. */
	for (k = 0; k < opt_writers; k++) {
		struct writer *wr = &writers[k];
		uint64_t end = shift + (k + 1) * region;

		wr->idx = k;
		wr->fd = open_dev(opt_dev, O_RDWR);
		wr->base = shift + k * region;
		if (end > size)
			end = size;
		wr->nsect = (uint32_t)((end - wr->base) / SECTOR);
		wr->seed = splitmix(rs);
		wr->cap = 1u << 20;
		wr->log = calloc(wr->cap, sizeof(*wr->log));
		if (!wr->log)
			die(2, "out of memory");
		/* Write 0: the whole region, before any snapshot. */
		for (i = 0; i < wr->nsect; i += MAX_IO / SECTOR) {
			uint32_t c = wr->nsect - i < MAX_IO / SECTOR ?
					     wr->nsect - i :
					     MAX_IO / SECTOR;

			writer_write(wr, buf, 0, i, c);
		}
		note("writer %u: bytes %" PRIu64 "..%" PRIu64, k, wr->base,
		     wr->base + (uint64_t)wr->nsect * SECTOR);
	}
	for (k = 0; k < opt_writers; k++)
		if (pthread_create(&writers[k].thread, NULL, writer_main,
				   &writers[k]))
			die(2, "pthread_create failed");

	for (i = 0; i < opt_snaps; i++) {
		uint64_t lo[64], hi[64];

		usleep((useconds_t)(100000 + rnd(rs, 400000)));
		if (live_count() >= opt_max_live)
			delete_snapshot(pick_live(rs));
		for (k = 0; k < opt_writers; k++)
			lo[k] = __atomic_load_n(&writers[k].completed,
						__ATOMIC_SEQ_CST);
		s = take_snapshot();
		for (k = 0; k < opt_writers; k++)
			hi[k] = __atomic_load_n(&writers[k].issued,
						__ATOMIC_SEQ_CST);
		s->before = malloc(opt_writers * sizeof(uint64_t));
		s->after = malloc(opt_writers * sizeof(uint64_t));
		if (!s->before || !s->after)
			die(2, "out of memory");
		memcpy(s->before, lo, opt_writers * sizeof(uint64_t));
		memcpy(s->after, hi, opt_writers * sizeof(uint64_t));
		note("snapshot %lu: writes %" PRIu64 "..%" PRIu64
		     " of writer 0 in flight",
		     s->id, lo[0], hi[0]);
		/*
		 * Read it back while the writers overwrite its chunks for the
		 * first time: reads racing the copies must see the old data.
		 */
		check_concurrent("snapshot", s->id, s->dev, s->before,
				 s->after);
	}
	__atomic_store_n(&stop_writers, 1, __ATOMIC_RELEASE);
	for (k = 0; k < opt_writers; k++) {
		pthread_join(writers[k].thread, NULL);
		fin[k] = writers[k].completed;
		n_writes += fin[k];
		bytes_written += writers[k].sectors * SECTOR;
		note("writer %u: %" PRIu64 " writes, %" PRIu64 " bytes", k,
		     fin[k], writers[k].sectors * SECTOR);
	}
	for (i = 0; i < nsnaps; i++)
		if (snaps[i].live)
			check_concurrent("snapshot", snaps[i].id, snaps[i].dev,
					 snaps[i].before, snaps[i].after);
	check_concurrent("origin", 0, opt_dev, fin, fin);
	n_checks++;
	note("checked %u live snapshots and %s", live_count(), opt_dev);
	free(buf);
}

static uint64_t parse_size(const char *opt, const char *arg)
{
	char *end;
	uint64_t v;

	errno = 0;
	v = strtoull(arg, &end, 0);
	if (errno || end == arg)
		die(2, "%s: bad number '%s'", opt, arg);
	switch (*end) {
	case 'k':
	case 'K':
		v <<= 10;
		end++;
		break;
	case 'm':
	case 'M':
		v <<= 20;
		end++;
		break;
	case 'g':
	case 'G':
		v <<= 30;
		end++;
		break;
	}
	if (*end)
		die(2, "%s: bad number '%s'", opt, arg);
	return v;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: ferry-refmodel [--dev DEV] [--name NAME] [--ferry PATH]\n"
		"         [--ops N] [--seed S] [--size BYTES] [--chunk BYTES]\n"
		"         [--check-every N] [--snapshots N] [--max-live N]\n"
		"         [--writers K] [--keep]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	uint64_t rs, devsize;
	unsigned int i;
	int a;

	t_start = time(NULL);
	opt_seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	for (a = 1; a < argc; a++) {
		const char *o = argv[a], *v = a + 1 < argc ? argv[a + 1] : NULL;

		if (!strcmp(o, "--keep")) {
			opt_keep = 1;
			continue;
		}
		if (!v || strncmp(o, "--", 2))
			usage();
		a++;
		if (!strcmp(o, "--dev"))
			opt_dev = v;
		else if (!strcmp(o, "--name"))
			opt_name = v;
		else if (!strcmp(o, "--ferry"))
			opt_ferry = v;
		else if (!strcmp(o, "--ops"))
			opt_ops = parse_size(o, v);
		else if (!strcmp(o, "--seed"))
			opt_seed = parse_size(o, v);
		else if (!strcmp(o, "--size"))
			opt_size = parse_size(o, v);
		else if (!strcmp(o, "--chunk"))
			opt_chunk = parse_size(o, v);
		else if (!strcmp(o, "--check-every"))
			opt_check_every = parse_size(o, v);
		else if (!strcmp(o, "--snapshots"))
			opt_snaps = (unsigned int)parse_size(o, v);
		else if (!strcmp(o, "--max-live"))
			opt_max_live = (unsigned int)parse_size(o, v);
		else if (!strcmp(o, "--writers"))
			opt_writers = (unsigned int)parse_size(o, v);
		else
			usage();
	}
	if (!opt_ops || !opt_check_every || !opt_max_live ||
	    opt_max_live >= MAX_SNAPS || opt_writers > 64 ||
	    opt_chunk < BLOCK || opt_chunk % BLOCK)
		usage();

	dev_fd = open_dev(opt_dev, O_RDWR);
	devsize = dev_size_of(dev_fd, opt_dev);
	size = opt_size ? opt_size : devsize;
	if (size > devsize || size % opt_chunk || size < 2 * opt_chunk)
		die(2,
		    "--size %" PRIu64 ": must be a multiple of the chunk "
		    "(%" PRIu64 "), >= 2 chunks, <= the device (%" PRIu64 ")",
		    size, opt_chunk, devsize);
	rs = opt_seed;
	note("%s mode on %s (%s), %" PRIu64 " bytes, seed %" PRIu64,
	     opt_writers ? "concurrent" : "sequential", opt_dev, opt_name, size,
	     opt_seed);

	if (opt_writers)
		concurrent(&rs);
	else
		sequential(&rs);

	if (!opt_keep)
		for (i = 0; i < nsnaps; i++)
			if (snaps[i].live) {
				delete_snapshot(&snaps[i]);
				n_deleted--;
				n_cleaned++;
			}
	printf("ferry-refmodel: PASS %s seed %" PRIu64 ": ops %" PRIu64
	       " (writes %" PRIu64 ", discards %" PRIu64
	       ", write-zeroes %" PRIu64 "), bytes written %" PRIu64
	       ", snapshots taken %" PRIu64 ", deleted %" PRIu64 " (+%" PRIu64
	       " at the end), full checks %" PRIu64 ", bytes verified %" PRIu64
	       ", %lds\n",
	       opt_writers ? "concurrent" : "sequential", opt_seed,
	       n_writes + n_discards + n_zeroouts, n_writes, n_discards,
	       n_zeroouts, bytes_written, n_taken, n_deleted, n_cleaned,
	       n_checks, bytes_verified, (long)(time(NULL) - t_start));
	return 0;
}
