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
 *
 * A pass over /proc costs about 0.1 s per 1,000 processes, so requests
 * never run one on a FUSE request thread: holders_request() queues the
 * request for the one holders thread and returns; that thread takes every
 * queued request at once and answers them all with a single pass (one
 * pass at a time, whatever the number of readers or regions asked about).
 * It replies itself, also to requests that came over io_uring (through
 * uring_defer()/uring_adopt(), uring.h).
 */
#ifndef RFS_FS_HOLDERS_H
#define RFS_FS_HOLDERS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <fuse_lowlevel.h>

struct rfs;

/* The longest value: XATTR_SIZE_MAX. Lines that would pass it are counted
 * on a last line "more=N" instead. */
#define HOLDERS_MAX 65536

/*
 * What a read of user.regionfs.holders of node ino answers (see
 * holders_request()). A region: its holders, one line each, ascending pid:
 * "pid=N uid=N comm=NAME open=N mapped=N\n" (uid: effective, "?" when
 * unknown; open: fds; mapped: VMAs). For a directory, the totals of the
 * regions named in it (not below), one line per region that has holders,
 * in directory order: "name=NAME processes=N open=N mapped=N\n", NAME's
 * bytes outside printable ASCII, space, backslash and '=' written \xHH (two
 * lowercase hex digits); a region with two names there has two lines.
 * At most HOLDERS_MAX bytes; empty when none. Into buf (size 0: return
 * the length; the next call may differ, processes come and go). Errors:
 * -ENOENT, -ERANGE (buf too small), -ENOMEM, errors of opening /proc.
 */

/*
 * Is region ino mapped by any process (as a holders read counts mappings)?
 * The number of processes that map it; the first max of their pids into
 * ret_pids. For the reaper's last-close check (fs/reaper.h), never from a
 * request handler. Errors: -ENOENT, -EISDIR, -ENOMEM, of opening /proc.
 */
ssize_t holders_mapped(struct rfs *fs, uint64_t ino, pid_t *ret_pids, size_t max);

/*
 * The holders thread (one per daemon). holders_stop() answers the requests
 * still queued with ENOTCONN and joins the thread; requests after it get
 * ENOTCONN at once. It must run before uring_free(), which needs every
 * deferred ring request answered, and holders_free() after it: the ring
 * threads serve requests until then. NULL is fine for both. Errors of
 * holders_start(): -ENOMEM, -EAGAIN (no thread).
 */
struct holders;
int holders_start(struct rfs *fs, struct holders **ret);
void holders_stop(struct holders *h);
void holders_free(struct holders *h);

/* Queued requests at most, and at most this many of one uid (EAGAIN beyond). */
#define HOLDERS_QUEUE_MAX 64
#define HOLDERS_QUEUE_PER_UID 16

/*
 * Hand getxattr user.regionfs.holders of ino (size: the caller's buffer, 0
 * for the length) to the holders thread, which replies as described
 * above: 0, req is the thread's (valid replies: fuse_reply_xattr,
 * fuse_reply_buf, fuse_reply_err with ENOENT, ERANGE, ENOMEM, ENOTCONN).
 * Errors (the caller replies): -EAGAIN (the queue is full, or holds
 * HOLDERS_QUEUE_PER_UID requests of req's uid: one user cannot shut out
 * the others), -ENOTCONN (stopping). Called from the request's own thread.
 */
int holders_request(struct holders *h, fuse_req_t req, uint64_t ino, size_t size);

#endif
