/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * registry/ — the namespace of regions: directories, names, inode numbers,
 * lookup and open counts, orphans, limits, extended attributes. No FUSE.
 *
 * Nodes and inode numbers
 * -----------------------
 * Every directory and region is a node with an inode number that never
 * changes and is never reused while the daemon runs (a 64-bit counter;
 * the root is REGISTRY_ROOT_INO). The FUSE layer uses the inode number as
 * its node id.
 *
 * Lookup counts (the FUSE "nlookup" contract)
 * -------------------------------------------
 * registry_lookup(), registry_create(), registry_mkdir(), registry_link()
 * and registry_readdir() with want_attr take one lookup reference on the
 * node they return; registry_forget() drops references. A node whose last
 * name is gone (nlink 0) lives on while it has lookup references or open
 * files (an "orphan"): its memory is released when both reach zero.
 * The root is never freed before registry_free().
 *
 * Locking (outermost first; a thread never waits for a lock above one it
 * holds):
 *  1. a node's I/O lock (one per node, registry_impl.h): orders the slow
 *     changes of that one node (setattr, bind, the retry of a binding,
 *     xattr changes, adding seals); held across their I/O (resize,
 *     fallocate, the lease probe, the journal's
 *     fchown/fchmod/futimens/fsetxattr, a user's open, the wait for the
 *     region's lock when sealing) while other requests go on. At most one
 *     node's at a time.
 *  2. the registry lock (one mutex): the namespace (inode table, names,
 *     counts, orphans, limits) and every node's fields; held only to find
 *     a node and take a reference, to check and to publish, never across
 *     a region's resize, a bind, a journal change of a node's own file or
 *     an fsync. Still under it: the journal's changes of names (create,
 *     mkdir, unlink, rename, link in the store's directories: the
 *     namespace and its mirror change together).
 *  3. below both, region/'s locks (a region's rwlock, the store's space
 *     lock, its fd cache lock: region.h).
 * The fstat() behind a getattr, lookup, create, link, setattr or readdir
 * reply is made after the registry lock is released: a stat, an open, a
 * lookup or a listing never waits for another region's I/O. Nodes are
 * freed after it is released too (a region's store space goes back under
 * the store's space lock, which a growing region holds).
 * Every function may be called from any thread; a getattr or entry reply
 * takes the registry lock once. A region pointer from registry_open()
 * stays valid until the matching registry_release().
 *
 * Where it lives: registry.c keeps the namespace in memory and records
 * every change first in its journal (journal.h: nothing for a memory-only
 * mount, the store's files for -o store=DIR, persist.h), changes of names
 * under the registry lock, a node's own under its I/O lock; load.c loads
 * a store (registry_load()).
 *
 * Limits: names are at most RFS_NAME_MAX bytes (else -ENAMETOOLONG); at
 * most max_inodes nodes (directories and regions, root included, orphans
 * too) and names of regions past their first (hard links, each an inode as
 * on tmpfs) exist at once (else -ENOSPC; registry_inodes() counts both);
 * extended attributes cost xattr_cost() each (name, NUL, value and 64
 * bytes), charged with store_charge_meta() before they are kept (-ENOSPC
 * when the store is full) and given back when they go; per attribute:
 * name <= 255 bytes (-ERANGE), value <= 65536 bytes (-E2BIG, as
 * XATTR_SIZE_MAX); per node: the names with their NULs <=
 * REGISTRY_XATTR_LIST_MAX (-ENOSPC: what listxattr returns always fits
 * XATTR_LIST_MAX, with room for the daemon's own user.regionfs.* names;
 * tmpfs accepts more names and then fails listxattr with E2BIG).
 *
 * Errors: 0 (or a count) on success, a negative errno on failure; output
 * parameters are written only on success.
 */
#ifndef RFS_REGISTRY_REGISTRY_H
#define RFS_REGISTRY_REGISTRY_H

#include <linux/limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "region/region.h"

#define REGISTRY_ROOT_INO 1u
/* XATTR_LIST_MAX (65536) less room for the names the fs layer adds. */
#define REGISTRY_XATTR_LIST_MAX (XATTR_LIST_MAX - 256u)

struct registry;

struct registry_config {
	uint64_t max_inodes; /* directories + regions, root included; 0 = unlimited */
	mode_t root_mode;    /* permission bits of the root directory */
	uid_t root_uid;
	gid_t root_gid;
	/*
	 * Called when a region that has a cookie is freed (without the
	 * registry lock) or a bind replaces it (under it): the data-path
	 * layer releases what the cookie names (a FUSE passthrough backing
	 * id). Optional.
	 */
	void (*cookie_release)(void *ctx, uint64_t cookie);
	void *cookie_ctx;
	/*
	 * Re-open a binding saved in a store (registry_load()), as uid/gid,
	 * the region's owner: return an fd open O_RDWR in *ret_fd, or a
	 * negative errno. region is the region's path in the mount when
	 * loading (the callback says once why it failed), NULL when retrying
	 * at an open. Called without the registry lock, except from
	 * registry_load() (nothing else runs then); must not call back into
	 * the registry. Optional: without it, no saved binding can be
	 * re-opened.
	 */
	int (*open_binding)(void *ctx, const char *region, const char *path, uid_t uid, gid_t gid,
			    int *ret_fd);
	void *open_binding_ctx;
};

/*
 * The process that created a region (user.regionfs.creator): its pid (the
 * thread group's, a tgid) and uid as the daemon sees them, its comm as
 * given (registry_creator() makes it printable) and when (CLOCK_REALTIME
 * seconds). pid 0: unknown. start: its start time (/proc/PID/stat field
 * 22, clock ticks after boot; 0: unknown), which with the pid names one
 * process of one boot: a pid used again is another process
 * (registry/lifetime.h). other_boot: a record loaded from a store that
 * was written during another boot (its process is gone).
 */
struct registry_creator {
	pid_t pid;
	uid_t uid;
	int64_t time;
	uint64_t start;
	bool other_boot;
	char comm[16]; /* NUL-terminated, as /proc/PID/comm without its newline */
};

/* Who is asking: the owner of what they create; creator: recorded on a new
 * region by registry_create() (NULL: none, and for directories). */
struct registry_cred {
	uid_t uid;
	gid_t gid;
	const struct registry_creator *creator;
};

/* Which fields of struct registry_setattr to apply. */
enum registry_set {
	REGISTRY_SET_MODE = 1 << 0,
	REGISTRY_SET_UID = 1 << 1,
	REGISTRY_SET_GID = 1 << 2,
	REGISTRY_SET_SIZE = 1 << 3,
	REGISTRY_SET_ATIME = 1 << 4, /* tv_nsec may be UTIME_NOW */
	REGISTRY_SET_MTIME = 1 << 5, /* tv_nsec may be UTIME_NOW */
	/*
	 * Clear S_ISUID / S_ISGID from the mode the node has at that moment
	 * (after a REGISTRY_SET_MODE of the same call): the set-id bits that a
	 * write, truncate or chown removes. A kill that finds nothing to clear
	 * changes nothing (not even ctime).
	 */
	REGISTRY_KILL_SUID = 1 << 6,
	REGISTRY_KILL_SGID = 1 << 7,
};

struct registry_setattr {
	unsigned valid; /* enum registry_set */
	mode_t mode;    /* permission bits only (07777) */
	uid_t uid;
	gid_t gid;
	uint64_t size;
	struct timespec atime, mtime;
};

/* What a reply needs to know of a node besides its attributes. */
enum registry_entry_flags {
	REGISTRY_ENTRY_BOUND = 1 << 0, /* a file-backed region */
};

/* The registry owns nothing of the store: the store must outlive it. */
int registry_new(struct region_store *store, const struct registry_config *cfg,
		 struct registry **ret);
/* Free every node and region (including orphans). */
void registry_free(struct registry *reg);

/* Attributes of a node: st_ino, st_mode (type and permissions), st_nlink,
 * st_uid, st_gid, and for regions st_size/st_blocks/times from the backing
 * file. ret_flags (NULL: not wanted): enum registry_entry_flags of the
 * node, read with the attributes (one lock for a reply).
 * Errors: -ENOENT (no such inode). */
int registry_getattr(struct registry *reg, uint64_t ino, struct stat *ret, unsigned *ret_flags);

/* Look up name in directory parent; takes a lookup reference. ret_flags as
 * registry_getattr(). Errors: -ENOENT, -ENOTDIR (parent is not a
 * directory), -ENAMETOOLONG. */
int registry_lookup(struct registry *reg, uint64_t parent, const char *name, struct stat *ret,
		    unsigned *ret_flags);

/* Drop n lookup references (FUSE forget). Unknown inodes are ignored. */
void registry_forget(struct registry *reg, uint64_t ino, uint64_t n);

/*
 * Create an empty region (mode: permission bits; the type is implied) named
 * name in parent; takes a lookup reference. The kernel sends CREATE only for
 * a name it believes missing, so an existing name is always -EEXIST.
 * Errors: -EEXIST, -ENOENT (parent gone), -ENOTDIR, -ENAMETOOLONG, -ENOSPC
 * (nr_inodes, store, or the daemon's open-file limit: a new region needs a
 * backing fd, and a memfd store's regions keep theirs), -ENOMEM.
 */
int registry_create(struct registry *reg, uint64_t parent, const char *name, mode_t mode,
		    const struct registry_cred *cred, struct stat *ret);

/* Create a directory; takes a lookup reference. Errors as registry_create. */
int registry_mkdir(struct registry *reg, uint64_t parent, const char *name, mode_t mode,
		   const struct registry_cred *cred, struct stat *ret);

/*
 * Remove a region's name. Freeing nodes (here, in registry_rmdir(),
 * registry_rename(), registry_forget(), registry_release()) gives memory
 * back: hash tables shrink, and after many frees malloc_trim(0) runs once
 * the registry lock is released. Errors: -ENOENT, -EISDIR, -ENOTDIR,
 * -ENAMETOOLONG.
 */
int registry_unlink(struct registry *reg, uint64_t parent, const char *name);

/* Remove an empty directory. Errors: -ENOENT, -ENOTDIR, -ENOTEMPTY,
 * -EBUSY (the root), -ENAMETOOLONG. */
int registry_rmdir(struct registry *reg, uint64_t parent, const char *name);

/*
 * rename(2)/renameat2(2). flags: 0, RENAME_NOREPLACE or RENAME_EXCHANGE.
 * Errors: -ENOENT, -EEXIST (NOREPLACE and target exists), -ENOTDIR /
 * -EISDIR (directory and region mixed), -ENOTEMPTY (target a non-empty
 * directory), -EINVAL (a directory into its own subtree, or unknown flags),
 * -ENAMETOOLONG.
 */
int registry_rename(struct registry *reg, uint64_t parent, const char *name, uint64_t newparent,
		    const char *newname, unsigned flags);

/* A new name for region ino; takes a lookup reference; ret_flags as
 * registry_getattr(). Errors: -EEXIST, -EPERM (ino is a directory), -ENOENT, -ENOTDIR,
 * -ENOSPC (max_inodes: a hard link costs an inode), -EMLINK (2^32 - 1
 * names), -ENAMETOOLONG. */
int registry_link(struct registry *reg, uint64_t ino, uint64_t newparent, const char *newname,
		  struct stat *ret, unsigned *ret_flags);

/*
 * chmod/chown/truncate/utimens. Size changes resize the region (errors of
 * region_resize); size on a directory: -EISDIR; on an unbound region whose
 * retry failed (registry_open()): -ENXIO; errors of the journal (the
 * store's fchown/fchmod/futimens) and of region_set_times().
 * Applied whole or not at all: on failure the node, its store file and its
 * region are as they were (undone best effort: an undo that fails in turn
 * is not reported). One exception: a shrink cannot be undone, so the times
 * are tried before it and set again after it (a truncate sets mtime); if
 * that second, same call fails, the error is returned and everything else
 * stays applied. ret_flags as registry_getattr(). Setattrs of one node
 * are applied one after the other; the resize runs without the registry
 * lock.
 */
int registry_setattr(struct registry *reg, uint64_t ino, const struct registry_setattr *sa,
		     struct stat *ret, unsigned *ret_flags);

/*
 * Open a region: counts the open file and returns its region.
 * A binding loaded from a store that could not be re-opened then (an
 * "unbound" region: it keeps its names, attributes and path) is retried
 * here, and in registry_lookup() and a registry_setattr() of the size, as
 * the region's owner (open_binding): the region is bound from then on.
 * Errors: -ENOENT, -EISDIR, -ENXIO (unbound, and the retry failed).
 */
int registry_open(struct registry *reg, uint64_t ino, struct region **ret);
/*
 * A cookie: one value the data-path layer attaches to a region (its
 * passthrough backing id), 0 for none. registry_attach_cookie() attaches
 * cookie if the region has none yet and returns the cookie attached now
 * (another thread's, if it won the race: the caller then releases its own).
 * Errors: -ENOENT, -EISDIR.
 */
int registry_cookie(struct registry *reg, uint64_t ino, uint64_t *ret);
int registry_attach_cookie(struct registry *reg, uint64_t ino, uint64_t cookie, uint64_t *ret);

/* The matching close. */
void registry_release(struct registry *reg, uint64_t ino);

/*
 * registry_open() with the open(2) flags of the open file: one open for
 * writing (O_WRONLY or O_RDWR) is counted as such, and refused with
 * -EPERM when the region has the seal "write" or "future-write"
 * (registry_add_seals()). registry_open() is this with O_RDONLY.
 * registry_release_flags() is the close, with the same flags.
 */
int registry_open_flags(struct registry *reg, uint64_t ino, int flags, struct region **ret);
void registry_release_flags(struct registry *reg, uint64_t ino, int flags);

/*
 * Add seals (enum region_seal) to region ino; never removes one. Adding
 * nothing new is 0. count_opens as registry_bind(): true when every
 * write reaches the daemon through an open it counted (cache mode);
 * false for passthrough, where an open file or a mapping writes to the
 * backing file directly.
 * Errors: -ENOENT, -EISDIR (a directory), -EPERM (the region has "seal":
 * even when nothing would be added, as F_ADD_SEALS), -EBUSY: adding
 * "write" while a file is open for writing; with !count_opens also adding
 * "write" or "grow" while another file description of the backing file
 * exists (any passthrough open or mapping, readers too: the lease probe,
 * region_check_unshared(), cannot tell them apart), and adding "grow"
 * while a file is open (see fs/seals.c); errors of the journal (the
 * store's fsetxattr): nothing added.
 */
int registry_add_seals(struct registry *reg, uint64_t ino, unsigned seals, bool count_opens);

/*
 * Bind region ino to a user's file (see region_bind_file()) for binder (who
 * allocates in it from now on); fd is taken on success. cookie replaces the region's cookie (the old one is released):
 * the data-path state of the new backing file, 0 for none yet.
 * In use means, with count_opens (cache mode): the daemon counted an open
 * not released yet (a mapping keeps its FUSE file open there). Without
 * (passthrough): another open file description of the backing file exists
 * (region_check_unshared(): the kernel's passthrough opens and mappings,
 * which outlive the asynchronous RELEASE the count waits for). The lease
 * probe needs a real file: memfds refuse every write lease.
 * Errors: -ENOENT, -EISDIR (a directory), -EBUSY (in use), -ENOTEMPTY (it
 * has a size), -EEXIST (already bound), -EPERM (the region has seals),
 * -ENOMEM.
 */
int registry_bind(struct registry *reg, uint64_t ino, int fd, const char *path,
		  const struct registry_cred *binder, uint64_t cookie, bool count_opens);

/* Copy the bound file's path of ino into buf (size 0: return the length);
 * for an unbound region (see registry_open()) the path it waits for.
 * Errors: -ENOENT, -EISDIR, -ENODATA (not bound), -ERANGE (buf too small). */
ssize_t registry_backing_path(struct registry *reg, uint64_t ino, char *buf, size_t size);

/*
 * Copy region ino's creator into buf as one line without a newline,
 * "pid=N uid=N comm=NAME time=YYYY-MM-DDTHH:MM:SSZ" (UTC; comm's bytes
 * outside printable ASCII as '?'; at most REGISTRY_CREATOR_MAX bytes);
 * size 0: return the length. Kept in a store too (registry/lifetime.h): a
 * region loaded from one shows its saved record; one made before records
 * were kept has none. Errors: -ENOENT, -EISDIR, -ENODATA (none recorded),
 * -ERANGE (buf too small).
 */
#define REGISTRY_CREATOR_MAX 96
ssize_t registry_creator(struct registry *reg, uint64_t ino, char *buf, size_t size);

/* The region of ino, without counting an open (for requests on an inode the
 * kernel holds a reference to). Errors: -ENOENT, -EISDIR. */
int registry_region(struct registry *reg, uint64_t ino, struct region **ret);

/*
 * readdir: call fill() for entries after position off ("." is position 1,
 * ".." 2, then the directory's entries in creation order). Stops at the
 * first fill() that returns nonzero (buffer full); that entry is not counted
 * as returned. flags: enum registry_entry_flags of the entry.
 * With want_attr, every entry that fill() accepted (other than
 * "." and "..") took a lookup reference (readdirplus). Positions stay valid
 * across concurrent creates and removals. Entries are read a few at a
 * time: fill() runs without the registry lock for them (for "." and ".."
 * under it), so a change may fall between two entries of one call.
 * Errors: -ENOENT (also for a removed directory), -ENOTDIR.
 */
typedef int (*registry_fill_fn)(void *ctx, const char *name, const struct stat *st,
				uint64_t next_off, unsigned flags);
int registry_readdir(struct registry *reg, uint64_t ino, uint64_t off, bool want_attr,
		     registry_fill_fn fill, void *ctx);

/* Extended attributes (user namespace policing is the caller's job).
 * getxattr/listxattr: with size 0 return the needed size; -ERANGE if the
 * buffer is too small; -ENODATA if absent. setxattr flags: XATTR_CREATE
 * (-EEXIST), XATTR_REPLACE (-ENODATA); -ENOSPC when the store cannot hold
 * the new cost or the node's names would pass REGISTRY_XATTR_LIST_MAX. */
int registry_setxattr(struct registry *reg, uint64_t ino, const char *name, const void *value,
		      size_t size, int flags);
ssize_t registry_getxattr(struct registry *reg, uint64_t ino, const char *name, void *buf,
			  size_t size);
ssize_t registry_listxattr(struct registry *reg, uint64_t ino, char *buf, size_t size);
int registry_removexattr(struct registry *reg, uint64_t ino, const char *name);

/*
 * Persistent store (-o store=DIR): open DIR (initializing it when empty),
 * take its lock, and load every directory, region (data, mode, owner,
 * times, xattrs, hard links) and binding into this registry, which must be
 * new (only the root). From then on every change is mirrored into DIR
 * (the registry's journal is the store's, see journal.h and persist.h).
 * The region store must count reservations itself (STORE_FORCE_MEMFD):
 * region data lives in DIR's files.
 * On failure writes a one-line reason naming the bad file into err; the
 * registry must then be freed. Errors: -EBUSY (another daemon has the
 * store), -EINVAL (not a regionfs store, corrupt), -ENOSPC/-EFBIG (does
 * not fit size= or nr_inodes=), errors of the file system.
 * A binding that cannot be re-opened (open_binding fails: the file is gone,
 * not the owner's to open, on a file system not mounted yet, or the path is
 * not absolute) does not fail the load: the region stays unbound, see
 * registry_open().
 */
int registry_load(struct registry *reg, const char *dir, char *err, size_t errlen);

/*
 * Call fn for every name (directory inode, name) of region ino. Walks every
 * directory: for rare operations (binding), not hot paths. fn runs under
 * the registry lock and must not call back into the registry.
 */
void registry_names(struct registry *reg, uint64_t ino,
		    void (*fn)(void *ctx, uint64_t parent, const char *name), void *ctx);

/* fsync(2) of a directory's store directory (persistent store only). */
int registry_fsyncdir(struct registry *reg, uint64_t ino);

/* Usage for statfs: inodes in use (nodes and extra hard links) and the
 * configured maximum (0 = none). */
void registry_inodes(struct registry *reg, uint64_t *ret_used, uint64_t *ret_max);

#endif
