/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Private interface between store.c and region.c; not part of the region/
 * contract (only files in src/region/ include it).
 *
 * Space lock: store_lock() serializes every change of the store's free
 * space made by the daemon (growth, KEEP_SIZE preallocation, punch+refill)
 * across all regions. It is taken after a region's own lock, never before.
 * Holding it across fallocate() makes "check, then allocate" atomic: in a
 * tmpfs store, the space one region punches and allocates again cannot be
 * taken by another region's growth in between.
 */
#ifndef RFS_REGION_STORE_INTERNAL_H
#define RFS_REGION_STORE_INTERNAL_H

#include <stdint.h>

#include "region/region.h"

/* A new backing fd (size 0): O_TMPFILE in the tmpfs, or a memfd. */
int store_new_fd(struct region_store *store);

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
