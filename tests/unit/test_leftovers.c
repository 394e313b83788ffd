/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for registry/persist.c: opening a store directory that holds
 * hostile leftovers (findings of tests/fuzz/fuzz_store, whose reproducers
 * are in tests/fuzz/corpus/store/regress-*).
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "region/region.h"
#include "registry/registry.h"

struct fixture {
	char dir[128];        /* scratch: DIR/store and files beside it */
	char store[192];      /* the store directory */
	struct region_store *rs;
	struct registry *reg;
	char err[PATH_MAX + 256];
};

static int setup(void **state)
{
	struct registry_config cfg = { .root_mode = 0755 };
	struct fixture *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/rfs-test-persist.XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->store, sizeof(fx->store), "%s/store", fx->dir);
	assert_int_equal(mkdir(fx->store, 0700), 0);
	assert_int_equal(store_open(1 << 20, STORE_FORCE_MEMFD, &fx->rs), 0);
	assert_int_equal(registry_new(fx->rs, &cfg, &fx->reg), 0);
	*state = fx;
	return 0;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	remove(path);
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	registry_free(fx->reg);
	store_close(fx->rs);
	nftw(fx->dir, remove_one, 8, FTW_DEPTH | FTW_PHYS);
	free(fx);
	return 0;
}

static void path_in(const struct fixture *fx, const char *name, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s", fx->dir, name);
}

static void read_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, buf, size - 1);
	assert_true(n >= 0);
	buf[n] = '\0';
	close(fd);
}

/*
 * An empty store holding a symlink named format.new (what an interrupted
 * initialization leaves is a regular file of that name): not a leftover of
 * ours, so the directory is refused as not a store; never written through,
 * as root, into the file it names.
 */
static void test_init_never_writes_through_format_new_symlink(void **state)
{
	struct fixture *fx = *state;
	char victim[PATH_MAX], link[PATH_MAX + 16], format[PATH_MAX + 16], buf[64];
	struct stat st;
	int fd;

	path_in(fx, "victim", victim, sizeof(victim));
	fd = open(victim, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "secret\n", 7), 7);
	close(fd);
	snprintf(link, sizeof(link), "%s/format.new", fx->store);
	assert_int_equal(symlink(victim, link), 0);

	assert_int_equal(registry_load(fx->reg, fx->store, fx->err, sizeof(fx->err)), -EINVAL);
	assert_non_null(strstr(fx->err, "not a regionfs store"));
	read_file(victim, buf, sizeof(buf));
	assert_string_equal(buf, "secret\n");
	snprintf(format, sizeof(format), "%s/format", fx->store);
	assert_int_equal(lstat(format, &st), -1);
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
}

/* A fifo named format: refused at once, not waited on for a writer. */
static void test_format_fifo_is_refused_without_blocking(void **state)
{
	struct fixture *fx = *state;
	char format[PATH_MAX + 16];

	snprintf(format, sizeof(format), "%s/format", fx->store);
	assert_int_equal(mkfifo(format, 0600), 0);
	alarm(20); /* a hang fails the test (SIGALRM) instead of stalling the suite */
	assert_int_equal(registry_load(fx->reg, fx->store, fx->err, sizeof(fx->err)), -EINVAL);
	alarm(0);
	assert_non_null(strstr(fx->err, "/format: not a regionfs store"));
}

/* The reason names a user's file: a newline in the name stays inside one line. */
static void test_load_error_is_one_line(void **state)
{
	struct fixture *fx = *state;
	char path[PATH_MAX + 64];
	size_t i;
	int fd;

	snprintf(path, sizeof(path), "%s/format", fx->store);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "regionfs-store 1\n", 17), 17);
	close(fd);
	snprintf(path, sizeof(path), "%s/tmp", fx->store);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/root", fx->store);
	assert_int_equal(mkdir(path, 0700), 0); /* private, as the daemon keeps it */
	/* Not a directory or a regular file: a corrupt store, named in the reason. */
	snprintf(path, sizeof(path), "%s/root/x\nregionfs: forged\x1b[0m", fx->store);
	assert_int_equal(mkfifo(path, 0600), 0);

	assert_int_equal(registry_load(fx->reg, fx->store, fx->err, sizeof(fx->err)), -EINVAL);
	assert_non_null(strstr(fx->err, "/root/x?regionfs: forged?[0m"));
	for (i = 0; fx->err[i]; i++)
		assert_true((unsigned char)fx->err[i] >= 0x20 && fx->err[i] != 0x7f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_init_never_writes_through_format_new_symlink,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_format_fifo_is_refused_without_blocking, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_load_error_is_one_line, setup, teardown),
	};

	return cmocka_run_group_tests_name("store-leftovers", tests, NULL, NULL);
}
