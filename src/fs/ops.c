/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The FUSE low-level operations. Each handler turns a request into registry
 * and region calls and sends exactly one reply; -errno from below becomes
 * fuse_reply_err(). A client's mistake is logged at debug level only.
 *
 * What is deliberately not implemented, and why:
 *  - flush: nothing to do at close(2); its ENOSYS makes the kernel stop
 *    sending FLUSH, saving a round trip per close.
 *  - getlk/setlk/flock: without them the kernel keeps flock() and fcntl()
 *    locks itself. Every process using a region runs on this kernel, so
 *    local locks exclude each other exactly as on tmpfs, at no round trip.
 *  - access: default_permissions is always on (options.c), so the kernel
 *    checks every access itself, exactly as on tmpfs, and never sends
 *    ACCESS (fuse_permission()). No handler checks permissions: what is
 *    left to the daemon is removing set-id bits (rfs_setattr, rfs_open).
 */
#include "fs/rfs.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>

#include "common/log.h"
#include "common/macros.h"
#include "fs/caller.h"
#include "fs/holders.h"
#include "fs/perm.h"
#include "fs/reaper.h"
#include "registry/lifetime.h"

#define XATTR_USER_PREFIX "user."
#define XATTR_RFS_PREFIX "user.regionfs."
#define XATTR_DATAPATH "user.regionfs.datapath"
#define XATTR_REQUESTS "user.regionfs.requests"
#define XATTR_CREATOR "user.regionfs.creator"
#define XATTR_HOLDERS "user.regionfs.holders"
#define XATTR_LIFETIME REGISTRY_XATTR_LIFETIME

/* Largest reply we build for readdir: the kernel asks for one page at a time. */
#define READDIR_BUF_MAX (128u * 1024u)

static struct rfs *req_rfs(fuse_req_t req)
{
	return rfs_of(fuse_req_userdata(req));
}

static void reply_err(fuse_req_t req, int neg_errno)
{
	fuse_reply_err(req, -neg_errno);
}

/*
 * How long the kernel may trust an entry and its attributes. The daemon
 * changes every anonymous region itself (or the kernel does, for
 * passthrough writes, and updates its copy): long. A file-backed region's
 * file can be changed by anyone outside the mount: never cache its size
 * and times, and revalidate the entry at every open by name, so that the
 * size the kernel checks page faults against (cache mode) is fresh.
 */
static double attr_timeout(struct rfs *fs, unsigned entry_flags)
{
	return entry_flags & REGISTRY_ENTRY_BOUND ? 0 : fs->timeout;
}

static void fill_entry(struct fuse_entry_param *e, const struct stat *st, double timeout)
{
	memset(e, 0, sizeof(*e));
	e->ino = st->st_ino;
	e->generation = 1;
	e->attr = *st;
	e->attr_timeout = e->entry_timeout = timeout;
}

/* entry_flags: enum registry_entry_flags, from the same registry call as st. */
static void reply_entry(fuse_req_t req, const struct stat *st, unsigned entry_flags)
{
	struct rfs *fs = req_rfs(req);
	struct fuse_entry_param e;

	fill_entry(&e, st, attr_timeout(fs, entry_flags));
	fuse_reply_entry(req, &e);
}

static void rfs_init(void *userdata, struct fuse_conn_info *conn)
{
	struct rfs *fs = rfs_of(userdata);
	enum rfs_datapath want = fs->opts->datapath;
	bool kernel_pt = devio_kernel_passthrough(fs->hooks.io);

	/*
	 * Passthrough needs the kernel's offer, our own device I/O (root), and
	 * a store whose size the kernel enforces (private tmpfs), because
	 * passthrough writes never reach the daemon.
	 */
	fs->passthrough = want != RFS_DATAPATH_CACHE && kernel_pt && fs->hooks.io &&
			  (store_kind(fs->store) == STORE_TMPFS || fs->store_dir[0]);
	if (want == RFS_DATAPATH_PASSTHROUGH && !fs->passthrough) {
		log_err("datapath=passthrough is not available: %s",
			!kernel_pt ? "the kernel does not offer FUSE passthrough (needs 6.9+ "
				     "with CONFIG_FUSE_PASSTHROUGH)"
				   : "the daemon needs CAP_SYS_ADMIN (run it as root)");
		fs->init_failed = true;
		fuse_session_exit(fs->se);
	}
	devio_set_passthrough(fs->hooks.io, fs->passthrough);
	devio_enable_uring(fs->hooks.io, fs->opts->uring != RFS_URING_OFF);
	if (fs->opts->uring == RFS_URING_ON && !devio_uring(fs->hooks.io)) {
		log_err("uring=on is not available: %s",
			!devio_kernel_uring(fs->hooks.io)
				? "the kernel does not offer FUSE over io_uring (needs 6.14+ with "
				  "CONFIG_FUSE_IO_URING and the fuse module's enable_uring=Y)"
				: "io_uring could not be set up in the daemon (see above)");
		fs->init_failed = true;
		fuse_session_exit(fs->se);
	}

	/* Cached mode: pages others have mapped must survive every open and size check. */
	conn->want &= ~FUSE_CAP_AUTO_INVAL_DATA;
	conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
	if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
		conn->want |= FUSE_CAP_ATOMIC_O_TRUNC; /* O_TRUNC in OPEN: no extra SETATTR */
	if (conn->capable & FUSE_CAP_READDIRPLUS)
		conn->want |= FUSE_CAP_READDIRPLUS;
	if (conn->capable & FUSE_CAP_PARALLEL_DIROPS)
		conn->want |= FUSE_CAP_PARALLEL_DIROPS;
	fs->no_opendir = conn->capable & FUSE_CAP_NO_OPENDIR_SUPPORT;
	conn->max_write = 1024 * 1024;
	conn->max_background = 64;
	conn->congestion_threshold = 48;
	conn->time_gran = 1;

	if (!fs->init_failed)
		log_info("mounted on %s, datapath=%s, requests=%s, store=%s",
			 fs->opts->mountpoint, fs->passthrough ? "passthrough" : "cache",
			 devio_uring(fs->hooks.io) ? "io_uring" : "/dev/fuse",
			 fs->store_dir[0] ? fs->store_dir
				  : store_kind(fs->store) == STORE_TMPFS ? "private tmpfs" : "memfd");
}

static void rfs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct rfs *fs = req_rfs(req);
	unsigned flags = 0;
	struct stat st;
	int r = registry_lookup(fs->reg, parent, name, &st, &flags);

	if (r == -ENOENT) {
		/* A negative entry the kernel may cache: every change of the
		 * namespace goes through this mount, so it cannot go stale. */
		struct fuse_entry_param e = { .ino = 0, .entry_timeout = fs->timeout };

		fuse_reply_entry(req, &e);
		return;
	}
	if (r < 0)
		reply_err(req, r);
	else
		reply_entry(req, &st, flags);
}

static void rfs_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	registry_forget(req_rfs(req)->reg, ino, nlookup);
	fuse_reply_none(req);
}

static void rfs_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	struct rfs *fs = req_rfs(req);
	size_t i;

	for (i = 0; i < count; i++)
		registry_forget(fs->reg, forgets[i].ino, forgets[i].nlookup);
	fuse_reply_none(req);
}

static void rfs_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct rfs *fs = req_rfs(req);
	unsigned flags = 0;
	struct stat st;
	int r = registry_getattr(fs->reg, ino, &st, &flags);

	if (r < 0)
		reply_err(req, r);
	else
		fuse_reply_attr(req, &st, attr_timeout(fs, flags));
}

static void caller_of(fuse_req_t req, struct perm_caller *ret)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);

	perm_caller_init(ret, ctx->uid, ctx->gid, ctx->pid);
}

/* The set-id bits to clear as registry_setattr() flags. */
static unsigned kill_flags(mode_t bits)
{
	return (bits & S_ISUID ? REGISTRY_KILL_SUID : 0) | (bits & S_ISGID ? REGISTRY_KILL_SGID : 0);
}

/*
 * Set-user-ID and set-group-ID bits (devio.c negotiates
 * FUSE_HANDLE_KILLPRIV_V2, which makes removing them our job; the rules are
 * tmpfs's, see perm.h). The kernel asks in three ways:
 *  - FATTR_KILL_SUIDGID (libfuse 3.14 passes it as FUSE_SET_ATTR_KILL_SUID)
 *    with a chown of a file (any caller), and with a truncate by a caller
 *    without CAP_FSETID (fuse_do_setattr());
 *  - a SETATTR that sets nothing: file_remove_privs() before a write,
 *    fallocate or copy into the file by a caller without CAP_FSETID goes
 *    through notify_change(ATTR_FORCE | ATTR_KILL_*), and fuse_setattr()
 *    drops the ATTR_KILL_* bits it cannot express but still sends the
 *    request. This is the only sign of a passthrough write, which never
 *    reaches the daemon (backing_file_write_iter() calls
 *    file_remove_privs() on the FUSE file first); chown(f, -1, -1) sends
 *    the same. Mapped stores remove nothing (as on tmpfs).
 *  - O_TRUNC in OPEN (atomic_o_trunc): rfs_open.
 * Without KILLPRIV (a daemon that is not root: libfuse 3.14 never offers
 * it, and only devio.c adds it) the kernel sends the new mode itself, by
 * its older rule (fuse_setattr(): S_ISUID, and S_ISGID only with group
 * execute), and an empty SETATTR when that rule finds nothing: the same
 * handling then also removes S_ISGID without group execute after a
 * non-member's write, except from a file that had S_ISUID too (the kernel
 * sent a mode that keeps it).
 */
static void rfs_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
			struct fuse_file_info *fi)
{
	struct rfs *fs = req_rfs(req);
	struct registry_setattr sa = { 0 };
	bool kill = to_set == 0 || (to_set & FUSE_SET_ATTR_KILL_SUID);
	struct perm_caller who;
	struct stat st, cur;
	unsigned flags = 0;
	int r;

	if (kill) {
		r = registry_getattr(fs->reg, ino, &cur, NULL);
		if (r < 0) {
			reply_err(req, r);
			return;
		}
		caller_of(req, &who);
		sa.valid |= kill_flags(perm_kill_bits(&who, &cur));
	}
	if (to_set & FUSE_SET_ATTR_MODE) {
		/* A chmod's S_ISGID rule: setattr_prepare() applied it already. */
		sa.valid |= REGISTRY_SET_MODE;
		sa.mode = attr->st_mode;
	}
	if (to_set & FUSE_SET_ATTR_UID) {
		sa.valid |= REGISTRY_SET_UID;
		sa.uid = attr->st_uid;
	}
	if (to_set & FUSE_SET_ATTR_GID) {
		sa.valid |= REGISTRY_SET_GID;
		sa.gid = attr->st_gid;
	}
	if (to_set & FUSE_SET_ATTR_SIZE) {
		if (attr->st_size < 0) {
			reply_err(req, -EINVAL);
			return;
		}
		sa.valid |= REGISTRY_SET_SIZE;
		sa.size = (uint64_t)attr->st_size;
	}
	if (to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_ATIME_NOW)) {
		sa.valid |= REGISTRY_SET_ATIME;
		sa.atime = attr->st_atim;
		if (to_set & FUSE_SET_ATTR_ATIME_NOW)
			sa.atime.tv_nsec = UTIME_NOW;
	}
	if (to_set & (FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_MTIME_NOW)) {
		sa.valid |= REGISTRY_SET_MTIME;
		sa.mtime = attr->st_mtim;
		if (to_set & FUSE_SET_ATTR_MTIME_NOW)
			sa.mtime.tv_nsec = UTIME_NOW;
	}
	r = registry_setattr(fs->reg, ino, &sa, &st, &flags);
	if (r < 0) {
		log_debug("setattr of inode %llu: %s", (unsigned long long)ino, strerror(-r));
		reply_err(req, r);
		return;
	}
	fuse_reply_attr(req, &st, attr_timeout(fs, flags));
}

static struct registry_cred req_cred(fuse_req_t req)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct registry_cred c = { .uid = ctx->uid, .gid = ctx->gid };

	return c;
}

/*
 * Who is creating a region (user.regionfs.creator): the request's process
 * (ctx->pid is the calling thread: its thread group), its start time and
 * comm read now, while it waits for us (fs/reaper.h). Those reads are racy
 * (the process may be gone, or in a pid namespace we cannot see into):
 * they fail soft, never the create.
 */
static void req_creator(fuse_req_t req, struct registry_creator *ret)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);

	reaper_identify(ctx->pid, ctx->uid, ret);
}

/* A new region whose lifetime (from its directory) is creator: watch its creator. */
static void watch_new(struct rfs *fs, uint64_t ino, const struct registry_creator *c)
{
	enum registry_lifetime lt;

	if (registry_lifetime(fs->reg, ino, &lt) == 0 && lt == REGISTRY_LIFETIME_CREATOR)
		reaper_watch(fs->reaper, ino, c);
}

static void rfs_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		      dev_t rdev)
{
	struct rfs *fs = req_rfs(req);
	struct registry_cred cred = req_cred(req);
	struct registry_creator creator;
	struct stat st;
	int r;

	/* Regions only: no devices, fifos or sockets in a region namespace. */
	if (!S_ISREG(mode)) {
		reply_err(req, -EPERM);
		return;
	}
	req_creator(req, &creator);
	cred.creator = &creator;
	r = registry_create(fs->reg, parent, name, mode, &cred, &st);
	if (r == 0)
		watch_new(fs, st.st_ino, &creator);
	if (r < 0)
		reply_err(req, r);
	else
		reply_entry(req, &st, 0); /* new: anonymous */
}

static void rfs_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	struct rfs *fs = req_rfs(req);
	struct registry_cred cred = req_cred(req);
	struct stat st;
	int r = registry_mkdir(fs->reg, parent, name, mode, &cred, &st);

	if (r < 0)
		reply_err(req, r);
	else
		reply_entry(req, &st, 0);
}

static void rfs_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	reply_err(req, -EPERM);
}

static void rfs_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	reply_err(req, registry_unlink(req_rfs(req)->reg, parent, name));
}

static void rfs_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	reply_err(req, registry_rmdir(req_rfs(req)->reg, parent, name));
}

static void rfs_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		       const char *newname, unsigned int flags)
{
	reply_err(req, registry_rename(req_rfs(req)->reg, parent, name, newparent, newname, flags));
}

static void rfs_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
	unsigned flags = 0;
	struct stat st;
	int r = registry_link(req_rfs(req)->reg, ino, newparent, newname, &st, &flags);

	if (r < 0)
		reply_err(req, r);
	else
		reply_entry(req, &st, flags);
}

/*
 * The backing id of a region, registered on first open and kept until the
 * region is freed: one id per region, since the kernel refuses a second
 * backing file for an inode that has one (EBUSY).
 */
static int backing_id(struct rfs *fs, fuse_ino_t ino, struct region *region, uint64_t *ret)
{
	struct fsid_saved as;
	uint64_t cookie;
	int r, id, fd;

	r = registry_cookie(fs->reg, ino, &cookie);
	if (r < 0 || cookie) {
		if (r == 0)
			*ret = cookie;
		return r;
	}
	fd = region_fd_get(region);
	if (fd < 0)
		return fd;
	/*
	 * The kernel keeps its own reference to the file: the fd may be
	 * closed after. It also keeps the credentials of this call for every
	 * passthrough write: a bound file's binder's, so that those writes
	 * allocate as the binder's own (root reserve, quota); nobody's for a
	 * file of a persistent store (never root's reserve, region_adopt()).
	 */
	id = region_alloc_enter(region, &as);
	if (id == 0) {
		id = devio_backing_open(fs->hooks.io, fd);
		region_alloc_leave(&as);
	}
	region_fd_put(region);
	if (id < 0) {
		log_err("registering the backing file of inode %llu for passthrough: %s",
			(unsigned long long)ino, strerror(-id));
		return id;
	}
	r = registry_attach_cookie(fs->reg, ino, (uint64_t)id, &cookie);
	if (r < 0 || cookie != (uint64_t)id)
		devio_backing_close(fs->hooks.io, (uint32_t)id); /* another open won, or the inode went */
	if (r == 0)
		*ret = cookie;
	return r;
}

void rfs_cookie_release(void *ctx, uint64_t cookie)
{
	struct rfs *fs = ctx;

	devio_backing_close(fs->hooks.io, (uint32_t)cookie);
}

/*
 * Finish an open: truncate for O_TRUNC (atomic_o_trunc), set the data path
 * flags. In passthrough mode the backing id travels in fh; the device hook
 * moves it to where the kernel wants it (devio.c).
 */
static int open_common(struct rfs *fs, fuse_ino_t ino, struct region *region,
		       struct fuse_file_info *fi)
{
	int r;

	if (fi->flags & O_TRUNC) {
		r = region_resize(region, 0);
		if (r < 0)
			return r;
	}
	fi->direct_io = 0;
	fi->fh = 0;
	if (rfs_seals_passthrough(fs, region)) {
		uint64_t id = 0;

		r = backing_id(fs, ino, region, &id);
		if (r < 0)
			return r;
		fi->fh = id;
		fi->keep_cache = 0;
	} else {
		/*
		 * Cached mode: never drop pages that others have mapped. Only
		 * when a file-backed region's file was changed from outside
		 * the mount since the daemon last touched it are its cached
		 * pages stale: then this open drops them. (The open count
		 * cannot tell: RELEASE arrives asynchronously.)
		 */
		fi->keep_cache = !region_changed_outside(region);
	}
	return 0;
}

/*
 * Before an open with O_TRUNC: the set-id bits it removes (a truncate by a
 * caller without CAP_FSETID, as do_truncate() on tmpfs; with
 * atomic_o_trunc no SETATTR follows). The kernel checked the permission.
 */
static int open_trunc(struct rfs *fs, fuse_req_t req, fuse_ino_t ino, int flags)
{
	struct perm_caller who;
	struct registry_setattr sa = { 0 };
	struct stat st;
	int r;

	if (!(flags & O_TRUNC))
		return 0;
	r = registry_getattr(fs->reg, ino, &st, NULL);
	if (r < 0)
		return r;
	caller_of(req, &who);
	sa.valid = kill_flags(perm_write_kills(&who, &st));
	if (!sa.valid)
		return 0;
	r = registry_setattr(fs->reg, ino, &sa, &st, NULL);
	/*
	 * An OPEN reply carries no attributes: make the kernel forget the
	 * mode it has. Attributes only (offset < 0): fuse_reverse_inval_inode()
	 * then takes no lock a request could hold, so unlike other
	 * notifications this one is safe from a handler, and it must be done
	 * before the reply, for the caller's next stat(2).
	 */
	if (r == 0)
		fuse_lowlevel_notify_inval_inode(fs->se, ino, -1, 0);
	return r;
}

static void rfs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct rfs *fs = req_rfs(req);
	struct region *region;
	int r = open_trunc(fs, req, ino, fi->flags);

	if (r == 0)
		r = registry_open_flags(fs->reg, ino, fi->flags, &region);
	if (r < 0) {
		reply_err(req, r);
		return;
	}
	r = open_common(fs, ino, region, fi);
	if (r < 0) {
		registry_release_flags(fs->reg, ino, fi->flags);
		reply_err(req, r);
		return;
	}
	if (fuse_reply_open(req, fi) < 0)
		registry_release_flags(fs->reg, ino, fi->flags); /* interrupted: no RELEASE will come */
}

static void rfs_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		       struct fuse_file_info *fi)
{
	struct rfs *fs = req_rfs(req);
	struct registry_cred cred = req_cred(req);
	struct registry_creator creator;
	struct fuse_entry_param e;
	struct region *region;
	struct stat st;
	int r;

	if (!S_ISREG(mode) && (mode & S_IFMT)) {
		reply_err(req, -EPERM);
		return;
	}
	req_creator(req, &creator);
	cred.creator = &creator;
	r = registry_create(fs->reg, parent, name, mode, &cred, &st);
	if (r < 0) {
		reply_err(req, r);
		return;
	}
	fill_entry(&e, &st, fs->timeout); /* new: anonymous */
	r = registry_open_flags(fs->reg, e.ino, fi->flags, &region);
	if (r == 0) {
		r = open_common(fs, e.ino, region, fi);
		if (r < 0)
			registry_release_flags(fs->reg, e.ino, fi->flags);
	}
	if (r < 0) {
		/* Undo the create: the kernel will not know the name exists. */
		registry_unlink(fs->reg, parent, name);
		registry_forget(fs->reg, e.ino, 1);
		reply_err(req, r);
		return;
	}
	watch_new(fs, e.ino, &creator);
	if (fuse_reply_create(req, &e, fi) < 0) {
		registry_release_flags(fs->reg, e.ino, fi->flags);
		registry_forget(fs->reg, e.ino, 1);
	}
}

static void rfs_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct rfs *fs = req_rfs(req);
	uint64_t gen;

	if (registry_release_idle(fs->reg, ino, fi->flags, &gen))
		reaper_closed(fs->reaper, ino, gen); /* lifetime last-close */
	fuse_reply_err(req, 0);
}

static void rfs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	struct fuse_bufvec buf = FUSE_BUFVEC_INIT(size);
	struct region *region;
	int r = registry_region(req_rfs(req)->reg, ino, &region);

	if (r == 0)
		r = region_fd_get(region);
	if (r < 0) {
		reply_err(req, r);
		return;
	}
	/* Straight from the backing fd: a read inside the region never fails. */
	buf.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	buf.buf[0].fd = r;
	buf.buf[0].pos = off;
	fuse_reply_data(req, &buf, FUSE_BUF_SPLICE_MOVE);
	/*
	 * Pinned until the data left: the reply reads from the fd. The
	 * caller may close, unlink and forget the region before this runs:
	 * region_free() waits for the pin.
	 */
	region_fd_put(region);
}

static void rfs_write(fuse_req_t req, fuse_ino_t ino, const char *data, size_t size, off_t off,
		      struct fuse_file_info *fi)
{
	struct region *region;
	ssize_t n;
	int r = registry_region(req_rfs(req)->reg, ino, &region);

	if (r == 0 && off < 0)
		r = -EINVAL;
	if (r < 0) {
		reply_err(req, r);
		return;
	}
	n = region_write(region, data, size, (uint64_t)off);
	if (n < 0)
		reply_err(req, (int)n);
	else
		fuse_reply_write(req, (size_t)n);
}

static void rfs_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	struct region *region;
	int r = registry_region(req_rfs(req)->reg, ino, &region);

	if (r == 0)
		r = region_flush(region, datasync);
	reply_err(req, r);
}

static void rfs_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t off, off_t len,
			  struct fuse_file_info *fi)
{
	struct region *region;
	int r = registry_region(req_rfs(req)->reg, ino, &region);

	if (r == 0) {
		if (off < 0 || len <= 0)
			r = -EINVAL;
		else
			r = region_fallocate(region, mode, (uint64_t)off, (uint64_t)len);
	}
	reply_err(req, r);
}

static void rfs_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct rfs *fs = req_rfs(req);
	uint64_t used = 0, limit = store_limit(fs->store), inodes, max_inodes;
	struct statvfs sv = { 0 };
	int r = store_used(fs->store, &used);

	if (r < 0) {
		reply_err(req, r);
		return;
	}
	registry_inodes(fs->reg, &inodes, &max_inodes);
	sv.f_bsize = RFS_PAGE_SIZE;
	sv.f_frsize = RFS_PAGE_SIZE;
	sv.f_blocks = limit / RFS_PAGE_SIZE;
	sv.f_bfree = used >= limit ? 0 : (limit - used) / RFS_PAGE_SIZE;
	sv.f_bavail = sv.f_bfree;
	if (max_inodes) {
		sv.f_files = max_inodes;
		sv.f_ffree = inodes >= max_inodes ? 0 : max_inodes - inodes;
	} else {
		sv.f_files = UINT32_MAX; /* unlimited: show a large, honest-looking count */
		sv.f_ffree = UINT32_MAX - inodes;
	}
	sv.f_favail = sv.f_ffree;
	sv.f_namemax = RFS_NAME_MAX;
	fuse_reply_statfs(req, &sv);
}

/*
 * Only the user namespace is stored (as on tmpfs without ACLs/SELinux
 * labels); user.regionfs.* is ours: read-only facts about the mount.
 * A namespace prefix alone names nothing: the VFS answers EINVAL for it on
 * tmpfs (xattr_resolve_name()), but FUSE passes every name through.
 */
static int xattr_name_check(const char *name, bool writing)
{
	if (strcmp(name, XATTR_USER_PREFIX) == 0 || strcmp(name, "trusted.") == 0 ||
	    strcmp(name, "security.") == 0)
		return -EINVAL;
	if (strncmp(name, XATTR_USER_PREFIX, strlen(XATTR_USER_PREFIX)) != 0)
		return writing ? -EOPNOTSUPP : -ENODATA;
	if (writing && strncmp(name, XATTR_RFS_PREFIX, strlen(XATTR_RFS_PREFIX)) == 0)
		return -EPERM;
	return 0;
}

static void reply_xattr_size(fuse_req_t req, size_t size, ssize_t r, const void *buf)
{
	if (r < 0) {
		reply_err(req, (int)r);
		return;
	}
	if (size == 0)
		fuse_reply_xattr(req, (size_t)r);
	else
		fuse_reply_buf(req, buf, (size_t)r);
}

/*
 * user.regionfs.lifetime: always has a value (persist by default), so
 * XATTR_CREATE is EEXIST; removing it sets persist. The kernel checked the
 * permission as for any user.* attribute (write access; a sticky
 * directory's owner only). A region whose creator is gone already when it
 * gets creator goes at once.
 */
/*
 * Setting a lifetime or adding seals is the owner's, as chmod is (or
 * CAP_FOWNER's); the kernel checked write access already (user.*
 * attributes). Writing a region gives no right to remove it (in a sticky
 * directory such as /dev/shm, another user who may write a 0666 region may
 * not unlink it, so may not make it go at its next close either), nor to
 * keep someone else's from going, nor to fix its size or contents for good
 * (a seal is never removed, not even by the owner).
 */
static int check_owner_attr(struct rfs *fs, fuse_req_t req, fuse_ino_t ino)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct perm_caller c;
	struct stat st;
	int r = registry_getattr(fs->reg, ino, &st, NULL);

	if (r < 0)
		return r;
	if (st.st_uid == ctx->uid)
		return 0;
	perm_caller_init(&c, ctx->uid, ctx->gid, ctx->pid);
	return perm_capable(&c, CAP_FOWNER) ? 0 : -EPERM;
}

static int set_lifetime(struct rfs *fs, fuse_req_t req, fuse_ino_t ino, const char *value,
			size_t size, int flags)
{
	struct registry_creator c = { 0 };
	enum registry_lifetime lt = REGISTRY_LIFETIME_PERSIST;
	int r = 0;

	if (flags & XATTR_CREATE)
		return -EEXIST;
	if (value)
		r = registry_lifetime_parse(value, size, &lt);
	if (r == 0)
		r = check_owner_attr(fs, req, ino);
	if (r == 0)
		r = registry_set_lifetime(fs->reg, ino, lt, &c);
	if (r == 0 && lt == REGISTRY_LIFETIME_CREATOR && c.pid > 0)
		reaper_watch(fs->reaper, ino, &c);
	return r;
}

/* Like the other user.regionfs.* values: no NUL, no newline. */
static ssize_t get_lifetime(struct rfs *fs, fuse_ino_t ino, char *buf, size_t size)
{
	enum registry_lifetime lt;
	const char *v;
	int r = registry_lifetime(fs->reg, ino, &lt);

	if (r < 0)
		return r;
	v = registry_lifetime_name(lt);
	if (size && size < strlen(v))
		return -ERANGE;
	if (size)
		memcpy(buf, v, strlen(v));
	return (ssize_t)strlen(v);
}

static void rfs_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
			 size_t size, int flags)
{
	int r;

	if (strcmp(name, XATTR_LIFETIME) == 0) {
		r = set_lifetime(req_rfs(req), req, ino, value, size, flags);
	} else if (strcmp(name, RFS_XATTR_SEALS) == 0) {
		r = check_owner_attr(req_rfs(req), req, ino);
		if (r == 0) /* flags: adding is never a replace */
			r = rfs_seals_add(req_rfs(req), ino, value, size);
	} else if (strcmp(name, RFS_XATTR_BACKING) == 0) {
		r = (flags & XATTR_REPLACE) ? -ENODATA : rfs_bind(req_rfs(req), req, ino, value, size);
		if (r < 0)
			log_debug("binding inode %llu to '%.*s': %s", (unsigned long long)ino,
				  (int)size, value, strerror(-r));
	} else {
		r = xattr_name_check(name, true);
		if (r == 0)
			r = registry_setxattr(req_rfs(req)->reg, ino, name, value, size, flags);
	}
	reply_err(req, r);
}

static void rfs_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	struct rfs *fs = req_rfs(req);
	char *buf = NULL;
	ssize_t r;

	if (ino == REGISTRY_ROOT_INO &&
	    (strcmp(name, XATTR_DATAPATH) == 0 || strcmp(name, XATTR_REQUESTS) == 0)) {
		/* requests: io_uring once a request came that way (this one does, if any). */
		const char *v = strcmp(name, XATTR_REQUESTS) == 0
					? (uring_active(fs->uring) ? "io_uring" : "/dev/fuse")
				: fs->passthrough ? "passthrough"
						  : "cache";

		r = (ssize_t)strlen(v);
		if (size && size < (size_t)r)
			r = -ERANGE;
		reply_xattr_size(req, size, r, v);
		return;
	}
	r = xattr_name_check(name, false);
	if (r < 0) {
		reply_err(req, (int)r);
		return;
	}
	if (strcmp(name, XATTR_HOLDERS) == 0) {
		/* A /proc pass: the holders thread runs it and replies (holders.h). */
		r = holders_request(fs->holders, req, ino, size);
		if (r < 0)
			reply_err(req, (int)r);
		return;
	}
	if (size) {
		buf = malloc(size);
		if (!buf) {
			reply_err(req, -ENOMEM);
			return;
		}
	}
	if (strcmp(name, RFS_XATTR_BACKING) == 0)
		r = registry_backing_path(fs->reg, ino, buf, size);
	else if (strcmp(name, XATTR_LIFETIME) == 0)
		r = get_lifetime(fs, ino, buf, size);
	else if (strcmp(name, XATTR_CREATOR) == 0)
		r = registry_creator(fs->reg, ino, buf, size);
	else if (strcmp(name, RFS_XATTR_SEALS) == 0)
		r = rfs_seals_get(fs, ino, buf, size);
	else
		r = registry_getxattr(fs->reg, ino, name, buf, size);
	if (r == -EISDIR)
		r = -ENODATA; /* regions' names, asked of a directory */
	reply_xattr_size(req, size, r, buf);
	free(buf);
}

static void rfs_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	struct rfs *fs = req_rfs(req);
	/*
	 * Ours, listed where they apply: the mount's facts on the root, the
	 * binding on bound regions. Not the creator: "cp --preserve=xattr"
	 * between regions would fail setting it (EPERM) and "cp -a" out of
	 * the mount would copy it as a plain attribute. Not the lifetime:
	 * "cp --preserve=xattr" out of the mount would copy it as a plain
	 * attribute too. Not the seals: a copy would come out sealed (cp
	 * sets attributes after the data, so it could never grow or be
	 * written again), and outside the mount they mean nothing. Not the
	 * holders either: a scan of /proc for every "getfattr -d", and a
	 * momentary value. All are read by name.
	 */
	static const char root_names[] = XATTR_DATAPATH "\0" XATTR_REQUESTS;
	static const char backing_name[] = RFS_XATTR_BACKING;
	char extra[sizeof(root_names) + sizeof(backing_name)];
	size_t extra_len = 0;
	char *buf = NULL;
	ssize_t r;

	if (size) {
		buf = malloc(size);
		if (!buf) {
			reply_err(req, -ENOMEM);
			return;
		}
	}
	if (ino == REGISTRY_ROOT_INO) {
		memcpy(extra, root_names, sizeof(root_names));
		extra_len = sizeof(root_names);
	} else if (registry_backing_path(fs->reg, ino, NULL, 0) >= 0) {
		memcpy(extra, backing_name, sizeof(backing_name));
		extra_len = sizeof(backing_name);
	}
	r = registry_listxattr(fs->reg, ino, buf, size);
	if (r >= 0 && size) {
		if ((size_t)r + extra_len > size)
			r = -ERANGE;
		else
			memcpy(buf + r, extra, extra_len);
	}
	if (r >= 0)
		r += (ssize_t)extra_len;
	reply_xattr_size(req, size, r, buf);
	free(buf);
}

static void rfs_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	int r;

	if (strcmp(name, XATTR_LIFETIME) == 0) {
		reply_err(req, set_lifetime(req_rfs(req), req, ino, NULL, 0, 0));
		return;
	}
	r = strcmp(name, RFS_XATTR_SEALS) == 0 ? rfs_seals_remove(req_rfs(req), ino)
					       : xattr_name_check(name, true);
	if (r == 0)
		r = registry_removexattr(req_rfs(req)->reg, ino, name);
	reply_err(req, r);
}

static void rfs_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct rfs *fs = req_rfs(req);
	struct stat st;
	int r;

	/* Directory streams need no state here (positions are stable): when
	 * the kernel allows it, one ENOSYS ends OPENDIR round trips for good. */
	if (fs->no_opendir) {
		reply_err(req, -ENOSYS);
		return;
	}
	r = registry_getattr(fs->reg, ino, &st, NULL);
	if (r == 0 && !S_ISDIR(st.st_mode))
		r = -ENOTDIR;
	if (r < 0) {
		reply_err(req, r);
		return;
	}
	fi->fh = 0;
	fuse_reply_open(req, fi);
}

struct dirbuf {
	fuse_req_t req;
	char *buf;
	size_t size, used;
	bool plus;
	double timeout;
};

static int dirbuf_fill(void *ctx, const char *name, const struct stat *st, uint64_t next_off,
		       unsigned flags)
{
	struct dirbuf *db = ctx;
	size_t n;

	if (db->plus) {
		struct fuse_entry_param e;

		/* The flags come with the entry: whether the region is bound. */
		fill_entry(&e, st, flags & REGISTRY_ENTRY_BOUND ? 0 : db->timeout);
		n = fuse_add_direntry_plus(db->req, db->buf + db->used, db->size - db->used, name,
					   &e, (off_t)next_off);
	} else {
		n = fuse_add_direntry(db->req, db->buf + db->used, db->size - db->used, name, st,
				      (off_t)next_off);
	}
	if (n > db->size - db->used)
		return 1;
	db->used += n;
	return 0;
}

static void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, bool plus)
{
	struct rfs *fs = req_rfs(req);
	struct dirbuf db = {
		.req = req,
		.size = RFS_MIN(size, READDIR_BUF_MAX),
		.plus = plus,
		.timeout = fs->timeout,
	};
	int r;

	if (off < 0) {
		reply_err(req, -EINVAL);
		return;
	}
	db.buf = malloc(db.size);
	if (!db.buf) {
		reply_err(req, -ENOMEM);
		return;
	}
	r = registry_readdir(fs->reg, ino, (uint64_t)off, plus, dirbuf_fill, &db);
	if (r < 0)
		reply_err(req, r);
	else
		fuse_reply_buf(req, db.buf, db.used);
	free(db.buf);
}

static void rfs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, false);
}

static void rfs_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			    struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, true);
}

static void rfs_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	/* In memory: nothing to flush; with a store, its directory. */
	reply_err(req, registry_fsyncdir(req_rfs(req)->reg, ino));
}

const struct fuse_lowlevel_ops rfs_ops = {
	.init = rfs_init,
	.lookup = rfs_lookup,
	.forget = rfs_forget,
	.forget_multi = rfs_forget_multi,
	.getattr = rfs_getattr,
	.setattr = rfs_setattr,
	.mknod = rfs_mknod,
	.mkdir = rfs_mkdir,
	.symlink = rfs_symlink,
	.unlink = rfs_unlink,
	.rmdir = rfs_rmdir,
	.rename = rfs_rename,
	.link = rfs_link,
	.open = rfs_open,
	.create = rfs_create,
	.read = rfs_read,
	.write = rfs_write,
	.release = rfs_release,
	.fsync = rfs_fsync,
	.fallocate = rfs_fallocate,
	.statfs = rfs_statfs,
	.setxattr = rfs_setxattr,
	.getxattr = rfs_getxattr,
	.listxattr = rfs_listxattr,
	.removexattr = rfs_removexattr,
	.opendir = rfs_opendir,
	.readdir = rfs_readdir,
	.readdirplus = rfs_readdirplus,
	.fsyncdir = rfs_fsyncdir,
};

/* The handlers' name policy, without a request: for tests/fuzz/fuzz_xattr.c. */
int rfs_xattr_name_check(const char *name, bool writing)
{
	return xattr_name_check(name, writing);
}
