/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of the persistent store's directory and loader
 * (src/registry/persist.h), on a temporary directory of the machine:
 * - DIR private: a new DIR is made 0700; an existing store that group or
 *   others can enter or write, or that another user owns, is refused with
 *   -EPERM and a line naming the fix; a symlink as DIR is -ELOOP; leftovers
 *   of another user do not count as an interrupted initialization.
 * - The walk has no recursion: a 10,000- to 20,000-deep tree (what the
 *   open-file limit allows: one fd per directory) loads in a thread with a
 *   64 KiB stack; an error at the bottom names the file with an elided
 *   path; every fd the walk opens is closed or handed over.
 * - A wide tree (3,000 sibling directories) loads with one fd per directory
 *   and a few more: the walk keeps none of its own per queued directory.
 * The ownership checks need root (chown); as another user they are skipped.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "registry/persist.h"

/*
 * The deep walk keeps one fd per directory (as the registry does): as deep
 * as the open-file limit lets it, up to 20,000, and never less than the
 * 10,000 a store must load.
 */
#define DEEP_MAX 20000
#define DEEP_MIN 10000
static unsigned deep;

static char top[256];

static int setup(void **state)
{
	const char *tmp = getenv("TMPDIR");

	(void)state;
	snprintf(top, sizeof(top), "%s/rfs-unit-persist.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	return mkdtemp(top) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[512];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	return system(cmd) == 0 ? 0 : -1;
}

static const char *sub(const char *name)
{
	static char buf[512];

	snprintf(buf, sizeof(buf), "%s/%s", top, name);
	return buf;
}

static int open_store(const char *dir, char *err, size_t len)
{
	struct persist *p = NULL;
	int r;

	err[0] = '\0';
	r = persist_open(dir, &p, err, len);
	persist_close(p);
	return r;
}

static mode_t mode_of(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_mode & 07777;
}

static void test_new_store_private(void **state)
{
	char dir[512], err[1024];

	(void)state;
	snprintf(dir, sizeof(dir), "%s", sub("s"));
	assert_int_equal(mkdir(dir, 0777), 0);
	assert_int_equal(chmod(dir, 0777), 0);
	assert_int_equal(open_store(dir, err, sizeof(err)), 0);
	assert_int_equal(mode_of(dir), 0700);

	/* An existing store others can reach: refused, DIR left alone. */
	for (mode_t m = 0701; m <= 0777; m++) {
		if (!(m & 033))
			continue;
		assert_int_equal(chmod(dir, m), 0);
		assert_int_equal(open_store(dir, err, sizeof(err)), -EPERM);
		assert_non_null(strstr(err, "chmod 700"));
		assert_non_null(strstr(err, dir));
		assert_int_equal(mode_of(dir), m);
	}
	/* Read for group and others: names only, nothing inside. */
	assert_int_equal(chmod(dir, 0744), 0);
	assert_int_equal(open_store(dir, err, sizeof(err)), 0);
	assert_int_equal(chmod(dir, 0700), 0);
	assert_int_equal(open_store(dir, err, sizeof(err)), 0);
}

static void test_symlink_refused(void **state)
{
	char dir[512], link[512], err[1024];

	(void)state;
	snprintf(dir, sizeof(dir), "%s", sub("s"));
	snprintf(link, sizeof(link), "%s", sub("link"));
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(symlink(dir, link), 0);
	assert_int_equal(open_store(link, err, sizeof(err)), -ELOOP);
	assert_non_null(strstr(err, "symbolic link"));
}

static void test_owner_refused(void **state)
{
	char dir[512], err[1024];

	(void)state;
	if (geteuid() != 0) {
		skip();
		return;
	}
	snprintf(dir, sizeof(dir), "%s", sub("s"));
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(open_store(dir, err, sizeof(err)), 0);
	assert_int_equal(chown(dir, 2001, 2001), 0);
	assert_int_equal(open_store(dir, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "uid 2001"));
	assert_non_null(strstr(err, "chown 0"));

	/* An empty DIR of another user is not taken over either. */
	snprintf(dir, sizeof(dir), "%s", sub("e"));
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(chown(dir, 2001, 2001), 0);
	assert_int_equal(open_store(dir, err, sizeof(err)), -EPERM);
	assert_int_equal(mode_of(dir), 0700);

	/* Another user's "root/" in an empty DIR is not a leftover of ours. */
	snprintf(dir, sizeof(dir), "%s", sub("l"));
	assert_int_equal(mkdir(dir, 0777), 0);
	assert_int_equal(mkdir(sub("l/root"), 0777), 0);
	assert_int_equal(chown(sub("l/root"), 2001, 2001), 0);
	assert_int_equal(open_store(dir, err, sizeof(err)), -EINVAL);
	/* Ours, it is. */
	assert_int_equal(chown(sub("l/root"), 0, 0), 0);
	assert_int_equal(chmod(sub("l/root"), 0755), 0);
	assert_int_equal(open_store(dir, err, sizeof(err)), 0);
	assert_int_equal(mode_of(dir), 0700);
}

/* ------------------------------------------------------------ the walk */

struct counts {
	unsigned dirs, files, deepest;
	bool fifo_seen;
	int *kept; /* dir() keeps its fds until the walk ends, as the registry does */
};

/* A node is its depth (root 0), as a pointer. */
static int v_dir(void *ctx, void *parent, const char *name, int fd, const struct stat *st,
		 void **ret_node)
{
	struct counts *c = ctx;

	(void)name;
	(void)st;
	c->kept = realloc(c->kept, (c->dirs + 1) * sizeof(*c->kept));
	assert_non_null(c->kept);
	c->kept[c->dirs] = fd;
	c->dirs++;
	*ret_node = (void *)((uintptr_t)parent + 1);
	return 0;
}

static int v_file(void *ctx, void *parent, const char *name, int fd, const struct stat *st,
		  const char *backing, void *node, void **ret_node)
{
	struct counts *c = ctx;

	(void)st;
	(void)backing;
	(void)node;
	(void)name;
	if (fd >= 0)
		close(fd);
	c->files++;
	c->deepest = (unsigned)(uintptr_t)parent;
	*ret_node = parent;
	return 0;
}

static int v_xattr(void *ctx, void *node, const char *name, const void *value, size_t size)
{
	(void)ctx;
	(void)node;
	(void)name;
	(void)value;
	(void)size;
	return 0;
}

struct walk_job {
	const char *dir;
	struct counts counts;
	char err[2048];
	int r;
};

static void *walk_thread(void *arg)
{
	static const struct persist_visitor visitor = {
		.dir = v_dir,
		.file = v_file,
		.xattr = v_xattr,
	};
	struct walk_job *job = arg;
	struct persist_visitor v = visitor;
	struct persist *p = NULL;
	struct stat st;
	int rootfd;

	v.ctx = &job->counts;
	job->err[0] = '\0';
	job->r = persist_open(job->dir, &p, job->err, sizeof(job->err));
	if (job->r == 0)
		job->r = persist_root(p, &rootfd, &st);
	if (job->r == 0) {
		job->r = persist_walk(p, rootfd, (void *)0, &v, job->err, sizeof(job->err));
		close(rootfd);
	}
	persist_close(p);
	for (unsigned i = 0; i < job->counts.dirs; i++)
		close(job->counts.kept[i]);
	free(job->counts.kept);
	job->counts.kept = NULL;
	return NULL;
}

/* The walk, in a thread with a small stack: any recursion per level overflows it. */
static void walk_small_stack(struct walk_job *job)
{
	pthread_attr_t attr;
	pthread_t t;

	assert_int_equal(pthread_attr_init(&attr), 0);
	assert_int_equal(pthread_attr_setstacksize(&attr, 64 * 1024), 0);
	assert_int_equal(pthread_create(&t, &attr, walk_thread, job), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	pthread_attr_destroy(&attr);
}

static unsigned open_fds(void)
{
	unsigned n = 0;

	for (int fd = 0; fd < 65536; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			n++;
	return n;
}

/* A new store at sub("s") (its path into dir): an fd of its DIR/root. */
static int new_store_root(char dir[512])
{
	char err[1024];
	int fd;

	snprintf(dir, 512, "%s", sub("s"));
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(open_store(dir, err, sizeof(err)), 0);
	fd = open(sub("s/root"), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	return fd;
}

static void test_deep_walk(void **state)
{
	struct walk_job job = {0};
	char dir[512];
	unsigned fds;
	int fd, nfd;

	(void)state;
	/* deep nested directories under DIR/root, a file at the bottom. */
	fd = new_store_root(dir);
	for (int i = 0; i < (int)deep; i++) {
		assert_int_equal(mkdirat(fd, "d", 0755), 0);
		nfd = openat(fd, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		assert_true(nfd >= 0);
		close(fd);
		fd = nfd;
	}
	nfd = openat(fd, "bottom", O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	assert_true(nfd >= 0);
	close(nfd);

	fds = open_fds();
	job.dir = dir;
	walk_small_stack(&job);
	if (job.r)
		fail_msg("walk: %d %s", job.r, job.err);
	assert_int_equal(job.counts.dirs, deep);
	assert_int_equal(job.counts.files, 1);
	assert_int_equal(job.counts.deepest, deep);
	assert_int_equal(open_fds(), fds);

	/* A fifo at the bottom: refused, named, the path elided in its middle. */
	assert_int_equal(mkfifoat(fd, "fifo", 0644), 0);
	memset(&job, 0, sizeof(job));
	job.dir = dir;
	walk_small_stack(&job);
	if (job.r != -EINVAL)
		fail_msg("walk: %d %s", job.r, job.err);
	assert_non_null(strstr(job.err, "/d/d/.../d/d/"));
	assert_non_null(strstr(job.err, "/d/d/fifo: not a directory or a regular file"));
	assert_non_null(strstr(job.err, "/root/d/d/"));
	assert_true(strlen(job.err) < 1500);
	assert_int_equal(open_fds(), fds);
	close(fd);
}

/*
 * A wide tree: WIDE sibling directories, under an open-file limit that has
 * room for one fd per directory (what the registry keeps for them, and what
 * the running daemon had) and a few more. A walk that held an fd of its
 * own per directory waiting to be listed failed here with EMFILE: one user
 * with enough mkdirs made the store unloadable.
 */
#define WIDE 3000
#define WALK_SPARE_FDS 16

static void test_wide_walk(void **state)
{
	struct walk_job job = {0};
	struct rlimit old, tight;
	char dir[512], name[32];
	int fd;

	(void)state;
	fd = new_store_root(dir);
	for (int i = 0; i < WIDE; i++) {
		snprintf(name, sizeof(name), "d%d", i);
		assert_int_equal(mkdirat(fd, name, 0755), 0);
	}
	assert_int_equal(mkdirat(fd, "d7/sub", 0755), 0);
	close(fd);

	/* The fds open now, the kept ones, the store's few and the walk's few. */
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	tight = old;
	tight.rlim_cur = open_fds() + WIDE + 1 + WALK_SPARE_FDS;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &tight), 0);
	job.dir = dir;
	walk_small_stack(&job);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	if (job.r)
		fail_msg("walk of %d sibling directories: %d %s", WIDE, job.r, job.err);
	assert_int_equal(job.counts.dirs, WIDE + 1);
}

int main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_new_store_private, setup, teardown),
		cmocka_unit_test_setup_teardown(test_symlink_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_owner_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deep_walk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wide_walk, setup, teardown),
	};
	struct rlimit rl;

	/* Whatever the hard limit allows (raising it needs CAP_SYS_RESOURCE). */
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 1;
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	deep = rl.rlim_cur > DEEP_MAX + 1024 ? DEEP_MAX : (unsigned)rl.rlim_cur - 1024;
	if (rl.rlim_cur < DEEP_MIN + 1024) {
		fprintf(stderr, "test_persist: RLIMIT_NOFILE hard limit %llu is too low for a "
				"%d-deep store (needs %d)\n",
			(unsigned long long)rl.rlim_max, DEEP_MIN, DEEP_MIN + 1024);
		return 1;
	}

	return cmocka_run_group_tests_name("persist", tests, NULL, NULL);
}
