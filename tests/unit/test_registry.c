/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for registry/: written against the contract in
 * src/registry/registry.h. Every registry runs on a memfd store
 * (STORE_FORCE_MEMFD) so no privileges are needed.
 *
 * Failure injection (-Wl,--wrap=, see tests/unit/meson.build): the heap
 * allocators (calloc, malloc, realloc, strdup, strndup) and memfd_create
 * are wrapped. An armed allocator fails exactly one call, the n-th one
 * counted from arming, so a loop over n reaches every allocation of an
 * operation in turn.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
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
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/macros.h"
#include "region/seal.h"
#include "registry/registry.h"
#include "registry/xattr.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

#define ROOT REGISTRY_ROOT_INO
#define PAGE 4096u
#define MiB (1024u * 1024u)
#define NO_INO 999999999ull

/* ------------------------------------------------------------------ */
/* Failure injection                                                   */
/* ------------------------------------------------------------------ */

void *__real_calloc(size_t nmemb, size_t size);
void *__real_malloc(size_t size);
void *__real_realloc(void *p, size_t size);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
int __real_memfd_create(const char *name, unsigned int flags);

void *__wrap_calloc(size_t nmemb, size_t size);
void *__wrap_malloc(size_t size);
void *__wrap_realloc(void *p, size_t size);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);
int __wrap_memfd_create(const char *name, unsigned int flags);
int __wrap_malloc_trim(size_t pad);
int __real_malloc_trim(size_t pad);

/* -1: disarmed. Otherwise the number of allocations still allowed before
 * the one that fails; after failing once the injector disarms itself. */
static long alloc_fail_in = -1;
static unsigned long alloc_injected;

static long memfd_fail_in = -1;
static int memfd_fail_errno;
static unsigned long memfd_injected;
static unsigned long memfd_calls;

static bool alloc_should_fail(void)
{
	if (alloc_fail_in < 0)
		return false;
	if (alloc_fail_in > 0) {
		alloc_fail_in--;
		return false;
	}
	alloc_fail_in = -1;
	alloc_injected++;
	return true;
}

void *__wrap_calloc(size_t nmemb, size_t size)
{
	if (alloc_should_fail()) {
		errno = ENOMEM;
		return NULL;
	}
	return __real_calloc(nmemb, size);
}

void *__wrap_malloc(size_t size)
{
	if (alloc_should_fail()) {
		errno = ENOMEM;
		return NULL;
	}
	return __real_malloc(size);
}

void *__wrap_realloc(void *p, size_t size)
{
	if (alloc_should_fail()) {
		errno = ENOMEM;
		return NULL;
	}
	return __real_realloc(p, size);
}

char *__wrap_strdup(const char *s)
{
	if (alloc_should_fail()) {
		errno = ENOMEM;
		return NULL;
	}
	return __real_strdup(s);
}

char *__wrap_strndup(const char *s, size_t n)
{
	if (alloc_should_fail()) {
		errno = ENOMEM;
		return NULL;
	}
	return __real_strndup(s, n);
}

int __wrap_memfd_create(const char *name, unsigned int flags)
{
	memfd_calls++;
	if (memfd_fail_in == 0) {
		memfd_fail_in = -1;
		memfd_injected++;
		errno = memfd_fail_errno;
		return -1;
	}
	if (memfd_fail_in > 0)
		memfd_fail_in--;
	return __real_memfd_create(name, flags);
}

static void arm_alloc_failure(long n)
{
	alloc_injected = 0;
	alloc_fail_in = n;
}

/* Disarm; returns whether a failure was injected since arming. */
static bool disarm_alloc_failure(void)
{
	alloc_fail_in = -1;
	return alloc_injected > 0;
}

static void arm_memfd_failure(long n, int err)
{
	memfd_injected = 0;
	memfd_fail_errno = err;
	memfd_fail_in = n;
}

/* ------------------------------------------------------------------ */
/* Fixture                                                             */
/* ------------------------------------------------------------------ */

#define ROOT_MODE 0751
#define ROOT_UID 4242
#define ROOT_GID 4343

static const struct registry_cred cred = {.uid = 1000, .gid = 1001};
static const struct registry_cred cred2 = {.uid = 2000, .gid = 2002};

static struct region_store *store;
static struct registry *reg;

static void fx_open_cfg(uint64_t limit, const struct registry_config *cfg)
{
	assert_null(store);
	assert_int_equal(store_open(limit, STORE_FORCE_MEMFD, &store), 0);
	assert_int_equal(store_kind(store), STORE_MEMFD);
	assert_int_equal(registry_new(store, cfg, &reg), 0);
	assert_non_null(reg);
}

static void fx_open(uint64_t limit, uint64_t max_inodes)
{
	struct registry_config cfg = {
	    .max_inodes = max_inodes,
	    .root_mode = ROOT_MODE,
	    .root_uid = ROOT_UID,
	    .root_gid = ROOT_GID,
	};

	assert_null(store);
	assert_int_equal(store_open(limit, STORE_FORCE_MEMFD, &store), 0);
	assert_int_equal(store_kind(store), STORE_MEMFD);
	assert_int_equal(registry_new(store, &cfg, &reg), 0);
	assert_non_null(reg);
}

static int setup(void **state)
{
	(void)state;
	alloc_fail_in = -1;
	memfd_fail_in = -1;
	store = NULL;
	reg = NULL;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	alloc_fail_in = -1;
	memfd_fail_in = -1;
	if (reg)
		registry_free(reg);
	reg = NULL;
	if (store)
		store_close(store);
	store = NULL;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

static uint64_t used_bytes(void)
{
	uint64_t u = 0;

	assert_int_equal(store_used(store, &u), 0);
	return u;
}

static uint64_t inodes_used(void)
{
	uint64_t used = 0, max = 0;

	registry_inodes(reg, &used, &max);
	return used;
}

/* Create a region; keeps the lookup reference the create took. */
static uint64_t mk(uint64_t parent, const char *name)
{
	struct stat st;
	int r = registry_create(reg, parent, name, 0644, &cred, &st);

	if (r != 0)
		fail_msg("registry_create(%llu, \"%s\") = %d", (unsigned long long)parent, name, r);
	return st.st_ino;
}

static uint64_t mkd(uint64_t parent, const char *name)
{
	struct stat st;
	int r = registry_mkdir(reg, parent, name, 0755, &cred, &st);

	if (r != 0)
		fail_msg("registry_mkdir(%llu, \"%s\") = %d", (unsigned long long)parent, name, r);
	return st.st_ino;
}

/* Inode of parent/name, or 0 if the lookup fails with -ENOENT. Leaves the
 * lookup count as it was. */
static uint64_t ino_of(uint64_t parent, const char *name)
{
	struct stat st;
	int r = registry_lookup(reg, parent, name, &st, NULL);

	if (r == -ENOENT)
		return 0;
	if (r != 0)
		fail_msg("registry_lookup(%llu, \"%s\") = %d", (unsigned long long)parent, name, r);
	registry_forget(reg, st.st_ino, 1);
	return st.st_ino;
}

static struct stat attr_of(uint64_t ino)
{
	struct stat st;
	int r = registry_getattr(reg, ino, &st, NULL);

	if (r != 0)
		fail_msg("registry_getattr(%llu) = %d", (unsigned long long)ino, r);
	return st;
}

static nlink_t nlink_of(uint64_t ino)
{
	return attr_of(ino).st_nlink;
}

static bool ino_exists(uint64_t ino)
{
	struct stat st;
	int r = registry_getattr(reg, ino, &st, NULL);

	if (r != 0 && r != -ENOENT)
		fail_msg("registry_getattr(%llu) = %d", (unsigned long long)ino, r);
	return r == 0;
}

static void set_size(uint64_t ino, uint64_t size)
{
	struct registry_setattr sa = {.valid = REGISTRY_SET_SIZE, .size = size};
	struct stat st;

	assert_int_equal(registry_setattr(reg, ino, &sa, &st, NULL), 0);
	assert_int_equal(st.st_size, size);
}

static void name_of_len(char *buf, size_t len, char c)
{
	memset(buf, c, len);
	buf[len] = '\0';
}

/* ---- readdir collection ---- */

struct dent {
	char name[RFS_NAME_MAX + 1];
	uint64_t ino;
	mode_t mode;
	nlink_t nlink;
	uid_t uid;
	uint64_t next_off;
};

struct collect {
	struct dent *v;
	size_t n, cap;
	size_t budget;	  /* entries accepted per call */
	size_t this_call; /* accepted in the current call */
	bool rejected;	  /* fill() returned nonzero in this call */
	bool called_after_reject;
	bool null_stat;
};

static int fill_cb(void *ctx, const char *name, const struct stat *st, uint64_t next_off,
		   unsigned flags)
{
	struct collect *c = ctx;
	struct dent *d;

	if (c->rejected)
		c->called_after_reject = true;
	if (c->this_call >= c->budget) {
		c->rejected = true;
		return 1;
	}
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 64;
		c->v = realloc(c->v, c->cap * sizeof(*c->v));
		assert_non_null(c->v);
	}
	d = &c->v[c->n++];
	memset(d, 0, sizeof(*d));
	assert_true(strlen(name) <= RFS_NAME_MAX);
	strcpy(d->name, name);
	if (st) {
		d->ino = st->st_ino;
		d->mode = st->st_mode;
		d->nlink = st->st_nlink;
		d->uid = st->st_uid;
	} else {
		c->null_stat = true;
	}
	d->next_off = next_off;
	c->this_call++;
	return 0;
}

/* One readdir call starting after off; returns how many entries it added. */
static size_t readdir_once(struct collect *c, uint64_t ino, uint64_t off, bool want_attr)
{
	int r;

	c->this_call = 0;
	c->rejected = false;
	r = registry_readdir(reg, ino, off, want_attr, fill_cb, c);
	if (r < 0)
		fail_msg("registry_readdir(%llu, off %llu) = %d", (unsigned long long)ino,
			 (unsigned long long)off, r);
	assert_false(c->called_after_reject);
	assert_false(c->null_stat);
	return c->this_call;
}

/* Read the whole directory with at most budget entries per call, resuming
 * each call from the next_off of the last entry returned. */
static void readdir_all(struct collect *c, uint64_t ino, size_t budget, bool want_attr)
{
	uint64_t off = 0;
	size_t calls = 0;

	memset(c, 0, sizeof(*c));
	c->budget = budget;
	for (;;) {
		size_t got = readdir_once(c, ino, off, want_attr);

		if (got == 0)
			break;
		off = c->v[c->n - 1].next_off;
		assert_true(++calls < 1000000);
	}
}

static void collect_free(struct collect *c)
{
	free(c->v);
	memset(c, 0, sizeof(*c));
}

static ssize_t find_dent(const struct collect *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (strcmp(c->v[i].name, name) == 0)
			return (ssize_t)i;
	return -1;
}

static size_t count_dent(const struct collect *c, const char *name)
{
	size_t i, k = 0;

	for (i = 0; i < c->n; i++)
		if (strcmp(c->v[i].name, name) == 0)
			k++;
	return k;
}

/* The names of a directory other than "." and "..", in readdir order,
 * joined with ',' (for compact assertions). */
static void dir_names(uint64_t ino, char *out, size_t outsz)
{
	struct collect c;
	size_t i, pos = 0;

	readdir_all(&c, ino, 1000, false);
	out[0] = '\0';
	for (i = 0; i < c.n; i++) {
		if (!strcmp(c.v[i].name, ".") || !strcmp(c.v[i].name, ".."))
			continue;
		pos +=
		    (size_t)snprintf(out + pos, outsz - pos, "%s%s", pos ? "," : "", c.v[i].name);
		assert_true(pos < outsz);
	}
	collect_free(&c);
}

#define assert_dir_names(ino, expected)                                                            \
	do {                                                                                       \
		char buf_[4096];                                                                   \
		dir_names((ino), buf_, sizeof(buf_));                                              \
		assert_string_equal(buf_, (expected));                                             \
	} while (0)

/* ------------------------------------------------------------------ */
/* Root, create, lookup, getattr                                       */
/* ------------------------------------------------------------------ */

static void test_root_attributes_from_config(void **state)
{
	struct stat st;
	uint64_t used = 99, max = 99;

	(void)state;
	fx_open(MiB, 77);
	assert_int_equal(registry_getattr(reg, ROOT, &st, NULL), 0);
	assert_int_equal(st.st_ino, REGISTRY_ROOT_INO);
	assert_int_equal(REGISTRY_ROOT_INO, 1);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, ROOT_MODE);
	assert_int_equal(st.st_uid, ROOT_UID);
	assert_int_equal(st.st_gid, ROOT_GID);
	assert_int_equal(st.st_nlink, 2);
	registry_inodes(reg, &used, &max);
	assert_int_equal(used, 1);
	assert_int_equal(max, 77);
}

static void test_getattr_unknown_inode_enoent(void **state)
{
	struct stat st;

	(void)state;
	fx_open(MiB, 0);
	memset(&st, 0xa5, sizeof(st));
	assert_int_equal(registry_getattr(reg, 0, &st, NULL), -ENOENT);
	assert_int_equal(registry_getattr(reg, 2, &st, NULL), -ENOENT);
	assert_int_equal(registry_getattr(reg, NO_INO, &st, NULL), -ENOENT);
	assert_int_equal(registry_getattr(reg, UINT64_MAX, &st, NULL), -ENOENT);
	/* output untouched on failure */
	assert_int_equal(st.st_ino, (ino_t)0xa5a5a5a5a5a5a5a5ull);
}

static void test_create_lookup_getattr(void **state)
{
	struct stat cst, lst, gst;

	(void)state;
	fx_open(MiB, 0);
	assert_int_equal(registry_create(reg, ROOT, "shm.a", 0640, &cred, &cst), 0);
	assert_true(cst.st_ino > ROOT);
	assert_true(S_ISREG(cst.st_mode));
	assert_int_equal(cst.st_mode & 07777, 0640);
	assert_int_equal(cst.st_uid, cred.uid);
	assert_int_equal(cst.st_gid, cred.gid);
	assert_int_equal(cst.st_nlink, 1);
	assert_int_equal(cst.st_size, 0);

	assert_int_equal(registry_lookup(reg, ROOT, "shm.a", &lst, NULL), 0);
	assert_int_equal(lst.st_ino, cst.st_ino);
	assert_int_equal(lst.st_mode, cst.st_mode);
	assert_int_equal(lst.st_uid, cred.uid);
	assert_int_equal(lst.st_gid, cred.gid);
	assert_int_equal(lst.st_nlink, 1);
	assert_int_equal(lst.st_size, 0);

	assert_int_equal(registry_getattr(reg, cst.st_ino, &gst, NULL), 0);
	assert_int_equal(gst.st_ino, cst.st_ino);
	assert_int_equal(gst.st_mode, cst.st_mode);
	assert_int_equal(gst.st_nlink, 1);

	/* names are exact: no prefix / case matching */
	assert_int_equal(ino_of(ROOT, "shm"), 0);
	assert_int_equal(ino_of(ROOT, "shm.a2"), 0);
	assert_int_equal(ino_of(ROOT, "SHM.A"), 0);

	/* a second region gets its own inode, and the root's nlink does not
	 * count regions */
	assert_int_not_equal(mk(ROOT, "shm.b"), cst.st_ino);
	assert_int_equal(nlink_of(ROOT), 2);
	assert_int_equal(inodes_used(), 3);
}

static void test_create_uses_creds_of_caller(void **state)
{
	struct stat st;
	uint64_t d;

	(void)state;
	fx_open(MiB, 0);
	assert_int_equal(registry_create(reg, ROOT, "a", 0600, &cred2, &st), 0);
	assert_int_equal(st.st_uid, cred2.uid);
	assert_int_equal(st.st_gid, cred2.gid);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(registry_mkdir(reg, ROOT, "d", 0710, &cred2, &st), 0);
	d = st.st_ino;
	assert_int_equal(st.st_uid, cred2.uid);
	assert_int_equal(st.st_gid, cred2.gid);
	assert_int_equal(st.st_mode & 07777, 0710);
	assert_int_equal(attr_of(d).st_uid, cred2.uid);
}

/* user.regionfs.creator: recorded by create, formatted on one printable line. */
static void test_creator_recorded_and_formatted(void **state)
{
	/* 2026-12-07T14:05:09Z; a comm with a newline, a control and a UTF-8 byte. */
	struct registry_creator c = { .pid = 4242, .uid = 1000, .time = 1796652309,
				      .comm = "ev\nil\x01\xc3x" };
	struct registry_cred with = { .uid = 1000, .gid = 1001, .creator = &c };
	const char want[] = "pid=4242 uid=1000 comm=ev?il??x time=2026-12-07T14:05:09Z";
	char buf[REGISTRY_CREATOR_MAX];
	struct stat st;
	uint64_t a, d, plain;

	(void)state;
	fx_open(MiB, 0);
	assert_int_equal(registry_create(reg, ROOT, "a", 0600, &with, &st), 0);
	a = st.st_ino;
	memset(&c, 0, sizeof(c)); /* copied: the caller's struct is not kept */
	assert_int_equal(registry_creator(reg, a, NULL, 0), (ssize_t)strlen(want));
	assert_int_equal(registry_creator(reg, a, buf, sizeof(buf)), (ssize_t)strlen(want));
	assert_memory_equal(buf, want, strlen(want));
	assert_int_equal(registry_creator(reg, a, buf, strlen(want) - 1), -ERANGE);
	assert_int_equal(registry_link(reg, a, ROOT, "b", &st, NULL), 0);
	assert_int_equal(registry_creator(reg, ino_of(ROOT, "b"), buf, sizeof(buf)),
			 (ssize_t)strlen(want));
	plain = mk(ROOT, "plain");
	assert_int_equal(registry_creator(reg, plain, buf, sizeof(buf)), -ENODATA);
	c.pid = 1;
	assert_int_equal(registry_mkdir(reg, ROOT, "d", 0700, &with, &st), 0);
	d = st.st_ino;
	assert_int_equal(registry_creator(reg, d, buf, sizeof(buf)), -EISDIR);
	assert_int_equal(registry_creator(reg, ROOT, buf, sizeof(buf)), -EISDIR);
	assert_int_equal(registry_creator(reg, NO_INO, buf, sizeof(buf)), -ENOENT);
}

static void test_lookup_output_untouched_on_failure(void **state)
{
	struct stat st;

	(void)state;
	fx_open(MiB, 0);
	memset(&st, 0x5a, sizeof(st));
	assert_int_equal(registry_lookup(reg, ROOT, "missing", &st, NULL), -ENOENT);
	assert_int_equal(st.st_ino, (ino_t)0x5a5a5a5a5a5a5a5aull);
	assert_int_equal(registry_create(reg, ROOT, "x", 0644, &cred, &st), 0);
	memset(&st, 0x5a, sizeof(st));
	assert_int_equal(registry_create(reg, ROOT, "x", 0644, &cred, &st), -EEXIST);
	assert_int_equal(st.st_ino, (ino_t)0x5a5a5a5a5a5a5a5aull);
}

static void test_mkdir_attributes_and_parent_nlink(void **state)
{
	struct stat st;
	uint64_t d, e;

	(void)state;
	fx_open(MiB, 0);
	assert_int_equal(registry_mkdir(reg, ROOT, "d", 0700, &cred, &st), 0);
	d = st.st_ino;
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(st.st_nlink, 2);
	assert_int_equal(st.st_uid, cred.uid);
	assert_int_equal(st.st_gid, cred.gid);
	assert_int_equal(nlink_of(ROOT), 3);

	e = mkd(d, "e");
	assert_int_equal(nlink_of(d), 3);
	assert_int_equal(nlink_of(e), 2);
	assert_int_equal(nlink_of(ROOT), 3);

	/* regions do not change a directory's nlink */
	mk(d, "r");
	assert_int_equal(nlink_of(d), 3);

	mkd(ROOT, "d2");
	assert_int_equal(nlink_of(ROOT), 4);

	assert_int_equal(registry_rmdir(reg, d, "e"), 0);
	assert_int_equal(nlink_of(d), 2);
	assert_int_equal(registry_unlink(reg, d, "r"), 0);
	assert_int_equal(registry_rmdir(reg, ROOT, "d"), 0);
	assert_int_equal(nlink_of(ROOT), 3);
	assert_int_equal(registry_rmdir(reg, ROOT, "d2"), 0);
	assert_int_equal(nlink_of(ROOT), 2);
	assert_int_equal(ino_of(ROOT, "d"), 0);
}

static void test_lookup_in_subdirectory(void **state)
{
	uint64_t d, a, b;

	(void)state;
	fx_open(MiB, 0);
	d = mkd(ROOT, "d");
	a = mk(d, "x");
	b = mk(ROOT, "x"); /* the same name in another directory */
	assert_int_not_equal(a, b);
	assert_int_equal(ino_of(d, "x"), a);
	assert_int_equal(ino_of(ROOT, "x"), b);
	assert_int_equal(ino_of(ROOT, "d"), d);
}

/* ------------------------------------------------------------------ */
/* Inode numbers                                                       */
/* ------------------------------------------------------------------ */

static void test_ino_stable_across_rename_and_link(void **state)
{
	struct stat st;
	uint64_t a, d, sub;

	(void)state;
	fx_open(MiB, 0);
	a = mk(ROOT, "a");
	d = mkd(ROOT, "d");
	assert_int_equal(registry_rename(reg, ROOT, "a", ROOT, "b", 0), 0);
	assert_int_equal(ino_of(ROOT, "b"), a);
	assert_int_equal(registry_rename(reg, ROOT, "b", d, "c", 0), 0);
	assert_int_equal(ino_of(d, "c"), a);
	assert_int_equal(attr_of(a).st_ino, a);

	assert_int_equal(registry_link(reg, a, ROOT, "l", &st, NULL), 0);
	assert_int_equal(st.st_ino, a);
	assert_int_equal(ino_of(ROOT, "l"), a);
	assert_int_equal(ino_of(d, "c"), a);

	/* directories too */
	sub = mkd(d, "sub");
	assert_int_equal(registry_rename(reg, d, "sub", ROOT, "moved", 0), 0);
	assert_int_equal(ino_of(ROOT, "moved"), sub);
	assert_int_equal(registry_rename(reg, ROOT, "d", ROOT, "d2", 0), 0);
	assert_int_equal(ino_of(ROOT, "d2"), d);
	assert_int_equal(ino_of(d, "c"), a);
}

static void test_ino_never_reused_after_unlink(void **state)
{
	uint64_t prev = ROOT, ino;
	int i;

	(void)state;
	fx_open(MiB, 3);
	for (i = 0; i < 200; i++) {
		bool dir = i % 2;

		ino = dir ? mkd(ROOT, "n") : mk(ROOT, "n");
		/* a 64-bit counter: strictly increasing, never an old number */
		if (ino <= prev)
			fail_msg("round %d: new ino %llu after %llu", i, (unsigned long long)ino,
				 (unsigned long long)prev);
		prev = ino;
		if (dir)
			assert_int_equal(registry_rmdir(reg, ROOT, "n"), 0);
		else
			assert_int_equal(registry_unlink(reg, ROOT, "n"), 0);
		registry_forget(reg, ino, 1);
		assert_false(ino_exists(ino));
	}
	assert_int_equal(inodes_used(), 1);
}

/* ------------------------------------------------------------------ */
/* Error cases of the namespace                                        */
/* ------------------------------------------------------------------ */

static void test_create_existing_name_eexist(void **state)
{
	struct stat st;
	uint64_t a, d;

	(void)state;
	fx_open(MiB, 0);
	a = mk(ROOT, "a");
	d = mkd(ROOT, "d");
	assert_int_equal(inodes_used(), 3);
	assert_int_equal(registry_create(reg, ROOT, "a", 0644, &cred, &st), -EEXIST);
	assert_int_equal(registry_mkdir(reg, ROOT, "a", 0755, &cred, &st), -EEXIST);
	assert_int_equal(registry_create(reg, ROOT, "d", 0644, &cred, &st), -EEXIST);
	assert_int_equal(registry_mkdir(reg, ROOT, "d", 0755, &cred, &st), -EEXIST);
	assert_int_equal(inodes_used(), 3);
	assert_int_equal(ino_of(ROOT, "a"), a);
	assert_int_equal(ino_of(ROOT, "d"), d);
	assert_int_equal(nlink_of(ROOT), 3);
	assert_int_equal(nlink_of(a), 1);
	assert_dir_names(ROOT, "a,d");
}

static void test_missing_names_and_inodes_enoent(void **state)
{
	struct region *r;
	struct stat st;
	struct collect c;
	uint64_t a;

	(void)state;
	fx_open(MiB, 0);
	a = mk(ROOT, "a");
	assert_int_equal(registry_lookup(reg, ROOT, "nope", &st, NULL), -ENOENT);
	assert_int_equal(registry_lookup(reg, NO_INO, "a", &st, NULL), -ENOENT);
	assert_int_equal(registry_create(reg, NO_INO, "x", 0644, &cred, &st), -ENOENT);
	assert_int_equal(registry_mkdir(reg, NO_INO, "x", 0755, &cred, &st), -ENOENT);
	assert_int_equal(registry_unlink(reg, ROOT, "nope"), -ENOENT);
	assert_int_equal(registry_unlink(reg, NO_INO, "a"), -ENOENT);
	assert_int_equal(registry_rmdir(reg, ROOT, "nope"), -ENOENT);
	assert_int_equal(registry_rmdir(reg, NO_INO, "a"), -ENOENT);
	assert_int_equal(registry_rename(reg, ROOT, "nope", ROOT, "x", 0), -ENOENT);
	assert_int_equal(registry_rename(reg, ROOT, "a", NO_INO, "x", 0), -ENOENT);
	assert_int_equal(registry_rename(reg, NO_INO, "a", ROOT, "x", 0), -ENOENT);
	assert_int_equal(registry_link(reg, NO_INO, ROOT, "x", &st, NULL), -ENOENT);
	assert_int_equal(registry_link(reg, a, NO_INO, "x", &st, NULL), -ENOENT);
	assert_int_equal(registry_open(reg, NO_INO, &r), -ENOENT);
	assert_int_equal(registry_region(reg, NO_INO, &r), -ENOENT);
	memset(&c, 0, sizeof(c));
	c.budget = 100;
	assert_int_equal(registry_readdir(reg, NO_INO, 0, false, fill_cb, &c), -ENOENT);
	assert_int_equal(c.n, 0);
	free(c.v);
	assert_int_equal(registry_getattr(reg, NO_INO, &st, NULL), -ENOENT);
	/* nothing was created by any of these */
	assert_int_equal(inodes_used(), 2);
	assert_dir_names(ROOT, "a");
}

static void test_forget_unknown_inode_is_ignored(void **state)
{
	uint64_t a;

	(void)state;
	fx_open(MiB, 0);
	a = mk(ROOT, "a");
	registry_forget(reg, NO_INO, 1);
	registry_forget(reg, 0, 5);
	registry_forget(reg, ROOT, 1); /* the root is never freed */
	assert_true(ino_exists(ROOT));
	assert_int_equal(ino_of(ROOT, "a"), a);
	assert_int_equal(inodes_used(), 2);
}

static void test_operations_in_removed_directory_enoent(void **state)
{
	struct stat st;
	uint64_t d, a;

	(void)state;
	fx_open(MiB, 0);
	d = mkd(ROOT, "d"); /* the mkdir reference keeps the node */
	a = mk(ROOT, "a");
	assert_int_equal(registry_rmdir(reg, ROOT, "d"), 0);
	assert_int_equal(ino_of(ROOT, "d"), 0);
	assert_true(ino_exists(d));
	assert_int_equal(registry_create(reg, d, "x", 0644, &cred, &st), -ENOENT);
	assert_int_equal(registry_mkdir(reg, d, "x", 0755, &cred, &st), -ENOENT);
	assert_int_equal(registry_lookup(reg, d, "x", &st, NULL), -ENOENT);
	assert_int_equal(registry_link(reg, a, d, "x", &st, NULL), -ENOENT);
	assert_int_equal(registry_rename(reg, ROOT, "a", d, "x", 0), -ENOENT);
	assert_int_equal(ino_of(ROOT, "a"), a);
	assert_int_equal(inodes_used(), 3);
	registry_forget(reg, d, 1);
	assert_false(ino_exists(d));
	assert_int_equal(inodes_used(), 2);
}

static void test_region_as_parent_enotdir(void **state)
{
	struct stat st;
	struct collect c;
	uint64_t r, a;

	(void)state;
	fx_open(MiB, 0);
	r = mk(ROOT, "r");
	a = mk(ROOT, "a");
	assert_int_equal(registry_lookup(reg, r, "x", &st, NULL), -ENOTDIR);
	assert_int_equal(registry_create(reg, r, "x", 0644, &cred, &st), -ENOTDIR);
	assert_int_equal(registry_mkdir(reg, r, "x", 0755, &cred, &st), -ENOTDIR);
	assert_int_equal(registry_unlink(reg, r, "x"), -ENOTDIR);
	assert_int_equal(registry_rmdir(reg, r, "x"), -ENOTDIR);
	assert_int_equal(registry_link(reg, a, r, "x", &st, NULL), -ENOTDIR);
	memset(&c, 0, sizeof(c));
	c.budget = 100;
	assert_int_equal(registry_readdir(reg, r, 0, false, fill_cb, &c), -ENOTDIR);
	assert_int_equal(c.n, 0);
	free(c.v);
	assert_int_equal(inodes_used(), 3);
	assert_int_equal(nlink_of(a), 1);
}

static void test_rename_region_as_parent_enotdir(void **state)
{
	uint64_t r, a;

	(void)state;
	fx_open(MiB, 0);
	r = mk(ROOT, "r");
	a = mk(ROOT, "a");
	assert_int_equal(registry_rename(reg, ROOT, "a", r, "x", 0), -ENOTDIR);
	assert_int_equal(registry_rename(reg, r, "x", ROOT, "b", 0), -ENOTDIR);
	assert_int_equal(ino_of(ROOT, "a"), a);
	assert_int_equal(ino_of(ROOT, "r"), r);
}

static void test_name_too_long_enametoolong(void **state)
{
	char n255[256], n256[257], other255[256];
	struct stat st;
	uint64_t a, d, ino;

	(void)state;
	fx_open(MiB, 0);
	name_of_len(n255, 255, 'x');
	name_of_len(n256, 256, 'x');
	name_of_len(other255, 255, 'y');
	assert_int_equal(strlen(n256), RFS_NAME_MAX + 1);
	a = mk(ROOT, "a");
	d = mkd(ROOT, "d");

	assert_int_equal(registry_create(reg, ROOT, n256, 0644, &cred, &st), -ENAMETOOLONG);
	assert_int_equal(registry_mkdir(reg, ROOT, n256, 0755, &cred, &st), -ENAMETOOLONG);
	assert_int_equal(registry_lookup(reg, ROOT, n256, &st, NULL), -ENAMETOOLONG);
	assert_int_equal(registry_unlink(reg, ROOT, n256), -ENAMETOOLONG);
	assert_int_equal(registry_rmdir(reg, ROOT, n256), -ENAMETOOLONG);
	assert_int_equal(registry_rename(reg, ROOT, n256, ROOT, "b", 0), -ENAMETOOLONG);
	assert_int_equal(registry_rename(reg, ROOT, "a", ROOT, n256, 0), -ENAMETOOLONG);
	assert_int_equal(registry_link(reg, a, ROOT, n256, &st, NULL), -ENAMETOOLONG);
	assert_int_equal(inodes_used(), 3);
	assert_int_equal(ino_of(ROOT, "a"), a);
	assert_int_equal(nlink_of(a), 1);

	/* 255 bytes is fine everywhere */
	assert_int_equal(registry_create(reg, ROOT, n255, 0644, &cred, &st), 0);
	ino = st.st_ino;
	assert_int_equal(ino_of(ROOT, n255), ino);
	assert_int_equal(registry_rename(reg, ROOT, n255, d, other255, 0), 0);
	assert_int_equal(ino_of(d, other255), ino);
	assert_int_equal(registry_link(reg, ino, ROOT, n255, &st, NULL), 0);
	assert_int_equal(nlink_of(ino), 2);
	assert_int_equal(registry_mkdir(reg, d, n255, 0755, &cred, &st), 0);
	assert_int_equal(registry_rmdir(reg, d, n255), 0);
	assert_int_equal(registry_unlink(reg, ROOT, n255), 0);
	assert_int_equal(registry_unlink(reg, d, other255), 0);
}

/* ------------------------------------------------------------------ */
/* nr_inodes limit and counts                                          */
/* ------------------------------------------------------------------ */

static void test_nr_inodes_limit_enospc_root_counts(void **state)
{
	struct stat st;
	uint64_t a, d, b, used, max;

	(void)state;
	fx_open(MiB, 4); /* root + 3 */
	a = mk(ROOT, "a");
	d = mkd(ROOT, "d");
	b = mk(d, "b");
	registry_inodes(reg, &used, &max);
	assert_int_equal(used, 4);
	assert_int_equal(max, 4);

	assert_int_equal(registry_create(reg, ROOT, "c", 0644, &cred, &st), -ENOSPC);
	assert_int_equal(registry_mkdir(reg, ROOT, "e", 0755, &cred, &st), -ENOSPC);
	assert_int_equal(registry_mkdir(reg, d, "e", 0755, &cred, &st), -ENOSPC);
	assert_int_equal(ino_of(ROOT, "c"), 0);
	assert_int_equal(ino_of(ROOT, "e"), 0);
	assert_int_equal(ino_of(d, "e"), 0);
	assert_int_equal(inodes_used(), 4);
	assert_int_equal(nlink_of(ROOT), 3);
	assert_dir_names(ROOT, "a,d");

	/* a hard link costs an inode, as on tmpfs: none left */
	assert_int_equal(registry_link(reg, b, ROOT, "b2", &st, NULL), -ENOSPC);
	assert_int_equal(ino_of(ROOT, "b2"), 0);
	assert_int_equal(nlink_of(b), 1);
	/* a rename does not */
	assert_int_equal(registry_rename(reg, ROOT, "a", d, "a", 0), 0);
	assert_int_equal(inodes_used(), 4);

	/* freeing an inode makes room again */
	assert_int_equal(registry_unlink(reg, d, "a"), 0);
	registry_forget(reg, a, 1);
	assert_int_equal(inodes_used(), 3);
	assert_int_equal(registry_create(reg, ROOT, "c", 0644, &cred, &st), 0);
	assert_int_equal(inodes_used(), 4);
	assert_int_equal(registry_mkdir(reg, ROOT, "e", 0755, &cred, &st), -ENOSPC);
}

static void test_nr_inodes_limit_of_one_is_only_root(void **state)
{
	struct stat st;

	(void)state;
	fx_open(MiB, 1);
	assert_int_equal(registry_create(reg, ROOT, "a", 0644, &cred, &st), -ENOSPC);
	assert_int_equal(registry_mkdir(reg, ROOT, "d", 0755, &cred, &st), -ENOSPC);
	assert_int_equal(inodes_used(), 1);
	assert_dir_names(ROOT, "");
}

/* An orphan (unlinked, still referenced) is still a node: it counts. */
static void test_nr_inodes_counts_orphans(void **state)
{
	struct stat st;
	uint64_t a;

	(void)state;
	fx_open(MiB, 3);
	a = mk(ROOT, "a");
	mk(ROOT, "b");
	assert_int_equal(registry_unlink(reg, ROOT, "a"), 0);
	assert_true(ino_exists(a));
	assert_int_equal(inodes_used(), 3);
	assert_int_equal(registry_create(reg, ROOT, "c", 0644, &cred, &st), -ENOSPC);
	registry_forget(reg, a, 1);
	assert_false(ino_exists(a));
	assert_int_equal(inodes_used(), 2);
	assert_int_equal(registry_create(reg, ROOT, "c", 0644, &cred, &st), 0);
}

static void test_registry_inodes_counts(void **state)
{
	uint64_t used = 99, max = 99, a, d;
	struct stat st;

	(void)state;
	fx_open(MiB, 0);
	registry_inodes(reg, &used, &max);
	assert_int_equal(used, 1);
	assert_int_equal(max, 0);
	a = mk(ROOT, "a");
	d = mkd(ROOT, "d");
	mk(d, "b");
	assert_int_equal(inodes_used(), 4);
	assert_int_equal(registry_link(reg, a, d, "a2", &st, NULL), 0);
	/* the second name counts as an inode (tmpfs charges a link so) */
	assert_int_equal(inodes_used(), 5);
	/* unlinking one of two names gives back the name's count only */
	assert_int_equal(registry_unlink(reg, ROOT, "a"), 0);
	assert_int_equal(inodes_used(), 4);
	assert_int_equal(registry_unlink(reg, d, "a2"), 0);
	/* still referenced (create + link) */
	assert_int_equal(inodes_used(), 4);
	registry_forget(reg, a, 2);
	assert_int_equal(inodes_used(), 3);
	assert_int_equal(registry_unlink(reg, d, "b"), 0);
	assert_int_equal(registry_rmdir(reg, ROOT, "d"), 0);
	registry_forget(reg, d, 1);
	assert_int_equal(inodes_used(), 2); /* b is still referenced */
	registry_forget(reg, ino_of(ROOT, "x") /* 0: ignored */, 1);
	registry_inodes(reg, &used, &max);
	assert_int_equal(max, 0);
}

/* ------------------------------------------------------------------ */
/* Lookup references and orphans                                       */
/* ------------------------------------------------------------------ */

static void test_unlink_without_references_frees_at_once(void **state)
{
	uint64_t a;

	(void)state;
	fx_open(MiB, 0);
	a = mk(ROOT, "a");
	set_size(a, 3 * PAGE);
	assert_int_equal(used_bytes(), 3 * PAGE);
	registry_forget(reg, a, 1);
	/* still linked: alive without references */
	assert_true(ino_exists(a));
	assert_int_equal(registry_unlink(reg, ROOT, "a"), 0);
	assert_false(ino_exists(a));
	assert_int_equal(used_bytes(), 0);
	assert_int_equal(inodes_used(), 1);
}

static void test_lookup_reference_keeps_orphan(void **state)
{
	struct stat st;
	uint64_t a;

	(void)state;
	fx_open(MiB, 0);
	a = mk(ROOT, "a");
	set_size(a, PAGE);
	registry_forget(reg, a, 1);
	/* two lookups: two references */
	assert_int_equal(registry_lookup(reg, ROOT, "a", &st, NULL), 0);
	assert_int_equal(registry_lookup(reg, ROOT, "a", &st, NULL), 0);
	assert_int_equal(registry_unlink(reg, ROOT, "a"), 0);
	assert_int_equal(ino_of(ROOT, "a"), 0);
	st = attr_of(a);
	assert_int_equal(st.st_nlink, 0);
	assert_int_equal(st.st_size, PAGE);
	assert_int_equal(used_bytes(), PAGE);
	registry_forget(reg, a, 1);
	assert_true(ino_exists(a));
	registry_forget(reg, a, 1);
	assert_false(ino_exists(a));
	assert_int_equal(used_bytes(), 0);
	assert_int_equal(inodes_used(), 1);
}

static void test_forget_n_drops_n_references(void **state)
{
	struct stat st;
	uint64_t a;
	int i;

	(void)state;
	fx_open(MiB, 0);
	a = mk(ROOT, "a");
	for (i = 0; i < 4; i++)
		assert_int_equal(registry_lookup(reg, ROOT, "a", &st, NULL), 0);
	assert_int_equal(registry_unlink(reg, ROOT, "a"), 0);
	registry_forget(reg, a, 4);
	assert_true(ino_exists(a)); /* 1 left (create) */
	registry_forget(reg, a, 1);
	assert_false(ino_exists(a));
}

static void test_directory_lookup_reference_keeps_removed_dir(void **state)
{
	uint64_t d;

	(void)state;
	fx_open(MiB, 0);
	d = mkd(ROOT, "d");
	assert_int_equal(registry_rmdir(reg, ROOT, "d"), 0);
	assert_true(ino_exists(d));
	assert_true(S_ISDIR(attr_of(d).st_mode));
	assert_int_equal(inodes_used(), 2);
	registry_forget(reg, d, 1);
	assert_false(ino_exists(d));
	assert_int_equal(inodes_used(), 1);
	assert_int_equal(nlink_of(ROOT), 2);
}

/* ------------------------------------------------------------------ */
/* rmdir / unlink                                                      */
/* ------------------------------------------------------------------ */

static void test_rmdir_unlink_type_errors(void **state)
{
	uint64_t d, e, f, r;

	(void)state;
	fx_open(MiB, 0);
	d = mkd(ROOT, "d");
	e = mkd(d, "e");
	f = mkd(ROOT, "f");
	r = mk(f, "r");
	mk(ROOT, "reg");

	assert_int_equal(registry_rmdir(reg, ROOT, "d"), -ENOTEMPTY); /* holds a dir */
	assert_int_equal(registry_rmdir(reg, ROOT, "f"), -ENOTEMPTY); /* holds a region */
	assert_int_equal(registry_rmdir(reg, ROOT, "reg"), -ENOTDIR);
	assert_int_equal(registry_unlink(reg, ROOT, "d"), -EISDIR);
	assert_int_equal(registry_unlink(reg, d, "e"), -EISDIR);
	assert_int_equal(ino_of(ROOT, "d"), d);
	assert_int_equal(ino_of(d, "e"), e);
	assert_int_equal(ino_of(f, "r"), r);
	assert_true(ino_of(ROOT, "reg") > 0);
	assert_int_equal(nlink_of(ROOT), 4);
	assert_int_equal(nlink_of(d), 3);

	assert_int_equal(registry_rmdir(reg, d, "e"), 0);
	assert_int_equal(registry_rmdir(reg, ROOT, "d"), 0);
	assert_int_equal(registry_unlink(reg, f, "r"), 0);
	assert_int_equal(registry_rmdir(reg, ROOT, "f"), 0);
	assert_int_equal(registry_unlink(reg, ROOT, "reg"), 0);
	assert_int_equal(nlink_of(ROOT), 2);
	assert_dir_names(ROOT, "");
}

/* ------------------------------------------------------------------ */
/* rename                                                              */
/* ------------------------------------------------------------------ */

static void test_rename_plain_same_and_across_directories(void **state)
{
	uint64_t a, d;

	(void)state;
	fx_open(MiB, 0);
	a = mk(ROOT, "a");
	d = mkd(ROOT, "d");
	assert_int_equal(registry_rename(reg, ROOT, "a", ROOT, "b", 0), 0);
	assert_int_equal(ino_of(ROOT, "a"), 0);
	assert_int_equal(ino_of(ROOT, "b"), a);
	assert_int_equal(nlink_of(a), 1);
	assert_int_equal(registry_rename(reg, ROOT, "b", d, "c", 0), 0);
	assert_int_equal(ino_of(ROOT, "b"), 0);
	assert_int_equal(ino_of(d, "c"), a);
	assert_dir_names(ROOT, "d");
	assert_dir_names(d, "c");
	assert_int_equal(nlink_of(ROOT), 3);
	assert_int_equal(nlink_of(d), 2);
	assert_int_equal(inodes_used(), 3);
	/* RENAME_NOREPLACE with a free target is a plain rename */
	assert_int_equal(registry_rename(reg, d, "c", ROOT, "z", RENAME_NOREPLACE), 0);
	assert_int_equal(ino_of(ROOT, "z"), a);
	assert_int_equal(ino_of(d, "c"), 0);
}

static void test_rename_directory_updates_nlink_and_dotdot(void **state)
{
	struct collect c;
	uint64_t d1, d2, s;
	ssize_t i;

	(void)state;
	fx_open(MiB, 0);
	d1 = mkd(ROOT, "d1");
	d2 = mkd(ROOT, "d2");
	s = mkd(d1, "s");
	assert_int_equal(nlink_of(d1), 3);
	assert_int_equal(nlink_of(d2), 2);
	assert_int_equal(registry_rename(reg, d1, "s", d2, "s", 0), 0);
	assert_int_equal(nlink_of(d1), 2);
	assert_int_equal(nlink_of(d2), 3);
	assert_int_equal(nlink_of(ROOT), 4);
	assert_int_equal(nlink_of(s), 2);
	readdir_all(&c, s, 100, false);
	i = find_dent(&c, "..");
	assert_true(i >= 0);
	assert_int_equal(c.v[i].ino, d2);
	collect_free(&c);
	/* the moved directory works in its new place */
	assert_int_equal(registry_rmdir(reg, d1, "s"), -ENOENT);
	assert_int_equal(registry_rmdir(reg, ROOT, "d2"), -ENOTEMPTY);
	assert_int_equal(registry_rmdir(reg, d2, "s"), 0);
	assert_int_equal(nlink_of(d2), 2);
}

static void test_rename_over_region_orphans_old_target(void **state)
{
	char val[8];
	uint64_t a, b, before;

	(void)state;
	fx_open(MiB, 0);
	a = mk(ROOT, "a");
	b = mk(ROOT, "b"); /* the create reference is kept */
	set_size(a, PAGE);
	set_size(b, 2 * PAGE);
	assert_int_equal(registry_setxattr(reg, b, "user.k", "v", 1, 0), 0);
	before = used_bytes();
	/* the attribute counts too, until its node is freed */
	assert_int_equal(before, 3 * PAGE + xattr_cost(strlen("user.k"), 1));

	assert_int_equal(registry_rename(reg, ROOT, "a", ROOT, "b", 0), 0);
	assert_int_equal(ino_of(ROOT, "a"), 0);
	assert_int_equal(ino_of(ROOT, "b"), a);
	assert_dir_names(ROOT, "b");
	/* the old target is an orphan: still there, no name */
	assert_true(ino_exists(b));
	assert_int_equal(nlink_of(b), 0);
	assert_int_equal(attr_of(b).st_size, 2 * PAGE);
	assert_int_equal(registry_getxattr(reg, b, "user.k", val, sizeof(val)), 1);
	assert_int_equal(used_bytes(), before);
	assert_int_equal(inodes_used(), 3);

	registry_forget(reg, b, 1);
	assert_false(ino_exists(b));
	assert_int_equal(used_bytes(), PAGE);
	assert_int_equal(inodes_used(), 2);
	assert_int_equal(nlink_of(a), 1);
}

static void test_rename_over_unreferenced_region_frees_it(void **state)
{
	uint64_t a, b;

	(void)state;
	fx_open(MiB, 0);
	a = mk(ROOT, "a");
	b = mk(ROOT, "b");
	set_size(b, PAGE);
	registry_forget(reg, b, 1);
	assert_int_equal(registry_rename(reg, ROOT, "a", ROOT, "b", 0), 0);
	assert_false(ino_exists(b));
	assert_int_equal(used_bytes(), 0);
	assert_int_equal(inodes_used(), 2);
	assert_int_equal(ino_of(ROOT, "b"), a);
}

static void test_rename_over_hard_linked_region_keeps_other_name(void **state)
{
	struct stat st;
	uint64_t a, b;

	(void)state;
	fx_open(MiB, 0);
	a = mk(ROOT, "a");
	b = mk(ROOT, "b");
	assert_int_equal(registry_link(reg, b, ROOT, "b2", &st, NULL), 0);
	assert_int_equal(nlink_of(b), 2);
	assert_int_equal(registry_rename(reg, ROOT, "a", ROOT, "b", 0), 0);
	assert_int_equal(ino_of(ROOT, "b"), a);
	assert_int_equal(ino_of(ROOT, "b2"), b);
	assert_int_equal(nlink_of(b), 1);
}

static void test_rename_noreplace_existing_eexist(void **state)
{
	uint64_t a, b, d;

	(void)state;
	fx_open(MiB, 0);
	a = mk(ROOT, "a");
	b = mk(ROOT, "b");
	d = mkd(ROOT, "d");
	assert_int_equal(registry_rename(reg, ROOT, "a", ROOT, "b", RENAME_NOREPLACE), -EEXIST);
	assert_int_equal(registry_rename(reg, ROOT, "a", ROOT, "d", RENAME_NOREPLACE), -EEXIST);
	assert_int_equal(registry_rename(reg, ROOT, "d", ROOT, "a", RENAME_NOREPLACE), -EEXIST);
	assert_int_equal(ino_of(ROOT, "a"), a);
	assert_int_equal(ino_of(ROOT, "b"), b);
	assert_int_equal(ino_of(ROOT, "d"), d);
	assert_int_equal(nlink_of(a), 1);
	assert_int_equal(nlink_of(b), 1);
	assert_int_equal(inodes_used(), 4);
}

static void test_rename_exchange_regions(void **state)
{
	uint64_t a, b, d;

	(void)state;
	fx_open(MiB, 0);
	a = mk(ROOT, "a");
	d = mkd(ROOT, "d");
	b = mk(d, "b");
	set_size(a, PAGE);
	assert_int_equal(registry_rename(reg, ROOT, "a", d, "b", RENAME_EXCHANGE), 0);
	assert_int_equal(ino_of(ROOT, "a"), b);
	assert_int_equal(ino_of(d, "b"), a);
	assert_int_equal(nlink_of(a), 1);
	assert_int_equal(nlink_of(b), 1);
	assert_true(ino_exists(a));
	assert_true(ino_exists(b));
	assert_int_equal(used_bytes(), PAGE);
	assert_int_equal(inodes_used(), 4);
	assert_dir_names(ROOT, "a,d");
	assert_dir_names(d, "b");
	/* and back */
	assert_int_equal(registry_rename(reg, d, "b", ROOT, "a", RENAME_EXCHANGE), 0);
	assert_int_equal(ino_of(ROOT, "a"), a);
	assert_int_equal(ino_of(d, "b"), b);
}

static void test_rename_exchange_dir_and_region(void **state)
{
	struct collect c;
	uint64_t d, sub, r;
	ssize_t i;

	(void)state;
	fx_open(MiB, 0);
	d = mkd(ROOT, "d");
	sub = mkd(ROOT, "sub");
	r = mk(sub, "r");
	mk(d, "inside");
	assert_int_equal(nlink_of(ROOT), 4);
	assert_int_equal(nlink_of(sub), 2);

	/* directory d (in root) <-> region r (in sub) */
	assert_int_equal(registry_rename(reg, ROOT, "d", sub, "r", RENAME_EXCHANGE), 0);
	assert_int_equal(ino_of(ROOT, "d"), r);
	assert_int_equal(ino_of(sub, "r"), d);
	assert_true(S_ISREG(attr_of(r).st_mode));
	assert_true(S_ISDIR(attr_of(d).st_mode));
	/* the directory moved from root to sub */
	assert_int_equal(nlink_of(ROOT), 3);
	assert_int_equal(nlink_of(sub), 3);
	assert_int_equal(nlink_of(d), 2);
	assert_int_equal(nlink_of(r), 1);
	readdir_all(&c, d, 100, false);
	i = find_dent(&c, "..");
	assert_true(i >= 0);
	assert_int_equal(c.v[i].ino, sub);
	assert_true(find_dent(&c, "inside") >= 0);
	collect_free(&c);

	/* same directory: names swap, nlink unchanged */
	assert_int_equal(registry_rename(reg, sub, "r", ROOT, "d", RENAME_EXCHANGE), 0);
	assert_int_equal(ino_of(ROOT, "d"), d);
	assert_int_equal(ino_of(sub, "r"), r);
	assert_int_equal(nlink_of(ROOT), 4);
	assert_int_equal(nlink_of(sub), 2);
	mk(ROOT, "x");
	assert_int_equal(registry_rename(reg, ROOT, "d", ROOT, "x", RENAME_EXCHANGE), 0);
	assert_true(S_ISREG(attr_of(ino_of(ROOT, "d")).st_mode));
	assert_int_equal(ino_of(ROOT, "x"), d);
	assert_int_equal(nlink_of(ROOT), 4);
}

static void test_rename_exchange_missing_target_enoent(void **state)
{
	uint64_t a;

	(void)state;
	fx_open(MiB, 0);
	a = mk(ROOT, "a");
	assert_int_equal(registry_rename(reg, ROOT, "a", ROOT, "nope", RENAME_EXCHANGE), -ENOENT);
	assert_int_equal(registry_rename(reg, ROOT, "nope", ROOT, "a", RENAME_EXCHANGE), -ENOENT);
	assert_int_equal(ino_of(ROOT, "a"), a);
	assert_int_equal(ino_of(ROOT, "nope"), 0);
}

static void test_rename_dir_over_empty_dir_replaces_it(void **state)
{
	uint64_t d, e;

	(void)state;
	fx_open(MiB, 0);
	d = mkd(ROOT, "d");
	e = mkd(ROOT, "e");
	mk(d, "child");
	assert_int_equal(nlink_of(ROOT), 4);
	assert_int_equal(registry_rename(reg, ROOT, "d", ROOT, "e", 0), 0);
	assert_int_equal(ino_of(ROOT, "e"), d);
	assert_int_equal(ino_of(ROOT, "d"), 0);
	assert_true(ino_of(d, "child") > 0);
	assert_int_equal(nlink_of(ROOT), 3);
	registry_forget(reg, e, 1);
	assert_false(ino_exists(e));
	assert_int_equal(inodes_used(), 3);
}

static void test_rename_type_mismatch_and_nonempty_errors(void **state)
{
	uint64_t d, full, r;

	(void)state;
	fx_open(MiB, 0);
	d = mkd(ROOT, "d");
	full = mkd(ROOT, "full");
	mk(full, "x");
	r = mk(ROOT, "r");
	assert_int_equal(registry_rename(reg, ROOT, "d", ROOT, "full", 0), -ENOTEMPTY);
	assert_int_equal(registry_rename(reg, ROOT, "d", ROOT, "r", 0), -ENOTDIR);
	assert_int_equal(registry_rename(reg, ROOT, "r", ROOT, "d", 0), -EISDIR);
	assert_int_equal(ino_of(ROOT, "d"), d);
	assert_int_equal(ino_of(ROOT, "full"), full);
	assert_int_equal(ino_of(ROOT, "r"), r);
	assert_true(ino_of(full, "x") > 0);
	assert_int_equal(nlink_of(ROOT), 4);
	assert_int_equal(nlink_of(r), 1);
	assert_int_equal(inodes_used(), 5);
}

static void test_rename_dir_into_own_subtree_einval(void **state)
{
	uint64_t d, e, f;

	(void)state;
	fx_open(MiB, 0);
	d = mkd(ROOT, "d");
	e = mkd(d, "e");
	f = mkd(e, "f");
	assert_int_equal(registry_rename(reg, ROOT, "d", d, "x", 0), -EINVAL);
	assert_int_equal(registry_rename(reg, ROOT, "d", e, "x", 0), -EINVAL);
	assert_int_equal(registry_rename(reg, ROOT, "d", f, "x", 0), -EINVAL);
	assert_int_equal(registry_rename(reg, d, "e", f, "x", 0), -EINVAL);
	assert_int_equal(ino_of(ROOT, "d"), d);
	assert_int_equal(ino_of(d, "e"), e);
	assert_int_equal(ino_of(e, "f"), f);
	assert_int_equal(ino_of(f, "x"), 0);
	assert_int_equal(nlink_of(ROOT), 3);
	/* a directory may move into a sibling's subtree */
	mkd(ROOT, "g");
	assert_int_equal(registry_rename(reg, ROOT, "g", f, "g", 0), 0);
	assert_int_equal(nlink_of(f), 3);
}

static void test_rename_unknown_flags_einval(void **state)
{
	uint64_t a;

	(void)state;
	fx_open(MiB, 0);
	a = mk(ROOT, "a");
	assert_int_equal(registry_rename(reg, ROOT, "a", ROOT, "b", 1u << 7), -EINVAL);
	assert_int_equal(ino_of(ROOT, "a"), a);
	assert_int_equal(ino_of(ROOT, "b"), 0);
}

static void test_rename_to_itself_is_noop(void **state)
{
	uint64_t a, d;

	(void)state;
	fx_open(MiB, 0);
	a = mk(ROOT, "a");
	d = mkd(ROOT, "d");
	assert_int_equal(registry_rename(reg, ROOT, "a", ROOT, "a", 0), 0);
	assert_int_equal(ino_of(ROOT, "a"), a);
	assert_int_equal(nlink_of(a), 1);
	assert_true(ino_exists(a));
	assert_int_equal(registry_rename(reg, ROOT, "d", ROOT, "d", 0), 0);
	assert_int_equal(ino_of(ROOT, "d"), d);
	assert_int_equal(nlink_of(ROOT), 3);
	assert_int_equal(inodes_used(), 3);
	assert_dir_names(ROOT, "a,d");
	registry_forget(reg, a, 1);
	assert_int_equal(registry_rename(reg, ROOT, "a", ROOT, "a", 0), 0);
	assert_true(ino_exists(a));
	assert_int_equal(ino_of(ROOT, "a"), a);
}

/* POSIX: old and new resolving to the same file is a successful no-op. */
static void test_rename_between_hard_links_of_same_region_is_noop(void **state)
{
	struct stat st;
	uint64_t a;

	(void)state;
	fx_open(MiB, 0);
	a = mk(ROOT, "a");
	assert_int_equal(registry_link(reg, a, ROOT, "l", &st, NULL), 0);
	assert_int_equal(registry_rename(reg, ROOT, "a", ROOT, "l", 0), 0);
	assert_int_equal(ino_of(ROOT, "a"), a);
	assert_int_equal(ino_of(ROOT, "l"), a);
	assert_int_equal(nlink_of(a), 2);
}

/* ------------------------------------------------------------------ */
/* link                                                                */
/* ------------------------------------------------------------------ */

static void test_link_increments_nlink_and_shares_region(void **state)
{
	struct region *r1, *r2;
	struct stat st;
	char buf[8] = {0};
	uint64_t a, d;

	(void)state;
	fx_open(MiB, 0);
	a = mk(ROOT, "a");
	d = mkd(ROOT, "d");
	assert_int_equal(registry_link(reg, a, ROOT, "b", &st, NULL), 0);
	assert_int_equal(st.st_ino, a);
	assert_int_equal(st.st_nlink, 2);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(registry_link(reg, a, d, "c", &st, NULL), 0);
	assert_int_equal(st.st_nlink, 3);
	assert_int_equal(nlink_of(a), 3);
	assert_int_equal(ino_of(ROOT, "b"), a);
	assert_int_equal(ino_of(d, "c"), a);
	assert_int_equal(inodes_used(), 3 + 2); /* each extra name counts */
	assert_dir_names(ROOT, "a,d,b");
	assert_int_equal(nlink_of(ROOT), 3); /* links to regions don't count */

	/* one region behind every name */
	assert_int_equal(registry_open(reg, a, &r1), 0);
	assert_int_equal(region_write(r1, "abc", 3, 0), 3);
	assert_int_equal(registry_unlink(reg, ROOT, "a"), 0);
	assert_int_equal(nlink_of(a), 2);
	assert_int_equal(registry_region(reg, ino_of(d, "c"), &r2), 0);
	assert_ptr_equal(r1, r2);
	assert_int_equal(region_read(r2, buf, sizeof(buf), 0), 3);
	assert_string_equal(buf, "abc");
	registry_release(reg, a);
}

static void test_link_errors(void **state)
{
	struct stat st;
	uint64_t a, d;

	(void)state;
	fx_open(MiB, 0);
	a = mk(ROOT, "a");
	d = mkd(ROOT, "d");
	mk(ROOT, "other");
	assert_int_equal(registry_link(reg, d, ROOT, "dl", &st, NULL), -EPERM);
	assert_int_equal(registry_link(reg, ROOT, d, "rootl", &st, NULL), -EPERM);
	assert_int_equal(registry_link(reg, a, ROOT, "other", &st, NULL), -EEXIST);
	assert_int_equal(registry_link(reg, a, ROOT, "a", &st, NULL), -EEXIST);
	assert_int_equal(registry_link(reg, a, ROOT, "d", &st, NULL), -EEXIST);
	assert_int_equal(nlink_of(a), 1);
	assert_int_equal(nlink_of(d), 2);
	assert_int_equal(ino_of(ROOT, "dl"), 0);
	assert_int_equal(ino_of(d, "rootl"), 0);
	assert_dir_names(ROOT, "a,d,other");
}

static void test_link_takes_lookup_reference(void **state)
{
	struct stat st;
	uint64_t a;

	(void)state;
	fx_open(MiB, 0);
	a = mk(ROOT, "a");
	registry_forget(reg, a, 1);
	assert_int_equal(registry_link(reg, a, ROOT, "b", &st, NULL), 0);
	assert_int_equal(registry_unlink(reg, ROOT, "a"), 0);
	assert_int_equal(registry_unlink(reg, ROOT, "b"), 0);
	assert_true(ino_exists(a));
	assert_int_equal(nlink_of(a), 0);
	registry_forget(reg, a, 1);
	assert_false(ino_exists(a));
}

/* A region unlinked by every name but referenced can be linked again
 * (linkat of an O_TMPFILE-like orphan is not required; just not a crash). */

/* ------------------------------------------------------------------ */
/* open / release / region                                             */
/* ------------------------------------------------------------------ */

static void test_unlink_while_open_keeps_region_until_release(void **state)
{
	struct region *r;
	char buf[16] = {0};
	uint64_t a;

	(void)state;
	fx_open(MiB, 0);
	a = mk(ROOT, "a");
	assert_int_equal(registry_open(reg, a, &r), 0);
	assert_non_null(r);
	assert_int_equal(region_write(r, "hello", 5, 0), 5);
	assert_int_equal(attr_of(a).st_size, 5);
	assert_int_equal(used_bytes(), PAGE);

	assert_int_equal(registry_unlink(reg, ROOT, "a"), 0);
	registry_forget(reg, a, 1);
	assert_int_equal(ino_of(ROOT, "a"), 0);
	/* open: still alive */
	assert_true(ino_exists(a));
	assert_int_equal(nlink_of(a), 0);
	assert_int_equal(region_read(r, buf, sizeof(buf), 0), 5);
	assert_string_equal(buf, "hello");
	assert_int_equal(region_write(r, " world", 6, 5), 6);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(region_read(r, buf, sizeof(buf), 0), 11);
	assert_string_equal(buf, "hello world");
	assert_int_equal(used_bytes(), PAGE);
	assert_int_equal(inodes_used(), 2);
	/* the name can be reused for a new region meanwhile */
	assert_true(mk(ROOT, "a") != a);
	assert_int_equal(registry_unlink(reg, ROOT, "a"), 0);

	registry_release(reg, a);
	assert_false(ino_exists(a));
	assert_int_equal(used_bytes(), 0);
}

static void test_unlink_while_open_release_then_forget(void **state)
{
	struct region *r;
	uint64_t a;

	(void)state;
	fx_open(MiB, 0);
	a = mk(ROOT, "a");
	assert_int_equal(registry_open(reg, a, &r), 0);
	assert_int_equal(region_write(r, "x", 1, 2 * PAGE), 1);
	assert_int_equal(used_bytes(), 3 * PAGE);
	assert_int_equal(registry_unlink(reg, ROOT, "a"), 0);
	registry_release(reg, a);
	/* still one lookup reference */
	assert_true(ino_exists(a));
	assert_int_equal(used_bytes(), 3 * PAGE);
	registry_forget(reg, a, 1);
	assert_false(ino_exists(a));
	assert_int_equal(used_bytes(), 0);
	assert_int_equal(inodes_used(), 1);
}

static void test_two_opens_need_two_releases(void **state)
{
	struct region *r1, *r2;
	uint64_t a;

	(void)state;
	fx_open(MiB, 0);
	a = mk(ROOT, "a");
	assert_int_equal(registry_open(reg, a, &r1), 0);
	assert_int_equal(registry_open(reg, a, &r2), 0);
	assert_ptr_equal(r1, r2);
	set_size(a, PAGE);
	assert_int_equal(registry_unlink(reg, ROOT, "a"), 0);
	registry_forget(reg, a, 1);
	registry_release(reg, a);
	assert_true(ino_exists(a));
	assert_int_equal(used_bytes(), PAGE);
	assert_int_equal(region_write(r2, "z", 1, 0), 1);
	registry_release(reg, a);
	assert_false(ino_exists(a));
	assert_int_equal(used_bytes(), 0);
}

static void test_open_and_region_of_directory_eisdir(void **state)
{
	struct region *r = NULL, *r2 = NULL;
	uint64_t d, a;

	(void)state;
	fx_open(MiB, 0);
	d = mkd(ROOT, "d");
	a = mk(ROOT, "a");
	assert_int_equal(registry_open(reg, d, &r), -EISDIR);
	assert_int_equal(registry_open(reg, ROOT, &r), -EISDIR);
	assert_int_equal(registry_region(reg, d, &r), -EISDIR);
	assert_int_equal(registry_region(reg, ROOT, &r), -EISDIR);
	assert_null(r);
	assert_int_equal(registry_region(reg, a, &r), 0);
	assert_non_null(r);
	assert_int_equal(registry_open(reg, a, &r2), 0);
	assert_ptr_equal(r, r2);
	registry_release(reg, a);
}

/* registry_region() does not count an open: the node dies without a
 * release once its name and references are gone. */
static void test_region_does_not_count_open(void **state)
{
	struct region *r;
	uint64_t a;

	(void)state;
	fx_open(MiB, 0);
	a = mk(ROOT, "a");
	assert_int_equal(registry_region(reg, a, &r), 0);
	assert_int_equal(region_write(r, "q", 1, 0), 1);
	assert_int_equal(used_bytes(), PAGE);
	assert_int_equal(registry_unlink(reg, ROOT, "a"), 0);
	registry_forget(reg, a, 1);
	assert_false(ino_exists(a));
	assert_int_equal(used_bytes(), 0);
}

/* registry_free() frees orphans and open regions too (ASan checks the
 * leaks); the store is then empty. */
static void test_free_with_orphans_and_open_regions(void **state)
{
	struct region *r;
	uint64_t a, b, d;

	(void)state;
	fx_open(MiB, 0);
	a = mk(ROOT, "a");
	b = mk(ROOT, "b");
	d = mkd(ROOT, "d");
	mk(d, "c");
	set_size(a, PAGE);
	set_size(b, PAGE);
	assert_int_equal(registry_setxattr(reg, a, "user.x", "1", 1, 0), 0);
	assert_int_equal(registry_open(reg, a, &r), 0);
	assert_int_equal(registry_unlink(reg, ROOT, "a"), 0);
	assert_int_equal(registry_unlink(reg, ROOT, "b"), 0);
	assert_int_equal(used_bytes(), 2 * PAGE + xattr_cost(strlen("user.x"), 1));
	registry_free(reg);
	reg = NULL;
	assert_int_equal(used_bytes(), 0);
	(void)d;
}

/* ------------------------------------------------------------------ */
/* setattr                                                             */
/* ------------------------------------------------------------------ */

static void test_setattr_size_grow_shrink(void **state)
{
	struct registry_setattr sa = {.valid = REGISTRY_SET_SIZE};
	struct stat st;
	uint64_t a;

	(void)state;
	fx_open(MiB, 0);
	a = mk(ROOT, "a");
	sa.size = 10000;
	assert_int_equal(registry_setattr(reg, a, &sa, &st, NULL), 0);
	assert_int_equal(st.st_ino, a);
	assert_int_equal(st.st_size, 10000);
	assert_int_equal(attr_of(a).st_size, 10000);
	assert_int_equal(used_bytes(), 3 * PAGE);
	sa.size = 100;
	assert_int_equal(registry_setattr(reg, a, &sa, &st, NULL), 0);
	assert_int_equal(st.st_size, 100);
	assert_int_equal(attr_of(a).st_size, 100);
	assert_int_equal(used_bytes(), PAGE);
	sa.size = 0;
	assert_int_equal(registry_setattr(reg, a, &sa, &st, NULL), 0);
	assert_int_equal(attr_of(a).st_size, 0);
	assert_int_equal(used_bytes(), 0);
}

static void test_setattr_size_enospc_efbig_leave_size(void **state)
{
	struct registry_setattr sa = {.valid = REGISTRY_SET_SIZE};
	struct stat st;
	uint64_t a, b;

	(void)state;
	fx_open(16 * PAGE, 0);
	a = mk(ROOT, "a");
	b = mk(ROOT, "b");
	set_size(a, 12 * PAGE);
	sa.size = 8 * PAGE; /* fits the store, not the free space */
	memset(&st, 0x7c, sizeof(st));
	assert_int_equal(registry_setattr(reg, b, &sa, &st, NULL), -ENOSPC);
	assert_int_equal(st.st_ino, (ino_t)0x7c7c7c7c7c7c7c7cull);
	assert_int_equal(attr_of(b).st_size, 0);
	assert_int_equal(used_bytes(), 12 * PAGE);
	sa.size = 16 * PAGE + 1; /* more than the whole store */
	assert_int_equal(registry_setattr(reg, a, &sa, &st, NULL), -EFBIG);
	assert_int_equal(attr_of(a).st_size, 12 * PAGE);
	assert_int_equal(used_bytes(), 12 * PAGE);
	/* exactly the free space works */
	set_size(b, 4 * PAGE);
	assert_int_equal(used_bytes(), 16 * PAGE);
	sa.size = 4 * PAGE + 1;
	assert_int_equal(registry_setattr(reg, b, &sa, &st, NULL), -ENOSPC);
	assert_int_equal(attr_of(b).st_size, 4 * PAGE);
}

static void test_setattr_size_on_directory_eisdir(void **state)
{
	struct registry_setattr sa = {.valid = REGISTRY_SET_SIZE, .size = 0};
	struct stat st;
	uint64_t d;

	(void)state;
	fx_open(MiB, 0);
	d = mkd(ROOT, "d");
	assert_int_equal(registry_setattr(reg, d, &sa, &st, NULL), -EISDIR);
	assert_int_equal(registry_setattr(reg, ROOT, &sa, &st, NULL), -EISDIR);
	sa.size = PAGE;
	assert_int_equal(registry_setattr(reg, d, &sa, &st, NULL), -EISDIR);
	assert_int_equal(used_bytes(), 0);
}

static void test_setattr_unknown_inode_enoent(void **state)
{
	struct registry_setattr sa = {.valid = REGISTRY_SET_MODE, .mode = 0600};
	struct stat st;

	(void)state;
	fx_open(MiB, 0);
	assert_int_equal(registry_setattr(reg, NO_INO, &sa, &st, NULL), -ENOENT);
}

static void test_setattr_mode_uid_gid(void **state)
{
	struct registry_setattr sa;
	struct stat st;
	uint64_t a, d;

	(void)state;
	fx_open(MiB, 0);
	a = mk(ROOT, "a");
	d = mkd(ROOT, "d");

	sa = (struct registry_setattr){.valid = REGISTRY_SET_MODE, .mode = 04600};
	assert_int_equal(registry_setattr(reg, a, &sa, &st, NULL), 0);
	assert_int_equal(st.st_mode, S_IFREG | 04600);
	assert_int_equal(attr_of(a).st_mode, S_IFREG | 04600);
	assert_int_equal(attr_of(a).st_uid, cred.uid); /* untouched */
	assert_int_equal(attr_of(a).st_gid, cred.gid);

	sa = (struct registry_setattr){.valid = REGISTRY_SET_UID, .uid = 7};
	assert_int_equal(registry_setattr(reg, a, &sa, &st, NULL), 0);
	assert_int_equal(st.st_uid, 7);
	assert_int_equal(attr_of(a).st_uid, 7);
	assert_int_equal(attr_of(a).st_gid, cred.gid);
	assert_int_equal(attr_of(a).st_mode, S_IFREG | 04600);

	sa = (struct registry_setattr){.valid = REGISTRY_SET_GID, .gid = 8};
	assert_int_equal(registry_setattr(reg, a, &sa, &st, NULL), 0);
	assert_int_equal(attr_of(a).st_gid, 8);
	assert_int_equal(attr_of(a).st_uid, 7);

	sa = (struct registry_setattr){.valid =
					   REGISTRY_SET_MODE | REGISTRY_SET_UID | REGISTRY_SET_GID,
				       .mode = 01707,
				       .uid = 11,
				       .gid = 12};
	assert_int_equal(registry_setattr(reg, d, &sa, &st, NULL), 0);
	assert_int_equal(st.st_mode, S_IFDIR | 01707);
	st = attr_of(d);
	assert_int_equal(st.st_mode, S_IFDIR | 01707);
	assert_int_equal(st.st_uid, 11);
	assert_int_equal(st.st_gid, 12);
	assert_int_equal(st.st_nlink, 2);

	/* the root too (chmod/chown of the mount point) */
	sa = (struct registry_setattr){
	    .valid = REGISTRY_SET_MODE | REGISTRY_SET_UID, .mode = 0700, .uid = 0};
	assert_int_equal(registry_setattr(reg, ROOT, &sa, &st, NULL), 0);
	st = attr_of(ROOT);
	assert_int_equal(st.st_mode, S_IFDIR | 0700);
	assert_int_equal(st.st_uid, 0);
	assert_int_equal(st.st_gid, ROOT_GID);

	/* valid = 0 changes nothing */
	sa = (struct registry_setattr){.valid = 0, .mode = 0, .uid = 99, .gid = 99, .size = 12345};
	assert_int_equal(registry_setattr(reg, a, &sa, &st, NULL), 0);
	st = attr_of(a);
	assert_int_equal(st.st_mode, S_IFREG | 04600);
	assert_int_equal(st.st_uid, 7);
	assert_int_equal(st.st_size, 0);
}

static void test_setattr_times_region(void **state)
{
	struct registry_setattr sa = {.valid = REGISTRY_SET_ATIME | REGISTRY_SET_MTIME};
	struct timespec before;
	struct stat st;
	uint64_t a;

	(void)state;
	fx_open(MiB, 0);
	a = mk(ROOT, "a");
	sa.atime = (struct timespec){.tv_sec = 1000000, .tv_nsec = 5};
	sa.mtime = (struct timespec){.tv_sec = 2000000, .tv_nsec = 7};
	assert_int_equal(registry_setattr(reg, a, &sa, &st, NULL), 0);
	assert_int_equal(st.st_atim.tv_sec, 1000000);
	assert_int_equal(st.st_mtim.tv_sec, 2000000);
	st = attr_of(a);
	assert_int_equal(st.st_atim.tv_sec, 1000000);
	assert_int_equal(st.st_atim.tv_nsec, 5);
	assert_int_equal(st.st_mtim.tv_sec, 2000000);
	assert_int_equal(st.st_mtim.tv_nsec, 7);

	/* only mtime, UTIME_NOW: atime stays */
	clock_gettime(CLOCK_REALTIME, &before);
	sa = (struct registry_setattr){.valid = REGISTRY_SET_MTIME};
	sa.mtime.tv_nsec = UTIME_NOW;
	assert_int_equal(registry_setattr(reg, a, &sa, &st, NULL), 0);
	st = attr_of(a);
	assert_int_equal(st.st_atim.tv_sec, 1000000);
	assert_true(st.st_mtim.tv_sec >= before.tv_sec - 1);
	assert_true(st.st_mtim.tv_sec <= before.tv_sec + 60);
}

static void test_setattr_times_directory(void **state)
{
	struct registry_setattr sa = {.valid = REGISTRY_SET_ATIME | REGISTRY_SET_MTIME};
	struct timespec before;
	struct stat st;
	uint64_t d;

	(void)state;
	fx_open(MiB, 0);
	d = mkd(ROOT, "d");
	sa.atime = (struct timespec){.tv_sec = 3000000, .tv_nsec = 9};
	sa.mtime = (struct timespec){.tv_sec = 4000000, .tv_nsec = 11};
	assert_int_equal(registry_setattr(reg, d, &sa, &st, NULL), 0);
	st = attr_of(d);
	assert_int_equal(st.st_atim.tv_sec, 3000000);
	assert_int_equal(st.st_atim.tv_nsec, 9);
	assert_int_equal(st.st_mtim.tv_sec, 4000000);
	assert_int_equal(st.st_mtim.tv_nsec, 11);
	clock_gettime(CLOCK_REALTIME, &before);
	sa = (struct registry_setattr){.valid = REGISTRY_SET_ATIME};
	sa.atime.tv_nsec = UTIME_NOW;
	assert_int_equal(registry_setattr(reg, d, &sa, &st, NULL), 0);
	st = attr_of(d);
	assert_true(st.st_atim.tv_sec >= before.tv_sec - 1);
	assert_int_equal(st.st_mtim.tv_sec, 4000000);
}

/* ------------------------------------------------------------------ */
/* readdir                                                             */
/* ------------------------------------------------------------------ */

static void test_readdir_dot_dotdot_offsets(void **state)
{
	struct collect c;
	uint64_t d;

	(void)state;
	fx_open(MiB, 0);
	readdir_all(&c, ROOT, 100, false);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.v[0].name, ".");
	assert_int_equal(c.v[0].ino, ROOT);
	assert_true(S_ISDIR(c.v[0].mode));
	assert_int_equal(c.v[0].next_off, 1);
	assert_string_equal(c.v[1].name, "..");
	assert_int_equal(c.v[1].ino, ROOT); /* the root is its own parent */
	assert_true(S_ISDIR(c.v[1].mode));
	assert_int_equal(c.v[1].next_off, 2);
	collect_free(&c);

	d = mkd(ROOT, "d");
	readdir_all(&c, d, 100, false);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.v[0].name, ".");
	assert_int_equal(c.v[0].ino, d);
	assert_string_equal(c.v[1].name, "..");
	assert_int_equal(c.v[1].ino, ROOT);
	collect_free(&c);

	/* off 1 skips ".", off 2 skips both */
	memset(&c, 0, sizeof(c));
	c.budget = 100;
	readdir_once(&c, d, 1, false);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.v[0].name, "..");
	collect_free(&c);
	c.budget = 100;
	readdir_once(&c, d, 2, false);
	assert_int_equal(c.n, 0);
	collect_free(&c);
}

static void test_readdir_creation_order_and_attributes(void **state)
{
	const char *names[] = {"zeta", "alpha", "mid", "b", "a"};
	uint64_t inos[5], d;
	struct collect c;
	size_t i;

	(void)state;
	fx_open(MiB, 0);
	for (i = 0; i < 5; i++)
		inos[i] = i == 2 ? mkd(ROOT, names[i]) : mk(ROOT, names[i]);
	d = inos[2];
	readdir_all(&c, ROOT, 100, false);
	assert_int_equal(c.n, 7);
	assert_string_equal(c.v[0].name, ".");
	assert_string_equal(c.v[1].name, "..");
	for (i = 0; i < 5; i++) {
		assert_string_equal(c.v[i + 2].name, names[i]);
		assert_int_equal(c.v[i + 2].ino, inos[i]);
		if (inos[i] == d)
			assert_true(S_ISDIR(c.v[i + 2].mode));
		else
			assert_true(S_ISREG(c.v[i + 2].mode));
	}
	/* positions increase */
	for (i = 1; i < c.n; i++)
		assert_true(c.v[i].next_off > c.v[i - 1].next_off);
	assert_true(c.v[2].next_off > 2);
	collect_free(&c);
}

/* Resuming from next_off of the last accepted entry, with budgets of 1, 2,
 * 3 and 7 entries per call, yields the same complete listing. */
static void test_readdir_resume_with_small_budgets(void **state)
{
	enum { N = 50 };
	const size_t budgets[] = {1, 2, 3, 7, 1000};
	struct collect c;
	char name[32];
	size_t b, i;

	(void)state;
	fx_open(MiB, 0);
	for (i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "e%03zu", i);
		if (i % 5 == 0)
			mkd(ROOT, name);
		else
			mk(ROOT, name);
	}
	for (b = 0; b < ARRAY_SIZE(budgets); b++) {
		readdir_all(&c, ROOT, budgets[b], false);
		if (c.n != N + 2)
			fail_msg("budget %zu: %zu entries, want %d", budgets[b], c.n, N + 2);
		assert_string_equal(c.v[0].name, ".");
		assert_string_equal(c.v[1].name, "..");
		for (i = 0; i < N; i++) {
			snprintf(name, sizeof(name), "e%03zu", i);
			assert_string_equal(c.v[i + 2].name, name);
		}
		collect_free(&c);
	}
}

/* The entry that made fill() fail is the first of the next call. */
static void test_readdir_rejected_entry_comes_next(void **state)
{
	struct collect c;

	(void)state;
	fx_open(MiB, 0);
	mk(ROOT, "a");
	mk(ROOT, "b");
	mk(ROOT, "c");
	memset(&c, 0, sizeof(c));
	c.budget = 3;
	assert_int_equal(readdir_once(&c, ROOT, 0, false), 3);
	assert_true(c.rejected);
	assert_string_equal(c.v[2].name, "a");
	assert_int_equal(readdir_once(&c, ROOT, c.v[2].next_off, false), 2);
	assert_string_equal(c.v[3].name, "b");
	assert_string_equal(c.v[4].name, "c");
	assert_false(c.rejected);
	assert_int_equal(readdir_once(&c, ROOT, c.v[4].next_off, false), 0);
	/* an offset can be reused: reading from the same position again gives
	 * the same entries (seekdir/rewinddir) */
	assert_int_equal(readdir_once(&c, ROOT, c.v[2].next_off, false), 2);
	assert_string_equal(c.v[5].name, "b");
	assert_string_equal(c.v[6].name, "c");
	collect_free(&c);
}

/* Entries created and removed between calls: nothing that existed
 * throughout is skipped or returned twice, removed entries are not
 * returned after their removal, and no name is returned twice. */
static void test_readdir_stable_across_concurrent_changes(void **state)
{
	enum { N = 120, BUDGET = 5 };
	bool removed[N] = {false}, returned_once[N] = {false};
	struct collect c;
	char name[32];
	uint64_t d, off = 0;
	size_t i, k, created = 0, calls = 0, next_unread = 0;

	(void)state;
	fx_open(MiB, 0);
	d = mkd(ROOT, "d");
	for (i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "e%03zu", i);
		mk(d, name);
	}
	memset(&c, 0, sizeof(c));
	c.budget = BUDGET;
	for (;;) {
		size_t start = c.n, got = readdir_once(&c, d, off, false);
		size_t idx;

		if (got == 0)
			break;
		assert_true(++calls < 10000);
		for (k = start; k < c.n; k++) {
			if (!strcmp(c.v[k].name, ".") || !strcmp(c.v[k].name, ".."))
				continue;
			if (c.v[k].name[0] == 'n')
				continue; /* created during the walk: may or may not appear */
			idx = (size_t)atoi(c.v[k].name + 1);
			assert_true(idx < N);
			if (removed[idx])
				fail_msg("%s returned after its removal", c.v[k].name);
			if (returned_once[idx])
				fail_msg("%s returned twice", c.v[k].name);
			returned_once[idx] = true;
			if (idx + 1 > next_unread)
				next_unread = idx + 1;
		}
		off = c.v[c.n - 1].next_off;

		/* 1. remove the entry at the cursor (the last one returned) */
		if (c.v[c.n - 1].name[0] == 'e') {
			idx = (size_t)atoi(c.v[c.n - 1].name + 1);
			if (!removed[idx] && idx % 3 == 0) {
				assert_int_equal(registry_unlink(reg, d, c.v[c.n - 1].name), 0);
				removed[idx] = true;
			}
		}
		/* 2. remove one already returned, further back */
		if (next_unread >= 4 && !removed[next_unread - 4]) {
			snprintf(name, sizeof(name), "e%03zu", next_unread - 4);
			assert_int_equal(registry_unlink(reg, d, name), 0);
			removed[next_unread - 4] = true;
		}
		/* 3. remove one not yet returned, two ahead */
		if (next_unread + 2 < N && !removed[next_unread + 2] && calls % 2) {
			snprintf(name, sizeof(name), "e%03zu", next_unread + 2);
			assert_int_equal(registry_unlink(reg, d, name), 0);
			removed[next_unread + 2] = true;
		}
		/* 4. create new entries (while the walk is still among the
		 * original ones, so that it ends) */
		if (next_unread < N) {
			snprintf(name, sizeof(name), "n%03zu", created++);
			mk(d, name);
			snprintf(name, sizeof(name), "n%03zu", created++);
			mkd(d, name);
		}
	}
	/* appended entries come after the originals: all were returned */
	for (i = 0; i < created; i++) {
		snprintf(name, sizeof(name), "n%03zu", i);
		if (count_dent(&c, name) != 1)
			fail_msg("%s (created during the walk) returned %zu times", name,
				 count_dent(&c, name));
	}
	for (i = 0; i < N; i++)
		if (!removed[i] && !returned_once[i])
			fail_msg("e%03zu existed throughout but was skipped", i);
	assert_int_equal(count_dent(&c, "."), 1);
	assert_int_equal(count_dent(&c, ".."), 1);
	collect_free(&c);
}

/* Removing every entry up to and including the cursor, then resuming. */
static void test_readdir_resume_after_cursor_entries_removed(void **state)
{
	struct collect c;

	(void)state;
	fx_open(MiB, 0);
	mk(ROOT, "a");
	mk(ROOT, "b");
	mk(ROOT, "c");
	mk(ROOT, "d");
	memset(&c, 0, sizeof(c));
	c.budget = 4;
	assert_int_equal(readdir_once(&c, ROOT, 0, false), 4); /* . .. a b */
	assert_string_equal(c.v[3].name, "b");
	assert_int_equal(registry_unlink(reg, ROOT, "a"), 0);
	assert_int_equal(registry_unlink(reg, ROOT, "b"), 0);
	mk(ROOT, "a"); /* the same name again: a new entry, after d */
	c.budget = 100;
	assert_int_equal(readdir_once(&c, ROOT, c.v[3].next_off, false), 3);
	assert_string_equal(c.v[4].name, "c");
	assert_string_equal(c.v[5].name, "d");
	assert_string_equal(c.v[6].name, "a");
	collect_free(&c);
}

/* readdirplus: every accepted entry other than "." and ".." takes a lookup
 * reference; the rejected entry takes none. */
static void test_readdir_want_attr_takes_lookup_refs(void **state)
{
	struct collect c;
	uint64_t d, a, b, e;

	(void)state;
	fx_open(MiB, 0);
	d = mkd(ROOT, "d");
	a = mk(d, "a");
	b = mk(d, "b");
	e = mkd(d, "e");
	registry_forget(reg, a, 1);
	registry_forget(reg, b, 1);
	registry_forget(reg, e, 1);
	registry_forget(reg, d, 1);

	memset(&c, 0, sizeof(c));
	c.budget = 3; /* ".", "..", "a"; "b" is rejected */
	assert_int_equal(readdir_once(&c, d, 0, true), 3);
	assert_true(c.rejected);
	assert_string_equal(c.v[2].name, "a");
	/* full attributes with want_attr */
	assert_int_equal(c.v[2].ino, a);
	assert_true(S_ISREG(c.v[2].mode));
	assert_int_equal(c.v[2].nlink, 1);
	assert_int_equal(c.v[2].uid, cred.uid);
	c.budget = 100;
	assert_int_equal(readdir_once(&c, d, 0, false), 5); /* no refs */
	collect_free(&c);

	assert_int_equal(registry_unlink(reg, d, "a"), 0);
	assert_int_equal(registry_unlink(reg, d, "b"), 0);
	assert_true(ino_exists(a));  /* referenced by readdirplus */
	assert_false(ino_exists(b)); /* rejected: no reference */
	registry_forget(reg, a, 1);
	assert_false(ino_exists(a));

	/* now e, through readdirplus from offset after "..", then "." and ".."
	 * of a directory take no reference */
	memset(&c, 0, sizeof(c));
	c.budget = 100;
	readdir_once(&c, d, 2, true);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.v[0].name, "e");
	assert_int_equal(c.v[0].ino, e);
	assert_true(S_ISDIR(c.v[0].mode));
	assert_int_equal(c.v[0].nlink, 2);
	collect_free(&c);
	memset(&c, 0, sizeof(c));
	c.budget = 2;
	readdir_once(&c, e, 0, true); /* "." is e, ".." is d */
	assert_int_equal(c.n, 2);
	assert_int_equal(c.v[0].ino, e);
	assert_int_equal(c.v[1].ino, d);
	collect_free(&c);
	assert_int_equal(registry_rmdir(reg, d, "e"), 0);
	assert_true(ino_exists(e)); /* the one readdirplus reference of "e" */
	registry_forget(reg, e, 1);
	assert_false(ino_exists(e)); /* "." took none */
	assert_int_equal(registry_rmdir(reg, ROOT, "d"), 0);
	assert_false(ino_exists(d)); /* ".." took none */
	assert_int_equal(inodes_used(), 1);
}

static void test_readdir_10000_entries(void **state)
{
	enum { N = 10000 };
	struct collect c;
	char name[32];
	uint64_t d;
	size_t i;

	(void)state;
	fx_open(MiB, 0);
	d = mkd(ROOT, "big");
	for (i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "entry-%05zu", i);
		mkd(d, name);
	}
	assert_int_equal(nlink_of(d), N + 2);
	assert_int_equal(inodes_used(), N + 2);
	readdir_all(&c, d, 64, false);
	assert_int_equal(c.n, N + 2);
	for (i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "entry-%05zu", i);
		assert_string_equal(c.v[i + 2].name, name);
		if (i)
			assert_true(c.v[i + 2].next_off > c.v[i + 1].next_off);
	}
	collect_free(&c);
	/* lookups stay exact among many names */
	assert_true(ino_of(d, "entry-09999") > 0);
	assert_int_equal(ino_of(d, "entry-10000"), 0);
}

/* Two directory streams on one directory, calls interleaved: each gets the
 * complete listing from its own offsets. */
static void test_readdir_interleaved_streams(void **state)
{
	enum { N = 40 };
	struct collect a, b;
	char name[32];
	uint64_t offa = 0, offb = 0;
	bool donea = false, doneb = false;
	size_t i;

	(void)state;
	fx_open(MiB, 0);
	for (i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "e%02zu", i);
		mk(ROOT, name);
	}
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.budget = 3;
	b.budget = 5;
	while (!donea || !doneb) {
		if (!donea) {
			if (readdir_once(&a, ROOT, offa, false) == 0)
				donea = true;
			else
				offa = a.v[a.n - 1].next_off;
		}
		if (!doneb) {
			if (readdir_once(&b, ROOT, offb, false) == 0)
				doneb = true;
			else
				offb = b.v[b.n - 1].next_off;
		}
		/* a third reader restarting from the top each time */
		assert_dir_names(ROOT, "e00,e01,e02,e03,e04,e05,e06,e07,e08,e09,e10,e11,e12,"
				       "e13,e14,e15,e16,e17,e18,e19,e20,e21,e22,e23,e24,e25,"
				       "e26,e27,e28,e29,e30,e31,e32,e33,e34,e35,e36,e37,e38,"
				       "e39");
	}
	assert_int_equal(a.n, N + 2);
	assert_int_equal(b.n, N + 2);
	for (i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "e%02zu", i);
		assert_string_equal(a.v[i + 2].name, name);
		assert_string_equal(b.v[i + 2].name, name);
	}
	collect_free(&a);
	collect_free(&b);
}

/* A removed directory, still referenced, whose parent is then removed and
 * freed: readdir of it must not touch the freed parent (ASan), and may
 * list at most "." and "..". */
static void test_readdir_removed_directory_with_freed_parent(void **state)
{
	struct collect c;
	struct stat st;
	uint64_t a, b;
	size_t i;
	int r;

	(void)state;
	fx_open(MiB, 0);
	a = mkd(ROOT, "a");
	b = mkd(a, "b");
	assert_int_equal(registry_rmdir(reg, a, "b"), 0);
	assert_int_equal(registry_rmdir(reg, ROOT, "a"), 0);
	registry_forget(reg, a, 1);
	assert_false(ino_exists(a));
	assert_true(ino_exists(b));
	/* fill up the freed memory with other nodes */
	for (i = 0; i < 50; i++) {
		char name[16];

		snprintf(name, sizeof(name), "x%zu", i);
		mkd(ROOT, name);
	}
	memset(&c, 0, sizeof(c));
	c.budget = 100;
	r = registry_readdir(reg, b, 0, true, fill_cb, &c);
	assert_int_equal(r, -ENOENT); /* a removed directory, as getdents(2) */
	assert_int_equal(c.n, 0);
	collect_free(&c);
	assert_int_equal(registry_getattr(reg, b, &st, NULL), 0);
	assert_int_equal(registry_lookup(reg, b, "x", &st, NULL), -ENOENT);
	registry_forget(reg, b, 1);
	assert_false(ino_exists(b));
}

/* ------------------------------------------------------------------ */
/* xattrs                                                              */
/* ------------------------------------------------------------------ */

/* Does the NUL-separated list hold name? */
static bool list_has(const char *list, ssize_t len, const char *name)
{
	ssize_t pos = 0;

	while (pos < len) {
		if (!strcmp(list + pos, name))
			return true;
		pos += (ssize_t)strlen(list + pos) + 1;
	}
	return false;
}

static void test_xattr_set_get_list_remove(void **state)
{
	char buf[256];
	ssize_t n;
	uint64_t a;

	(void)state;
	fx_open(MiB, 0);
	a = mk(ROOT, "a");
	assert_int_equal(registry_listxattr(reg, a, buf, sizeof(buf)), 0);
	assert_int_equal(registry_setxattr(reg, a, "user.one", "111", 3, 0), 0);
	assert_int_equal(registry_setxattr(reg, a, "user.two", "22", 2, 0), 0);
	assert_int_equal(registry_setxattr(reg, a, "user.empty", "", 0, 0), 0);

	memset(buf, 0, sizeof(buf));
	assert_int_equal(registry_getxattr(reg, a, "user.one", buf, sizeof(buf)), 3);
	assert_memory_equal(buf, "111", 3);
	assert_int_equal(registry_getxattr(reg, a, "user.two", buf, sizeof(buf)), 2);
	assert_memory_equal(buf, "22", 2);
	assert_int_equal(registry_getxattr(reg, a, "user.empty", buf, sizeof(buf)), 0);
	assert_int_equal(registry_getxattr(reg, a, "user.empty", NULL, 0), 0);

	n = registry_listxattr(reg, a, buf, sizeof(buf));
	assert_int_equal(n, sizeof("user.one") + sizeof("user.two") + sizeof("user.empty"));
	assert_true(list_has(buf, n, "user.one"));
	assert_true(list_has(buf, n, "user.two"));
	assert_true(list_has(buf, n, "user.empty"));

	/* overwrite without flags */
	assert_int_equal(registry_setxattr(reg, a, "user.one", "1", 1, 0), 0);
	assert_int_equal(registry_getxattr(reg, a, "user.one", buf, sizeof(buf)), 1);
	assert_memory_equal(buf, "1", 1);
	assert_int_equal(registry_listxattr(reg, a, buf, sizeof(buf)), n);

	assert_int_equal(registry_removexattr(reg, a, "user.one"), 0);
	assert_int_equal(registry_getxattr(reg, a, "user.one", buf, sizeof(buf)), -ENODATA);
	n = registry_listxattr(reg, a, buf, sizeof(buf));
	assert_int_equal(n, sizeof("user.two") + sizeof("user.empty"));
	assert_false(list_has(buf, n, "user.one"));
	assert_true(list_has(buf, n, "user.two"));
	assert_int_equal(registry_removexattr(reg, a, "user.two"), 0);
	assert_int_equal(registry_removexattr(reg, a, "user.empty"), 0);
	assert_int_equal(registry_listxattr(reg, a, buf, sizeof(buf)), 0);
	assert_int_equal(registry_listxattr(reg, a, NULL, 0), 0);

	/* binary values with NULs survive */
	assert_int_equal(registry_setxattr(reg, a, "user.bin", "a\0b\0", 4, 0), 0);
	assert_int_equal(registry_getxattr(reg, a, "user.bin", buf, sizeof(buf)), 4);
	assert_memory_equal(buf, "a\0b\0", 4);
}

static void test_xattr_follows_inode_across_rename_and_link(void **state)
{
	char buf[16];
	struct stat st;
	uint64_t a, b;

	(void)state;
	fx_open(MiB, 0);
	a = mk(ROOT, "a");
	b = mk(ROOT, "b");
	assert_int_equal(registry_setxattr(reg, a, "user.k", "A", 1, 0), 0);
	assert_int_equal(registry_getxattr(reg, b, "user.k", buf, sizeof(buf)), -ENODATA);
	assert_int_equal(registry_rename(reg, ROOT, "a", ROOT, "z", 0), 0);
	assert_int_equal(registry_link(reg, a, ROOT, "l", &st, NULL), 0);
	assert_int_equal(registry_getxattr(reg, ino_of(ROOT, "l"), "user.k", buf, sizeof(buf)), 1);
	assert_int_equal(buf[0], 'A');
}

static void test_xattr_size_queries_and_erange(void **state)
{
	char buf[64];
	uint64_t a;

	(void)state;
	fx_open(MiB, 0);
	a = mk(ROOT, "a");
	assert_int_equal(registry_setxattr(reg, a, "user.k", "value", 5, 0), 0);
	assert_int_equal(registry_setxattr(reg, a, "user.kk", "v", 1, 0), 0);

	assert_int_equal(registry_getxattr(reg, a, "user.k", NULL, 0), 5);
	assert_int_equal(registry_getxattr(reg, a, "user.k", buf, 0), 5);
	assert_int_equal(registry_getxattr(reg, a, "user.k", buf, 4), -ERANGE);
	assert_int_equal(registry_getxattr(reg, a, "user.k", buf, 1), -ERANGE);
	assert_int_equal(registry_getxattr(reg, a, "user.k", buf, 5), 5);
	assert_memory_equal(buf, "value", 5);

	/* "user.k\0user.kk\0" */
	assert_int_equal(registry_listxattr(reg, a, NULL, 0), 15);
	assert_int_equal(registry_listxattr(reg, a, buf, 0), 15);
	assert_int_equal(registry_listxattr(reg, a, buf, 14), -ERANGE);
	assert_int_equal(registry_listxattr(reg, a, buf, 1), -ERANGE);
	assert_int_equal(registry_listxattr(reg, a, buf, 15), 15);
	assert_true(list_has(buf, 15, "user.k"));
	assert_true(list_has(buf, 15, "user.kk"));
}

static void test_xattr_missing_enodata(void **state)
{
	char buf[16];
	uint64_t a;

	(void)state;
	fx_open(MiB, 0);
	a = mk(ROOT, "a");
	assert_int_equal(registry_getxattr(reg, a, "user.none", buf, sizeof(buf)), -ENODATA);
	assert_int_equal(registry_getxattr(reg, a, "user.none", NULL, 0), -ENODATA);
	assert_int_equal(registry_removexattr(reg, a, "user.none"), -ENODATA);
	assert_int_equal(registry_setxattr(reg, a, "user.x", "1", 1, 0), 0);
	assert_int_equal(registry_getxattr(reg, a, "user.X", buf, sizeof(buf)), -ENODATA);
	assert_int_equal(registry_getxattr(reg, a, "user.x2", buf, sizeof(buf)), -ENODATA);
	assert_int_equal(registry_getxattr(reg, a, "user.", buf, sizeof(buf)), -ENODATA);
	assert_int_equal(registry_removexattr(reg, a, "user.x"), 0);
	assert_int_equal(registry_removexattr(reg, a, "user.x"), -ENODATA);
}

static void test_xattr_create_replace_flags(void **state)
{
	char buf[16];
	uint64_t a;

	(void)state;
	fx_open(MiB, 0);
	a = mk(ROOT, "a");
	assert_int_equal(registry_setxattr(reg, a, "user.k", "new", 3, XATTR_REPLACE), -ENODATA);
	assert_int_equal(registry_getxattr(reg, a, "user.k", buf, sizeof(buf)), -ENODATA);
	assert_int_equal(registry_setxattr(reg, a, "user.k", "one", 3, XATTR_CREATE), 0);
	assert_int_equal(registry_setxattr(reg, a, "user.k", "two", 3, XATTR_CREATE), -EEXIST);
	assert_int_equal(registry_getxattr(reg, a, "user.k", buf, sizeof(buf)), 3);
	assert_memory_equal(buf, "one", 3);
	assert_int_equal(registry_setxattr(reg, a, "user.k", "three", 5, XATTR_REPLACE), 0);
	assert_int_equal(registry_getxattr(reg, a, "user.k", buf, sizeof(buf)), 5);
	assert_memory_equal(buf, "three", 5);
	assert_int_equal(registry_listxattr(reg, a, NULL, 0), sizeof("user.k"));
}

static void test_xattr_list_limit_enospc(void **state)
{
	char *big = calloc(1, 65536), name[32];
	size_t names = 0;
	uint64_t a, b;
	int i, r = 0;

	(void)state;
	assert_non_null(big);
	fx_open(MiB, 0);
	a = mk(ROOT, "a");
	b = mk(ROOT, "b");
	/* A whole XATTR_SIZE_MAX value, with its name, and another beside it. */
	assert_int_equal(registry_setxattr(reg, a, "user.big1", big, 65536, 0), 0);
	assert_int_equal(registry_setxattr(reg, a, "user.big2", big, 65536, 0), 0);
	assert_int_equal(registry_getxattr(reg, a, "user.big2", NULL, 0), 65536);
	/* The names of one node fit what listxattr can return. */
	for (i = 0; i < 100000; i++) {
		snprintf(name, sizeof(name), "user.n%06d", i);
		r = registry_setxattr(reg, b, name, "", 0, 0);
		if (r < 0)
			break;
		names += strlen(name) + 1;
	}
	assert_int_equal(r, -ENOSPC);
	assert_true(names <= REGISTRY_XATTR_LIST_MAX);
	assert_true(names + strlen(name) + 1 > REGISTRY_XATTR_LIST_MAX);
	assert_int_equal(registry_listxattr(reg, b, NULL, 0), (ssize_t)names);
	assert_int_equal(registry_getxattr(reg, b, name, NULL, 0), -ENODATA);
	/* Replacing a value adds no name; removing one makes room. */
	assert_int_equal(registry_setxattr(reg, b, "user.n000000", big, 100, XATTR_REPLACE), 0);
	assert_int_equal(registry_removexattr(reg, b, "user.n000001"), 0);
	assert_int_equal(registry_setxattr(reg, b, name, "", 0, 0), 0);
	/* The limit is per node. */
	assert_int_equal(registry_setxattr(reg, a, name, "", 0, 0), 0);
	free(big);
}

/* Attributes are memory the daemon keeps: they count against size=. */
static void test_xattr_charged_against_limit(void **state)
{
	size_t c64k = xattr_cost(strlen("user.v00"), 65536);
	char *big = calloc(1, 65536), name[32];
	uint64_t a, b, used;
	int i, r = 0;

	(void)state;
	assert_non_null(big);
	fx_open(4 * c64k + 3 * PAGE, 0);
	a = mk(ROOT, "a");
	b = mk(ROOT, "b");
	set_size(b, 3 * PAGE);
	for (i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "user.v%02d", i);
		r = registry_setxattr(reg, a, name, big, 65536, 0);
		if (r < 0)
			break;
	}
	/* four fit beside the data, the fifth is ENOSPC and leaves nothing */
	assert_int_equal(r, -ENOSPC);
	assert_int_equal(i, 4);
	assert_int_equal(registry_getxattr(reg, a, name, NULL, 0), -ENODATA);
	assert_int_equal(used_bytes(), 4 * c64k + 3 * PAGE);
	assert_int_equal(registry_setxattr(reg, b, "user.x", big, 65536, 0), -ENOSPC);
	/* data cannot take the metadata's room either */
	assert_int_equal(registry_setattr(reg, b, &(struct registry_setattr){.valid =
			 REGISTRY_SET_SIZE, .size = 4 * PAGE}, &(struct stat){0}, NULL), -ENOSPC);
	/* a smaller value gives the difference back */
	assert_int_equal(registry_setxattr(reg, a, "user.v00", big, 1000, XATTR_REPLACE), 0);
	used = 3 * c64k + xattr_cost(strlen("user.v00"), 1000) + 3 * PAGE;
	assert_int_equal(used_bytes(), used);
	/* the same value again changes nothing */
	assert_int_equal(registry_setxattr(reg, a, "user.v00", big, 1000, XATTR_REPLACE), 0);
	assert_int_equal(used_bytes(), used);
	/* removing gives it back */
	assert_int_equal(registry_removexattr(reg, a, "user.v01"), 0);
	assert_int_equal(used_bytes(), used - c64k);
	assert_int_equal(registry_setxattr(reg, b, "user.x", big, 65536, 0), 0);
	/* freeing the node gives back all of its attributes */
	assert_int_equal(registry_unlink(reg, ROOT, "a"), 0);
	registry_forget(reg, a, 1);
	assert_int_equal(used_bytes(), 3 * PAGE + c64k - strlen("user.v00") + strlen("user.x"));
	assert_int_equal(registry_unlink(reg, ROOT, "b"), 0);
	registry_forget(reg, b, 1);
	assert_int_equal(used_bytes(), 0);
	free(big);
}

static void test_xattr_name_and_value_limits(void **state)
{
	char name[300], *val = calloc(1, 65537 + 1);
	uint64_t a;

	(void)state;
	assert_non_null(val);
	fx_open(MiB, 0);
	a = mk(ROOT, "a");
	/* name <= 255 bytes */
	memcpy(name, "user.", 5);
	memset(name + 5, 'n', 250);
	name[255] = '\0';
	assert_int_equal(strlen(name), 255);
	assert_int_equal(registry_setxattr(reg, a, name, "v", 1, 0), 0);
	assert_int_equal(registry_getxattr(reg, a, name, NULL, 0), 1);
	name[255] = 'n';
	name[256] = '\0';
	assert_int_equal(registry_setxattr(reg, a, name, "v", 1, 0), -ERANGE);
	/* value <= 65536 bytes */
	assert_int_equal(registry_setxattr(reg, a, "user.v", val, 65537, 0), -E2BIG);
	assert_int_equal(registry_getxattr(reg, a, "user.v", NULL, 0), -ENODATA);
	free(val);
}

static void test_xattr_on_directories_and_root(void **state)
{
	char buf[16];
	uint64_t d;

	(void)state;
	fx_open(MiB, 0);
	d = mkd(ROOT, "d");
	assert_int_equal(registry_setxattr(reg, d, "user.d", "dd", 2, 0), 0);
	assert_int_equal(registry_setxattr(reg, ROOT, "user.r", "rrr", 3, 0), 0);
	assert_int_equal(registry_getxattr(reg, d, "user.d", buf, sizeof(buf)), 2);
	assert_int_equal(registry_getxattr(reg, ROOT, "user.r", buf, sizeof(buf)), 3);
	assert_int_equal(registry_getxattr(reg, ROOT, "user.d", buf, sizeof(buf)), -ENODATA);
	assert_int_equal(registry_listxattr(reg, ROOT, NULL, 0), sizeof("user.r"));
}

static void test_xattr_unknown_inode_enoent(void **state)
{
	char buf[16];

	(void)state;
	fx_open(MiB, 0);
	assert_int_equal(registry_setxattr(reg, NO_INO, "user.k", "v", 1, 0), -ENOENT);
	assert_int_equal(registry_getxattr(reg, NO_INO, "user.k", buf, sizeof(buf)), -ENOENT);
	assert_int_equal(registry_listxattr(reg, NO_INO, buf, sizeof(buf)), -ENOENT);
	assert_int_equal(registry_removexattr(reg, NO_INO, "user.k"), -ENOENT);
}

/* ------------------------------------------------------------------ */
/* Memory comes back                                                   */
/* ------------------------------------------------------------------ */

static unsigned trims, trims_locked;
static struct registry *trim_reg;

static void *probe_lock(void *arg)
{
	uint64_t used, max;

	(void)arg;
	registry_inodes(trim_reg, &used, &max);
	return NULL;
}

/* Counts trims, and checks that none runs with the registry lock held
 * (another thread must get it within 10 s). */
int __wrap_malloc_trim(size_t pad)
{
	struct timespec deadline;
	pthread_t t;

	trims++;
	if (trim_reg && pthread_create(&t, NULL, probe_lock, NULL) == 0) {
		clock_gettime(CLOCK_REALTIME, &deadline);
		deadline.tv_sec += 10;
		if (pthread_timedjoin_np(t, NULL, &deadline) != 0) {
			trims_locked++;
			pthread_detach(t);
		}
	}
	return __real_malloc_trim(pad);
}

static void test_trim_after_many_frees_unlocked(void **state)
{
	enum { N = 5000 };
	static uint64_t ino[N];
	char name[32];
	int i;

	(void)state;
	fx_open(MiB, 0);
	trim_reg = reg;
	trims = trims_locked = 0;
	/* a few frees: no trim */
	for (i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "d%05d", i);
		ino[i] = mkd(ROOT, name);
		assert_int_equal(registry_rmdir(reg, ROOT, name), 0);
		registry_forget(reg, ino[i], 1);
	}
	assert_int_equal(trims, 0);
	/* many: trimmed after 4096, then as the namespace empties */
	for (i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "d%05d", i);
		ino[i] = mkd(ROOT, name);
	}
	for (i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "d%05d", i);
		assert_int_equal(registry_rmdir(reg, ROOT, name), 0);
		registry_forget(reg, ino[i], 1);
	}
	assert_true(trims >= 2);
	assert_int_equal(trims_locked, 0);
	assert_int_equal(inodes_used(), 1);
	trim_reg = NULL;
}

/* ------------------------------------------------------------------ */
/* Cookies                                                             */
/* ------------------------------------------------------------------ */

struct cookie_log {
	uint64_t released[16];
	size_t n;
	void *ctx_seen;
};

static struct cookie_log cookies;

static void cookie_release_cb(void *ctx, uint64_t cookie)
{
	cookies.ctx_seen = ctx;
	if (cookies.n < 16)
		cookies.released[cookies.n] = cookie;
	cookies.n++;
}

static void fx_open_with_cookies(void)
{
	struct registry_config cfg = {
	    .root_mode = ROOT_MODE,
	    .root_uid = ROOT_UID,
	    .root_gid = ROOT_GID,
	    .cookie_release = cookie_release_cb,
	    .cookie_ctx = &cookies,
	};

	memset(&cookies, 0, sizeof(cookies));
	fx_open_cfg(MiB, &cfg);
}

static void test_cookie_attach_once_and_query(void **state)
{
	struct stat st;
	uint64_t a, d, v = 99;

	(void)state;
	fx_open_with_cookies();
	a = mk(ROOT, "a");
	d = mkd(ROOT, "d");
	assert_int_equal(registry_cookie(reg, a, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(registry_attach_cookie(reg, a, 42, &v), 0);
	assert_int_equal(v, 42);
	/* a second attach loses: the first cookie stays and is returned */
	assert_int_equal(registry_attach_cookie(reg, a, 43, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(registry_cookie(reg, a, &v), 0);
	assert_int_equal(v, 42);
	/* the cookie belongs to the region, whatever its name */
	assert_int_equal(registry_rename(reg, ROOT, "a", d, "b", 0), 0);
	assert_int_equal(registry_link(reg, a, ROOT, "l", &st, NULL), 0);
	v = 0;
	assert_int_equal(registry_cookie(reg, ino_of(ROOT, "l"), &v), 0);
	assert_int_equal(v, 42);

	v = 77;
	assert_int_equal(registry_cookie(reg, d, &v), -EISDIR);
	assert_int_equal(registry_attach_cookie(reg, d, 5, &v), -EISDIR);
	assert_int_equal(registry_cookie(reg, ROOT, &v), -EISDIR);
	assert_int_equal(registry_cookie(reg, NO_INO, &v), -ENOENT);
	assert_int_equal(registry_attach_cookie(reg, NO_INO, 5, &v), -ENOENT);
	assert_int_equal(v, 77);
	assert_int_equal(cookies.n, 0);
}

static void test_cookie_released_once_when_region_freed(void **state)
{
	struct region *r;
	uint64_t a, b, c, v;

	(void)state;
	fx_open_with_cookies();
	a = mk(ROOT, "a");
	b = mk(ROOT, "b");
	c = mk(ROOT, "c");
	assert_int_equal(registry_attach_cookie(reg, a, 7, &v), 0);
	assert_int_equal(registry_attach_cookie(reg, c, 9, &v), 0);

	assert_int_equal(registry_open(reg, a, &r), 0);
	assert_int_equal(registry_unlink(reg, ROOT, "a"), 0);
	registry_forget(reg, a, 1);
	assert_int_equal(cookies.n, 0); /* still open */
	registry_release(reg, a);
	assert_int_equal(cookies.n, 1);
	assert_int_equal(cookies.released[0], 7);
	assert_ptr_equal(cookies.ctx_seen, &cookies);

	/* no cookie: no call */
	assert_int_equal(registry_unlink(reg, ROOT, "b"), 0);
	registry_forget(reg, b, 1);
	assert_false(ino_exists(b));
	assert_int_equal(cookies.n, 1);

	/* a region replaced by rename is freed too */
	mk(ROOT, "d");
	registry_forget(reg, c, 1);
	assert_int_equal(registry_rename(reg, ROOT, "d", ROOT, "c", 0), 0);
	assert_false(ino_exists(c));
	assert_int_equal(cookies.n, 2);
	assert_int_equal(cookies.released[1], 9);

	/* registry_free releases the rest, once each */
	assert_int_equal(registry_attach_cookie(reg, ino_of(ROOT, "c"), 11, &v), 0);
	registry_free(reg);
	reg = NULL;
	assert_int_equal(cookies.n, 3);
	assert_int_equal(cookies.released[2], 11);
}

/* ------------------------------------------------------------------ */
/* Injected failures                                                   */
/* ------------------------------------------------------------------ */

/* A snapshot of what must not change when an operation fails. */
struct snapshot {
	uint64_t inodes, bytes;
	nlink_t root_nlink;
	char root_names[4096];
};

static void take_snapshot(struct snapshot *s)
{
	s->inodes = inodes_used();
	s->bytes = used_bytes();
	s->root_nlink = nlink_of(ROOT);
	dir_names(ROOT, s->root_names, sizeof(s->root_names));
}

static void assert_snapshot(const struct snapshot *s, const char *what, long n)
{
	struct snapshot now;

	take_snapshot(&now);
	if (now.inodes != s->inodes || now.bytes != s->bytes || now.root_nlink != s->root_nlink ||
	    strcmp(now.root_names, s->root_names) != 0)
		fail_msg("%s with allocation %ld failing changed the namespace: inodes %llu->%llu, "
			 "bytes %llu->%llu, root nlink %lu->%lu, names \"%s\"->\"%s\"",
			 what, n, (unsigned long long)s->inodes, (unsigned long long)now.inodes,
			 (unsigned long long)s->bytes, (unsigned long long)now.bytes,
			 (unsigned long)s->root_nlink, (unsigned long)now.root_nlink, s->root_names,
			 now.root_names);
}

/*
 * Run op with its n-th allocation failing, for n = 0, 1, ... until op
 * completes without reaching an injected failure. Each failure must be
 * -ENOMEM with the namespace unchanged; a success (a failed allocation
 * that was tolerated, e.g. a hash table that just didn't grow) is undone
 * before the next round. Returns how many rounds failed with -ENOMEM.
 */
static unsigned run_with_alloc_failures(const char *what, int (*op)(void), void (*undo)(void),
					void (*check_absent)(void))
{
	struct snapshot before;
	unsigned failures = 0;
	long n;

	take_snapshot(&before);
	for (n = 0; n < 200; n++) {
		bool injected;
		int r;

		arm_alloc_failure(n);
		r = op();
		injected = disarm_alloc_failure();
		if (r == 0) {
			undo();
			assert_snapshot(&before, what, n);
			if (!injected)
				return failures;
			continue;
		}
		if (!injected)
			fail_msg("%s failed with %d without an injected failure", what, r);
		if (r != -ENOMEM)
			fail_msg("%s with allocation %ld failing: %d, want -ENOMEM", what, n, r);
		check_absent();
		assert_snapshot(&before, what, n);
		failures++;
	}
	fail_msg("%s: still allocating after 200 allocations", what);
	return failures;
}

static uint64_t fi_ino, fi_dir;

static int op_create(void)
{
	struct stat st;
	int r = registry_create(reg, ROOT, "new", 0644, &cred, &st);

	if (r == 0)
		fi_ino = st.st_ino;
	return r;
}

static void undo_create(void)
{
	assert_int_equal(ino_of(ROOT, "new"), fi_ino);
	assert_int_equal(registry_unlink(reg, ROOT, "new"), 0);
	registry_forget(reg, fi_ino, 1);
}

static void absent_new(void)
{
	struct stat st;

	assert_int_equal(registry_lookup(reg, ROOT, "new", &st, NULL), -ENOENT);
}

static int op_mkdir(void)
{
	struct stat st;
	int r = registry_mkdir(reg, ROOT, "new", 0755, &cred, &st);

	if (r == 0)
		fi_ino = st.st_ino;
	return r;
}

static void undo_mkdir(void)
{
	assert_int_equal(ino_of(ROOT, "new"), fi_ino);
	assert_int_equal(registry_rmdir(reg, ROOT, "new"), 0);
	registry_forget(reg, fi_ino, 1);
}

static int op_link(void)
{
	struct stat st;

	return registry_link(reg, fi_ino, ROOT, "new", &st, NULL);
}

static void undo_link(void)
{
	assert_int_equal(nlink_of(fi_ino), 2);
	assert_int_equal(registry_unlink(reg, ROOT, "new"), 0);
	registry_forget(reg, fi_ino, 1);
}

static void absent_link(void)
{
	absent_new();
	assert_int_equal(nlink_of(fi_ino), 1);
}

static int op_rename(void)
{
	return registry_rename(reg, fi_dir, "src", ROOT, "new", 0);
}

static void undo_rename(void)
{
	assert_int_equal(ino_of(ROOT, "new"), fi_ino);
	assert_int_equal(registry_rename(reg, ROOT, "new", fi_dir, "src", 0), 0);
}

static void absent_rename(void)
{
	absent_new();
	assert_int_equal(ino_of(fi_dir, "src"), fi_ino);
}

static int op_setxattr(void)
{
	return registry_setxattr(reg, fi_ino, "user.new", "val", 3, 0);
}

static void undo_setxattr(void)
{
	assert_int_equal(registry_removexattr(reg, fi_ino, "user.new"), 0);
}

static void absent_setxattr(void)
{
	char buf[8];

	assert_int_equal(registry_getxattr(reg, fi_ino, "user.new", buf, sizeof(buf)), -ENODATA);
	assert_int_equal(registry_getxattr(reg, fi_ino, "user.old", buf, sizeof(buf)), 3);
}

static int op_replace_xattr(void)
{
	return registry_setxattr(reg, fi_ino, "user.old", "NEW!", 4, XATTR_REPLACE);
}

static void undo_replace_xattr(void)
{
	assert_int_equal(registry_setxattr(reg, fi_ino, "user.old", "old", 3, XATTR_REPLACE), 0);
}

static void absent_replace_xattr(void)
{
	char buf[8];

	assert_int_equal(registry_getxattr(reg, fi_ino, "user.old", buf, sizeof(buf)), 3);
	assert_memory_equal(buf, "old", 3);
}

static void test_create_alloc_failure_enomem_namespace_unchanged(void **state)
{
	(void)state;
	fx_open(MiB, 0);
	mk(ROOT, "existing");
	mkd(ROOT, "dir");
	assert_true(run_with_alloc_failures("create", op_create, undo_create, absent_new) > 0);
}

static void test_mkdir_alloc_failure_enomem_namespace_unchanged(void **state)
{
	(void)state;
	fx_open(MiB, 0);
	mk(ROOT, "existing");
	assert_true(run_with_alloc_failures("mkdir", op_mkdir, undo_mkdir, absent_new) > 0);
}

/* A link adds a name (an allocation in any design that stores names). */
static void test_link_alloc_failure_enomem_namespace_unchanged(void **state)
{
	(void)state;
	fx_open(MiB, 0);
	fi_ino = mk(ROOT, "a");
	assert_true(run_with_alloc_failures("link", op_link, undo_link, absent_link) > 0);
}

/* rename may or may not allocate; if it fails it must be -ENOMEM and
 * change nothing. */
static void test_rename_alloc_failure_namespace_unchanged(void **state)
{
	(void)state;
	fx_open(MiB, 0);
	fi_dir = mkd(ROOT, "d");
	fi_ino = mk(fi_dir, "src");
	run_with_alloc_failures("rename", op_rename, undo_rename, absent_rename);
	assert_int_equal(ino_of(fi_dir, "src"), fi_ino);
}

/* rename over an existing name: a failure must keep the old target. */
static void test_rename_over_target_alloc_failure_keeps_target(void **state)
{
	uint64_t d, src, tgt, inodes;
	unsigned failures = 0;
	long n;

	(void)state;
	fx_open(MiB, 0);
	d = mkd(ROOT, "d");
	src = mk(d, "src");
	tgt = mk(ROOT, "tgt");
	registry_forget(reg, tgt, 1); /* replaced means freed at once */
	set_size(tgt, PAGE);
	inodes = inodes_used();
	for (n = 0; n < 200; n++) {
		bool injected;
		int r;

		arm_alloc_failure(n);
		r = registry_rename(reg, d, "src", ROOT, "tgt", 0);
		injected = disarm_alloc_failure();
		if (r == 0)
			break;
		assert_true(injected);
		assert_int_equal(r, -ENOMEM);
		assert_int_equal(ino_of(ROOT, "tgt"), tgt);
		assert_int_equal(ino_of(d, "src"), src);
		assert_int_equal(nlink_of(tgt), 1);
		assert_int_equal(inodes_used(), inodes);
		assert_int_equal(used_bytes(), PAGE);
		failures++;
	}
	assert_true(failures > 0);
	assert_int_equal(ino_of(ROOT, "tgt"), src);
	assert_int_equal(ino_of(d, "src"), 0);
	assert_false(ino_exists(tgt));
	assert_int_equal(used_bytes(), 0);
}

static void test_setxattr_alloc_failure_enomem_unchanged(void **state)
{
	(void)state;
	fx_open(MiB, 0);
	fi_ino = mk(ROOT, "a");
	assert_int_equal(registry_setxattr(reg, fi_ino, "user.old", "old", 3, 0), 0);
	assert_true(
	    run_with_alloc_failures("setxattr", op_setxattr, undo_setxattr, absent_setxattr) > 0);
	assert_true(run_with_alloc_failures("setxattr replace", op_replace_xattr,
					    undo_replace_xattr, absent_replace_xattr) > 0);
}

static void test_registry_new_alloc_failure_enomem(void **state)
{
	struct registry_config cfg = {.root_mode = 0755};
	struct registry *r2;
	unsigned failures = 0;
	long n;

	(void)state;
	assert_int_equal(store_open(MiB, STORE_FORCE_MEMFD, &store), 0);
	for (n = 0; n < 100; n++) {
		int r;

		r2 = NULL;
		arm_alloc_failure(n);
		r = registry_new(store, &cfg, &r2);
		if (!disarm_alloc_failure()) {
			assert_int_equal(r, 0);
			break;
		}
		if (r == 0) {
			registry_free(r2);
			continue;
		}
		assert_int_equal(r, -ENOMEM);
		assert_null(r2); /* output written only on success */
		failures++;
	}
	assert_true(failures > 0);
	assert_non_null(r2);
	reg = r2;
	assert_int_equal(inodes_used(), 1);
	mk(ROOT, "works");
}

static void test_create_memfd_failure_returns_errno(void **state)
{
	struct stat st;
	struct snapshot before;
	/* Out of fds for backing files is "no room for another region". */
	const int errs[] = {EMFILE, ENFILE, ENOMEM};
	const int want[] = {ENOSPC, ENOSPC, ENOMEM};
	size_t i;

	(void)state;
	fx_open(MiB, 0);
	mk(ROOT, "a");
	take_snapshot(&before);
	for (i = 0; i < ARRAY_SIZE(errs); i++) {
		arm_memfd_failure(0, errs[i]);
		assert_int_equal(registry_create(reg, ROOT, "new", 0644, &cred, &st), -want[i]);
		assert_int_equal(memfd_injected, 1);
		memfd_fail_in = -1;
		absent_new();
		assert_snapshot(&before, "create with memfd_create failing", 0);
	}
	/* and it works again */
	mk(ROOT, "new");
	assert_int_equal(inodes_used(), before.inodes + 1);
}

/* A failed create must not use up an inode number's slot in the limit. */
static void test_create_failures_do_not_leak_inode_quota(void **state)
{
	struct stat st;
	int i;

	(void)state;
	fx_open(MiB, 2);
	for (i = 0; i < 5; i++) {
		arm_memfd_failure(0, EMFILE);
		assert_int_equal(registry_create(reg, ROOT, "a", 0644, &cred, &st), -ENOSPC);
		memfd_fail_in = -1;
	}
	for (i = 0; i < 5; i++) {
		arm_alloc_failure(0);
		assert_int_equal(registry_create(reg, ROOT, "a", 0644, &cred, &st), -ENOMEM);
		assert_true(disarm_alloc_failure());
	}
	assert_int_equal(inodes_used(), 1);
	assert_int_equal(registry_create(reg, ROOT, "a", 0644, &cred, &st), 0);
}

/* ------------------------------------------------------------------ */
/* Threads                                                             */
/* ------------------------------------------------------------------ */

struct worker {
	pthread_t tid;
	uint64_t dir;
	int id;
	int errors;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	char name[32], buf[8];
	struct stat st;
	struct region *r;
	int i;

	for (i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "w%d-%d", w->id, i);
		if (registry_create(reg, w->dir, name, 0644, &cred, &st) != 0) {
			w->errors++;
			continue;
		}
		if (registry_open(reg, st.st_ino, &r) != 0 || region_write(r, "x", 1, 0) != 1)
			w->errors++;
		else
			registry_release(reg, st.st_ino);
		if (registry_setxattr(reg, st.st_ino, "user.w", "1", 1, 0) != 0 ||
		    registry_getxattr(reg, st.st_ino, "user.w", buf, sizeof(buf)) != 1)
			w->errors++;
		if (i % 2) {
			if (registry_unlink(reg, w->dir, name) != 0)
				w->errors++;
		}
		registry_forget(reg, st.st_ino, 1);
	}
	return NULL;
}

static void test_concurrent_creates_and_unlinks(void **state)
{
	enum { T = 4 };
	struct worker w[T];
	struct collect c;
	uint64_t shared;
	int i;

	(void)state;
	fx_open(64 * MiB, 0);
	shared = mkd(ROOT, "shared");
	for (i = 0; i < T; i++) {
		w[i] = (struct worker){.dir = shared, .id = i};
		assert_int_equal(pthread_create(&w[i].tid, NULL, worker_main, &w[i]), 0);
	}
	for (i = 0; i < T; i++) {
		assert_int_equal(pthread_join(w[i].tid, NULL), 0);
		assert_int_equal(w[i].errors, 0);
	}
	assert_int_equal(inodes_used(), 2 + T * 150);
	assert_int_equal(used_bytes(), (uint64_t)T * 150 * (PAGE + xattr_cost(strlen("user.w"), 1)));
	readdir_all(&c, shared, 37, false);
	assert_int_equal(c.n, 2 + T * 150);
	collect_free(&c);
}

/*
 * Resizes run without the registry lock (registry.h): two regions grow and
 * shrink in a loop, past what the store holds for both at once, while
 * other threads create, open, write, stat, set xattrs on and unlink small
 * regions, stat and open the big ones, list the directory with attributes,
 * and grow regions that a third thread unlinks and forgets meanwhile
 * (freed while a resize still holds them). Every call must end in a result it may give; sizes, the store's
 * accounting (never past its limit) and data come out consistent.
 */
#define BIG_SIZE (40 * MiB)
#define BIG_LIMIT (64 * MiB)

struct resize_shared {
	uint64_t big[2];
	uint64_t victim; /* the region the victim thread has now, 0 for none */
	bool stop;
	int errors;
};

static void count_error(struct resize_shared *sh, const char *what, int r)
{
	__atomic_add_fetch(&sh->errors, 1, __ATOMIC_RELAXED);
	print_error("%s: %d\n", what, r);
}

struct resizer {
	pthread_t tid;
	struct resize_shared *sh;
	int which;
	int grown, refused;
};

static void *resizer_main(void *arg)
{
	struct resizer *rz = arg;
	struct resize_shared *sh = rz->sh;
	int i;

	for (i = 0; i < 120; i++) {
		struct registry_setattr sa = {.valid = REGISTRY_SET_SIZE, .size = i % 2 ? 0 : BIG_SIZE};
		unsigned flags = 1;
		struct stat st;
		int r = registry_setattr(reg, sh->big[rz->which], &sa, &st, &flags);

		if (r == -ENOSPC && sa.size) {
			rz->refused++; /* the other one holds most of the store now */
		} else if (r != 0) {
			count_error(sh, "resize", r);
		} else if ((uint64_t)st.st_size != sa.size || flags != 0) {
			count_error(sh, "size after resize", (int)(st.st_size / MiB));
		} else if (sa.size) {
			rz->grown++;
		}
	}
	return NULL;
}

struct bystander {
	pthread_t tid;
	struct resize_shared *sh;
	int id;
};

static void *bystander_main(void *arg)
{
	struct bystander *b = arg;
	struct resize_shared *sh = b->sh;
	char name[32], buf[8];
	struct stat st;
	struct region *r;
	int i, k, ret;

	for (i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "s%d-%d", b->id, i);
		ret = registry_create(reg, ROOT, name, 0644, &cred, &st);
		if (ret != 0) {
			count_error(sh, "create", ret);
			continue;
		}
		ret = registry_open(reg, st.st_ino, &r);
		if (ret == 0) {
			if (region_write(r, "y", 1, 0) != 1)
				count_error(sh, "write", -1);
			registry_release(reg, st.st_ino);
		} else {
			count_error(sh, "open", ret);
		}
		ret = registry_setxattr(reg, st.st_ino, "user.s", "1", 1, 0);
		if (ret != 0 || registry_getxattr(reg, st.st_ino, "user.s", buf, sizeof(buf)) != 1)
			count_error(sh, "xattr", ret);
		ret = registry_getattr(reg, st.st_ino, &st, NULL);
		if (ret != 0 || st.st_size != 1)
			count_error(sh, "getattr", ret);
		/* The big ones, mid-resize: one of the sizes ever set. */
		for (k = 0; k < 2; k++) {
			struct stat bst;
			unsigned flags = 1;

			ret = registry_lookup(reg, ROOT, k ? "big1" : "big0", &bst, &flags);
			if (ret != 0 || (bst.st_size != 0 && bst.st_size != BIG_SIZE) || flags != 0)
				count_error(sh, "lookup of a big region", ret);
			else
				registry_forget(reg, bst.st_ino, 1);
			ret = registry_open(reg, sh->big[k], &r);
			if (ret == 0)
				registry_release(reg, sh->big[k]);
			else
				count_error(sh, "open of a big region", ret);
		}
		if (i % 2 && (ret = registry_unlink(reg, ROOT, name)) != 0)
			count_error(sh, "unlink", ret);
		registry_forget(reg, st.st_ino, 1);
	}
	return NULL;
}

/* Makes, unlinks and forgets regions that the grabber grows meanwhile. */
static void *victim_main(void *arg)
{
	struct resize_shared *sh = arg;
	struct stat st;
	int i, ret;

	for (i = 0; i < 200; i++) {
		ret = registry_create(reg, ROOT, "victim", 0644, &cred, &st);
		if (ret != 0) {
			count_error(sh, "create victim", ret);
			continue;
		}
		__atomic_store_n(&sh->victim, st.st_ino, __ATOMIC_RELEASE);
		sched_yield();
		ret = registry_unlink(reg, ROOT, "victim");
		if (ret != 0)
			count_error(sh, "unlink victim", ret);
		registry_forget(reg, st.st_ino, 1);
	}
	__atomic_store_n(&sh->stop, true, __ATOMIC_RELEASE);
	return NULL;
}

static void *grabber_main(void *arg)
{
	struct resize_shared *sh = arg;

	while (!__atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE)) {
		uint64_t ino = __atomic_load_n(&sh->victim, __ATOMIC_ACQUIRE);
		struct registry_setattr sa = {.valid = REGISTRY_SET_SIZE, .size = MiB};
		struct stat st;
		int ret;

		if (!ino)
			continue;
		/* Gone already, no room while the big ones hold it, or grown. */
		ret = registry_setattr(reg, ino, &sa, &st, NULL);
		if (ret != 0 && ret != -ENOENT && ret != -ENOSPC)
			count_error(sh, "grow victim", ret);
		ret = registry_getattr(reg, ino, &st, NULL);
		if (ret != 0 && ret != -ENOENT)
			count_error(sh, "getattr victim", ret);
	}
	return NULL;
}

/* Lists the root with attributes (readdirplus) in small calls, meanwhile. */
struct lister {
	pthread_t tid;
	struct resize_shared *sh;
	uint64_t inos[16];
	uint64_t last_off;
	size_t n;
	bool bad_order, bad_size;
};

static int lister_fill(void *ctx, const char *name, const struct stat *st, uint64_t next_off,
		       unsigned flags)
{
	struct lister *l = ctx;

	(void)flags;
	if (l->n == 16)
		return 1;
	if (next_off <= l->last_off)
		l->bad_order = true;
	l->last_off = next_off;
	if (strncmp(name, "big", 3) == 0 && st->st_size != 0 && st->st_size != BIG_SIZE)
		l->bad_size = true;
	if (strcmp(name, ".") && strcmp(name, ".."))
		l->inos[l->n++] = st->st_ino; /* took a lookup reference */
	else
		l->inos[l->n++] = 0;
	return 0;
}

static void *lister_main(void *arg)
{
	struct lister *l = arg;
	struct resize_shared *sh = l->sh;

	while (!__atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE)) {
		uint64_t off = 0;
		int ret;

		l->last_off = 0;
		do {
			size_t i;

			l->n = 0;
			ret = registry_readdir(reg, ROOT, off, true, lister_fill, l);
			for (i = 0; i < l->n; i++)
				if (l->inos[i])
					registry_forget(reg, l->inos[i], 1);
			off = l->last_off;
		} while (ret == 0 && l->n);
		if (ret != 0 || l->bad_order || l->bad_size) {
			count_error(sh, "readdirplus of the root", ret);
			break;
		}
	}
	return NULL;
}

static void test_concurrent_resizes_and_namespace(void **state)
{
	enum { B = 3 };
	struct resize_shared sh = {0};
	struct resizer rz[2];
	struct bystander by[B];
	struct lister lister = {.sh = &sh};
	pthread_t victim, grabber;
	uint64_t used, expect;
	char data[PAGE];
	struct region *r;
	int i;

	(void)state;
	fx_open(BIG_LIMIT, 0);
	sh.big[0] = mk(ROOT, "big0");
	sh.big[1] = mk(ROOT, "big1");
	for (i = 0; i < 2; i++) {
		rz[i] = (struct resizer){.sh = &sh, .which = i};
		assert_int_equal(pthread_create(&rz[i].tid, NULL, resizer_main, &rz[i]), 0);
	}
	for (i = 0; i < B; i++) {
		by[i] = (struct bystander){.sh = &sh, .id = i};
		assert_int_equal(pthread_create(&by[i].tid, NULL, bystander_main, &by[i]), 0);
	}
	assert_int_equal(pthread_create(&victim, NULL, victim_main, &sh), 0);
	assert_int_equal(pthread_create(&grabber, NULL, grabber_main, &sh), 0);
	assert_int_equal(pthread_create(&lister.tid, NULL, lister_main, &lister), 0);
	/* Never past the limit, whatever the moment. */
	while (!__atomic_load_n(&sh.stop, __ATOMIC_ACQUIRE)) {
		assert_true(used_bytes() <= BIG_LIMIT);
		sched_yield();
	}
	for (i = 0; i < 2; i++)
		assert_int_equal(pthread_join(rz[i].tid, NULL), 0);
	for (i = 0; i < B; i++)
		assert_int_equal(pthread_join(by[i].tid, NULL), 0);
	assert_int_equal(pthread_join(victim, NULL), 0);
	assert_int_equal(pthread_join(grabber, NULL), 0);
	assert_int_equal(pthread_join(lister.tid, NULL), 0);
	assert_int_equal(sh.errors, 0);
	/* Both grew at times; each loop ended with a shrink to 0. */
	assert_true(rz[0].grown + rz[1].grown > 0);
	assert_int_equal(attr_of(sh.big[0]).st_size, 0);
	assert_int_equal(attr_of(sh.big[1]).st_size, 0);

	/* What is left: the big ones (empty), B * 100 small regions, their xattrs. */
	assert_int_equal(inodes_used(), 1 + 2 + B * 100);
	used = used_bytes();
	expect = (uint64_t)B * 100 * (PAGE + xattr_cost(strlen("user.s"), 1));
	assert_int_equal(used, expect);

	/* The store's free space (whole pages) can be had again, and holds data. */
	set_size(sh.big[0], BIG_LIMIT - (expect + PAGE - 1) / PAGE * PAGE);
	assert_true(used_bytes() > BIG_LIMIT - PAGE);
	assert_true(used_bytes() <= BIG_LIMIT);
	assert_int_equal(registry_open(reg, sh.big[0], &r), 0);
	memset(data, 0x5a, sizeof(data));
	assert_int_equal(region_write(r, data, sizeof(data), BIG_SIZE), (ssize_t)sizeof(data));
	memset(data, 0, sizeof(data));
	assert_int_equal(region_read(r, data, sizeof(data), BIG_SIZE), (ssize_t)sizeof(data));
	assert_int_equal(data[0], 0x5a);
	assert_int_equal(data[PAGE - 1], 0x5a);
	registry_release(reg, sh.big[0]);
}

/* ------------------------------------------------------------------ */
/* Binding regions to users' files (registry_bind)                     */
/* ------------------------------------------------------------------ */

#define BIND_FILES 4
#define BIND_PATH_MAX 4096

/* Who binds: the daemon itself (allocation as root, no fsuid switch). */
static const struct registry_cred binder = { .uid = 0, .gid = 0 };

/* The users' files a test made, removed by bind_teardown (even after a failure). */
static char bind_files[BIND_FILES][BIND_PATH_MAX];
static size_t bind_nfiles;

static int bind_setup(void **state)
{
	bind_nfiles = 0;
	return setup(state);
}

static int bind_teardown(void **state)
{
	teardown(state); /* closes the bound files first */
	for (size_t i = 0; i < bind_nfiles; i++)
		unlink(bind_files[i]);
	bind_nfiles = 0;
	return 0;
}

/* A new user's file holding data (may be NULL); its path in *ret_path.
 * Returns it opened read-write, as the daemon would pass it. */
static int user_fd(const char *data, const char **ret_path)
{
	const char *tmp = getenv("TMPDIR");
	char *path;
	int fd;

	assert_true(bind_nfiles < BIND_FILES);
	path = bind_files[bind_nfiles];
	snprintf(path, BIND_PATH_MAX, "%s/rfs-unit-registry.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	fd = mkostemp(path, O_CLOEXEC);
	assert_true(fd >= 0);
	bind_nfiles++;
	if (data)
		assert_int_equal(write(fd, data, strlen(data)), (ssize_t)strlen(data));
	*ret_path = path;
	return fd;
}

static bool fd_is_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

static off_t path_size(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_size;
}

/* Seals: opens for writing refused, "write" busy while a writer is open, nothing after "seal". */
static void test_seals_open_and_add(void **state)
{
	struct region *r, *r2;
	const char *path;
	uint64_t a, b, d;
	int fd;

	(void)state;
	fx_open(MiB, 0);
	a = mk(ROOT, "a");
	b = mk(ROOT, "b");
	d = mkd(ROOT, "d");
	assert_int_equal(registry_add_seals(reg, d, REGION_SEAL_GROW, true), -EISDIR);
	assert_int_equal(registry_add_seals(reg, ROOT, REGION_SEAL_GROW, true), -EISDIR);
	assert_int_equal(registry_add_seals(reg, NO_INO, REGION_SEAL_GROW, true), -ENOENT);
	assert_int_equal(registry_add_seals(reg, a, 0, true), 0);

	/* A writer open: "write" is busy; readers and other seals are not. */
	assert_int_equal(registry_open_flags(reg, a, O_RDWR, &r), 0);
	assert_int_equal(registry_open_flags(reg, a, O_RDONLY, &r2), 0);
	assert_int_equal(registry_add_seals(reg, a, REGION_SEAL_WRITE | REGION_SEAL_GROW, true),
			 -EBUSY);
	assert_int_equal(region_seals(r), 0);
	assert_int_equal(registry_add_seals(reg, a, REGION_SEAL_FUTURE_WRITE, true), 0);
	assert_int_equal(registry_open_flags(reg, a, O_WRONLY, &r2), -EPERM);
	assert_int_equal(registry_open_flags(reg, a, O_RDWR | O_CREAT, &r2), -EPERM);
	assert_int_equal(region_write(r, "w", 1, 0), 1); /* the old writer writes */
	registry_release_flags(reg, a, O_RDWR);
	assert_int_equal(registry_add_seals(reg, a, REGION_SEAL_WRITE, true), 0);
	assert_int_equal(region_seals(r), REGION_SEAL_WRITE | REGION_SEAL_FUTURE_WRITE);
	assert_int_equal(region_write(r, "w", 1, 0), -EPERM);
	registry_release_flags(reg, a, O_RDONLY);
	assert_int_equal(registry_open_flags(reg, a, O_RDONLY, &r2), 0);
	registry_release(reg, a);

	/* Every writer counts until its own release. */
	assert_int_equal(registry_open_flags(reg, b, O_WRONLY, &r), 0);
	assert_int_equal(registry_open_flags(reg, b, O_RDWR, &r), 0);
	registry_release_flags(reg, b, O_WRONLY);
	assert_int_equal(registry_add_seals(reg, b, REGION_SEAL_WRITE, true), -EBUSY);
	registry_release_flags(reg, b, O_RDWR);
	assert_int_equal(registry_add_seals(reg, b, REGION_SEAL_WRITE, true), 0);
	assert_int_equal(registry_open_flags(reg, b, O_RDWR, &r), -EPERM);

	/* "seal": nothing more, not even nothing. */
	assert_int_equal(registry_add_seals(reg, a, REGION_SEAL_SEAL | REGION_SEAL_SHRINK, true), 0);
	assert_int_equal(registry_add_seals(reg, a, REGION_SEAL_GROW, true), -EPERM);
	assert_int_equal(registry_add_seals(reg, a, 0, true), -EPERM);
	assert_int_equal(registry_add_seals(reg, a, REGION_SEAL_SEAL, true), -EPERM);
	assert_int_equal(registry_region(reg, a, &r), 0);
	assert_int_equal(region_seals(r), REGION_SEAL_SEAL | REGION_SEAL_SHRINK | REGION_SEAL_WRITE |
						  REGION_SEAL_FUTURE_WRITE);

	/* A sealed region cannot be bound (a new size and contents). */
	fd = user_fd("hello", &path);
	assert_int_equal(registry_bind(reg, a, fd, path, &binder, 0, true), -EPERM);
	assert_true(fd_is_open(fd));
	close(fd);
}

/* Passthrough (!count_opens): "grow" needs no open at all. */
static void test_seals_passthrough_grow_busy(void **state)
{
	struct region *r;
	uint64_t a;

	(void)state;
	fx_open(MiB, 0);
	a = mk(ROOT, "a");
	assert_int_equal(registry_open_flags(reg, a, O_RDONLY, &r), 0);
	assert_int_equal(registry_add_seals(reg, a, REGION_SEAL_GROW, false), -EBUSY);
	assert_int_equal(registry_add_seals(reg, a, REGION_SEAL_SHRINK, false), 0);
	registry_release(reg, a);
	assert_int_equal(region_seals(r), REGION_SEAL_SHRINK);
}

/* An open file (a mapping holds one too) keeps the backing file in use: EBUSY. */
static void test_bind_ebusy_while_open(void **state)
{
	struct region *r, *r2;
	const char *path;
	uint64_t a;
	int fd;

	(void)state;
	fx_open(MiB, 0);
	a = mk(ROOT, "a");
	fd = user_fd("hello", &path);
	assert_int_equal(registry_open(reg, a, &r), 0);
	assert_int_equal(registry_open(reg, a, &r2), 0);
	assert_int_equal(registry_bind(reg, a, fd, path, &binder, 0, true), -EBUSY);
	registry_release(reg, a);
	assert_int_equal(registry_bind(reg, a, fd, path, &binder, 0, true), -EBUSY);
	assert_true(fd_is_open(fd));
	assert_int_equal(registry_backing_path(reg, a, NULL, 0), -ENODATA);
	assert_int_equal(attr_of(a).st_size, 0);
	registry_release(reg, a);

	assert_int_equal(registry_bind(reg, a, fd, path, &binder, 0, true), 0);
	assert_int_equal(attr_of(a).st_size, 5);
	assert_int_equal(registry_backing_path(reg, a, NULL, 0), (ssize_t)strlen(path));
	assert_int_equal(registry_open(reg, a, &r), 0);
	assert_int_equal(region_fd_get(r), fd);
	region_fd_put(r);
	assert_string_equal(region_backing_path(r), path);
	registry_release(reg, a);
}

static void test_bind_eisdir_enoent(void **state)
{
	const char *path;
	uint64_t d;
	int fd;

	(void)state;
	fx_open(MiB, 0);
	d = mkd(ROOT, "d");
	fd = user_fd(NULL, &path);
	assert_int_equal(registry_bind(reg, d, fd, path, &binder, 0, true), -EISDIR);
	assert_int_equal(registry_bind(reg, ROOT, fd, path, &binder, 0, true), -EISDIR);
	assert_int_equal(registry_bind(reg, NO_INO, fd, path, &binder, 0, true), -ENOENT);
	assert_true(fd_is_open(fd));
	assert_int_equal(registry_backing_path(reg, d, NULL, 0), -EISDIR);
	assert_int_equal(registry_backing_path(reg, ROOT, NULL, 0), -EISDIR);
	assert_int_equal(registry_backing_path(reg, NO_INO, NULL, 0), -ENOENT);
	close(fd);
}

static void test_bind_enotempty_eexist(void **state)
{
	char buf[BIND_PATH_MAX];
	const char *p1, *p2;
	uint64_t a;
	ssize_t n;
	int fd1, fd2;

	(void)state;
	fx_open(MiB, 0);
	a = mk(ROOT, "a");
	fd1 = user_fd("xyz", &p1);
	fd2 = user_fd(NULL, &p2);
	set_size(a, 10);
	assert_int_equal(registry_bind(reg, a, fd1, p1, &binder, 0, true), -ENOTEMPTY);
	assert_true(fd_is_open(fd1));
	assert_int_equal(registry_backing_path(reg, a, NULL, 0), -ENODATA);
	assert_int_equal(used_bytes(), PAGE);
	set_size(a, 0);
	assert_int_equal(registry_bind(reg, a, fd1, p1, &binder, 0, true), 0);
	assert_int_equal(attr_of(a).st_size, 3);
	assert_int_equal(used_bytes(), 0);

	/* Already bound: EEXIST, even once it is empty again. */
	assert_int_equal(registry_bind(reg, a, fd2, p2, &binder, 0, true), -EEXIST);
	set_size(a, 0);
	assert_int_equal(path_size(p1), 0);
	assert_int_equal(registry_bind(reg, a, fd2, p2, &binder, 0, true), -EEXIST);
	assert_true(fd_is_open(fd2));
	close(fd2);
	n = registry_backing_path(reg, a, buf, sizeof(buf));
	assert_int_equal(n, (ssize_t)strlen(p1));
	assert_memory_equal(buf, p1, (size_t)n);
}

/*
 * The cookie (the passthrough backing id) of the old backing file is
 * released when a region is bound, the new one is released when the region
 * dies; a failed bind touches neither.
 */
/* "The kernel's reference" to a region's file while it has a backing id. */
static int kernel_ref = -1;

static void cookie_close_cb(void *ctx, uint64_t cookie)
{
	cookie_release_cb(ctx, cookie);
	if (kernel_ref >= 0)
		close(kernel_ref);
	kernel_ref = -1;
}

/*
 * Passthrough (a tmpfs store, root only): a backing id holds the file
 * description the region's fd had when it was registered. After the fd
 * cache closed and reopened that fd, the lease probe sees a second writer:
 * bind gives the id back and succeeds. A region truly in use stays -EBUSY.
 */
static void test_bind_after_fd_eviction_releases_cookie(void **state)
{
	struct registry_config cfg = {
	    .root_mode = ROOT_MODE,
	    .cookie_release = cookie_close_cb,
	    .cookie_ctx = &cookies,
	};
	const char *pa, *pc;
	struct region *r;
	uint64_t a, b, c, v;
	int fa, fc, fd, user;
	size_t n;
	char proc[64];

	(void)state;
	if (geteuid() != 0)
		skip();
	memset(&cookies, 0, sizeof(cookies));
	assert_int_equal(store_open(MiB, 0, &store), 0);
	assert_int_equal(store_kind(store), STORE_TMPFS);
	assert_int_equal(registry_new(store, &cfg, &reg), 0);
	store_set_fd_budget(store, 1);
	a = mk(ROOT, "a");
	b = mk(ROOT, "b");
	c = mk(ROOT, "c");
	fa = user_fd("A", &pa);
	fc = user_fd("C", &pc);

	/* Registered as the daemon does: the kernel keeps the description. */
	assert_int_equal(registry_region(reg, a, &r), 0);
	fd = region_fd_get(r);
	assert_true(fd >= 0);
	kernel_ref = dup(fd);
	region_fd_put(r);
	assert_int_equal(registry_attach_cookie(reg, a, 5, &v), 0);
	assert_int_equal(registry_region(reg, b, &r), 0);
	assert_int_equal(region_write(r, "b", 1, 0), 1); /* a's fd is closed */

	assert_int_equal(registry_bind(reg, a, fa, pa, &binder, 6, false), 0);
	assert_int_equal(cookies.n, 1);
	assert_int_equal(cookies.released[0], 5);
	assert_int_equal(kernel_ref, -1);
	assert_int_equal(registry_cookie(reg, a, &v), 0);
	assert_int_equal(v, 6);
	/* a's bound file now takes the one fd of the budget: room for c's. */
	store_set_fd_budget(store, 2);

	/* Another open of c's file: busy, whatever the cookie. */
	assert_int_equal(registry_region(reg, c, &r), 0);
	fd = region_fd_get(r);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	user = open(proc, O_RDWR | O_CLOEXEC);
	assert_true(user >= 0);
	region_fd_put(r);
	assert_int_equal(registry_attach_cookie(reg, c, 7, &v), 0);
	assert_int_equal(registry_bind(reg, c, fc, pc, &binder, 8, false), -EBUSY);
	assert_true(fd_is_open(fc));
	assert_int_equal(registry_backing_path(reg, c, NULL, 0), -ENODATA);

	/*
	 * Open through the mount (counted): the kernel keeps that file's
	 * backing until its last close and would refuse another, so a busy
	 * bind must not give the id back.
	 */
	assert_int_equal(registry_attach_cookie(reg, c, 9, &v), 0);
	assert_int_equal(v, 9);
	assert_int_equal(registry_open(reg, c, &r), 0);
	n = cookies.n;
	assert_int_equal(registry_bind(reg, c, fc, pc, &binder, 8, false), -EBUSY);
	assert_int_equal(cookies.n, n);
	assert_int_equal(registry_cookie(reg, c, &v), 0);
	assert_int_equal(v, 9);
	registry_release(reg, c);
	close(user);
	assert_int_equal(registry_bind(reg, c, fc, pc, &binder, 8, false), 0);
}

static void test_bind_replaces_and_releases_cookie(void **state)
{
	const char *pa, *pb, *pc, *px;
	uint64_t a, b, c, v = 0;
	int fda, fdb, fdc, fdx;

	(void)state;
	fx_open_with_cookies();
	a = mk(ROOT, "a");
	b = mk(ROOT, "b");
	c = mk(ROOT, "c");
	fda = user_fd("A", &pa);
	fdb = user_fd("B", &pb);
	fdc = user_fd("C", &pc);
	fdx = user_fd(NULL, &px);

	assert_int_equal(registry_attach_cookie(reg, a, 7, &v), 0);
	assert_int_equal(registry_bind(reg, a, fda, pa, &binder, 8, true), 0);
	assert_int_equal(cookies.n, 1);
	assert_int_equal(cookies.released[0], 7);
	assert_ptr_equal(cookies.ctx_seen, &cookies);
	assert_int_equal(registry_cookie(reg, a, &v), 0);
	assert_int_equal(v, 8);

	/* A failed bind: nothing released, the cookie stays. */
	assert_int_equal(registry_bind(reg, a, fdx, px, &binder, 9, true), -EEXIST);
	assert_int_equal(cookies.n, 1);
	assert_int_equal(registry_cookie(reg, a, &v), 0);
	assert_int_equal(v, 8);

	/* No cookie before, none given: nothing to release; one can be attached later. */
	assert_int_equal(registry_bind(reg, b, fdb, pb, &binder, 0, true), 0);
	assert_int_equal(cookies.n, 1);
	assert_int_equal(registry_cookie(reg, b, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(registry_attach_cookie(reg, b, 5, &v), 0);
	assert_int_equal(v, 5);
	assert_int_equal(registry_bind(reg, c, fdc, pc, &binder, 11, true), 0);
	assert_int_equal(cookies.n, 1);

	/* The region dies: its cookie is released, its file stays. */
	assert_int_equal(registry_unlink(reg, ROOT, "a"), 0);
	registry_forget(reg, a, 1);
	assert_false(ino_exists(a));
	assert_int_equal(cookies.n, 2);
	assert_int_equal(cookies.released[1], 8);
	assert_false(fd_is_open(fda));
	assert_int_equal(path_size(pa), 1);

	/* registry_free releases the rest, once each. */
	registry_free(reg);
	reg = NULL;
	assert_int_equal(cookies.n, 4);
	assert_true((cookies.released[2] == 5 && cookies.released[3] == 11) ||
		    (cookies.released[2] == 11 && cookies.released[3] == 5));
	assert_false(fd_is_open(fdb));
	assert_false(fd_is_open(fdc));
	assert_int_equal(path_size(pb), 1);
	assert_int_equal(path_size(pc), 1);
	close(fdx);
}

/* getxattr semantics: size 0 asks for the length, a short buffer is ERANGE. */
static void test_backing_path_queries(void **state)
{
	char buf[BIND_PATH_MAX];
	struct stat st;
	const char *path;
	uint64_t a, d;
	size_t len;
	int fd;

	(void)state;
	fx_open(MiB, 0);
	a = mk(ROOT, "a");
	d = mkd(ROOT, "d");
	assert_int_equal(registry_backing_path(reg, a, NULL, 0), -ENODATA);
	assert_int_equal(registry_backing_path(reg, a, buf, sizeof(buf)), -ENODATA);
	fd = user_fd(NULL, &path);
	len = strlen(path);
	assert_int_equal(registry_bind(reg, a, fd, path, &binder, 0, true), 0);

	assert_int_equal(registry_backing_path(reg, a, NULL, 0), (ssize_t)len);
	memset(buf, 'Q', sizeof(buf));
	assert_int_equal(registry_backing_path(reg, a, buf, len - 1), -ERANGE);
	assert_int_equal(buf[0], 'Q');
	assert_int_equal(registry_backing_path(reg, a, buf, 1), -ERANGE);
	assert_int_equal(registry_backing_path(reg, a, buf, len), (ssize_t)len);
	assert_memory_equal(buf, path, len);
	memset(buf, 'Q', sizeof(buf));
	assert_int_equal(registry_backing_path(reg, a, buf, sizeof(buf)), (ssize_t)len);
	assert_memory_equal(buf, path, len);

	/* The binding belongs to the region, whatever its names. */
	assert_int_equal(registry_link(reg, a, ROOT, "l", &st, NULL), 0);
	assert_int_equal(registry_rename(reg, ROOT, "a", d, "moved", 0), 0);
	assert_int_equal(registry_backing_path(reg, ino_of(ROOT, "l"), NULL, 0), (ssize_t)len);
	assert_int_equal(registry_backing_path(reg, ino_of(d, "moved"), NULL, 0), (ssize_t)len);
	/* Its user xattrs are separate. */
	assert_int_equal(registry_listxattr(reg, a, NULL, 0), 0);
}

/* A bound region's data lives in the user's file: nothing counts against the store. */
static void test_bind_no_store_charge(void **state)
{
	const char *path;
	uint64_t a, b;
	int fd;

	(void)state;
	fx_open(MiB, 0);
	a = mk(ROOT, "a");
	b = mk(ROOT, "b");
	fd = user_fd(NULL, &path);
	assert_int_equal(registry_bind(reg, a, fd, path, &binder, 0, true), 0);
	set_size(a, 4 * MiB);
	assert_int_equal(path_size(path), 4 * MiB);
	assert_int_equal(attr_of(a).st_size, 4 * MiB);
	assert_int_equal(used_bytes(), 0);
	/* The whole store is still free for anonymous regions. */
	set_size(b, MiB);
	assert_int_equal(used_bytes(), MiB);
	set_size(a, 3);
	assert_int_equal(path_size(path), 3);
	assert_int_equal(used_bytes(), MiB);
}

static void test_bind_alloc_failure_enomem(void **state)
{
	const char *path;
	uint64_t a;
	long n;
	int fd, r = -1;

	(void)state;
	fx_open(MiB, 0);
	a = mk(ROOT, "a");
	fd = user_fd("data", &path);
	for (n = 0; n < 50; n++) {
		bool injected;

		arm_alloc_failure(n);
		r = registry_bind(reg, a, fd, path, &binder, 0, true);
		injected = disarm_alloc_failure();
		if (r == 0)
			break;
		assert_true(injected);
		assert_int_equal(r, -ENOMEM);
		assert_true(fd_is_open(fd));
		assert_int_equal(registry_backing_path(reg, a, NULL, 0), -ENODATA);
		assert_int_equal(attr_of(a).st_size, 0);
	}
	assert_int_equal(r, 0);
	assert_true(n > 0); /* at least one allocation was made to fail */
	assert_int_equal(attr_of(a).st_size, 4);
}

/* Unlinked while open: the orphan keeps the file open until the release. */
static void test_bind_orphan_keeps_file(void **state)
{
	struct region *r;
	const char *path;
	uint64_t a;
	int fd;

	(void)state;
	fx_open(MiB, 0);
	a = mk(ROOT, "a");
	fd = user_fd(NULL, &path);
	assert_int_equal(registry_bind(reg, a, fd, path, &binder, 0, true), 0);
	assert_int_equal(registry_open(reg, a, &r), 0);
	assert_int_equal(registry_unlink(reg, ROOT, "a"), 0);
	registry_forget(reg, a, 1);
	assert_int_equal(region_write(r, "orphan", 6, 0), 6);
	assert_true(fd_is_open(fd));
	registry_release(reg, a);
	assert_false(ino_exists(a));
	assert_false(fd_is_open(fd));
	assert_int_equal(path_size(path), 6);
}

/* ------------------------------------------------------------------ */

/*
 * A binding saved in a store that cannot be re-opened at load (the
 * open_binding hook fails: a deleted file, a file system not mounted yet)
 * leaves the region unbound, not the store unloadable: the name and the
 * path stay, opening and resizing give ENXIO, a new binding EEXIST; each
 * open retries as the owner, and once the hook succeeds the region is
 * bound for good (opens at once retry once).
 */
static int unbound_fail = -ENOENT; /* what the hook returns; 0: open the file */
static int unbound_calls;
static char unbound_region[256];
static uid_t unbound_uid;

static int unbound_open(void *ctx, const char *region, const char *path, uid_t uid, gid_t gid,
			int *ret_fd)
{
	int fd;

	__atomic_add_fetch(&unbound_calls, 1, __ATOMIC_RELAXED);
	unbound_uid = uid;
	if (region)
		snprintf(unbound_region, sizeof(unbound_region), "%s", region);
	if (unbound_fail)
		return unbound_fail;
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	*ret_fd = fd;
	return 0;
}

/* Opens at once of an unbound region: the first retries, the others wait and find it bound. */
struct unbound_opener {
	pthread_t tid;
	uint64_t ino;
	int r;
};

static void *unbound_opener_main(void *arg)
{
	struct unbound_opener *o = arg;
	struct region *region;

	o->r = registry_open(reg, o->ino, &region);
	if (o->r == 0)
		registry_release(reg, o->ino);
	return NULL;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void test_load_unbound_binding(void **state)
{
	struct registry_config cfg = {
	    .root_mode = ROOT_MODE,
	    .root_uid = ROOT_UID,
	    .root_gid = ROOT_GID,
	    .open_binding = unbound_open,
	};
	const char *tmp = getenv("TMPDIR");
	struct registry_setattr sa = {.valid = REGISTRY_SET_SIZE, .size = 10};
	char dir[PATH_MAX], placeholder[PATH_MAX + 32], err[PATH_MAX + 256];
	struct unbound_opener openers[4];
	struct region *region;
	const char *path;
	struct stat st;
	uint64_t d, b;
	int fd;

	snprintf(dir, sizeof(dir), "%s/rfs-unit-unbound.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(dir));
	fd = user_fd("file data", &path);
	close(fd);

	/* A store with a region d/b, its placeholder naming the user's file. */
	fx_open_cfg(MiB, &cfg);
	assert_int_equal(registry_load(reg, dir, err, sizeof(err)), 0);
	d = mkd(ROOT, "d");
	mk(d, "b");
	teardown(state);
	snprintf(placeholder, sizeof(placeholder), "%s/root/d/b", dir);
	assert_int_equal(setxattr(placeholder, "user.regionfs.backing", path, strlen(path), 0), 0);

	/* The hook fails: the store loads anyway. */
	unbound_fail = -ENOENT;
	unbound_calls = 0;
	fx_open_cfg(MiB, &cfg);
	assert_int_equal(registry_load(reg, dir, err, sizeof(err)), 0);
	assert_int_equal(unbound_calls, 1);
	assert_string_equal(unbound_region, "/d/b");
	assert_int_equal(unbound_uid, cred.uid); /* as the owner */
	d = ino_of(ROOT, "d");
	b = ino_of(d, "b"); /* the lookup retried too */
	assert_int_equal(unbound_calls, 2);
	assert_int_equal(registry_backing_path(reg, b, NULL, 0), (ssize_t)strlen(path));
	assert_int_equal(registry_open(reg, b, &region), -ENXIO);
	assert_int_equal(registry_setattr(reg, b, &sa, &st, NULL), -ENXIO);
	fd = open(path, O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(registry_bind(reg, b, fd, path, &binder, 0, true), -EEXIST);
	close(fd);
	assert_int_equal(attr_of(b).st_uid, cred.uid);

	/* The file is back: the next opens bind it, once (the retry runs under the node's I/O lock). */
	unbound_fail = 0;
	unbound_calls = 0;
	for (int i = 0; i < 4; i++) {
		openers[i] = (struct unbound_opener){.ino = b};
		assert_int_equal(pthread_create(&openers[i].tid, NULL, unbound_opener_main, &openers[i]),
				 0);
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(openers[i].tid, NULL), 0);
		assert_int_equal(openers[i].r, 0);
	}
	assert_int_equal(unbound_calls, 1);
	unbound_fail = -ENOENT; /* bound now: never asked again */
	assert_int_equal(registry_open(reg, b, &region), 0);
	assert_string_equal(region_backing_path(region), path);
	assert_int_equal(attr_of(b).st_size, 9);
	registry_release(reg, b);
	assert_int_equal(registry_setattr(reg, b, &sa, &st, NULL), 0);
	assert_int_equal(path_size(path), 10);
	assert_int_equal(registry_unlink(reg, d, "b"), 0);
	teardown(state);
	assert_int_equal(nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
#define TB(fn) cmocka_unit_test_setup_teardown(fn, bind_setup, bind_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_seals_open_and_add, bind_setup, bind_teardown),
	    T(test_seals_passthrough_grow_busy),
	    T(test_root_attributes_from_config),
	    T(test_getattr_unknown_inode_enoent),
	    T(test_create_lookup_getattr),
	    T(test_create_uses_creds_of_caller),
	    T(test_creator_recorded_and_formatted),
	    T(test_lookup_output_untouched_on_failure),
	    T(test_mkdir_attributes_and_parent_nlink),
	    T(test_lookup_in_subdirectory),
	    T(test_ino_stable_across_rename_and_link),
	    T(test_ino_never_reused_after_unlink),
	    T(test_create_existing_name_eexist),
	    T(test_missing_names_and_inodes_enoent),
	    T(test_forget_unknown_inode_is_ignored),
	    T(test_operations_in_removed_directory_enoent),
	    T(test_region_as_parent_enotdir),
	    T(test_rename_region_as_parent_enotdir),
	    T(test_name_too_long_enametoolong),
	    T(test_nr_inodes_limit_enospc_root_counts),
	    T(test_nr_inodes_limit_of_one_is_only_root),
	    T(test_nr_inodes_counts_orphans),
	    T(test_registry_inodes_counts),
	    T(test_unlink_without_references_frees_at_once),
	    T(test_lookup_reference_keeps_orphan),
	    T(test_forget_n_drops_n_references),
	    T(test_directory_lookup_reference_keeps_removed_dir),
	    T(test_rmdir_unlink_type_errors),
	    T(test_rename_plain_same_and_across_directories),
	    T(test_rename_directory_updates_nlink_and_dotdot),
	    T(test_rename_over_region_orphans_old_target),
	    T(test_rename_over_unreferenced_region_frees_it),
	    T(test_rename_over_hard_linked_region_keeps_other_name),
	    T(test_rename_noreplace_existing_eexist),
	    T(test_rename_exchange_regions),
	    T(test_rename_exchange_dir_and_region),
	    T(test_rename_exchange_missing_target_enoent),
	    T(test_rename_dir_over_empty_dir_replaces_it),
	    T(test_rename_type_mismatch_and_nonempty_errors),
	    T(test_rename_dir_into_own_subtree_einval),
	    T(test_rename_unknown_flags_einval),
	    T(test_rename_to_itself_is_noop),
	    T(test_rename_between_hard_links_of_same_region_is_noop),
	    T(test_link_increments_nlink_and_shares_region),
	    T(test_link_errors),
	    T(test_link_takes_lookup_reference),
	    T(test_unlink_while_open_keeps_region_until_release),
	    T(test_unlink_while_open_release_then_forget),
	    T(test_two_opens_need_two_releases),
	    T(test_open_and_region_of_directory_eisdir),
	    T(test_region_does_not_count_open),
	    T(test_free_with_orphans_and_open_regions),
	    T(test_setattr_size_grow_shrink),
	    T(test_setattr_size_enospc_efbig_leave_size),
	    T(test_setattr_size_on_directory_eisdir),
	    T(test_setattr_unknown_inode_enoent),
	    T(test_setattr_mode_uid_gid),
	    T(test_setattr_times_region),
	    T(test_setattr_times_directory),
	    T(test_readdir_dot_dotdot_offsets),
	    T(test_readdir_creation_order_and_attributes),
	    T(test_readdir_resume_with_small_budgets),
	    T(test_readdir_rejected_entry_comes_next),
	    T(test_readdir_stable_across_concurrent_changes),
	    T(test_readdir_resume_after_cursor_entries_removed),
	    T(test_readdir_want_attr_takes_lookup_refs),
	    T(test_readdir_10000_entries),
	    T(test_readdir_interleaved_streams),
	    T(test_readdir_removed_directory_with_freed_parent),
	    T(test_xattr_set_get_list_remove),
	    T(test_xattr_follows_inode_across_rename_and_link),
	    T(test_xattr_size_queries_and_erange),
	    T(test_xattr_missing_enodata),
	    T(test_xattr_create_replace_flags),
	    T(test_xattr_list_limit_enospc),
	    T(test_xattr_charged_against_limit),
	    T(test_trim_after_many_frees_unlocked),
	    T(test_xattr_name_and_value_limits),
	    T(test_xattr_on_directories_and_root),
	    T(test_xattr_unknown_inode_enoent),
	    T(test_cookie_attach_once_and_query),
	    T(test_cookie_released_once_when_region_freed),
	    T(test_create_alloc_failure_enomem_namespace_unchanged),
	    T(test_mkdir_alloc_failure_enomem_namespace_unchanged),
	    T(test_link_alloc_failure_enomem_namespace_unchanged),
	    T(test_rename_alloc_failure_namespace_unchanged),
	    T(test_rename_over_target_alloc_failure_keeps_target),
	    T(test_setxattr_alloc_failure_enomem_unchanged),
	    T(test_registry_new_alloc_failure_enomem),
	    T(test_create_memfd_failure_returns_errno),
	    T(test_create_failures_do_not_leak_inode_quota),
	    T(test_concurrent_creates_and_unlinks),
	    T(test_concurrent_resizes_and_namespace),
	    TB(test_bind_ebusy_while_open),
	    TB(test_bind_eisdir_enoent),
	    TB(test_bind_enotempty_eexist),
	    TB(test_bind_replaces_and_releases_cookie),
	    TB(test_bind_after_fd_eviction_releases_cookie),
	    TB(test_backing_path_queries),
	    TB(test_bind_no_store_charge),
	    TB(test_bind_alloc_failure_enomem),
	    TB(test_bind_orphan_keeps_file),
	    TB(test_load_unbound_binding),
	};

	/* Run a subset: CMOCKA_TEST_FILTER / CMOCKA_SKIP_FILTER="test_xattr_*" */
	if (getenv("CMOCKA_TEST_FILTER"))
		cmocka_set_test_filter(getenv("CMOCKA_TEST_FILTER"));
	if (getenv("CMOCKA_SKIP_FILTER"))
		cmocka_set_skip_filter(getenv("CMOCKA_SKIP_FILTER"));
	return cmocka_run_group_tests_name("registry", tests, NULL, NULL);
}
