/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The program that t-shm-tool.sh runs under regionfs-shm: an unmodified
 * POSIX shared-memory user. It never names a mountpoint; glibc puts its
 * objects in /dev/shm, which regionfs-shm replaced with a fresh regionfs.
 *
 * Usage:
 *   shm_tool probe DATAPATH   /dev/shm is a fresh, empty fuse.regionfs with
 *                             that datapath; shm_open/ftruncate/mmap and
 *                             sem_open shared with a child; leaves one
 *                             region and one semaphore behind on purpose
 *                             (a later run must not see them)
 *   shm_tool exit N           creates and maps a region, exits with N
 *   shm_tool kill             creates and maps a region, then SIGKILLs
 *                             itself while the region is open and mapped
 */
#include "rfstest.h"

#include <semaphore.h>
#include <sys/statfs.h>
#include <sys/xattr.h>
#include <time.h>

#define FUSE_SUPER_MAGIC 0x65735546
#define SIZE (1 << 20)

/* fstype of the topmost /dev/shm mount in /proc/self/mountinfo. */
static void devshm_fstype(char *buf, size_t size)
{
	FILE *f = fopen("/proc/self/mountinfo", "r");
	char line[4096];

	snprintf(buf, size, "(none)");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *save = NULL, *tok, *mnt = NULL;
		int field = 0;
		bool after_sep = false;

		for (tok = strtok_r(line, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save)) {
			field++;
			if (field == 5)
				mnt = tok;
			else if (field > 6 && !after_sep && strcmp(tok, "-") == 0)
				after_sep = true;
			else if (after_sep) {
				if (mnt && strcmp(mnt, "/dev/shm") == 0)
					snprintf(buf, size, "%s", tok);
				break;
			}
		}
	}
	fclose(f);
}

static int make_mapped_region(const char *name, char **ret)
{
	int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
	char *m;

	REQUIRE(fd >= 0, "shm_open %s", name);
	REQUIRE(ftruncate(fd, SIZE) == 0, "ftruncate %s", name);
	m = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	REQUIRE(m != MAP_FAILED, "mmap %s", name);
	memset(m, 0x5a, SIZE);
	*ret = m;
	return fd;
}

static int probe(const char *want_datapath)
{
	struct statfs sfs;
	struct timespec ts;
	char type[256], xval[64];
	ssize_t xlen;
	sem_t *sem;
	char *m;
	int fd;
	pid_t pid;

	devshm_fstype(type, sizeof(type));
	CHECK(strcmp(type, "fuse.regionfs") == 0, "/dev/shm in mountinfo is fuse.regionfs (got %s)", type);
	REQUIRE(statfs("/dev/shm", &sfs) == 0, "statfs /dev/shm");
	CHECK_EQ(sfs.f_type, FUSE_SUPER_MAGIC, "statfs(/dev/shm).f_type is FUSE_SUPER_MAGIC");
	CHECK_EQ(t_count_entries("/dev/shm", NULL), 0, "/dev/shm starts empty (a fresh regionfs)");
	CHECK_EQ(t_fs_used("/dev/shm"), 0, "/dev/shm starts with 0 bytes used");
	xlen = getxattr("/dev/shm", "user.regionfs.datapath", xval, sizeof(xval) - 1);
	xval[xlen > 0 ? xlen : 0] = '\0';
	CHECK(xlen > 0 && strcmp(xval, want_datapath) == 0, "datapath xattr of /dev/shm is %s (got '%s', %s)",
	      want_datapath, xval, xlen < 0 ? t_errname(errno) : "ok");

	fd = CHECK_OK(shm_open("/rfs-tool-shm", O_RDWR | O_CREAT | O_EXCL, 0600), "shm_open O_CREAT|O_EXCL");
	REQUIRE(fd >= 0, "shm_open");
	CHECK_OK(ftruncate(fd, SIZE), "ftruncate to 1 MiB");
	m = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	REQUIRE(m != MAP_FAILED, "mmap");
	t_fill(m, SIZE / 2, 11);
	sem = sem_open("/rfs-tool-sem", O_CREAT | O_EXCL, 0600, 0);
	REQUIRE(sem != SEM_FAILED, "sem_open O_CREAT|O_EXCL");

	pid = t_fork();
	if (pid == 0) {
		int cfd = shm_open("/rfs-tool-shm", O_RDWR, 0);
		char *cm = cfd >= 0 ? mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, cfd, 0) : MAP_FAILED;
		sem_t *cs = sem_open("/rfs-tool-sem", 0);

		REQUIRE(cm != MAP_FAILED && cs != SEM_FAILED, "child opens the region and the semaphore by name");
		CHECK_EQ(t_verify(cm, SIZE / 2, 11), -1, "child sees the parent's first half");
		t_fill(cm + SIZE / 2, SIZE / 2, 12);
		CHECK_OK(sem_post(cs), "sem_post");
		t_child_exit();
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 20;
	CHECK_OK(sem_timedwait(sem, &ts), "parent: sem_timedwait for the child");
	CHECK_EQ(t_verify(m + SIZE / 2, SIZE / 2, 12), -1, "parent sees the child's second half");
	t_wait_child(pid, "probe child");
	CHECK_OK(sem_close(sem), "sem_close");
	munmap(m, SIZE);
	close(fd);
	/* Left behind on purpose: /rfs-tool-shm and sem.rfs-tool-sem. */
	CHECK_EQ(t_count_entries("/dev/shm", NULL), 2, "region and semaphore left in /dev/shm at exit");
	return t_finish();
}

int main(int argc, char **argv)
{
	const char *mode = t_init(argc, argv, 1, "probe DATAPATH | exit N | kill");
	char *m;

	if (strcmp(mode, "probe") == 0 && argc == 3)
		return probe(argv[2]);
	if (strcmp(mode, "exit") == 0 && argc == 3) {
		make_mapped_region("/rfs-tool-exit", &m);
		return atoi(argv[2]);
	}
	if (strcmp(mode, "kill") == 0) {
		make_mapped_region("/rfs-tool-kill", &m);
		fflush(stdout);
		raise(SIGKILL);
		return 1;
	}
	fprintf(stderr, "usage: %s probe DATAPATH | exit N | kill\n", argv[0]);
	return 2;
}
