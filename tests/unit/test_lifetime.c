/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for registry/lifetime.h: the rules, without FUSE or /proc.
 * Every registry runs on a memfd store (no privileges).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "registry/lifetime.h"
#include "registry/registry.h"

#define ROOT REGISTRY_ROOT_INO
#define MiB (1024u * 1024u)

static struct region_store *store;
static struct registry *reg;

static int setup(void **state)
{
	struct registry_config cfg = { .root_mode = 01777 };

	(void)state;
	assert_int_equal(store_open(16 * MiB, STORE_FORCE_MEMFD, &store), 0);
	assert_int_equal(registry_new(store, &cfg, &reg), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	registry_free(reg);
	store_close(store);
	reg = NULL;
	store = NULL;
	return 0;
}

static uint64_t mk_by(uint64_t parent, const char *name, const struct registry_creator *c)
{
	struct registry_cred cred = { .uid = 1000, .gid = 1000, .creator = c };
	struct stat st;

	assert_int_equal(registry_create(reg, parent, name, 0644, &cred, &st), 0);
	registry_forget(reg, st.st_ino, 1);
	return st.st_ino;
}

static uint64_t mkd(uint64_t parent, const char *name)
{
	struct registry_cred cred = { .uid = 1000, .gid = 1000 };
	struct stat st;

	assert_int_equal(registry_mkdir(reg, parent, name, 0755, &cred, &st), 0);
	registry_forget(reg, st.st_ino, 1);
	return st.st_ino;
}

static bool exists(uint64_t parent, const char *name)
{
	struct stat st;
	int r = registry_lookup(reg, parent, name, &st, NULL);

	if (r == 0)
		registry_forget(reg, st.st_ino, 1);
	return r == 0;
}

static enum registry_lifetime lifetime_of(uint64_t ino)
{
	enum registry_lifetime lt;

	assert_int_equal(registry_lifetime(reg, ino, &lt), 0);
	return lt;
}

struct removed {
	unsigned n;
	char names[8][32];
};

static void on_removed(void *ctx, uint64_t parent, const char *name)
{
	struct removed *r = ctx;

	if (r->n < 8)
		snprintf(r->names[r->n], sizeof(r->names[0]), "%llu/%s", (unsigned long long)parent,
			 name);
	r->n++;
}

static void test_parse_and_names(void **state)
{
	enum registry_lifetime lt = REGISTRY_LIFETIME_PERSIST;

	(void)state;
	assert_int_equal(registry_lifetime_parse("creator", 7, &lt), 0);
	assert_int_equal(lt, REGISTRY_LIFETIME_CREATOR);
	assert_int_equal(registry_lifetime_parse("last-close\n", 11, &lt), 0);
	assert_int_equal(lt, REGISTRY_LIFETIME_LAST_CLOSE);
	assert_int_equal(registry_lifetime_parse("persist", 7, &lt), 0);
	assert_int_equal(lt, REGISTRY_LIFETIME_PERSIST);
	assert_int_equal(registry_lifetime_parse("persistX", 7, &lt), 0); /* size counts */
	assert_int_equal(registry_lifetime_parse("", 0, &lt), -EINVAL);
	assert_int_equal(registry_lifetime_parse("\n", 1, &lt), -EINVAL);
	assert_int_equal(registry_lifetime_parse("persist\n\n", 9, &lt), -EINVAL);
	assert_int_equal(registry_lifetime_parse("creator\0", 8, &lt), -EINVAL);
	assert_int_equal(registry_lifetime_parse("Creator", 7, &lt), -EINVAL);
	assert_string_equal(registry_lifetime_name(REGISTRY_LIFETIME_LAST_CLOSE), "last-close");
	assert_true(strlen(registry_lifetime_name(REGISTRY_LIFETIME_LAST_CLOSE)) <=
		    REGISTRY_LIFETIME_MAX);
}

/* Inherited at creation from the directory, copied (not live); the root's from the option. */
static void test_inheritance(void **state)
{
	struct registry_creator c = { .pid = 10, .start = 5 };
	uint64_t d, sub, a, b;

	(void)state;
	assert_int_equal(lifetime_of(ROOT), REGISTRY_LIFETIME_PERSIST);
	registry_set_root_lifetime(reg, REGISTRY_LIFETIME_CREATOR);
	d = mkd(ROOT, "d");
	assert_int_equal(lifetime_of(d), REGISTRY_LIFETIME_CREATOR);
	assert_int_equal(registry_set_lifetime(reg, d, REGISTRY_LIFETIME_LAST_CLOSE, NULL), 0);
	sub = mkd(d, "sub");
	a = mk_by(d, "a", &c);
	assert_int_equal(lifetime_of(sub), REGISTRY_LIFETIME_LAST_CLOSE);
	assert_int_equal(lifetime_of(a), REGISTRY_LIFETIME_LAST_CLOSE);
	assert_int_equal(registry_set_lifetime(reg, d, REGISTRY_LIFETIME_PERSIST, NULL), 0);
	assert_int_equal(lifetime_of(sub), REGISTRY_LIFETIME_LAST_CLOSE);
	assert_int_equal(lifetime_of(a), REGISTRY_LIFETIME_LAST_CLOSE);
	b = mk_by(d, "b", &c);
	assert_int_equal(lifetime_of(b), REGISTRY_LIFETIME_PERSIST);
	assert_int_equal(registry_lifetime(reg, 999999, &(enum registry_lifetime){ 0 }), -ENOENT);
	assert_int_equal(registry_set_lifetime(reg, 999999, REGISTRY_LIFETIME_CREATOR, NULL),
			 -ENOENT);
}

/* creator needs a record; the record comes back for the caller to watch. */
static void test_set_creator_needs_record(void **state)
{
	struct registry_creator c = { .pid = 77, .uid = 5, .start = 123 }, got = { 0 };
	uint64_t a, none;

	(void)state;
	a = mk_by(ROOT, "a", &c);
	none = mk_by(ROOT, "none", NULL);
	assert_int_equal(registry_set_lifetime(reg, none, REGISTRY_LIFETIME_CREATOR, &got), -EINVAL);
	c.start = 0; /* a process the daemon could not see in /proc */
	assert_int_equal(registry_set_lifetime(reg, mk_by(ROOT, "unseen", &c),
					       REGISTRY_LIFETIME_CREATOR, &got), -EINVAL);
	c.start = 123;
	assert_int_equal(lifetime_of(none), REGISTRY_LIFETIME_PERSIST);
	assert_int_equal(registry_set_lifetime(reg, none, REGISTRY_LIFETIME_LAST_CLOSE, NULL), 0);
	assert_int_equal(registry_set_lifetime(reg, a, REGISTRY_LIFETIME_CREATOR, &got), 0);
	assert_int_equal(got.pid, 77);
	assert_int_equal(got.start, 123);
	/* a directory may carry creator as a default: no record needed */
	assert_int_equal(registry_set_lifetime(reg, mkd(ROOT, "d"), REGISTRY_LIFETIME_CREATOR, NULL),
			 0);
}

/*
 * A creator's exit removes every name of its creator regions, hard links
 * and renamed names included, and nothing of a process that only reuses
 * its pid (another start time), nor regions that are not creator.
 */
static void test_expire_creator(void **state)
{
	struct registry_creator c = { .pid = 4242, .start = 1000 };
	struct registry_creator reused = { .pid = 4242, .start = 2000 };
	struct removed rm = { 0 };
	uint64_t d, a, p, n;
	struct stat st;

	(void)state;
	d = mkd(ROOT, "d");
	assert_int_equal(registry_set_lifetime(reg, ROOT, REGISTRY_LIFETIME_CREATOR, NULL), 0);
	a = mk_by(ROOT, "a", &c);
	p = mk_by(ROOT, "p", &c);
	assert_int_equal(registry_set_lifetime(reg, p, REGISTRY_LIFETIME_PERSIST, NULL), 0);
	n = mk_by(ROOT, "new", &reused);
	assert_int_equal(registry_link(reg, a, d, "link", &st, NULL), 0);
	registry_forget(reg, st.st_ino, 1);
	assert_int_equal(registry_rename(reg, ROOT, "a", d, "moved", 0), 0);

	/* the pid's new owner exiting does not touch the old creator's region */
	assert_int_equal(registry_expire_creator(reg, &reused, on_removed, &rm), 1);
	assert_int_equal(rm.n, 1);
	assert_false(exists(ROOT, "new"));
	assert_true(exists(d, "moved"));
	(void)n;

	rm.n = 0;
	assert_int_equal(registry_expire_creator(reg, &c, on_removed, &rm), 2);
	assert_int_equal(rm.n, 2);
	assert_false(exists(d, "moved"));
	assert_false(exists(d, "link"));
	assert_true(exists(ROOT, "p")); /* persist now: kept */
	assert_int_equal(registry_expire_creator(reg, &c, on_removed, &rm), 0);

	/* A record of another boot (as loaded from a store): this boot's
	 * (pid, start) never matches it; the other boot's gone creator does. */
	c.other_boot = true;
	mk_by(ROOT, "old", &c);
	c.other_boot = false;
	assert_int_equal(registry_expire_creator(reg, &c, on_removed, &rm), 0);
	assert_true(exists(ROOT, "old"));
	c.other_boot = true;
	assert_int_equal(registry_expire_creator(reg, &c, on_removed, &rm), 1);
	assert_false(exists(ROOT, "old"));
}

/* last-close: idle at the last release, an open in between cancels the removal. */
static void test_last_close(void **state)
{
	struct removed rm = { 0 };
	struct region *region;
	uint64_t a, b, gen = 0, gen2 = 0;
	struct stat st;

	(void)state;
	assert_int_equal(registry_set_lifetime(reg, ROOT, REGISTRY_LIFETIME_LAST_CLOSE, NULL), 0);
	a = mk_by(ROOT, "a", NULL);
	assert_int_equal(registry_link(reg, a, ROOT, "a2", &st, NULL), 0);
	registry_forget(reg, st.st_ino, 1);
	assert_int_equal(registry_open(reg, a, &region), 0);
	assert_int_equal(registry_open(reg, a, &region), 0);
	assert_false(registry_release_idle(reg, a, O_RDONLY, &gen)); /* one open left */
	assert_true(registry_release_idle(reg, a, O_RDONLY, &gen));
	assert_true(registry_still_idle(reg, a, gen));
	/* opened and closed again meanwhile: the old generation is stale */
	assert_int_equal(registry_open(reg, a, &region), 0);
	assert_false(registry_still_idle(reg, a, gen));
	assert_int_equal(registry_expire_idle(reg, a, gen, on_removed, &rm), 0);
	assert_true(registry_release_idle(reg, a, O_RDONLY, &gen2));
	assert_int_equal(registry_expire_idle(reg, a, gen, on_removed, &rm), 0);
	assert_true(exists(ROOT, "a"));
	assert_int_equal(registry_expire_idle(reg, a, gen2, on_removed, &rm), 2);
	assert_false(exists(ROOT, "a"));
	assert_false(exists(ROOT, "a2"));
	assert_int_equal(rm.n, 2);

	/* persist regions never become idle; unknown inodes neither */
	b = mk_by(ROOT, "b", NULL);
	assert_int_equal(registry_set_lifetime(reg, b, REGISTRY_LIFETIME_PERSIST, NULL), 0);
	assert_int_equal(registry_open(reg, b, &region), 0);
	assert_false(registry_release_idle(reg, b, O_RDONLY, &gen));
	assert_false(registry_release_idle(reg, 999999, O_RDONLY, &gen));
	assert_true(exists(ROOT, "b"));
}

static bool gone_if_odd(void *ctx, const struct registry_creator *c)
{
	(*(unsigned *)ctx)++;
	return c->pid % 2;
}

/* At load: last-close always goes; creator only when gone() says so. */
static void test_sweep(void **state)
{
	struct registry_creator odd = { .pid = 3, .start = 1 }, even = { .pid = 4, .start = 1 };
	unsigned asked = 0;
	uint64_t l, o, e, p;

	(void)state;
	l = mk_by(ROOT, "l", NULL);
	o = mk_by(ROOT, "o", &odd);
	e = mk_by(ROOT, "e", &even);
	p = mk_by(ROOT, "p", &odd);
	assert_int_equal(registry_set_lifetime(reg, l, REGISTRY_LIFETIME_LAST_CLOSE, NULL), 0);
	assert_int_equal(registry_set_lifetime(reg, o, REGISTRY_LIFETIME_CREATOR, NULL), 0);
	assert_int_equal(registry_set_lifetime(reg, e, REGISTRY_LIFETIME_CREATOR, NULL), 0);
	assert_int_equal(registry_sweep(reg, gone_if_odd, &asked, NULL, NULL), 2);
	assert_int_equal(asked, 2); /* persist p is never asked about */
	assert_false(exists(ROOT, "l"));
	assert_false(exists(ROOT, "o"));
	assert_true(exists(ROOT, "e"));
	assert_true(exists(ROOT, "p"));
	(void)p;
}

/* The store's record of a creator: round trip, comm with spaces, garbage refused. */
static void test_creator_record(void **state)
{
	struct registry_creator c = { .pid = 99, .uid = 1000, .time = 1796652309, .start = 123456,
				      .comm = "my prog ) x" }, got;
	char buf[REGISTRY_CREATOR_RECORD_MAX], boot[REGISTRY_BOOT_LEN + 1];
	const char *id = "0b5c1a8e";
	int len;

	(void)state;
	len = registry_creator_encode(&c, id, buf, sizeof(buf));
	assert_true(len > 0);
	assert_int_equal(registry_creator_decode(buf, (size_t)len, &got, boot), 0);
	assert_int_equal(got.pid, 99);
	assert_int_equal(got.uid, 1000);
	assert_int_equal(got.time, 1796652309);
	assert_int_equal(got.start, 123456);
	assert_string_equal(got.comm, "my prog ) x");
	assert_string_equal(boot, id);
	len = registry_creator_encode(&c, "", buf, sizeof(buf));
	assert_int_equal(registry_creator_decode(buf, (size_t)len, &got, boot), 0);
	assert_string_equal(boot, "");
	assert_int_equal(registry_creator_decode("0 1 - 0 0 x", 11, &got, boot), -EINVAL);
	assert_int_equal(registry_creator_decode("garbage", 7, &got, boot), -EINVAL);
	assert_int_equal(registry_creator_decode("1 1 - 0 0 0123456789abcdefg", 27, &got, boot),
			 -EINVAL);
	assert_int_equal(registry_creator_decode("1 1 - 0 0 \0x", 12, &got, boot), -EINVAL);
	/* the worst case still fits the record */
	c.pid = INT32_MAX;
	c.start = UINT64_MAX;
	c.uid = UINT32_MAX;
	c.time = INT64_MIN;
	strcpy(c.comm, "0123456789abcde");
	assert_true(registry_creator_encode(&c, id, buf, sizeof(buf)) > 0);
	assert_int_equal(registry_creator_encode(&c, id, buf, 10), -ERANGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_and_names),
		cmocka_unit_test_setup_teardown(test_inheritance, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_creator_needs_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expire_creator, setup, teardown),
		cmocka_unit_test_setup_teardown(test_last_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sweep, setup, teardown),
		cmocka_unit_test(test_creator_record),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
