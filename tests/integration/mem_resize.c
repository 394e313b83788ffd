/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Resizing while mapped: pages past EOF fault with SIGBUS; after growing
 * (ftruncate, write past the end, or another process's ftruncate) the new
 * pages are usable and zero; after shrinking, pages past the new end SIGBUS
 * (reads and writes, in every mapping), data before the end is kept, the
 * tail of the last page reads zero, and growing again shows zeros, never
 * the old data.
 *
 * Usage: mem_resize DIR
 */
#include "rfstest.h"

#define MAPPAGES 16

static char *m;
static long ps;

/* Expect page pg of the mapping to fault (want_sig != 0) or not. */
static void probe(int pg, int want_sig, const char *when)
{
	char v = 0;
	int r = t_probe_read(m + (long)pg * ps, &v);

	if (want_sig)
		CHECK(r == SIGBUS, "%s: read of page %d -> SIGBUS (got %s)", when, pg, t_signame(r));
	else
		CHECK(r == 0, "%s: read of page %d works (got %s)", when, pg, t_signame(r));
}

static void probe_w(int pg, int want_sig, const char *when)
{
	int r = t_probe_write(m + (long)pg * ps + 1, 'w');

	if (want_sig)
		CHECK(r == SIGBUS, "%s: write to page %d -> SIGBUS (got %s)", when, pg, t_signame(r));
	else
		CHECK(r == 0, "%s: write to page %d works (got %s)", when, pg, t_signame(r));
}

/* ftruncate from another process (its own fd). */
static void resize_elsewhere(const char *path, off_t size)
{
	pid_t pid = t_fork();

	if (pid == 0) {
		int fd = open(path, O_RDWR);

		CHECK_OK(fd >= 0 ? ftruncate(fd, size) : -1, "ftruncate to %ld bytes in another process",
			 (long)size);
		t_child_exit();
	}
	t_wait_child(pid, "resizing process");
}

int main(int argc, char **argv)
{
	const char *dir = t_init(argc, argv, 1, "DIR");
	char path[4096], v;
	struct stat st;
	char *m2;
	int fd, fd2, i, bad;

	ps = t_page();
	t_catch_faults();
	t_path(path, sizeof(path), dir, "resize");
	fd = CHECK_OK(open(path, O_RDWR | O_CREAT | O_EXCL, 0600), "create");
	REQUIRE(fd >= 0, "create");
	CHECK_OK(ftruncate(fd, 4 * ps), "ftruncate to 4 pages");
	m = mmap(NULL, MAPPAGES * ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	REQUIRE(m != MAP_FAILED, "mmap %d pages of a 4-page region", MAPPAGES);
	t_fill(m, 4 * ps, 1);

	probe(3, 0, "4 pages");
	probe(4, 1, "4 pages");
	probe(15, 1, "4 pages");
	probe_w(5, 1, "4 pages");

	/* grow with ftruncate */
	CHECK_OK(ftruncate(fd, MAPPAGES * ps), "grow to %d pages while mapped", MAPPAGES);
	probe(4, 0, "grown");
	probe(15, 0, "grown");
	CHECK_EQ(t_first_nonzero(m + 4 * ps, (MAPPAGES - 4) * ps), -1, "grown pages are zero (first nonzero)");
	CHECK_EQ(t_verify(m, 4 * ps, 1), -1, "old pages kept after grow (first bad byte)");
	bad = 0;
	for (i = 4; i < MAPPAGES; i++)
		if (t_probe_write(m + i * ps + 7, (char)i) != 0)
			bad++;
	CHECK_EQ(bad, 0, "stores to every grown page (faults)");
	CHECK(pread(fd, &v, 1, 9 * ps + 7) == 1 && v == 9, "stores to grown pages visible to read()");

	/* shrink to 2 pages + 100 bytes */
	memset(m + 2 * ps, 'T', ps);
	CHECK_OK(ftruncate(fd, 2 * ps + 100), "shrink to 2 pages + 100 bytes while mapped");
	CHECK_OK(fstat(fd, &st), "fstat");
	CHECK_EQ(st.st_size, 2 * ps + 100, "size after shrink");
	probe(3, 1, "shrunk");
	probe(15, 1, "shrunk");
	probe_w(3, 1, "shrunk");
	probe(2, 0, "shrunk");
	CHECK_EQ(t_verify(m, 2 * ps, 1), -1, "data before the new end kept (first bad byte)");
	CHECK(m[2 * ps] == 'T' && m[2 * ps + 99] == 'T', "data in the last partial page kept");
	CHECK_EQ(t_first_nonzero(m + 2 * ps + 100, ps - 100), -1, "tail of the last page past EOF reads zero");

	/* a second, independent mapping agrees */
	fd2 = CHECK_OK(open(path, O_RDWR), "open a second fd");
	m2 = mmap(NULL, MAPPAGES * ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd2, 0);
	REQUIRE(m2 != MAP_FAILED, "second mapping");
	{
		char *save = m;

		m = m2;
		probe(3, 1, "shrunk, second mapping");
		probe(1, 0, "shrunk, second mapping");
		m = save;
	}

	/* grow again: zeros, never the old data */
	CHECK_OK(ftruncate(fd, 8 * ps), "grow again to 8 pages");
	probe(7, 0, "regrown");
	CHECK_EQ(t_first_nonzero(m + 2 * ps + 100, 6 * ps - 100), -1,
		 "regrown range reads zero, old data gone (first nonzero)");

	/* grow by writing past the end through another fd */
	CHECK_OK(ftruncate(fd, ps), "shrink to 1 page");
	probe(1, 1, "1 page");
	CHECK_EQ(pwrite(fd2, "far", 3, 10 * ps), 3, "pwrite at page 10 through another fd");
	probe(10, 0, "grown by write");
	probe(5, 0, "grown by write");
	CHECK(memcmp(m + 10 * ps, "far", 3) == 0, "written data visible in the mapping");
	CHECK_EQ(t_first_nonzero(m + ps, 9 * ps), -1, "hole before it reads zero (first nonzero)");
	probe(11, 1, "grown by write");

	/* resize by another process */
	resize_elsewhere(path, 12 * ps);
	probe(11, 0, "grown by another process");
	probe_w(11, 0, "grown by another process");
	CHECK(m2[11 * ps + 1] == 'w', "both mappings see the store to the new page");
	resize_elsewhere(path, 2 * ps);
	probe(2, 1, "shrunk by another process");
	probe(1, 0, "shrunk by another process");

	/* shrink to zero: every page faults; the region still works afterwards */
	CHECK_OK(ftruncate(fd, 0), "shrink to 0");
	probe(0, 1, "size 0");
	CHECK_OK(ftruncate(fd, ps), "grow to 1 page");
	probe(0, 0, "size 1 page");
	CHECK_EQ(t_first_nonzero(m, ps), -1, "page 0 reads zero after 0 -> 1 page");

	munmap(m, MAPPAGES * ps);
	munmap(m2, MAPPAGES * ps);
	close(fd);
	close(fd2);
	CHECK_OK(unlink(path), "unlink");
	return t_finish();
}
