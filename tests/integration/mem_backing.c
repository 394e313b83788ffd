/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * File-backed regions (setxattr user.regionfs.backing=PATH): memory and
 * durability.
 *
 *  - write()+fsync / fdatasync and mmap+msync(MS_SYNC) through the region:
 *    after the flush the user's file holds the bytes (pread, O_DIRECT) and
 *    the kernel holds no dirty or writeback page of it (cachestat(2): the
 *    flush really wrote the file, it did not just return 0).
 *  - The reverse direction: changes made to the file outside the mount. In
 *    passthrough mode they show at once, even in a live mapping, and a
 *    direct mapping of the file shares pages with a mapping of the region.
 *    In both modes they show at the next open when nobody has the region
 *    open (1000 rounds of close, change, open at once: the close's release
 *    may still be on its way), and stat shows outside size/time changes at
 *    once.
 *  - A region just bound (or whose file grew outside) mapped at the size
 *    the caller knows, without a stat first: no SIGBUS inside the size.
 *  - Growth and shrink (ftruncate, write past the end, fallocate) change the
 *    file; a bound region is not counted in size= (grown past it, df unchanged).
 *  - Unlink while mapped/open: the name goes, data written afterwards still
 *    reaches the file, the file stays.
 *  - MAP_PRIVATE views never reach the file.
 *  - Binding errors that need an open file or a mapping: EBUSY (open, or only
 *    mapped), ENOTEMPTY, EEXIST; a failed bind leaves the region as it was;
 *    a region created and closed can be bound at once (1000 rounds, no EBUSY).
 *
 * Usage: mem_backing MOUNTPOINT FILEDIR [SIZE_BYTES]
 *   FILEDIR: an empty directory outside the mount for the users' files.
 *   SIZE_BYTES: the mount's size= (for the quota checks).
 */
#include "rfstest.h"

#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#define XATTR_BACKING "user.regionfs.backing"
#define MAXLEN (64 * 4096)

#ifndef __NR_cachestat
#define __NR_cachestat 451 /* the same number on every architecture */
#endif

/* cachestat(2), Linux 6.5; the struct names of <linux/mman.h>. */
struct t_cachestat_range {
	uint64_t off;
	uint64_t len;
};

struct t_cachestat {
	uint64_t nr_cache;
	uint64_t nr_dirty;
	uint64_t nr_writeback;
	uint64_t nr_evicted;
	uint64_t nr_recently_evicted;
};

static const char *mnt, *fdir;
static bool passthrough;
static long ps;
static uint64_t mount_size;

/* What the user's file must hold, and a buffer to read it into. */
static unsigned char expect[MAXLEN];
static unsigned char got[MAXLEN];
static unsigned char direct_buf[MAXLEN + 4096] __attribute__((aligned(4096)));

static const char *rpath(char *buf, const char *name)
{
	return t_path(buf, 4096, mnt, name);
}

static const char *fpath(char *buf, const char *name)
{
	return t_path(buf, 4096, fdir, name);
}

static int bind_to(const char *region, const char *file)
{
	return setxattr(region, XATTR_BACKING, file, strlen(file), 0);
}

/* A new empty region, made without opening it (no RELEASE can be pending). */
static void new_region(const char *path)
{
	REQUIRE(mknod(path, S_IFREG | 0644, 0) == 0, "mknod %s", path);
}

/* A new user's file holding len bytes of expect[]; fsync'ed, so its pages are clean. */
static void new_file(const char *path, size_t len)
{
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);

	REQUIRE(fd >= 0, "create %s", path);
	REQUIRE(write(fd, expect, len) == (ssize_t)len, "fill %s", path);
	REQUIRE(fsync(fd) == 0, "fsync %s", path);
	close(fd);
}

static off_t size_of(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -1;
	return st.st_size;
}

/* First byte of [0, len) where the file differs from expect[], -1 if none,
 * -2 if it could not be read whole. */
static long file_diff(const char *path, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -2;
	n = pread(fd, got, len, 0);
	close(fd);
	if (n != (ssize_t)len)
		return -2;
	for (size_t i = 0; i < len; i++)
		if (got[i] != expect[i])
			return (long)i;
	return -1;
}

/* The same through O_DIRECT (the disk's copy after the page cache is written). */
static void check_direct(const char *path, size_t len, const char *what)
{
	size_t whole = (len + ps - 1) / ps * ps;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_DIRECT);

	if (fd < 0 && errno == EINVAL) {
		printf("# %s: O_DIRECT not supported on the file system of %s\n", what, fdir);
		return;
	}
	if (!CHECK(fd >= 0, "%s: open the file with O_DIRECT", what))
		return;
	n = pread(fd, direct_buf, whole, 0);
	close(fd);
	if (!CHECK_EQ(n, (long)len, "%s: O_DIRECT read of the file", what))
		return;
	CHECK(memcmp(direct_buf, expect, len) == 0, "%s: O_DIRECT read shows the data", what);
}

/* After a flush, no page of the file may be dirty or under writeback. */
static void check_clean(const char *path, const char *what)
{
	struct t_cachestat_range range = {0, 0}; /* len 0: to the end */
	struct t_cachestat cs;
	int fd = open(path, O_RDONLY);

	if (!CHECK(fd >= 0, "%s: open the file", what))
		return;
	memset(&cs, 0, sizeof(cs));
	if (syscall(__NR_cachestat, fd, &range, &cs, 0) < 0) {
		if (errno == ENOSYS)
			printf("# %s: no cachestat(2): durability not checked\n", what);
		else
			CHECK(false, "%s: cachestat (errno %s)", what, t_errname(errno));
		close(fd);
		return;
	}
	close(fd);
	CHECK(cs.nr_dirty == 0 && cs.nr_writeback == 0,
	      "%s: the file has no dirty/writeback pages after the flush (dirty %llu, writeback "
	      "%llu)",
	      what, (unsigned long long)cs.nr_dirty, (unsigned long long)cs.nr_writeback);
}

/* Dirty pages of the file right now (for the record: shows the flush had work to do). */
static long dirty_pages(const char *path)
{
	struct t_cachestat_range range = {0, 0};
	struct t_cachestat cs;
	int fd = open(path, O_RDONLY);
	long r = -1;

	if (fd < 0)
		return -1;
	if (syscall(__NR_cachestat, fd, &range, &cs, 0) == 0)
		r = (long)cs.nr_dirty;
	close(fd);
	return r;
}

/* The file is exactly expect[0, len), in the page cache, on disk, and clean. */
static void check_file(const char *path, size_t len, const char *what)
{
	CHECK_EQ(size_of(path), (long)len, "%s: size of the file", what);
	CHECK_EQ(file_diff(path, len), -1, "%s: the file's bytes (first bad byte)", what);
	check_direct(path, len, what);
}

static bool is_passthrough(void)
{
	char v[32] = "";

	return getxattr(mnt, "user.regionfs.datapath", v, sizeof(v) - 1) > 0 &&
	       strcmp(v, "passthrough") == 0;
}

/* ------------------------------------------------------------ write */

static void test_write_fsync(void)
{
	char r[4096], f[4096];
	size_t len = 3 * ps + 100;
	int fd;

	rpath(r, "written");
	fpath(f, "written.dat");
	new_file(f, 0);
	new_region(r);
	CHECK_OK(bind_to(r, f), "bind an empty file");
	fd = CHECK_OK(open(r, O_RDWR), "open the bound region");
	REQUIRE(fd >= 0, "open");
	t_fill(expect, len, 1);
	CHECK_EQ(write(fd, expect, len), (long)len, "write() through the region");
	printf("# dirty pages of the file before fsync: %ld\n", dirty_pages(f));
	CHECK_OK(fsync(fd), "fsync the region");
	check_clean(f, "write+fsync");
	check_file(f, len, "write+fsync");

	t_fill(expect + ps, ps, 2);
	CHECK_EQ(pwrite(fd, expect + ps, ps, ps), ps, "pwrite() one page");
	CHECK_OK(fdatasync(fd), "fdatasync the region");
	check_clean(f, "pwrite+fdatasync");
	check_file(f, len, "pwrite+fdatasync");

	/* O_TRUNC empties the file; writing again refills it. */
	close(fd);
	fd = CHECK_OK(open(r, O_RDWR | O_TRUNC), "open with O_TRUNC");
	REQUIRE(fd >= 0, "open");
	CHECK_EQ(size_of(f), 0, "O_TRUNC truncated the file");
	CHECK_EQ(write(fd, "again", 5), 5, "write after O_TRUNC");
	memcpy(expect, "again", 5);
	CHECK_OK(fsync(fd), "fsync");
	check_file(f, 5, "O_TRUNC+write");
	close(fd);
	CHECK_OK(unlink(r), "unlink the region");
	CHECK_EQ(file_diff(f, 5), -1, "the file is still there after the unlink");
}

/* ------------------------------------------------------------- mmap */

static void test_mmap_msync(void)
{
	char r[4096], f[4096];
	size_t len = 4 * ps;
	ssize_t n;
	char *m, *p;
	int fd;

	rpath(r, "mapped");
	fpath(f, "mapped.dat");
	t_fill(expect, len, 3);
	new_file(f, len);
	new_region(r);
	CHECK_OK(bind_to(r, f), "bind a file of 4 pages");
	CHECK_EQ(size_of(r), (long)len, "the region has the file's size");
	fd = CHECK_OK(open(r, O_RDWR), "open");
	REQUIRE(fd >= 0, "open");
	n = pread(fd, got, len, 0);
	CHECK(n == (ssize_t)len && memcmp(got, expect, len) == 0,
	      "read() shows the file's contents");
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	REQUIRE(m != MAP_FAILED, "mmap the region");
	CHECK_EQ(t_verify(m, len, 3), -1, "the mapping shows the file's contents (first bad byte)");

	t_fill(m, len, 4);
	t_fill(expect, len, 4);
	printf("# dirty pages of the file before msync: %ld\n", dirty_pages(f));
	CHECK_OK(msync(m, len, MS_SYNC), "msync(MS_SYNC) the whole mapping");
	check_clean(f, "mmap+msync");
	check_file(f, len, "mmap+msync");

	/* One page stored and flushed alone. */
	t_fill(m + 2 * ps, ps, 5);
	t_fill(expect + 2 * ps, ps, 5);
	CHECK_OK(msync(m + 2 * ps, ps, MS_SYNC), "msync(MS_SYNC) one page");
	check_clean(f, "one page+msync");
	check_file(f, len, "one page+msync");

	/* MAP_PRIVATE: copy on write, never reaches the file or the shared view. */
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (CHECK(p != MAP_FAILED, "MAP_PRIVATE mapping of the region")) {
		CHECK(memcmp(p, expect, len) == 0, "the private view starts as the file");
		memset(p, 'P', ps);
		CHECK_OK(msync(p, len, MS_SYNC), "msync a private mapping");
		munmap(p, len);
	}
	CHECK(m[0] != 'P', "a private store is not seen by the shared mapping");
	CHECK_OK(fsync(fd), "fsync");
	check_file(f, len, "after a MAP_PRIVATE store");

	munmap(m, len);
	close(fd);
	CHECK_OK(unlink(r), "unlink the region");
}

/* ---------------------------------------------- outside -> region */

/* Passthrough: the file's pages are the region's pages, even while mapped. */
static void test_coherent_while_mapped(void)
{
	char r[4096], f[4096];
	size_t len = 4 * ps;
	struct stat st;
	char *m, *fm;
	int fd, ffd;

	rpath(r, "coherent");
	fpath(f, "coherent.dat");
	t_fill(expect, len, 6);
	new_file(f, len);
	new_region(r);
	CHECK_OK(bind_to(r, f), "bind");
	fd = open(r, O_RDWR);
	ffd = open(f, O_RDWR);
	REQUIRE(fd >= 0 && ffd >= 0, "open the region and the file");
	/* as programs do before mapping (test_map_after_bind maps without it) */
	CHECK(fstat(fd, &st) == 0 && st.st_size == (off_t)len, "fstat: the file's size");
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	fm = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, ffd, 0);
	REQUIRE(m != MAP_FAILED && fm != MAP_FAILED, "map the region and the file");

	/* region -> file: through a flush in both modes. */
	memcpy(m, "region-store", 12);
	CHECK_OK(msync(m, ps, MS_SYNC), "msync the region's page");
	CHECK(memcmp(fm, "region-store", 12) == 0,
	      "a flushed store into the region is seen by a mapping of the file");

	if (passthrough) {
		memcpy(m + ps, "no-flush-r2f", 12);
		CHECK(memcmp(fm + ps, "no-flush-r2f", 12) == 0,
		      "passthrough: a store into the region is seen by the file's mapping at once");
		memcpy(fm + 2 * ps, "no-flush-f2r", 12);
		CHECK(
		    memcmp(m + 2 * ps, "no-flush-f2r", 12) == 0,
		    "passthrough: a store into the file's mapping is seen by the region's at once");
		CHECK_EQ(pwrite(ffd, "pwrite-file", 11, 3 * ps), 11, "pwrite() into the file");
		CHECK(memcmp(m + 3 * ps, "pwrite-file", 11) == 0,
		      "passthrough: the region's mapping sees a write() to the file at once");
		CHECK(pread(fd, got, 11, 3 * ps) == 11 && memcmp(got, "pwrite-file", 11) == 0,
		      "passthrough: read() of the region sees a write() to the file at once");
	} else {
		printf("# cache mode: outside changes show at the next open (checked below)\n");
	}
	munmap(fm, len);
	munmap(m, len);
	close(ffd);
	close(fd);
	CHECK_OK(unlink(r), "unlink the region");
	CHECK_EQ(size_of(f), (long)len, "the file stays");
}

/*
 * A region bound a moment ago, opened and mapped at the size the binder
 * knows, without a stat first: every page inside the file's size must be
 * there (a fault inside the size must never be SIGBUS). The same after the
 * file grew outside while the region was closed.
 */
static void test_map_after_bind(void)
{
	char r[4096], f[4096];
	size_t len = 4 * ps;
	int fd, ffd, sig;
	char v = 0, *m;

	rpath(r, "fresh");
	fpath(f, "fresh.dat");
	t_fill(expect, len, 13);
	new_file(f, len);
	new_region(r);
	CHECK_OK(bind_to(r, f), "bind a file of 4 pages");
	fd = open(r, O_RDWR);
	REQUIRE(fd >= 0, "open the region");
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	REQUIRE(m != MAP_FAILED, "map 4 pages");
	t_catch_faults();
	sig = t_probe_read(m + len - 1, &v);
	CHECK(sig == 0 && v == (char)expect[len - 1],
	      "load from the last page of a region just bound, mapped without a stat (%s)",
	      t_signame(sig));
	sig = t_probe_write(m, 'w');
	CHECK_EQ(sig, 0, "store into the first page (%s)", t_signame(sig));
	munmap(m, len);
	close(fd);

	/* The file grows outside while nobody has the region open. */
	ffd = open(f, O_RDWR);
	REQUIRE(ffd >= 0, "open the file");
	CHECK_OK(ftruncate(ffd, 2 * len), "grow the file outside to 8 pages");
	CHECK_EQ(pwrite(ffd, "grown", 5, 2 * len - 5), 5, "write its last bytes");
	close(ffd);
	fd = open(r, O_RDWR);
	REQUIRE(fd >= 0, "open the region again");
	m = mmap(NULL, 2 * len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	REQUIRE(m != MAP_FAILED, "map 8 pages");
	sig = t_probe_read(m + 2 * len - 1, &v);
	CHECK(sig == 0 && v == 'n',
	      "load from the last page the file grew by outside, mapped "
	      "without a stat (%s)",
	      t_signame(sig));
	munmap(m, 2 * len);
	close(fd);
	CHECK_OK(unlink(r), "unlink the region");
}

/*
 * Both modes: a change made to the file while nobody had the region open
 * shows at the next open - also when the change and the open follow the
 * last close at once (the close's release may still be on its way to the
 * daemon). Odd rounds also map the region before closing it.
 */
static void test_outside_change_next_open(void)
{
	char r[4096], f[4096];
	size_t len = 2 * ps;
	int fd, ffd, i, stale_read = 0, stale_map = 0, rounds = 1000;
	struct stat st;
	char *m;

	rpath(r, "reopened");
	fpath(f, "reopened.dat");
	t_fill(expect, len, 7);
	new_file(f, len);
	new_region(r);
	CHECK_OK(bind_to(r, f), "bind");
	ffd = open(f, O_RDWR);
	REQUIRE(ffd >= 0, "open the file");
	for (i = 0; i < rounds; i++) {
		char want[16];

		/* the region's pages get cached (read, maybe mapped), then everyone closes */
		fd = open(r, O_RDWR);
		REQUIRE(fd >= 0, "open the region");
		REQUIRE(fstat(fd, &st) == 0 && st.st_size == (off_t)len, "fstat the region");
		REQUIRE(pread(fd, got, len, 0) == (ssize_t)len, "read the region");
		if (i % 2) {
			m = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
			REQUIRE(m != MAP_FAILED, "map the region");
			(void)*(volatile char *)(m + ps);
			munmap(m, len);
		}
		close(fd);

		snprintf(want, sizeof(want), "round-%04d", i);
		REQUIRE(pwrite(ffd, want, 10, 0) == 10 && pwrite(ffd, want, 10, ps) == 10,
			"write the file outside the mount");
		fd = open(r, O_RDONLY);
		REQUIRE(fd >= 0, "open the region again");
		REQUIRE(fstat(fd, &st) == 0 && st.st_size == (off_t)len, "fstat the region");
		if (pread(fd, got, 10, 0) != 10 || memcmp(got, want, 10) != 0)
			stale_read++;
		m = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
		REQUIRE(m != MAP_FAILED, "map the region again");
		if (memcmp(m + ps, want, 10) != 0)
			stale_map++;
		munmap(m, len);
		close(fd);
	}
	CHECK_EQ(stale_read, 0, "%d rounds of close, change outside, open: stale read()s", rounds);
	CHECK_EQ(stale_map, 0, "%d rounds of close, change outside, open: stale mappings", rounds);
	close(ffd);
	CHECK_OK(unlink(r), "unlink the region");
}

/* Size and times are never cached: stat shows outside changes at once. */
static void test_stat_sees_outside(void)
{
	char r[4096], f[4096];
	struct timespec ts[2] = {{1234567, 0}, {7654321, 0}};
	struct stat st;
	int fd, ffd;

	rpath(r, "statted");
	fpath(f, "statted.dat");
	t_fill(expect, ps, 8);
	new_file(f, ps);
	new_region(r);
	CHECK_OK(bind_to(r, f), "bind");
	CHECK_EQ(size_of(r), ps, "stat: the file's size");
	ffd = open(f, O_RDWR);
	REQUIRE(ffd >= 0, "open the file");
	CHECK_OK(ftruncate(ffd, 5 * ps + 3), "grow the file outside");
	CHECK_EQ(size_of(r), 5 * ps + 3, "stat of the region shows the outside growth at once");
	CHECK_OK(ftruncate(ffd, 7), "shrink the file outside");
	CHECK_EQ(size_of(r), 7, "stat of the region shows the outside shrink at once");
	CHECK_OK(futimens(ffd, ts), "set the file's times outside");
	CHECK(stat(r, &st) == 0 && st.st_mtim.tv_sec == 7654321,
	      "stat of the region shows the file's new mtime at once");

	fd = open(r, O_RDWR);
	REQUIRE(fd >= 0, "open the region");
	CHECK_OK(ftruncate(ffd, 3 * ps), "grow the file outside while the region is open");
	CHECK(fstat(fd, &st) == 0 && st.st_size == 3 * ps,
	      "fstat of the open region shows the outside growth at once");
	CHECK(pread(fd, got, ps, 2 * ps) == ps && t_first_nonzero(got, ps) == -1,
	      "read() of the open region reaches the grown part (zeros)");
	close(fd);
	close(ffd);
	CHECK_OK(unlink(r), "unlink the region");
}

/* ---------------------------------------------------------- growth */

static void test_growth(void)
{
	char r[4096], f[4096];
	uint64_t used0;
	size_t len = 8 * ps;
	struct stat st;
	char *m;
	int fd;

	rpath(r, "grown");
	fpath(f, "grown.dat");
	new_file(f, 0);
	new_region(r);
	CHECK_OK(bind_to(r, f), "bind an empty file");
	fd = open(r, O_RDWR);
	REQUIRE(fd >= 0, "open");
	used0 = t_fs_used(mnt);

	CHECK_OK(ftruncate(fd, len), "ftruncate the region to 8 pages");
	CHECK_EQ(size_of(f), (long)len, "the file grew");
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	REQUIRE(m != MAP_FAILED, "map the grown region");
	CHECK_EQ(t_first_nonzero(m, len), -1, "the grown region reads as zeros");
	t_fill(m, len, 9);
	t_fill(expect, len, 9);
	CHECK_OK(msync(m, len, MS_SYNC), "msync");
	check_clean(f, "grown+msync");
	check_file(f, len, "grown+msync");
	munmap(m, len);

	/* A write past the end grows the file; the gap reads as zeros. */
	CHECK_EQ(pwrite(fd, "tail", 4, 12 * ps), 4, "write() past the end");
	memset(expect + len, 0, 4 * ps);
	memcpy(expect + 12 * ps, "tail", 4);
	CHECK_OK(fdatasync(fd), "fdatasync");
	check_file(f, 12 * ps + 4, "write past the end");
	CHECK(fstat(fd, &st) == 0 && st.st_size == 12 * ps + 4,
	      "fstat of the region after the write");

	CHECK_OK(ftruncate(fd, 2 * ps + 1), "shrink the region");
	CHECK_OK(fsync(fd), "fsync");
	check_file(f, 2 * ps + 1, "shrunk");

	/* Not counted in size=: grow far past it; df does not move. */
	if (mount_size) {
		uint64_t big = 4 * mount_size;

		CHECK_OK(ftruncate(fd, big), "grow the region to 4x size=");
		CHECK_EQ(size_of(f), (long)big, "the file has that size");
		m = mmap(NULL, big, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (CHECK(m != MAP_FAILED, "map 4x size=")) {
			t_catch_faults();
			CHECK_EQ(t_probe_write(m + big - 1, 'E'), 0,
				 "store at the last byte (no SIGBUS)");
			CHECK_EQ(t_probe_write(m + 3 * mount_size, 'M'), 0,
				 "store at 3x size= (no SIGBUS)");
			CHECK_OK(msync(m, big, MS_SYNC), "msync");
			munmap(m, big);
		}
		CHECK(pread(fd, got, 1, big - 1) == 1 && got[0] == 'E',
		      "read() the last byte back");
		CHECK_OK(fallocate(fd, 0, 0, big + mount_size), "fallocate past 4x size=");
		CHECK_EQ(size_of(f), (long)(big + mount_size), "fallocate grew the file");
		CHECK_EQ(t_fs_used(mnt), used0, "df: the mount's used bytes did not change");
		CHECK_OK(ftruncate(fd, 10), "shrink again");
		CHECK_EQ(size_of(f), 10, "the file shrank");
	}
	close(fd);
	CHECK_OK(unlink(r), "unlink the region");
	CHECK_EQ(size_of(f), mount_size ? 10 : 2 * ps + 1, "the file stays with its size");
}

/* ---------------------------------------------------------- unlink */

static void test_unlink(void)
{
	char r[4096], f[4096], r2[4096], f2[4096];
	size_t len = 2 * ps;
	struct stat st;
	char *m;
	int fd;

	rpath(r, "unlinked");
	fpath(f, "unlinked.dat");
	t_fill(expect, len, 10);
	new_file(f, len);
	new_region(r);
	CHECK_OK(bind_to(r, f), "bind");
	fd = open(r, O_RDWR);
	REQUIRE(fd >= 0, "open");
	CHECK(fstat(fd, &st) == 0 && st.st_size == (off_t)len, "fstat: the file's size");
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	REQUIRE(m != MAP_FAILED, "map");
	CHECK_OK(unlink(r), "unlink while open and mapped");
	CHECK_ERRNO(stat(r, &st), ENOENT, "the name is gone");
	CHECK_EQ(t_verify(m, len, 10), -1, "the mapping still shows the file (first bad byte)");
	t_fill(m, ps, 11);
	t_fill(expect, ps, 11);
	CHECK_OK(msync(m, len, MS_SYNC), "msync after the unlink");
	check_clean(f, "msync after unlink");
	check_file(f, len, "msync after unlink");
	memcpy(expect + ps, "via-write", 9);
	CHECK_EQ(pwrite(fd, "via-write", 9, ps), 9, "write() after the unlink");
	CHECK_OK(fsync(fd), "fsync after the unlink");
	check_file(f, len, "write after unlink");
	munmap(m, len);
	close(fd);
	CHECK_EQ(file_diff(f, len), -1, "the file keeps its data once the region is gone");

	/* Unlinked with nobody holding it: freed at once, the file stays. */
	rpath(r2, "unlinked2");
	fpath(f2, "unlinked2.dat");
	new_file(f2, len);
	new_region(r2);
	CHECK_OK(bind_to(r2, f2), "bind");
	CHECK_OK(unlink(r2), "unlink");
	CHECK_EQ(file_diff(f2, len), -1, "the file stays with its data");
	/* ...and can be bound again to a new region. */
	new_region(r2);
	CHECK_OK(bind_to(r2, f2), "bind the same file to a new region");
	CHECK_EQ(size_of(r2), (long)len, "the new region shows it");
	CHECK_OK(unlink(r2), "unlink");
}

/* --------------------------------------------------- binding errors */

static void test_bind_errors(void)
{
	char r[4096], f[4096], f2[4096];
	char v[4096];
	ssize_t n;
	char *m;
	int fd;

	fpath(f, "err.dat");
	fpath(f2, "err2.dat");
	t_fill(expect, ps, 12);
	new_file(f, ps);
	new_file(f2, 0);

	/* open */
	rpath(r, "busy-open");
	new_region(r);
	fd = open(r, O_RDONLY);
	REQUIRE(fd >= 0, "open");
	CHECK_ERRNO(bind_to(r, f), EBUSY, "bind a region that is open");
	close(fd);
	CHECK_OK(unlink(r), "unlink");

	/* mapped only: the fd is closed, the mapping holds the open file */
	rpath(r, "busy-mapped");
	new_region(r);
	fd = open(r, O_RDWR);
	REQUIRE(fd >= 0, "open");
	m = mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	REQUIRE(m != MAP_FAILED, "map an empty region");
	close(fd);
	CHECK_ERRNO(bind_to(r, f), EBUSY, "bind a region that is only mapped");
	CHECK_EQ(size_of(r), 0, "the failed bind left the region empty");
	CHECK_ERRNO(getxattr(r, XATTR_BACKING, v, sizeof(v)), ENODATA, "and unbound");
	munmap(m, ps);
	CHECK_OK(unlink(r), "unlink");

	/* not empty */
	rpath(r, "not-empty");
	fd = open(r, O_RDWR | O_CREAT | O_EXCL, 0644);
	REQUIRE(fd >= 0, "create");
	CHECK_EQ(write(fd, "x", 1), 1, "write one byte");
	close(fd);
	CHECK_ERRNO(bind_to(r, f), ENOTEMPTY, "bind a region that is not empty");
	fd = open(r, O_RDONLY);
	CHECK(fd >= 0 && read(fd, got, 2) == 1 && got[0] == 'x', "the region kept its byte");
	if (fd >= 0)
		close(fd);
	CHECK_OK(unlink(r), "unlink");

	/* created with open(O_CREAT) and closed: bindable at once, every time (the
	 * release of the close may still be on its way to the daemon) */
	{
		int busy = 0, other = 0, i;

		for (i = 0; i < 1000; i++) {
			fd = open(r, O_RDWR | O_CREAT | O_EXCL, 0644);
			REQUIRE(fd >= 0, "create");
			close(fd);
			if (bind_to(r, f2) < 0) {
				if (errno == EBUSY)
					busy++;
				else
					other++;
			}
			REQUIRE(unlink(r) == 0, "unlink");
		}
		CHECK(busy == 0 && other == 0,
		      "1000 rounds of create, close, bind at once: "
		      "%d EBUSY, %d other errors",
		      busy, other);
	}

	/* already bound */
	rpath(r, "bound-twice");
	new_region(r);
	CHECK_OK(bind_to(r, f), "bind");
	CHECK_ERRNO(bind_to(r, f2), EEXIST, "bind a bound region to another file");
	CHECK_ERRNO(bind_to(r, f), EEXIST, "bind a bound region to the same file");
	n = getxattr(r, XATTR_BACKING, v, sizeof(v));
	CHECK(n == (ssize_t)strlen(f) && memcmp(v, f, n) == 0, "still bound to the first file");
	CHECK_EQ(size_of(r), ps, "still shows the first file");
	CHECK_OK(unlink(r), "unlink");
	CHECK_EQ(file_diff(f, ps), -1, "the file was not touched");
	CHECK_EQ(size_of(f2), 0, "the other file was not touched");
}

int main(int argc, char **argv)
{
	mnt = t_init(argc, argv, 2, "MOUNTPOINT FILEDIR [SIZE_BYTES]");
	fdir = argv[2];
	mount_size = argc > 3 ? strtoull(argv[3], NULL, 0) : 0;
	ps = t_page();
	REQUIRE(ps <= 4096, "page size %ld", ps);
	if (t_is_tmpfs()) {
		printf("# file-backed regions are a regionfs feature: nothing to check on tmpfs\n");
		return 77;
	}
	passthrough = is_passthrough();
	printf("# datapath: %s\n", passthrough ? "passthrough" : "cache");

	test_write_fsync();
	test_mmap_msync();
	test_coherent_while_mapped();
	test_map_after_bind();
	test_outside_change_next_open();
	test_stat_sees_outside();
	test_growth();
	test_unlink();
	test_bind_errors();
	return t_finish();
}
