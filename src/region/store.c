/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "region/region.h"
#include "region/store_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
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
	uint64_t charged;     /* STORE_MEMFD: bytes reserved by all regions */
	rlim_t fd_limit;      /* RLIMIT_NOFILE when opened (the daemon sets it first); 0: none */
};

/*
 * Sizes are off_t in the kernel: a limit above the largest page-aligned
 * off_t could never be used anyway, and rounding it up could wrap to 0.
 */
#define STORE_LIMIT_MAX ((uint64_t)INT64_MAX & ~((uint64_t)RFS_PAGE_SIZE - 1))

/*
 * A private tmpfs, mounted nowhere: only this fd reaches it, so no other
 * process can see or fill it, and it must never appear under our own FUSE
 * mount (DESIGN.md). size= makes the kernel enforce the quota even for
 * passthrough writes that never reach the daemon. nr_inodes=0 (unlimited)
 * because the registry limits the number of regions itself.
 */
static int tmpfs_mount(uint64_t limit, int *ret_mntfd)
{
	char size[32];
	int fsfd, mntfd, ret;

	snprintf(size, sizeof(size), "%" PRIu64, limit);

	fsfd = fsopen("tmpfs", FSOPEN_CLOEXEC);
	if (fsfd < 0)
		return -errno;
	if (fsconfig(fsfd, FSCONFIG_SET_STRING, "size", size, 0) < 0 ||
	    fsconfig(fsfd, FSCONFIG_SET_STRING, "nr_inodes", "0", 0) < 0 ||
	    fsconfig(fsfd, FSCONFIG_SET_STRING, "mode", "0700", 0) < 0 ||
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

static int tmpfile_new(int mntfd)
{
	int fd = openat(mntfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

	return fd < 0 ? -errno : fd;
}

/*
 * Create one backing file and drop it: a store that cannot make regions
 * should fail (or fall back) now, at startup, not on the first client's
 * create.
 */
static int probe(struct region_store *store)
{
	int fd = store_new_fd(store);

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

int store_open(uint64_t limit, unsigned flags, struct region_store **ret)
{
	struct region_store *store;
	struct rlimit rl;
	int r;

	if (limit == 0)
		return -EINVAL;
	limit = limit > STORE_LIMIT_MAX ? STORE_LIMIT_MAX : RFS_ALIGN_UP(limit, RFS_PAGE_SIZE);

	store = calloc(1, sizeof(*store));
	if (!store)
		return -ENOMEM;
	store->limit = limit;
	store->mntfd = -1;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		store->fd_limit = rl.rlim_cur;
	r = pthread_mutex_init(&store->lock, NULL);
	if (r) {
		r = -r;
		goto err_free;
	}

	if (!(flags & STORE_FORCE_MEMFD)) {
		/*
		 * Any failure here (EPERM without CAP_SYS_ADMIN, ENOSYS on old
		 * kernels, EACCES under an LSM, no O_TMPFILE) only costs the
		 * features a tmpfs store adds: memfds work everywhere.
		 */
		r = tmpfs_mount(limit, &store->mntfd);
		if (r == 0) {
			store->kind = STORE_TMPFS;
			r = probe(store);
			if (r == 0)
				goto out;
			close(store->mntfd);
			store->mntfd = -1;
			log_debug("store: O_TMPFILE in private tmpfs failed (%s), using memfds",
				  strerror(-r));
		} else {
			log_debug("store: cannot mount a private tmpfs (%s), using memfds",
				  strerror(-r));
		}
	}

	store->kind = STORE_MEMFD;
	r = probe(store);
	if (r)
		goto err_destroy_lock;
out:
	log_debug("store: %s, limit %" PRIu64 " bytes",
		  store->kind == STORE_TMPFS ? "private tmpfs" : "memfd", limit);
	*ret = store;
	return 0;

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
	if (store->mntfd >= 0)
		close(store->mntfd);
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

/*
 * Backing fds stop this many short of RLIMIT_NOFILE: the rest of the daemon
 * (libfuse, glibc's lazy dlopen of libgcc_s for pthread_cancel at exit,
 * /proc reads) must always find a free fd, or it aborts.
 */
#define STORE_FD_RESERVE 64

/* fds are handed out lowest first, so a new fd numbered n leaves exactly
 * fd_limit - n - 1 free: refuse it when that eats into the reserve. */
static int check_fd_reserve(const struct region_store *store, int fd)
{
	if (fd >= 0 && store->fd_limit && (rlim_t)fd + STORE_FD_RESERVE >= store->fd_limit) {
		close(fd);
		return -EMFILE;
	}
	return fd;
}

int store_new_fd(struct region_store *store)
{
	if (store->kind == STORE_TMPFS)
		return check_fd_reserve(store, tmpfile_new(store->mntfd));
	return check_fd_reserve(store, memfd_new());
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
