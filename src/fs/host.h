/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fs/host — what the daemon asks of, and sets on, the machine and its own
 * process, apart from its life (mount.c): its privileges, its open-file
 * limit, the fuse module's io_uring switch, the writeback throttle of its
 * mount, what it tells the service manager (systemd's notify socket).
 * Nothing here touches the mount itself.
 *
 * Messages: the functions that can refuse the daemon print one line
 * "regionfs: ..." to stderr, before anything is mounted; the others log
 * their failures at debug level, since the kernel defaults then just stay.
 */
#ifndef RFS_FS_HOST_H
#define RFS_FS_HOST_H

#include <stdbool.h>
#include <sys/types.h>

/*
 * Whether the daemon has CAP_SYS_ADMIN in its effective set ("root" in
 * mount.c): it may then mount with its own /dev/fuse fd (passthrough,
 * io_uring), tune the bdi and turn on the io_uring switch. Without /proc:
 * whether the effective uid is 0.
 */
bool host_is_root(void);

/*
 * uring=on: whether io_uring can be had, asked before anything is mounted
 * (as root this turns on the fuse module's switch, host_enable_fuse_uring()).
 * 0, or after one line saying why: -EPERM (not root), -EOPNOTSUPP (the
 * kernel does not offer it), or the -errno of setting up a ring.
 */
int host_check_uring(bool root);

/*
 * Lift the open-file limit (the soft one to the hard one, and as root the
 * hard one to fs.nr_open), then drop CAP_SYS_RESOURCE for good: that limit
 * was its last use. Before any thread exists (capabilities are per thread).
 * 0, or after one line saying why: -EMFILE (the limit stays below
 * STORE_NOFILE_MIN, region.h), -EPERM (the capability would not go).
 */
int host_set_limits(void);

/*
 * Turn on the fuse module's enable_uring parameter (root), which offers
 * io_uring to connections mounted from then on; left on for others. Whether
 * it is on.
 */
bool host_enable_fuse_uring(void);

/*
 * Lift the FUSE writeback throttle of the bdi of mount device dev (root
 * only). Failure leaves the kernel default (debug line).
 */
void host_tune_bdi(dev_t dev);

/*
 * Tell the service manager the daemon's state (systemd Type=notify,
 * sd_notify(3)): one datagram with state ("READY=1", "STOPPING=1") to the
 * AF_UNIX socket $NOTIFY_SOCKET names (a path, or "@name" in the abstract
 * namespace). Nothing without that variable; a failure is a debug line
 * (the manager's start timeout then tells the admin).
 */
void host_notify(const char *state);

#endif
