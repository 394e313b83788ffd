/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Internal to fs/: the daemon's state shared by the operations (ops.c) and
 * the mount/run code (mount.c).
 */
#ifndef RFS_FS_RFS_H
#define RFS_FS_RFS_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include <fuse_lowlevel.h>

#include "common/macros.h"
#include "fs/devio.h"
#include "fs/notifier.h"
#include "fs/uring.h"
#include "fs/fs.h"
#include "registry/registry.h"

struct rfs {
	struct registry *reg;
	struct region_store *store;
	const struct rfs_options *opts;
	struct fuse_session *se;
	struct notifier *notifier; /* invalidations sent outside request handlers */
	struct reaper *reaper;     /* lifetimes: creators watched, last mappings (reaper.h) */
	struct uring *uring;       /* requests over io_uring, or NULL */
	struct holders *holders;   /* the thread that answers user.regionfs.holders */
	bool passthrough; /* decided in the init callback */
	bool no_opendir;  /* the kernel stops sending OPENDIR after one ENOSYS */
	bool init_failed; /* datapath=passthrough could not be had */
	double timeout;   /* entry and attribute validity, seconds */
	char mnt[PATH_MAX]; /* the mountpoint, resolved */
	dev_t dev;          /* the mount's device number (0 until known) */
	char store_dir[PATH_MAX]; /* the persistent store, resolved; "" for none */
	/* The session's userdata (rfs_of()); .io: the device hooks, or NULL. */
	struct devio_userdata hooks;
};

/* The daemon's state from the session's userdata (a request's, or init's). */
static inline struct rfs *rfs_of(void *userdata)
{
	return container_of((struct devio_userdata *)userdata, struct rfs, hooks);
}

extern const struct fuse_lowlevel_ops rfs_ops;

/* setxattr user.regionfs.backing: bind region ino to a file (bind.c). */
int rfs_bind(struct rfs *fs, fuse_req_t req, fuse_ino_t ino, const char *value, size_t size);

/*
 * Re-open a binding saved in a store as its region's owner uid/gid, with
 * every check of a live bind (registry open_binding hook, bind.c). Logs
 * one line at info level when loading (region != NULL) fails.
 */
int rfs_open_binding(void *ctx, const char *region, const char *path, uid_t uid, gid_t gid,
		     int *ret_fd);

/*
 * user.regionfs.seals (seals.c): read (the set, region/seal.h's format),
 * add (parse, then registry_add_seals()), remove (always refused).
 * Errors: those of registry_region() (-EISDIR for a directory: the
 * getxattr handler turns it into -ENODATA, as for the creator), of
 * region_seal_parse() and registry_add_seals(); remove: -EPERM.
 */
ssize_t rfs_seals_get(struct rfs *fs, fuse_ino_t ino, char *buf, size_t size);
int rfs_seals_add(struct rfs *fs, fuse_ino_t ino, const char *value, size_t size);
int rfs_seals_remove(struct rfs *fs, fuse_ino_t ino);
/* May an open of region use passthrough (it may unless sealed "grow")? */
bool rfs_seals_passthrough(struct rfs *fs, struct region *region);

/* Release a passthrough backing id (registry cookie_release hook). */
void rfs_cookie_release(void *ctx, uint64_t cookie);

/*
 * The xattr handlers' name policy (ops.c), before the registry sees a
 * name: 0 when it may go on; outside user.*: -EOPNOTSUPP (writing) or
 * -ENODATA (reading); user.regionfs.* (the mount's own): -EPERM writing.
 */
int rfs_xattr_name_check(const char *name, bool writing);

#endif
