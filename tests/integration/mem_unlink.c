/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unlink while mapped and while open: the name goes at once (stat/open
 * ENOENT, readdir), the memory stays usable and shared through existing
 * mappings and fds (read, write, grow, new mappings), and a new region
 * under the same name is independent.
 *
 * Usage: mem_unlink DIR
 */
#include "rfstest.h"


#define NPAGES 4

int main(int argc, char **argv)
{
	const char *dir = t_init(argc, argv, 1, "DIR");
	long ps = t_page();
	size_t len = NPAGES * ps;
	char path[4096], path2[4096], buf[64];
	struct stat st, st2;
	struct t_chan c;
	char *m, *m2;
	int fd, fd2, nfd;
	pid_t pid;

	/* --- unlink while mapped (fd closed) */
	t_path(path, sizeof(path), dir, "unlinked");
	fd = CHECK_OK(open(path, O_RDWR | O_CREAT | O_EXCL, 0600), "create");
	REQUIRE(fd >= 0, "create");
	CHECK_OK(ftruncate(fd, len), "ftruncate");
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	REQUIRE(m != MAP_FAILED, "mmap");
	t_fill(m, len, 7);
	CHECK_OK(fstat(fd, &st), "fstat");

	t_chan_open(&c);
	pid = t_fork();
	if (pid == 0) {
		t_chan_side(&c, true);
		/* keeps the inherited mapping; checks what the parent stores later */
		if (t_recv(&c, true) == 'w')
			CHECK(memcmp(m + ps, "after-unlink", 12) == 0,
			      "store after unlink visible through the inherited shared mapping");
		else
			CHECK(false, "no word from the parent");
		memcpy(m + 2 * ps, "from-child", 10);
		t_send(&c, true, 'd');
		t_child_exit();
	}
	t_chan_side(&c, false);

	CHECK_OK(close(fd), "close the only fd (mapping stays)");
	CHECK_OK(unlink(path), "unlink while mapped");
	CHECK_ERRNO(stat(path, &st2), ENOENT, "stat the unlinked name");
	CHECK_ERRNO(open(path, O_RDWR), ENOENT, "open the unlinked name");
	CHECK_EQ(t_count_entries(dir, "unlinked"), 0, "readdir no longer lists the name");
	CHECK_EQ(t_verify(m, len, 7), -1, "data intact in the mapping after unlink (first bad byte)");
	memcpy(m + ps, "after-unlink", 12);
	t_send(&c, false, 'w');
	CHECK(t_recv(&c, false) == 'd', "child answered");
	CHECK(memcmp(m + 2 * ps, "from-child", 10) == 0, "child's store after unlink visible to the parent");
	t_wait_child(pid, "mapping child");

	/* a new region under the same name is independent */
	nfd = CHECK_OK(open(path, O_RDWR | O_CREAT | O_EXCL, 0600), "create the same name again (O_EXCL)");
	if (nfd >= 0) {
		CHECK_OK(fstat(nfd, &st2), "fstat the new region");
		CHECK(st2.st_ino != st.st_ino, "new region has a new inode number");
		CHECK_EQ(st2.st_size, 0, "new region is empty");
		CHECK_EQ(pwrite(nfd, "new", 3, 0), 3, "write the new region");
		CHECK(memcmp(m, "new", 3) != 0, "old mapping unaffected by the new region");
		close(nfd);
		CHECK_EQ(t_count_entries(dir, "unlinked"), 1, "readdir lists the new name once");
		unlink(path);
	}
	CHECK_OK(munmap(m, len), "munmap the last mapping of the unlinked region");

	/* --- unlink while open */
	t_path(path2, sizeof(path2), dir, "open-unlinked");
	fd2 = CHECK_OK(open(path2, O_RDWR | O_CREAT | O_EXCL, 0600), "create");
	REQUIRE(fd2 >= 0, "create");
	CHECK_EQ(pwrite(fd2, "abc", 3, 0), 3, "write");
	CHECK_OK(unlink(path2), "unlink while open");
	CHECK_ERRNO(access(path2, F_OK), ENOENT, "name gone");
	CHECK_OK(fstat(fd2, &st), "fstat the unlinked file");
	CHECK_EQ(st.st_nlink, 0, "nlink 0 after unlink");
	memset(buf, 0, sizeof(buf));
	CHECK(pread(fd2, buf, 3, 0) == 3 && memcmp(buf, "abc", 3) == 0, "read the unlinked file");
	CHECK_EQ(pwrite(fd2, "def", 3, 3), 3, "write the unlinked file");
	CHECK_OK(ftruncate(fd2, 3 * ps), "grow the unlinked file");
	m2 = mmap(NULL, 3 * ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd2, 0);
	CHECK(m2 != MAP_FAILED, "mmap the unlinked file");
	if (m2 != MAP_FAILED) {
		CHECK(memcmp(m2, "abcdef", 6) == 0, "mapping shows the data");
		CHECK(t_first_nonzero(m2 + 6, 3 * ps - 6) == -1, "grown part is zero");
		memcpy(m2 + 2 * ps, "mapped", 6);
		CHECK(pread(fd2, buf, 6, 2 * ps) == 6 && memcmp(buf, "mapped", 6) == 0,
		      "store in the mapping of the unlinked file visible to read()");
		munmap(m2, 3 * ps);
	}
	CHECK_OK(fsync(fd2), "fsync the unlinked file");
	CHECK_OK(close(fd2), "close the last fd of the unlinked file");
	return t_finish();
}
