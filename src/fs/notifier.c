/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "fs/notifier.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <fuse_lowlevel.h>

#include "common/thread.h"
#include "common/list.h"
#include "common/log.h"
#include "common/macros.h"

struct note {
	struct list_node link; /* in the notifier's queue, oldest first */
	uint64_t seq;
	uint64_t parent;
	char name[];
};

struct notifier {
	struct fuse_session *se;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_cond_t sent; /* sent_seq moved */
	uint64_t queued_seq, sent_seq;
	struct list_node queue;
	bool stop;
};

static void *notifier_main(void *arg)
{
	struct notifier *n = arg;

	pthread_mutex_lock(&n->lock);
	for (;;) {
		struct list_node *first;
		struct note *note;

		while (list_empty(&n->queue) && !n->stop)
			pthread_cond_wait(&n->wake, &n->lock);
		first = list_first(&n->queue);
		if (!first)
			break; /* stopping, and all sent */
		note = container_of(first, struct note, link);
		list_del(&note->link);
		pthread_mutex_unlock(&n->lock);
		/* ENOENT: the kernel had no such entry cached; nothing to do. */
		fuse_lowlevel_notify_inval_entry(n->se, note->parent, note->name,
						 strlen(note->name));
		pthread_mutex_lock(&n->lock);
		n->sent_seq = note->seq;
		pthread_cond_broadcast(&n->sent);
		free(note);
	}
	pthread_mutex_unlock(&n->lock);
	return NULL;
}

int notifier_start(struct fuse_session *se, struct notifier **ret)
{
	struct notifier *n = calloc(1, sizeof(*n));
	int r;

	if (!n)
		return -ENOMEM;
	n->se = se;
	list_init(&n->queue);
	pthread_mutex_init(&n->lock, NULL);
	pthread_cond_init(&n->wake, NULL);
	pthread_cond_init(&n->sent, NULL);
	r = rfs_thread_start(&n->thread, notifier_main, n);
	if (r < 0) {
		pthread_cond_destroy(&n->sent);
		pthread_cond_destroy(&n->wake);
		pthread_mutex_destroy(&n->lock);
		free(n);
		return r;
	}
	*ret = n;
	return 0;
}

void notifier_inval_entry(struct notifier *n, uint64_t parent, const char *name)
{
	size_t len = strlen(name);
	struct note *note = malloc(sizeof(*note) + len + 1);

	if (!note) {
		log_debug("no memory to queue an entry invalidation of %s", name);
		return;
	}
	note->parent = parent;
	memcpy(note->name, name, len + 1);
	pthread_mutex_lock(&n->lock);
	note->seq = ++n->queued_seq;
	list_add_tail(&n->queue, &note->link);
	pthread_cond_signal(&n->wake);
	pthread_mutex_unlock(&n->lock);
}

void notifier_flush(struct notifier *n, unsigned wait_ms)
{
	struct timespec until;
	uint64_t seq;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += wait_ms / 1000;
	until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&n->lock);
	seq = n->queued_seq;
	while (n->sent_seq < seq && !n->stop)
		if (pthread_cond_timedwait(&n->sent, &n->lock, &until) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&n->lock);
}

void notifier_stop(struct notifier *n)
{
	if (!n)
		return;
	pthread_mutex_lock(&n->lock);
	n->stop = true;
	pthread_cond_signal(&n->wake);
	pthread_mutex_unlock(&n->lock);
	pthread_join(n->thread, NULL);
	pthread_cond_destroy(&n->sent);
	pthread_cond_destroy(&n->wake);
	pthread_mutex_destroy(&n->lock);
	free(n);
}
