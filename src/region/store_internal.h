/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Private interface between store.c and region.c; not part of the region/
 * contract (only files in src/region/ include it).
 *
 * Space lock: store_lock() serializes every change of the store's free
 * space made by the daemon (growth, KEEP_SIZE preallocation, punch+refill)
 * across all regions. Holding it across fallocate() makes "check, then
 * allocate" atomic: in a tmpfs store, the space one region punches and
 * allocates again cannot be taken by another region's growth in between.
 *
 * Backing fds: a region's backing file is a struct store_fd. In a tmpfs
 * store it is a named file ("r<seq>" in hex) whose fd the store opens on
 * demand and keeps in an LRU cache of at most store_set_fd_budget() fds:
 * the number of regions is then bounded by the tmpfs, not RLIMIT_NOFILE.
 * Every other backing fd is fixed, open for the region's whole life: a
 * memfd (it has no name to reopen), a file adopted from a persistent store,
 * a user's file after region_bind_file(). A fixed fd is still pinned and
 * unpinned like a cached one, so callers never need to know which it is.
 *
 * Lock order, outermost first: a region's rwlock, store_lock(), the fd
 * cache's own lock. The fd cache lock is a leaf: store_fd_*() may be called
 * holding either of the others (or none) and take no other lock inside.
 * The cache lock is never held across I/O on region data, only across
 * open, close, fstat and unlink on the private tmpfs.
 */
#ifndef RFS_REGION_STORE_INTERNAL_H
#define RFS_REGION_STORE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "region/region.h"

/*
 * One region's backing file. Every field belongs to the fd cache (read and
 * written under its lock, by store_fd_*() only).
 */
struct store_fd {
	int fd;	       /* -1: a named file whose fd is closed now */
	unsigned pins; /* store_fd_get() not yet matched by store_fd_put() */
	uint64_t seq;  /* named file "r<seq>" of a tmpfs store; 0: fd is fixed */
	bool budgeted; /* a fixed fd (a bound file) counted in the tmpfs store's budget */
	/* On the store's LRU list exactly while named, open and unpinned. */
	struct store_fd *lru_prev, *lru_next;
};

/* A fixed backing fd (taken) in a slot that was never in the cache. */
#define STORE_FD_FIXED(fd_) ((struct store_fd){.fd = (fd_)})

/*
 * A new backing file (size 0) in slot: a named file in the tmpfs (its fd
 * cached, unpinned), or a fixed memfd. slot must stay at its address until
 * store_fd_drop().
 * Errors: -EMFILE (no fd free within the budget and the reserve, even after
 * closing every unpinned cached fd), or the errno of openat()/memfd_create().
 */
int store_fd_new(struct region_store *store, struct store_fd *slot);

/*
 * Pin the backing fd, opening a named file again when its fd was closed, and
 * return it; it stays open until the matching store_fd_put().
 * Errors: -EMFILE (as store_fd_new()), or the errno of openat().
 */
int store_fd_get(struct region_store *store, struct store_fd *slot);
void store_fd_put(struct region_store *store, struct store_fd *slot);

/* fstat() of the backing file; by name when its fd is not open (no fd needed). */
int store_fd_stat(struct region_store *store, struct store_fd *slot, struct stat *ret);

/*
 * Make fd (taken on success) the slot's fixed fd; the old file is closed,
 * and unlinked when named. In a tmpfs store such fds (bound files) count
 * against the budget, cached fds giving way, and may take all of it but a
 * floor the cache keeps for the fds requests pin at once.
 * Errors: -EBUSY (the old fd is pinned), -ENOSPC (no room left above the floor).
 */
int store_fd_replace(struct region_store *store, struct store_fd *slot, int fd);

/* Close the backing fd and unlink a named file. Waits for the pins still
 * held (a request's, just replied); nothing may pin it anew. */
void store_fd_drop(struct region_store *store, struct store_fd *slot);

void store_lock(struct region_store *store);
void store_unlock(struct region_store *store);

/*
 * Under store_lock(): take bytes (whole pages) from the free space.
 * STORE_MEMFD counts them (-ENOSPC past the limit); STORE_TMPFS leaves the
 * check to the kernel (fallocate fails with ENOSPC) and always succeeds.
 */
int store_charge(struct region_store *store, uint64_t bytes);
/*
 * Under store_lock(): take bytes even past the limit (regions of a
 * persistent store being loaded: what the store holds is the user's, and
 * refusing it would lock them out; df then shows the store full, and growth
 * fails with ENOSPC until enough is freed).
 */
void store_charge_over(struct region_store *store, uint64_t bytes);
/* Give back bytes taken by store_charge(); store_lock() held. */
void store_uncharge(struct region_store *store, uint64_t bytes);

#endif
