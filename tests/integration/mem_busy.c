/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Resizes race the namespace: two processes grow two regions to 3/8 of
 * the mount's size= each and shrink them again, in a loop, while two
 * others create, write, open, stat, set and remove xattrs on, and unlink
 * small regions, and stat the big ones (one more big growth would fill
 * the store, and a small write could then fail with ENOSPC as on tmpfs:
 * the unit tests race growths past the limit). Every call succeeds; at no
 * moment does df show more in use than size=; at the end, the sizes, the
 * data and df agree. No timing is asserted.
 *
 * Usage: mem_busy DIR SIZE_BYTES
 */
#include "rfstest.h"

#include <sys/xattr.h>

#define CYCLES 30
#define SMALL 150

static const char *dir;
static uint64_t limit, big;

/* A child: grow name to big, check the size and the data at its end, shrink to 0; again. */
static void grower(const char *name, uint32_t seed)
{
	char path[4096], buf[4096], back[4096];
	int fd, i;
	struct stat st;

	t_path(path, sizeof(path), dir, name);
	fd = open(path, O_RDWR);
	REQUIRE(fd >= 0, "open %s", name);
	for (i = 0; i < CYCLES; i++) {
		if (ftruncate(fd, (off_t)big) < 0) {
			CHECK(false, "%s: growth to %llu in cycle %d (%s)", name,
			      (unsigned long long)big, i, t_errname(errno));
			break;
		}
		t_fill(buf, sizeof(buf), seed + (uint32_t)i);
		if (pwrite(fd, buf, sizeof(buf), (off_t)big - (off_t)sizeof(buf)) !=
			(ssize_t)sizeof(buf) ||
		    pread(fd, back, sizeof(back), (off_t)big - (off_t)sizeof(back)) !=
			(ssize_t)sizeof(back) ||
		    memcmp(buf, back, sizeof(buf)) != 0 || fstat(fd, &st) < 0 ||
		    (uint64_t)st.st_size != big) {
			CHECK(false, "%s: cycle %d: size and data at the end", name, i);
			break;
		}
		if (ftruncate(fd, 0) < 0) {
			CHECK(false, "%s: shrink to 0 in cycle %d (%s)", name, i, t_errname(errno));
			break;
		}
	}
	CHECK(i == CYCLES, "%s: %d cycles of growth, data at the end, shrink", name, CYCLES);
	CHECK(fstat(fd, &st) == 0 && st.st_size == 0, "%s: size 0 at the end", name);
	close(fd);
}

/* A child: small regions come and go; the big ones are only ever 0 or big. */
static void bystander(int id)
{
	char path[4096], name[64], v = 'v';
	int i, fd, bad = 0;

	for (i = 0; i < SMALL && !bad; i++) {
		struct statx stx;
		char buf[4096];

		snprintf(name, sizeof(name), "s%d-%d", id, i);
		t_path(path, sizeof(path), dir, name);
		fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
		t_fill(buf, sizeof(buf), (uint32_t)(id * 1000 + i));
		bad |= fd < 0 || pwrite(fd, buf, sizeof(buf), 0) != (ssize_t)sizeof(buf);
		if (fd >= 0)
			close(fd);
		fd = open(path, O_RDONLY);
		bad |= fd < 0 || pread(fd, buf, sizeof(buf), 0) != (ssize_t)sizeof(buf) ||
		       t_verify(buf, sizeof(buf), (uint32_t)(id * 1000 + i)) != -1;
		if (fd >= 0)
			close(fd);
		bad |=
		    setxattr(path, "user.busy", &v, 1, 0) < 0 || removexattr(path, "user.busy") < 0;
		bad |= statx(AT_FDCWD, path, AT_STATX_FORCE_SYNC, STATX_SIZE, &stx) < 0 ||
		       stx.stx_size != sizeof(buf);
		t_path(path, sizeof(path), dir, i % 2 ? "big0" : "big1");
		bad |= statx(AT_FDCWD, path, AT_STATX_FORCE_SYNC, STATX_SIZE, &stx) < 0 ||
		       (stx.stx_size != 0 && stx.stx_size != big);
		if (i % 2) {
			t_path(path, sizeof(path), dir, name);
			bad |= unlink(path) < 0;
		}
		if (bad)
			CHECK(false, "bystander %d: region %d (%s)", id, i, t_errname(errno));
	}
	CHECK(!bad, "bystander %d: %d regions made, written, read, stat'ed, half unlinked", id,
	      SMALL);
}

int main(int argc, char **argv)
{
	char path[4096];
	pid_t pids[4];
	uint64_t used, worst = 0;
	int i, left;

	dir = t_init(argc, argv, 2, "DIR SIZE_BYTES");
	limit = strtoull(argv[2], NULL, 0);
	big = limit / 8 * 3;
	for (i = 0; i < 2; i++) {
		int fd;

		snprintf(path, sizeof(path), "%s/big%d", dir, i);
		fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
		REQUIRE(fd >= 0, "create big%d", i);
		close(fd);
	}
	for (i = 0; i < 4; i++) {
		pids[i] = t_fork();
		if (pids[i] == 0) {
			if (i < 2)
				grower(i ? "big1" : "big0", (uint32_t)i * 7919);
			else
				bystander(i);
			t_child_exit();
		}
	}
	/* df never shows more than size= in use, whatever the moment. */
	for (left = 4; left;) {
		used = t_fs_used(dir);
		if (used != UINT64_MAX && used > worst)
			worst = used;
		left = 0;
		for (i = 0; i < 4; i++) {
			int st;

			if (!pids[i])
				continue;
			if (waitpid(pids[i], &st, WNOHANG) == 0) {
				left++;
				continue;
			}
			CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0,
			      "child %d exited with 0 (status %#x)", i, st);
			pids[i] = 0;
		}
		usleep(2000);
	}
	CHECK(worst <= limit, "df in use at most size= meanwhile (%llu of %llu)",
	      (unsigned long long)worst, (unsigned long long)limit);
	CHECK_EQ(t_count_entries(dir, NULL), 2 + 2 * SMALL / 2, "regions left");
	used = t_fs_used(dir);
	CHECK_EQ(used, (uint64_t)2 * SMALL / 2 * 4096, "df: exactly the small regions left in use");

	for (i = 0; i < 2; i++) {
		struct stat st;

		snprintf(path, sizeof(path), "%s/big%d", dir, i);
		CHECK(stat(path, &st) == 0 && st.st_size == 0, "big%d empty at the end", i);
		CHECK_OK(unlink(path), "unlink big%d", i);
	}
	for (i = 2; i < 4; i++)
		for (int k = 0; k < SMALL; k += 2) {
			snprintf(path, sizeof(path), "%s/s%d-%d", dir, i, k);
			if (unlink(path) < 0)
				CHECK(false, "unlink %s", path);
		}
	return t_finish();
}
