/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Binding a region to a user's file: setxattr user.regionfs.backing=PATH
 * (CreateFileMapping with a file handle).
 *
 * A bind does only what the caller could do itself at that moment. The
 * daemon usually runs as root, so the file is opened as the caller
 * (caller.h): its fsuid, fsgid and groups, its effective capabilities
 * (never more than the daemon's; none from another user namespace), and PATH is resolved from the caller's
 * own root in the caller's own mount namespace (/proc/PID/root): a
 * sandboxed process cannot reach what its namespace hides, a chrooted one
 * cannot climb out with "..", a read-only mount in its view stays read-only.
 * The type and the file system are checked on an O_PATH handle before any
 * real open, so a device, fifo or pseudo-file system's file is never opened
 * (no side effects, no hang), and the open itself is O_NONBLOCK: a lease
 * held by someone else fails at once instead of parking a daemon thread for
 * the lease-break time.
 *
 * A binding saved in a store is re-opened the same way at load (and at each
 * later open while it cannot be), as the region's owner: rfs_open_binding().
 *
 * Errors, each for one mistake:
 *   EINVAL   the value is not an absolute path (or has a NUL)
 *   ELOOP    the path is inside this mount (it would map regionfs onto itself)
 *            or inside the persistent store (store=DIR)
 *   ENOENT   the file does not exist in the caller's view (other path-walk
 *            errors as open(2)); setfattr prints it with the region's
 *            name, so the daemon logs the path at debug level
 *   ENAMETOOLONG more than WALK_MAX_DEPTH directories deep
 *   EISDIR   it is a directory
 *   ENODEV   it is not a regular file (device, fifo, socket), or it is on a
 *            pseudo file system (procfs, sysfs, debugfs, cgroup, ...) or
 *            reached through another FUSE file system
 *   EACCES   the caller may not open it for reading and writing (its
 *            credentials and capabilities), or the caller cannot be seen
 *            (another pid namespace, gone during the request)
 *   EROFS    it is on a read-only mount (in the caller's view)
 *   ETXTBSY  another process holds a lease on it (the open would block:
 *            EWOULDBLOCK, which the kernel does not pass through setxattr);
 *            try again once the holder let go (lease-break-time at most)
 *   EPERM    the target is a directory of this mount, not a region; or the
 *            caller does not own the region (and has no CAP_FOWNER)
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
#include <linux/capability.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/log.h"
#include "common/macros.h"
#include "fs/caller.h"

#define MAX_SYMLINKS 40 /* as the kernel's path walk */
#define WALK_MAX_DEPTH 256 /* directories held open on the way down */
#define BUSY_RETRIES 50   /* wait up to 50 x 1 ms for RELEASEs in flight */
#define BUSY_RETRY_US 1000

#ifndef CONFIGFS_MAGIC
#define CONFIGFS_MAGIC 0x62656570
#endif
#ifndef FUSECTL_SUPER_MAGIC
#define FUSECTL_SUPER_MAGIC 0x65735543
#endif

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
	if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW | AT_STATX_DONT_SYNC,
		  STATX_TYPE | STATX_MNT_ID, stx) < 0)
		return -errno;
	return 0;
}

/*
 * Entering another mount: is it a file system a binding may walk through?
 * Not another FUSE file system ("fuse", "fuse.*"; any user can mount one,
 * in a user namespace too): its server answers every lookup, stat and read
 * of the walk and of the bound region afterwards, and a server that never
 * answers would park the daemon thread asking, with the registry lock held
 * for a stat. Told from the identity's mount table, never by asking the
 * file system (statfs would be a request too). ENODEV, as a device.
 */
static int check_mount(const struct caller *c, const struct statx *stx, uint64_t *cur_mnt)
{
	char type[64];
	int r;

	if (!(stx->stx_mask & STATX_MNT_ID))
		return 0; /* before 5.8: no mount ids, no way to tell */
	if (stx->stx_mnt_id == *cur_mnt)
		return 0;
	r = caller_fstype(c, stx->stx_mnt_id, type, sizeof(type));
	if (r < 0)
		return -ENODEV; /* gone meanwhile or unreadable: refuse */
	if (strcmp(type, "fuse") == 0 || strncmp(type, "fuse.", 5) == 0)
		return -ENODEV;
	*cur_mnt = stx->stx_mnt_id;
	return 0;
}

/*
 * Files of the kernel's own file systems: regular files whose reads and
 * writes are commands (sysctls, cgroup knobs, tracing), not data, and which
 * the data paths cannot serve (passthrough refuses them, cache-mode writes
 * fail later with EIO). A binding is data: refused by type, like devices.
 */
static bool pseudo_fs(int fd)
{
	static const unsigned long types[] = {
		PROC_SUPER_MAGIC, SYSFS_MAGIC, DEBUGFS_MAGIC, TRACEFS_MAGIC, SECURITYFS_MAGIC,
		CGROUP_SUPER_MAGIC, CGROUP2_SUPER_MAGIC, BPF_FS_MAGIC, CONFIGFS_MAGIC,
		EFIVARFS_MAGIC, PSTOREFS_MAGIC, FUSECTL_SUPER_MAGIC, HUGETLBFS_MAGIC,
		SELINUX_MAGIC, SMACK_MAGIC, BINFMTFS_MAGIC, NSFS_MAGIC, RDTGROUP_SUPER_MAGIC,
		DEVPTS_SUPER_MAGIC, AAFS_MAGIC, ANON_INODE_FS_MAGIC, PIPEFS_MAGIC, SOCKFS_MAGIC,
	};
	struct statfs sfs;
	size_t i;

	if (fstatfs(fd, &sfs) < 0)
		return true; /* cannot tell: refuse */
	for (i = 0; i < ARRAY_SIZE(types); i++)
		if ((unsigned long)sfs.f_type == types[i])
			return true;
	return false;
}

/*
 * Resolve path from c->rootfd (the identity's root: never closed here) to an
 * O_PATH fd without ever sending a request to this mount: a request from
 * the thread that serves this one could wait for the other threads, and
 * with every thread doing the same, nobody answers. So: one component at
 * a time (O_PATH | O_NOFOLLOW), symlinks followed here, and the device of
 * every step checked from the kernel's cache before going on (entering
 * this mount, through a link or a bind mount, is ELOOP).
 * ".." never opens anything: it goes back to the directory this walk came
 * from, kept on a stack of open fds, and stops at the root. So a chrooted
 * caller cannot climb out, not even through a directory renamed out of its
 * root meanwhile. Absolute symlink targets start again at the root.
 * Permission checks (search on directories) are the identity's: we run as it.
 */
static int resolve(struct rfs *fs, const struct caller *c, const char *path, int *ret_fd)
{
	char *buf = strdup(path), *p, *rest, *next_buf;
	int stack[WALK_MAX_DEPTH + 1];
	uint64_t mnt[WALK_MAX_DEPTH + 1];
	char target[PATH_MAX];
	int depth = 0, next, links = 0, r = 0, rootfd = c->rootfd;
	struct statx stx;
	ssize_t n = 0;

	if (!buf)
		return -ENOMEM;
	stack[0] = rootfd;
	/* The root may be inside such a mount itself (a chroot): checked as a step. */
	mnt[0] = 0;
	r = stat_cached(rootfd, &stx);
	if (r == 0)
		r = check_mount(c, &stx, &mnt[0]);
	if (r < 0) {
		free(buf);
		return r;
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
		if (strcmp(p, "..") == 0) {
			if (depth > 0)
				close(stack[depth--]);
			p = rest;
			continue;
		}
		next = openat(stack[depth], p, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0) {
			r = -errno;
			break;
		}
		r = stat_cached(next, &stx);
		if (r == 0 && makedev(stx.stx_dev_major, stx.stx_dev_minor) == fs->dev)
			r = -ELOOP;
		mnt[depth + 1] = mnt[depth];
		if (r == 0)
			r = check_mount(c, &stx, &mnt[depth + 1]);
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
			if (target[0] == '/')
				while (depth > 0)
					close(stack[depth--]);
			continue;
		}
		if (r == 0 && depth == WALK_MAX_DEPTH)
			r = -ENAMETOOLONG;
		if (r < 0) {
			close(next);
			break;
		}
		stack[++depth] = next;
		p = rest;
	}
	if (r == 0 && depth == 0) {
		/* The root itself: a directory, refused by the caller; never rootfd. */
		stack[0] = dup(rootfd);
		if (stack[0] < 0)
			r = -errno;
	}
	if (r == 0) {
		*ret_fd = stack[depth];
		depth--;
	}
	while (depth > 0)
		close(stack[depth--]);
	free(buf);
	return r;
}

/*
 * As the identity c: resolve from its root, check the type and the file
 * system, reopen read-write (its permissions, the mount's read-only flag).
 */
static int open_backing(struct rfs *fs, struct caller *c, const char *path, int *ret_fd)
{
	struct statx stx;
	char self[64];
	int opath = -1, fd, r;

	r = caller_enter(c);
	if (r < 0)
		return r;
	r = resolve(fs, c, path, &opath);
	if (r < 0)
		goto out_leave;
	r = stat_cached(opath, &stx);
	if (r == 0 && S_ISDIR(stx.stx_mode))
		r = -EISDIR;
	else if (r == 0 && !S_ISREG(stx.stx_mode))
		r = -ENODEV;
	else if (r == 0 && pseudo_fs(opath))
		r = -ENODEV;
	if (r == 0 && fs->store_dir[0]) {
		/* Reached our own store (through a link): as bad as the mount. */
		char real[PATH_MAX];
		ssize_t n;

		snprintf(self, sizeof(self), "/proc/self/fd/%d", opath);
		n = readlink(self, real, sizeof(real) - 1);
		/* A path that cannot be told (or was cut short) fails closed. */
		if (n < 0) {
			r = -errno;
		} else if ((size_t)n >= sizeof(real) - 1) {
			r = -ENAMETOOLONG;
		} else {
			real[n] = '\0';
			if (inside(real, fs->store_dir))
				r = -ELOOP;
		}
	}
	if (r == 0) {
		/*
		 * Re-open the very inode checked above; the identity's
		 * permissions and the mount it was reached through apply.
		 * Never blocks: a lease held elsewhere is EWOULDBLOCK now.
		 */
		snprintf(self, sizeof(self), "/proc/self/fd/%d", opath);
		fd = open(self, O_RDWR | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		if (fd < 0) {
			/*
			 * EWOULDBLOCK: a lease held elsewhere, now being
			 * broken. Not passed on as such: the kernel turns
			 * EAGAIN from a SETXATTR into EOPNOTSUPP.
			 */
			r = errno == EWOULDBLOCK ? -ETXTBSY : -errno;
		} else {
			/* Only the open had to be non-blocking. */
			int fl = fcntl(fd, F_GETFL);

			if (fl >= 0)
				fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
			*ret_fd = fd;
		}
	}
	close(opath);
out_leave:
	caller_leave(c);
	return r;
}

/* Lexical refusals, the same for a live bind and a binding loaded from a store. */
static int check_path(struct rfs *fs, const char *path)
{
	if (path[0] != '/')
		return -EINVAL;
	if (inside(path, fs->mnt) || (fs->store_dir[0] && inside(path, fs->store_dir)))
		return -ELOOP;
	return 0;
}

/*
 * Only the region's owner (or a caller with CAP_FOWNER) may bind it: a
 * binding kept in a store is re-opened as the region's owner, so another
 * user who may merely write the region would otherwise choose a path that
 * the owner's identity opens after a restart (a symlink of theirs pointing
 * at the owner's private files by then).
 */
static int check_owner(struct rfs *fs, fuse_ino_t ino, const struct caller *c)
{
	struct stat st;
	int r = registry_getattr(fs->reg, ino, &st, NULL);

	if (r < 0)
		return r;
	if (st.st_uid != c->uid && !(c->caps & (1ull << CAP_FOWNER)))
		return -EPERM;
	return 0;
}

int rfs_open_binding(void *ctx, const char *region, const char *path, uid_t uid, gid_t gid,
		     int *ret_fd)
{
	struct rfs *fs = ctx;
	struct caller c;
	int r = check_path(fs, path);

	if (r == 0) {
		r = caller_from_owner(uid, gid, &c);
		if (r == 0)
			r = open_backing(fs, &c, path, ret_fd);
		caller_free(&c);
	}
	/* Not an error of the daemon: the region waits; info, named by errno. */
	if (r < 0 && region)
		log_info("store: region %s stays unbound from %s for now (%s as uid %u); "
			 "opening it gives ENXIO until the file can be opened again",
			 region, path, strerrorname_np(-r) ? strerrorname_np(-r) : "?",
			 (unsigned)uid);
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

	if (!fs->passthrough && registry_getattr(fs->reg, ino, &st, NULL) == 0 && st.st_size > 0 &&
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
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct registry_cred binder = { .uid = ctx->uid, .gid = ctx->gid };
	char path[PATH_MAX];
	struct region *region;
	struct caller c;
	int fd = -1, id = 0, tries, r;

	if (size == 0 || size >= sizeof(path) || memchr(value, '\0', size) || value[0] != '/')
		return -EINVAL;
	memcpy(path, value, size);
	path[size] = '\0';
	r = registry_region(fs->reg, ino, &region);
	if (r < 0)
		return r == -EISDIR ? -EPERM : r;
	r = check_path(fs, path);
	if (r < 0)
		return r;
	r = caller_from_req(req, &c);
	if (r == 0)
		r = check_owner(fs, ino, &c);
	if (r == 0)
		r = open_backing(fs, &c, path, &fd);
	caller_free(&c);
	if (r < 0) {
		/*
		 * setfattr prints the region's name with the errno: an ENOENT
		 * here (the file) reads like a missing region. A client's
		 * mistake, so debug only (-d), naming the path.
		 */
		log_debug("bind of inode %llu to %s refused: %s", (unsigned long long)ino, path,
			  strerrorname_np(-r) ? strerrorname_np(-r) : "?");
		return r;
	}
	if (fs->passthrough) {
		struct fsid_saved as;

		/*
		 * Register now: a file the kernel cannot pass through (a
		 * stacked file system too deep) is refused here, not at every
		 * open. The kernel writes through the id with the credentials
		 * of this call: the binder's fsuid/fsgid, so that its writes
		 * allocate as the binder's own would (root reserve).
		 */
		id = fsid_enter(binder.uid, binder.gid, 0, &as);
		if (id == 0) {
			id = devio_backing_open(fs->hooks.io, fd);
			fsid_leave(&as);
		}
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
		r = registry_bind(fs->reg, ino, fd, path, &binder, (uint64_t)id, !fs->passthrough);
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
		devio_backing_close(fs->hooks.io, (uint32_t)id);
err_close:
	close(fd);
	return r;
}
