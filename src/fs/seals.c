/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * user.regionfs.seals: memfd's seals for named regions (README "Seals").
 *
 * Where each seal is enforced, and why there:
 *  - Opens for writing ("write", "future-write"): registry_open_flags(),
 *    as the daemon sees every open in both data paths.
 *  - Size changes and writes that reach the daemon (truncate, ftruncate,
 *    O_TRUNC, fallocate, and every write in the cached data path, where
 *    the writeback cache is off: each write(2) is a WRITE request with its
 *    offset, so a write past the end is refused before it lands):
 *    region_resize(), region_write(), region_fallocate().
 *  - Passthrough writes never reach the daemon. The kernel cannot seal
 *    the backing files either: passthrough needs the private tmpfs or a
 *    store's files on disk (a memfd store is used in the cached path
 *    only), and a tmpfs file that is no memfd is born with F_SEAL_SEAL
 *    (F_ADD_SEALS: EPERM); ext4 and a user's bound file know no seals.
 *    So: "write" and "future-write" refuse new writable opens, and
 *    "write" waits (EBUSY) until no file description of the backing file
 *    exists anywhere, mappings whose fd was closed included (the lease
 *    probe, which counts readers too: conservative). Shrinking cannot
 *    bypass the daemon (truncation is a SETATTR or an O_TRUNC open).
 *    Growing can, by a write past the end: a region sealed "grow" is
 *    opened in the cached data path from then on (every write reaches
 *    the daemon), which the kernel allows only once no passthrough open
 *    exists, and whose page cache a passthrough mapping would not share:
 *    adding "grow" waits (EBUSY) until no open and no mapping exists.
 * The memfd store (cached path only) needs no kernel seals: the daemon
 * sees everything that could break one.
 */
#include "fs/rfs.h"

#include <errno.h>
#include <string.h>

#include "common/log.h"
#include "region/seal.h"

/* The region of ino, for its seals. A directory has none (-EISDIR). */
static int seals_region(struct rfs *fs, fuse_ino_t ino, struct region **ret)
{
	return registry_region(fs->reg, ino, ret);
}

ssize_t rfs_seals_get(struct rfs *fs, fuse_ino_t ino, char *buf, size_t size)
{
	struct region *region;
	int r = seals_region(fs, ino, &region);

	if (r < 0)
		return r;
	return region_seal_format(region_seals(region), buf, size);
}

int rfs_seals_add(struct rfs *fs, fuse_ino_t ino, const char *value, size_t size)
{
	struct region *region;
	unsigned seals;
	int r = seals_region(fs, ino, &region);

	if (r == 0)
		r = region_seal_parse(value, size, &seals);
	if (r == 0)
		r = registry_add_seals(fs->reg, ino, seals, !fs->passthrough);
	if (r < 0)
		log_debug("sealing inode %llu with '%.*s': %s", (unsigned long long)ino,
			  (int)RFS_MIN(size, 64u), value, strerror(-r));
	return r;
}

int rfs_seals_remove(struct rfs *fs, fuse_ino_t ino)
{
	struct region *region;
	int r = seals_region(fs, ino, &region);

	return r < 0 ? r : -EPERM;
}

bool rfs_seals_passthrough(struct rfs *fs, struct region *region)
{
	return fs->passthrough && !(region_seals(region) & REGION_SEAL_GROW);
}
