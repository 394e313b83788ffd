/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fs/devio — our own /dev/fuse I/O, installed with fuse_session_custom_io().
 *
 * libfuse 3.14 has no passthrough API, so we enable it on the wire:
 *  - the read hook sees every request: it notes whether the kernel's INIT
 *    offers FUSE_PASSTHROUGH, and remembers the unique id of INIT, OPEN and
 *    CREATE requests (replies may be sent by any thread, in any order);
 *  - the writev hook sees every reply: it turns passthrough on in the INIT
 *    reply, and in OPEN/CREATE replies moves the backing id (which the
 *    handler put in fuse_open_out.fh) into fuse_open_out.backing_id with
 *    FOPEN_PASSTHROUGH set.
 * Backing files are registered with FUSE_DEV_IOC_BACKING_OPEN on the same
 * device fd. Every offset and constant of the wire format used here is in
 * fuse_abi.h, checked against <linux/fuse.h> at build time.
 */
#ifndef RFS_FS_DEVIO_H
#define RFS_FS_DEVIO_H

#include <stdbool.h>
#include <stdint.h>

struct fuse_session;
struct devio;
struct uring;

/*
 * The session's userdata, which libfuse hands to the hooks as well as to the
 * operations. The owner embeds one in its own state, passes its address to
 * fuse_session_new(), and gets back to its state with container_of() (see
 * rfs_of() in rfs.h): the hooks need no layout of the owner's state.
 */
struct devio_userdata {
	struct devio *io; /* set by devio_attach(); NULL without device hooks */
};

/*
 * Install the hooks on se for device fd (the session takes the fd). ud must
 * be the userdata se was created with; on success ud->io is the new devio.
 * The read hook fails with ENODEV, libfuse's orderly end of the session,
 * for a connection the kernel closed, also where the kernel says
 * ECONNABORTED; other errnos of the device read pass unchanged.
 */
int devio_attach(struct fuse_session *se, int fd, struct devio_userdata *ud);
void devio_free(struct devio *io);

/* Requests over io_uring (uring.h): the rings to use, set before serving. */
void devio_set_uring(struct devio *io, struct uring *u);
/* Did the kernel's INIT offer FUSE_OVER_IO_URING? Valid from the init callback on. */
bool devio_kernel_uring(const struct devio *io);
/* From the init callback: enable io_uring in the INIT reply (if offered and set). */
void devio_enable_uring(struct devio *io, bool on);
bool devio_uring(const struct devio *io);

/* Did the kernel's INIT offer passthrough? Valid from the init callback on. */
bool devio_kernel_passthrough(const struct devio *io);
/* Decide, from the init callback, whether the INIT reply enables it. */
void devio_set_passthrough(struct devio *io, bool on);

/* Register fd as a backing file; returns the id (> 0) or -errno. */
int devio_backing_open(struct devio *io, int fd);
void devio_backing_close(struct devio *io, uint32_t id);

#endif
