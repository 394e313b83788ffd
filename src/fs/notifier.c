/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "fs/notifier.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <fuse_lowlevel.h>

#include "common/log.h"

struct note {
	struct note *next;
	uint64_t parent;
	char name[];
};

struct notifier {
	struct fuse_session *se;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct note *head, **tail;
	bool stop;
};

static void *notifier_main(void *arg)
{
	struct notifier *n = arg;

	pthread_mutex_lock(&n->lock);
	for (;;) {
		struct note *note;

		while (!n->head && !n->stop)
			pthread_cond_wait(&n->wake, &n->lock);
		note = n->head;
		if (!note)
			break; /* stopping, and all sent */
		n->head = note->next;
		if (!n->head)
			n->tail = &n->head;
		pthread_mutex_unlock(&n->lock);
		/* ENOENT: the kernel had no such entry cached; nothing to do. */
		fuse_lowlevel_notify_inval_entry(n->se, note->parent, note->name,
						 strlen(note->name));
		free(note);
		pthread_mutex_lock(&n->lock);
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
	n->tail = &n->head;
	pthread_mutex_init(&n->lock, NULL);
	pthread_cond_init(&n->wake, NULL);
	r = pthread_create(&n->thread, NULL, notifier_main, n);
	if (r) {
		pthread_cond_destroy(&n->wake);
		pthread_mutex_destroy(&n->lock);
		free(n);
		return -r;
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
	note->next = NULL;
	note->parent = parent;
	memcpy(note->name, name, len + 1);
	pthread_mutex_lock(&n->lock);
	*n->tail = note;
	n->tail = &note->next;
	pthread_cond_signal(&n->wake);
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
	pthread_cond_destroy(&n->wake);
	pthread_mutex_destroy(&n->lock);
	free(n);
}
