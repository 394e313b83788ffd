// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libregionfs: the calls of regionfs.h made of ordinary system calls on the
 * mount. Why each step is as it is: README "Create with a size, once" and
 * "Porting from Windows".
 */
#include "regionfs/regionfs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#define XATTR_LIFETIME "user.regionfs.lifetime"
#define XATTR_SEALS "user.regionfs.seals"
#define XATTR_CREATOR "user.regionfs.creator"
#define XATTR_HOLDERS "user.regionfs.holders"
#define XATTR_BACKING "user.regionfs.backing"
#define PENDING_DIR ".regionfs-pending"
#define RFS_NAME_LIMIT 255
/* Tries of create-or-open: each lost race ends in an open, which fails
 * again only if the winner's region went in between (its creator died). */
#define CREATE_TRIES 100

/*
 * An open file of a region, shared by a handle and its views: a view keeps
 * it for a durable flush after the handle is closed (as a Windows view keeps
 * its section), without a dup() per view or per flush.
 */
struct rfs_file {
	int fd;
	unsigned refs; /* atomics */
};

struct rfs_region {
	struct rfs_file *file;
	int fd; /* file->fd */
	unsigned prot;
	/*
	 * The size this handle last saw (0: not yet), atomics. A view within
	 * it needs no fstat (a round trip to the daemon once the attributes
	 * went stale, as after every write): a view past it looks again.
	 */
	uint64_t size_seen;
};

static struct rfs_file *file_get(struct rfs_file *f)
{
	__atomic_add_fetch(&f->refs, 1, __ATOMIC_RELAXED);
	return f;
}

static void file_put(struct rfs_file *f)
{
	if (__atomic_sub_fetch(&f->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		close(f->fd);
		free(f);
	}
}

/* ---------------------------------------------------------------- names */

/* The mountpoint: $REGIONFS_MOUNT, /dev/shm if regionfs, else the only one. */
static int find_mount(char *buf, size_t size)
{
	const char *env = getenv("REGIONFS_MOUNT");
	char line[4096], found[PATH_MAX] = "";
	int count = 0;
	FILE *f;

	if (env && *env) {
		if (strlen(env) >= size)
			return -ERANGE;
		strcpy(buf, env);
		return 0;
	}
	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [TAGS...] - FSTYPE SOURCE SUPER */
		char mnt[PATH_MAX], *dash = strstr(line, " - "), fstype[64];

		if (!dash || sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1 ||
		    sscanf(dash + 3, "%63s", fstype) != 1 || strcmp(fstype, "fuse.regionfs") != 0)
			continue;
		/* mountinfo escapes space, tab, newline and backslash as \ooo. */
		if (strchr(mnt, '\\'))
			continue;
		if (strcmp(mnt, "/dev/shm") == 0) {
			count = 1;
			strcpy(found, mnt);
			break;
		}
		if (strcmp(found, mnt) != 0)
			count++;
		strcpy(found, mnt);
	}
	fclose(f);
	if (count != 1)
		return -ENODEV;
	if (strlen(found) >= size)
		return -ERANGE;
	strcpy(buf, found);
	return 0;
}

static int valid_name(const char *n)
{
	size_t len = strlen(n);

	if (len == 0 || strchr(n, '/') || strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
		return -EINVAL;
	return len > RFS_NAME_LIMIT ? -ENAMETOOLONG : 0;
}

/* mkdir path with mode if it is missing: 1 made now, 0 there already (another process may have won). */
static int make_dir(const char *path, mode_t mode)
{
	if (mkdir(path, mode) == 0) {
		/* mkdir's mode passes through the umask; the mode is the point. */
		return chmod(path, mode) < 0 ? -errno : 1;
	}
	return errno == EEXIST ? 0 : -errno;
}

/* Local/UID must be the caller's and nobody else's. */
static int check_private(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077))
		return -EACCES;
	return 0;
}

/*
 * Global and Local are shared by every user: whoever owns a sticky
 * directory may still remove and rename everything in it, so it must be
 * root's or the mount root's owner's (the first user to call the library
 * must not become everyone's landlord), a real directory, and sticky when
 * others may write it. Made here when missing; otherwise (and then not
 * made) -EACCES: make it as root ahead (mkdir -m 1777 MOUNT/Global
 * MOUNT/Local).
 */
static int check_shared(const char *mnt, const char *path)
{
	struct stat st, root;
	int made = make_dir(path, 01777);

	if (made < 0)
		return made;

	if (lstat(path, &st) < 0 || stat(mnt, &root) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode) || (st.st_uid != 0 && st.st_uid != root.st_uid) ||
	    ((st.st_mode & 0002) && !(st.st_mode & S_ISVTX))) {
		/* Made just now by a user who may not own it: leave nothing behind. */
		if (made)
			rmdir(path);
		return -EACCES;
	}
	return 0;
}

int rfs_path(const char *name, bool create, char *buf, size_t size)
{
	char mnt[PATH_MAX], dir[PATH_MAX];
	bool global = false;
	int r;

	if (!name || !buf)
		return -EINVAL;
	if (strncmp(name, "Global\\", 7) == 0) {
		global = true;
		name += 7;
	} else if (strncmp(name, "Local\\", 6) == 0) {
		name += 6;
	}
	r = valid_name(name);
	if (r < 0)
		return r;
	r = find_mount(mnt, sizeof(mnt));
	if (r < 0)
		return r;
	if (global) {
		snprintf(dir, sizeof(dir), "%s/Global", mnt);
		/* Shared by every user, as /tmp: sticky, so nobody removes another's. */
		if (create && (r = check_shared(mnt, dir)) < 0)
			return r;
	} else {
		snprintf(dir, sizeof(dir), "%s/Local", mnt);
		if (create && (r = check_shared(mnt, dir)) < 0)
			return r;
		snprintf(dir, sizeof(dir), "%s/Local/%u", mnt, (unsigned)geteuid());
		if (create && (r = make_dir(dir, 0700)) < 0)
			return r;
		if (create && (r = check_private(dir)) < 0)
			return r;
	}
	if ((size_t)snprintf(buf, size, "%s/%s", dir, name) >= size)
		return -ERANGE;
	return 0;
}

/* --------------------------------------------------------------- handles */

static int open_flags(unsigned prot)
{
	if (!prot || (prot & ~(unsigned)(RFS_PROT_READ | RFS_PROT_WRITE | RFS_PROT_EXEC)))
		return -EINVAL;
	return (prot & RFS_PROT_WRITE ? O_RDWR : O_RDONLY) | O_CLOEXEC;
}

static int handle_new(int fd, unsigned prot, struct rfs_region **ret)
{
	struct rfs_region *r = malloc(sizeof(*r));
	struct rfs_file *f = malloc(sizeof(*f));

	if (!r || !f) {
		free(r);
		free(f);
		close(fd);
		return -ENOMEM;
	}
	f->fd = fd;
	f->refs = 1;
	r->file = f;
	r->fd = fd;
	r->prot = prot;
	r->size_seen = 0;
	*ret = r;
	return 0;
}

int rfs_open(const char *name, unsigned prot, struct rfs_region **ret)
{
	char path[PATH_MAX];
	int flags = open_flags(prot), fd, r;

	if (flags < 0)
		return flags;
	r = rfs_path(name, false, path, sizeof(path));
	if (r < 0)
		return r;
	fd = open(path, flags);
	if (fd < 0)
		return -errno;
	return handle_new(fd, prot, ret);
}

void rfs_close(struct rfs_region *r)
{
	if (!r)
		return;
	file_put(r->file);
	free(r);
}

int rfs_fd(const struct rfs_region *r)
{
	return r->fd;
}

static const char *lifetime_name(enum rfs_lifetime l)
{
	switch (l) {
	case RFS_LIFETIME_LAST_CLOSE:
		return "last-close";
	case RFS_LIFETIME_PERSIST:
		return "persist";
	case RFS_LIFETIME_CREATOR:
		return "creator";
	}
	return NULL;
}

/*
 * The pending directory next to the region: what is made in it has the
 * lifetime "creator" from its first instant, so a creator killed before it
 * publishes leaves nothing (README "Create with a size, once").
 */
static int pending_open(int dirfd)
{
	struct stat st, pst;
	bool made = false;
	char v[16];
	ssize_t n;
	int fd, e;

	if (fstat(dirfd, &st) < 0)
		return -errno;
	if (mkdirat(dirfd, PENDING_DIR, st.st_mode & 07777) == 0) {
		made = true;
		/* mkdir's mode passes through the umask: the parent's mode is the point. */
		if (fchmodat(dirfd, PENDING_DIR, st.st_mode & 07777, 0) < 0)
			return -errno;
	} else if (errno != EEXIST) {
		return -errno;
	}
	fd = openat(dirfd, PENDING_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/*
	 * Whoever owns the pending directory may remove or swap every pending
	 * region in it (even when sticky): it must be root's or the parent's
	 * owner's, and sticky when others may write it, as Global and Local
	 * (check_shared()). One a user made where they may not own it goes
	 * again: make it ahead as the parent's owner (README).
	 */
	e = fstat(fd, &pst) < 0 ? -errno : 0;
	if (e == 0 && ((pst.st_uid != 0 && pst.st_uid != st.st_uid) ||
		       ((pst.st_mode & 0002) && !(pst.st_mode & S_ISVTX))))
		e = -EACCES;
	/* Made by a process killed before it set the default: set it now. */
	n = e ? 0 : fgetxattr(fd, XATTR_LIFETIME, v, sizeof(v));
	if (e == 0 && (n != 7 || memcmp(v, "creator", 7) != 0) &&
	    fsetxattr(fd, XATTR_LIFETIME, "creator", 7, 0) < 0)
		e = -errno;
	if (e < 0) {
		close(fd);
		if (made)
			unlinkat(dirfd, PENDING_DIR, AT_REMOVEDIR);
		return e;
	}
	return fd;
}

/* The file a new region shows: see rfs_create_backed(). */
struct backing {
	const char *path;
};

/*
 * One try: make a pending region (bound, sized), publish it under name.
 * 1: published (*ret_fd); 0: another process published first; < 0: error.
 */
static int create_once(int dirfd, const char *name, uint64_t size, int flags, mode_t mode,
		       const struct backing *bk, int *ret_fd)
{
	static unsigned counter;
	char tmp[64];
	int pend, fd = -1, r;

	pend = pending_open(dirfd);
	if (pend < 0)
		return pend;
	snprintf(tmp, sizeof(tmp), "tmp.%d.%u", (int)getpid(),
		 __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED));
	/* mknod, not open: a region being bound must not be open (EBUSY in the cached data path). */
	if (mknodat(pend, tmp, S_IFREG | mode, 0) < 0) {
		r = -errno;
		goto out;
	}
	if (bk) {
		char at[64 + sizeof(tmp)];

		/* setxattr by name: the daemon binds a region nobody has open. */
		snprintf(at, sizeof(at), "/proc/self/fd/%d/%s", pend, tmp);
		if (setxattr(at, XATTR_BACKING, bk->path, strlen(bk->path), 0) < 0) {
			r = -errno;
			goto out_unlink;
		}
	}
	fd = openat(pend, tmp, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		goto out_unlink;
	}
	if (size) {
		struct stat st;

		if (fstat(fd, &st) < 0 || ((uint64_t)st.st_size < size && ftruncate(fd, (off_t)size) < 0)) {
			r = -errno;
			goto out_unlink;
		}
	}
	if (renameat2(pend, tmp, dirfd, name, RENAME_NOREPLACE) < 0) {
		r = errno == EEXIST ? 0 : -errno;
		goto out_unlink;
	}
	/* Reopen with the flags asked for (a read-only handle stays read-only). */
	if ((flags & O_ACCMODE) != O_RDWR) {
		char self[64];
		int ro;

		snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
		ro = open(self, flags);
		if (ro < 0) {
			r = -errno;
			close(fd);
			goto out;
		}
		close(fd);
		fd = ro;
	}
	*ret_fd = fd;
	close(pend);
	return 1;

out_unlink:
	unlinkat(pend, tmp, 0);
	if (fd >= 0)
		close(fd);
out:
	close(pend);
	return r;
}

static int create_common(const char *name, uint64_t size, unsigned prot,
			 const struct rfs_create_opts *opts, const struct backing *bk,
			 struct rfs_region **ret, bool *ret_existed)
{
	static const struct rfs_create_opts defaults = { 0 };
	char path[PATH_MAX], *base;
	int flags = open_flags(prot), dirfd, fd = -1, r = 0, i;
	const char *final;
	bool global;
	mode_t mode;

	if (flags < 0)
		return flags;
	if (!opts)
		opts = &defaults;
	final = lifetime_name(opts->lifetime);
	if (!final || (opts->flags & ~(unsigned)RFS_CREATE_EXCLUSIVE))
		return -EINVAL;
	global = strncmp(name ? name : "", "Global\\", 7) == 0;
	/* Most calls find it: one open, as open(2) alone would cost. */
	r = rfs_path(name, false, path, sizeof(path));
	if (r < 0)
		return r;
	fd = open(path, flags);
	if (fd >= 0) {
		if (opts->flags & RFS_CREATE_EXCLUSIVE) {
			close(fd);
			return -EEXIST;
		}
		if (ret_existed)
			*ret_existed = true;
		return handle_new(fd, prot, ret);
	}
	if (errno != ENOENT)
		return -errno;
	r = rfs_path(name, true, path, sizeof(path));
	if (r < 0)
		return r;
	mode = opts->mode & 07777;
	if (!mode) {
		mode_t mask = umask(0);

		umask(mask);
		mode = global ? 0666 & ~mask : 0600;
	}
	base = strrchr(path, '/');
	*base++ = 0;
	dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return -errno;

	for (i = 0; i < CREATE_TRIES; i++) {
		/* It exists: whole, since only whole regions are published. */
		fd = openat(dirfd, base, flags);
		if (fd >= 0) {
			if (opts->flags & RFS_CREATE_EXCLUSIVE) {
				close(fd);
				r = -EEXIST;
				goto out;
			}
			if (ret_existed)
				*ret_existed = true;
			break;
		}
		if (errno != ENOENT) {
			r = -errno;
			goto out;
		}
		r = create_once(dirfd, base, size, flags, mode, bk, &fd);
		if (r < 0)
			goto out;
		if (r == 1) {
			/* Until now the region was the creator's (killed: it goes). */
			if (opts->lifetime != RFS_LIFETIME_CREATOR &&
			    fsetxattr(fd, XATTR_LIFETIME, final, strlen(final), 0) < 0) {
				r = -errno;
				close(fd);
				goto out;
			}
			if (ret_existed)
				*ret_existed = false;
			break;
		}
	}
	if (i == CREATE_TRIES) {
		r = -EAGAIN;
		goto out;
	}
	r = handle_new(fd, prot, ret);
out:
	close(dirfd);
	return r;
}

int rfs_create(const char *name, uint64_t size, unsigned prot, const struct rfs_create_opts *opts,
	       struct rfs_region **ret, bool *ret_existed)
{
	if (size == 0)
		return -EINVAL;
	return create_common(name, size, prot, opts, NULL, ret, ret_existed);
}

int rfs_create_backed(const char *name, const char *path, int fd, uint64_t size, unsigned prot,
		      const struct rfs_create_opts *opts, struct rfs_region **ret, bool *ret_existed)
{
	char link[PATH_MAX];
	struct backing bk;
	struct stat st, pst;

	if (path) {
		if (path[0] != '/')
			return -EINVAL;
		bk.path = path;
		if (size == 0) {
			if (stat(path, &st) < 0)
				return -errno;
			size = (uint64_t)st.st_size;
		}
	} else {
		char self[64];
		ssize_t n;

		/* The daemon opens a path, as the caller: the fd's, checked to be the same file. */
		snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
		n = readlink(self, link, sizeof(link) - 1);
		if (n < 0)
			return -errno;
		link[n] = 0;
		if (fstat(fd, &st) < 0)
			return -errno;
		if (link[0] != '/' || stat(link, &pst) < 0 || pst.st_dev != st.st_dev ||
		    pst.st_ino != st.st_ino)
			return -ENOENT; /* deleted or moved: no path leads to it */
		bk.path = link;
		if (size == 0)
			size = (uint64_t)st.st_size;
	}
	if (size == 0)
		return -EINVAL;
	return create_common(name, size, prot, opts, &bk, ret, ret_existed);
}

/* ----------------------------------------------------------------- views */

struct view {
	struct view *next;
	void *base;       /* what mmap returned */
	size_t maplen;    /* what was mapped */
	char *addr;       /* what the caller got: base + offset within the page */
	size_t len;       /* what the caller asked for */
	struct rfs_file *file; /* a reference: for a durable flush after the handle is closed */
};

static pthread_mutex_t views_lock = PTHREAD_MUTEX_INITIALIZER;
static struct view *views;

int rfs_map(struct rfs_region *r, unsigned access, uint64_t offset, size_t length, void **ret)
{
	long page = sysconf(_SC_PAGESIZE);
	int prot = 0, mflags = MAP_SHARED;
	uint64_t size, start;
	struct view *v;
	void *base;
	int e;

	if (!access || (access & ~(unsigned)(RFS_MAP_READ | RFS_MAP_WRITE | RFS_MAP_COPY | RFS_MAP_EXEC)) ||
	    ((access & RFS_MAP_WRITE) && (access & RFS_MAP_COPY)))
		return -EINVAL;
	if (((access & RFS_MAP_WRITE) && !(r->prot & RFS_PROT_WRITE)) ||
	    ((access & RFS_MAP_EXEC) && !(r->prot & RFS_PROT_EXEC)))
		return -EACCES;
	prot = PROT_READ;
	if (access & (RFS_MAP_WRITE | RFS_MAP_COPY))
		prot |= PROT_WRITE;
	if (access & RFS_MAP_EXEC)
		prot |= PROT_EXEC;
	if (access & RFS_MAP_COPY)
		mflags = MAP_PRIVATE;
	size = __atomic_load_n(&r->size_seen, __ATOMIC_RELAXED);
	if (length == 0 || offset >= size || length > size - offset) {
		e = rfs_size(r, &size);
		if (e < 0)
			return e;
	}
	if (offset > size || (length == 0 && offset == size))
		return -EOVERFLOW;
	if (length == 0)
		length = (size_t)(size - offset);
	if (length > size - offset)
		return -EOVERFLOW;
	start = offset & ~(uint64_t)(page - 1);
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->maplen = (size_t)(offset - start) + length;
	base = mmap(NULL, v->maplen, prot, mflags, r->fd, (off_t)start);
	if (base == MAP_FAILED) {
		e = -errno;
		free(v);
		return e;
	}
	v->file = file_get(r->file);
	v->base = base;
	v->addr = (char *)base + (offset - start);
	v->len = length;
	pthread_mutex_lock(&views_lock);
	v->next = views;
	views = v;
	pthread_mutex_unlock(&views_lock);
	*ret = v->addr;
	return 0;
}

int rfs_unmap(void *addr)
{
	struct view **p, *v = NULL;

	pthread_mutex_lock(&views_lock);
	for (p = &views; *p; p = &(*p)->next) {
		if ((*p)->addr == addr) {
			v = *p;
			*p = v->next;
			break;
		}
	}
	pthread_mutex_unlock(&views_lock);
	if (!v)
		return -EINVAL;
	munmap(v->base, v->maplen);
	file_put(v->file);
	free(v);
	return 0;
}

int rfs_flush(const void *addr, size_t length, unsigned flags)
{
	long page = sysconf(_SC_PAGESIZE);
	const char *a = addr;
	uintptr_t start;
	struct rfs_file *file = NULL;
	struct view *v;
	size_t end;
	int r = 0;

	if (flags & ~(unsigned)RFS_FLUSH_DURABLE)
		return -EINVAL;
	pthread_mutex_lock(&views_lock);
	for (v = views; v; v = v->next)
		if (a >= v->addr && a < v->addr + v->len)
			break;
	if (v) {
		end = length ? (size_t)(a - v->addr) + length : v->len;
		if (end > v->len)
			v = NULL;
		else
			length = end - (size_t)(a - v->addr);
	}
	/* A reference: another thread may unmap the view meanwhile. */
	if (v)
		file = file_get(v->file);
	pthread_mutex_unlock(&views_lock);
	if (!v)
		return -EINVAL;
	start = (uintptr_t)a & ~(uintptr_t)(page - 1);
	if (msync((void *)start, length + ((uintptr_t)a - start),
		  flags & RFS_FLUSH_DURABLE ? MS_SYNC : MS_ASYNC) < 0)
		r = -errno;
	if (!r && (flags & RFS_FLUSH_DURABLE) && fsync(file->fd) < 0)
		r = -errno;
	file_put(file);
	return r;
}

/* ------------------------------------------------------------ attributes */

int rfs_size(struct rfs_region *r, uint64_t *ret)
{
	struct stat st;

	if (fstat(r->fd, &st) < 0)
		return -errno;
	*ret = (uint64_t)st.st_size;
	__atomic_store_n(&r->size_seen, *ret, __ATOMIC_RELAXED);
	return 0;
}

int rfs_resize(struct rfs_region *r, uint64_t size)
{
	if (ftruncate(r->fd, (off_t)size) < 0)
		return -errno;
	__atomic_store_n(&r->size_seen, size, __ATOMIC_RELAXED);
	return 0;
}

int rfs_seal(struct rfs_region *r, const char *seals)
{
	return fsetxattr(r->fd, XATTR_SEALS, seals, strlen(seals), 0) < 0 ? -errno : 0;
}

int rfs_seal_name(const char *name, const char *seals)
{
	char path[PATH_MAX];
	int r = rfs_path(name, false, path, sizeof(path));

	if (r < 0)
		return r;
	return setxattr(path, XATTR_SEALS, seals, strlen(seals), 0) < 0 ? -errno : 0;
}

/* A text attribute into a new string; its size may change between calls. */
static int get_text(int fd, const char *name, char **ret)
{
	for (int i = 0; i < 8; i++) {
		ssize_t n = fgetxattr(fd, name, NULL, 0), m;
		char *buf;

		if (n < 0)
			return -errno;
		buf = malloc((size_t)n + 1);
		if (!buf)
			return -ENOMEM;
		m = fgetxattr(fd, name, buf, (size_t)n);
		if (m >= 0) {
			buf[m] = 0;
			*ret = buf;
			return 0;
		}
		free(buf);
		if (errno != ERANGE)
			return -errno;
	}
	return -EAGAIN;
}

int rfs_get_lifetime(struct rfs_region *r, enum rfs_lifetime *ret)
{
	char *v;
	int e = get_text(r->fd, XATTR_LIFETIME, &v);

	if (e < 0)
		return e;
	e = -EPROTO;
	for (enum rfs_lifetime l = RFS_LIFETIME_LAST_CLOSE; l <= RFS_LIFETIME_CREATOR; l++) {
		if (strcmp(v, lifetime_name(l)) == 0) {
			*ret = l;
			e = 0;
		}
	}
	free(v);
	return e;
}

int rfs_set_lifetime(struct rfs_region *r, enum rfs_lifetime lifetime)
{
	const char *v = lifetime_name(lifetime);

	if (!v)
		return -EINVAL;
	return fsetxattr(r->fd, XATTR_LIFETIME, v, strlen(v), 0) < 0 ? -errno : 0;
}

int rfs_get_seals(struct rfs_region *r, char **ret)
{
	return get_text(r->fd, XATTR_SEALS, ret);
}

int rfs_get_creator(struct rfs_region *r, char **ret)
{
	return get_text(r->fd, XATTR_CREATOR, ret);
}

int rfs_get_holders(struct rfs_region *r, char **ret)
{
	return get_text(r->fd, XATTR_HOLDERS, ret);
}

/* ---------------------------------------------------------------- errors */

const char *rfs_strerror(int result)
{
	switch (result) {
	case 0:
		return "success";
	case -ENODEV:
		return "no regionfs mount found (set REGIONFS_MOUNT, or mount regionfs on /dev/shm)";
	case -EOVERFLOW:
		return "the view would pass the end of the region";
	case -EPROTO:
		return "the mount gave an attribute value this library does not know";
	}
	return strerror(result < 0 ? -result : result);
}

unsigned rfs_winerror(int result)
{
	switch (result) {
	case 0:
		return 0;      /* ERROR_SUCCESS */
	case -ENOENT:
		return 2;      /* ERROR_FILE_NOT_FOUND */
	case -EACCES:
	case -EPERM:
	case -EROFS:
		return 5;      /* ERROR_ACCESS_DENIED */
	case -ENOMEM:
		return 8;      /* ERROR_NOT_ENOUGH_MEMORY */
	case -EINVAL:
		return 87;     /* ERROR_INVALID_PARAMETER */
	case -ENOSPC:
	case -EDQUOT:
		return 112;    /* ERROR_DISK_FULL */
	case -EEXIST:
		return 183;    /* ERROR_ALREADY_EXISTS */
	case -ENAMETOOLONG:
		return 206;    /* ERROR_FILENAME_EXCED_RANGE */
	case -EOVERFLOW:
		return 8;      /* MapViewOfFile past the section: ERROR_NOT_ENOUGH_MEMORY */
	case -EBUSY:
		return 170;    /* ERROR_BUSY */
	case -ENODEV:
		return 3;      /* ERROR_PATH_NOT_FOUND */
	case -EIO:
		return 1117;   /* ERROR_IO_DEVICE */
	}
	return 31;             /* ERROR_GEN_FAILURE */
}
