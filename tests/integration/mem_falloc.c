/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fallocate(2) on regions, as on tmpfs: PUNCH_HOLE|KEEP_SIZE zeroes the
 * range (seen by read() and by existing mappings, size unchanged, the pages
 * stay usable); KEEP_SIZE past the end allocates without growing; mode 0
 * grows; ZERO_RANGE, COLLAPSE_RANGE, INSERT_RANGE and PUNCH_HOLE without
 * KEEP_SIZE -> EOPNOTSUPP; bad ranges -> EINVAL. On regionfs a punched
 * range stays reserved (a later fault there can never fail).
 *
 * Usage: mem_falloc DIR
 */
#include "rfstest.h"

#include <linux/falloc.h>

int main(int argc, char **argv)
{
	const char *dir = t_init(argc, argv, 1, "DIR");
	long ps = t_page();
	static char buf[65536 * 20];
	char path[4096];
	uint64_t used0;
	struct stat st;
	char *m;
	int fd, r;

	t_catch_faults();
	t_path(path, sizeof(path), dir, "falloc");
	fd = CHECK_OK(open(path, O_RDWR | O_CREAT | O_EXCL, 0600), "create");
	REQUIRE(fd >= 0, "create");
	t_fill(buf, 16 * ps, 5);
	CHECK_EQ(pwrite(fd, buf, 16 * ps, 0), 16 * ps, "write 16 pages");
	m = mmap(NULL, 32 * ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	REQUIRE(m != MAP_FAILED, "mmap");
	CHECK_EQ(t_verify(m, 16 * ps, 5), -1, "mapping shows the data (first bad byte)");

	/* punch a hole of two whole pages */
	used0 = t_fs_used(dir);
	CHECK_OK(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 4 * ps, 2 * ps),
		 "PUNCH_HOLE|KEEP_SIZE pages 4-5");
	CHECK_OK(fstat(fd, &st), "fstat");
	CHECK_EQ(st.st_size, 16 * ps, "size unchanged by the punch");
	CHECK_EQ(t_first_nonzero(m + 4 * ps, 2 * ps), -1, "punched pages read zero in the mapping (first nonzero)");
	CHECK(pread(fd, buf, 2 * ps, 4 * ps) == 2 * ps && t_first_nonzero(buf, 2 * ps) == -1,
	      "punched pages read zero through read()");
	t_fill(buf, 16 * ps, 5);
	CHECK(memcmp(m + 3 * ps, buf + 3 * ps, ps) == 0 && memcmp(m + 6 * ps, buf + 6 * ps, ps) == 0,
	      "pages around the hole intact");
	if (!t_is_tmpfs())
		CHECK_EQ(t_fs_used(dir), used0, "regionfs: the punched range stays reserved (statfs used)");
	r = t_probe_write(m + 4 * ps + 10, 'p');
	CHECK(r == 0, "store into a punched page works (%s)", t_signame(r));
	CHECK(pread(fd, buf, 1, 4 * ps + 10) == 1 && buf[0] == 'p', "and is visible to read()");

	/* unaligned punch: partial pages are zeroed, the rest kept */
	t_fill(buf, 16 * ps, 5);
	CHECK_OK(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 8 * ps + 100, ps + 500),
		 "unaligned PUNCH_HOLE");
	CHECK(m[8 * ps + 99] == buf[8 * ps + 99] && m[9 * ps + 600] == buf[9 * ps + 600],
	      "bytes just outside the unaligned hole kept");
	CHECK_EQ(t_first_nonzero(m + 8 * ps + 100, ps + 500), -1, "unaligned hole reads zero (first nonzero)");

	/* KEEP_SIZE past the end: allocated, size unchanged */
	used0 = t_fs_used(dir);
	CHECK_OK(fallocate(fd, FALLOC_FL_KEEP_SIZE, 16 * ps, 4 * ps), "KEEP_SIZE 4 pages past the end");
	CHECK_OK(fstat(fd, &st), "fstat");
	CHECK_EQ(st.st_size, 16 * ps, "size unchanged by KEEP_SIZE");
	CHECK(st.st_blocks * 512 >= 18 * ps, "blocks include the preallocation (%ld bytes)", (long)st.st_blocks * 512);
	CHECK_EQ(t_fs_used(dir), used0 + 4 * ps, "statfs used grows by the preallocation");
	r = t_probe_read(m + 17 * ps, NULL);
	CHECK(r == SIGBUS, "preallocated page past EOF still faults (%s)", t_signame(r));

	/* mode 0 grows */
	CHECK_OK(fallocate(fd, 0, 16 * ps, 8 * ps), "fallocate mode 0 grows to 24 pages");
	CHECK_OK(fstat(fd, &st), "fstat");
	CHECK_EQ(st.st_size, 24 * ps, "size after fallocate mode 0");
	r = t_probe_read(m + 23 * ps, NULL);
	CHECK(r == 0, "grown page mapped (%s)", t_signame(r));
	CHECK_EQ(t_first_nonzero(m + 16 * ps, 8 * ps), -1, "grown range reads zero (first nonzero)");
	CHECK_OK(posix_fallocate(fd, 0, 26 * ps) == 0 ? 0 : -1, "posix_fallocate to 26 pages");
	CHECK_OK(fstat(fd, &st), "fstat");
	CHECK_EQ(st.st_size, 26 * ps, "size after posix_fallocate");

	/* unsupported modes and bad ranges */
	CHECK_ERRNO(fallocate(fd, FALLOC_FL_ZERO_RANGE, 0, ps), EOPNOTSUPP, "ZERO_RANGE");
	CHECK_ERRNO(fallocate(fd, FALLOC_FL_COLLAPSE_RANGE, 0, ps), EOPNOTSUPP, "COLLAPSE_RANGE");
	CHECK_ERRNO(fallocate(fd, FALLOC_FL_INSERT_RANGE, 0, ps), EOPNOTSUPP, "INSERT_RANGE");
	CHECK_ERRNO(fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, ps), EOPNOTSUPP, "PUNCH_HOLE without KEEP_SIZE");
	CHECK_ERRNO(fallocate(fd, 0, 0, 0), EINVAL, "length 0");
	CHECK_ERRNO(fallocate(fd, 0, -1, ps), EINVAL, "negative offset");
	CHECK_OK(fstat(fd, &st), "fstat");
	CHECK_EQ(st.st_size, 26 * ps, "failed calls changed nothing");

	munmap(m, 32 * ps);
	close(fd);
	CHECK_OK(unlink(path), "unlink");
	return t_finish();
}
