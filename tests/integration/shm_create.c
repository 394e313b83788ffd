// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Create-or-open a region with its size in one step, as the README's recipe
 * "Create with a size, once" does it with ordinary calls (what Windows'
 * CreateFileMapping gives: one creator, one size, and "it already existed"):
 *
 * Regions are made with mode 0666: users race in one shared directory.
 *
 *   1. open(DIR/NAME, O_RDWR): it exists, and it is whole (only a sized,
 *      filled region is ever published under NAME). Done: "existed".
 *   2. Make sure DIR/.regionfs-pending exists and gives the regions made in
 *      it the lifetime "creator" (user.regionfs.lifetime on a directory).
 *   3. Create a unique name in it (O_EXCL): its lifetime is "creator" from
 *      the first instant, so a creator killed from here on leaves nothing.
 *   4. ftruncate to SIZE, write the contents.
 *   5. renameat2(RENAME_NOREPLACE) to DIR/NAME: publishes it whole, or fails
 *      with EEXIST when another process published first: remove ours and
 *      go to 1 (the other's size wins).
 *   6. Set the lifetime the region should keep (here FINAL, "persist" by
 *      default). Until then it is the creator's: killed between 5 and 6, the
 *      published region goes with its creator (openers keep their memory).
 *
 * Usage: it_shm_create DIR NAME SIZE [FINAL [DIE_AT]]
 *   FINAL   lifetime set after publishing (default persist; "-" keeps creator)
 *   DIE_AT  created|sized|filled|published|final: SIGKILL itself right after
 *           that step (a creator killed at every point of the recipe)
 * Environment: RFS_GO=PATH waits until PATH exists before step 1 (a start
 * line for racing processes).
 * Prints one line: "created size=N header=PID" or "existed size=N
 * header=PID" (header: the pid the creator wrote into the region's first
 * bytes before publishing). Exit 0, or 1 with a message.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#define PENDING ".regionfs-pending"
#define LIFETIME "user.regionfs.lifetime"
#define HEADER_LEN 64

static const char *die_at = "";

static void step(const char *name)
{
	if (strcmp(die_at, name) == 0)
		kill(getpid(), SIGKILL);
}

static void fail(const char *what)
{
	fprintf(stderr, "shm_create: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* The pending directory, with lifetime "creator" for what is made in it.
 * Its mode is DIR's, so whoever may create in DIR may create there. */
static int pending_dir(int dirfd)
{
	struct stat st;
	char v[32];
	ssize_t n;
	int fd;

	if (fstat(dirfd, &st) < 0)
		fail("fstat DIR");
	if (mkdirat(dirfd, PENDING, st.st_mode & 07777) == 0) {
		/* mkdir's mode passes through the umask: the parent's mode is the point. */
		if (fchmodat(dirfd, PENDING, st.st_mode & 07777, 0) < 0)
			fail("chmod " PENDING);
	} else if (errno != EEXIST) {
		fail("mkdir " PENDING);
	}
	fd = openat(dirfd, PENDING, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
	if (fd < 0)
		fail("open " PENDING);
	/* Made by a process killed before it set the default: set it now. */
	n = fgetxattr(fd, LIFETIME, v, sizeof(v));
	if ((n != 7 || memcmp(v, "creator", 7) != 0) &&
	    fsetxattr(fd, LIFETIME, "creator", 7, 0) < 0)
		fail("set the lifetime of " PENDING);
	return fd;
}

static void report(int fd, const char *role)
{
	char header[HEADER_LEN + 1] = "";
	struct stat st;
	ssize_t n;

	if (fstat(fd, &st) < 0)
		fail("fstat");
	n = pread(fd, header, HEADER_LEN, 0);
	if (n < 0)
		fail("read the header");
	header[n] = 0;
	header[strcspn(header, "\n")] = 0;
	printf("%s size=%lld header=%s\n", role, (long long)st.st_size,
	       strncmp(header, "pid=", 4) == 0 ? header + 4 : "none");
}

int main(int argc, char **argv)
{
	const char *final = "persist";
	char tmp[64], header[HEADER_LEN];
	long long size;
	int dirfd, pend, fd, tries;

	if (argc < 4 || argc > 6) {
		fprintf(stderr, "usage: %s DIR NAME SIZE [FINAL [DIE_AT]]\n", argv[0]);
		return 2;
	}
	size = atoll(argv[3]);
	if (argc > 4)
		final = argv[4];
	if (argc > 5)
		die_at = argv[5];
	if (getenv("RFS_GO")) {
		struct timespec ms = { 0, 1000000 };

		while (access(getenv("RFS_GO"), F_OK) < 0)
			nanosleep(&ms, NULL);
	}
	dirfd = open(argv[1], O_RDONLY | O_DIRECTORY);
	if (dirfd < 0)
		fail("open DIR");

	for (tries = 0; tries < 1000; tries++) {
		/* 1. It exists: whole, since only whole regions are published. */
		fd = openat(dirfd, argv[2], O_RDWR);
		if (fd >= 0) {
			report(fd, "existed");
			return 0;
		}
		if (errno != ENOENT)
			fail("open NAME");

		/* 2, 3. A pending name whose lifetime is "creator" from the start. */
		pend = pending_dir(dirfd);
		snprintf(tmp, sizeof(tmp), "tmp.%d.%d", (int)getpid(), tries);
		fd = openat(pend, tmp, O_RDWR | O_CREAT | O_EXCL, 0666);
		if (fd < 0)
			fail("create the pending region");
		/* Every user may open it (the umask would take that away). */
		if (fchmod(fd, 0666) < 0)
			fail("fchmod");
		step("created");

		/* 4. Size and contents, before anyone can see it. */
		if (ftruncate(fd, size) < 0)
			fail("ftruncate");
		step("sized");
		memset(header, 0, sizeof(header));
		snprintf(header, sizeof(header), "pid=%d\n", (int)getpid());
		if (pwrite(fd, header, sizeof(header), 0) != (ssize_t)sizeof(header))
			fail("write the header");
		step("filled");

		/* 5. Publish, or learn that another process did. */
		if (renameat2(pend, tmp, dirfd, argv[2], RENAME_NOREPLACE) < 0) {
			if (errno != EEXIST)
				fail("renameat2");
			if (unlinkat(pend, tmp, 0) < 0)
				fail("unlink the pending region");
			close(fd);
			close(pend);
			continue; /* the other's region wins: open it */
		}
		step("published");

		/* 6. The lifetime it keeps from now on. */
		if (strcmp(final, "-") != 0 &&
		    fsetxattr(fd, LIFETIME, final, strlen(final), 0) < 0)
			fail("set the final lifetime");
		step("final");
		report(fd, "created");
		return 0;
	}
	fprintf(stderr, "shm_create: no region after %d tries\n", tries);
	return 1;
}
