/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Nothing lost, nothing stale, with the mount over /dev/shm: a POSIX shm
 * object unlinked while two other processes have it mapped stays usable for
 * them (data intact, writes seen in both directions, msync/fsync/pread/
 * pwrite on the remaining fd, drop_caches in between), while the name is
 * gone for everyone else (ENOENT for shm_open, stat, shm_unlink; not in
 * readdir). A new object under the same name starts empty and is
 * independent of the orphan. A named semaphore unlinked while open keeps
 * working between its holders. Once the last mapping goes, df shows 0
 * bytes and 1 inode used again and /dev/shm is empty.
 *
 * A keeps only a mapping (closes its fd at once); B keeps a mapping and an
 * fd. Pages 0..7 are A's to write, 8..14 B's, page 15 is written through
 * B's fd.
 *
 * Usage: shm_orphan DIR     (DIR must be /dev/shm, the test mount)
 */
#include "rfstest.h"

#include <semaphore.h>
#include <time.h>

#define NAME "/rfs-orphan"
#define SEM "/rfs-orphan-sem"
#define NP 16
#define AHALF 8 /* pages 0..7 */
#define BPAGES 7 /* pages 8..14 */
#define FDMSG "written-through-the-fd-after-unlink"

static long page;

static void drop_caches(void)
{
	int fd = open("/proc/sys/vm/drop_caches", O_WRONLY);

	sync();
	if (fd >= 0) {
		if (write(fd, "3", 1) != 1)
			t_check(true, "(drop_caches not possible here)");
		close(fd);
	}
}

/* A or B: map the object by name and then obey the parent's commands. */
static void mapper(struct t_chan *c, bool is_a)
{
	char *m, *a, *b, *f;
	sem_t *sem;
	struct timespec ts;
	struct stat st;
	int fd, cmd, i;
	char buf[64];

	t_who = is_a ? "A: " : "B: ";
	fd = shm_open(NAME, O_RDWR, 0);
	REQUIRE(fd >= 0, "shm_open by name");
	m = mmap(NULL, NP * page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	REQUIRE(m != MAP_FAILED, "mmap");
	sem = sem_open(SEM, 0);
	REQUIRE(sem != SEM_FAILED, "sem_open by name");
	if (is_a) {
		close(fd); /* A keeps nothing but the mapping */
		fd = -1;
	}
	a = m;
	b = m + AHALF * page;
	f = m + (NP - 1) * page;
	CHECK_EQ(t_verify(m, NP * page, 1), -1, "maps the creator's data");
	t_send(c, true, 'r');

	while ((cmd = t_recv(c, true)) > 0 && cmd != 'e') {
		switch (cmd) {
		case 'w': /* A: write its half */
			t_fill(a, AHALF * page, 2);
			CHECK_OK(msync(m, NP * page, MS_SYNC), "msync of the unlinked object");
			break;
		case 'x': /* B: A's writes visible, write B's pages */
			CHECK_EQ(t_verify(a, AHALF * page, 2), -1, "sees A's writes after the unlink");
			t_fill(b, BPAGES * page, 3);
			break;
		case 'y': /* A: B's writes visible */
			CHECK_EQ(t_verify(b, BPAGES * page, 3), -1, "sees B's writes after the unlink");
			break;
		case 'f': /* B: the fd of the unlinked object */
			CHECK_OK(fsync(fd), "fsync of the unlinked object");
			CHECK_EQ(pread(fd, buf, sizeof(buf), AHALF * page), sizeof(buf), "pread of the unlinked object");
			CHECK(memcmp(buf, b, sizeof(buf)) == 0, "pread returns what the mappings hold");
			CHECK_EQ(pwrite(fd, FDMSG, sizeof(FDMSG), (NP - 1) * page + 100), sizeof(FDMSG),
				 "pwrite to the unlinked object");
			CHECK(memcmp(f + 100, FDMSG, sizeof(FDMSG)) == 0, "own pwrite visible in own mapping");
			memset(&st, 0xff, sizeof(st));
			CHECK_OK(fstat(fd, &st), "fstat of the unlinked object");
			CHECK_EQ(st.st_size, NP * page, "size of the unlinked object");
			CHECK_EQ(st.st_nlink, 0, "nlink of the unlinked object");
			break;
		case 'z': /* A: the pwrite reached A's mapping */
			CHECK(memcmp(f + 100, FDMSG, sizeof(FDMSG)) == 0, "sees B's pwrite in its mapping");
			break;
		case 'v': /* both: own view unchanged */
			CHECK_EQ(t_verify(a, AHALF * page, 2), -1, "pages 0-7 still hold A's data");
			CHECK_EQ(t_verify(b, BPAGES * page, 3), -1, "pages 8-14 still hold B's data");
			CHECK(memcmp(f + 100, FDMSG, sizeof(FDMSG)) == 0, "page 15 still holds B's pwrite");
			break;
		case 'p': /* A: post the unlinked semaphore */
			for (i = 0; i < 3; i++)
				CHECK_OK(sem_post(sem), "sem_post %d on the unlinked semaphore", i + 1);
			break;
		case 'q': /* B: take the posts */
			for (i = 0; i < 3; i++) {
				clock_gettime(CLOCK_REALTIME, &ts);
				ts.tv_sec += 10;
				CHECK_OK(sem_timedwait(sem, &ts), "sem_timedwait %d on the unlinked semaphore", i + 1);
			}
			CHECK_ERRNO(sem_trywait(sem), EAGAIN, "unlinked semaphore drained");
			break;
		case 'l': /* A, alone: the last mapping still works */
			CHECK_EQ(t_verify(a, AHALF * page, 2), -1, "last mapper: pages 0-7 intact");
			CHECK_EQ(t_verify(b, BPAGES * page, 3), -1, "last mapper: pages 8-14 intact");
			CHECK(memcmp(f + 100, FDMSG, sizeof(FDMSG)) == 0, "last mapper: page 15 intact");
			t_fill(m, NP * page, 5);
			CHECK_OK(msync(m, NP * page, MS_SYNC), "last mapper: msync");
			drop_caches();
			CHECK_EQ(t_verify(m, NP * page, 5), -1, "last mapper: rewrite reads back");
			break;
		default:
			CHECK(false, "unknown command %c", cmd);
		}
		t_send(c, true, 'k');
	}
	CHECK(cmd == 'e', "told to exit (not a timeout)");
	sem_close(sem);
	munmap(m, NP * page);
	if (fd >= 0)
		close(fd);
	t_child_exit();
}

/* Send a command and wait for its acknowledgement. */
static void cmd(struct t_chan *c, char what, const char *who)
{
	t_send(c, false, what);
	if (t_recv(c, false) != 'k')
		CHECK(false, "%s did not acknowledge command '%c'", who, what);
}

int main(int argc, char **argv)
{
	const char *dir = t_init(argc, argv, 1, "DIR");
	struct t_chan ca, cb;
	struct stat st, sdir;
	char path[4096];
	pid_t pa, pb;
	sem_t *sem;
	char *m;
	long used;
	int fd, i;

	page = t_page();
	REQUIRE(stat(dir, &sdir) == 0 && stat("/dev/shm", &st) == 0, "stat");
	REQUIRE(sdir.st_dev == st.st_dev && sdir.st_ino == st.st_ino, "the test mount is /dev/shm");
	t_path(path, sizeof(path), "/dev/shm", NAME + 1);

	fd = shm_open(NAME, O_RDWR | O_CREAT | O_EXCL, 0600);
	REQUIRE(fd >= 0 && ftruncate(fd, NP * page) == 0, "create %s", NAME);
	m = mmap(NULL, NP * page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	REQUIRE(m != MAP_FAILED, "mmap");
	t_fill(m, NP * page, 1);
	munmap(m, NP * page);
	close(fd);
	sem = sem_open(SEM, O_CREAT | O_EXCL, 0600, 0);
	REQUIRE(sem != SEM_FAILED, "sem_open %s", SEM);
	sem_close(sem);

	t_chan_open(&ca);
	t_chan_open(&cb);
	pa = t_fork();
	if (pa == 0) {
		t_chan_side(&ca, true);
		mapper(&ca, true);
	}
	t_chan_side(&ca, false);
	pb = t_fork();
	if (pb == 0) {
		t_chan_side(&cb, true);
		mapper(&cb, false);
	}
	t_chan_side(&cb, false);
	REQUIRE(t_recv(&ca, false) == 'r' && t_recv(&cb, false) == 'r', "both mappers ready");

	/* The parent is neither creator-holder nor mapper: it unlinks. */
	CHECK_OK(shm_unlink(NAME), "shm_unlink while two processes map it");
	CHECK_OK(sem_unlink(SEM), "sem_unlink while two processes have it open");
	CHECK_ERRNO(shm_open(NAME, O_RDWR, 0), ENOENT, "new opener, O_RDWR");
	CHECK_ERRNO(shm_open(NAME, O_RDONLY, 0), ENOENT, "new opener, O_RDONLY");
	CHECK_ERRNO(stat(path, &st), ENOENT, "stat of the unlinked name");
	CHECK_EQ(t_count_entries("/dev/shm", NAME + 1), 0, "unlinked name not in readdir");
	CHECK_ERRNO(shm_unlink(NAME), ENOENT, "shm_unlink of the unlinked name");
	CHECK_ERRNO(sem_open(SEM, 0) == SEM_FAILED ? -1 : 0, ENOENT, "sem_open of the unlinked semaphore");
	used = (long)t_fs_used("/dev/shm");
	CHECK(used >= NP * page, "df counts the mapped orphan (%ld bytes used, >= %ld)", used, NP * page);

	cmd(&ca, 'w', "A");
	drop_caches();
	cmd(&cb, 'x', "B");
	cmd(&ca, 'y', "A");
	cmd(&cb, 'f', "B");
	cmd(&ca, 'z', "A");
	cmd(&ca, 'p', "A");
	cmd(&cb, 'q', "B");

	/* A new object under the old name: empty, independent. */
	fd = CHECK_OK(shm_open(NAME, O_RDWR | O_CREAT | O_EXCL, 0600), "O_CREAT|O_EXCL on the unlinked name");
	REQUIRE(fd >= 0, "create a new object");
	REQUIRE(fstat(fd, &st) == 0, "fstat");
	CHECK_EQ(st.st_size, 0, "the new object starts with size 0");
	REQUIRE(ftruncate(fd, NP * page) == 0, "ftruncate the new object");
	m = mmap(NULL, NP * page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	REQUIRE(m != MAP_FAILED, "mmap the new object");
	CHECK_EQ(t_first_nonzero(m, NP * page), -1, "the new object reads as zeros (nothing stale)");
	t_fill(m, NP * page, 4);
	CHECK_OK(msync(m, NP * page, MS_SYNC), "msync the new object");
	drop_caches();
	cmd(&ca, 'v', "A");
	cmd(&cb, 'v', "B");
	CHECK_EQ(t_verify(m, NP * page, 4), -1, "the new object keeps its own data");
	munmap(m, NP * page);
	close(fd);
	CHECK_OK(shm_unlink(NAME), "shm_unlink the new object");

	/* B goes (fd and mapping); A's mapping is the only reference left. */
	t_send(&cb, false, 'e');
	t_wait_child(pb, "B");
	drop_caches();
	cmd(&ca, 'l', "A");
	t_send(&ca, false, 'e');
	t_wait_child(pa, "A");

	for (i = 0; i < 100; i++) {
		if (t_fs_used("/dev/shm") == 0 && t_fs_inodes_used("/dev/shm") == 1)
			break;
		usleep(50000);
	}
	CHECK_EQ(t_fs_used("/dev/shm"), 0, "df bytes used once the last mapping is gone");
	CHECK_EQ(t_fs_inodes_used("/dev/shm"), 1, "inodes used once the last mapping is gone (the root)");
	CHECK_EQ(t_count_entries("/dev/shm", NULL), 0, "/dev/shm empty");
	return t_finish();
}
