/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Acting as someone else (see caller.h). Every switch here is a raw system
 * call: glibc's setgroups()/setfsuid() wrappers for the set*id family
 * broadcast to every thread of the process (setgroups does), and capset
 * has no glibc wrapper at all. The kernel keeps credentials per thread.
 */
#include "fs/caller.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/log.h"
#include "fs/perm.h"

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL /* Linux 6.9: a pidfd of one thread, by its tid */
#endif

int caller_drop_resource(void)
{
	const uint64_t res = FSID_CAP_BIT(CAP_SYS_RESOURCE);
	struct fsid_caps caps;
	int r = fsid_caps_get(&caps);

	if (r < 0)
		return r;
	if (!(caps.prm & res))
		return 0;
	caps.eff &= ~res;
	caps.prm &= ~res;
	caps.inh &= ~res;
	return fsid_caps_set(&caps);
}

/* Is pid's mount namespace the daemon's own? */
static bool same_mntns(pid_t pid)
{
	struct stat mine, theirs;
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)pid);
	if (stat(path, &theirs) < 0 || stat("/proc/self/ns/mnt", &mine) < 0)
		return false;
	return theirs.st_dev == mine.st_dev && theirs.st_ino == mine.st_ino;
}

/*
 * The mount table of pid's mount namespace. A process's own mountinfo
 * lists only the mounts under its root (a chrooted one misses the mount
 * its root is in): for a caller in our own namespace, ours is the whole
 * table of the same mounts.
 */
static int open_mountinfo(pid_t pid)
{
	char path[64];

	if (same_mntns(pid))
		return open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof(path), "/proc/%d/mountinfo", (int)pid);
	return open(path, O_RDONLY | O_CLOEXEC);
}

int caller_from_req(fuse_req_t req, struct caller *ret)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct perm_caller who;
	char root[64];
	int pidfd, r;

	memset(ret, 0, sizeof(*ret));
	ret->rootfd = -1;
	ret->mountinfo = -1;
	/* 0: the caller lives in a pid namespace we cannot see into. */
	if (ctx->pid <= 0)
		return -EACCES;
	ret->uid = ctx->uid;
	ret->gid = ctx->gid;
	/*
	 * Pin the thread first: if the pid is reused after this, the pidfd
	 * still names the old thread and reports it dead below, so nothing
	 * read from /proc in between is believed.
	 */
	pidfd = (int)syscall(SYS_pidfd_open, ctx->pid, PIDFD_THREAD);
	if (pidfd < 0 && errno == EINVAL)
		pidfd = (int)syscall(SYS_pidfd_open, ctx->pid, 0); /* before 6.9: leaders only */
	if (pidfd < 0)
		return -EACCES;
	snprintf(root, sizeof(root), "/proc/%d/root", (int)ctx->pid);
	ret->rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	r = ret->rootfd < 0 ? -EACCES : 0;
	if (r == 0) {
		ret->mountinfo = open_mountinfo(ctx->pid);
		if (ret->mountinfo < 0)
			r = -EACCES;
	}
	/*
	 * Capabilities and groups as fs/perm reads them: the status must be
	 * the thread's with the request's fsuid/fsgid, and capabilities count
	 * in the user namespace they were given in only (unshare -Ur: "root"
	 * with every capability there has none over the files of ours).
	 */
	perm_caller_init(&who, ctx->uid, ctx->gid, ctx->pid);
	if (r == 0 && !perm_caller_load(&who))
		r = -EACCES;
	if (r == 0) {
		ret->caps = perm_caps(&who);
		/* Too many (or unknown): the primary group only, fewer rights. */
		if (who.ngroups > 0 && who.ngroups <= CALLER_MAX_GROUPS) {
			ret->ngroups = who.ngroups;
			memcpy(ret->groups, who.groups, sizeof(gid_t) * (size_t)who.ngroups);
		}
	}
	if (r == 0 && syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0)
		r = -EACCES; /* ESRCH: gone meanwhile, what we read may be another's */
	close(pidfd);
	if (r < 0)
		caller_free(ret);
	return r;
}

int caller_from_owner(uid_t uid, gid_t gid, struct caller *ret)
{
	struct passwd pw, *pwp = NULL;
	char buf[4096];

	memset(ret, 0, sizeof(*ret));
	ret->rootfd = -1;
	ret->uid = uid;
	ret->gid = gid;
	ret->caps = 0; /* nobody's capabilities survive a restart, not even root's */
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &pwp) == 0 && pwp) {
		int n = CALLER_MAX_GROUPS;

		/* Too many: the first CALLER_MAX_GROUPS (fewer rights, never more). */
		if (getgrouplist(pw.pw_name, gid, ret->groups, &n) < 0)
			n = CALLER_MAX_GROUPS;
		ret->ngroups = n < 0 ? 0 : n;
	}
	ret->mountinfo = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
	if (ret->mountinfo < 0) {
		ret->rootfd = -1;
		return -errno;
	}
	ret->rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	return ret->rootfd < 0 ? -errno : 0;
}

void caller_free(struct caller *c)
{
	if (c->rootfd >= 0)
		close(c->rootfd);
	if (c->mountinfo >= 0)
		close(c->mountinfo);
	c->rootfd = -1;
	c->mountinfo = -1;
}

int caller_fstype(const struct caller *c, uint64_t mnt_id, char *buf, size_t size)
{
	char *line = NULL;
	size_t cap = 0;
	int fd, r = -ENOENT;
	FILE *f;

	/* A fresh read from the start: mountinfo is made anew at offset 0. */
	if (lseek(c->mountinfo, 0, SEEK_SET) < 0)
		return -errno;
	fd = dup(c->mountinfo);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "re");
	if (!f) {
		close(fd);
		return -ENOMEM;
	}
	while (getline(&line, &cap, f) > 0) {
		unsigned long long id;
		char *sep, *type, *end;

		if (sscanf(line, "%llu", &id) != 1 || id != mnt_id)
			continue;
		/* "... - FSTYPE SOURCE OPTIONS": the type follows the separator. */
		sep = strstr(line, " - ");
		if (!sep)
			break;
		type = sep + 3;
		end = strchr(type, ' ');
		if (end)
			*end = '\0';
		snprintf(buf, size, "%s", type);
		r = 0;
		break;
	}
	free(line);
	fclose(f);
	return r;
}

int caller_enter(struct caller *c)
{
	struct fsid_caps acting;
	int r;

	c->entered = false;
	c->switched_ids = false;
	r = fsid_caps_get(&c->saved_caps);
	if (r < 0)
		return r;
	if (c->saved_caps.eff & FSID_CAP_BIT(CAP_SETUID) &&
	    c->saved_caps.eff & FSID_CAP_BIT(CAP_SETGID)) {
		c->nsaved = getgroups(CALLER_MAX_GROUPS, c->saved);
		if (c->nsaved < 0)
			return -errno;
		c->switched_ids = true;
		c->entered = true;
		if (syscall(SYS_setgroups, (size_t)c->ngroups, c->groups) < 0) {
			r = -errno;
			goto err_leave;
		}
		setfsgid(c->gid);
		setfsuid(c->uid);
		/* setfs*id() say nothing on failure: ask for the value back. */
		if ((uid_t)setfsuid((uid_t)-1) != c->uid || (gid_t)setfsgid((gid_t)-1) != c->gid) {
			r = -EPERM;
			goto err_leave;
		}
	} else if (c->uid != geteuid()) {
		return -EACCES; /* a daemon without root acts for its own user only */
	}
	c->entered = true;
	/* Never more than either side has. */
	acting = c->saved_caps;
	acting.eff &= c->caps;
	r = fsid_caps_set(&acting);
	if (r < 0)
		goto err_leave;
	return 0;

err_leave:
	caller_leave(c);
	return r;
}

void caller_leave(struct caller *c)
{
	if (!c->entered)
		return;
	/* The capabilities first: they allow the id switches back. */
	if (fsid_caps_set(&c->saved_caps) < 0)
		log_err("cannot restore the daemon's capabilities: %m");
	if (c->switched_ids) {
		setfsuid(geteuid());
		setfsgid(getegid());
		if (syscall(SYS_setgroups, (size_t)c->nsaved, c->saved) < 0)
			log_err("cannot restore the daemon's groups: %m");
		/* A switch of fsuid back to 0 raised the file capabilities: exactly as before. */
		if (fsid_caps_set(&c->saved_caps) < 0)
			log_err("cannot restore the daemon's capabilities: %m");
	}
	c->entered = false;
}
