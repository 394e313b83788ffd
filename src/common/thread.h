/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * common/thread — the daemon's helper threads (notifier, reaper, holders,
 * io_uring workers) start with every signal blocked: signals are for the
 * main thread, which libfuse's loop waits in.
 */
#ifndef RFS_COMMON_THREAD_H
#define RFS_COMMON_THREAD_H

#include <pthread.h>
#include <signal.h>

/* pthread_create(t, fn, arg) with all signals blocked in the new thread. 0 or -errno. */
static inline int rfs_thread_start(pthread_t *t, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	int r;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = pthread_create(t, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return -r;
}

#endif
