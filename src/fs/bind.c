/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Binding a region to a user's file: setxattr user.regionfs.backing=PATH
 * (CreateFileMapping with a file handle).
 *
 * The daemon usually runs as root, so the file is opened with the caller's
 * identity (fsuid, fsgid, supplementary groups of this thread only): a user
 * can bind only a file they could open read-write themselves. The type is
 * checked on an O_PATH handle before any real open, so a device or fifo is
 * never opened (no side effects, no hang).
 *
 * Errors, each for one mistake:
 *   EINVAL   the value is not an absolute path (or has a NUL)
 *   ELOOP    the path is inside this mount (it would map regionfs onto itself)
 *            or inside the persistent store (store=DIR)
 *   ENOENT   the file does not exist (other path-walk errors as open(2))
 *   EISDIR   it is a directory
 *   ENODEV   it is not a regular file (device, fifo, socket)
 *   EACCES   the caller may not open it for reading and writing
 *   EROFS    it is on a read-only file system
 *   EPERM    the target is a directory of this mount, not a region
 *   EBUSY    the region is open or mapped
 *   ENOTEMPTY the region is not empty (size > 0)
 *   EEXIST   the region is bound already
 * A read-only binding is deliberately not offered: a view that silently
 * cannot be written would surprise a writer far later than EACCES now.
 */
#include "fs/rfs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/log.h"

#define MAX_GROUPS 256
#define MAX_SYMLINKS 40 /* as the kernel's path walk */
#define BUSY_RETRIES 50   /* wait up to 50 x 1 ms for RELEASEs in flight */
#define BUSY_RETRY_US 1000

/* The daemon thread's own identity while it acts for a caller. */
struct caller {
	bool switched;
	int nsaved;
	gid_t saved[MAX_GROUPS];
};

/*
 * Act as the caller: setfsuid/setfsgid and the raw setgroups system call
 * change this thread only (glibc's setgroups() would change every thread of
 * the daemon). Without root we cannot take another identity: then only our
 * own user may bind (EACCES for others).
 */
static int caller_begin(fuse_req_t req, struct caller *c)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	gid_t groups[MAX_GROUPS];
	int ngroups;

	c->switched = false;
	if (geteuid() != 0)
		return ctx->uid == geteuid() ? 0 : -EACCES;
	ngroups = fuse_req_getgroups(req, MAX_GROUPS, groups);
	if (ngroups < 0 || ngroups > MAX_GROUPS)
		ngroups = 0; /* the caller is gone or has too many: primary group only */
	c->nsaved = getgroups(MAX_GROUPS, c->saved);
	if (c->nsaved < 0)
		return -errno;
	if (syscall(SYS_setgroups, (size_t)ngroups, groups) < 0)
		return -errno;
	setfsgid(ctx->gid);
	setfsuid(ctx->uid);
	c->switched = true;
	return 0;
}

static void caller_end(struct caller *c)
{
	if (!c->switched)
		return;
	setfsuid(geteuid());
	setfsgid(getegid());
	if (syscall(SYS_setgroups, (size_t)c->nsaved, c->saved) < 0)
		log_err("cannot restore the daemon's groups: %m");
}

/* Is path the mountpoint or below it (lexically)? */
static bool inside(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (strcmp(dir, "/") == 0)
		return true;
	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static int stat_cached(int fd, struct statx *stx)
{
	/* DONT_SYNC: a FUSE inode answers from its cache, never with a request. */
	if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW | AT_STATX_DONT_SYNC, STATX_TYPE,
		  stx) < 0)
		return -errno;
	return 0;
}

/*
 * Resolve path to an O_PATH fd without ever sending a request to this
 * mount: a request from the thread that serves this one could wait for the
 * other threads, and with every thread doing the same, nobody answers.
 * So: one component at a time (O_PATH | O_NOFOLLOW), symlinks followed
 * here, and the device of every step checked from the kernel's cache before
 * going on (entering this mount, through a link or a bind mount, is ELOOP).
 * Permission checks (search on directories) are the caller's: we run as
 * the caller.
 */
static int resolve(struct rfs *fs, const char *path, int *ret_fd)
{
	char *buf = strdup(path), *p, *rest, *next_buf;
	char target[PATH_MAX];
	int cur, next, links = 0, r = 0;
	struct statx stx;
	ssize_t n = 0;

	if (!buf)
		return -ENOMEM;
	cur = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cur < 0) {
		r = -errno;
		goto out_free;
	}
	p = buf;
	while (*p) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		rest = strchr(p, '/');
		if (rest)
			*rest++ = '\0';
		else
			rest = p + strlen(p);
		if (strcmp(p, ".") == 0) {
			p = rest;
			continue;
		}
		next = openat(cur, p, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0) {
			r = -errno;
			break;
		}
		r = stat_cached(next, &stx);
		if (r == 0 && makedev(stx.stx_dev_major, stx.stx_dev_minor) == fs->dev)
			r = -ELOOP;
		if (r == 0 && S_ISLNK(stx.stx_mode)) {
			if (++links > MAX_SYMLINKS) {
				r = -ELOOP;
			} else {
				n = readlinkat(next, "", target, sizeof(target) - 1);
				if (n < 0)
					r = -errno;
			}
			close(next);
			if (r < 0)
				break;
			target[n] = '\0';
			/* Go on with the link's target, then the rest of the path. */
			if (asprintf(&next_buf, "%s/%s", target, rest) < 0) {
				r = -ENOMEM;
				break;
			}
			free(buf);
			buf = p = next_buf;
			if (target[0] == '/') {
				close(cur);
				cur = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
				if (cur < 0) {
					r = -errno;
					goto out_free;
				}
			}
			continue;
		}
		if (r < 0) {
			close(next);
			break;
		}
		close(cur);
		cur = next;
		p = rest;
	}
	if (r < 0) {
		close(cur);
		goto out_free;
	}
	*ret_fd = cur;
out_free:
	free(buf);
	return r;
}

/* Resolve as the caller, check the type, reopen read-write as the caller. */
static int open_backing(struct rfs *fs, fuse_req_t req, const char *path, int *ret_fd)
{
	struct caller c;
	struct statx stx;
	char self[64];
	int opath = -1, fd, r;

	r = caller_begin(req, &c);
	if (r < 0)
		return r;
	r = resolve(fs, path, &opath);
	if (r < 0)
		goto out_end;
	r = stat_cached(opath, &stx);
	if (r == 0 && S_ISDIR(stx.stx_mode))
		r = -EISDIR;
	else if (r == 0 && !S_ISREG(stx.stx_mode))
		r = -ENODEV;
	if (r == 0 && fs->store_dir[0]) {
		/* Reached our own store (through a link): as bad as the mount. */
		char real[PATH_MAX];
		ssize_t n;

		snprintf(self, sizeof(self), "/proc/self/fd/%d", opath);
		n = readlink(self, real, sizeof(real) - 1);
		if (n > 0) {
			real[n] = '\0';
			if (inside(real, fs->store_dir))
				r = -ELOOP;
		}
	}
	if (r == 0) {
		/* Re-open the very inode checked above; the caller's permissions apply. */
		snprintf(self, sizeof(self), "/proc/self/fd/%d", opath);
		fd = open(self, O_RDWR | O_CLOEXEC | O_NOCTTY);
		if (fd < 0)
			r = -errno;
		else
			*ret_fd = fd;
	}
	close(opath);
out_end:
	caller_end(&c);
	return r;
}

/*
 * The kernel still holds the region's old size (0) and would check page
 * faults of cache-mode mappings against it (SIGBUS). NOTIFY_STORE of the
 * file's own last byte at its offset makes the kernel's size the file's
 * (the kernel moves the size only for a store of at least one byte); that
 * page stays not up to date, so it is read from us as usual. Invalidating
 * the attributes then makes the next stat ask us. Safe inside this
 * handler: the region is unopened, so no page or inode lock of it can be
 * held by a request waiting for us.
 */
static void publish_size(struct rfs *fs, fuse_ino_t ino)
{
	struct fuse_bufvec last = FUSE_BUFVEC_INIT(1);
	struct region *region;
	struct stat st;
	char byte;

	if (!fs->passthrough && registry_getattr(fs->reg, ino, &st) == 0 && st.st_size > 0 &&
	    registry_region(fs->reg, ino, &region) == 0 &&
	    region_read(region, &byte, 1, (uint64_t)st.st_size - 1) == 1) {
		last.buf[0].mem = &byte;
		fuse_lowlevel_notify_store(fs->se, ino, st.st_size - 1, &last, 0);
	}
	fuse_lowlevel_notify_inval_inode(fs->se, ino, -1, 0);
}

/* How long a binding waits for its entry invalidations to be sent. */
#define INVAL_WAIT_MS 100

static void queue_inval(void *ctx, uint64_t parent, const char *name)
{
	struct rfs *fs = ctx;

	notifier_inval_entry(fs->notifier, parent, name);
}

int rfs_bind(struct rfs *fs, fuse_req_t req, fuse_ino_t ino, const char *value, size_t size)
{
	char path[PATH_MAX];
	struct region *region;
	int fd = -1, id = 0, tries, r;

	if (size == 0 || size >= sizeof(path) || memchr(value, '\0', size) || value[0] != '/')
		return -EINVAL;
	memcpy(path, value, size);
	path[size] = '\0';
	r = registry_region(fs->reg, ino, &region);
	if (r < 0)
		return r == -EISDIR ? -EPERM : r;
	if (inside(path, fs->mnt) || (fs->store_dir[0] && inside(path, fs->store_dir)))
		return -ELOOP;
	r = open_backing(fs, req, path, &fd);
	if (r < 0)
		return r;
	if (fs->passthrough) {
		/* Register now: a file the kernel cannot pass through (a stacked
		 * file system too deep) is refused here, not at every open. */
		id = devio_backing_open(fs->io, fd);
		if (id < 0) {
			r = id;
			goto err_close;
		}
	}
	/*
	 * Cache mode counts opens: a mapping keeps its FUSE file open there;
	 * passthrough probes the file, and may give its backing id back only
	 * once no open is counted (registry_bind()). The kernel sends RELEASE
	 * asynchronously, so a file closed just before this request may still
	 * be counted: a busy answer is believed only after the releases in
	 * flight had time to arrive.
	 */
	for (tries = 0;; tries++) {
		r = registry_bind(fs->reg, ino, fd, path, (uint64_t)id, !fs->passthrough);
		if (r != -EBUSY || tries == BUSY_RETRIES)
			break;
		usleep(BUSY_RETRY_US);
	}
	if (r < 0)
		goto err_backing;
	publish_size(fs, ino);
	/*
	 * The names cached before the binding keep their long entry timeout;
	 * bound regions' entries must be looked up at every open (so the size
	 * the kernel checks cache-mode page faults against is the file's).
	 * Dropped by the notifier, and waited for (briefly: dropping an
	 * entry locks its directory, which a request waiting for us may
	 * hold), so that an open right after the binding looks the name up.
	 */
	registry_names(fs->reg, ino, queue_inval, fs);
	notifier_flush(fs->notifier, INVAL_WAIT_MS);
	return 0;

err_backing:
	if (id > 0)
		devio_backing_close(fs->io, (uint32_t)id);
err_close:
	close(fd);
	return r;
}
