/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Coherence between mmap and read()/write() through two different fds of
 * the same region, both directions, without msync: write() is visible in
 * mappings at once, stores in a mapping are visible to read() at once,
 * whole-file and byte-sized, random interleavings; writes past the end grow
 * the region and the new part is mappable; data persists after close.
 *
 * Usage: mem_coherence DIR
 */
#include "rfstest.h"

#define NPAGES 8

static uint32_t rnd_state = 12345;

static uint32_t rnd(void)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return rnd_state >> 8;
}

int main(int argc, char **argv)
{
	const char *dir = t_init(argc, argv, 1, "DIR");
	long ps = t_page();
	size_t len = NPAGES * ps;
	static char buf[NPAGES * 65536 + 4096], buf2[4096];
	char path[4096];
	char *m1, *m2, *m3;
	int fd1, fd2, fd3, i, bad;
	struct stat st;
	long off;

	t_path(path, sizeof(path), dir, "coherent");
	fd1 = CHECK_OK(open(path, O_RDWR | O_CREAT | O_EXCL, 0600), "create (fd 1)");
	fd2 = CHECK_OK(open(path, O_RDWR), "open again (fd 2)");
	REQUIRE(fd1 >= 0 && fd2 >= 0, "open");
	CHECK_OK(ftruncate(fd1, len), "ftruncate to %d pages", NPAGES);
	m1 = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd1, 0);
	m2 = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd2, 0);
	REQUIRE(m1 != MAP_FAILED && m2 != MAP_FAILED, "mmap both fds");
	CHECK(t_first_nonzero(m1, len) == -1, "a fresh region maps as zeros");

	/* write() -> mappings */
	CHECK_EQ(pwrite(fd2, "write-to-map", 12, ps + 10), 12, "pwrite through fd 2");
	CHECK(memcmp(m1 + ps + 10, "write-to-map", 12) == 0, "pwrite on fd 2 visible in the mapping of fd 1");
	CHECK(memcmp(m2 + ps + 10, "write-to-map", 12) == 0, "pwrite on fd 2 visible in the mapping of fd 2");

	/* mapping -> read() */
	memcpy(m1 + 3 * ps + 100, "map-to-read", 11);
	memset(buf2, 0, sizeof(buf2));
	CHECK_EQ(pread(fd2, buf2, 11, 3 * ps + 100), 11, "pread through fd 2");
	CHECK(memcmp(buf2, "map-to-read", 11) == 0, "store in mapping 1 visible to pread on fd 2");
	CHECK(memcmp(m2 + 3 * ps + 100, "map-to-read", 11) == 0, "store in mapping 1 visible in mapping 2");

	/* whole file, both directions */
	t_fill(m1, len, 1);
	CHECK_EQ(pread(fd2, buf, len, 0), (long)len, "pread the whole region through fd 2");
	CHECK_EQ(t_verify(buf, len, 1), -1, "pread sees every byte stored through mapping 1 (first bad byte)");
	t_fill(buf, len, 2);
	CHECK_EQ(pwrite(fd2, buf, len, 0), (long)len, "pwrite the whole region through fd 2");
	CHECK_EQ(t_verify(m1, len, 2), -1, "mapping 1 sees every byte written through fd 2 (first bad byte)");

	/* random interleaving of small writes in both directions */
	bad = 0;
	for (i = 0; i < 2000; i++) {
		unsigned char v = (unsigned char)rnd(), got = 0;

		off = (long)(rnd() % (len - 8));
		if (i & 1) {
			if (pwrite(fd2, &v, 1, off) != 1 || m1[off] != (char)v)
				bad++;
		} else {
			m1[off] = (char)v;
			if (pread(fd2, &got, 1, off) != 1 || got != v)
				bad++;
		}
	}
	CHECK_EQ(bad, 0, "2000 random byte writes/stores alternating: mismatches");

	/* a read-only fd and mapping see the same data */
	fd3 = CHECK_OK(open(path, O_RDONLY), "open read-only (fd 3)");
	m3 = mmap(NULL, len, PROT_READ, MAP_SHARED, fd3, 0);
	REQUIRE(m3 != MAP_FAILED, "mmap read-only");
	CHECK(memcmp(m3, m1, len) == 0, "read-only mapping equals mapping 1");
	m1[5] = 'Q';
	CHECK(m3[5] == 'Q', "read-only mapping sees a later store");
	CHECK_ERRNO(write(fd3, "x", 1), EBADF, "write to an O_RDONLY fd");

	/* writes past the end grow the region; the new part can be mapped */
	CHECK_EQ(pwrite(fd2, "grown", 5, len + 5), 5, "pwrite past the end");
	CHECK_OK(fstat(fd1, &st), "fstat fd 1");
	CHECK_EQ(st.st_size, (long)len + 10, "fd 1 sees the new size");
	{
		char *big = mmap(NULL, len + ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd1, 0);

		REQUIRE(big != MAP_FAILED, "mmap the grown region");
		CHECK(memcmp(big + len + 5, "grown", 5) == 0, "the grown part is mapped with the data");
		CHECK(t_first_nonzero(big + len, 5) == -1, "gap before the written bytes is zero");
		memcpy(big + len + 100, "tail", 4);
		memset(buf2, 0, sizeof(buf2));
		CHECK_EQ(pread(fd2, buf2, 4, len + 100), 0, "pread past EOF inside the last page returns 0");
		munmap(big, len + ps);
	}

	/* the mapping stays coherent after its fd is closed */
	CHECK_OK(close(fd1), "close fd 1 (mapping 1 stays)");
	memcpy(m1 + 2 * ps, "after-close", 11);
	memset(buf2, 0, sizeof(buf2));
	CHECK_EQ(pread(fd2, buf2, 11, 2 * ps), 11, "pread");
	CHECK(memcmp(buf2, "after-close", 11) == 0, "store through a mapping whose fd is closed is visible to read()");

	/* large-ish I/O sizes: 16 pages at an unaligned offset */
	CHECK_OK(ftruncate(fd2, 64 * ps), "ftruncate to 64 pages");
	munmap(m2, len);
	m2 = mmap(NULL, 64 * ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd2, 0);
	REQUIRE(m2 != MAP_FAILED, "mmap 64 pages");
	t_fill(buf, 16 * ps, 3);
	CHECK_EQ(pwrite(fd2, buf, 16 * ps, 20 * ps + 123), 16 * ps, "pwrite 16 pages at an unaligned offset");
	CHECK_EQ(t_verify(m2 + 20 * ps + 123, 16 * ps, 3), -1, "mapping sees the unaligned 16-page write (first bad byte)");
	t_fill(m2 + 40 * ps + 7, 16 * ps, 4);
	CHECK_EQ(pread(fd2, buf, 16 * ps, 40 * ps + 7), 16 * ps, "pread 16 pages at an unaligned offset");
	CHECK_EQ(t_verify(buf, 16 * ps, 4), -1, "pread sees the unaligned 16-page store (first bad byte)");

	/* O_DIRECT I/O is coherent with mappings too */
	{
		static char dbuf[65536] __attribute__((aligned(65536)));
		int dfd = open(path, O_RDWR | O_DIRECT);

		CHECK(dfd >= 0, "open O_DIRECT (%s)", dfd < 0 ? t_errname(errno) : "ok");
		if (dfd >= 0) {
			memset(dbuf, 'D', ps);
			CHECK_EQ(pwrite(dfd, dbuf, ps, 58 * ps), ps, "O_DIRECT pwrite of a page");
			CHECK(m2[58 * ps] == 'D' && m2[59 * ps - 1] == 'D', "mapping sees the O_DIRECT write");
			memcpy(m2 + 60 * ps, "mapped-for-direct", 17);
			memset(dbuf, 0, ps);
			CHECK_EQ(pread(dfd, dbuf, ps, 60 * ps), ps, "O_DIRECT pread of a page");
			CHECK(memcmp(dbuf, "mapped-for-direct", 17) == 0, "O_DIRECT read sees a store in the mapping");
			close(dfd);
		}
	}

	munmap(m1, len);
	munmap(m2, 64 * ps);
	munmap(m3, len);
	close(fd2);
	close(fd3);

	/* persistence after every fd and mapping is gone */
	fd1 = CHECK_OK(open(path, O_RDONLY), "reopen");
	CHECK_EQ(pread(fd1, buf, 16 * ps, 40 * ps + 7), 16 * ps, "pread after reopen");
	CHECK_EQ(t_verify(buf, 16 * ps, 4), -1, "data persists after close (first bad byte)");
	close(fd1);
	CHECK_OK(unlink(path), "unlink");
	return t_finish();
}
