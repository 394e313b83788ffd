/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Switching fsuid/fsgid per thread (see fsid.h). glibc's setfsuid() and
 * setfsgid() are plain system calls on the calling thread (no broadcast to
 * other threads, unlike setuid); capset() has no glibc wrapper at all.
 */
#include "common/fsid.h"

#include <errno.h>
#include <linux/capability.h>
#include <sys/fsuid.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/log.h"

int fsid_caps_get(struct fsid_caps *ret)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d) < 0)
		return -errno;
	ret->eff = d[0].effective | (uint64_t)d[1].effective << 32;
	ret->prm = d[0].permitted | (uint64_t)d[1].permitted << 32;
	ret->inh = d[0].inheritable | (uint64_t)d[1].inheritable << 32;
	return 0;
}

int fsid_caps_set(const struct fsid_caps *caps)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[2] = {
		{ .effective = (uint32_t)caps->eff, .permitted = (uint32_t)caps->prm,
		  .inheritable = (uint32_t)caps->inh },
		{ .effective = (uint32_t)(caps->eff >> 32), .permitted = (uint32_t)(caps->prm >> 32),
		  .inheritable = (uint32_t)(caps->inh >> 32) },
	};

	return syscall(SYS_capset, &h, d) < 0 ? -errno : 0;
}

int fsid_enter(uid_t uid, gid_t gid, unsigned flags, struct fsid_saved *ret)
{
	struct fsid_saved s = { .switched = false };
	int r;

	r = fsid_caps_get(&s.caps);
	if (r < 0)
		return r;
	if (!(s.caps.eff & FSID_CAP_BIT(CAP_SETUID)) || !(s.caps.eff & FSID_CAP_BIT(CAP_SETGID))) {
		*ret = s; /* acts as itself: nothing to restore */
		return 0;
	}
	/* setfs*id() return the previous value: what to go back to. */
	s.fsgid = (gid_t)setfsgid(gid);
	s.fsuid = (uid_t)setfsuid(uid);
	if (s.fsuid == uid && s.fsgid == gid) {
		*ret = s; /* already that identity: nothing changed */
		return 0;
	}
	s.switched = true;
	/* setfs*id() say nothing on failure: ask for the value back. */
	if ((uid_t)setfsuid((uid_t)-1) != uid || (gid_t)setfsgid((gid_t)-1) != gid) {
		r = -EPERM;
		goto err_back;
	}
	if (flags & FSID_KEEP_CAPS) {
		r = fsid_caps_set(&s.caps);
		if (r < 0)
			goto err_back;
	}
	*ret = s;
	return 0;

err_back:
	fsid_leave(&s);
	return r;
}

void fsid_leave(struct fsid_saved *s)
{
	if (!s->switched)
		return;
	/*
	 * Back to fsuid 0 raises the file system capabilities that are
	 * permitted, whether they were effective before or not: set the
	 * saved ones again.
	 */
	setfsuid(s->fsuid);
	setfsgid(s->fsgid);
	if (fsid_caps_set(&s->caps) < 0)
		log_err("cannot restore the daemon's capabilities: %m");
	s->switched = false;
}
