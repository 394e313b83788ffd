/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fs/reaper — the lifetimes of regions (registry/lifetime.h) put to work:
 * one thread of its own that watches creators and waits for the last
 * mapping, so that no request handler ever waits for a /proc scan.
 *
 * creator: a creator is a process (tgid) and its start time, read from
 * /proc when the region is made (reaper_identify()). Each distinct live
 * creator of a region with lifetime creator is watched by one pidfd
 * (pidfd_open() of the thread-group leader: readable once the whole
 * thread group has exited, however it exited), shared by all its regions
 * and closed when it fires; then registry_expire_creator() removes their
 * names. At most REAPER_PIDFDS_MAX pidfds (and no more than RLIMIT_NOFILE
 * / 16: region fds need the rest); creators past that are polled every
 * REAPER_POLL_MS instead (is /proc/PID/stat's start time still theirs?).
 * A creator record without a start time (the process was not visible in
 * /proc) is never acted on: such a region stays as persist.
 *
 * last-close: the last RELEASE of a region with lifetime last-close
 * (registry_release_idle()) calls reaper_closed(). In the cache data path
 * a mapping keeps its FUSE file open, so that RELEASE is the end of the
 * last open file and mapping: the names go at once, in the calling
 * thread. In passthrough the kernel maps the backing file itself and
 * RELEASE comes at the last close while mappings may remain: the region
 * is queued to the thread, which looks for mappings in /proc
 * (holders_mapped(), one scan of every process per pending region); while
 * any exists it stays pending and is checked again when one of the
 * mapping processes exits (pidfd: at most 16 per region and 64 in all)
 * and every REAPER_POLL_MS (a munmap sends nothing; the period grows to
 * four times the time the last look took, so that the scans of many
 * pending regions take at most a fifth of a CPU). An open meanwhile ends the
 * wait (registry_still_idle(): the open count moved); its own last
 * release queues the region again.
 *
 * Removals are unlinks (registry/lifetime.h); the kernel's cached entries
 * of the removed names are dropped through the notifier.
 */
#ifndef RFS_FS_REAPER_H
#define RFS_FS_REAPER_H

#include <stdint.h>
#include <sys/types.h>

#include "registry/registry.h"

#define REAPER_PIDFDS_MAX 1024u
#define REAPER_POLL_MS 2000u

struct rfs;
struct reaper;

/*
 * The creator of a new region from a request's pid (a thread id): its
 * thread group (pid), start time, comm (made printable), uid, and now.
 * Racy reads of /proc fail soft: comm "?", start 0 (unknown). The thread is
 * blocked in the request, so its thread group exists meanwhile.
 */
void reaper_identify(pid_t tid, uid_t uid, struct registry_creator *ret);

/* Is the process c still running (its pid has c's start time)? */
bool reaper_creator_alive(const struct registry_creator *c);

/* The reaper's state (no thread yet: reaper_start()). Errors: -ENOMEM, of epoll/eventfd/timerfd. */
int reaper_new(struct rfs *fs, struct reaper **ret);
/* Start its thread (after fuse_daemonize()). Errors of pthread_create. */
int reaper_start(struct reaper *rp);
/* Stop the thread and free everything (NULL: nothing). */
void reaper_free(struct reaper *rp);

/*
 * Region ino has lifetime creator with record c (new, set, or loaded):
 * watch c, or remove the region's names now if c is gone already.
 */
void reaper_watch(struct reaper *rp, uint64_t ino, const struct registry_creator *c);

/* The last open of region ino (lifetime last-close) went; gen from registry_release_idle(). */
void reaper_closed(struct reaper *rp, uint64_t ino, uint64_t gen);

/*
 * At load, before the mount serves: remove last-close regions and creator
 * regions whose creator is gone (other boot, no such pid, another start
 * time), and watch the living creators. Returns the number of names
 * removed, or a negative errno (of the store).
 */
int reaper_sweep(struct reaper *rp);

#endif
