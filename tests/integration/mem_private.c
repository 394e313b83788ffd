/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * MAP_PRIVATE (copy-on-write, FILE_MAP_COPY): a private mapping sees the
 * file; writes by others to pages it has not written yet are visible (as on
 * tmpfs), whether the page was read before or never touched; its own
 * writes stay private (not in the file, not in shared mappings, not in other
 * processes) and later writes by others no longer show on those pages;
 * PROT_WRITE private mappings work on O_RDONLY fds, shared ones fail EACCES.
 *
 * Usage: mem_private DIR
 */
#include "rfstest.h"

#define NPAGES 4

int main(int argc, char **argv)
{
	const char *dir = t_init(argc, argv, 1, "DIR");
	long ps = t_page();
	size_t len = NPAGES * ps;
	static char page[65536];
	char path[4096], c;
	char *pm, *sm, *rom;
	int fd, fd2, rofd, i;
	pid_t pid;

	t_path(path, sizeof(path), dir, "private");
	fd = CHECK_OK(open(path, O_RDWR | O_CREAT | O_EXCL, 0600), "create");
	REQUIRE(fd >= 0, "create");
	for (i = 0; i < NPAGES; i++) {
		memset(page, 'A' + i, ps);
		REQUIRE(pwrite(fd, page, ps, i * ps) == ps, "fill page %d", i);
	}
	fd2 = CHECK_OK(open(path, O_RDWR), "second fd");
	pm = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	sm = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd2, 0);
	REQUIRE(pm != MAP_FAILED && sm != MAP_FAILED, "mmap private and shared");

	/* read pages 0..2 through the private mapping; page 3 stays untouched */
	CHECK(pm[0] == 'A' && pm[ps] == 'B' && pm[2 * ps + ps - 1] == 'C',
	      "private mapping shows the file");

	/* others' writes before the private touch are visible */
	CHECK_EQ(pwrite(fd2, "XXXX", 4, ps + 8), 4, "pwrite page 1 through another fd");
	CHECK(memcmp(pm + ps + 8, "XXXX", 4) == 0, "private mapping sees write() to a read-only-touched page");
	memcpy(sm + 3 * ps + 8, "YYYY", 4);
	CHECK(memcmp(pm + 3 * ps + 8, "YYYY", 4) == 0, "private mapping sees a shared store to an untouched page");

	/* private writes are private */
	memcpy(pm + 8, "PRIV", 4);
	CHECK(memcmp(pm + 8, "PRIV", 4) == 0, "private store reads back");
	CHECK(pread(fd2, page, 12, 0) == 12 && memcmp(page + 8, "AAAA", 4) == 0,
	      "private store not in the file (pread)");
	CHECK(memcmp(sm + 8, "AAAA", 4) == 0, "private store not in a shared mapping");
	pid = t_fork();
	if (pid == 0) {
		int cfd = open(path, O_RDONLY);
		char *cm = cfd >= 0 ? mmap(NULL, len, PROT_READ, MAP_SHARED, cfd, 0) : MAP_FAILED;

		REQUIRE(cm != MAP_FAILED, "open and map in another process");
		CHECK(memcmp(cm + 8, "AAAA", 4) == 0, "private store not visible to another process");
		/* fork copies the private page: the child sees its parent's copy */
		CHECK(memcmp(pm + 8, "PRIV", 4) == 0, "forked child sees the parent's private copy");
		memcpy(pm + 8, "KIDS", 4);
		t_child_exit();
	}
	t_wait_child(pid, "other process");
	CHECK(memcmp(pm + 8, "PRIV", 4) == 0, "child's store to its copy of the private page stays in the child");

	/* after the private write, others' writes to that page no longer show */
	memset(page, 'Z', 16);
	CHECK_EQ(pwrite(fd2, page, 16, 0), 16, "pwrite page 0 after the private store");
	CHECK(memcmp(pm + 8, "PRIV", 4) == 0 && pm[0] == 'A' && pm[12] == 'A',
	      "private copy of page 0 unaffected by later writes");
	CHECK(memcmp(sm, "ZZZZ", 4) == 0, "shared mapping sees the later write");
	/* pages not written privately still follow the file */
	memset(sm + 2 * ps, 'W', 4);
	CHECK(memcmp(pm + 2 * ps, "WWWW", 4) == 0, "private mapping still follows the file on other pages");

	/* private writable mappings of read-only fds */
	rofd = CHECK_OK(open(path, O_RDONLY), "open read-only");
	rom = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, rofd, 0);
	CHECK(rom != MAP_FAILED, "MAP_PRIVATE PROT_WRITE on an O_RDONLY fd");
	if (rom != MAP_FAILED) {
		rom[1] = 'r';
		CHECK(pread(fd2, &c, 1, 1) == 1 && c == 'Z', "store through it stays private");
		munmap(rom, len);
	}
	CHECK_ERRNO((long)mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, rofd, 0), EACCES,
		    "MAP_SHARED PROT_WRITE on an O_RDONLY fd");

	munmap(pm, len);
	munmap(sm, len);
	close(fd);
	close(fd2);
	close(rofd);
	CHECK_OK(unlink(path), "unlink");
	return t_finish();
}
