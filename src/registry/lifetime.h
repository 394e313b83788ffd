/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * registry/lifetime — when a region's names go by themselves
 * (user.regionfs.lifetime). The registry keeps the rule and removes the
 * names; the fs layer (fs/reaper.h) decides when: it watches creators and
 * scans for mappings. Nothing here waits.
 *
 *   persist     the default: names stay until unlinked.
 *   last-close  the names go when the last open file and the last mapping
 *               are gone (the fs layer sees the last RELEASE, then checks
 *               for mappings: registry_expire_idle()).
 *   creator     the names go when the creating process (struct
 *               registry_creator: tgid and start time) has exited
 *               (registry_expire_creator()).
 *
 * On a directory the value is the default of what is created in it
 * afterwards (regions and directories copy it at creation: not live).
 * The root's comes from the mount option (registry_set_root_lifetime()).
 * A removal is an unlink of every name of the region (hard links too, in
 * any directory, after any rename), journaled like an unlink and under
 * the registry lock like one: open files and mappings keep the memory.
 *
 * With a store, a region's or directory's lifetime other than persist, and
 * every region's creator record, are kept as private attributes of its
 * store file (user.regionfs.lifetime, user.regionfs.creator: never loaded
 * as a user's attributes); the root's is not (the mount option sets it).
 * Nothing here reads /proc but the boot id, once.
 *
 * Callbacks named registry_name_fn run under the registry lock and must
 * not call back into the registry.
 */
#ifndef RFS_REGISTRY_LIFETIME_H
#define RFS_REGISTRY_LIFETIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "registry/registry.h"

enum registry_lifetime {
	REGISTRY_LIFETIME_PERSIST = 0,
	REGISTRY_LIFETIME_LAST_CLOSE = 1,
	REGISTRY_LIFETIME_CREATOR = 2,
};

/* The private attributes of a store's files (see above). */
#define REGISTRY_XATTR_LIFETIME "user.regionfs.lifetime"
#define REGISTRY_XATTR_CREATOR "user.regionfs.creator"

/* The longest value of a lifetime ("last-close"). */
#define REGISTRY_LIFETIME_MAX 10

/* "persist", "last-close", "creator". */
const char *registry_lifetime_name(enum registry_lifetime lt);
/* Parse size bytes (no NUL needed; one trailing newline, as echo adds, is
 * allowed). Errors: -EINVAL (anything else). */
int registry_lifetime_parse(const char *value, size_t size, enum registry_lifetime *ret);

/* The lifetime of a directory's new children from now on: the root's
 * (before anything is created; not kept in a store). */
void registry_set_root_lifetime(struct registry *reg, enum registry_lifetime lt);

/* The lifetime of node ino. Errors: -ENOENT. */
int registry_lifetime(struct registry *reg, uint64_t ino, enum registry_lifetime *ret);

/*
 * Set the lifetime of node ino (journaled under the node's I/O lock).
 * REGISTRY_LIFETIME_CREATOR on a region with no creator record, or one
 * without a start time (made before records were kept, or by a process
 * the daemon could not see in /proc): -EINVAL, nothing to watch. (Such a
 * region that inherits creator from its directory keeps it, and is never
 * removed by it.) On success for a region with lifetime
 * creator, *ret_creator (may be NULL) is its record, for the caller to
 * watch (or to remove the region at once when the creator is gone).
 * Errors: -ENOENT, -EINVAL, errors of the journal.
 */
int registry_set_lifetime(struct registry *reg, uint64_t ino, enum registry_lifetime lt,
			  struct registry_creator *ret_creator);

typedef void (*registry_name_fn)(void *ctx, uint64_t parent, const char *name);

/*
 * registry_release_flags() that also tells whether the region became idle: its
 * last open is gone, it still has a name, and its lifetime is last-close.
 * Then returns true with *ret_gen, the region's count of opens so far, for
 * registry_expire_idle(). Unknown inodes: false.
 */
bool registry_release_idle(struct registry *reg, uint64_t ino, int flags, uint64_t *ret_gen);

/*
 * Is region ino still idle as registry_release_idle() said (no open since,
 * still last-close, still named)?
 */
bool registry_still_idle(struct registry *reg, uint64_t ino, uint64_t gen);

/*
 * Remove every name of region ino if it is still idle (see
 * registry_still_idle()); removed() is called for each name removed.
 * Returns the number of names removed (0: not idle any more, or gone),
 * or a negative errno of the journal (the names removed before stay removed).
 */
int registry_expire_idle(struct registry *reg, uint64_t ino, uint64_t gen,
			 registry_name_fn removed, void *ctx);

/*
 * The creator c (its pid, a tgid, start time and other_boot) is gone:
 * remove every name of every region with lifetime creator whose record is
 * that process (of this boot, or with other_boot, any record of another
 * boot with that pid and start time: all gone). Returns the number of
 * names removed or a negative errno of the journal. Walks the inode
 * table: once per creator's exit, not a hot path.
 */
int registry_expire_creator(struct registry *reg, const struct registry_creator *c,
			    registry_name_fn removed, void *ctx);

/*
 * Remove every name of every region with lifetime last-close, and of every
 * region with lifetime creator for which gone(ctx, creator) says true
 * (called once per such region, under the registry lock: it may read
 * /proc but must not call into the registry). For the load of a store,
 * before the mount serves. Returns the number of names removed or a
 * negative errno of the journal.
 */
int registry_sweep(struct registry *reg, bool (*gone)(void *ctx, const struct registry_creator *c),
		   void *ctx, registry_name_fn removed, void *rctx);

/*
 * Load one private attribute of a store's file into node (a struct node,
 * registry_impl.h): lifetime and creator; other names are ignored. A value
 * that does not parse is ignored too (persist, no creator): a damaged
 * record never makes a store unloadable nor removes a region.
 */
void registry_lifetime_load(void *node, const char *name, const void *value, size_t size);

/*
 * The creator record as a store keeps it, and back: "PID START BOOT UID
 * TIME COMM" (BOOT: the first REGISTRY_BOOT_LEN characters of the boot id
 * of the record, "-" when unknown; COMM: the rest, up to 15 bytes, spaces
 * included). Short, so that it fits the inode of an ext4 store file.
 * registry_creator_encode() returns the length or -ERANGE;
 * registry_creator_decode() errors: -EINVAL.
 */
#define REGISTRY_CREATOR_RECORD_MAX 96
#define REGISTRY_BOOT_LEN 8
int registry_creator_encode(const struct registry_creator *c, const char *boot, char *buf,
			    size_t size);
int registry_creator_decode(const char *value, size_t size, struct registry_creator *ret,
			    char ret_boot[REGISTRY_BOOT_LEN + 1]);

#endif
