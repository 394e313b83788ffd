/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for fs/perm: the /proc status parser and the decisions
 * (capabilities, groups, the set-id rules) for callers whose status is
 * given here instead of read from /proc: perm_caller with loaded set.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "fs/perm.h"

#define CAP(n) (1ull << (n))

/* A caller whose status was "read": caps and supplementary groups as given. */
static void caller(struct perm_caller *c, uid_t uid, gid_t gid, uint64_t caps, int ngroups,
		   const gid_t *groups)
{
	perm_caller_init(c, uid, gid, 4242);
	c->loaded = true;
	c->known = true;
	c->userns = true;
	c->caps = caps;
	c->ngroups = ngroups;
	if (ngroups > 0)
		memcpy(c->groups, groups, sizeof(gid_t) * (size_t)ngroups);
}

static struct stat node(mode_t mode, uid_t uid, gid_t gid)
{
	struct stat st;

	memset(&st, 0, sizeof(st));
	st.st_mode = mode;
	st.st_uid = uid;
	st.st_gid = gid;
	return st;
}

static int parse(const char *text, struct perm_caller *c)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int r;

	assert_non_null(f);
	r = perm_parse_status(f, c);
	fclose(f);
	return r;
}

static void test_parse_status(void **state)
{
	struct perm_caller c;

	(void)state;
	perm_caller_init(&c, 2001, 2001, 1);
	assert_int_equal(parse("Name:\tx\nUid:\t2001\t2001\t2001\t2001\n"
			       "Gid:\t2001\t2001\t2001\t2001\nGroups:\t10 3000 \n"
			       "CapEff:\t0000000000000006\n",
			       &c),
			 0);
	assert_true(c.known);
	assert_int_equal(c.caps, 6);
	assert_int_equal(c.ngroups, 2);
	assert_int_equal(c.groups[1], 3000);

	/* Another identity (pid reused, setfsuid): not this caller's. */
	perm_caller_init(&c, 2001, 2001, 1);
	assert_int_equal(parse("Uid:\t2001\t2001\t2001\t2002\nGid:\t2001\t2001\t2001\t2001\n"
			       "Groups:\t\nCapEff:\t0000000000000006\n",
			       &c),
			 -EINVAL);
	assert_false(c.known);
	assert_int_equal(c.caps, 0);

	/* No groups at all, and a missing CapEff line. */
	perm_caller_init(&c, 0, 0, 1);
	assert_int_equal(parse("Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nGroups:\t\nCapEff:\t0\n", &c), 0);
	assert_int_equal(c.ngroups, 0);
	perm_caller_init(&c, 0, 0, 1);
	assert_int_equal(parse("Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nGroups:\t\n", &c), -EINVAL);
}

static void test_parse_many_groups(void **state)
{
	size_t len = 64 + (PERM_MAX_GROUPS + 1) * 8;
	char *text = malloc(len), *p;
	struct perm_caller c;
	int i;

	(void)state;
	assert_non_null(text);
	p = text + sprintf(text, "Uid:\t5\t5\t5\t5\nGid:\t5\t5\t5\t5\nGroups:\t");
	for (i = 0; i <= PERM_MAX_GROUPS; i++)
		p += sprintf(p, "%d ", 100 + i);
	sprintf(p, "\nCapEff:\t0\n");
	perm_caller_init(&c, 5, 5, 1);
	assert_int_equal(parse(text, &c), 0);
	assert_int_equal(c.ngroups, -1);
	/* Unknown membership: perm_in_group() says so. */
	assert_int_equal(perm_in_group(&c, 100), -1);
	assert_int_equal(perm_in_group(&c, 5), 1); /* the primary group needs no list */
	free(text);
}

static void test_capable(void **state)
{
	struct perm_caller c;

	(void)state;
	caller(&c, 0, 0, CAP(PERM_CAP_FSETID), 0, NULL);
	assert_true(perm_capable(&c, PERM_CAP_FSETID));
	assert_false(perm_capable(&c, 1)); /* CAP_DAC_OVERRIDE: not held */
	assert_int_equal(perm_caps(&c), CAP(PERM_CAP_FSETID));
	/* Capabilities of another user namespace do not count here. */
	c.userns = false;
	assert_false(perm_capable(&c, PERM_CAP_FSETID));
	assert_int_equal(perm_caps(&c), 0);
	/* Nor do those of a status that was not the caller's. */
	caller(&c, 0, 0, CAP(PERM_CAP_FSETID), 0, NULL);
	c.known = false;
	assert_false(perm_capable(&c, PERM_CAP_FSETID));
	assert_int_equal(perm_caps(&c), 0);
}

/* CapEff of this thread, as the kernel shows it. */
static uint64_t own_cap_eff(void)
{
	unsigned long long v = 0;
	char line[256];
	FILE *f = fopen("/proc/thread-self/status", "r");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &v) == 1)
			break;
	fclose(f);
	return v;
}

/* The real thing: this test's own thread, from /proc. */
static void test_load_self(void **state)
{
	struct perm_caller c;
	pid_t tid = (pid_t)syscall(SYS_gettid);

	(void)state;
	perm_caller_init(&c, geteuid(), getegid(), tid);
	assert_true(perm_caller_load(&c));
	assert_true(c.userns);
	assert_int_equal(perm_caps(&c), own_cap_eff());
	assert_int_equal(c.ngroups, getgroups(0, NULL));
	/* Read once: a second call gives the first answer. */
	assert_true(perm_caller_load(&c));

	/* Another identity than the status shows: not this caller's. */
	perm_caller_init(&c, geteuid() + 1, getegid(), tid);
	assert_false(perm_caller_load(&c));
	assert_int_equal(perm_caps(&c), 0);
	assert_int_equal(perm_in_group(&c, getegid() + 1), -1);

	/* A thread that does not exist. */
	perm_caller_init(&c, geteuid(), getegid(), 0x3fffffff);
	assert_false(perm_caller_load(&c));
}

static void test_kill_bits(void **state)
{
	gid_t g3000 = 3000;
	struct perm_caller c;
	struct stat s6777 = node(S_IFREG | 06777, 2001, 3000);
	struct stat s2767 = node(S_IFREG | 02767, 2001, 3000);
	struct stat d2777 = node(S_IFDIR | 02777, 2001, 3000);

	(void)state;
	caller(&c, 2002, 2002, 0, 0, NULL);
	assert_int_equal(perm_kill_bits(&c, &s6777), S_ISUID | S_ISGID);
	assert_int_equal(perm_write_kills(&c, &s6777), S_ISUID | S_ISGID);
	/* set-group-ID without group execute: only for a non-member */
	assert_int_equal(perm_kill_bits(&c, &s2767), S_ISGID);
	caller(&c, 2002, 2002, 0, 1, &g3000);
	assert_int_equal(perm_kill_bits(&c, &s2767), 0);
	/* CAP_FSETID keeps it for a non-member, and spares writes entirely */
	caller(&c, 0, 0, CAP(PERM_CAP_FSETID), 0, NULL);
	assert_int_equal(perm_kill_bits(&c, &s2767), 0);
	assert_int_equal(perm_kill_bits(&c, &s6777), S_ISUID | S_ISGID);
	assert_int_equal(perm_write_kills(&c, &s6777), 0);
	/* directories keep theirs */
	caller(&c, 2002, 2002, 0, 0, NULL);
	assert_int_equal(perm_kill_bits(&c, &d2777), 0);
	/* unknown membership: the bit goes */
	caller(&c, 2002, 2002, 0, -1, NULL);
	assert_int_equal(perm_kill_bits(&c, &s2767), S_ISGID);
}

static void test_unknown_caller_fails_closed(void **state)
{
	struct perm_caller c;
	struct stat s2767 = node(S_IFREG | 02767, 2001, 3000);

	(void)state;
	/* pid 0 (another pid namespace): nothing can be read. */
	perm_caller_init(&c, 0, 0, 0);
	assert_false(perm_capable(&c, PERM_CAP_FSETID));
	assert_int_equal(perm_in_group(&c, 3000), -1);
	assert_int_equal(perm_kill_bits(&c, &s2767), S_ISGID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_status),
		cmocka_unit_test(test_parse_many_groups),
		cmocka_unit_test(test_capable),
		cmocka_unit_test(test_load_self),
		cmocka_unit_test(test_kill_bits),
		cmocka_unit_test(test_unknown_caller_fails_closed),
	};

	if (getenv("CMOCKA_TEST_FILTER"))
		cmocka_set_test_filter(getenv("CMOCKA_TEST_FILTER"));
	return cmocka_run_group_tests_name("perm", tests, NULL, NULL);
}
