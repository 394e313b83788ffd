/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Acting as someone else, for one daemon thread: the identity under which
 * the daemon opens a user-named file (a binding), so that it can reach only
 * what that user could reach itself.
 *
 * An identity is: fsuid, fsgid, supplementary groups, an effective
 * capability set, and a root directory (an O_PATH fd) from which paths are
 * resolved. Two sources:
 *  - caller_from_req(): the process that sent a FUSE request. Its root (and
 *    so its mount namespace: a root fd carries its mount) is
 *    /proc/PID/root of the calling thread; its capabilities and
 *    supplementary groups are those fs/perm reads (perm_caller_load():
 *    the thread's status, which must show the request's fsuid/fsgid;
 *    no capability at all in another user namespace, where they are worth
 *    nothing over the daemon's files; more than CALLER_MAX_GROUPS groups:
 *    the primary one only). The pid may be a thread id, may exit and be
 *    reused during the request: it is pinned with a pidfd (PIDFD_THREAD)
 *    before /proc is read, and the thread must still be alive afterwards.
 *    Every doubt fails closed: -EACCES (the pid is 0, i.e. not visible in
 *    our pid namespace; gone; /proc unreadable; the status another
 *    identity's).
 *  - caller_from_owner(): the owner of a region loaded from a store: uid,
 *    gid, the groups of its passwd entry (getgrouplist; none without an
 *    entry), no capability at all (even for uid 0), the daemon's own root.
 *
 * caller_enter() switches the calling thread (only it: raw system calls,
 * never glibc's process-wide setgroups/capset wrappers) to the identity;
 * its effective capabilities become the daemon thread's own effective set
 * intersected with the identity's. caller_leave() restores the thread
 * exactly; it must run on the same thread before the thread serves anything
 * else. A daemon that is not root cannot take another identity: then only
 * its own uid may be acted for (-EACCES for others), capabilities still
 * narrowed.
 *
 * Both also open the identity's mount table (/proc/PID/mountinfo, taken
 * while the pid is pinned: reads show that namespace even after the pid is
 * gone; the daemon's own for a caller in the daemon's namespace, as a
 * chrooted process's lists only the mounts below its root), so that a path
 * walk can tell a mount's file system type without asking the file system
 * (caller_fstype()). A chrooted caller in a namespace of its own cannot
 * have its root's mount told: its binds fail with ENODEV.
 *
 * caller_free() closes the fds (also for an identity never entered).
 * Errors: -EACCES as above, -ENOMEM, -EPERM (the kernel refused a switch).
 */
#ifndef RFS_FS_CALLER_H
#define RFS_FS_CALLER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <fuse_lowlevel.h>

#include "common/fsid.h"

#define CALLER_MAX_GROUPS 256

struct caller {
	uid_t uid;
	gid_t gid;
	int ngroups;
	gid_t groups[CALLER_MAX_GROUPS];
	uint64_t caps; /* effective capabilities the identity may use */
	int rootfd;    /* O_PATH: where absolute paths start and ".." stops */
	int mountinfo; /* its mount namespace's /proc/PID/mountinfo (file system types) */

	/* The thread's own identity while it acts (caller_enter/leave). */
	bool entered;
	bool switched_ids;
	struct fsid_caps saved_caps;
	int nsaved;
	gid_t saved[CALLER_MAX_GROUPS];
};

int caller_from_req(fuse_req_t req, struct caller *ret);
int caller_from_owner(uid_t uid, gid_t gid, struct caller *ret);
void caller_free(struct caller *c);

/*
 * The file system type ("ext4", "fuse.sshfs", ...) of mount mnt_id (as
 * statx STATX_MNT_ID and mountinfo number it) in c's mount namespace.
 * Errors: -ENOENT (no such mount there now), -ENOMEM, errors of read.
 */
int caller_fstype(const struct caller *c, uint64_t mnt_id, char *buf, size_t size);

int caller_enter(struct caller *c);
void caller_leave(struct caller *c);

/*
 * Drop CAP_SYS_RESOURCE from every capability set of the calling thread,
 * for good. Called once at startup before any thread exists (threads
 * inherit it): the daemon then never allocates past a file system's root
 * reserve or a quota hard limit for anyone. Errors: -EPERM.
 */
int caller_drop_resource(void);

#endif
