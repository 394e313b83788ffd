/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Writes that start past a region's end (a hole before the written bytes),
 * in each data path as the README documents them:
 *  - cache: the daemon performs the write and reserves the hole like a
 *    truncate would; a region past the whole size= is EFBIG; touching every
 *    page of such regions on a full mount never SIGBUSes.
 *  - passthrough: the kernel performs the write without the daemon, exactly
 *    as on tmpfs: it succeeds, the written bytes are allocated, the hole is
 *    not reserved (free space drops by the written page only), and the
 *    region may be larger than size= (sparse). Regions sized by ftruncate
 *    keep the full guarantee.
 *
 * regionfs only (tmpfs: exit 77).
 *
 * Usage: mem_sparse DIR SIZE_BYTES    (DIR: the mount root)
 */
#include "rfstest.h"

#include <sys/xattr.h>

static int touch_all(int fd, off_t len)
{
	char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	long ps = t_page();
	off_t off;
	int sig = 0;

	if (m == MAP_FAILED)
		return -1;
	for (off = 0; off < len && !sig; off += ps)
		sig = t_probe_write(m + off, 1);
	munmap(m, len);
	return sig;
}

static bool is_passthrough(const char *dir)
{
	char v[32] = "";

	return getxattr(dir, "user.regionfs.datapath", v, sizeof(v) - 1) > 0 &&
	       strcmp(v, "passthrough") == 0;
}

static int check_passthrough(const char *dir, uint64_t size)
{
	long ps = t_page();
	char pa[4096], pb[4096];
	struct stat st;
	char byte = 0;
	int a, b, sig;

	a = open(t_path(pa, sizeof(pa), dir, "a"), O_RDWR | O_CREAT | O_EXCL, 0600);
	b = open(t_path(pb, sizeof(pb), dir, "b"), O_RDWR | O_CREAT | O_EXCL, 0600);
	REQUIRE(a >= 0 && b >= 0, "create 2 regions");

	CHECK_EQ(pwrite(a, "x", 1, 1LL << 40), 1, "passthrough: a write at 1 TiB succeeds, as on tmpfs");
	CHECK_OK(fstat(a, &st), "fstat");
	CHECK_EQ(st.st_size, (1LL << 40) + 1, "the region is sparse, larger than size=");
	CHECK_EQ(pread(a, &byte, 1, 1LL << 40), 1, "read the byte back");
	CHECK_EQ(byte, 'x', "the written byte is there");
	CHECK_EQ(t_fs_free(dir), size - ps, "only the written page is allocated (hole not reserved)");

	CHECK_OK(ftruncate(b, size - ps), "ftruncate another region to all the rest");
	CHECK_EQ(t_fs_free(dir), 0, "mount full: the ftruncate reserved its pages");
	sig = touch_all(b, size - ps);
	CHECK(sig == 0, "store to every page of the ftruncate-sized region: no fault (%s)",
	      t_signame(sig));
	CHECK_ERRNO(pwrite(b, "z", 1, size), ENOSPC, "a write past the end when full: ENOSPC");

	close(a);
	close(b);
	unlink(pa);
	unlink(pb);
	return t_finish();
}

int main(int argc, char **argv)
{
	const char *dir = t_init(argc, argv, 2, "DIR SIZE_BYTES");
	uint64_t size = strtoull(argv[2], NULL, 0);
	long ps = t_page();
	char pa[4096], pb[4096], pc[4096], pd[4096];
	struct stat st;
	int a, b, c, d, sig;

	if (t_is_tmpfs()) {
		printf("# tmpfs does not reserve holes: nothing to check\n");
		return 77;
	}
	t_catch_faults();
	if (is_passthrough(dir))
		return check_passthrough(dir, size);
	a = open(t_path(pa, sizeof(pa), dir, "a"), O_RDWR | O_CREAT | O_EXCL, 0600);
	b = open(t_path(pb, sizeof(pb), dir, "b"), O_RDWR | O_CREAT | O_EXCL, 0600);
	c = open(t_path(pc, sizeof(pc), dir, "c"), O_RDWR | O_CREAT | O_EXCL, 0600);
	d = open(t_path(pd, sizeof(pd), dir, "d"), O_RDWR | O_CREAT | O_EXCL, 0600);
	REQUIRE(a >= 0 && b >= 0 && c >= 0 && d >= 0, "create 4 regions");

	CHECK_ERRNO(pwrite(a, "x", 1, size + ps), EFBIG, "write one byte past the whole size");
	CHECK_ERRNO(pwrite(a, "x", 1, 1LL << 40), EFBIG, "write one byte at 1 TiB");
	CHECK_OK(fstat(a, &st), "fstat");
	CHECK_EQ(st.st_size, 0, "failed EFBIG writes left the region empty");
	CHECK_EQ(t_fs_free(dir), size, "and reserved nothing (statfs free)");

	CHECK_EQ(pwrite(b, "y", 1, size / 2 - 1), 1, "write one byte at size/2 - 1 of an empty region");
	CHECK_OK(fstat(b, &st), "fstat");
	CHECK_EQ(st.st_size, size / 2, "region is size/2 long");
	CHECK_EQ(t_fs_free(dir), size - size / 2, "the hole before the byte is reserved (statfs free)");
	CHECK_OK(ftruncate(c, size - size / 2), "ftruncate another region to the rest");
	CHECK_EQ(t_fs_free(dir), 0, "mount full");
	CHECK_ERRNO(ftruncate(a, ps), ENOSPC, "no page left for a third region");
	CHECK_ERRNO(pwrite(d, "z", 1, 10 * ps), ENOSPC, "write past the end of a region when full");
	CHECK_OK(fstat(d, &st), "fstat");
	CHECK_EQ(st.st_size, 0, "the failed write left that region empty");

	sig = touch_all(b, size / 2);
	CHECK(sig == 0, "store to every page of the written-past-end region: no fault (%s)", t_signame(sig));
	sig = touch_all(c, size - size / 2);
	CHECK(sig == 0, "store to every page of the truncated region: no fault (%s)", t_signame(sig));
	CHECK_OK(fsync(b), "fsync");
	CHECK_OK(fsync(c), "fsync");

	close(a);
	close(b);
	close(c);
	close(d);
	unlink(pa);
	unlink(pb);
	unlink(pc);
	unlink(pd);
	return t_finish();
}
