/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Create/open semantics (CreateFileMapping / OpenFileMapping): O_EXCL ->
 * EEXIST, missing -> ENOENT, O_CREAT opens the existing region, O_TRUNC,
 * O_APPEND; flushes (msync MS_SYNC/MS_ASYNC/MS_INVALIDATE, fsync,
 * fdatasync, syncfs, sync_file_range) return 0 and keep the data; hard
 * links share data, mappings and the inode number; stat data (inode numbers
 * stable across lookups and renames, sizes, blocks, times).
 *
 * Usage: mem_basic DIR
 */
#include "rfstest.h"

#include <sys/statfs.h>
#include <sys/time.h>

int main(int argc, char **argv)
{
	const char *dir = t_init(argc, argv, 1, "DIR");
	long ps = t_page();
	char a[4096], b[4096], c[4096], buf[64];
	struct stat st, st2;
	char *m, *mb;
	int fd, fd2, fdb;
	ino_t ino;
	struct timespec ts[2];

	t_path(a, sizeof(a), dir, "region-a");
	t_path(b, sizeof(b), dir, "region-b");
	t_path(c, sizeof(c), dir, "region-c");

	/* --- create / open */
	CHECK_ERRNO(open(a, O_RDWR), ENOENT, "open a missing region without O_CREAT");
	fd = CHECK_OK(open(a, O_RDWR | O_CREAT | O_EXCL, 0640), "O_CREAT|O_EXCL creates");
	REQUIRE(fd >= 0, "create");
	CHECK_ERRNO(open(a, O_RDWR | O_CREAT | O_EXCL, 0640), EEXIST, "O_CREAT|O_EXCL on an existing region");
	CHECK_ERRNO(open(a, O_RDONLY | O_CREAT | O_EXCL, 0640), EEXIST, "O_RDONLY|O_CREAT|O_EXCL on an existing region");
	CHECK_OK(fstat(fd, &st), "fstat");
	ino = st.st_ino;
	CHECK_EQ(st.st_mode & 07777, 0640, "mode of the new region");
	CHECK(S_ISREG(st.st_mode), "a regular file");
	CHECK_EQ(st.st_size, 0, "size 0");
	CHECK_EQ(st.st_nlink, 1, "nlink 1");
	fd2 = CHECK_OK(open(a, O_RDWR | O_CREAT, 0600), "O_CREAT without O_EXCL opens the existing region");
	CHECK_OK(fstat(fd2, &st2), "fstat");
	CHECK_EQ(st2.st_ino, ino, "same inode through the second open");
	CHECK_EQ(st2.st_mode & 07777, 0640, "mode unchanged by the second O_CREAT");
	close(fd2);

	/* --- data, sizes, blocks */
	CHECK_OK(ftruncate(fd, 4 * ps), "ftruncate to 4 pages");
	CHECK_OK(fstat(fd, &st), "fstat");
	CHECK_EQ(st.st_size, 4 * ps, "st_size");
	if (!t_is_tmpfs())
		CHECK_EQ(st.st_blocks * 512, 4 * ps, "st_blocks: the whole region is reserved");
	m = mmap(NULL, 4 * ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	REQUIRE(m != MAP_FAILED, "mmap");
	t_fill(m, 4 * ps, 11);
	CHECK_OK(fstat(fd, &st), "fstat");
	CHECK_EQ(st.st_blocks * 512, 4 * ps, "st_blocks after touching every page");

	/* --- flushes */
	CHECK_OK(msync(m, 4 * ps, MS_SYNC), "msync(MS_SYNC)");
	CHECK_OK(msync(m, 4 * ps, MS_ASYNC), "msync(MS_ASYNC)");
	CHECK_OK(msync(m + ps, ps, MS_SYNC), "msync(MS_SYNC) of one page");
	CHECK_OK(msync(m, 4 * ps, MS_INVALIDATE), "msync(MS_INVALIDATE)");
	CHECK_EQ(t_verify(m, 4 * ps, 11), -1, "data intact after msync(MS_INVALIDATE) (first bad byte)");
	CHECK_OK(fsync(fd), "fsync");
	CHECK_OK(fdatasync(fd), "fdatasync");
	CHECK_OK(syncfs(fd), "syncfs");
	CHECK_OK(sync_file_range(fd, 0, 4 * ps, SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
					       SYNC_FILE_RANGE_WAIT_AFTER),
		 "sync_file_range");
	CHECK_ERRNO(msync(m + 1, ps, MS_SYNC), EINVAL, "msync of an unaligned address");
	CHECK_ERRNO(msync(m, ps, MS_SYNC | MS_ASYNC), EINVAL, "msync with MS_SYNC|MS_ASYNC");
	CHECK_EQ(t_verify(m, 4 * ps, 11), -1, "data intact after the flushes (first bad byte)");
	{
		static char rb[65536];

		CHECK_EQ(pread(fd, rb, 4 * ps, 0), 4 * ps, "pread");
		CHECK_EQ(t_verify(rb, 4 * ps, 11), -1, "pread agrees with the mapping (first bad byte)");
	}

	/* --- hard links */
	CHECK_OK(link(a, b), "link a -> b");
	CHECK_OK(stat(b, &st2), "stat b");
	CHECK_EQ(st2.st_ino, ino, "link has the same inode");
	CHECK_EQ(st2.st_nlink, 2, "nlink 2");
	CHECK_OK(fstat(fd, &st), "fstat a");
	CHECK_EQ(st.st_nlink, 2, "nlink 2 through the open fd");
	CHECK_ERRNO(link(a, b), EEXIST, "link onto an existing name");
	CHECK_ERRNO(link(c, b), ENOENT, "link of a missing name");
	fdb = CHECK_OK(open(b, O_RDWR), "open b");
	mb = mmap(NULL, 4 * ps, PROT_READ | PROT_WRITE, MAP_SHARED, fdb, 0);
	REQUIRE(mb != MAP_FAILED, "mmap b");
	CHECK_EQ(t_verify(mb, 4 * ps, 11), -1, "b shows a's data (first bad byte)");
	memcpy(mb + 3 * ps, "via-b", 5);
	CHECK(memcmp(m + 3 * ps, "via-b", 5) == 0, "store through b's mapping visible in a's mapping");
	CHECK_EQ(pwrite(fd, "via-a", 5, 2 * ps), 5, "write through a");
	CHECK(memcmp(mb + 2 * ps, "via-a", 5) == 0, "write through a visible in b's mapping");
	CHECK_OK(unlink(a), "unlink a");
	CHECK_OK(stat(b, &st2), "stat b");
	CHECK_EQ(st2.st_nlink, 1, "nlink 1 after unlinking a");
	CHECK(memcmp(mb + 3 * ps, "via-b", 5) == 0, "data still there through b");
	munmap(mb, 4 * ps);
	close(fdb);

	/* --- stable inode numbers */
	CHECK_OK(rename(b, c), "rename b -> c");
	CHECK_OK(stat(c, &st2), "stat c");
	CHECK_EQ(st2.st_ino, ino, "inode unchanged by rename");
	CHECK_OK(fstat(fd, &st), "fstat the old fd");
	CHECK_EQ(st.st_ino, ino, "inode through an fd opened before the renames");
	close(fd);
	munmap(m, 4 * ps);
	CHECK_OK(stat(c, &st2), "stat after closing everything");
	CHECK_EQ(st2.st_ino, ino, "inode unchanged after closing every fd and mapping");

	/* --- O_TRUNC, O_APPEND */
	fd = CHECK_OK(open(c, O_RDWR | O_APPEND), "open O_APPEND");
	CHECK_EQ(write(fd, "end", 3), 3, "append write");
	CHECK_OK(fstat(fd, &st), "fstat");
	CHECK_EQ(st.st_size, 4 * ps + 3, "append wrote at the end");
	CHECK(pread(fd, buf, 3, 4 * ps) == 3 && memcmp(buf, "end", 3) == 0, "appended data");
	close(fd);
	fd = CHECK_OK(open(c, O_RDWR | O_TRUNC), "open O_TRUNC");
	CHECK_OK(fstat(fd, &st), "fstat");
	CHECK_EQ(st.st_size, 0, "size 0 after O_TRUNC");
	CHECK_EQ(pread(fd, buf, 10, 0), 0, "read of an empty region returns 0");

	/* --- times */
	ts[0].tv_sec = 1000000000;
	ts[0].tv_nsec = 111;
	ts[1].tv_sec = 1000000001;
	ts[1].tv_nsec = 222;
	CHECK_OK(futimens(fd, ts), "futimens");
	CHECK_OK(fstat(fd, &st), "fstat");
	CHECK(st.st_atim.tv_sec == 1000000000 && st.st_atim.tv_nsec == 111, "atime set to the ns");
	CHECK(st.st_mtim.tv_sec == 1000000001 && st.st_mtim.tv_nsec == 222, "mtime set to the ns");
	CHECK_EQ(write(fd, "x", 1), 1, "write");
	CHECK_OK(fstat(fd, &st), "fstat");
	CHECK(st.st_mtim.tv_sec > 1000000001, "write() updates mtime");
	CHECK(st.st_ctim.tv_sec > 1000000001, "write() updates ctime");
	ts[0].tv_nsec = UTIME_OMIT;
	ts[1].tv_sec = 1200000000;
	ts[1].tv_nsec = 0;
	CHECK_OK(futimens(fd, ts), "futimens with UTIME_OMIT for atime");
	CHECK_OK(fstat(fd, &st2), "fstat");
	CHECK(st2.st_atim.tv_sec == st.st_atim.tv_sec && st2.st_atim.tv_nsec == st.st_atim.tv_nsec,
	      "UTIME_OMIT leaves atime alone");
	CHECK_EQ(st2.st_mtim.tv_sec, 1200000000, "mtime set");
	CHECK_OK(ftruncate(fd, ps), "ftruncate");
	CHECK_OK(fstat(fd, &st), "fstat");
	CHECK(st.st_mtim.tv_sec > 1200000000, "ftruncate updates mtime");
	CHECK_OK(fchmod(fd, 0600), "fchmod");
	CHECK_OK(fstat(fd, &st), "fstat");
	CHECK_EQ(st.st_mode & 07777, 0600, "mode after fchmod");
	CHECK_OK(fchown(fd, 321, 654), "fchown");
	CHECK_OK(fstat(fd, &st), "fstat");
	CHECK(st.st_uid == 321 && st.st_gid == 654, "owner after fchown");
	close(fd);
	CHECK_OK(unlink(c), "unlink");
	return t_finish();
}
