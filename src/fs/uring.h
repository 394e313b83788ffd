/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fs/uring — FUSE requests over io_uring (kernel 6.14+, protocol 7.42),
 * which libfuse 3.14 does not have.
 *
 * Why: on this kind of machine most of a metadata round trip is the wake-up
 * of a daemon thread on the other CPU (an IPI and an idle exit). The kernel
 * queues an io_uring request on the queue of the CPU the caller runs on;
 * the threads of that queue are pinned to that CPU, so the caller blocks and
 * the daemon thread runs in its place: no cross-CPU wake-up either way.
 *
 * Shape: one queue per possible CPU, a few threads per queue, each thread
 * with its own ring and one ring entry (so an entry is free exactly when its
 * thread is idle, and a slow request never holds up a queued one while
 * another thread of the queue is idle). The queues of CPUs the daemon may
 * not run on (offline, or outside its cpuset) still need an entry each:
 * one unpinned thread holds them all. A request arrives as a header
 * buffer and a payload buffer; the thread rebuilds the /dev/fuse layout in
 * front of the payload and hands it to fuse_session_process_buf(), and the
 * reply, which libfuse writes through the device hooks (devio.c), is copied
 * into the entry and committed with the fetch of the next request, in one
 * io_uring_enter(). A request answered later by another thread keeps its
 * entry meanwhile (uring_defer() below); its thread then registers one
 * more entry, so it may hold a few.
 *
 * Still on /dev/fuse, as the kernel wants: INIT, FORGET, INTERRUPT and all
 * notifications. The kernel holds every request back from the INIT reply
 * until each queue has an entry; if registering fails it falls back to
 * /dev/fuse for good (a deliberately invalid REGISTER forces that when we
 * cannot finish the setup), so a mount never hangs on a half-made ring.
 * The ring structures and commands are in fuse_abi.h.
 */
#ifndef RFS_FS_URING_H
#define RFS_FS_URING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

struct fuse_session;
struct uring;

/*
 * Create the rings and their threads (waiting, not yet registered) for
 * session se on device fd. Fails (-errno) when io_uring is unavailable
 * (kernel, seccomp, io_uring_disabled); the caller then stays on /dev/fuse.
 */
int uring_new(struct fuse_session *se, int fd, unsigned threads_per_queue, struct uring **ret);

/* Can this process set up the rings at all (io_uring_disabled, seccomp)? 0 or -errno. */
int uring_probe(void);

/* After the INIT reply that enabled io_uring went out: register the entries.
 * payload is the kernel's largest request or reply body (from INIT). */
void uring_start(struct uring *u, size_t payload);

/* Whether any request has come through a ring yet. */
bool uring_active(const struct uring *u);

/*
 * Whether a queue lost its entry for good (an error the kernel should never
 * give): the daemon was then stopped with SIGTERM, and must exit 1.
 */
bool uring_failed(const struct uring *u);

/* Stop and join the threads, close the rings. NULL is fine. */
void uring_free(struct uring *u);

/*
 * For the device hooks: if the calling thread is serving the ring request
 * with this unique id, its opcode, else 0.
 */
uint32_t uring_serving(uint64_t unique);

/* Reply to that request (iov[0] is the fuse_out_header): bytes, or -errno. */
ssize_t uring_reply(const struct iovec *iov, int count);

/*
 * Replying from another thread. A request read from /dev/fuse may be
 * answered by any thread; one from a ring may not: its reply must go into
 * its entry, and only the entry's own ring thread may commit it. So a
 * handler that hands its request over calls uring_defer() before it
 * returns (and before the other thread can reply): for a ring request it
 * returns the request's entry, which then stays with the request (the ring
 * thread registers another entry when it has no other for that CPU's
 * queue, so it goes on serving); NULL for a /dev/fuse request (nothing to
 * do). The replying thread calls uring_adopt(d) before its fuse_reply_*()
 * and uring_adopt(NULL) after: the reply is copied into the entry and the
 * ring thread, woken through an eventfd, commits it. Every deferred request
 * must be answered before uring_free().
 */
struct uring_deferred;
struct uring_deferred *uring_defer(void);
void uring_adopt(struct uring_deferred *d);

#endif
