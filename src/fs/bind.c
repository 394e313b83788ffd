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
#include <unistd.h>

#include "common/log.h"

#define MAX_GROUPS 256

/*
 * Open path with the caller's credentials. setfsuid/setfsgid and the raw
 * setgroups system call change this thread only (glibc's setgroups() would
 * change every thread of the daemon), and are restored before returning.
 */
static int open_as_caller(fuse_req_t req, const char *path, int flags, int *ret_fd)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	gid_t groups[MAX_GROUPS], saved[MAX_GROUPS];
	int ngroups, nsaved, fd, err;

	if (geteuid() != 0) {
		/* Without root we cannot take the caller's identity: only our own. */
		if (ctx->uid != geteuid())
			return -EACCES;
		fd = open(path, flags);
		if (fd < 0)
			return -errno;
		*ret_fd = fd;
		return 0;
	}
	ngroups = fuse_req_getgroups(req, MAX_GROUPS, groups);
	if (ngroups < 0 || ngroups > MAX_GROUPS)
		ngroups = 0; /* the caller is gone or has too many: primary group only */
	nsaved = getgroups(MAX_GROUPS, saved);
	if (nsaved < 0)
		return -errno;
	if (syscall(SYS_setgroups, (size_t)ngroups, groups) < 0)
		return -errno;
	setfsgid(ctx->gid);
	setfsuid(ctx->uid);
	fd = open(path, flags);
	err = errno;
	setfsuid(geteuid());
	setfsgid(getegid());
	if (syscall(SYS_setgroups, (size_t)nsaved, saved) < 0)
		log_err("cannot restore the daemon's groups: %m");
	if (fd < 0)
		return -err;
	*ret_fd = fd;
	return 0;
}

/* Is path the mountpoint or below it (lexically)? */
static bool inside(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (strcmp(dir, "/") == 0)
		return true;
	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* Check the file behind an O_PATH handle, then reopen it read-write as the caller. */
static int open_backing(struct rfs *fs, fuse_req_t req, const char *path, int *ret_fd)
{
	char self[64];
	struct stat st;
	int opath, r;

	r = open_as_caller(req, path, O_PATH | O_CLOEXEC, &opath);
	if (r < 0)
		return r;
	if (fstat(opath, &st) < 0) {
		r = -errno;
		goto out_close;
	}
	if (S_ISDIR(st.st_mode))
		r = -EISDIR;
	else if (!S_ISREG(st.st_mode))
		r = -ENODEV;
	else if (st.st_dev == fs->dev)
		r = -ELOOP; /* reached through a link into this mount */
	if (r < 0)
		goto out_close;
	snprintf(self, sizeof(self), "/proc/self/fd/%d", opath);
	if (fs->store_dir[0]) {
		/* Through a link into our own store: as bad as into the mount. */
		char real[PATH_MAX];
		ssize_t n = readlink(self, real, sizeof(real) - 1);

		if (n > 0) {
			real[n] = '\0';
			if (inside(real, fs->store_dir)) {
				r = -ELOOP;
				goto out_close;
			}
		}
	}
	r = open_as_caller(req, self, O_RDWR | O_CLOEXEC | O_NOCTTY, ret_fd);
out_close:
	close(opath);
	return r;
}

int rfs_bind(struct rfs *fs, fuse_req_t req, fuse_ino_t ino, const char *value, size_t size)
{
	char path[PATH_MAX];
	struct region *region;
	int fd, id = 0, r;

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
	r = registry_bind(fs->reg, ino, fd, path, (uint64_t)id);
	if (r < 0)
		goto err_backing;
	/* The size the kernel cached (0) is now the file's: drop it. Safe
	 * inside the handler: no page cache is touched (offset < 0). */
	fuse_lowlevel_notify_inval_inode(fs->se, ino, -1, 0);
	return 0;

err_backing:
	if (id > 0)
		devio_backing_close(fs->io, (uint32_t)id);
err_close:
	close(fd);
	return r;
}
