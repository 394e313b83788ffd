/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Allocating as someone else: switch the calling thread's fsuid/fsgid for
 * the file system calls that may allocate blocks (truncate, fallocate,
 * write, and the registration of a passthrough backing file, whose
 * credentials the kernel keeps for every write through it), so that a
 * file system's root reserve is granted or refused by that identity
 * (ext4: fsuid == resuid, a member of resgid, or CAP_SYS_RESOURCE, which
 * the daemon has dropped for good). Per thread only: raw setfsuid/setfsgid
 * act on the calling thread, as the kernel keeps credentials per thread.
 *
 * Changing the fsuid away from 0 makes the kernel drop the file system
 * capabilities (CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_FSETID, ...)
 * from the effective set. FSID_KEEP_CAPS raises them again, exactly as
 * they were: without CAP_FSETID a truncate or write would clear set-id bits
 * that the daemon's own rules (fs/perm) must decide. Supplementary groups
 * stay the daemon's.
 *
 * A thread without CAP_SETUID and CAP_SETGID in its effective set (a
 * daemon that is not root) cannot switch: it acts as itself, and
 * fsid_enter() reports nothing switched. fsid_leave() restores the fsuid,
 * fsgid and capabilities exactly; it must run on the same thread, before
 * the thread does anything else.
 *
 * Errors of fsid_enter() (nothing changed then): -EPERM (the kernel refused
 * the switch or the capabilities), errors of capget().
 */
#ifndef RFS_COMMON_FSID_H
#define RFS_COMMON_FSID_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* An unprivileged identity that no file system reserves blocks for. */
#define FSID_NOBODY ((uid_t)65534)
#define FSID_NOGROUP ((gid_t)65534)

enum fsid_flags {
	/* Keep the effective capabilities the switch would drop. */
	FSID_KEEP_CAPS = 1 << 0,
};

#define FSID_CAP_BIT(n) (1ull << (n))

/* A thread's capability sets, 64 bits each (capget/capset version 3). */
struct fsid_caps {
	uint64_t eff, prm, inh;
};

/* The calling thread's capabilities; capset() of them (-errno on failure). */
int fsid_caps_get(struct fsid_caps *ret);
int fsid_caps_set(const struct fsid_caps *caps);

struct fsid_saved {
	bool switched;
	uid_t fsuid; /* the thread's fsuid, fsgid and capabilities before */
	gid_t fsgid;
	struct fsid_caps caps;
};

int fsid_enter(uid_t uid, gid_t gid, unsigned flags, struct fsid_saved *ret);
void fsid_leave(struct fsid_saved *s);

#endif
