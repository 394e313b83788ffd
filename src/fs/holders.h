/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Who holds a region (user.regionfs.holders), computed from /proc when
 * asked: no state, no cost on the data path, and the daemon never touches
 * its own mount or a file of another process (no stat() through
 * /proc/PID/fd: a hung network file system would hang the request).
 *
 * A process holds a region when one of its fds is open on the region
 * through the mount (matched by /proc/PID/fdinfo's mnt_id, a mount of the
 * daemon's device in that process's mount namespace, and inode number) or
 * one of its mappings (/proc/PID/maps, one line per VMA, also after the fd
 * was closed) is of the region: the mount's device and inode (cache data
 * path) or the region's backing file (passthrough, where the kernel maps
 * the backing file itself; for a bound region that is the user's file,
 * so its mappings made outside the mount count too). Pids and uids are as
 * the daemon sees them (its pid namespace); the daemon itself is left out.
 */
#ifndef RFS_FS_HOLDERS_H
#define RFS_FS_HOLDERS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct rfs;

/* The longest value: XATTR_SIZE_MAX. Lines that would pass it are counted
 * on a last line "more=N" instead. */
#define HOLDERS_MAX 65536

/*
 * The comm of pid (/proc/PID/comm) into ret, NUL-terminated, bytes outside
 * printable ASCII as '?'; "?" when it cannot be read (the process is gone,
 * or not visible). Never fails.
 */
void holders_comm(pid_t pid, char ret[16]);

/*
 * The holders of region ino, one line each, ascending pid:
 * "pid=N uid=N comm=NAME open=N mapped=N\n" (uid: effective; open: fds;
 * mapped: VMAs), at most HOLDERS_MAX bytes; empty when none. Into buf
 * (size 0: return the length; the next call may differ, processes come
 * and go). Errors: -ENOENT, -EISDIR (a directory), -ERANGE (buf too
 * small), -ENOMEM, errors of opening /proc.
 */
ssize_t holders_get(struct rfs *fs, uint64_t ino, char *buf, size_t size);

/*
 * Is region ino mapped by any process (as holders_get() counts mappings)?
 * The number of processes that map it; the first max of their pids into
 * ret_pids. For the reaper's last-close check (fs/reaper.h), never from a
 * request handler. Errors: -ENOENT, -EISDIR, -ENOMEM, of opening /proc.
 */
ssize_t holders_mapped(struct rfs *fs, uint64_t ino, pid_t *ret_pids, size_t max);

#endif
