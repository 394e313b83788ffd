/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of region/: both store kinds (the tmpfs store needs
 * CAP_SYS_ADMIN; as root it must be the one store_open() picks, so a silent
 * fallback to memfds fails the run instead of hiding). Failures of libc calls
 * are injected with -Wl,--wrap= (see tests/unit/meson.build).
 *
 * Most tests also check the accounting against the kernel: the bytes the
 * store reports as used must equal the pages the backing files really hold
 * (st_blocks). With memfds that compares our bookkeeping with shmem's; with
 * tmpfs it checks that we leave no stray preallocated pages behind.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/fsuid.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/macros.h"
#include "region/region.h"
#include "region/seal.h"

#define PAGE ((uint64_t)RFS_PAGE_SIZE)
#define LIMIT (64 * PAGE)

/* ------------------------------------------------------------------ */
/* Fault injection                                                     */
/* ------------------------------------------------------------------ */

struct fault {
	int err;	/* errno for the next failing call; 0: never fail */
	unsigned skip;	/* calls to let through before failing */
	unsigned calls; /* calls seen since the test started */
};

static struct fault f_memfd, f_fsopen, f_ftruncate, f_fallocate, f_pwrite, f_fsync, f_fdatasync;
/*
 * A failing fallocate() first allocates the first half of its range, as
 * ext4 does when it runs out of space half-way (tmpfs undoes it).
 */
static bool fallocate_partial;
/* The next pwrite() writes at most this many bytes (0: whole writes). */
static size_t pwrite_short;
/* Called once, just before the next pwrite() (to stage races). */
static void (*pwrite_hook)(void);

/*
 * Who the last allocating call (ftruncate, fallocate, pwrite) ran as: its
 * thread's fsuid, fsgid and effective capabilities (low word).
 */
static struct {
	uid_t fsuid;
	gid_t fsgid;
	uint32_t eff;
	unsigned calls;
} alloc_seen;

static uint32_t eff_caps(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d) < 0)
		return 0;
	return d[0].effective;
}

static void see_ids(void)
{
	alloc_seen.fsuid = (uid_t)setfsuid((uid_t)-1);
	alloc_seen.fsgid = (gid_t)setfsgid((gid_t)-1);
	alloc_seen.eff = eff_caps();
	alloc_seen.calls++;
}

static void faults_reset(void)
{
	struct fault *all[] = {&f_memfd,  &f_fsopen, &f_ftruncate, &f_fallocate,
			       &f_pwrite, &f_fsync,  &f_fdatasync};

	for (size_t i = 0; i < ARRAY_SIZE(all); i++)
		memset(all[i], 0, sizeof(*all[i]));
	pwrite_short = 0;
	pwrite_hook = NULL;
	fallocate_partial = false;
}

static void fault_arm(struct fault *f, int err, unsigned skip)
{
	f->err = err;
	f->skip = skip;
}

/* One shot: fails one call, then lets everything through again. */
static bool fault_fire(struct fault *f)
{
	__atomic_add_fetch(&f->calls, 1, __ATOMIC_RELAXED);
	if (!f->err)
		return false;
	if (f->skip) {
		f->skip--;
		return false;
	}
	errno = f->err;
	f->err = 0;
	return true;
}

/*
 * With _FILE_OFFSET_BITS=64 (Meson's default) glibc redirects ftruncate,
 * fallocate and pwrite to their *64 names; wrap both spellings so the
 * injection cannot silently stop working if that setting changes.
 */
int __real_memfd_create(const char *name, unsigned int flags);
int __wrap_memfd_create(const char *name, unsigned int flags);
int __real_fsopen(const char *fs_name, unsigned int flags);
int __wrap_fsopen(const char *fs_name, unsigned int flags);
int __real_ftruncate(int fd, off_t len);
int __wrap_ftruncate(int fd, off_t len);
int __real_ftruncate64(int fd, off64_t len);
int __wrap_ftruncate64(int fd, off64_t len);
int __real_fallocate(int fd, int mode, off_t off, off_t len);
int __wrap_fallocate(int fd, int mode, off_t off, off_t len);
int __real_fallocate64(int fd, int mode, off64_t off, off64_t len);
int __wrap_fallocate64(int fd, int mode, off64_t off, off64_t len);
ssize_t __real_pwrite(int fd, const void *buf, size_t len, off_t off);
ssize_t __wrap_pwrite(int fd, const void *buf, size_t len, off_t off);
ssize_t __real_pwrite64(int fd, const void *buf, size_t len, off64_t off);
ssize_t __wrap_pwrite64(int fd, const void *buf, size_t len, off64_t off);
int __real_fsync(int fd);
int __wrap_fsync(int fd);
int __real_fdatasync(int fd);
int __wrap_fdatasync(int fd);

int __wrap_memfd_create(const char *name, unsigned int flags)
{
	if (fault_fire(&f_memfd))
		return -1;
	return __real_memfd_create(name, flags);
}

int __wrap_fsopen(const char *fs_name, unsigned int flags)
{
	if (fault_fire(&f_fsopen))
		return -1;
	return __real_fsopen(fs_name, flags);
}

int __wrap_ftruncate(int fd, off_t len)
{
	see_ids();
	if (fault_fire(&f_ftruncate))
		return -1;
	return __real_ftruncate(fd, len);
}

int __wrap_ftruncate64(int fd, off64_t len)
{
	see_ids();
	if (fault_fire(&f_ftruncate))
		return -1;
	return __real_ftruncate64(fd, len);
}

/* A failure injected into fallocate(): maybe half done first (fallocate_partial). */
static int fallocate_fail(int fd, int mode, off64_t off, off64_t len)
{
	int e = errno;

	if (fallocate_partial && !(mode & FALLOC_FL_PUNCH_HOLE) && len > 1)
		__real_fallocate64(fd, mode, off, len / 2);
	errno = e;
	return -1;
}

int __wrap_fallocate(int fd, int mode, off_t off, off_t len)
{
	see_ids();
	if (fault_fire(&f_fallocate))
		return fallocate_fail(fd, mode, off, len);
	return __real_fallocate(fd, mode, off, len);
}

int __wrap_fallocate64(int fd, int mode, off64_t off, off64_t len)
{
	see_ids();
	if (fault_fire(&f_fallocate))
		return fallocate_fail(fd, mode, off, len);
	return __real_fallocate64(fd, mode, off, len);
}

static size_t pwrite_len(size_t len)
{
	void (*hook)(void) = pwrite_hook;

	if (hook) {
		pwrite_hook = NULL;
		hook();
	}
	if (pwrite_short && len > pwrite_short) {
		len = pwrite_short;
		pwrite_short = 0;
	}
	return len;
}

ssize_t __wrap_pwrite(int fd, const void *buf, size_t len, off_t off)
{
	see_ids();
	if (fault_fire(&f_pwrite))
		return -1;
	return __real_pwrite(fd, buf, pwrite_len(len), off);
}

ssize_t __wrap_pwrite64(int fd, const void *buf, size_t len, off64_t off)
{
	see_ids();
	if (fault_fire(&f_pwrite))
		return -1;
	return __real_pwrite64(fd, buf, pwrite_len(len), off);
}

int __wrap_fsync(int fd)
{
	if (fault_fire(&f_fsync))
		return -1;
	return __real_fsync(fd);
}

int __wrap_fdatasync(int fd)
{
	if (fault_fire(&f_fdatasync))
		return -1;
	return __real_fdatasync(fd);
}

/* ------------------------------------------------------------------ */
/* Fixture and helpers                                                 */
/* ------------------------------------------------------------------ */

/* The store kind the running group tests; set by the group setup. */
static enum store_kind group_kind;

struct fixture {
	struct region_store *store;
	struct region *r[4];
};

static unsigned open_flags(enum store_kind kind)
{
	return kind == STORE_MEMFD ? STORE_FORCE_MEMFD : 0;
}

static int group_memfd(void **state)
{
	group_kind = STORE_MEMFD;
	return 0;
}

static int group_tmpfs(void **state)
{
	group_kind = STORE_TMPFS;
	return 0;
}

static int setup(void **state)
{
	struct fixture *fx;

	faults_reset();
	fx = calloc(1, sizeof(*fx));
	if (!fx)
		return -1;
	if (store_open(LIMIT, open_flags(group_kind), &fx->store) < 0) {
		free(fx);
		return -1;
	}
	if (store_kind(fx->store) != group_kind) {
		fprintf(stderr, "store_open() chose kind %d, expected %d\n", store_kind(fx->store),
			group_kind);
		store_close(fx->store);
		free(fx);
		return -1;
	}
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	faults_reset();
	for (size_t i = 0; i < ARRAY_SIZE(fx->r); i++)
		region_free(fx->r[i]);
	store_close(fx->store);
	free(fx);
	return 0;
}

static struct region *new_region(struct fixture *fx, size_t slot)
{
	assert_true(slot < ARRAY_SIZE(fx->r));
	assert_null(fx->r[slot]);
	assert_int_equal(region_new(fx->store, &fx->r[slot]), 0);
	assert_non_null(fx->r[slot]);
	return fx->r[slot];
}

static uint64_t used(struct fixture *fx)
{
	uint64_t u = UINT64_MAX;

	assert_int_equal(store_used(fx->store, &u), 0);
	return u;
}

static uint64_t size_of(struct region *r)
{
	struct stat st;

	assert_int_equal(region_stat(r, &st), 0);
	return (uint64_t)st.st_size;
}

/* Bytes of memory the kernel holds for the region. */
static uint64_t held(struct region *r)
{
	struct stat st;

	assert_int_equal(region_stat(r, &st), 0);
	return (uint64_t)st.st_blocks * 512;
}

/* store_used() must equal what the backing files really hold. */
static void assert_accounting(struct fixture *fx)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < ARRAY_SIZE(fx->r); i++)
		if (fx->r[i])
			sum += held(fx->r[i]);
	assert_int_equal(used(fx), sum);
	assert_true(sum <= LIMIT);
}

/* The backing fd's number: pinned only to read it (fixed fds keep theirs). */
static int fd_of(struct region *r)
{
	int fd = region_fd_get(r);

	assert_true(fd >= 0);
	region_fd_put(r);
	return fd;
}

/* A shared mapping of the region: it keeps the file, the fd is pinned only to make it. */
static void *map_shared(struct region *r, size_t len)
{
	int fd = region_fd_get(r);
	void *map;

	assert_true(fd >= 0);
	map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	region_fd_put(r);
	assert_true(map != MAP_FAILED);
	return map;
}

static void fill(struct region *r, uint64_t off, size_t len, unsigned char c)
{
	unsigned char *buf = malloc(len);

	assert_non_null(buf);
	memset(buf, c, len);
	assert_int_equal(region_write(r, buf, len, off), (ssize_t)len);
	free(buf);
}

static void assert_bytes(struct region *r, uint64_t off, size_t len, unsigned char c)
{
	unsigned char *buf = malloc(len);

	assert_non_null(buf);
	memset(buf, c ^ 0xff, len);
	assert_int_equal(region_read(r, buf, len, off), (ssize_t)len);
	for (size_t i = 0; i < len; i++) {
		if (buf[i] != c)
			fail_msg("byte %llu is 0x%02x, expected 0x%02x",
				 (unsigned long long)(off + i), buf[i], c);
	}
	free(buf);
}

/* ------------------------------------------------------------------ */
/* Store                                                               */
/* ------------------------------------------------------------------ */

static void test_store_open_zero_limit(void **state)
{
	struct region_store *s = (struct region_store *)state; /* sentinel */

	assert_int_equal(store_open(0, open_flags(group_kind), &s), -EINVAL);
	assert_ptr_equal(s, (struct region_store *)state);
}

/* huge= exists only on the private tmpfs: asked for with memfds, no store at all. */
static void test_store_open_huge_needs_tmpfs(void **state)
{
	struct region_store *s = (struct region_store *)state; /* sentinel */

	assert_int_equal(store_open(LIMIT, STORE_FORCE_MEMFD | STORE_HUGE_ALWAYS, &s), -EINVAL);
	assert_ptr_equal(s, (struct region_store *)state);
	if (group_kind != STORE_TMPFS)
		return;
	assert_int_equal(store_open(LIMIT, STORE_HUGE_WITHIN_SIZE, &s), 0);
	assert_int_equal(store_kind(s), STORE_TMPFS);
	store_close(s);
}

static void test_store_kind_and_limit(void **state)
{
	struct fixture *fx = *state;
	struct region_store *s;

	assert_int_equal(store_kind(fx->store), group_kind);
	assert_int_equal(store_limit(fx->store), LIMIT);
	assert_int_equal(used(fx), 0);

	/* The limit is rounded up to whole pages. */
	assert_int_equal(store_open(LIMIT + 1, open_flags(group_kind), &s), 0);
	assert_int_equal(store_kind(s), group_kind);
	assert_int_equal(store_limit(s), LIMIT + PAGE);
	store_close(s);

	/* A limit past off_t is clamped, never wrapped to 0 by the rounding. */
	assert_int_equal(store_open(UINT64_MAX, open_flags(group_kind), &s), 0);
	assert_int_equal(store_limit(s), (uint64_t)INT64_MAX & ~(PAGE - 1));
	store_close(s);
}

static void test_region_new_empty(void **state)
{
	struct fixture *fx = *state;
	unsigned memfds = f_memfd.calls;
	struct region *r = new_region(fx, 0);
	int fd = region_fd_get(r);
	struct stat st;

	assert_true(fd >= 0);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDWR);
	region_fd_put(r);
	assert_int_equal(region_stat(r, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_size, 0);
	assert_int_equal(st.st_blocks, 0);
	assert_int_equal(used(fx), 0);
	/* A tmpfs store makes named files, never memfds. */
	assert_int_equal(f_memfd.calls - memfds, group_kind == STORE_MEMFD ? 1 : 0);
}

static void test_store_used_tracking(void **state)
{
	struct fixture *fx = *state;
	struct region *a = new_region(fx, 0);
	struct region *b = new_region(fx, 1);
	struct region *c = new_region(fx, 2);

	assert_int_equal(region_resize(a, 1), 0);
	assert_int_equal(region_resize(b, 3 * PAGE), 0);
	assert_int_equal(region_resize(c, 5 * PAGE + 7), 0);
	assert_int_equal(used(fx), (1 + 3 + 6) * PAGE);
	assert_accounting(fx);

	/* Freeing a region gives all of its pages back. */
	region_free(b);
	fx->r[1] = NULL;
	assert_int_equal(used(fx), (1 + 6) * PAGE);
	region_free(c);
	fx->r[2] = NULL;
	assert_int_equal(used(fx), 1 * PAGE);
	assert_accounting(fx);
}

/*
 * Metadata shares the limit with data: df (store_used) shows it in whole
 * pages on tmpfs (the kernel counts the hidden file) and to the byte with
 * memfds; data and metadata together never pass the limit.
 */
static void test_store_charge_meta(void **state)
{
	struct fixture *fx = *state;
	struct region *a = new_region(fx, 0);
	uint64_t meta_used = group_kind == STORE_TMPFS ? PAGE : 100;

	assert_int_equal(store_charge_meta(fx->store, 100), 0);
	assert_int_equal(store_meta(fx->store), 100);
	assert_int_equal(used(fx), meta_used);
	/* data up to what is left */
	assert_int_equal(region_resize(a, LIMIT - PAGE), 0);
	assert_int_equal(region_resize(a, LIMIT), -ENOSPC);
	/* metadata up to what is left, no further */
	assert_int_equal(store_charge_meta(fx->store, (int64_t)(PAGE - 100)), 0);
	assert_int_equal(store_charge_meta(fx->store, 1), -ENOSPC);
	assert_int_equal(store_meta(fx->store), PAGE);
	assert_int_equal(used(fx), LIMIT);
	/* given back: room for data again */
	assert_int_equal(store_charge_meta(fx->store, -(int64_t)PAGE), 0);
	assert_int_equal(store_meta(fx->store), 0);
	assert_int_equal(used(fx), LIMIT - PAGE);
	assert_int_equal(region_resize(a, LIMIT), 0);
	assert_int_equal(store_charge_meta(fx->store, 1), -ENOSPC);
	assert_int_equal(store_meta(fx->store), 0);
	/* past the limit only when forced (loading), and then df shows it */
	store_charge_meta_over(fx->store, 10);
	assert_int_equal(store_meta(fx->store), 10);
	assert_int_equal(region_resize(a, 0), 0);
	assert_int_equal(store_charge_meta(fx->store, -10), 0);
	assert_int_equal(used(fx), 0);
	assert_accounting(fx);
}

/* ------------------------------------------------------------------ */
/* Resize, read, write                                                 */
/* ------------------------------------------------------------------ */

static void test_resize_grow_shrink(void **state)
{
	struct fixture *fx = *state;
	struct region *r = new_region(fx, 0);

	/* Growing reserves every page inside the size at once. */
	assert_int_equal(region_resize(r, 3 * PAGE + 100), 0);
	assert_int_equal(size_of(r), 3 * PAGE + 100);
	assert_int_equal(used(fx), 4 * PAGE);
	assert_int_equal(held(r), 4 * PAGE);
	assert_bytes(r, 0, 3 * PAGE + 100, 0);

	fill(r, 0, 3 * PAGE + 100, 0xaa);
	assert_int_equal(used(fx), 4 * PAGE);

	/* Shrinking frees whole pages past the end at once. */
	assert_int_equal(region_resize(r, 100), 0);
	assert_int_equal(size_of(r), 100);
	assert_int_equal(used(fx), PAGE);
	assert_accounting(fx);

	/* What comes back after a shrink and a grow reads as zeros. */
	assert_int_equal(region_resize(r, 2 * PAGE), 0);
	assert_bytes(r, 0, 100, 0xaa);
	assert_bytes(r, 100, 2 * PAGE - 100, 0);
	assert_int_equal(used(fx), 2 * PAGE);

	/* Growing inside the last page needs no new space. */
	assert_int_equal(region_resize(r, 2 * PAGE - 1), 0);
	assert_int_equal(region_resize(r, 2 * PAGE), 0);
	assert_int_equal(used(fx), 2 * PAGE);

	assert_int_equal(region_resize(r, 0), 0);
	assert_int_equal(size_of(r), 0);
	assert_int_equal(used(fx), 0);
	assert_accounting(fx);
}

static void test_read_write(void **state)
{
	struct fixture *fx = *state;
	struct region *r = new_region(fx, 0);
	char buf[16];

	assert_int_equal(region_write(r, "hello", 5, 0), 5);
	assert_int_equal(size_of(r), 5);
	assert_int_equal(used(fx), PAGE);

	memset(buf, 'x', sizeof(buf));
	assert_int_equal(region_read(r, buf, sizeof(buf), 0), 5); /* short at the end */
	assert_memory_equal(buf, "hello", 5);
	assert_int_equal(buf[5], 'x');
	assert_int_equal(region_read(r, buf, 3, 2), 3);
	assert_memory_equal(buf, "llo", 3);
	assert_int_equal(region_read(r, buf, sizeof(buf), 5), 0);    /* at the end */
	assert_int_equal(region_read(r, buf, sizeof(buf), 1000), 0); /* past it */
	assert_int_equal(region_read(r, buf, sizeof(buf), (uint64_t)INT64_MAX), 0);
	assert_int_equal(region_read(r, buf, sizeof(buf), (uint64_t)INT64_MAX + 1), -EINVAL);
	assert_int_equal(region_write(r, "", 0, 0), 0);
	assert_int_equal(size_of(r), 5);

	/* Overwriting inside the size changes neither size nor usage. */
	assert_int_equal(region_write(r, "J", 1, 0), 1);
	assert_int_equal(region_read(r, buf, 5, 0), 5);
	assert_memory_equal(buf, "Jello", 5);
	assert_int_equal(used(fx), PAGE);

	/* A write far past the end reserves the gap too: no holes inside the size. */
	assert_int_equal(region_write(r, "world!", 6, 3 * PAGE + 10), 6);
	assert_int_equal(size_of(r), 3 * PAGE + 16);
	assert_int_equal(used(fx), 4 * PAGE);
	assert_int_equal(held(r), 4 * PAGE);
	assert_bytes(r, 5, 3 * PAGE + 5, 0);
	assert_int_equal(region_read(r, buf, sizeof(buf), 3 * PAGE + 10), 6);
	assert_memory_equal(buf, "world!", 6);
}

static void test_write_across_pages(void **state)
{
	struct fixture *fx = *state;
	struct region *r = new_region(fx, 0);
	size_t len = 3 * PAGE + 17;
	unsigned char *in = malloc(len), *out = malloc(len);

	assert_non_null(in);
	assert_non_null(out);
	for (size_t i = 0; i < len; i++)
		in[i] = (unsigned char)(i * 7 + 3);
	assert_int_equal(region_write(r, in, len, 123), (ssize_t)len);
	assert_int_equal(size_of(r), 123 + len);
	assert_int_equal(region_read(r, out, len, 123), (ssize_t)len);
	assert_memory_equal(in, out, len);
	assert_int_equal(used(fx), RFS_ALIGN_UP(123 + len, PAGE));
	assert_accounting(fx);
	free(in);
	free(out);
}

/* The backing fd is a shared view of the same memory (what mmap clients see). */
static void test_fd_is_shared_memory(void **state)
{
	struct fixture *fx = *state;
	struct region *r = new_region(fx, 0);
	char *map;

	assert_int_equal(region_resize(r, PAGE), 0);
	map = map_shared(r, PAGE);
	memcpy(map + 10, "mapped", 6);
	assert_bytes(r, 0, 10, 0);
	fill(r, 100, 3, 'z');
	assert_memory_equal(map + 100, "zzz", 3);
	{
		char buf[6];

		assert_int_equal(region_read(r, buf, 6, 10), 6);
		assert_memory_equal(buf, "mapped", 6);
	}
	munmap(map, PAGE);
}

/* ------------------------------------------------------------------ */
/* Quota                                                               */
/* ------------------------------------------------------------------ */

static void test_quota_resize(void **state)
{
	struct fixture *fx = *state;
	struct region *a = new_region(fx, 0);
	struct region *b = new_region(fx, 1);

	assert_int_equal(region_resize(a, LIMIT - PAGE), 0);
	assert_int_equal(used(fx), LIMIT - PAGE);

	/* Not enough free space: the region stays as it was. */
	assert_int_equal(region_resize(b, 2 * PAGE), -ENOSPC);
	assert_int_equal(size_of(b), 0);
	assert_int_equal(used(fx), LIMIT - PAGE);
	assert_accounting(fx);

	/* Exactly full is fine. */
	assert_int_equal(region_resize(b, PAGE), 0);
	assert_int_equal(used(fx), LIMIT);
	assert_int_equal(region_resize(b, PAGE + 1), -ENOSPC);
	assert_int_equal(size_of(b), PAGE);
	assert_int_equal(region_resize(a, LIMIT - PAGE + 1), -ENOSPC);
	assert_int_equal(size_of(a), LIMIT - PAGE);
	assert_int_equal(used(fx), LIMIT);
	assert_accounting(fx);

	/* Space given back by one region can be taken by another. */
	assert_int_equal(region_resize(a, LIMIT - 3 * PAGE), 0);
	assert_int_equal(region_resize(b, 3 * PAGE), 0);
	assert_int_equal(used(fx), LIMIT);
	assert_accounting(fx);
}

static void test_quota_write(void **state)
{
	struct fixture *fx = *state;
	struct region *a = new_region(fx, 0);
	struct region *b = new_region(fx, 1);
	char buf[16];

	assert_int_equal(region_resize(a, LIMIT - PAGE - 5), 0);
	fill(a, LIMIT - PAGE - 10, 5, 'a');
	assert_int_equal(region_resize(b, PAGE), 0);
	assert_int_equal(used(fx), LIMIT);

	/* Full: a write that needs one more page fails and writes nothing. */
	assert_int_equal(region_write(a, "0123456789", 10, LIMIT - PAGE - 5), -ENOSPC);
	assert_int_equal(size_of(a), LIMIT - PAGE - 5);
	assert_bytes(a, LIMIT - PAGE - 10, 5, 'a');
	assert_int_equal(region_read(a, buf, sizeof(buf), LIMIT - PAGE - 5), 0);
	assert_int_equal(region_write(b, "x", 1, 5 * PAGE), -ENOSPC);
	assert_int_equal(size_of(b), PAGE);
	assert_int_equal(used(fx), LIMIT);

	/* Growing inside the last reserved page still works when full. */
	assert_int_equal(region_write(a, "01234", 5, LIMIT - PAGE - 5), 5);
	assert_int_equal(size_of(a), LIMIT - PAGE);
	/* And so do writes inside the size. */
	assert_int_equal(region_write(b, "inside", 6, 0), 6);
	assert_int_equal(used(fx), LIMIT);
	assert_accounting(fx);
}

static void test_efbig(void **state)
{
	struct fixture *fx = *state;
	struct region *r = new_region(fx, 0);

	assert_int_equal(region_resize(r, 10), 0);
	assert_int_equal(region_resize(r, LIMIT + 1), -EFBIG);
	assert_int_equal(region_resize(r, UINT64_MAX), -EFBIG);
	assert_int_equal(region_resize(r, (uint64_t)INT64_MAX + 1), -EFBIG);
	assert_int_equal(region_write(r, "x", 1, LIMIT), -EFBIG);
	assert_int_equal(region_write(r, "xy", 2, (uint64_t)INT64_MAX - 1), -EFBIG);
	assert_int_equal(region_write(r, "x", 1, (uint64_t)INT64_MAX + 1), -EINVAL);
	assert_int_equal(region_fallocate(r, 0, LIMIT, 1), -EFBIG);
	assert_int_equal(region_fallocate(r, FALLOC_FL_KEEP_SIZE, 0, LIMIT + 1), -EFBIG);
	assert_int_equal(size_of(r), 10);
	assert_int_equal(used(fx), PAGE);

	/* The whole limit is not too big. */
	assert_int_equal(region_resize(r, LIMIT), 0);
	assert_int_equal(used(fx), LIMIT);
	assert_accounting(fx);
}

/* ------------------------------------------------------------------ */
/* fallocate                                                           */
/* ------------------------------------------------------------------ */

static void test_fallocate_modes(void **state)
{
	struct fixture *fx = *state;
	struct region *r = new_region(fx, 0);
	struct region *g = new_region(fx, 1);

	/* Mode 0 grows and reserves. */
	assert_int_equal(region_fallocate(r, 0, 0, 2 * PAGE + 1), 0);
	assert_int_equal(size_of(r), 2 * PAGE + 1);
	assert_int_equal(used(fx), 3 * PAGE);
	assert_int_equal(region_fallocate(r, 0, PAGE, 10), 0);
	assert_int_equal(size_of(r), 2 * PAGE + 1);
	assert_int_equal(used(fx), 3 * PAGE);
	assert_accounting(fx);

	/* KEEP_SIZE reserves past the end without growing. */
	assert_int_equal(region_fallocate(r, FALLOC_FL_KEEP_SIZE, 0, 6 * PAGE), 0);
	assert_int_equal(size_of(r), 2 * PAGE + 1);
	assert_int_equal(used(fx), 6 * PAGE);
	assert_accounting(fx);

	/* Growing into preallocated space takes nothing more... */
	assert_int_equal(region_resize(r, 4 * PAGE), 0);
	assert_int_equal(used(fx), 6 * PAGE);
	assert_accounting(fx);
	/* ...and a truncate, even to the same size, drops what lies past the end. */
	assert_int_equal(region_resize(r, 4 * PAGE), 0);
	assert_int_equal(used(fx), 4 * PAGE);
	assert_accounting(fx);

	/* Mode 0 starting past the end reserves the gap as well. */
	assert_int_equal(region_fallocate(g, 0, 3 * PAGE, 10), 0);
	assert_int_equal(size_of(g), 3 * PAGE + 10);
	assert_int_equal(held(g), 4 * PAGE);
	assert_int_equal(used(fx), 8 * PAGE);
	assert_accounting(fx);

	/* No room: nothing changes. */
	assert_int_equal(region_fallocate(g, 0, 0, LIMIT - 4 * PAGE + 1), -ENOSPC);
	assert_int_equal(region_fallocate(g, FALLOC_FL_KEEP_SIZE, 0, LIMIT), -ENOSPC);
	assert_int_equal(size_of(g), 3 * PAGE + 10);
	assert_int_equal(used(fx), 8 * PAGE);
	assert_accounting(fx);
}

static void test_fallocate_invalid(void **state)
{
	struct fixture *fx = *state;
	struct region *r = new_region(fx, 0);

	assert_int_equal(region_resize(r, PAGE), 0);
	assert_int_equal(region_fallocate(r, FALLOC_FL_PUNCH_HOLE, 0, 1), -EOPNOTSUPP);
	assert_int_equal(region_fallocate(r, FALLOC_FL_ZERO_RANGE, 0, 1), -EOPNOTSUPP);
	assert_int_equal(region_fallocate(r, FALLOC_FL_COLLAPSE_RANGE, 0, PAGE), -EOPNOTSUPP);
	assert_int_equal(region_fallocate(r, FALLOC_FL_INSERT_RANGE, 0, PAGE), -EOPNOTSUPP);
	assert_int_equal(region_fallocate(r, -1, 0, 1), -EOPNOTSUPP);
	assert_int_equal(region_fallocate(r, 0, 0, 0), -EINVAL);
	assert_int_equal(region_fallocate(r, 0, (uint64_t)INT64_MAX + 1, 1), -EINVAL);
	assert_int_equal(region_fallocate(r, 0, 0, (uint64_t)INT64_MAX + 1), -EINVAL);
	assert_int_equal(region_fallocate(r, 0, (uint64_t)INT64_MAX, 2), -EINVAL);
	assert_int_equal(region_fallocate(r, 0, 1, UINT64_MAX), -EINVAL);
	assert_int_equal(region_fallocate(r, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 0),
			 -EINVAL);
	assert_int_equal(size_of(r), PAGE);
	assert_int_equal(used(fx), PAGE);
}

static void test_punch_hole_keeps_reservation(void **state)
{
	struct fixture *fx = *state;
	struct region *r = new_region(fx, 0);
	struct region *other = new_region(fx, 1);
	const int punch = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
	unsigned char *map;

	assert_int_equal(region_resize(r, 4 * PAGE), 0);
	fill(r, 0, 4 * PAGE, 0x5a);

	assert_int_equal(region_fallocate(r, punch, PAGE / 2, 2 * PAGE), 0);
	assert_bytes(r, 0, PAGE / 2, 0x5a);
	assert_bytes(r, PAGE / 2, 2 * PAGE, 0);
	assert_bytes(r, PAGE / 2 + 2 * PAGE, PAGE + PAGE / 2, 0x5a);
	assert_int_equal(size_of(r), 4 * PAGE);
	assert_int_equal(used(fx), 4 * PAGE);
	assert_int_equal(held(r), 4 * PAGE);

	/* Past the end there is nothing to punch; across it, up to it. */
	assert_int_equal(region_fallocate(r, punch, 5 * PAGE, PAGE), 0);
	assert_int_equal(region_fallocate(r, punch, 4 * PAGE - 1, 2 * PAGE), 0);
	assert_bytes(r, 4 * PAGE - 2, 1, 0x5a);
	assert_bytes(r, 4 * PAGE - 1, 1, 0);
	assert_int_equal(size_of(r), 4 * PAGE);
	assert_int_equal(used(fx), 4 * PAGE);
	assert_accounting(fx);

	/*
	 * Fill the store, then touch the punched pages through a mapping:
	 * had their space not stayed reserved, a full tmpfs would SIGBUS.
	 */
	assert_int_equal(region_resize(other, LIMIT - 4 * PAGE), 0);
	assert_int_equal(used(fx), LIMIT);
	map = map_shared(r, 4 * PAGE);
	memset(map + PAGE, 0x11, 2 * PAGE);
	munmap(map, 4 * PAGE);
	assert_bytes(r, PAGE, 2 * PAGE, 0x11);
	assert_int_equal(used(fx), LIMIT);
	assert_accounting(fx);
}

/* ------------------------------------------------------------------ */
/* flush, stat, times                                                  */
/* ------------------------------------------------------------------ */

static void test_flush(void **state)
{
	struct fixture *fx = *state;
	struct region *r = new_region(fx, 0);

	fill(r, 0, 100, 'f');
	assert_int_equal(region_flush(r, false), 0);
	assert_int_equal(f_fsync.calls, 1);
	assert_int_equal(f_fdatasync.calls, 0);
	assert_int_equal(region_flush(r, true), 0);
	assert_int_equal(f_fsync.calls, 1);
	assert_int_equal(f_fdatasync.calls, 1);

	/* The errno of a failing sync reaches the caller. */
	fault_arm(&f_fsync, EIO, 0);
	assert_int_equal(region_flush(r, false), -EIO);
	fault_arm(&f_fdatasync, ENOSPC, 0);
	assert_int_equal(region_flush(r, true), -ENOSPC);
	assert_bytes(r, 0, 100, 'f');
}

static void test_set_times(void **state)
{
	struct fixture *fx = *state;
	struct region *r = new_region(fx, 0);
	struct timespec t[2] = {{1000, 123}, {2000, 456}};
	struct timespec before;
	struct stat st;

	assert_int_equal(region_set_times(r, t), 0);
	assert_int_equal(region_stat(r, &st), 0);
	assert_int_equal(st.st_atim.tv_sec, 1000);
	assert_int_equal(st.st_atim.tv_nsec, 123);
	assert_int_equal(st.st_mtim.tv_sec, 2000);
	assert_int_equal(st.st_mtim.tv_nsec, 456);

	/* UTIME_OMIT keeps atime, UTIME_NOW takes the clock. */
	clock_gettime(CLOCK_REALTIME, &before);
	t[0].tv_nsec = UTIME_OMIT;
	t[1].tv_nsec = UTIME_NOW;
	assert_int_equal(region_set_times(r, t), 0);
	assert_int_equal(region_stat(r, &st), 0);
	assert_int_equal(st.st_atim.tv_sec, 1000);
	assert_int_equal(st.st_atim.tv_nsec, 123);
	assert_true(st.st_mtim.tv_sec >= before.tv_sec - 1);

	t[0].tv_nsec = 1000000000; /* invalid */
	assert_int_equal(region_set_times(r, t), -EINVAL);
}

/* ------------------------------------------------------------------ */
/* Injected failures                                                   */
/* ------------------------------------------------------------------ */

static void test_fault_fsopen_falls_back(void **state)
{
	struct region_store *s = NULL;
	struct region *r = NULL;
	const int errs[] = {EPERM, ENOSYS, EACCES};

	for (size_t i = 0; i < ARRAY_SIZE(errs); i++) {
		faults_reset();
		fault_arm(&f_fsopen, errs[i], 0);
		assert_int_equal(store_open(LIMIT, 0, &s), 0);
		assert_int_equal(f_fsopen.calls, 1);
		assert_int_equal(store_kind(s), STORE_MEMFD);
		assert_int_equal(region_new(s, &r), 0);
		assert_int_equal(region_write(r, "ok", 2, 0), 2);
		region_free(r);
		store_close(s);
	}

	/* STORE_FORCE_MEMFD does not even try. */
	faults_reset();
	assert_int_equal(store_open(LIMIT, STORE_FORCE_MEMFD, &s), 0);
	assert_int_equal(f_fsopen.calls, 0);
	assert_int_equal(store_kind(s), STORE_MEMFD);
	store_close(s);
}

static void test_fault_memfd_create(void **state)
{
	struct fixture *fx = *state;
	struct region_store *s = (struct region_store *)state;
	struct region *r = (struct region *)state;

	/* The memfd probe at store_open() reports its errno. */
	fault_arm(&f_memfd, EMFILE, 0);
	assert_int_equal(store_open(LIMIT, STORE_FORCE_MEMFD, &s), -EMFILE);
	assert_ptr_equal(s, (struct region_store *)state);

	fault_arm(&f_memfd, ENFILE, 0);
	if (group_kind == STORE_MEMFD) {
		assert_int_equal(region_new(fx->store, &r), -ENFILE);
		assert_ptr_equal(r, (struct region *)state);
	} else {
		/* Not used by a tmpfs store at all. */
		assert_int_equal(region_new(fx->store, &fx->r[0]), 0);
		assert_int_equal(f_memfd.err, ENFILE);
	}
	assert_int_equal(used(fx), 0);
}

static void test_fault_resize_ftruncate(void **state)
{
	struct fixture *fx = *state;
	struct region *r = new_region(fx, 0);

	fill(r, 0, 100, 'k');
	fault_arm(&f_ftruncate, EIO, 0);
	assert_int_equal(region_resize(r, 3 * PAGE), -EIO);
	assert_int_equal(size_of(r), 100);
	assert_int_equal(used(fx), PAGE);
	/* The pages reserved before the ftruncate failed are given back. */
	assert_accounting(fx);

	fault_arm(&f_ftruncate, EPERM, 0);
	assert_int_equal(region_resize(r, 10), -EPERM);
	assert_int_equal(size_of(r), 100);
	assert_bytes(r, 0, 100, 'k');
	assert_int_equal(used(fx), PAGE);

	/* ftruncate fails and so does giving the reservation back: what the
	 * file still holds stays counted. */
	fault_arm(&f_ftruncate, EIO, 0);
	fault_arm(&f_fallocate, EIO, 1);
	assert_int_equal(region_resize(r, 3 * PAGE), -EIO);
	assert_int_equal(size_of(r), 100);
	assert_accounting(fx);
	assert_int_equal(region_resize(r, 100), 0);
	assert_int_equal(used(fx), PAGE);
	assert_accounting(fx);
}

static void test_fault_resize_fallocate(void **state)
{
	struct fixture *fx = *state;
	struct region *r = new_region(fx, 0);

	assert_int_equal(region_resize(r, PAGE), 0);
	fault_arm(&f_fallocate, ENOMEM, 0);
	assert_int_equal(region_resize(r, 5 * PAGE), -ENOMEM);
	assert_int_equal(size_of(r), PAGE);
	assert_int_equal(used(fx), PAGE);
	assert_accounting(fx);

	/* The charge taken for a failed reservation is given back: all of
	 * the rest still fits. */
	assert_int_equal(region_resize(r, LIMIT), 0);
	assert_int_equal(used(fx), LIMIT);
}

/*
 * A grow whose fallocate() fails half-way (ext4 out of space) gives back
 * the blocks it took: resize, fallocate (mode 0 and KEEP_SIZE) and a
 * growing write all leave the file's blocks, size and data as they were.
 */
static void test_fault_partial_fallocate(void **state)
{
	struct fixture *fx = *state;
	struct region *r = new_region(fx, 0);
	uint64_t blocks;

	fill(r, 0, PAGE + 10, 'p');
	assert_int_equal(region_fallocate(r, FALLOC_FL_KEEP_SIZE, 0, 3 * PAGE), 0);
	blocks = held(r);
	assert_int_equal(blocks, 3 * PAGE);

	fallocate_partial = true;
	fault_arm(&f_fallocate, ENOSPC, 0);
	assert_int_equal(region_resize(r, 16 * PAGE), -ENOSPC);
	assert_int_equal(held(r), blocks); /* the preallocation stays, the rest went */
	assert_int_equal(size_of(r), PAGE + 10);
	assert_bytes(r, 0, PAGE + 10, 'p');

	fallocate_partial = true;
	fault_arm(&f_fallocate, ENOSPC, 0);
	assert_int_equal(region_fallocate(r, 0, 0, 20 * PAGE), -ENOSPC);
	assert_int_equal(held(r), blocks);
	assert_int_equal(size_of(r), PAGE + 10);

	fallocate_partial = true;
	fault_arm(&f_fallocate, ENOSPC, 0);
	assert_int_equal(region_fallocate(r, FALLOC_FL_KEEP_SIZE, 2 * PAGE, 20 * PAGE), -ENOSPC);
	assert_int_equal(held(r), blocks);

	fallocate_partial = true;
	fault_arm(&f_fallocate, ENOSPC, 0);
	assert_int_equal(region_write(r, "0123456789", 10, 12 * PAGE), -ENOSPC);
	assert_int_equal(held(r), blocks);
	assert_int_equal(size_of(r), PAGE + 10);
	assert_bytes(r, 0, PAGE + 10, 'p');
	assert_accounting(fx);

	/* Everything given back: the whole limit is still there. */
	assert_int_equal(region_resize(r, LIMIT), 0);
	assert_int_equal(used(fx), LIMIT);
	assert_accounting(fx);
}

/*
 * region_adopt() of a sparse file: its size is charged (past the limit
 * too), its holes are not filled, its times are kept.
 */
static void test_adopt_sparse(void **state)
{
	struct fixture *fx = *state;
	char path[] = "/tmp/rfs-test-adopt-XXXXXX";
	struct timespec times[2] = {{.tv_sec = 1000000000, .tv_nsec = 5},
				    {.tv_sec = 1000000001, .tv_nsec = 7}};
	struct stat st;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(__real_pwrite(fd, "x", 1, (off_t)(4 * LIMIT)), 1);
	assert_int_equal(futimens(fd, times), 0);
	assert_int_equal(fallocate_partial, false);
	assert_int_equal(region_adopt(fx->store, fd, &fx->r[0]), 0);
	assert_int_equal(size_of(fx->r[0]), 4 * LIMIT + 1);
	assert_true(held(fx->r[0]) < 4 * LIMIT); /* not filled */
	assert_int_equal(region_stat(fx->r[0], &st), 0);
	assert_int_equal(st.st_mtim.tv_sec, 1000000001);
	assert_int_equal(st.st_mtim.tv_nsec, 7);
	assert_int_equal(st.st_atim.tv_sec, 1000000000);
	if (group_kind == STORE_MEMFD) {
		/* Charged whole, past the limit: growth fails until it goes. */
		assert_int_equal(used(fx), 4 * LIMIT + PAGE);
		assert_int_equal(region_resize(new_region(fx, 1), 1), -ENOSPC);
		region_free(fx->r[0]);
		fx->r[0] = NULL;
		assert_int_equal(used(fx), 0);
		assert_int_equal(region_resize(fx->r[1], 1), 0);
	}
}

/*
 * A region of a persistent store (region_adopt()) is on a real file system:
 * every call that may allocate in its file runs as 65534:65534 with the
 * daemon's capabilities (as root; a test run by another user acts as
 * itself), and the thread is itself again after. A region made in the
 * store (memfd, private tmpfs: no root reserve) switches nothing.
 */
static void test_adopt_allocates_as_nobody(void **state)
{
	struct fixture *fx = *state;
	char path[] = "/tmp/rfs-test-nobody-XXXXXX";
	uid_t as_uid = geteuid() == 0 ? 65534 : geteuid();
	gid_t as_gid = geteuid() == 0 ? 65534 : getegid();
	uint32_t eff = eff_caps();
	struct fsid_saved sw;
	char buf[64] = "x";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(region_adopt(fx->store, fd, &fx->r[0]), 0);

#define ASSERT_RAN_AS_NOBODY()                                                                     \
	do {                                                                                       \
		assert_true(alloc_seen.calls > 0);                                                       \
		assert_int_equal(alloc_seen.fsuid, as_uid);                                              \
		assert_int_equal(alloc_seen.fsgid, as_gid);                                              \
		assert_int_equal(alloc_seen.eff, eff);                                                   \
		assert_int_equal(setfsuid((uid_t)-1), geteuid());                                  \
		assert_int_equal(setfsgid((gid_t)-1), getegid());                                  \
		assert_int_equal(eff_caps(), eff);                                                 \
		memset(&alloc_seen, 0, sizeof(alloc_seen));                                                    \
	} while (0)

	memset(&alloc_seen, 0, sizeof(alloc_seen));
	assert_int_equal(region_resize(fx->r[0], 2 * PAGE), 0);
	ASSERT_RAN_AS_NOBODY();
	assert_int_equal(region_write(fx->r[0], buf, sizeof(buf), 0), sizeof(buf)); /* inside */
	ASSERT_RAN_AS_NOBODY();
	assert_int_equal(region_write(fx->r[0], buf, sizeof(buf), 3 * PAGE), sizeof(buf));
	ASSERT_RAN_AS_NOBODY();
	assert_int_equal(region_fallocate(fx->r[0], FALLOC_FL_KEEP_SIZE, 0, 6 * PAGE), 0);
	ASSERT_RAN_AS_NOBODY();
	assert_int_equal(region_alloc_enter(fx->r[0], &sw), 0);
	see_ids();
	region_alloc_leave(&sw);
	ASSERT_RAN_AS_NOBODY();

	/* A region of the store itself: as the daemon. */
	assert_int_equal(region_resize(new_region(fx, 1), PAGE), 0);
	assert_true(alloc_seen.calls > 0);
	assert_int_equal(alloc_seen.fsuid, geteuid());
	assert_int_equal(alloc_seen.eff, eff);
	assert_int_equal(region_alloc_enter(fx->r[1], &sw), 0);
	assert_false(sw.switched);
	region_alloc_leave(&sw);
#undef ASSERT_RAN_AS_NOBODY
}

static void test_fault_write_growth(void **state)
{
	struct fixture *fx = *state;
	struct region *r = new_region(fx, 0);

	fill(r, 0, 10, 'w');

	/* The reservation fails: nothing written, nothing grown. */
	fault_arm(&f_fallocate, ENOSPC, 0);
	assert_int_equal(region_write(r, "0123456789", 10, PAGE), -ENOSPC);
	assert_int_equal(size_of(r), 10);
	assert_int_equal(used(fx), PAGE);
	assert_int_equal(f_pwrite.calls, 1); /* only the fill() */

	/* The growth is reserved but pwrite fails: the growth is undone. */
	fault_arm(&f_pwrite, EIO, 0);
	assert_int_equal(region_write(r, "0123456789", 10, 2 * PAGE), -EIO);
	assert_int_equal(size_of(r), 10);
	assert_int_equal(used(fx), PAGE);
	assert_bytes(r, 0, 10, 'w');
	assert_accounting(fx);

	/* ftruncate fails while growing: nothing written. */
	fault_arm(&f_ftruncate, EIO, 0);
	assert_int_equal(region_write(r, "0123456789", 10, 2 * PAGE), -EIO);
	assert_int_equal(size_of(r), 10);
	assert_int_equal(used(fx), PAGE);
	assert_accounting(fx);
}

static void test_fault_write_inside(void **state)
{
	struct fixture *fx = *state;
	struct region *r = new_region(fx, 0);
	char buf[10];

	fill(r, 0, 10, 'i');
	fault_arm(&f_pwrite, EIO, 0);
	assert_int_equal(region_write(r, "0123456789", 10, 0), -EIO);
	assert_bytes(r, 0, 10, 'i');
	assert_int_equal(size_of(r), 10);
	assert_int_equal(used(fx), PAGE);

	/* A signal is no failure: the write is retried. */
	fault_arm(&f_pwrite, EINTR, 0);
	assert_int_equal(region_write(r, "0123456789", 10, 0), 10);
	assert_int_equal(region_read(r, buf, 10, 0), 10);
	assert_memory_equal(buf, "0123456789", 10);
}

static void test_fault_write_short(void **state)
{
	struct fixture *fx = *state;
	struct region *r = new_region(fx, 0);
	size_t len = 2 * PAGE;
	unsigned char *big = malloc(len);

	assert_non_null(big);
	memset(big, 's', len);

	/* Short counts are continued until everything is written. */
	pwrite_short = 100;
	assert_int_equal(region_write(r, big, len, 0), (ssize_t)len);
	assert_int_equal(f_pwrite.calls, 2);
	assert_bytes(r, 0, len, 's');

	/* Failing after a partial write reports the bytes written, and the
	 * region keeps only the growth they needed. */
	pwrite_short = 100;
	fault_arm(&f_pwrite, EIO, 1);
	assert_int_equal(region_write(r, big, len, len + 50), 100);
	assert_int_equal(size_of(r), len + 150);
	assert_int_equal(used(fx), RFS_ALIGN_UP(len + 150, PAGE));
	assert_bytes(r, len, 50, 0);
	assert_bytes(r, len + 50, 100, 's');
	assert_accounting(fx);
	free(big);
}

static void test_fault_punch_refill(void **state)
{
	struct fixture *fx = *state;
	struct region *r = new_region(fx, 0);
	const int punch = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;

	fill(r, 0, 2 * PAGE, 'p');

	/* The punch itself fails: nothing changes. */
	fault_arm(&f_fallocate, EIO, 0);
	assert_int_equal(region_fallocate(r, punch, 0, PAGE), -EIO);
	assert_bytes(r, 0, 2 * PAGE, 'p');

	/* Allocating the punched range again fails: reported, zeros either way. */
	fault_arm(&f_fallocate, ENOSPC, 1);
	assert_int_equal(region_fallocate(r, punch, 0, PAGE), -ENOSPC);
	assert_bytes(r, 0, PAGE, 0);
	assert_bytes(r, PAGE, PAGE, 'p');
	assert_int_equal(size_of(r), 2 * PAGE);

	/* Asking again fills the hole. */
	assert_int_equal(region_fallocate(r, 0, 0, PAGE), 0);
	assert_int_equal(held(r), 2 * PAGE);
	assert_int_equal(used(fx), 2 * PAGE);
	assert_accounting(fx);
}

/* ------------------------------------------------------------------ */
/* Concurrency                                                         */
/* ------------------------------------------------------------------ */

struct worker {
	struct region *r;
	unsigned seed;
	int writes_failed_badly;
};

static void *writer(void *arg)
{
	struct worker *w = arg;
	char buf[300];

	memset(buf, 'c', sizeof(buf));
	for (int i = 0; i < 2000; i++) {
		uint64_t off = (uint64_t)(rand_r(&w->seed) % (12 * PAGE));
		ssize_t n = region_write(w->r, buf, sizeof(buf), off);

		if (n != (ssize_t)sizeof(buf) && n != -ENOSPC)
			w->writes_failed_badly++;
	}
	return NULL;
}

static void *resizer(void *arg)
{
	struct worker *w = arg;

	for (int i = 0; i < 2000; i++) {
		uint64_t size = (uint64_t)(rand_r(&w->seed) % (16 * PAGE));
		int ret = region_resize(w->r, size);

		if (ret != 0 && ret != -ENOSPC)
			w->writes_failed_badly++;
	}
	return NULL;
}

static struct {
	struct region *r;
	pthread_t thread;
	int ret;
} shrink_job;

static void *shrink_to_zero(void *arg)
{
	shrink_job.ret = region_resize(shrink_job.r, 0);
	return NULL;
}

static void start_shrink(void)
{
	assert_int_equal(pthread_create(&shrink_job.thread, NULL, shrink_to_zero, NULL), 0);
	/* Give the shrink every chance to run now, in the middle of the write. */
	usleep(50 * 1000);
}

/*
 * A write inside the size takes no exclusive lock, but a shrink must not
 * slip in between its size check and its pwrite(): the pwrite would then
 * recreate pages past the new end that nobody reserved (and leave a hole
 * inside the size).
 */
static void test_write_inside_vs_shrink(void **state)
{
	struct fixture *fx = *state;
	struct region *r = new_region(fx, 0);

	assert_int_equal(region_resize(r, 4 * PAGE), 0);
	shrink_job.r = r;
	pwrite_hook = start_shrink;
	assert_int_equal(region_write(r, "racing", 6, 3 * PAGE), 6);
	assert_int_equal(pthread_join(shrink_job.thread, NULL), 0);
	assert_int_equal(shrink_job.ret, 0);

	/* The shrink ran after the whole write. */
	assert_int_equal(size_of(r), 0);
	assert_int_equal(held(r), 0);
	assert_int_equal(used(fx), 0);
	assert_accounting(fx);
}

/*
 * Writes inside the size race with shrinks; growing writes race with each
 * other. However they interleave, no page may end up unaccounted.
 */
static void test_concurrent_write_resize(void **state)
{
	struct fixture *fx = *state;
	struct region *a = new_region(fx, 0);
	struct region *b = new_region(fx, 1);
	struct worker w[5];
	pthread_t t[5];

	/* b takes most of the store so that ENOSPC happens too. */
	assert_int_equal(region_resize(b, LIMIT - 14 * PAGE), 0);
	for (int i = 0; i < 5; i++) {
		w[i] = (struct worker){.r = a, .seed = 1234u + (unsigned)i};
		assert_int_equal(pthread_create(&t[i], NULL, i == 0 ? resizer : writer, &w[i]), 0);
	}
	for (int i = 0; i < 5; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(w[i].writes_failed_badly, 0);
	}
	assert_true(used(fx) <= LIMIT);
	assert_accounting(fx);
	/* Nothing lies past the end after a truncate. */
	assert_int_equal(region_resize(a, size_of(a)), 0);
	assert_int_equal(held(a), RFS_ALIGN_UP(size_of(a), PAGE));
	assert_accounting(fx);
}

/* ------------------------------------------------------------------ */
/* File-backed regions (region_bind_file)                              */
/* ------------------------------------------------------------------ */

/*
 * The users' files of one test live in a temp directory on the file system
 * of $TMPDIR (or /tmp), never in the store; bind_teardown removes it.
 */
#define BIND_PATH_MAX 4096

static char bind_dir[BIND_PATH_MAX];

static int bind_setup(void **state)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(bind_dir, sizeof(bind_dir), "%s/rfs-unit-region.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(bind_dir))
		return -1;
	return setup(state);
}

static int bind_teardown(void **state)
{
	static const char *const names[] = {"f0", "f1", "f2"};
	char path[BIND_PATH_MAX + 8];

	teardown(state); /* closes the bound files first */
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		snprintf(path, sizeof(path), "%s/%s", bind_dir, names[i]);
		unlink(path);
	}
	rmdir(bind_dir);
	return 0;
}

static const char *user_path(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", bind_dir, name);
	return buf;
}

/* A user's file of len bytes c; returns it opened read-write (as the daemon does). */
static int user_file(const char *path, size_t len, unsigned char c)
{
	unsigned char *buf = malloc(len ? len : 1);
	int fd;

	assert_non_null(buf);
	memset(buf, c, len);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(__real_pwrite(fd, buf, len, 0), (ssize_t)len);
	free(buf);
	return fd;
}

static uint64_t file_size(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return (uint64_t)st.st_size;
}

/* The file's own bytes, read through a new descriptor. */
static void assert_file_bytes(const char *path, uint64_t off, size_t len, unsigned char c)
{
	unsigned char *buf = malloc(len);
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	assert_non_null(buf);
	assert_true(fd >= 0);
	memset(buf, c ^ 0xff, len);
	assert_int_equal(pread(fd, buf, len, (off_t)off), (ssize_t)len);
	close(fd);
	for (size_t i = 0; i < len; i++) {
		if (buf[i] != c)
			fail_msg("file byte %llu is 0x%02x, expected 0x%02x",
				 (unsigned long long)(off + i), buf[i], c);
	}
	free(buf);
}

static bool fd_is_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

/* The region becomes a view of the file: its contents, size and inode. */
static void test_bind_file_shows_file(void **state)
{
	struct fixture *fx = *state;
	struct region *r = new_region(fx, 0);
	char path[BIND_PATH_MAX + 8];
	struct stat st, fst;
	int fd, out;

	user_path(path, sizeof(path), "f0");
	fd = user_file(path, 3 * PAGE + 5, 'u');
	assert_null(region_backing_path(r));
	assert_int_equal(region_bind_file(r, fd, path, 0, 0), 0);
	assert_int_equal(fd_of(r), fd);
	assert_non_null(region_backing_path(r));
	assert_string_equal(region_backing_path(r), path);
	assert_ptr_not_equal(region_backing_path(r), path); /* a copy */
	assert_int_equal(size_of(r), 3 * PAGE + 5);
	assert_bytes(r, 0, 3 * PAGE + 5, 'u');
	assert_int_equal(region_stat(r, &st), 0);
	assert_int_equal(stat(path, &fst), 0);
	assert_int_equal(st.st_ino, fst.st_ino);
	assert_int_equal(st.st_dev, fst.st_dev);
	assert_int_equal(used(fx), 0);

	/* Changes made to the file outside show at once. */
	out = open(path, O_RDWR | O_CLOEXEC);
	assert_true(out >= 0);
	assert_int_equal(__real_pwrite(out, "oooooooooo", 10, PAGE), 10);
	assert_bytes(r, PAGE, 10, 'o');
	assert_int_equal(__real_ftruncate(out, 5 * PAGE), 0);
	assert_int_equal(size_of(r), 5 * PAGE);
	assert_bytes(r, 3 * PAGE + 5, 2 * PAGE - 5, 0);
	close(out);
	assert_int_equal(used(fx), 0);
}

static void test_bind_file_enotempty(void **state)
{
	struct fixture *fx = *state;
	struct region *r = new_region(fx, 0);
	char path[BIND_PATH_MAX + 8];
	int fd, anon = fd_of(r);

	user_path(path, sizeof(path), "f0");
	fd = user_file(path, 2 * PAGE, 'f');
	assert_int_equal(region_resize(r, 1), 0);
	assert_int_equal(region_bind_file(r, fd, path, 0, 0), -ENOTEMPTY);
	/* Nothing changed, and the fd was not taken. */
	assert_true(fd_is_open(fd));
	assert_null(region_backing_path(r));
	assert_int_equal(fd_of(r), anon);
	assert_int_equal(size_of(r), 1);
	assert_int_equal(used(fx), PAGE);
	fill(r, 0, 1, 'a');
	assert_bytes(r, 0, 1, 'a');

	/* Emptied again, it can be bound; its store space comes back. */
	assert_int_equal(region_resize(r, 0), 0);
	assert_int_equal(region_bind_file(r, fd, path, 0, 0), 0);
	assert_int_equal(used(fx), 0);
	assert_int_equal(size_of(r), 2 * PAGE);
	assert_bytes(r, 0, 2 * PAGE, 'f');
}

static void test_bind_file_eexist(void **state)
{
	struct fixture *fx = *state;
	struct region *r = new_region(fx, 0);
	char p0[BIND_PATH_MAX + 8], p1[BIND_PATH_MAX + 8];
	int fd0, fd1;

	user_path(p0, sizeof(p0), "f0");
	user_path(p1, sizeof(p1), "f1");
	fd0 = user_file(p0, 0, 0);
	fd1 = user_file(p1, 0, 0);
	assert_int_equal(region_bind_file(r, fd0, p0, 0, 0), 0);
	assert_int_equal(region_bind_file(r, fd1, p1, 0, 0), -EEXIST);
	/* Still even when the region is empty, and with the same file. */
	assert_int_equal(region_bind_file(r, fd1, p0, 0, 0), -EEXIST);
	assert_true(fd_is_open(fd1));
	assert_int_equal(fd_of(r), fd0);
	assert_string_equal(region_backing_path(r), p0);
	close(fd1);
	fill(r, 0, 10, 'e');
	assert_int_equal(file_size(p0), 10);
	assert_int_equal(file_size(p1), 0);
}

/*
 * A bound region's space is the file system's: binding gives back what the
 * empty region had reserved, and no growth is charged to the store, even
 * far past its whole limit. Growth still allocates the file's blocks.
 */
/* A bound file's failed grow gives back the blocks a half-done fallocate() took. */
static void test_bind_file_partial_fallocate(void **state)
{
	struct fixture *fx = *state;
	struct region *r = new_region(fx, 0);
	char path[BIND_PATH_MAX + 8];
	uint64_t blocks;
	int fd;

	user_path(path, sizeof(path), "f0");
	fd = user_file(path, 0, 0);
	assert_int_equal(region_bind_file(r, fd, path, 0, 0), 0);
	fill(r, 0, 2 * PAGE, 'b');
	blocks = held(r);

	fallocate_partial = true;
	fault_arm(&f_fallocate, ENOSPC, 0);
	assert_int_equal(region_resize(r, 64 * PAGE), -ENOSPC);
	assert_int_equal(held(r), blocks);
	assert_int_equal(file_size(path), 2 * PAGE);
	assert_file_bytes(path, 0, 2 * PAGE, 'b');

	fallocate_partial = true;
	fault_arm(&f_fallocate, ENOSPC, 0);
	assert_int_equal(region_fallocate(r, 0, PAGE, 64 * PAGE), -ENOSPC);
	assert_int_equal(held(r), blocks);
	assert_int_equal(file_size(path), 2 * PAGE);
	assert_int_equal(used(fx), 0);
}

static void test_bind_file_no_store_charge(void **state)
{
	struct fixture *fx = *state;
	struct region *a = new_region(fx, 0);
	struct region *r = new_region(fx, 1);
	char path[BIND_PATH_MAX + 8];
	unsigned char c = 'x';
	int fd;

	user_path(path, sizeof(path), "f0");
	fd = user_file(path, 0, 0);
	assert_int_equal(region_resize(a, 2 * PAGE), 0);
	assert_int_equal(region_fallocate(r, FALLOC_FL_KEEP_SIZE, 0, 3 * PAGE), 0);
	assert_int_equal(size_of(r), 0);
	assert_int_equal(used(fx), 5 * PAGE);

	assert_int_equal(region_bind_file(r, fd, path, 0, 0), 0);
	assert_int_equal(used(fx), 2 * PAGE);

	assert_int_equal(region_resize(r, 4 * LIMIT), 0);
	assert_int_equal(file_size(path), 4 * LIMIT);
	assert_true(held(r) >= 4 * LIMIT); /* allocated: a mapping cannot fault on a full disk */
	assert_int_equal(used(fx), 2 * PAGE);
	assert_int_equal(region_write(r, &c, 1, 6 * LIMIT), 1);
	assert_int_equal(file_size(path), 6 * LIMIT + 1);
	assert_int_equal(region_fallocate(r, 0, 0, 7 * LIMIT), 0);
	assert_int_equal(region_fallocate(r, FALLOC_FL_KEEP_SIZE, 0, 8 * LIMIT), 0);
	assert_int_equal(file_size(path), 7 * LIMIT);
	assert_int_equal(used(fx), 2 * PAGE);
	assert_int_equal(region_resize(r, PAGE), 0);
	assert_int_equal(file_size(path), PAGE);
	assert_int_equal(used(fx), 2 * PAGE);

	/* The whole store is still there for anonymous regions. */
	assert_int_equal(region_resize(a, LIMIT), 0);
	assert_int_equal(used(fx), LIMIT);
	assert_int_equal(held(a), LIMIT);
	assert_int_equal(region_resize(r, 2 * LIMIT), 0);
	assert_int_equal(used(fx), LIMIT);
}

/* resize, write, read, fallocate, flush and times act on the file itself. */
static void test_bind_file_ops_act_on_file(void **state)
{
	struct fixture *fx = *state;
	struct region *r = new_region(fx, 0);
	struct region *anon = new_region(fx, 1);
	struct timespec t[2] = {{1000, 0}, {2000, 0}};
	char path[BIND_PATH_MAX + 8];
	unsigned fsyncs = f_fsync.calls, fdatasyncs = f_fdatasync.calls;
	struct stat st;
	int fd;

	user_path(path, sizeof(path), "f0");
	fd = user_file(path, 0, 0);
	assert_int_equal(region_bind_file(r, fd, path, 0, 0), 0);

	assert_int_equal(region_resize(r, 2 * PAGE + 3), 0);
	assert_int_equal(file_size(path), 2 * PAGE + 3);
	assert_file_bytes(path, 0, 2 * PAGE + 3, 0);
	fill(r, PAGE, 100, 'w');
	assert_file_bytes(path, PAGE, 100, 'w');
	fill(r, 3 * PAGE, 50, 'g'); /* growing write */
	assert_int_equal(file_size(path), 3 * PAGE + 50);
	assert_file_bytes(path, 2 * PAGE + 3, PAGE - 3, 0);
	assert_file_bytes(path, 3 * PAGE, 50, 'g');

	assert_int_equal(region_flush(r, false), 0);
	assert_int_equal(region_flush(r, true), 0);
	assert_int_equal(f_fsync.calls - fsyncs, 1);
	assert_int_equal(f_fdatasync.calls - fdatasyncs, 1);
	fault_arm(&f_fsync, EIO, 0);
	assert_int_equal(region_flush(r, false), -EIO);

	assert_int_equal(region_set_times(r, t), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mtim.tv_sec, 2000);
	assert_int_equal(st.st_atim.tv_sec, 1000);

	assert_int_equal(region_fallocate(r, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, PAGE, 40),
			 0);
	assert_file_bytes(path, PAGE, 40, 0);
	assert_file_bytes(path, PAGE + 40, 60, 'w');

	/* A file system without fallocate: the file simply grows sparse. An
	 * anonymous region refuses instead (it must reserve its memory). */
	fault_arm(&f_fallocate, EOPNOTSUPP, 0);
	assert_int_equal(region_resize(r, 5 * PAGE), 0);
	assert_int_equal(file_size(path), 5 * PAGE);
	fault_arm(&f_fallocate, EOPNOTSUPP, 0);
	assert_int_equal(region_resize(anon, PAGE), -EOPNOTSUPP);
	assert_int_equal(size_of(anon), 0);
	/* A full disk: ENOSPC, and the file keeps its size. */
	fault_arm(&f_fallocate, ENOSPC, 0);
	assert_int_equal(region_resize(r, 9 * PAGE), -ENOSPC);
	assert_int_equal(file_size(path), 5 * PAGE);

	assert_int_equal(region_resize(r, 10), 0);
	assert_int_equal(file_size(path), 10);
	assert_int_equal(region_resize(r, 0), 0);
	assert_int_equal(file_size(path), 0);
	/* Empty again, but still bound. */
	assert_string_equal(region_backing_path(r), path);
	assert_int_equal(used(fx), 0);
}

/* Freeing the region closes its fd; the file stays with its data. */
static void test_bind_file_free_keeps_file(void **state)
{
	struct fixture *fx = *state;
	struct region *r = new_region(fx, 0);
	char path[BIND_PATH_MAX + 8];
	int fd;

	user_path(path, sizeof(path), "f0");
	fd = user_file(path, 2 * PAGE, 'k');
	assert_int_equal(region_bind_file(r, fd, path, 0, 0), 0);
	fill(r, 0, 10, 'z');
	region_free(r);
	fx->r[0] = NULL;
	assert_false(fd_is_open(fd));
	assert_int_equal(file_size(path), 2 * PAGE);
	assert_file_bytes(path, 0, 10, 'z');
	assert_file_bytes(path, 10, 2 * PAGE - 10, 'k');
	assert_int_equal(used(fx), 0);
}

/* ------------------------------------------------------------------ */
/* The fd cache of a tmpfs store                                       */
/* ------------------------------------------------------------------ */

#define MANY 48 /* regions of one page each: fits LIMIT */

/* fds this process has open now. */
static unsigned open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	unsigned n = 0;

	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n - 3; /* ".", ".." and the directory's own fd */
}

/* Region i of MANY holds i + 1 bytes of ('a' + i % 26). */
static void many_new(struct fixture *fx, struct region **rs)
{
	for (unsigned i = 0; i < MANY; i++) {
		assert_int_equal(region_new(fx->store, &rs[i]), 0);
		fill(rs[i], 0, i + 1, (unsigned char)('a' + i % 26));
	}
}

static void many_check(struct region **rs)
{
	/* In an order unlike creation's, so the cache reopens all the time. */
	for (unsigned k = 0; k < MANY; k++) {
		unsigned i = (k * 29) % MANY;

		assert_int_equal(size_of(rs[i]), i + 1);
		assert_bytes(rs[i], 0, i + 1, (unsigned char)('a' + i % 26));
	}
}

static void many_free(struct region **rs)
{
	for (unsigned i = 0; i < MANY; i++)
		region_free(rs[i]);
}

/*
 * Far more regions than the budget: their data and sizes survive their fds
 * being closed and reopened, the store never holds more fds than the budget
 * (memfds, which cannot be reopened, keep one each), and freeing a region
 * gives its pages back (a tmpfs store unlinks its file).
 */
static void test_fd_cache_many_regions(void **state)
{
	struct fixture *fx = *state;
	struct region *rs[MANY];
	unsigned base = open_fds();

	store_set_fd_budget(fx->store, 3);
	many_new(fx, rs);
	if (group_kind == STORE_TMPFS)
		assert_true(open_fds() <= base + 3);
	else
		assert_int_equal(open_fds(), base + MANY);
	assert_int_equal(used(fx), MANY * PAGE);
	many_check(rs);

	/* Growing and shrinking evicted regions: through reopened fds. */
	for (unsigned i = 0; i < MANY; i += 2)
		assert_int_equal(region_resize(rs[i], PAGE), 0);
	for (unsigned i = 0; i < MANY; i += 2) {
		assert_int_equal(size_of(rs[i]), PAGE);
		assert_bytes(rs[i], 0, i + 1, (unsigned char)('a' + i % 26));
		assert_bytes(rs[i], i + 1, PAGE - i - 1, 0);
		assert_int_equal(region_resize(rs[i], i + 1), 0);
	}
	many_check(rs);
	assert_int_equal(used(fx), MANY * PAGE);
	if (group_kind == STORE_TMPFS)
		assert_true(open_fds() <= base + 3);

	/* A larger budget lets every fd stay; back to a small one closes them now. */
	store_set_fd_budget(fx->store, MANY);
	many_check(rs);
	assert_int_equal(open_fds(), base + MANY);
	store_set_fd_budget(fx->store, 1);
	if (group_kind == STORE_TMPFS)
		assert_int_equal(open_fds(), base + 1);

	many_free(rs);
	assert_int_equal(used(fx), 0);
	assert_int_equal(open_fds(), base);
	store_set_fd_budget(fx->store, 0);
}

/*
 * A pinned fd is never closed, whatever else needs fds; when every fd the
 * budget allows is pinned, a tmpfs store has none for another region.
 */
static void test_fd_cache_pinned(void **state)
{
	struct fixture *fx = *state;
	struct region *a = new_region(fx, 0);
	struct region *b = new_region(fx, 1);
	struct region *rs[MANY], *r = (struct region *)state;
	struct stat st, fst;
	unsigned char c;
	int fa, fb;

	store_set_fd_budget(fx->store, 2);
	fill(a, 0, 10, 'p');
	fa = region_fd_get(a);
	assert_true(fa >= 0);
	many_new(fx, rs);
	many_check(rs);
	assert_true(fcntl(fa, F_GETFD) >= 0);
	assert_int_equal(fstat(fa, &fst), 0);
	assert_int_equal(region_stat(a, &st), 0);
	assert_int_equal(fst.st_ino, st.st_ino);
	/* Pinned twice: the same fd, open until the last put. */
	assert_int_equal(region_fd_get(a), fa);
	region_fd_put(a);
	assert_int_equal(__real_pwrite(fa, "PP", 2, 4), 2);
	assert_bytes(a, 0, 4, 'p');
	assert_bytes(a, 4, 2, 'P');

	fb = region_fd_get(b);
	assert_true(fb >= 0);
	if (group_kind == STORE_TMPFS) {
		/* Both fds of the budget pinned: no fd for anything else. */
		assert_int_equal(region_new(fx->store, &r), -EMFILE);
		assert_ptr_equal(r, (struct region *)state);
		assert_int_equal(region_read(rs[0], &c, 1, 0), -EMFILE);
		assert_int_equal(region_fd_get(rs[1]), -EMFILE);
		/* stat asks by name: no fd needed. */
		assert_int_equal(size_of(rs[MANY - 1]), MANY);
		/* Pinned regions still work. */
		fill(b, 0, 3, 'b');
		assert_bytes(a, 0, 4, 'p');
	}
	region_fd_put(b);
	assert_int_equal(region_read(rs[0], &c, 1, 0), 1);
	assert_int_equal(c, 'a');
	region_fd_put(a);
	many_check(rs);
	assert_bytes(a, 4, 2, 'P');
	many_free(rs);
	store_set_fd_budget(fx->store, 0);
}

#define CACHE_THREADS 4

struct cache_worker {
	struct region **rs; /* MANY / CACHE_THREADS regions of its own */
	unsigned id;
	int err;
};

/*
 * Write and read back the worker's own regions in turn, while the others do
 * the same: an fd closed while in use, or reused for another region's file,
 * would show as a wrong byte or an error.
 */
static void *cache_worker(void *arg)
{
	struct cache_worker *w = arg;
	unsigned n = MANY / CACHE_THREADS;
	uint32_t seen[MANY / CACHE_THREADS] = {0};

	for (uint32_t iter = 1; iter <= 400 && !w->err; iter++) {
		unsigned i = (iter * 7 + w->id) % n;
		uint32_t v = w->id << 24 | iter, got = 0;

		if (region_write(w->rs[i], &v, sizeof(v), 64) != sizeof(v))
			w->err = 1;
		seen[i] = v;
		i = (iter * 5) % n;
		if (seen[i] &&
		    (region_read(w->rs[i], &got, sizeof(got), 64) != sizeof(got) || got != seen[i]))
			w->err = 2;
	}
	return NULL;
}

/* Threads sharing a budget as small as their number: pins never run out. */
static void test_fd_cache_threads(void **state)
{
	struct fixture *fx = *state;
	struct cache_worker w[CACHE_THREADS];
	pthread_t t[CACHE_THREADS];
	struct region *rs[MANY];

	store_set_fd_budget(fx->store, CACHE_THREADS);
	many_new(fx, rs);
	for (unsigned i = 0; i < CACHE_THREADS; i++) {
		w[i] = (struct cache_worker){.rs = rs + i * (MANY / CACHE_THREADS), .id = i};
		assert_int_equal(pthread_create(&t[i], NULL, cache_worker, &w[i]), 0);
	}
	for (unsigned i = 0; i < CACHE_THREADS; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(w[i].err, 0);
	}
	/* The bytes nobody wrote over are still each region's own. */
	for (unsigned i = 0; i < MANY; i++)
		assert_bytes(rs[i], 0, RFS_MIN(i + 1, 64), (unsigned char)('a' + i % 26));
	many_free(rs);
	assert_int_equal(used(fx), 0);
	store_set_fd_budget(fx->store, 0);
}

/* Binding a region whose fd the cache has closed; and never while pinned. */
static void test_fd_cache_bind(void **state)
{
	struct fixture *fx = *state;
	struct region *r = new_region(fx, 0);
	struct region *other = new_region(fx, 1);
	char path[BIND_PATH_MAX + 8];
	int fd;

	store_set_fd_budget(fx->store, 1);
	user_path(path, sizeof(path), "f0");
	fd = user_file(path, PAGE, 'u');
	assert_int_equal(region_fallocate(r, FALLOC_FL_KEEP_SIZE, 0, 3 * PAGE), 0);
	fill(other, 0, 1, 'o'); /* takes the one fd: r's is closed */
	assert_int_equal(used(fx), 4 * PAGE);

	assert_int_equal(region_fd_get(r), fd_of(r));
	assert_int_equal(region_bind_file(r, fd, path, 0, 0), -EBUSY);
	assert_null(region_backing_path(r));
	region_fd_put(r);
	fill(other, 0, 1, 'o');

	assert_int_equal(region_bind_file(r, fd, path, 0, 0), 0);
	assert_int_equal(used(fx), PAGE); /* the anonymous file is gone */
	assert_int_equal(fd_of(r), fd);
	/*
	 * A bound file's fd is fixed: the budget does not close it, it counts
	 * in it. With the budget all taken, the cache has no fd to give.
	 */
	if (store_kind(fx->store) == STORE_TMPFS)
		assert_int_equal(region_write(other, "o", 1, 0), -EMFILE);
	store_set_fd_budget(fx->store, 2);
	fill(other, 0, 2, 'o');
	assert_true(fd_is_open(fd));
	assert_bytes(r, 0, PAGE, 'u');
	assert_bytes(other, 0, 2, 'o');
	store_set_fd_budget(fx->store, 0);
}

/*
 * Bound files may take the budget only down to the cache's floor (an
 * eighth): past it a bind is ENOSPC, and the regions left anonymous can
 * still be read and written.
 */
static void test_fd_cache_bind_floor(void **state)
{
	static const char *const names[4] = { "floor0", "floor1", "floor2", "floor3" };
	struct fixture *fx = *state;
	char path[BIND_PATH_MAX + 8];
	int fds[4], i;

	if (store_kind(fx->store) != STORE_TMPFS)
		return; /* memfds are fixed fds from the start: no cache, no floor */
	for (i = 0; i < 4; i++) {
		new_region(fx, (size_t)i);
		fds[i] = user_file(user_path(path, sizeof(path), names[i]), PAGE,
				   (unsigned char)('a' + i));
	}
	store_set_fd_budget(fx->store, 5); /* floor 0: 3 bound files leave 2 fds */
	for (i = 0; i < 3; i++)
		assert_int_equal(region_bind_file(fx->r[i], fds[i],
						  user_path(path, sizeof(path), names[i]), 0, 0),
				 0);
	fill(fx->r[3], 0, 1, 'z'); /* the anonymous region still works */
	assert_bytes(fx->r[3], 0, 1, 'z');
	assert_int_equal(region_resize(fx->r[3], 0), 0); /* empty again, to be bound */
	store_set_fd_budget(fx->store, 3); /* 3 bound, floor 0: no room for a 4th */
	user_path(path, sizeof(path), names[3]);
	assert_int_equal(region_bind_file(fx->r[3], fds[3], path, 0, 0), -ENOSPC);
	assert_null(region_backing_path(fx->r[3]));
	store_set_fd_budget(fx->store, 32); /* floor 4: 3 + 1 + 4 <= 32 */
	assert_int_equal(region_bind_file(fx->r[3], fds[3], path, 0, 0), 0);
	for (i = 0; i < 4; i++)
		assert_bytes(fx->r[i], 0, 1, (unsigned char)('a' + i));
	store_set_fd_budget(fx->store, 0);
}

/* ------------------------------------------------------------------ */

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
/* ------------------------------------------------------------------ */
/* Seals (region/seal.h)                                               */
/* ------------------------------------------------------------------ */

static int parse(const char *v, unsigned *ret)
{
	return region_seal_parse(v, strlen(v), ret);
}

static void test_seal_parse(void **state)
{
	unsigned s = 99;

	(void)state;
	assert_int_equal(parse("", &s), 0);
	assert_int_equal(s, 0);
	s = 99;
	assert_int_equal(parse(" \t\n", &s), 0);
	assert_int_equal(s, 0);
	assert_int_equal(parse("seal", &s), 0);
	assert_int_equal(s, REGION_SEAL_SEAL);
	assert_int_equal(parse("shrink,grow", &s), 0);
	assert_int_equal(s, REGION_SEAL_SHRINK | REGION_SEAL_GROW);
	assert_int_equal(parse(" grow , shrink\n", &s), 0);
	assert_int_equal(s, REGION_SEAL_SHRINK | REGION_SEAL_GROW);
	assert_int_equal(parse("future-write,write,grow,grow", &s), 0);
	assert_int_equal(s, REGION_SEAL_FUTURE_WRITE | REGION_SEAL_WRITE | REGION_SEAL_GROW);
	assert_int_equal(parse("seal,shrink,grow,write,future-write", &s), 0);
	assert_int_equal(s, REGION_SEAL_ALL);

	/* Refused: nothing written. */
	s = 77;
	assert_int_equal(parse("bogus", &s), -EINVAL);
	assert_int_equal(parse("grow,,shrink", &s), -EINVAL);
	assert_int_equal(parse("grow,", &s), -EINVAL);
	assert_int_equal(parse(",grow", &s), -EINVAL);
	assert_int_equal(parse(",", &s), -EINVAL);
	assert_int_equal(parse("Grow", &s), -EINVAL);
	assert_int_equal(parse("grow shrink", &s), -EINVAL);
	assert_int_equal(parse("future", &s), -EINVAL);
	assert_int_equal(parse("future-writes", &s), -EINVAL);
	assert_int_equal(parse("gro", &s), -EINVAL);
	assert_int_equal(parse("grow\r", &s), -EINVAL);
	assert_int_equal(region_seal_parse("grow\0", 5, &s), -EINVAL);
	assert_int_equal(region_seal_parse("\0", 1, &s), -EINVAL);
	assert_int_equal(s, 77);
	/* Only size bytes are read: no NUL needed. */
	assert_int_equal(region_seal_parse("growXXX", 4, &s), 0);
	assert_int_equal(s, REGION_SEAL_GROW);
}

static void test_seal_format(void **state)
{
	char buf[64];
	unsigned all = REGION_SEAL_ALL, s;
	ssize_t n;

	(void)state;
	assert_int_equal(region_seal_format(0, NULL, 0), 0);
	n = region_seal_format(all, NULL, 0);
	assert_int_equal(n, REGION_SEAL_FORMAT_MAX);
	assert_int_equal(region_seal_format(all, buf, sizeof(buf)), n);
	assert_memory_equal(buf, "seal,shrink,grow,write,future-write", (size_t)n);
	memset(buf, 'Z', sizeof(buf));
	assert_int_equal(region_seal_format(all, buf, (size_t)n - 1), -ERANGE);
	assert_int_equal(buf[0], 'Z');
	assert_int_equal(region_seal_format(REGION_SEAL_GROW | REGION_SEAL_SHRINK | (1u << 20), buf,
					    sizeof(buf)),
			 11);
	assert_memory_equal(buf, "shrink,grow", 11);
	/* Every set comes back through the parser as itself. */
	for (s = 0; s <= all; s++) {
		unsigned back = ~0u;

		n = region_seal_format(s, buf, sizeof(buf));
		assert_true(n >= 0 && (size_t)n <= REGION_SEAL_FORMAT_MAX);
		assert_int_equal(region_seal_parse(buf, (size_t)n, &back), 0);
		assert_int_equal(back, s);
	}
}

static void test_seal_enforced(void **state)
{
	struct fixture *fx = *state;
	struct region *r = new_region(fx, 0);

	assert_int_equal(region_seals(r), 0);
	assert_int_equal(region_resize(r, 2 * PAGE), 0);
	fill(r, 0, 2 * PAGE, 0x11);

	region_add_seals(r, REGION_SEAL_GROW);
	assert_int_equal(region_seals(r), REGION_SEAL_GROW);
	assert_int_equal(region_resize(r, 2 * PAGE + 1), -EPERM);
	assert_int_equal(region_resize(r, 2 * PAGE), 0); /* the same size: no change */
	assert_int_equal(region_fallocate(r, 0, PAGE, 2 * PAGE), -EPERM);
	assert_int_equal(region_fallocate(r, FALLOC_FL_KEEP_SIZE, PAGE, 2 * PAGE), -EPERM);
	assert_int_equal(region_fallocate(r, FALLOC_FL_KEEP_SIZE, 0, PAGE), 0);
	assert_int_equal(region_write(r, "x", 1, 2 * PAGE), -EPERM);
	assert_int_equal(region_write(r, "x", 1, 3 * PAGE), -EPERM);
	assert_int_equal(region_write(r, "abcd", 4, 2 * PAGE - 2), 2); /* up to the end */
	assert_int_equal(region_write(r, "y", 1, 0), 1);
	assert_int_equal(size_of(r), 2 * PAGE);
	assert_int_equal(region_resize(r, PAGE), 0); /* shrinking is still allowed */
	assert_int_equal(used(fx), PAGE);

	region_add_seals(r, REGION_SEAL_SHRINK);
	assert_int_equal(region_seals(r), REGION_SEAL_GROW | REGION_SEAL_SHRINK);
	assert_int_equal(region_resize(r, PAGE - 1), -EPERM);
	assert_int_equal(region_resize(r, 0), -EPERM);
	assert_int_equal(region_fallocate(r, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 100), 0);
	assert_int_equal(size_of(r), PAGE);

	region_add_seals(r, REGION_SEAL_FUTURE_WRITE);
	/* Existing writers keep writing; punching is refused, as memfd does. */
	assert_int_equal(region_write(r, "z", 1, 10), 1);
	assert_int_equal(region_fallocate(r, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 100),
			 -EPERM);

	region_add_seals(r, REGION_SEAL_WRITE);
	assert_int_equal(region_write(r, "z", 1, 10), -EPERM);
	assert_bytes(r, 100, PAGE - 100, 0x11);
	assert_int_equal(size_of(r), PAGE);
	assert_accounting(fx);
}

static void test_seal_write_only(void **state)
{
	struct fixture *fx = *state;
	struct region *r = new_region(fx, 0);

	/* "write" alone forbids writes, not size changes (memfd's F_SEAL_WRITE). */
	region_add_seals(r, REGION_SEAL_WRITE | (1u << 30));
	assert_int_equal(region_seals(r), REGION_SEAL_WRITE);
	assert_int_equal(region_write(r, "x", 1, 0), -EPERM);
	assert_int_equal(region_resize(r, PAGE), 0);
	assert_int_equal(region_fallocate(r, 0, 0, 2 * PAGE), 0);
	assert_int_equal(region_write(r, "x", 1, 0), -EPERM);
	assert_int_equal(region_fallocate(r, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 1),
			 -EPERM);
	assert_int_equal(region_resize(r, 0), 0);
	assert_accounting(fx);
}

#define TB(f) cmocka_unit_test_setup_teardown(f, bind_setup, bind_teardown)

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_store_open_zero_limit),
    cmocka_unit_test(test_store_open_huge_needs_tmpfs),
    T(test_store_kind_and_limit),
    T(test_region_new_empty),
    T(test_store_used_tracking),
    T(test_store_charge_meta),
    T(test_resize_grow_shrink),
    T(test_read_write),
    T(test_write_across_pages),
    T(test_fd_is_shared_memory),
    T(test_quota_resize),
    T(test_quota_write),
    T(test_efbig),
    T(test_fallocate_modes),
    T(test_fallocate_invalid),
    T(test_punch_hole_keeps_reservation),
    T(test_flush),
    T(test_set_times),
    T(test_fault_memfd_create),
    T(test_fault_resize_ftruncate),
    T(test_fault_resize_fallocate),
    T(test_fault_partial_fallocate),
    T(test_adopt_sparse),
    T(test_adopt_allocates_as_nobody),
    T(test_fault_write_growth),
    T(test_fault_write_inside),
    T(test_fault_write_short),
    T(test_fault_punch_refill),
    T(test_write_inside_vs_shrink),
    T(test_concurrent_write_resize),
    TB(test_bind_file_shows_file),
    TB(test_bind_file_enotempty),
    TB(test_bind_file_eexist),
    TB(test_bind_file_partial_fallocate),
    TB(test_bind_file_no_store_charge),
    TB(test_bind_file_ops_act_on_file),
    TB(test_bind_file_free_keeps_file),
    cmocka_unit_test(test_seal_parse),
    cmocka_unit_test(test_seal_format),
    T(test_seal_enforced),
    T(test_seal_write_only),
    T(test_fd_cache_many_regions),
    T(test_fd_cache_pinned),
    T(test_fd_cache_threads),
    TB(test_fd_cache_bind),
    TB(test_fd_cache_bind_floor),
};

static const struct CMUnitTest fallback_tests[] = {
    T(test_fault_fsopen_falls_back),
};

int main(void)
{
	int failed = 0;

	failed += cmocka_run_group_tests_name("region/memfd", tests, group_memfd, NULL);
	failed += cmocka_run_group_tests_name("region/fallback", fallback_tests, group_memfd, NULL);
	/*
	 * The tmpfs store needs CAP_SYS_ADMIN. Unit tests must also run
	 * without root, but as root (CI) the tmpfs group always runs, and the
	 * fixture fails if store_open() quietly fell back to memfds.
	 */
	if (geteuid() == 0)
		failed += cmocka_run_group_tests_name("region/tmpfs", tests, group_tmpfs, NULL);
	else
		printf("[  SKIPPED ] region/tmpfs: not root, no private tmpfs\n");
	return failed ? 1 : 0;
}
