/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Internal to fs/: the daemon's state shared by the operations (ops.c) and
 * the mount/run code (mount.c).
 */
#ifndef RFS_FS_RFS_H
#define RFS_FS_RFS_H

#include <stdbool.h>

#include <fuse_lowlevel.h>

#include "fs/devio.h"
#include "fs/fs.h"
#include "registry/registry.h"

struct rfs {
	struct devio *io; /* first member: the device hooks find it here (devio.h) */
	struct registry *reg;
	struct region_store *store;
	const struct rfs_options *opts;
	struct fuse_session *se;
	bool passthrough; /* decided in the init callback */
	bool no_opendir;  /* the kernel stops sending OPENDIR after one ENOSYS */
	bool init_failed; /* datapath=passthrough could not be had */
	double timeout;   /* entry and attribute validity, seconds */
};

extern const struct fuse_lowlevel_ops rfs_ops;

/* Release a passthrough backing id (registry cookie_release hook). */
void rfs_cookie_release(void *ctx, uint64_t cookie);

#endif
