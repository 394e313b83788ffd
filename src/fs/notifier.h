/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fs/notifier — kernel cache invalidations sent from a thread of their own.
 *
 * Some invalidations take kernel locks that a request in flight may hold
 * while it waits for a daemon thread (notify_inval_entry locks the parent
 * directory, which a pending CREATE in it holds). Sent from a request
 * handler, with every daemon thread doing the same, nobody would answer
 * (libfuse's doc/README.notifications). Queued here, they are sent right
 * after the handler has replied, by a thread that serves no request.
 */
#ifndef RFS_FS_NOTIFIER_H
#define RFS_FS_NOTIFIER_H

#include <stdint.h>

struct fuse_session;
struct notifier;

int notifier_start(struct fuse_session *se, struct notifier **ret);
/* Queue "forget the cached entry name in directory parent". Best effort:
 * dropped under memory pressure (the entry then just lives its timeout). */
void notifier_inval_entry(struct notifier *n, uint64_t parent, const char *name);
/*
 * Wait up to wait_ms until everything queued so far was sent. A handler
 * that should not reply before the kernel forgot an entry waits here; if a
 * notification is held up by a lock that a request waiting for this very
 * thread holds, the wait ends and the notification follows the reply.
 */
void notifier_flush(struct notifier *n, unsigned wait_ms);
/* Send what is queued, then stop the thread. Before fuse_session_destroy(). */
void notifier_stop(struct notifier *n);

#endif
