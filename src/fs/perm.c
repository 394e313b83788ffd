/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "fs/perm.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void perm_caller_init(struct perm_caller *c, uid_t uid, gid_t gid, pid_t pid)
{
	c->uid = uid;
	c->gid = gid;
	c->pid = pid;
	c->loaded = false;
	c->known = false;
	c->userns = false;
	c->caps = 0;
	c->ngroups = 0;
}

/* "Groups:\t1 2 3" */
static int parse_groups(const char *s, struct perm_caller *c)
{
	int n = 0;

	for (;;) {
		unsigned long v;
		char *end;

		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\0' || *s == '\n')
			break;
		errno = 0;
		v = strtoul(s, &end, 10);
		if (end == s || errno || v > UINT32_MAX)
			return -EINVAL;
		if (n == PERM_MAX_GROUPS)
			return -E2BIG;
		c->groups[n++] = (gid_t)v;
		s = end;
	}
	c->ngroups = n;
	return 0;
}

int perm_parse_status(FILE *f, struct perm_caller *c)
{
	bool uid_ok = false, gid_ok = false, caps_ok = false, groups_ok = false;
	char *line = NULL;
	size_t cap = 0;
	int r = 0;

	c->known = false;
	c->caps = 0;
	c->ngroups = 0;
	while (getline(&line, &cap, f) > 0) {
		unsigned ruid, euid, suid, fsuid;
		unsigned long long caps;

		/* Uid/Gid: real, effective, saved, filesystem; requests carry the last. */
		if (sscanf(line, "Uid: %u %u %u %u", &ruid, &euid, &suid, &fsuid) == 4) {
			uid_ok = fsuid == (unsigned)c->uid;
		} else if (sscanf(line, "Gid: %u %u %u %u", &ruid, &euid, &suid, &fsuid) == 4) {
			gid_ok = fsuid == (unsigned)c->gid;
		} else if (strncmp(line, "Groups:", 7) == 0) {
			r = parse_groups(line + 7, c);
			if (r == -E2BIG) {
				c->ngroups = -1; /* too many to keep: membership unknown */
				r = 0;
			}
			if (r < 0)
				break;
			groups_ok = true;
		} else if (sscanf(line, "CapEff: %llx", &caps) == 1) {
			c->caps = caps;
			caps_ok = true;
		}
	}
	free(line);
	if (r == 0 && !(uid_ok && gid_ok && caps_ok && groups_ok))
		r = -EINVAL;
	if (r < 0) {
		c->caps = 0;
		c->ngroups = 0;
		return r;
	}
	c->known = true;
	return 0;
}

/* The daemon's user namespace: it never changes, so it is looked up once. */
static struct stat own_userns;
static bool own_userns_ok;
static pthread_once_t own_userns_once = PTHREAD_ONCE_INIT;

static void own_userns_init(void)
{
	own_userns_ok = stat("/proc/self/ns/user", &own_userns) == 0;
}

/* Is the thread in the daemon's user namespace? Capabilities count only there. */
static bool same_userns(pid_t pid)
{
	char path[64];
	struct stat theirs;

	pthread_once(&own_userns_once, own_userns_init);
	snprintf(path, sizeof(path), "/proc/%d/task/%d/ns/user", (int)pid, (int)pid);
	if (!own_userns_ok || stat(path, &theirs) < 0)
		return false;
	return own_userns.st_dev == theirs.st_dev && own_userns.st_ino == theirs.st_ino;
}

bool perm_caller_load(struct perm_caller *c)
{
	char path[64];
	FILE *f;

	if (c->loaded)
		return c->known;
	c->loaded = true;
	if (c->pid <= 0)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", (int)c->pid, (int)c->pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	perm_parse_status(f, c);
	fclose(f);
	/*
	 * Read after the status: a thread that left the namespace in between
	 * fails the check; one that joined it had the identity checked above.
	 */
	c->userns = c->known && same_userns(c->pid);
	return c->known;
}

int perm_in_group(struct perm_caller *c, gid_t gid)
{
	int i;

	if (c->gid == gid)
		return 1;
	if (!perm_caller_load(c) || c->ngroups < 0)
		return -1;
	for (i = 0; i < c->ngroups; i++)
		if (c->groups[i] == gid)
			return 1;
	return 0;
}

uint64_t perm_caps(struct perm_caller *c)
{
	return perm_caller_load(c) && c->userns ? c->caps : 0;
}

bool perm_capable(struct perm_caller *c, int cap)
{
	return perm_caps(c) & (1ull << cap);
}

static bool in_group_or_fsetid(struct perm_caller *c, gid_t gid)
{
	/* Unknown membership counts as none: the bit goes (fails closed). */
	return perm_in_group(c, gid) > 0 || perm_capable(c, PERM_CAP_FSETID);
}

mode_t perm_kill_bits(struct perm_caller *c, const struct stat *st)
{
	mode_t m = st->st_mode, kill = 0;

	if (!S_ISREG(m))
		return 0;
	if (m & S_ISUID)
		kill |= S_ISUID;
	/* setattr_should_drop_sgid() */
	if ((m & S_ISGID) && ((m & S_IXGRP) || !in_group_or_fsetid(c, st->st_gid)))
		kill |= S_ISGID;
	return kill;
}

mode_t perm_write_kills(struct perm_caller *c, const struct stat *st)
{
	if (!S_ISREG(st->st_mode) || !(st->st_mode & (S_ISUID | S_ISGID)))
		return 0;
	if (perm_capable(c, PERM_CAP_FSETID))
		return 0;
	return perm_kill_bits(c, st);
}
