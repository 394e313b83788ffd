/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "region/region.h"
#include "region/store_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "common/log.h"
#include "common/macros.h"

struct region_store {
	enum store_kind kind;
	uint64_t limit; /* whole pages */
	int mntfd;	/* STORE_TMPFS: the detached mount; -1 otherwise */

	pthread_mutex_t lock; /* the space lock, see store_internal.h */
	uint64_t charged;     /* STORE_MEMFD: bytes reserved by all regions, and meta */
	uint64_t meta;	      /* bytes of store_charge_meta(), under lock */
	int metafd;	      /* STORE_TMPFS: the file holding meta's pages; -1 otherwise */
	uint64_t meta_len;    /* STORE_TMPFS: bytes allocated in metafd (whole pages) */
	rlim_t fd_limit;      /* RLIMIT_NOFILE when opened (the daemon sets it first); 0: none */

	/* The fd cache of named files (store_internal.h); all under fd_lock. */
	pthread_mutex_t fd_lock;
	pthread_cond_t fd_unpinned;	      /* a slot's last pin went (fd_waiters > 0) */
	unsigned long fd_waiters;	      /* store_fd_drop() calls waiting for one */
	struct store_fd *lru_head, *lru_tail; /* least recently used first */
	unsigned long fd_open;		      /* named files' fds open, pinned or not */
	unsigned long fd_fixed;		      /* bound files' fds (store_fd.budgeted) */
	unsigned long fd_budget;	      /* most of both open at once */
	uint64_t next_seq;		      /* name of the next named file */
};

/*
 * Sizes are off_t in the kernel: a limit above the largest page-aligned
 * off_t could never be used anyway, and rounding it up could wrap to 0.
 */
#define STORE_LIMIT_MAX ((uint64_t)INT64_MAX & ~((uint64_t)RFS_PAGE_SIZE - 1))

/*
 * A private tmpfs, mounted nowhere: only this fd reaches it, so no other
 * process can see or fill it, and it must never appear under our own FUSE
 * mount (a system call of the daemon on its own mount is a request that a
 * daemon thread must answer: it can deadlock). size= makes the kernel
 * enforce the quota even for passthrough writes that never reach the
 * daemon. nr_inodes=0 (unlimited) because the registry limits the number
 * of regions itself.
 */
static int tmpfs_mount(uint64_t limit, unsigned flags, int *ret_mntfd)
{
	const char *huge = flags & STORE_HUGE_ALWAYS	   ? "always"
			   : flags & STORE_HUGE_WITHIN_SIZE ? "within_size"
			   : flags & STORE_HUGE_ADVISE	   ? "advise"
							   : NULL;
	char size[32];
	int fsfd, mntfd, ret;

	snprintf(size, sizeof(size), "%" PRIu64, limit);

	fsfd = fsopen("tmpfs", FSOPEN_CLOEXEC);
	if (fsfd < 0)
		return -errno;
	if (fsconfig(fsfd, FSCONFIG_SET_STRING, "size", size, 0) < 0 ||
	    fsconfig(fsfd, FSCONFIG_SET_STRING, "nr_inodes", "0", 0) < 0 ||
	    fsconfig(fsfd, FSCONFIG_SET_STRING, "mode", "0700", 0) < 0 ||
	    (huge && fsconfig(fsfd, FSCONFIG_SET_STRING, "huge", huge, 0) < 0) ||
	    fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
		ret = -errno;
		goto out_close_fs;
	}
	mntfd = fsmount(fsfd, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
	if (mntfd < 0) {
		ret = -errno;
		goto out_close_fs;
	}
	*ret_mntfd = mntfd;
	ret = 0;
out_close_fs:
	close(fsfd);
	return ret;
}

static int memfd_new(void)
{
	int fd = memfd_create("regionfs", MFD_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/*
 * Backing fds stop this many short of RLIMIT_NOFILE: the rest of the daemon
 * (libfuse, glibc's lazy dlopen of libgcc_s for pthread_cancel at exit,
 * /proc reads, a user's file opened for binding) must always find a free
 * fd, or it aborts.
 */
#define STORE_FD_RESERVE 64
_Static_assert(STORE_NOFILE_MIN >= 2 * STORE_FD_RESERVE, "room for the cache past the reserve");

/* "r" and a 64-bit sequence number in hex. */
#define STORE_NAME_SIZE sizeof("r0123456789abcdef")

/*
 * The cache may fill everything but the reserve: an fd kept open spares a
 * reopen, and fds the rest of the daemon takes meanwhile (bound files) are
 * made room for by check_fd_reserve(), not by the budget.
 */
static unsigned long default_fd_budget(const struct region_store *store)
{
	if (!store->fd_limit)
		return ULONG_MAX;
	if (store->fd_limit <= STORE_FD_RESERVE + 1)
		return 1;
	return (unsigned long)(store->fd_limit - STORE_FD_RESERVE);
}

/* fds are handed out lowest first, so a new fd numbered n leaves exactly
 * fd_limit - n - 1 free: refuse it when that eats into the reserve. */
static int check_fd_reserve(const struct region_store *store, int fd)
{
	return store_fd_keep(store, fd, 0);
}

int store_fd_keep(const struct region_store *store, int fd, unsigned slack)
{
	if (fd >= 0 && store->fd_limit &&
	    (rlim_t)fd + STORE_FD_RESERVE + slack >= store->fd_limit) {
		close(fd);
		return -EMFILE;
	}
	return fd;
}

static void name_of(uint64_t seq, char name[STORE_NAME_SIZE])
{
	snprintf(name, STORE_NAME_SIZE, "r%" PRIx64, seq);
}

static void unlink_named(struct region_store *store, uint64_t seq)
{
	char name[STORE_NAME_SIZE];

	name_of(seq, name);
	/* Nobody else can reach the tmpfs: only a bug could make this fail. */
	if (unlinkat(store->mntfd, name, 0) < 0)
		log_debug("store: cannot unlink %s: %s", name, strerror(errno));
}

static void lru_add(struct region_store *store, struct store_fd *slot)
{
	slot->lru_prev = store->lru_tail;
	slot->lru_next = NULL;
	if (store->lru_tail)
		store->lru_tail->lru_next = slot;
	else
		store->lru_head = slot;
	store->lru_tail = slot;
}

static void lru_del(struct region_store *store, struct store_fd *slot)
{
	if (slot->lru_prev)
		slot->lru_prev->lru_next = slot->lru_next;
	else
		store->lru_head = slot->lru_next;
	if (slot->lru_next)
		slot->lru_next->lru_prev = slot->lru_prev;
	else
		store->lru_tail = slot->lru_prev;
	slot->lru_prev = slot->lru_next = NULL;
}

/* Close the least recently used unpinned fd: false when every one is pinned. */
static bool evict_one(struct region_store *store)
{
	struct store_fd *victim = store->lru_head;

	if (!victim)
		return false;
	lru_del(store, victim);
	close(victim->fd);
	victim->fd = -1;
	store->fd_open--;
	return true;
}

/*
 * Open named file seq (flags: 0, or O_CREAT | O_EXCL to create it) within
 * the budget and outside the reserve, closing unpinned cached fds as needed.
 * On failure a file it created is gone again. fd_lock held.
 */
static int open_named(struct region_store *store, uint64_t seq, int flags)
{
	char name[STORE_NAME_SIZE];
	bool created = false;
	int fd;

	name_of(seq, name);
	for (;;) {
		while (store->fd_open + store->fd_fixed >= store->fd_budget) {
			if (!evict_one(store)) {
				fd = -EMFILE;
				goto out;
			}
		}
		fd = openat(store->mntfd, name, flags | O_RDWR | O_CLOEXEC, 0600);
		if (fd < 0) {
			fd = -errno;
		} else if (flags & O_CREAT) {
			created = true;
			flags &= ~(O_CREAT | O_EXCL); /* a retry opens what exists now */
		}
		fd = check_fd_reserve(store, fd);
		/* Other fds of the daemon fill the table: the cache gives way. */
		if ((fd == -EMFILE || fd == -ENFILE) && evict_one(store))
			continue;
		break;
	}
out:
	if (fd >= 0)
		store->fd_open++;
	else if (created)
		unlink_named(store, seq);
	return fd;
}

int store_fd_new(struct region_store *store, struct store_fd *slot)
{
	int fd;

	if (store->kind == STORE_MEMFD) {
		fd = check_fd_reserve(store, memfd_new());
		if (fd < 0)
			return fd;
		*slot = STORE_FD_FIXED(fd);
		return 0;
	}
	pthread_mutex_lock(&store->fd_lock);
	*slot = (struct store_fd){.fd = -1, .seq = store->next_seq++};
	fd = open_named(store, slot->seq, O_CREAT | O_EXCL);
	if (fd >= 0) {
		slot->fd = fd;
		lru_add(store, slot); /* most recently used: a new region is used next */
	}
	pthread_mutex_unlock(&store->fd_lock);
	return fd < 0 ? fd : 0;
}

/* Pin slot's fd, opening it again when the cache had closed it. fd_lock held. */
static int pin_locked(struct region_store *store, struct store_fd *slot)
{
	if (slot->fd < 0) {
		int fd;

		if (!slot->seq)
			return -EBADF; /* dropped */
		fd = open_named(store, slot->seq, 0);
		if (fd < 0)
			return fd;
		slot->fd = fd;
	} else if (slot->seq && !slot->pins) {
		lru_del(store, slot);
	}
	slot->pins++;
	return slot->fd;
}

int store_fd_get(struct region_store *store, struct store_fd *slot)
{
	int fd;

	pthread_mutex_lock(&store->fd_lock);
	fd = pin_locked(store, slot);
	pthread_mutex_unlock(&store->fd_lock);
	return fd;
}

void store_fd_put(struct region_store *store, struct store_fd *slot)
{
	pthread_mutex_lock(&store->fd_lock);
	if (slot->pins == 1 && store->fd_waiters)
		pthread_cond_broadcast(&store->fd_unpinned);
	if (--slot->pins == 0 && slot->seq) {
		/* Over budget (it shrank while this fd was pinned): close at once. */
		if (store->fd_open + store->fd_fixed > store->fd_budget) {
			close(slot->fd);
			slot->fd = -1;
			store->fd_open--;
		} else {
			lru_add(store, slot);
		}
	}
	pthread_mutex_unlock(&store->fd_lock);
}

int store_fd_stat(struct region_store *store, struct store_fd *slot, struct stat *ret)
{
	int fd, r = 0;

	pthread_mutex_lock(&store->fd_lock);
	if (slot->fd < 0 && slot->seq) {
		char name[STORE_NAME_SIZE];

		/* Under fd_lock: the name cannot be unlinked meanwhile. */
		name_of(slot->seq, name);
		if (fstatat(store->mntfd, name, ret, 0) < 0)
			r = -errno;
		pthread_mutex_unlock(&store->fd_lock);
		return r;
	}
	/* Pinned, not under fd_lock: a bound file's fstat() may be slow (NFS). */
	fd = pin_locked(store, slot);
	pthread_mutex_unlock(&store->fd_lock);
	if (fd < 0)
		return fd;
	if (fstat(fd, ret) < 0)
		r = -errno;
	store_fd_put(store, slot);
	return r;
}

/*
 * What the cache keeps for itself when bound files take the budget: more
 * than the fds requests can pin at once (one per daemon thread), so a read
 * inside a region always finds an fd to close and reopen its own.
 */
static unsigned long fd_floor(const struct region_store *store)
{
	return RFS_MIN(256ul, store->fd_budget / 8);
}

int store_fd_replace(struct region_store *store, struct store_fd *slot, int fd)
{
	bool budget = fd >= 0 && store->kind == STORE_TMPFS;
	struct store_fd old;

	pthread_mutex_lock(&store->fd_lock);
	if (slot->pins) {
		pthread_mutex_unlock(&store->fd_lock);
		return -EBUSY;
	}
	if (budget && !slot->budgeted && store->fd_budget != ULONG_MAX &&
	    store->fd_fixed + 1 + fd_floor(store) > store->fd_budget) {
		pthread_mutex_unlock(&store->fd_lock);
		return -ENOSPC;
	}
	old = *slot;
	if (old.seq && old.fd >= 0) {
		lru_del(store, slot);
		store->fd_open--;
	}
	if (old.budgeted)
		store->fd_fixed--;
	*slot = STORE_FD_FIXED(fd);
	if (budget) {
		slot->budgeted = true;
		store->fd_fixed++;
		/* The new fd takes a cached one's place. */
		while (store->fd_open + store->fd_fixed > store->fd_budget && evict_one(store))
			;
	}
	pthread_mutex_unlock(&store->fd_lock);
	/* The last reference to an anonymous region's file: its pages go. A
	 * bound user's file stays where it is. */
	if (old.fd >= 0)
		close(old.fd);
	if (old.seq)
		unlink_named(store, old.seq);
	return 0;
}

void store_fd_drop(struct region_store *store, struct store_fd *slot)
{
	/*
	 * A request may still pin it: a reply wakes its caller before the
	 * replying thread lets go (rfs_read() splices from the fd, then puts
	 * it), and the caller may close, unlink and forget the region
	 * meanwhile. Nothing can pin it anew: its region is unreachable.
	 */
	pthread_mutex_lock(&store->fd_lock);
	store->fd_waiters++;
	while (slot->pins)
		pthread_cond_wait(&store->fd_unpinned, &store->fd_lock);
	store->fd_waiters--;
	pthread_mutex_unlock(&store->fd_lock);
	store_fd_replace(store, slot, -1);
}

void store_set_fd_budget(struct region_store *store, unsigned long n)
{
	pthread_mutex_lock(&store->fd_lock);
	store->fd_budget = n ? n : default_fd_budget(store);
	while (store->fd_open + store->fd_fixed > store->fd_budget && evict_one(store))
		;
	pthread_mutex_unlock(&store->fd_lock);
}

/*
 * Create one backing file and drop it: a store that cannot make regions
 * should fail (or fall back) now, at startup, not on the first client's
 * create.
 */
static int probe(struct region_store *store)
{
	struct store_fd slot;
	int r = store_fd_new(store, &slot);

	if (r == 0)
		store_fd_drop(store, &slot);
	return r;
}

/*
 * The hidden file of a tmpfs store's metadata charge: unnamed (O_TMPFILE),
 * so no region name can collide with it and nothing can open it again.
 */
static int meta_open(struct region_store *store)
{
	int fd = openat(store->mntfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

	if (fd < 0)
		return -errno;
	store->metafd = fd;
	return 0;
}

int store_open(uint64_t limit, unsigned flags, struct region_store **ret)
{
	struct region_store *store;
	struct rlimit rl;
	int r;

	const bool huge = flags & (STORE_HUGE_ALWAYS | STORE_HUGE_WITHIN_SIZE | STORE_HUGE_ADVISE);

	if (limit == 0 || (huge && (flags & STORE_FORCE_MEMFD)))
		return -EINVAL;
	limit = limit > STORE_LIMIT_MAX ? STORE_LIMIT_MAX : RFS_ALIGN_UP(limit, RFS_PAGE_SIZE);

	store = calloc(1, sizeof(*store));
	if (!store)
		return -ENOMEM;
	store->limit = limit;
	store->mntfd = -1;
	store->metafd = -1;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		store->fd_limit = rl.rlim_cur;
	store->fd_budget = default_fd_budget(store);
	store->next_seq = 1;
	r = pthread_mutex_init(&store->lock, NULL);
	if (r) {
		r = -r;
		goto err_free;
	}
	r = pthread_mutex_init(&store->fd_lock, NULL);
	if (r) {
		r = -r;
		goto err_destroy_lock;
	}
	r = pthread_cond_init(&store->fd_unpinned, NULL);
	if (r) {
		r = -r;
		goto err_destroy_fd_lock;
	}

	if (!(flags & STORE_FORCE_MEMFD)) {
		/*
		 * Any failure here (EPERM without CAP_SYS_ADMIN, ENOSYS on old
		 * kernels, EACCES under an LSM, no O_TMPFILE) only costs the
		 * features a tmpfs store adds: memfds work everywhere. Unless
		 * huge= was asked for, which only the tmpfs has.
		 */
		r = tmpfs_mount(limit, flags, &store->mntfd);
		if (r == 0) {
			store->kind = STORE_TMPFS;
			r = probe(store);
			if (r == 0)
				r = meta_open(store);
			if (r == 0)
				goto out;
			close(store->mntfd);
			store->mntfd = -1;
			if (huge)
				goto err_destroy_cond;
			log_debug("store: no files in the private tmpfs (%s), using memfds",
				  strerror(-r));
		} else if (huge) {
			goto err_destroy_cond;
		} else {
			log_debug("store: cannot mount a private tmpfs (%s), using memfds",
				  strerror(-r));
		}
	}

	store->kind = STORE_MEMFD;
	r = probe(store);
	if (r)
		goto err_destroy_cond;
out:
	log_debug("store: %s, limit %" PRIu64 " bytes",
		  store->kind == STORE_TMPFS ? "private tmpfs" : "memfd", limit);
	*ret = store;
	return 0;

err_destroy_cond:
	pthread_cond_destroy(&store->fd_unpinned);
err_destroy_fd_lock:
	pthread_mutex_destroy(&store->fd_lock);
err_destroy_lock:
	pthread_mutex_destroy(&store->lock);
err_free:
	free(store);
	return r;
}

void store_close(struct region_store *store)
{
	if (!store)
		return;
	/* Regions still open would keep the tmpfs alive; closing the
	 * last fd of a detached mount unmounts it. */
	if (store->metafd >= 0)
		close(store->metafd);
	if (store->mntfd >= 0)
		close(store->mntfd);
	pthread_cond_destroy(&store->fd_unpinned);
	pthread_mutex_destroy(&store->fd_lock);
	pthread_mutex_destroy(&store->lock);
	free(store);
}

enum store_kind store_kind(const struct region_store *store)
{
	return store->kind;
}

uint64_t store_limit(const struct region_store *store)
{
	return store->limit;
}

int store_used(struct region_store *store, uint64_t *ret)
{
	struct statfs sfs;

	if (store->kind == STORE_MEMFD) {
		pthread_mutex_lock(&store->lock);
		*ret = store->charged;
		pthread_mutex_unlock(&store->lock);
		return 0;
	}

	/*
	 * The kernel's count, not ours: passthrough clients allocate pages
	 * (writes past the end, holes they fill) without asking the daemon.
	 */
	if (fstatfs(store->mntfd, &sfs) < 0)
		return -errno;
	*ret = (uint64_t)(sfs.f_blocks - sfs.f_bfree) * (uint64_t)sfs.f_bsize;
	return 0;
}

void store_lock(struct region_store *store)
{
	pthread_mutex_lock(&store->lock);
}

void store_unlock(struct region_store *store)
{
	pthread_mutex_unlock(&store->lock);
}

int store_charge(struct region_store *store, uint64_t bytes)
{
	if (store->kind != STORE_MEMFD)
		return 0;
	/* charged may exceed the limit after store_charge_over(). */
	if (store->charged > store->limit || bytes > store->limit - store->charged)
		return -ENOSPC;
	store->charged += bytes;
	return 0;
}

void store_charge_over(struct region_store *store, uint64_t bytes)
{
	if (store->kind == STORE_MEMFD)
		store->charged += bytes;
}

void store_uncharge(struct region_store *store, uint64_t bytes)
{
	if (store->kind != STORE_MEMFD)
		return;
	store->charged -= bytes;
}

/*
 * STORE_TMPFS: make the hidden file hold exactly the pages meta needs.
 * fallocate() fails with ENOSPC when the tmpfs is full and then gives back
 * what it allocated; ftruncate() frees every page past the new end.
 * store->lock held.
 */
static int meta_fit(struct region_store *store, uint64_t meta, bool grow)
{
	uint64_t len = RFS_ALIGN_UP(meta, RFS_PAGE_SIZE);

	if (grow && len > store->meta_len) {
		if (fallocate(store->metafd, 0, 0, (off_t)len) < 0)
			return -errno;
		store->meta_len = len;
	} else if (!grow && len < store->meta_len) {
		if (ftruncate(store->metafd, (off_t)len) < 0)
			log_debug("store: cannot give back metadata pages: %s", strerror(errno));
		else
			store->meta_len = len;
	}
	return 0;
}

int store_charge_meta(struct region_store *store, int64_t delta)
{
	uint64_t bytes = delta < 0 ? -(uint64_t)delta : (uint64_t)delta;
	int r = 0;

	pthread_mutex_lock(&store->lock);
	if (delta >= 0) {
		if (store->kind == STORE_MEMFD)
			r = store_charge(store, bytes);
		else
			r = meta_fit(store, store->meta + bytes, true);
		if (r == 0)
			store->meta += bytes;
	} else {
		bytes = RFS_MIN(bytes, store->meta);
		if (store->kind == STORE_MEMFD)
			store_uncharge(store, bytes);
		else
			meta_fit(store, store->meta - bytes, false);
		store->meta -= bytes;
	}
	pthread_mutex_unlock(&store->lock);
	return r;
}

void store_charge_meta_over(struct region_store *store, uint64_t bytes)
{
	pthread_mutex_lock(&store->lock);
	if (store->kind == STORE_MEMFD)
		store_charge_over(store, bytes);
	else if (meta_fit(store, store->meta + bytes, true) < 0)
		log_debug("store: metadata past the limit, not held in pages");
	store->meta += bytes;
	pthread_mutex_unlock(&store->lock);
}

uint64_t store_meta(struct region_store *store)
{
	uint64_t meta;

	pthread_mutex_lock(&store->lock);
	meta = store->meta;
	pthread_mutex_unlock(&store->lock);
	return meta;
}
