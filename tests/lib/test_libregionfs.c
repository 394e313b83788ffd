// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libregionfs against a real mount (run by t-lib.sh with REGIONFS_MOUNT set
 * to a fresh mount in one data path): create-or-open, names, views, flushes,
 * file-backed regions, lifetimes, attributes, errors, and processes racing
 * on one name.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "regionfs/regionfs.h"

static const char *mnt;

static void path_of(const char *rel, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s", mnt, rel);
}

/* Poll cond for up to 60 s (a busy machine); true once it holds. */
static bool wait_gone(const char *path)
{
	struct timespec ms = { 0, 20 * 1000 * 1000 };

	for (int i = 0; i < 3000; i++) {
		if (access(path, F_OK) < 0 && errno == ENOENT)
			return true;
		nanosleep(&ms, NULL);
	}
	return false;
}

static void test_create_then_open_existing(void **state)
{
	struct rfs_create_opts o = { .lifetime = RFS_LIFETIME_PERSIST };
	struct rfs_region *a, *b;
	bool existed = true;
	uint64_t size;

	assert_int_equal(rfs_create("one", 10000, RFS_PROT_WRITE, &o, &a, &existed), 0);
	assert_false(existed);
	assert_int_equal(rfs_size(a, &size), 0);
	assert_int_equal(size, 10000);
	/* The existing size wins, as on Windows. */
	assert_int_equal(rfs_create("one", 777, RFS_PROT_READ, &o, &b, &existed), 0);
	assert_true(existed);
	assert_int_equal(rfs_size(b, &size), 0);
	assert_int_equal(size, 10000);
	rfs_close(b);
	o.flags = RFS_CREATE_EXCLUSIVE;
	assert_int_equal(rfs_create("one", 777, RFS_PROT_READ, &o, &b, NULL), -EEXIST);
	assert_int_equal(rfs_winerror(-EEXIST), 183);
	enum rfs_lifetime l;
	assert_int_equal(rfs_get_lifetime(a, &l), 0);
	assert_int_equal(l, RFS_LIFETIME_PERSIST);
	assert_int_equal(rfs_open("one", RFS_PROT_READ, &b), 0);
	rfs_close(b);
	rfs_close(a);
	assert_int_equal(rfs_open("nothing-here", RFS_PROT_READ, &b), -ENOENT);
	assert_int_equal(rfs_winerror(-ENOENT), 2);
	assert_int_equal(rfs_create("zero", 0, RFS_PROT_WRITE, NULL, &b, NULL), -EINVAL);
}

static void test_names(void **state)
{
	char buf[PATH_MAX], want[PATH_MAX], longname[300];
	struct stat st;

	assert_int_equal(rfs_path("Local\\x", true, buf, sizeof(buf)), 0);
	snprintf(want, sizeof(want), "%s/Local/%u/x", mnt, (unsigned)geteuid());
	assert_string_equal(buf, want);
	assert_int_equal(rfs_path("x", false, buf, sizeof(buf)), 0);
	assert_string_equal(buf, want);
	snprintf(want, sizeof(want), "%s/Local/%u", mnt, (unsigned)geteuid());
	assert_int_equal(stat(want, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(rfs_path("Global\\g", true, buf, sizeof(buf)), 0);
	snprintf(want, sizeof(want), "%s/Global/g", mnt);
	assert_string_equal(buf, want);
	path_of("Global", want, sizeof(want));
	assert_int_equal(stat(want, &st), 0);
	assert_int_equal(st.st_mode & 07777, 01777);
	assert_int_equal(rfs_path("a/b", false, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(rfs_path("Global\\..", false, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(rfs_path("", false, buf, sizeof(buf)), -EINVAL);
	memset(longname, 'n', 256);
	longname[256] = 0;
	assert_int_equal(rfs_path(longname, false, buf, sizeof(buf)), -ENAMETOOLONG);
	assert_int_equal(rfs_path("x", false, buf, 4), -ERANGE);
	/* Local/UID that is not private is refused. */
	assert_int_equal(chmod(want, 01777), 0);
	snprintf(want, sizeof(want), "%s/Local/%u", mnt, (unsigned)geteuid());
	assert_int_equal(chmod(want, 0755), 0);
	assert_int_equal(rfs_path("x", true, buf, sizeof(buf)), -EACCES);
	assert_int_equal(chmod(want, 0700), 0);
	/* Global owned by a user could have everyone's regions removed by them. */
	path_of("Global", want, sizeof(want));
	assert_int_equal(chown(want, 2001, 2001), 0);
	assert_int_equal(rfs_path("Global\\g", true, buf, sizeof(buf)), -EACCES);
	assert_int_equal(chown(want, 0, 0), 0);
	assert_int_equal(chmod(want, 0777), 0);
	assert_int_equal(rfs_path("Global\\g", true, buf, sizeof(buf)), -EACCES);
	assert_int_equal(chmod(want, 01777), 0);
	/* A user may not be the first to make it: refused, and nothing left. */
	assert_int_equal(rmdir(want), 0);
	pid_t pid = fork();

	if (pid == 0) {
		if (setgid(2001) < 0 || setuid(2001) < 0)
			_exit(2);
		_exit(rfs_path("Global\\g", true, buf, sizeof(buf)) == -EACCES ? 0 : 1);
	}
	int status;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(access(want, F_OK), -1);
	assert_int_equal(rfs_path("Global\\g", true, buf, sizeof(buf)), 0);
	/*
	 * A pending directory another user made (they could swap pending
	 * regions in it) is refused; one a user would make there goes again.
	 */
	struct rfs_region *r;
	char pend[PATH_MAX];

	path_of("Global/.regionfs-pending", pend, sizeof(pend));
	pid = fork();
	if (pid == 0) {
		if (setgid(2001) < 0 || setuid(2001) < 0)
			_exit(2);
		if (rfs_create("Global\\u", 4096, RFS_PROT_READ | RFS_PROT_WRITE, NULL, &r, NULL) !=
		    -EACCES || access(pend, F_OK) == 0)
			_exit(1);
		_exit(mkdir(pend, 01777) == 0 ? 0 : 3);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(rfs_create("Global\\h", 4096, RFS_PROT_READ | RFS_PROT_WRITE, NULL, &r, NULL),
			 -EACCES);
	assert_int_equal(rmdir(pend), 0);
	assert_non_null(strstr(rfs_strerror(-ENODEV), "REGIONFS_MOUNT"));

	/* Without REGIONFS_MOUNT: the only regionfs mount, or a clear error. */
	char line[4096];
	int mounts = 0;
	FILE *f = fopen("/proc/self/mountinfo", "re");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		mounts += strstr(line, " - fuse.regionfs ") != NULL;
	fclose(f);
	unsetenv("REGIONFS_MOUNT");
	if (mounts == 1) {
		assert_int_equal(rfs_path("Global\\g", false, buf, sizeof(buf)), 0);
		snprintf(want, sizeof(want), "%s/Global/g", mnt);
		assert_string_equal(buf, want);
	} else {
		assert_int_equal(rfs_path("Global\\g", false, buf, sizeof(buf)), -ENODEV);
	}
	setenv("REGIONFS_MOUNT", mnt, 1);
}

static void test_views(void **state)
{
	struct rfs_create_opts o = { .lifetime = RFS_LIFETIME_PERSIST };
	struct rfs_region *r, *ro;
	char *v, *w, *c, buf[16];

	assert_int_equal(rfs_create("views", 3 * 4096 + 100, RFS_PROT_WRITE, &o, &r, NULL), 0);
	/* Any offset: the address of the byte asked for. */
	assert_int_equal(rfs_map(r, RFS_MAP_WRITE, 5000, 100, (void **)&v), 0);
	memcpy(v, "hello view", 10);
	assert_int_equal(pread(rfs_fd(r), buf, 10, 5000), 10);
	assert_memory_equal(buf, "hello view", 10);
	/* Length 0: to the end; past the end: an error now, not a SIGBUS later. */
	assert_int_equal(rfs_map(r, RFS_MAP_READ, 12000, 0, (void **)&w), 0);
	assert_int_equal(rfs_unmap(w), 0);
	assert_int_equal(rfs_map(r, RFS_MAP_READ, 12000, 500, (void **)&w), -EOVERFLOW);
	assert_int_equal(rfs_map(r, RFS_MAP_READ, 3 * 4096 + 100, 0, (void **)&w), -EOVERFLOW);
	assert_int_equal(rfs_map(r, 0, 0, 0, (void **)&w), -EINVAL);
	/* Copy-on-write: this process's writes stay here. */
	assert_int_equal(rfs_map(r, RFS_MAP_COPY, 5000, 10, (void **)&c), 0);
	memcpy(c, "private!!!", 10);
	assert_int_equal(pread(rfs_fd(r), buf, 10, 5000), 10);
	assert_memory_equal(buf, "hello view", 10);
	assert_int_equal(rfs_unmap(c), 0);
	/* A read-only handle gives no writable view. */
	assert_int_equal(rfs_open("views", RFS_PROT_READ, &ro), 0);
	assert_int_equal(rfs_map(ro, RFS_MAP_WRITE, 0, 0, (void **)&w), -EACCES);
	assert_int_equal(rfs_map(ro, RFS_MAP_READ, 5000, 10, (void **)&w), 0);
	assert_memory_equal(w, "hello view", 10);
	rfs_close(ro);
	/* An executable view needs an executable handle. */
	assert_int_equal(rfs_map(r, RFS_MAP_EXEC, 0, 4096, (void **)&c), -EACCES);
	assert_int_equal(rfs_open("views", RFS_PROT_READ | RFS_PROT_EXEC, &ro), 0);
	assert_int_equal(rfs_map(ro, RFS_MAP_READ | RFS_MAP_EXEC, 0, 4096, (void **)&c), 0);
	assert_int_equal(rfs_unmap(c), 0);
	rfs_close(ro);
	/* The view outlives the handles. */
	rfs_close(r);
	assert_memory_equal(w, "hello view", 10);
	assert_int_equal(rfs_flush(v, 0, 0), 0);
	assert_int_equal(rfs_flush(v, 10, RFS_FLUSH_DURABLE), 0);
	assert_int_equal(rfs_flush(v, 101, 0), -EINVAL);
	assert_int_equal(rfs_flush(buf, 1, 0), -EINVAL);
	assert_int_equal(rfs_unmap(v), 0);
	assert_int_equal(rfs_unmap(v), -EINVAL);
	assert_int_equal(rfs_unmap(w), 0);
}

static void test_backed(void **state)
{
	struct rfs_create_opts o = { .lifetime = RFS_LIFETIME_PERSIST };
	char file[] = "/tmp/rfs-lib-XXXXXX", buf[8];
	struct rfs_region *r;
	struct stat st;
	char *v;
	int fd = mkstemp(file);

	assert_true(fd >= 0);
	/* Extended to the size asked for, as CreateFileMapping does. */
	assert_int_equal(rfs_create_backed("backed", file, -1, 8192, RFS_PROT_WRITE, &o, &r, NULL), 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_size, 8192);
	assert_int_equal(rfs_map(r, RFS_MAP_WRITE, 4100, 8, (void **)&v), 0);
	memcpy(v, "durable!", 8);
	assert_int_equal(rfs_flush(v, 8, RFS_FLUSH_DURABLE), 0);
	assert_int_equal(pread(fd, buf, 8, 4100), 8);
	assert_memory_equal(buf, "durable!", 8);
	assert_int_equal(rfs_unmap(v), 0);
	rfs_close(r);
	/* By fd: the same file, size 0 = the file's. */
	assert_int_equal(rfs_create_backed("backed-fd", NULL, fd, 0, RFS_PROT_READ, &o, &r, NULL), 0);
	uint64_t size;
	assert_int_equal(rfs_size(r, &size), 0);
	assert_int_equal(size, 8192);
	rfs_close(r);
	close(fd);
	unlink(file);
}

static void test_last_close_default(void **state)
{
	char path[PATH_MAX];
	struct rfs_region *r;
	enum rfs_lifetime l;
	char *v;

	/* The default is Windows': the name goes with the last handle and view. */
	assert_int_equal(rfs_create("Global\\lc", 4096, RFS_PROT_WRITE, NULL, &r, NULL), 0);
	assert_int_equal(rfs_get_lifetime(r, &l), 0);
	assert_int_equal(l, RFS_LIFETIME_LAST_CLOSE);
	assert_int_equal(rfs_map(r, RFS_MAP_WRITE, 0, 0, (void **)&v), 0);
	rfs_close(r);
	path_of("Global/lc", path, sizeof(path));
	assert_int_equal(access(path, F_OK), 0); /* the view holds it */
	assert_int_equal(rfs_unmap(v), 0);
	assert_true(wait_gone(path));
}

static void test_attributes(void **state)
{
	struct rfs_create_opts o = { .lifetime = RFS_LIFETIME_PERSIST };
	struct rfs_region *r;
	char *s, want[64];

	assert_int_equal(rfs_create("attrs", 4096, RFS_PROT_WRITE, &o, &r, NULL), 0);
	assert_int_equal(rfs_get_creator(r, &s), 0);
	snprintf(want, sizeof(want), "pid=%d ", (int)getpid());
	assert_true(strncmp(s, want, strlen(want)) == 0);
	free(s);
	assert_int_equal(rfs_get_holders(r, &s), 0);
	assert_non_null(strstr(s, want));
	free(s);
	assert_int_equal(rfs_get_seals(r, &s), 0);
	assert_string_equal(s, "");
	free(s);
	/* shrink needs nothing; grow, in passthrough, that nobody has it open (this handle too). */
	assert_int_equal(rfs_seal(r, "shrink"), 0);
	assert_int_equal(rfs_resize(r, 2048), -EPERM);
	assert_int_equal(rfs_set_lifetime(r, RFS_LIFETIME_CREATOR), 0);
	assert_int_equal(rfs_set_lifetime(r, (enum rfs_lifetime)9), -EINVAL);
	rfs_close(r);
	/* Our close reaches the daemon asynchronously: EBUSY until it has. */
	int e = -EBUSY;
	struct timespec ms10 = { 0, 10 * 1000 * 1000 };

	for (int i = 0; i < 6000 && e == -EBUSY; i++) {
		e = rfs_seal_name("attrs", "grow");
		if (e == -EBUSY)
			nanosleep(&ms10, NULL);
	}
	assert_int_equal(e, 0);
	assert_int_equal(rfs_open("attrs", RFS_PROT_READ | RFS_PROT_WRITE, &r), 0);
	assert_int_equal(rfs_resize(r, 8192), -EPERM);
	assert_int_equal(rfs_get_seals(r, &s), 0);
	assert_string_equal(s, "shrink,grow");
	free(s);
	assert_int_equal(rfs_seal_name("attrs", "sideways"), -EINVAL);
	assert_int_equal(rfs_seal_name("no-such", "grow"), -ENOENT);
	rfs_close(r);
}

/* Processes racing on one name: one creator, one size, seen by all. */
static void test_race(void **state)
{
	struct rfs_create_opts o = { .lifetime = RFS_LIFETIME_PERSIST };
	enum { N = 16 };
	int pipes[2], created = 0, status;
	uint64_t sizes[N], first = 0;

	assert_int_equal(pipe(pipes), 0);
	for (int i = 0; i < N; i++) {
		if (fork() == 0) {
			struct rfs_region *r;
			bool existed;
			uint64_t rec[2];
			int e = rfs_create("race", 4096 * (uint64_t)(i + 1), RFS_PROT_WRITE, &o, &r, &existed);

			if (e < 0 || rfs_size(r, &rec[1]) < 0)
				_exit(1);
			rec[0] = existed;
			_exit(write(pipes[1], rec, sizeof(rec)) == sizeof(rec) ? 0 : 1);
		}
	}
	close(pipes[1]);
	for (int i = 0; i < N; i++) {
		uint64_t rec[2];

		assert_int_equal(read(pipes[0], rec, sizeof(rec)), sizeof(rec));
		created += rec[0] == 0;
		sizes[i] = rec[1];
		if (i == 0)
			first = rec[1];
		assert_int_equal(sizes[i], first);
	}
	for (int i = 0; i < N; i++) {
		assert_true(wait(&status) > 0);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	close(pipes[0]);
	assert_int_equal(created, 1);
}

/* Threads sharing a handle: views made, flushed and unmapped by different threads. */
struct thread_arg {
	struct rfs_region *r;
	int id;
	int failures;
};

static void *thread_views(void *p)
{
	struct thread_arg *a = p;

	for (int i = 0; i < 500; i++) {
		char *v;

		if (rfs_map(a->r, RFS_MAP_WRITE, (uint64_t)a->id * 4096 + (uint64_t)i % 100, 64,
			    (void **)&v) < 0) {
			a->failures++;
			continue;
		}
		v[0] = (char)a->id;
		if (rfs_flush(v, 64, i % 50 == 0 ? RFS_FLUSH_DURABLE : 0) < 0)
			a->failures++;
		if (rfs_unmap(v) < 0)
			a->failures++;
	}
	return NULL;
}

static void test_threads(void **state)
{
	struct rfs_create_opts o = { .lifetime = RFS_LIFETIME_PERSIST };
	struct thread_arg args[8];
	pthread_t tids[8];
	struct rfs_region *r;
	char b;

	assert_int_equal(rfs_create("threads", 8 * 4096, RFS_PROT_READ | RFS_PROT_WRITE, &o, &r,
				    NULL), 0);
	for (int i = 0; i < 8; i++) {
		args[i] = (struct thread_arg){ .r = r, .id = i };
		assert_int_equal(pthread_create(&tids[i], NULL, thread_views, &args[i]), 0);
	}
	for (int i = 0; i < 8; i++) {
		assert_int_equal(pthread_join(tids[i], NULL), 0);
		assert_int_equal(args[i].failures, 0);
		assert_int_equal(pread(rfs_fd(r), &b, 1, (off_t)i * 4096 + 99), 1);
		assert_int_equal(b, i);
	}
	rfs_close(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_then_open_existing),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_views),
		cmocka_unit_test(test_backed),
		cmocka_unit_test(test_last_close_default),
		cmocka_unit_test(test_attributes),
		cmocka_unit_test(test_race),
		cmocka_unit_test(test_threads),
	};

	mnt = getenv("REGIONFS_MOUNT");
	if (!mnt) {
		fprintf(stderr, "REGIONFS_MOUNT: the mount to test\n");
		return 2;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
