/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "registry/persist.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/fsid.h"
#include "common/hmap.h"
#include "common/list.h"
#include "common/log.h"
#include "common/macros.h"
#include "region/region.h"
#include "registry/journal.h"

#define FORMAT_LINE "regionfs-store 1\n"

static const struct journal_ops jnl_ops;

struct persist {
	struct journal journal; /* persist_journal() */
	char *dir;
	int dirfd;
	int lockfd;
	int tmpfd; /* DIR/tmp */
	unsigned long seq; /* names of temporary directories */
	bool created;      /* initialized by this persist_open() */
};

static int fail(char *err, size_t errlen, int r, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	rfs_log_printable(err); /* names in the store are users' names: keep one line */
	return r;
}

/*
 * A stream over directory name in dirfd ("." for dirfd itself); NULL with
 * errno. Always a new open file, never a dup: listing must not move the
 * offset of an fd someone else keeps.
 */
static DIR *open_dir_at(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d;

	if (fd < 0)
		return NULL;
	d = fdopendir(fd);
	if (!d) {
		int e = errno;

		close(fd);
		errno = e;
	}
	return d;
}

/* The next entry's name, "." and ".." skipped; NULL at the end. */
static const char *next_name(DIR *d)
{
	struct dirent *de;

	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			return de->d_name;
	return NULL;
}

/* An empty directory (for the leftovers of an interrupted initialization)? */
static bool dir_empty(int dirfd, const char *name)
{
	DIR *d = open_dir_at(dirfd, name);
	bool empty;

	if (!d)
		return false;
	empty = !next_name(d);
	closedir(d);
	return empty;
}

/*
 * May we make a new store here? Only in an empty directory, or one that
 * holds nothing but what an initialization killed half-way leaves (the
 * lock, an unfinished format.new, empty root/ and tmp/): then finish it.
 */
static int is_fresh(int dirfd, bool *ret)
{
	DIR *d = open_dir_at(dirfd, ".");
	const char *n;

	if (!d)
		return -errno;
	*ret = true;
	while ((n = next_name(d))) {
		struct stat st;
		bool file = !strcmp(n, "lock") || !strcmp(n, "format.new");
		bool dir = !strcmp(n, "root") || !strcmp(n, "tmp");

		/* Ours only: another user's leftover could be open in their hands. */
		if ((file || dir) && fstatat(dirfd, n, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    st.st_uid == geteuid() && !(st.st_mode & (S_IWGRP | S_IWOTH)) &&
		    (file ? S_ISREG(st.st_mode) : S_ISDIR(st.st_mode) && dir_empty(dirfd, n)))
			continue;
		*ret = false;
		break;
	}
	closedir(d);
	return 0;
}

/*
 * Is DIR private (persist.h)? Ours, and nobody else may search or write
 * it. The group bits also stand for an ACL's mask, so an ACL granting
 * another user entry shows here too.
 */
static int check_private(const char *dir, const struct stat *st, char *err, size_t errlen)
{
	if (st->st_uid != geteuid())
		return fail(err, errlen, -EPERM,
			    "store %s is owned by uid %u, not by the daemon's uid %u: the store "
			    "must be private to the daemon (chown %u %s; chmod 700 %s)",
			    dir, (unsigned)st->st_uid, (unsigned)geteuid(), (unsigned)geteuid(),
			    dir, dir);
	if (st->st_mode & (S_IWGRP | S_IXGRP | S_IWOTH | S_IXOTH))
		return fail(err, errlen, -EPERM,
			    "store %s has mode %04o: other users could reach the store, which "
			    "must be private to the daemon (chmod 700 %s)",
			    dir, (unsigned)(st->st_mode & 07777), dir);
	return 0;
}

/* A new store: root/, tmp/, then format last (its presence means complete). */
static int init_store(struct persist *p, char *err, size_t errlen)
{
	int fd;

	if (mkdirat(p->dirfd, "root", 0755) < 0 && errno != EEXIST)
		return fail(err, errlen, -errno, "store %s/root: %s", p->dir, strerror(errno));
	if (mkdirat(p->dirfd, "tmp", 0700) < 0 && errno != EEXIST)
		return fail(err, errlen, -errno, "store %s/tmp: %s", p->dir, strerror(errno));
	/*
	 * format.new may be left by an interrupted initialization. Replace it,
	 * never write through it: a symlink there would have root truncate and
	 * write whatever it points to.
	 */
	if (unlinkat(p->dirfd, "format.new", 0) < 0 && errno != ENOENT)
		return fail(err, errlen, -errno, "store %s/format.new: %s", p->dir, strerror(errno));
	fd = openat(p->dirfd, "format.new", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		    0644);
	if (fd < 0)
		return fail(err, errlen, -errno, "store %s/format.new: %s", p->dir, strerror(errno));
	if (write(fd, FORMAT_LINE, strlen(FORMAT_LINE)) != (ssize_t)strlen(FORMAT_LINE) ||
	    fsync(fd) < 0) {
		int e = errno ? errno : EIO;

		close(fd);
		return fail(err, errlen, -e, "store %s/format.new: %s", p->dir, strerror(e));
	}
	close(fd);
	if (renameat(p->dirfd, "format.new", p->dirfd, "format") < 0 || fsync(p->dirfd) < 0)
		return fail(err, errlen, -errno, "store %s/format: %s", p->dir, strerror(errno));
	log_debug("store %s: initialized", p->dir);
	return 0;
}

static int check_format(struct persist *p, char *err, size_t errlen)
{
	char buf[64] = "";
	struct stat st;
	ssize_t n = -1;
	/* Non-blocking: a fifo named format must not hang the start. */
	int fd = openat(p->dirfd, "format", O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);

	if (fd < 0)
		return fail(err, errlen, -errno, "store %s/format: %s", p->dir, strerror(errno));
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0 || strcmp(buf, FORMAT_LINE) != 0)
		return fail(err, errlen, -EINVAL,
			    "store %s/format: not a regionfs store of a format this version knows",
			    p->dir);
	return 0;
}

/* Remove what a crash left in DIR/tmp (unfinished directories, empty ones). */
static void clean_tmp(struct persist *p)
{
	DIR *d = open_dir_at(p->tmpfd, ".");
	const char *n;

	if (!d)
		return;
	while ((n = next_name(d)))
		if (unlinkat(p->tmpfd, n, AT_REMOVEDIR) < 0 && unlinkat(p->tmpfd, n, 0) < 0)
			log_debug("store: cannot remove tmp/%s: %m", n);
	closedir(d);
}

static int open_subdir(struct persist *p, const char *name, int flags, int *ret, char *err,
		       size_t errlen)
{
	int fd = openat(p->dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | flags);

	if (fd < 0)
		return fail(err, errlen, errno == ENOTDIR || errno == ELOOP ? -EINVAL : -errno,
			    "store %s/%s: %s", p->dir, name, strerror(errno));
	*ret = fd;
	return 0;
}

/*
 * A directory that is to become a new store: empty (or what an interrupted
 * initialization left) and ours; made private before anything is written
 * into it. Anyone who could write it until now loses that at the chmod,
 * fds they hold included (a directory's fd grants nothing by itself), so
 * emptiness is checked again after it.
 */
static int make_private(struct persist *p, const struct stat *st, char *err, size_t errlen)
{
	bool empty = false;
	int r;

	if (st->st_uid != geteuid())
		return check_private(p->dir, st, err, errlen);
	for (int pass = 0; pass < 2; pass++) {
		r = is_fresh(p->dirfd, &empty);
		if (r < 0)
			return fail(err, errlen, r, "store %s: %s", p->dir, strerror(-r));
		if (!empty)
			return fail(err, errlen, -EINVAL,
				    "store %s: not empty and not a regionfs store (no %s/format)",
				    p->dir, p->dir);
		if (pass == 0 && (st->st_mode & 07777) != 0700 && fchmod(p->dirfd, 0700) < 0)
			return fail(err, errlen, -errno, "store %s: %s", p->dir, strerror(errno));
	}
	return 0;
}

int persist_open(const char *dir, struct persist **ret, char *err, size_t errlen)
{
	struct persist *p;
	struct stat st;
	bool has_format;
	int r;

	p = calloc(1, sizeof(*p));
	if (!p)
		return fail(err, errlen, -ENOMEM, "store %s: out of memory", dir);
	p->journal.ops = &jnl_ops;
	p->dirfd = p->lockfd = p->tmpfd = -1;
	p->dir = strdup(dir);
	if (!p->dir) {
		r = fail(err, errlen, -ENOMEM, "store %s: out of memory", dir);
		goto err_free;
	}
	p->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (p->dirfd < 0) {
		r = -errno;
		if (lstat(dir, &st) == 0 && S_ISLNK(st.st_mode))
			r = fail(err, errlen, -ELOOP,
				 "store %s is a symbolic link: give the directory itself", dir);
		else
			fail(err, errlen, r, "store %s: %s", dir, strerror(-r));
		goto err_free;
	}
	if (fstat(p->dirfd, &st) < 0) {
		r = fail(err, errlen, -errno, "store %s: %s", dir, strerror(errno));
		goto err_free;
	}
	/* Never write into a directory that is not (yet) ours: check first. */
	has_format = faccessat(p->dirfd, "format", F_OK, AT_SYMLINK_NOFOLLOW) == 0;
	if (has_format) {
		r = check_format(p, err, errlen);
		if (r < 0)
			goto err_free;
		r = check_private(dir, &st, err, errlen);
		if (r < 0)
			goto err_free;
	} else {
		r = make_private(p, &st, err, errlen);
		if (r < 0)
			goto err_free;
	}
	p->lockfd = openat(p->dirfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (p->lockfd < 0) {
		r = fail(err, errlen, -errno, "store %s/lock: %s", dir, strerror(errno));
		goto err_free;
	}
	if (flock(p->lockfd, LOCK_EX | LOCK_NB) < 0) {
		r = fail(err, errlen, errno == EWOULDBLOCK ? -EBUSY : -errno,
			 "store %s is in use by another regionfs (%s/lock is locked)", dir, dir);
		goto err_free;
	}
	if (!has_format) {
		r = init_store(p, err, errlen);
		if (r < 0)
			goto err_free;
	}
	p->created = !has_format;
	if (r < 0)
		goto err_free;
	r = open_subdir(p, "tmp", 0, &p->tmpfd, err, errlen);
	if (r < 0)
		goto err_free;
	if (faccessat(p->dirfd, "root", W_OK, AT_EACCESS) < 0) {
		r = fail(err, errlen, -errno, "store %s/root: %s", dir, strerror(errno));
		goto err_free;
	}
	clean_tmp(p);
	*ret = p;
	return 0;

err_free:
	persist_close(p);
	return r;
}

void persist_close(struct persist *p)
{
	if (!p)
		return;
	if (p->tmpfd >= 0)
		close(p->tmpfd);
	if (p->lockfd >= 0)
		close(p->lockfd); /* drops the lock */
	if (p->dirfd >= 0)
		close(p->dirfd);
	free(p->dir);
	free(p);
}

bool persist_created(const struct persist *p)
{
	return p->created;
}

int persist_root(struct persist *p, int *ret_fd, struct stat *ret_st)
{
	int fd = openat(p->dirfd, "root", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fstat(fd, ret_st) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	*ret_fd = fd;
	return 0;
}

void persist_close_fd(int fd)
{
	if (fd >= 0)
		close(fd);
}

static void proc_fd_path(char *buf, size_t len, int fd)
{
	snprintf(buf, len, "/proc/self/fd/%d", fd);
}

/* Mode after owner: fchown clears set-id bits. */
static int set_owner_mode(int fd, mode_t mode, uid_t uid, gid_t gid)
{
	if (fchown(fd, uid, gid) < 0 || fchmod(fd, mode & 07777) < 0)
		return -errno;
	return 0;
}

static int persist_create(struct persist *p, int dirfd, const char *name, mode_t mode, uid_t uid,
		   gid_t gid, int *ret_fd)
{
	char self[64];
	int fd, r;

	/* Finished in a nameless file, then linked: the name appears whole. */
	fd = openat(p->tmpfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	r = set_owner_mode(fd, mode, uid, gid);
	if (r < 0)
		goto err_close;
	proc_fd_path(self, sizeof(self), fd);
	if (linkat(AT_FDCWD, self, dirfd, name, AT_SYMLINK_FOLLOW) < 0) {
		r = -errno;
		goto err_close;
	}
	*ret_fd = fd;
	return 0;

err_close:
	close(fd);
	return r;
}

static int persist_mkdir(struct persist *p, int dirfd, const char *name, mode_t mode, uid_t uid,
		  gid_t gid, int *ret_fd)
{
	char tmp[64];
	int fd, r;

	snprintf(tmp, sizeof(tmp), "d.%d.%lu", (int)getpid(), __atomic_add_fetch(&p->seq, 1,
										 __ATOMIC_RELAXED));
	if (mkdirat(p->tmpfd, tmp, 0700) < 0)
		return -errno;
	fd = openat(p->tmpfd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		goto err_rmdir;
	}
	r = set_owner_mode(fd, mode, uid, gid);
	if (r < 0)
		goto err_close;
	if (renameat2(p->tmpfd, tmp, dirfd, name, RENAME_NOREPLACE) < 0) {
		r = -errno;
		goto err_close;
	}
	*ret_fd = fd;
	return 0;

err_close:
	close(fd);
err_rmdir:
	unlinkat(p->tmpfd, tmp, AT_REMOVEDIR);
	return r;
}

/* ------------------------------------------------------------ the journal */

/*
 * Every journal call that may take blocks on DIR's file system (a new
 * inode's directory entry, a directory's block, an extended attribute's
 * block) runs as nobody, this thread only, the daemon's capabilities kept
 * (common/fsid.h): users make these through the mount, and none of them,
 * root included, may take them from the file system's root reserve (the
 * daemon has no CAP_SYS_RESOURCE). Region data does the same (region.c).
 * Calls that only free or change attributes run as the daemon.
 */
#define AS_NOBODY(call)                                                                            \
	({                                                                                         \
		struct fsid_saved as_;                                                             \
		int r_ = fsid_enter(FSID_NOBODY, FSID_NOGROUP, FSID_KEEP_CAPS, &as_);              \
		if (r_ == 0) {                                                                     \
			r_ = (call);                                                               \
			fsid_leave(&as_);                                                          \
		}                                                                                  \
		r_;                                                                                \
	})

static struct persist *of_journal(struct journal *j)
{
	return container_of(j, struct persist, journal);
}

static int jnl_create(struct journal *j, int dirfd, const char *name, mode_t mode, uid_t uid,
			gid_t gid, int *ret_fd)
{
	return AS_NOBODY(persist_create(of_journal(j), dirfd, name, mode, uid, gid, ret_fd));
}

static int jnl_mkdir(struct journal *j, int dirfd, const char *name, mode_t mode, uid_t uid,
		       gid_t gid, int *ret_fd)
{
	return AS_NOBODY(persist_mkdir(of_journal(j), dirfd, name, mode, uid, gid, ret_fd));
}

static int jnl_remove(struct journal *j, int dirfd, const char *name, bool dir)
{
	(void)j;
	/* An open region's store file lives on without a name until the
	 * daemon closes it (or crashes): nothing to keep elsewhere. */
	return unlinkat(dirfd, name, dir ? AT_REMOVEDIR : 0) < 0 ? -errno : 0;
}

static int jnl_rename(struct journal *j, int dirfd, const char *name, int ndirfd,
			const char *nname, unsigned flags)
{
	(void)j;
	return AS_NOBODY(renameat2(dirfd, name, ndirfd, nname, flags) < 0 ? -errno : 0);
}

/*
 * The fd that carries a node's metadata: its own, or its region's backing
 * fd (the region's store file), pinned until node_fd_put().
 */
static int node_fd_get(const struct journal_node *n)
{
	if (n->fd >= 0)
		return n->fd;
	return n->region ? region_fd_get(n->region) : -EBADF;
}

static void node_fd_put(const struct journal_node *n, int fd)
{
	if (fd >= 0 && n->fd < 0)
		region_fd_put(n->region);
}

static int jnl_link(struct journal *j, const struct journal_node *n, int ndirfd,
		      const char *nname)
{
	char self[64];
	int fd = node_fd_get(n), r;

	(void)j;
	if (fd < 0)
		return fd;
	proc_fd_path(self, sizeof(self), fd);
	r = AS_NOBODY(linkat(AT_FDCWD, self, ndirfd, nname, AT_SYMLINK_FOLLOW) < 0 ? -errno : 0);
	node_fd_put(n, fd);
	return r;
}

static int jnl_set_attrs(struct journal *j, const struct journal_node *n, bool dir,
			   const struct registry_setattr *sa, mode_t mode)
{
	int fd = node_fd_get(n), r = 0;

	(void)j;
	if (fd < 0)
		return fd;
	if ((sa->valid & (REGISTRY_SET_UID | REGISTRY_SET_GID)) &&
	    fchown(fd, sa->valid & REGISTRY_SET_UID ? sa->uid : (uid_t)-1,
		   sa->valid & REGISTRY_SET_GID ? sa->gid : (gid_t)-1) < 0) {
		r = -errno;
		goto out_put;
	}
	/* After chown, which clears set-id bits: the mode the node will have. */
	if ((sa->valid & (REGISTRY_SET_MODE | REGISTRY_SET_UID | REGISTRY_SET_GID)) &&
	    fchmod(fd, mode & 07777) < 0) {
		r = -errno;
		goto out_put;
	}
	if (dir && (sa->valid & (REGISTRY_SET_ATIME | REGISTRY_SET_MTIME))) {
		struct timespec t[2] = {
			sa->valid & REGISTRY_SET_ATIME ? sa->atime
						       : (struct timespec){ .tv_nsec = UTIME_OMIT },
			sa->valid & REGISTRY_SET_MTIME ? sa->mtime
						       : (struct timespec){ .tv_nsec = UTIME_OMIT },
		};

		if (futimens(fd, t) < 0)
			r = -errno;
	}
out_put:
	node_fd_put(n, fd);
	return r;
}

static int jnl_set_xattr(struct journal *j, const struct journal_node *n, const char *name,
			   const void *value, size_t size)
{
	int fd = node_fd_get(n), r;

	(void)j;
	if (fd < 0)
		return fd;
	r = AS_NOBODY(fsetxattr(fd, name, value, size, 0) < 0 ? -errno : 0);
	node_fd_put(n, fd);
	return r;
}

static int jnl_remove_xattr(struct journal *j, const struct journal_node *n, const char *name)
{
	int fd = node_fd_get(n), r;

	(void)j;
	if (fd < 0)
		return fd;
	r = fremovexattr(fd, name) < 0 && errno != ENODATA ? -errno : 0;
	node_fd_put(n, fd);
	return r;
}

/* The region's store file becomes the placeholder that records the binding. */
static int jnl_bind(struct journal *j, const struct journal_node *n, const char *path,
		      int *ret_fd)
{
	int fd = node_fd_get(n), meta, r = 0;

	(void)j;
	if (fd < 0)
		return fd;
	meta = dup(fd);
	if (meta < 0)
		r = -errno;
	node_fd_put(n, fd);
	if (r == 0)
		r = AS_NOBODY(fsetxattr(meta, RFS_XATTR_BACKING, path, strlen(path), 0) < 0
				      ? -errno
				      : 0);
	if (r < 0 && meta >= 0)
		close(meta);
	if (r == 0)
		*ret_fd = meta;
	return r;
}

static void jnl_unbind(struct journal *j, int fd)
{
	(void)j;
	fremovexattr(fd, RFS_XATTR_BACKING);
	close(fd);
}

static int jnl_sync_dir(struct journal *j, int dirfd)
{
	(void)j;
	return dirfd >= 0 && fsync(dirfd) < 0 ? -errno : 0;
}

static void jnl_close(struct journal *j, int fd)
{
	(void)j;
	persist_close_fd(fd);
}

static void jnl_free(struct journal *j)
{
	persist_close(of_journal(j));
}

static const struct journal_ops jnl_ops = {
	.create = jnl_create,
	.mkdir = jnl_mkdir,
	.remove = jnl_remove,
	.rename = jnl_rename,
	.link = jnl_link,
	.set_attrs = jnl_set_attrs,
	.set_xattr = jnl_set_xattr,
	.remove_xattr = jnl_remove_xattr,
	.bind = jnl_bind,
	.unbind = jnl_unbind,
	.sync_dir = jnl_sync_dir,
	.close = jnl_close,
	.free = jnl_free,
};

struct journal *persist_journal(struct persist *p)
{
	return &p->journal;
}

/* ------------------------------------------------------------ loading */

/*
 * The walk is breadth-first over a queue of directories, with at most one
 * directory stream open at a time: how deep the tree is (a user makes it,
 * through the mount) costs neither stack nor open streams. A queued
 * directory is listed later through the fd the dir() callback keeps (the
 * walk opens "." on it then): no fd of the walk's own per queued directory,
 * so a load needs no more fds than the running daemon had for the same
 * tree (one per directory), however wide a level is.
 * Paths exist only for error messages, built from the queue's parent links.
 */
struct pending {
	struct list_node link;	/* in the walk's queue, which is also the list of all of them */
	struct pending *parent; /* NULL: DIR/root */
	void *node;
	int fd; /* borrowed: the dir() callback's (or the caller's rootfd) */
	char name[];
};

struct link_seen {
	struct hmap_node hn;
	dev_t dev;
	ino_t ino;
	void *node;
};

struct walk {
	struct persist *p;
	const struct persist_visitor *v;
	struct hmap seen;	/* files by (dev, ino): hard links */
	struct list_node queue; /* struct pending.link: every directory seen, in order */
	char *err;
	size_t errlen;
};

/* Error messages longer than this keep their start and end only. */
#define PATH_SHOWN_MAX 1024

/*
 * "store DIR/root/a/b/name: " then fmt, into w->err; returns r. A path
 * longer than PATH_SHOWN_MAX shows "/..." for its middle, never silently
 * cut at the end (where the bad name is).
 */
static int fail_at(struct walk *w, const struct pending *dir, const char *name, int r,
		   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int fail_at(struct walk *w, const struct pending *dir, const char *name, int r,
		   const char *fmt, ...)
{
	size_t len = strlen(w->p->dir) + strlen("/root") + (name ? strlen(name) + 1 : 0);
	const struct pending *q;
	char *path, *end, msg[PATH_MAX + 256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (q = dir; q && q->parent; q = q->parent)
		len += strlen(q->name) + 1;
	path = malloc(len + 1);
	if (!path)
		return fail(w->err, w->errlen, r, "store %s: %s (deep inside)", w->p->dir, msg);
	/* Right to left: leaf first. */
	end = path + len;
	*end = '\0';
	if (name) {
		end -= strlen(name);
		memcpy(end, name, strlen(name));
		*--end = '/';
	}
	for (q = dir; q && q->parent; q = q->parent) {
		end -= strlen(q->name);
		memcpy(end, q->name, strlen(q->name));
		*--end = '/';
	}
	end -= strlen("/root");
	memcpy(end, "/root", strlen("/root"));
	memcpy(path, w->p->dir, strlen(w->p->dir)); /* end is now path + strlen(dir) */
	if (len > PATH_SHOWN_MAX) {
		/* Whole names: cut at slashes. */
		size_t head = PATH_SHOWN_MAX / 4, tail = len - PATH_SHOWN_MAX / 2;

		while (head > 0 && path[head] != '/')
			head--;
		while (path[tail] && path[tail] != '/')
			tail++;
		fail(w->err, w->errlen, r, "store %.*s/...%s: %s", (int)head, path, path + tail,
		     msg);
	} else
		fail(w->err, w->errlen, r, "store %s: %s", path, msg);
	free(path);
	return r;
}

/* An open() of the walk failed with errno: say which limit an EMFILE hit. */
static int open_failed(struct walk *w, const struct pending *dir, const char *name)
{
	int e = errno;
	struct rlimit rl;

	if (e == EMFILE && getrlimit(RLIMIT_NOFILE, &rl) == 0)
		return fail_at(w, dir, name, -e,
			       "%s (every directory and region of a store keeps a file open: "
			       "the open-file limit RLIMIT_NOFILE is %llu)",
			       strerror(e), (unsigned long long)rl.rlim_cur);
	return fail_at(w, dir, name, -e, "%s", strerror(e));
}

static struct link_seen *seen_find(struct walk *w, const struct stat *st)
{
	struct hmap_node *hn;

	hmap_for_each_hash(hn, &w->seen, hmap_hash_u64(st->st_ino ^ st->st_dev)) {
		struct link_seen *s = container_of(hn, struct link_seen, hn);

		if (s->ino == st->st_ino && s->dev == st->st_dev)
			return s;
	}
	return NULL;
}

/* The node's user.* attributes, and our own user.regionfs.* but the binding
 * (read_backing()): the loader keeps those apart from the user's. */
static int load_xattrs(struct walk *w, int fd, void *node, const struct pending *dir,
		       const char *name)
{
	char *names = NULL, *value = NULL, *xname;
	ssize_t len, vlen;
	int r = 0;

	len = flistxattr(fd, NULL, 0);
	if (len <= 0)
		return len < 0 && errno != ENOTSUP
			       ? fail_at(w, dir, name, -errno, "%s", strerror(errno))
			       : 0;
	names = malloc((size_t)len);
	value = malloc(XATTR_SIZE_MAX);
	if (!names || !value) {
		r = -ENOMEM;
		goto out;
	}
	len = flistxattr(fd, names, (size_t)len);
	if (len < 0) {
		r = fail_at(w, dir, name, -errno, "%s", strerror(errno));
		goto out;
	}
	for (xname = names; xname < names + len; xname += strlen(xname) + 1) {
		/* The binding and the seals are read by the loader itself. */
		if (strncmp(xname, "user.", 5) != 0 || strcmp(xname, RFS_XATTR_BACKING) == 0 ||
		    strcmp(xname, RFS_XATTR_SEALS) == 0)
			continue;
		vlen = fgetxattr(fd, xname, value, XATTR_SIZE_MAX);
		if (vlen < 0) {
			r = fail_at(w, dir, name, -errno, "xattr %s: %s", xname, strerror(errno));
			goto out;
		}
		r = w->v->xattr(w->v->ctx, node, xname, value, (size_t)vlen);
		if (r < 0) {
			fail_at(w, dir, name, r, "xattr %s: %s", xname, strerror(-r));
			goto out;
		}
	}
out:
	free(names);
	free(value);
	return r;
}

ssize_t persist_read_attr(int fd, const char *name, char *buf, size_t size)
{
	ssize_t n = fgetxattr(fd, name, buf, size);

	if (n >= 0)
		return n;
	return errno == ENOTSUP ? -ENODATA : -errno;
}

/*
 * The binding a placeholder records, as it is: whether it can be re-opened
 * (absolute, a file its owner may open, ...) is the loader's question, and
 * a binding it cannot re-open leaves one region unbound, not the store
 * unloadable. Only a value that is no string at all (a NUL inside) is cut
 * at the NUL.
 */
static int read_backing(struct walk *w, int fd, const struct pending *dir, const char *name,
			char **ret)
{
	ssize_t n = fgetxattr(fd, RFS_XATTR_BACKING, NULL, 0);
	char *buf;

	*ret = NULL;
	if (n >= 0) {
		buf = malloc((size_t)n + 1);
		if (!buf)
			return -ENOMEM;
		n = fgetxattr(fd, RFS_XATTR_BACKING, buf, (size_t)n);
		if (n >= 0) {
			buf[n] = '\0';
			*ret = buf;
			return 0;
		}
		free(buf);
	}
	if (errno == ENODATA || errno == ENOTSUP)
		return 0;
	return fail_at(w, dir, name, -errno, "%s", strerror(errno));
}

static int walk_file(struct walk *w, struct pending *dir, const char *name,
		     const struct stat *st)
{
	struct link_seen *s = seen_find(w, st);
	char *backing = NULL;
	void *node = NULL;
	int fd, cfd, r;

	if (s) {
		r = w->v->file(w->v->ctx, dir->node, name, -1, st, NULL, s->node, &node);
		return r < 0 ? fail_at(w, dir, name, r, "%s", strerror(-r)) : 0;
	}
	fd = openat(dir->fd, name, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return open_failed(w, dir, name);
	r = read_backing(w, fd, dir, name, &backing);
	if (r < 0)
		goto out_close;
	/* file() takes an fd of its own: the walk still reads the attributes. */
	cfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (cfd < 0) {
		r = open_failed(w, dir, name);
		goto out_free;
	}
	r = w->v->file(w->v->ctx, dir->node, name, cfd, st, backing, NULL, &node);
	if (r < 0) {
		if (backing)
			fail_at(w, dir, name, r, "bound to %s: %s", backing, strerror(-r));
		else
			fail_at(w, dir, name, r, "%s", strerror(-r));
		goto out_free;
	}
	s = malloc(sizeof(*s));
	if (!s) {
		r = -ENOMEM;
		goto out_free;
	}
	s->dev = st->st_dev;
	s->ino = st->st_ino;
	s->node = node;
	hmap_insert(&w->seen, &s->hn, hmap_hash_u64(st->st_ino ^ st->st_dev));
	r = load_xattrs(w, fd, node, dir, name);
out_free:
	free(backing);
out_close:
	close(fd);
	return r;
}

/* Queue a directory whose node exists; fd stays its keeper's. */
static int enqueue(struct walk *w, struct pending *parent, const char *name, int fd, void *node)
{
	size_t len = parent ? strlen(name) : 0;
	struct pending *q = malloc(sizeof(*q) + len + 1);

	if (!q)
		return -ENOMEM;
	q->parent = parent;
	q->node = node;
	q->fd = fd;
	memcpy(q->name, name, len);
	q->name[len] = '\0';
	list_add_tail(&w->queue, &q->link);
	return 0;
}

/*
 * A subdirectory: its node (dir() takes the fd and keeps it open until the
 * walk ends, which reads through it), attributes, a place in the queue.
 */
static int walk_subdir(struct walk *w, struct pending *dir, const char *name,
		       const struct stat *st)
{
	void *child = NULL;
	int fd, r;

	fd = openat(dir->fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return open_failed(w, dir, name);
	r = w->v->dir(w->v->ctx, dir->node, name, fd, st, &child);
	if (r == -EMFILE) {
		errno = EMFILE; /* the limit, named as for the walk's own opens */
		return open_failed(w, dir, name);
	}
	if (r < 0)
		return fail_at(w, dir, name, r, "%s", strerror(-r));
	r = load_xattrs(w, fd, child, dir, name);
	if (r < 0)
		return r;
	return enqueue(w, dir, name, fd, child);
}

/* Every entry of one queued directory. */
static int walk_dir(struct walk *w, struct pending *dir)
{
	DIR *d = open_dir_at(dir->fd, ".");
	const char *name;
	int r = 0;

	if (!d)
		return open_failed(w, dir, NULL);
	while ((name = next_name(d))) {
		struct stat st;

		if (fstatat(dir->fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			r = fail_at(w, dir, name, -errno, "%s", strerror(errno));
		else if (S_ISDIR(st.st_mode))
			r = walk_subdir(w, dir, name, &st);
		else if (S_ISREG(st.st_mode))
			r = walk_file(w, dir, name, &st);
		else
			r = fail_at(w, dir, name, -EINVAL,
				    "not a directory or a regular file (corrupt store)");
		if (r < 0)
			break;
	}
	closedir(d);
	return r;
}

int persist_walk(struct persist *p, int rootfd, void *root_node,
		 const struct persist_visitor *v, char *err, size_t errlen)
{
	struct walk w = { .p = p, .v = v, .err = err, .errlen = errlen };
	struct list_node *l, *tmp;
	struct hmap_node *hn;
	size_t at = 0;
	int r;

	list_init(&w.queue);
	r = hmap_init(&w.seen);
	if (r < 0)
		return r;
	r = load_xattrs(&w, rootfd, root_node, NULL, NULL);
	if (r == 0)
		r = enqueue(&w, NULL, "", rootfd, root_node);
	/* walk_dir() appends the subdirectories it finds: the walk reaches them too. */
	for (l = list_first(&w.queue); r == 0 && l; l = list_next(&w.queue, l))
		r = walk_dir(&w, container_of(l, struct pending, link));
	list_for_each_safe(l, tmp, &w.queue)
		free(container_of(l, struct pending, link));
	while ((hn = hmap_pop(&w.seen, &at)))
		free(container_of(hn, struct link_seen, hn));
	hmap_destroy(&w.seen);
	if (r < 0 && !err[0])
		fail(err, errlen, r, "store %s: %s", p->dir, strerror(-r));
	return r;
}
