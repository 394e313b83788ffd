/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fs/perm — the set-user-ID / set-group-ID bits that a write, truncate or
 * chown removes (setattr_should_drop_suidgid(), the rules the kernel's VFS
 * applies on tmpfs): with FUSE_HANDLE_KILLPRIV_V2 removing them is the
 * daemon's job. Every permission check proper is the kernel's
 * (default_permissions is always on).
 *
 * Who is asking: the request's uid, gid and pid (a thread id), and, read
 * lazily and only when a decision needs it, that thread's
 * /proc/PID/task/PID/status: effective capabilities and supplementary
 * groups. The thread may exit or change identity during the request, so
 * the status counts only when its fsuid/fsgid are the request's, and
 * capabilities only when the caller is in the daemon's user namespace
 * (capabilities of a child namespace do not apply here). Anything that
 * cannot be established fails closed: no capabilities, and a group
 * membership that is unknown (perm_kill_bits() then treats the caller as a
 * non-member).
 *
 * The one reader of a caller's status in the daemon: fs/caller takes the
 * capabilities and groups of a binding's caller from perm_caller_load().
 *
 * No locking: a struct perm_caller belongs to one request.
 */
#ifndef RFS_FS_PERM_H
#define RFS_FS_PERM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>

/* Callers with more supplementary groups than this have an unknown membership. */
#define PERM_MAX_GROUPS 1024

/* Capability numbers (linux/capability.h). */
#define PERM_CAP_FSETID 4

struct perm_caller {
	uid_t uid; /* fsuid of the request */
	gid_t gid; /* fsgid of the request */
	pid_t pid; /* thread id; 0: unknown (another pid namespace, or the kernel) */
	bool loaded;   /* the status was read (or tried) */
	bool known;    /* ...and it was this caller's: caps and groups below are valid */
	bool userns;   /* the caller is in the daemon's user namespace */
	uint64_t caps; /* CapEff */
	int ngroups;   /* -1: more than PERM_MAX_GROUPS */
	gid_t groups[PERM_MAX_GROUPS];
};

/* A caller from the request's identity; reads nothing yet. */
void perm_caller_init(struct perm_caller *c, uid_t uid, gid_t gid, pid_t pid);

/*
 * Parse a /proc/PID/status text into c (caps, groups, known). Exposed for
 * the unit tests; perm_caller_load() calls it. Returns 0, or -EINVAL when the
 * text is not that caller's (no Uid/Gid lines, fsuid/fsgid differ).
 */
int perm_parse_status(FILE *f, struct perm_caller *c);

/*
 * Read the caller's status and user namespace now; later calls (and the
 * decisions below) reuse the first answer. Returns c->known: false when the
 * pid is 0, the thread is gone, or its status is not this caller's.
 */
bool perm_caller_load(struct perm_caller *c);

/*
 * The effective capabilities that count here: CapEff when the status is
 * the caller's and the caller is in the daemon's user namespace, else 0.
 */
uint64_t perm_caps(struct perm_caller *c);

/* Is the caller in group gid (primary or supplementary)? 1 yes, 0 no, -1 unknown. */
int perm_in_group(struct perm_caller *c, gid_t gid);

/* Does the caller hold capability cap (effective, in the daemon's user namespace)? */
bool perm_capable(struct perm_caller *c, int cap);

/*
 * The set-id bits that a write, truncate or chown by this caller removes
 * from a file (S_ISUID, S_ISGID or both; 0 for anything but a regular
 * file): S_ISUID always; S_ISGID when the group may execute, or when the
 * caller is neither in the file's group nor holds CAP_FSETID. The caller's
 * own CAP_FSETID (which spares a write or truncate entirely) is the
 * caller's business: see perm_write_kills().
 */
mode_t perm_kill_bits(struct perm_caller *c, const struct stat *st);

/* What a write or truncate by this caller removes: perm_kill_bits(),
 * or nothing when the caller holds CAP_FSETID. */
mode_t perm_write_kills(struct perm_caller *c, const struct stat *st);

#endif
