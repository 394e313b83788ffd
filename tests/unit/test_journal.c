/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of the persistent store's journal (src/registry/journal.h,
 * persist_journal() in persist.c) and of the loader (load.c), through the
 * registry's public calls, on a store in a temporary directory.
 *
 * Every system call the journal and the loader make on the store is
 * wrapped (-Wl,--wrap=, see meson.build) and can be made to fail once with
 * a chosen errno. For each operation: the registry returns that errno (or
 * the one its header documents instead), the namespace in memory and the
 * store on disk are as they were, and nothing leaks (the suite also runs
 * under ASan). The loader is swept with a failing allocation at every
 * step: -ENOMEM, and the registry frees whole.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/macros.h"
#include "region/seal.h"
#include "registry/registry.h"

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

#define ROOT REGISTRY_ROOT_INO
#define MiB (1024u * 1024u)

/* ------------------------------------------------------------------ */
/* Failure injection                                                   */
/* ------------------------------------------------------------------ */

enum call {
	C_OPENAT,
	C_MKDIRAT,
	C_LINKAT,
	C_UNLINKAT,
	C_RENAMEAT2,
	C_FCHOWN,
	C_FCHMOD,
	C_FUTIMENS,
	C_FSETXATTR,
	C_FREMOVEXATTR,
	C_FGETXATTR,
	C_FLISTXATTR,
	C_FSYNC,
	C_DUP,
	C_FSTATAT,
	C_FTRUNCATE,
	C_NCALLS,
};

/* One-shot: the call c fails with err after skip successful calls. */
static struct {
	int skip;
	int err; /* 0: disarmed */
	unsigned hits;
} inj[C_NCALLS];

static void fail_once(enum call c, int skip, int err)
{
	inj[c].skip = skip;
	inj[c].err = err;
	inj[c].hits = 0;
}

static bool injected(enum call c)
{
	if (!inj[c].err)
		return false;
	if (inj[c].skip > 0) {
		inj[c].skip--;
		return false;
	}
	errno = inj[c].err;
	inj[c].err = 0;
	inj[c].hits++;
	return true;
}

/* The injection armed for c was used (and only then). */
static void assert_hit(enum call c)
{
	assert_int_equal(inj[c].err, 0);
	assert_int_equal(inj[c].hits, 1);
}

int __real_openat(int dirfd, const char *path, int flags, ...);
int __real_openat64(int dirfd, const char *path, int flags, ...);
int __real_mkdirat(int dirfd, const char *path, mode_t mode);
int __real_linkat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, int flags);
int __real_unlinkat(int dirfd, const char *path, int flags);
int __real_renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath,
		     unsigned flags);
int __real_fchown(int fd, uid_t uid, gid_t gid);
int __real_fchmod(int fd, mode_t mode);
int __real_futimens(int fd, const struct timespec times[2]);
int __real_fsetxattr(int fd, const char *name, const void *value, size_t size, int flags);
int __real_fremovexattr(int fd, const char *name);
ssize_t __real_fgetxattr(int fd, const char *name, void *value, size_t size);
ssize_t __real_flistxattr(int fd, char *list, size_t size);
int __real_fsync(int fd);
int __real_dup(int fd);
int __real_fstatat(int dirfd, const char *path, struct stat *st, int flags);
int __real_fstatat64(int dirfd, const char *path, struct stat *st, int flags);
int __real_ftruncate(int fd, off_t len);
int __real_ftruncate64(int fd, off_t len);
void *__real_malloc(size_t size);
void *__real_calloc(size_t nmemb, size_t size);
void *__real_realloc(void *p, size_t size);
char *__real_strdup(const char *s);

int __wrap_openat(int dirfd, const char *path, int flags, ...);
int __wrap_openat64(int dirfd, const char *path, int flags, ...);
int __wrap_mkdirat(int dirfd, const char *path, mode_t mode);
int __wrap_linkat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, int flags);
int __wrap_unlinkat(int dirfd, const char *path, int flags);
int __wrap_renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath,
		     unsigned flags);
int __wrap_fchown(int fd, uid_t uid, gid_t gid);
int __wrap_fchmod(int fd, mode_t mode);
int __wrap_futimens(int fd, const struct timespec times[2]);
int __wrap_fsetxattr(int fd, const char *name, const void *value, size_t size, int flags);
int __wrap_fremovexattr(int fd, const char *name);
ssize_t __wrap_fgetxattr(int fd, const char *name, void *value, size_t size);
ssize_t __wrap_flistxattr(int fd, char *list, size_t size);
int __wrap_fsync(int fd);
int __wrap_dup(int fd);
int __wrap_fstatat(int dirfd, const char *path, struct stat *st, int flags);
int __wrap_fstatat64(int dirfd, const char *path, struct stat *st, int flags);
int __wrap_ftruncate(int fd, off_t len);
int __wrap_ftruncate64(int fd, off_t len);
void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t nmemb, size_t size);
void *__wrap_realloc(void *p, size_t size);
char *__wrap_strdup(const char *s);

/* _FILE_OFFSET_BITS=64 makes glibc call some of the *64 names: both are wrapped. */
static mode_t open_mode(int flags, va_list ap)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? (mode_t)va_arg(ap, int) : 0;
}

int __wrap_openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	return injected(C_OPENAT) ? -1 : __real_openat(dirfd, path, flags, mode);
}

int __wrap_openat64(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	return injected(C_OPENAT) ? -1 : __real_openat64(dirfd, path, flags, mode);
}

int __wrap_mkdirat(int dirfd, const char *path, mode_t mode)
{
	return injected(C_MKDIRAT) ? -1 : __real_mkdirat(dirfd, path, mode);
}

int __wrap_linkat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, int flags)
{
	return injected(C_LINKAT) ? -1 : __real_linkat(olddirfd, oldpath, newdirfd, newpath, flags);
}

int __wrap_unlinkat(int dirfd, const char *path, int flags)
{
	return injected(C_UNLINKAT) ? -1 : __real_unlinkat(dirfd, path, flags);
}

int __wrap_renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath,
		     unsigned flags)
{
	return injected(C_RENAMEAT2) ? -1
				     : __real_renameat2(olddirfd, oldpath, newdirfd, newpath, flags);
}

int __wrap_fchown(int fd, uid_t uid, gid_t gid)
{
	return injected(C_FCHOWN) ? -1 : __real_fchown(fd, uid, gid);
}

int __wrap_fchmod(int fd, mode_t mode)
{
	return injected(C_FCHMOD) ? -1 : __real_fchmod(fd, mode);
}

int __wrap_futimens(int fd, const struct timespec times[2])
{
	return injected(C_FUTIMENS) ? -1 : __real_futimens(fd, times);
}

int __wrap_fsetxattr(int fd, const char *name, const void *value, size_t size, int flags)
{
	return injected(C_FSETXATTR) ? -1 : __real_fsetxattr(fd, name, value, size, flags);
}

int __wrap_fremovexattr(int fd, const char *name)
{
	return injected(C_FREMOVEXATTR) ? -1 : __real_fremovexattr(fd, name);
}

ssize_t __wrap_fgetxattr(int fd, const char *name, void *value, size_t size)
{
	return injected(C_FGETXATTR) ? -1 : __real_fgetxattr(fd, name, value, size);
}

ssize_t __wrap_flistxattr(int fd, char *list, size_t size)
{
	return injected(C_FLISTXATTR) ? -1 : __real_flistxattr(fd, list, size);
}

int __wrap_fsync(int fd)
{
	return injected(C_FSYNC) ? -1 : __real_fsync(fd);
}

int __wrap_dup(int fd)
{
	return injected(C_DUP) ? -1 : __real_dup(fd);
}

int __wrap_fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
	return injected(C_FSTATAT) ? -1 : __real_fstatat(dirfd, path, st, flags);
}

int __wrap_fstatat64(int dirfd, const char *path, struct stat *st, int flags)
{
	return injected(C_FSTATAT) ? -1 : __real_fstatat64(dirfd, path, st, flags);
}

int __wrap_ftruncate(int fd, off_t len)
{
	return injected(C_FTRUNCATE) ? -1 : __real_ftruncate(fd, len);
}

int __wrap_ftruncate64(int fd, off_t len)
{
	return injected(C_FTRUNCATE) ? -1 : __real_ftruncate64(fd, len);
}

/* Allocations: -1 disarmed, else how many still succeed before one fails. */
static long alloc_fail_in = -1;

static bool alloc_fails(void)
{
	if (alloc_fail_in < 0)
		return false;
	if (alloc_fail_in-- > 0)
		return false;
	errno = ENOMEM;
	return true;
}

void *__wrap_malloc(size_t size)
{
	return alloc_fails() ? NULL : __real_malloc(size);
}

void *__wrap_calloc(size_t nmemb, size_t size)
{
	return alloc_fails() ? NULL : __real_calloc(nmemb, size);
}

void *__wrap_realloc(void *p, size_t size)
{
	return alloc_fails() ? NULL : __real_realloc(p, size);
}

char *__wrap_strdup(const char *s)
{
	return alloc_fails() ? NULL : __real_strdup(s);
}

/* ------------------------------------------------------------------ */
/* Fixture: a registry over a store in a temporary directory           */
/* ------------------------------------------------------------------ */

static char dir[PATH_MAX];
static struct region_store *store;
static struct registry *reg;
static struct registry_cred cred;
static char err[PATH_MAX + 256];
static char bound_file[PATH_MAX];

static int open_binding(void *ctx, const char *region, const char *path, uid_t uid, gid_t gid,
			int *ret_fd)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);

	(void)ctx, (void)region, (void)uid, (void)gid;
	if (fd < 0)
		return -errno;
	*ret_fd = fd;
	return 0;
}

/*
 * A registry loading the store in dir: the load's result. fail_in: as
 * alloc_fail_in, for the load only.
 */
static int open_reg_failing(long fail_in)
{
	int r;

	struct registry_config cfg = {
		.root_mode = 0755,
		.root_uid = cred.uid,
		.root_gid = cred.gid,
		.open_binding = open_binding,
	};

	assert_null(reg);
	assert_int_equal(store_open(64 * MiB, STORE_FORCE_MEMFD, &store), 0);
	assert_int_equal(registry_new(store, &cfg, &reg), 0);
	err[0] = '\0';
	alloc_fail_in = fail_in;
	r = registry_load(reg, dir, err, sizeof(err));
	alloc_fail_in = -1;
	return r;
}

static int open_reg(void)
{
	return open_reg_failing(-1);
}

static void close_reg(void)
{
	registry_free(reg);
	store_close(store);
	reg = NULL;
	store = NULL;
}

static int setup(void **state)
{
	const char *tmp = getenv("TMPDIR");

	(void)state;
	memset(inj, 0, sizeof(inj));
	alloc_fail_in = -1;
	cred.uid = geteuid();
	cred.gid = getegid();
	snprintf(dir, sizeof(dir), "%s/rfs-unit-journal.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir))
		return -1;
	if (chmod(dir, 0700) < 0)
		return -1;
	bound_file[0] = '\0';
	return open_reg() == 0 ? 0 : -1;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static int teardown(void **state)
{
	(void)state;
	alloc_fail_in = -1;
	memset(inj, 0, sizeof(inj));
	if (reg)
		close_reg();
	if (bound_file[0])
		unlink(bound_file);
	return nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* The path of name below the store's root. */
static const char *in_store(const char *name)
{
	static char buf[2][PATH_MAX + 16];
	static int which;

	which ^= 1;
	snprintf(buf[which], sizeof(buf[which]), "%s/root/%s", dir, name);
	return buf[which];
}

static bool stored(const char *name)
{
	struct stat st;

	return lstat(in_store(name), &st) == 0;
}

/* Entries of DIR/tmp (unfinished directories): none after any failure. */
static int tmp_entries(void)
{
	char path[PATH_MAX + 8];
	struct dirent *de;
	int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/tmp", dir);
	d = opendir(path);
	assert_non_null(d);
	while ((de = readdir(d)))
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(d);
	return n;
}

static uint64_t mk(uint64_t parent, const char *name)
{
	struct stat st;

	assert_int_equal(registry_create(reg, parent, name, 0644, &cred, &st), 0);
	return st.st_ino;
}

static uint64_t mkd(uint64_t parent, const char *name)
{
	struct stat st;

	assert_int_equal(registry_mkdir(reg, parent, name, 0755, &cred, &st), 0);
	return st.st_ino;
}

static int lookup(uint64_t parent, const char *name, struct stat *ret)
{
	struct stat st;
	int r = registry_lookup(reg, parent, name, ret ? ret : &st, NULL);

	if (r == 0)
		registry_forget(reg, (ret ? ret : &st)->st_ino, 1);
	return r;
}

static struct stat attr_of(uint64_t ino)
{
	struct stat st;

	assert_int_equal(registry_getattr(reg, ino, &st, NULL), 0);
	return st;
}

static ssize_t stored_xattr(const char *name, const char *xname, char *buf, size_t size)
{
	ssize_t n = lgetxattr(in_store(name), xname, buf, size);

	return n < 0 ? -errno : n;
}

/* ------------------------------------------------------------------ */
/* The journal: each failing system call                               */
/* ------------------------------------------------------------------ */

static void test_create_fails(void **state)
{
	static const struct {
		enum call c;
		int err, want;
	} cases[] = {
		{ C_OPENAT, EMFILE, -ENOSPC }, /* no fd for a new region: "no room" */
		{ C_OPENAT, EIO, -EIO },
		{ C_FCHOWN, EDQUOT, -EDQUOT },
		{ C_FCHMOD, EIO, -EIO },
		{ C_LINKAT, ENOSPC, -ENOSPC },
	};
	struct stat st;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fail_once(cases[i].c, 0, cases[i].err);
		assert_int_equal(registry_create(reg, ROOT, "a", 0644, &cred, &st), cases[i].want);
		assert_hit(cases[i].c);
		assert_int_equal(lookup(ROOT, "a", NULL), -ENOENT);
		assert_false(stored("a"));
	}
	assert_int_equal(attr_of(ROOT).st_nlink, 2);
	mk(ROOT, "a");
	assert_true(stored("a"));
}

static void test_mkdir_fails(void **state)
{
	static const struct {
		enum call c;
		int err, want;
	} cases[] = {
		{ C_MKDIRAT, EDQUOT, -EDQUOT },
		{ C_OPENAT, EMFILE, -ENOSPC },
		{ C_FCHOWN, EIO, -EIO },
		{ C_FCHMOD, EIO, -EIO },
		{ C_RENAMEAT2, ENOSPC, -ENOSPC },
	};
	struct stat st;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fail_once(cases[i].c, 0, cases[i].err);
		assert_int_equal(registry_mkdir(reg, ROOT, "d", 0755, &cred, &st), cases[i].want);
		assert_hit(cases[i].c);
		assert_int_equal(lookup(ROOT, "d", NULL), -ENOENT);
		assert_false(stored("d"));
		assert_int_equal(tmp_entries(), 0); /* the unfinished directory is gone */
	}
	assert_int_equal(attr_of(ROOT).st_nlink, 2);
	mkd(ROOT, "d");
	assert_true(stored("d"));
	assert_int_equal(attr_of(ROOT).st_nlink, 3);
}

/* Out of memory after the store made the name: the store's name goes too. */
static void test_create_nomem_undone(void **state)
{
	struct stat st;
	long n;

	(void)state;
	for (n = 0;; n++) {
		int r;

		alloc_fail_in = n;
		r = registry_create(reg, ROOT, "a", 0644, &cred, &st);
		alloc_fail_in = -1;
		if (r == 0)
			break;
		assert_int_equal(r, -ENOMEM);
		assert_int_equal(lookup(ROOT, "a", NULL), -ENOENT);
		assert_false(stored("a"));
	}
	assert_true(n > 0);
	for (n = 0;; n++) {
		int r;

		alloc_fail_in = n;
		r = registry_mkdir(reg, ROOT, "d", 0755, &cred, &st);
		alloc_fail_in = -1;
		if (r == 0)
			break;
		assert_int_equal(r, -ENOMEM);
		assert_false(stored("d"));
		assert_int_equal(tmp_entries(), 0);
	}
	assert_true(n > 0);
	assert_true(stored("a") && stored("d"));
}

static void test_remove_fails(void **state)
{
	uint64_t d;

	(void)state;
	mk(ROOT, "a");
	d = mkd(ROOT, "d");
	fail_once(C_UNLINKAT, 0, EIO);
	assert_int_equal(registry_unlink(reg, ROOT, "a"), -EIO);
	assert_hit(C_UNLINKAT);
	assert_int_equal(lookup(ROOT, "a", NULL), 0);
	assert_true(stored("a"));
	fail_once(C_UNLINKAT, 0, EROFS);
	assert_int_equal(registry_rmdir(reg, ROOT, "d"), -EROFS);
	assert_int_equal(lookup(ROOT, "d", NULL), 0);
	assert_int_equal(attr_of(d).st_nlink, 2);
	assert_int_equal(attr_of(ROOT).st_nlink, 3);
	assert_true(stored("d"));
	assert_int_equal(registry_unlink(reg, ROOT, "a"), 0);
	assert_int_equal(registry_rmdir(reg, ROOT, "d"), 0);
	assert_false(stored("a") || stored("d"));
}

static void test_rename_fails(void **state)
{
	struct stat st;
	uint64_t a, b, d;

	(void)state;
	a = mk(ROOT, "a");
	b = mk(ROOT, "b");
	d = mkd(ROOT, "d");
	fail_once(C_RENAMEAT2, 0, EXDEV);
	assert_int_equal(registry_rename(reg, ROOT, "a", d, "x", 0), -EXDEV);
	assert_hit(C_RENAMEAT2);
	assert_int_equal(lookup(ROOT, "a", NULL), 0);
	assert_int_equal(lookup(d, "x", NULL), -ENOENT);
	assert_true(stored("a"));
	assert_false(stored("d/x"));

	/* Over an existing name: both stay. */
	fail_once(C_RENAMEAT2, 0, EIO);
	assert_int_equal(registry_rename(reg, ROOT, "a", ROOT, "b", 0), -EIO);
	assert_int_equal(attr_of(a).st_nlink, 1);
	assert_int_equal(attr_of(b).st_nlink, 1);
	assert_true(stored("a") && stored("b"));

	/* A directory into another: the link counts stay. */
	mkd(ROOT, "e");
	fail_once(C_RENAMEAT2, 0, EIO);
	assert_int_equal(registry_rename(reg, ROOT, "e", d, "e", 0), -EIO);
	assert_int_equal(attr_of(ROOT).st_nlink, 4);
	assert_int_equal(attr_of(d).st_nlink, 2);

	fail_once(C_RENAMEAT2, 0, EIO);
	assert_int_equal(registry_rename(reg, ROOT, "a", ROOT, "b", RENAME_EXCHANGE), -EIO);
	assert_int_equal(lookup(ROOT, "a", &st), 0);
	assert_int_equal(st.st_ino, a);
	assert_int_equal(registry_rename(reg, ROOT, "a", d, "x", 0), 0);
	assert_true(stored("d/x"));
	assert_false(stored("a"));
}

static void test_link_fails(void **state)
{
	struct stat st;
	uint64_t a;

	(void)state;
	a = mk(ROOT, "a");
	fail_once(C_LINKAT, 0, EMLINK);
	assert_int_equal(registry_link(reg, a, ROOT, "b", &st, NULL), -EMLINK);
	assert_hit(C_LINKAT);
	assert_int_equal(attr_of(a).st_nlink, 1);
	assert_int_equal(lookup(ROOT, "b", NULL), -ENOENT);
	assert_false(stored("b"));

	/* Out of memory after the store's link: the store's name goes again. */
	alloc_fail_in = 0;
	assert_int_equal(registry_link(reg, a, ROOT, "b", &st, NULL), -ENOMEM);
	alloc_fail_in = -1;
	assert_false(stored("b"));
	assert_int_equal(attr_of(a).st_nlink, 1);

	assert_int_equal(registry_link(reg, a, ROOT, "b", &st, NULL), 0);
	registry_forget(reg, a, 1);
	assert_true(stored("b"));
	assert_int_equal(attr_of(a).st_nlink, 2);
}

static void test_setxattr_fails(void **state)
{
	char buf[16];
	uint64_t a;

	(void)state;
	a = mk(ROOT, "a");
	assert_int_equal(registry_setxattr(reg, a, "user.k", "old", 3, 0), 0);

	/* The store refuses: neither the new nor the changed value is kept. */
	fail_once(C_FSETXATTR, 0, EDQUOT);
	assert_int_equal(registry_setxattr(reg, a, "user.n", "v", 1, 0), -EDQUOT);
	assert_hit(C_FSETXATTR);
	assert_int_equal(registry_getxattr(reg, a, "user.n", buf, sizeof(buf)), -ENODATA);
	assert_int_equal(stored_xattr("a", "user.n", buf, sizeof(buf)), -ENODATA);
	fail_once(C_FSETXATTR, 0, ENOSPC);
	assert_int_equal(registry_setxattr(reg, a, "user.k", "new", 3, 0), -ENOSPC);
	assert_int_equal(registry_getxattr(reg, a, "user.k", buf, sizeof(buf)), 3);
	assert_memory_equal(buf, "old", 3);
	assert_int_equal(stored_xattr("a", "user.k", buf, sizeof(buf)), 3);
	assert_memory_equal(buf, "old", 3);

	/* The store took it, memory did not: the store gets the old state back. */
	alloc_fail_in = 0;
	assert_int_equal(registry_setxattr(reg, a, "user.k", "newer", 5, 0), -ENOMEM);
	alloc_fail_in = -1;
	assert_int_equal(stored_xattr("a", "user.k", buf, sizeof(buf)), 3);
	assert_memory_equal(buf, "old", 3);
	alloc_fail_in = 0;
	assert_int_equal(registry_setxattr(reg, a, "user.n", "v", 1, 0), -ENOMEM);
	alloc_fail_in = -1;
	assert_int_equal(stored_xattr("a", "user.n", buf, sizeof(buf)), -ENODATA);
	assert_int_equal(registry_listxattr(reg, a, NULL, 0), (ssize_t)sizeof("user.k"));
}

static void test_removexattr_fails(void **state)
{
	char buf[16];
	uint64_t d;

	(void)state;
	d = mkd(ROOT, "d");
	assert_int_equal(registry_setxattr(reg, d, "user.k", "v", 1, 0), 0);
	fail_once(C_FREMOVEXATTR, 0, EIO);
	assert_int_equal(registry_removexattr(reg, d, "user.k"), -EIO);
	assert_hit(C_FREMOVEXATTR);
	assert_int_equal(registry_getxattr(reg, d, "user.k", buf, sizeof(buf)), 1);
	assert_int_equal(stored_xattr("d", "user.k", buf, sizeof(buf)), 1);
	assert_int_equal(registry_removexattr(reg, d, "user.k"), 0);
	assert_int_equal(stored_xattr("d", "user.k", buf, sizeof(buf)), -ENODATA);
}

static void test_fsyncdir_fails(void **state)
{
	uint64_t d;

	(void)state;
	d = mkd(ROOT, "d");
	fail_once(C_FSYNC, 0, EIO);
	assert_int_equal(registry_fsyncdir(reg, d), -EIO);
	assert_hit(C_FSYNC);
	assert_int_equal(registry_fsyncdir(reg, d), 0);
	assert_int_equal(registry_fsyncdir(reg, ROOT), 0);
}

static void test_chown_fails(void **state)
{
	struct registry_setattr sa = {
		.valid = REGISTRY_SET_UID | REGISTRY_SET_GID | REGISTRY_SET_MODE,
		.uid = cred.uid,
		.gid = cred.gid,
		.mode = 0600,
	};
	struct stat st;
	uint64_t a, d;

	(void)state;
	a = mk(ROOT, "a");
	d = mkd(ROOT, "d");
	fail_once(C_FCHOWN, 0, EDQUOT);
	assert_int_equal(registry_setattr(reg, a, &sa, &st, NULL), -EDQUOT);
	assert_hit(C_FCHOWN);
	assert_int_equal(attr_of(a).st_mode & 07777, 0644);
	fail_once(C_FCHMOD, 0, EIO);
	assert_int_equal(registry_setattr(reg, d, &sa, &st, NULL), -EIO);
	assert_int_equal(attr_of(d).st_mode & 07777, 0755);
	assert_int_equal(lstat(in_store("d"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_int_equal(registry_setattr(reg, a, &sa, &st, NULL), 0);
	assert_int_equal(lstat(in_store("a"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
}

/* A user's file to bind; its path in bound_file. */
static int user_file(void)
{
	const char *tmp = getenv("TMPDIR");
	int fd;

	snprintf(bound_file, sizeof(bound_file), "%s/rfs-unit-journal-file.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	fd = mkostemp(bound_file, O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "data", 4), 4);
	return fd;
}

static void test_bind_fails(void **state)
{
	const struct registry_cred binder = { .uid = cred.uid, .gid = cred.gid };
	char buf[PATH_MAX];
	uint64_t a;
	int fd;

	(void)state;
	a = mk(ROOT, "a");
	fd = user_file();
	fail_once(C_DUP, 0, EMFILE);
	assert_int_equal(registry_bind(reg, a, fd, bound_file, &binder, 0, true), -EMFILE);
	assert_hit(C_DUP);
	fail_once(C_FSETXATTR, 0, EDQUOT);
	assert_int_equal(registry_bind(reg, a, fd, bound_file, &binder, 0, true), -EDQUOT);
	assert_hit(C_FSETXATTR);
	/* Not bound, the fd still the caller's, no trace in the store. */
	assert_int_equal(registry_backing_path(reg, a, NULL, 0), -ENODATA);
	assert_true(fcntl(fd, F_GETFD) >= 0);
	assert_int_equal(stored_xattr("a", "user.regionfs.backing", buf, sizeof(buf)), -ENODATA);

	assert_int_equal(registry_bind(reg, a, fd, bound_file, &binder, 0, true), 0);
	assert_int_equal(stored_xattr("a", "user.regionfs.backing", buf, sizeof(buf)),
			 (ssize_t)strlen(bound_file));
	assert_int_equal(attr_of(a).st_size, 4);

	/* The placeholder carries the metadata from now on. */
	fail_once(C_FSETXATTR, 0, EIO);
	assert_int_equal(registry_setxattr(reg, a, "user.k", "v", 1, 0), -EIO);
	assert_int_equal(registry_setxattr(reg, a, "user.k", "v", 1, 0), 0);
	assert_int_equal(stored_xattr("a", "user.k", buf, sizeof(buf)), 1);

	/* And it loads back bound. */
	close_reg();
	assert_int_equal(open_reg(), 0);
	assert_int_equal(lookup(ROOT, "a", NULL), 0);
}

/* ------------------------------------------------------------------ */
/* setattr: whole or not at all                                        */
/* ------------------------------------------------------------------ */

static void set_size(uint64_t ino, uint64_t size)
{
	struct registry_setattr sa = { .valid = REGISTRY_SET_SIZE, .size = size };
	struct stat st;

	assert_int_equal(registry_setattr(reg, ino, &sa, &st, NULL), 0);
	assert_int_equal(st.st_size, (off_t)size);
}

/* A region of 100 bytes, mode 0644, mtime 1000 s: what a failed setattr must leave. */
static uint64_t region_before(const char *name)
{
	struct registry_setattr sa = {
		.valid = REGISTRY_SET_ATIME | REGISTRY_SET_MTIME,
		.atime = { .tv_sec = 500 },
		.mtime = { .tv_sec = 1000 },
	};
	struct stat st;
	uint64_t a = mk(ROOT, name);

	set_size(a, 100);
	assert_int_equal(registry_setattr(reg, a, &sa, &st, NULL), 0);
	return a;
}

static void assert_before(uint64_t a, const char *name)
{
	struct stat st = attr_of(a);

	assert_int_equal(st.st_size, 100);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(st.st_atim.tv_sec, 500);
	assert_int_equal(st.st_mtim.tv_sec, 1000);
	if (name) {
		assert_int_equal(lstat(in_store(name), &st), 0);
		assert_int_equal(st.st_mode & 07777, 0644);
		assert_int_equal(st.st_size, 100);
		assert_int_equal(st.st_mtim.tv_sec, 1000);
	}
}

static void test_setattr_whole_or_nothing(void **state)
{
	static const struct {
		enum call c;
		int skip, err;
		uint64_t size;
	} cases[] = {
		/* The store's owner or mode, with a grow and with a shrink. */
		{ C_FCHOWN, 0, EDQUOT, 8192 },
		{ C_FCHMOD, 0, EIO, 8192 },
		{ C_FCHOWN, 0, EDQUOT, 10 },
		/* The size, after the owner and mode (and the times of a shrink) were set. */
		{ C_FTRUNCATE, 0, EIO, 8192 },
		{ C_FTRUNCATE, 0, EIO, 10 },
		/* The times: after a grow, and before a shrink. */
		{ C_FUTIMENS, 0, EIO, 8192 },
		{ C_FUTIMENS, 0, EIO, 10 },
	};
	struct registry_setattr sa = {
		.valid = REGISTRY_SET_SIZE | REGISTRY_SET_MODE | REGISTRY_SET_UID | REGISTRY_SET_GID |
			 REGISTRY_SET_MTIME | REGISTRY_SET_ATIME,
		.mode = 0600,
		.uid = cred.uid,
		.gid = cred.gid,
		.atime = { .tv_sec = 2000 },
		.mtime = { .tv_sec = 3000 },
	};
	struct stat st;
	uint64_t a;

	(void)state;
	a = region_before("a");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sa.size = cases[i].size;
		fail_once(cases[i].c, cases[i].skip, cases[i].err);
		if (registry_setattr(reg, a, &sa, &st, NULL) != -cases[i].err)
			fail_msg("case %zu: not -%d", i, cases[i].err);
		assert_hit(cases[i].c);
		assert_before(a, "a");
	}

	/* Without a failure: all of it. */
	sa.size = 10;
	assert_int_equal(registry_setattr(reg, a, &sa, &st, NULL), 0);
	assert_int_equal(st.st_size, 10);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_mtim.tv_sec, 3000);
	assert_int_equal(st.st_atim.tv_sec, 2000);

	/* A truncate's "mtime now": the resize sets it, no futimens of its own. */
	sa.valid = REGISTRY_SET_SIZE | REGISTRY_SET_MTIME;
	sa.mtime.tv_nsec = UTIME_NOW;
	sa.size = 5;
	fail_once(C_FUTIMENS, 0, EIO);
	assert_int_equal(registry_setattr(reg, a, &sa, &st, NULL), 0);
	assert_int_equal(inj[C_FUTIMENS].hits, 0);
	fail_once(C_FUTIMENS, 0, 0);
	assert_int_equal(st.st_size, 5);
	assert_true(st.st_mtim.tv_sec > 3000);
}

/* The one exception (registry.h): the times after a shrink fail, the rest stays. */
static void test_setattr_shrink_then_times_fail(void **state)
{
	struct registry_setattr sa = {
		.valid = REGISTRY_SET_SIZE | REGISTRY_SET_MODE | REGISTRY_SET_MTIME,
		.size = 10,
		.mode = 0600,
		.mtime = { .tv_sec = 3000 },
	};
	struct stat st;
	uint64_t a;

	(void)state;
	a = region_before("a");
	fail_once(C_FUTIMENS, 1, EIO);
	assert_int_equal(registry_setattr(reg, a, &sa, &st, NULL), -EIO);
	assert_hit(C_FUTIMENS);
	st = attr_of(a);
	assert_int_equal(st.st_size, 10);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(lstat(in_store("a"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
}

/* A directory: the store's times and owner, undone together. */
static void test_setattr_dir_whole_or_nothing(void **state)
{
	struct registry_setattr sa = {
		.valid = REGISTRY_SET_MODE | REGISTRY_SET_MTIME,
		.mode = 0700,
		.mtime = { .tv_sec = 3000 },
	};
	struct stat st, before;
	uint64_t d;

	(void)state;
	d = mkd(ROOT, "d");
	assert_int_equal(lstat(in_store("d"), &before), 0);
	fail_once(C_FUTIMENS, 0, EIO);
	assert_int_equal(registry_setattr(reg, d, &sa, &st, NULL), -EIO);
	assert_hit(C_FUTIMENS);
	assert_int_equal(attr_of(d).st_mode & 07777, 0755);
	assert_int_equal(lstat(in_store("d"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_int_equal(st.st_mtim.tv_sec, before.st_mtim.tv_sec);
	assert_int_equal(registry_setattr(reg, d, &sa, &st, NULL), 0);
	assert_int_equal(st.st_mtim.tv_sec, 3000);
	assert_int_equal(st.st_mode & 07777, 0700);
}

/* Memory only (no journal): a failing region step still leaves nothing done. */
static void test_setattr_memory_only(void **state)
{
	struct registry_config cfg = { .root_mode = 0755 };
	struct registry_setattr sa = {
		.valid = REGISTRY_SET_SIZE | REGISTRY_SET_MODE | REGISTRY_SET_MTIME,
		.size = 8192,
		.mode = 0600,
		.mtime = { .tv_sec = 3000 },
	};
	struct stat st;
	uint64_t a;

	(void)state;
	close_reg();
	assert_int_equal(store_open(64 * MiB, STORE_FORCE_MEMFD, &store), 0);
	assert_int_equal(registry_new(store, &cfg, &reg), 0);
	a = region_before("a");
	fail_once(C_FUTIMENS, 0, EIO);
	assert_int_equal(registry_setattr(reg, a, &sa, &st, NULL), -EIO);
	assert_hit(C_FUTIMENS);
	assert_before(a, NULL);
	sa.size = 10;
	fail_once(C_FTRUNCATE, 0, EIO);
	assert_int_equal(registry_setattr(reg, a, &sa, &st, NULL), -EIO);
	assert_before(a, NULL);
	assert_int_equal(registry_setattr(reg, a, &sa, &st, NULL), 0);
	assert_int_equal(st.st_size, 10);
	assert_int_equal(st.st_mtim.tv_sec, 3000);
	assert_false(stored("a")); /* nothing went to the store */
}

/* ------------------------------------------------------------------ */
/* The loader                                                          */
/* ------------------------------------------------------------------ */

/*
 * A store holding a bit of everything: d/, d/e/, a (with an xattr), d/b (a
 * link of a), u (bound to a file that is gone by the load: unbound).
 */
static void fill_store(void)
{
	const struct registry_cred binder = { .uid = cred.uid, .gid = cred.gid };
	struct stat st;
	uint64_t a, d, u;
	int fd;

	d = mkd(ROOT, "d");
	mkd(d, "e");
	a = mk(ROOT, "a");
	assert_int_equal(registry_setxattr(reg, a, "user.k", "v", 1, 0), 0);
	assert_int_equal(registry_setxattr(reg, d, "user.dk", "dv", 2, 0), 0);
	assert_int_equal(registry_link(reg, a, d, "b", &st, NULL), 0);
	u = mk(ROOT, "u");
	fd = user_file();
	assert_int_equal(registry_bind(reg, u, fd, bound_file, &binder, 0, true), 0);
	close_reg();
	assert_int_equal(unlink(bound_file), 0);
}

static void assert_filled(void)
{
	struct region *region;
	struct stat sa, sb, sd;
	char buf[4];

	assert_int_equal(lookup(ROOT, "a", &sa), 0);
	assert_int_equal(lookup(ROOT, "d", &sd), 0);
	assert_int_equal(lookup(sd.st_ino, "b", &sb), 0);
	assert_int_equal(lookup(sd.st_ino, "e", NULL), 0);
	assert_int_equal(sa.st_ino, sb.st_ino);
	assert_int_equal(sa.st_nlink, 2);
	assert_int_equal(sd.st_nlink, 3);
	assert_int_equal(registry_getxattr(reg, sa.st_ino, "user.k", buf, sizeof(buf)), 1);
	assert_int_equal(registry_getxattr(reg, sd.st_ino, "user.dk", buf, sizeof(buf)), 2);
	assert_int_equal(lookup(ROOT, "u", &sa), 0);
	assert_int_equal(registry_backing_path(reg, sa.st_ino, NULL, 0),
			 (ssize_t)strlen(bound_file));
	assert_int_equal(registry_open(reg, sa.st_ino, &region), -ENXIO);
}

static void test_load_syscall_fails(void **state)
{
	static const struct {
		enum call c;
		int skip, err, want;
		const char *names; /* in the message */
	} cases[] = {
		/* persist_open: the store's directory, then tmp (and "." to clean it) and root. */
		{ C_OPENAT, 0, EIO, -EIO, "/format" },
		{ C_OPENAT, 1, EACCES, -EACCES, "/lock" },
		{ C_OPENAT, 2, EIO, -EIO, "/tmp" },
		{ C_OPENAT, 4, EIO, -EIO, "/root" },
		/* The walk: root's listing, a directory, a region; the open-file limit named. */
		{ C_OPENAT, 5, EMFILE, -EMFILE, "RLIMIT_NOFILE" },
		{ C_OPENAT, 6, EMFILE, -EMFILE, "RLIMIT_NOFILE" },
		{ C_FSTATAT, 0, EIO, -EIO, "/root/" },
		{ C_FLISTXATTR, 0, EIO, -EIO, "/root" },
		{ C_FGETXATTR, 0, EIO, -EIO, "/root/" },
	};

	(void)state;
	fill_store();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fail_once(cases[i].c, cases[i].skip, cases[i].err);
		assert_int_equal(open_reg(), cases[i].want);
		assert_hit(cases[i].c);
		if (!strstr(err, cases[i].names))
			fail_msg("case %zu: \"%s\" does not name %s", i, err, cases[i].names);
		assert_null(strchr(err, '\n'));
		close_reg();
	}
	assert_int_equal(open_reg(), 0);
	assert_filled();
}

/* Initializing a new store: a failing step names its file; a retry finishes it. */
static void test_init_fails(void **state)
{
	static const struct {
		enum call c;
		int err;
		const char *names;
	} cases[] = {
		{ C_MKDIRAT, EDQUOT, "/root" },
		{ C_FSYNC, EIO, "/format" },
		{ C_FCHOWN, EIO, "/root" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char path[PATH_MAX + 16];

		close_reg();
		assert_int_equal(nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
		assert_int_equal(mkdir(dir, 0700), 0);
		fail_once(cases[i].c, 0, cases[i].err);
		assert_int_equal(open_reg(), -cases[i].err);
		assert_hit(cases[i].c);
		if (!strstr(err, cases[i].names))
			fail_msg("case %zu: \"%s\" does not name %s", i, err, cases[i].names);
		close_reg();
		assert_int_equal(open_reg(), 0);
		snprintf(path, sizeof(path), "%s/format", dir);
		assert_int_equal(access(path, F_OK), 0);
	}
}

/* Every allocation of a load fails in turn: -ENOMEM, and nothing leaks (ASan). */
static void test_load_nomem_sweep(void **state)
{
	long n;
	int r;

	(void)state;
	fill_store();
	for (n = 0;; n++) {
		r = open_reg_failing(n);
		if (r == 0)
			break;
		assert_int_equal(r, -ENOMEM);
		assert_null(strchr(err, '\n'));
		close_reg();
	}
	assert_true(n > 10);
	assert_filled();
}

/* Seals live in the store file's RFS_XATTR_SEALS: kept, refused whole, loaded, checked. */
static void test_seals_stored(void **state)
{
	struct region *r;
	struct stat st;
	char buf[64];
	uint64_t a;

	(void)state;
	a = mk(ROOT, "a");
	mk(ROOT, "b");
	fail_once(C_FSETXATTR, 0, EDQUOT);
	assert_int_equal(registry_add_seals(reg, a, REGION_SEAL_GROW, true), -EDQUOT);
	assert_hit(C_FSETXATTR);
	assert_int_equal(registry_region(reg, a, &r), 0);
	assert_int_equal(region_seals(r), 0);
	assert_int_equal(stored_xattr("a", RFS_XATTR_SEALS, buf, sizeof(buf)), -ENODATA);
	assert_int_equal(registry_add_seals(reg, a, REGION_SEAL_GROW | REGION_SEAL_SHRINK, true), 0);
	assert_int_equal(registry_add_seals(reg, a, REGION_SEAL_SEAL, true), 0);
	assert_int_equal(stored_xattr("a", RFS_XATTR_SEALS, buf, sizeof(buf)), 16);
	assert_memory_equal(buf, "seal,shrink,grow", 16);
	/* Never loaded as a user attribute. */
	assert_int_equal(registry_listxattr(reg, a, NULL, 0), 0);

	close_reg();
	assert_int_equal(open_reg(), 0);
	assert_int_equal(lookup(ROOT, "a", &st), 0);
	assert_int_equal(registry_region(reg, st.st_ino, &r), 0);
	assert_int_equal(region_seals(r), REGION_SEAL_SEAL | REGION_SEAL_SHRINK | REGION_SEAL_GROW);
	assert_int_equal(registry_listxattr(reg, st.st_ino, NULL, 0), 0);
	assert_int_equal(registry_add_seals(reg, st.st_ino, REGION_SEAL_WRITE, true), -EPERM);
	assert_int_equal(region_resize(r, 1), -EPERM);

	/* Reading it fails: the load fails. */
	close_reg();
	fail_once(C_FGETXATTR, 0, EIO);
	assert_int_equal(open_reg(), -EIO);
	close_reg();

	/* A value that does not parse, or too long: a corrupt store. */
	assert_int_equal(lsetxattr(in_store("b"), RFS_XATTR_SEALS, "bogus", 5, 0), 0);
	assert_int_equal(open_reg(), -EINVAL);
	close_reg();
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(lsetxattr(in_store("b"), RFS_XATTR_SEALS, buf, sizeof(buf), 0), 0);
	assert_int_equal(open_reg(), -EINVAL);
	close_reg();
	assert_int_equal(lsetxattr(in_store("b"), RFS_XATTR_SEALS, "", 0, 0), 0);
	assert_int_equal(open_reg(), 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_create_fails),
		T(test_seals_stored),
		T(test_mkdir_fails),
		T(test_create_nomem_undone),
		T(test_remove_fails),
		T(test_rename_fails),
		T(test_link_fails),
		T(test_setxattr_fails),
		T(test_removexattr_fails),
		T(test_fsyncdir_fails),
		T(test_chown_fails),
		T(test_bind_fails),
		T(test_setattr_whole_or_nothing),
		T(test_setattr_shrink_then_times_fail),
		T(test_setattr_dir_whole_or_nothing),
		T(test_setattr_memory_only),
		T(test_load_syscall_fails),
		T(test_init_fails),
		T(test_load_nomem_sweep),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
