/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The lifetime rules of the namespace: see lifetime.h. */
#include "registry/lifetime.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/hmap.h"
#include "common/log.h"
#include "registry/journal.h"
#include "registry/registry_impl.h"

static const char *const lifetime_names[] = {
	[REGISTRY_LIFETIME_PERSIST] = "persist",
	[REGISTRY_LIFETIME_LAST_CLOSE] = "last-close",
	[REGISTRY_LIFETIME_CREATOR] = "creator",
};

const char *registry_lifetime_name(enum registry_lifetime lt)
{
	return (unsigned)lt < ARRAY_SIZE(lifetime_names) ? lifetime_names[lt] : "persist";
}

int registry_lifetime_parse(const char *value, size_t size, enum registry_lifetime *ret)
{
	if (size && value[size - 1] == '\n')
		size--;
	for (unsigned i = 0; i < ARRAY_SIZE(lifetime_names); i++) {
		if (size == strlen(lifetime_names[i]) && memcmp(value, lifetime_names[i], size) == 0) {
			*ret = (enum registry_lifetime)i;
			return 0;
		}
	}
	return -EINVAL;
}

/*
 * This boot, read once: a creator record of another boot names a process
 * that is gone. Its first 8 hex digits (the boot id is random): with the
 * pid and the start time, a false match needs a 1 in 2^32 coincidence
 * besides, and the record stays small enough for the inode's own xattr
 * space of an ext4 store (no block per region).
 */
static char boot_id[REGISTRY_BOOT_LEN + 1];
static pthread_once_t boot_once = PTHREAD_ONCE_INIT;

static void read_boot_id(void)
{
	int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	ssize_t n = -1;

	if (fd >= 0) {
		n = read(fd, boot_id, REGISTRY_BOOT_LEN);
		close(fd);
	}
	boot_id[n == REGISTRY_BOOT_LEN ? REGISTRY_BOOT_LEN : 0] = '\0';
}

static const char *this_boot(void)
{
	pthread_once(&boot_once, read_boot_id);
	return boot_id;
}

int registry_creator_encode(const struct registry_creator *c, const char *boot, char *buf,
			    size_t size)
{
	/* comm last: it may hold spaces, the rest of the value is its. */
	int len = snprintf(buf, size, "%ld %" PRIu64 " %.8s %lu %" PRId64 " %.15s", (long)c->pid,
			   c->start, boot[0] ? boot : "-", (unsigned long)c->uid, c->time, c->comm);

	return len < 0 || (size_t)len >= size ? -ERANGE : len;
}

int registry_creator_decode(const char *value, size_t size, struct registry_creator *ret,
			    char ret_boot[REGISTRY_BOOT_LEN + 1])
{
	char line[REGISTRY_CREATOR_RECORD_MAX + 1], boot[REGISTRY_BOOT_LEN + 1];
	struct registry_creator c = { 0 };
	unsigned long long start;
	unsigned long uid;
	long long t;
	long pid;
	int at = -1;

	if (size > REGISTRY_CREATOR_RECORD_MAX || memchr(value, '\0', size))
		return -EINVAL;
	memcpy(line, value, size);
	line[size] = '\0';
	if (sscanf(line, "%ld %llu %8s %lu %lld %n", &pid, &start, boot, &uid, &t, &at) != 5 ||
	    at < 0 || pid <= 0 || pid > INT32_MAX || strlen(line + at) > 15)
		return -EINVAL;
	c.pid = (pid_t)pid;
	c.start = start;
	c.uid = (uid_t)uid;
	c.time = t;
	strcpy(c.comm, line + at);
	*ret = c;
	strcpy(ret_boot, strcmp(boot, "-") == 0 ? "" : boot);
	return 0;
}

void registry_lifetime_load(void *node, const char *name, const void *value, size_t size)
{
	struct node *n = node;
	enum registry_lifetime lt;
	char boot[REGISTRY_BOOT_LEN + 1];

	if (strcmp(name, REGISTRY_XATTR_LIFETIME) == 0) {
		if (registry_lifetime_parse(value, size, &lt) == 0)
			n->lifetime = (uint8_t)lt;
	} else if (strcmp(name, REGISTRY_XATTR_CREATOR) == 0 && n->region) {
		if (registry_creator_decode(value, size, &n->creator, boot) == 0)
			n->creator.other_boot = !boot[0] || strcmp(boot, this_boot()) != 0;
	}
}

/* Record n's lifetime in its store file (journal): the value, or none for persist. */
static int journal_lifetime(struct registry *reg, struct node *n, enum registry_lifetime lt)
{
	struct journal_node jn = registry_journal_node(n);
	const char *v = registry_lifetime_name(lt);

	if (lt == REGISTRY_LIFETIME_PERSIST)
		return journal_remove_xattr(reg->journal, &jn, REGISTRY_XATTR_LIFETIME);
	return journal_set_xattr(reg->journal, &jn, REGISTRY_XATTR_LIFETIME, v, strlen(v));
}

void registry_lifetime_created(struct registry *reg, struct node *dir, struct node *n)
{
	struct journal_node jn = registry_journal_node(n);
	char rec[REGISTRY_CREATOR_RECORD_MAX];
	int len, r = 0;

	n->lifetime = dir->lifetime;
	/*
	 * Best effort, after the create: if the store refuses, the region is
	 * kept as persist with no record after a restart (never removed by a
	 * record it does not have).
	 */
	if (n->lifetime != REGISTRY_LIFETIME_PERSIST)
		r = journal_lifetime(reg, n, n->lifetime);
	if (r == 0 && n->region && n->creator.pid > 0) {
		len = registry_creator_encode(&n->creator, this_boot(), rec, sizeof(rec));
		if (len > 0)
			r = journal_set_xattr(reg->journal, &jn, REGISTRY_XATTR_CREATOR, rec,
					      (size_t)len);
	}
	if (r < 0)
		log_debug("store: lifetime of inode %llu not kept: %s",
			  (unsigned long long)n->ino, strerror(-r));
}

void registry_set_root_lifetime(struct registry *reg, enum registry_lifetime lt)
{
	pthread_mutex_lock(&reg->lock);
	reg->root->lifetime = (uint8_t)lt;
	pthread_mutex_unlock(&reg->lock);
}

int registry_lifetime(struct registry *reg, uint64_t ino, enum registry_lifetime *ret)
{
	struct node *n;
	int r = -ENOENT;

	pthread_mutex_lock(&reg->lock);
	n = registry_node_get(reg, ino);
	if (n) {
		*ret = (enum registry_lifetime)n->lifetime;
		r = 0;
	}
	pthread_mutex_unlock(&reg->lock);
	return r;
}

int registry_set_lifetime(struct registry *reg, uint64_t ino, enum registry_lifetime lt,
			  struct registry_creator *ret_creator)
{
	struct node *n = registry_node_io_lock(reg, ino);
	int r = 0;

	if (!n)
		return -ENOENT;
	/* The record is written once, before the node is published: stable. */
	if (lt == REGISTRY_LIFETIME_CREATOR && n->region &&
	    (n->creator.pid <= 0 || n->creator.start == 0)) {
		r = -EINVAL;
		goto out_unlock;
	}
	/* The root's comes from the mount option at every start: not kept. */
	if (n != reg->root)
		r = journal_lifetime(reg, n, lt);
	if (r < 0)
		goto out_unlock;
	pthread_mutex_lock(&reg->lock);
	n->lifetime = (uint8_t)lt;
	clock_gettime(CLOCK_REALTIME, &n->ctime);
	if (ret_creator && n->region)
		*ret_creator = n->creator;
	pthread_mutex_unlock(&reg->lock);
out_unlock:
	registry_node_io_unlock(reg, n);
	return r;
}

static bool idle(const struct node *n)
{
	return n->region && n->nopen == 0 && n->nlink > 0 &&
	       n->lifetime == REGISTRY_LIFETIME_LAST_CLOSE;
}

bool registry_release_idle(struct registry *reg, uint64_t ino, int flags, uint64_t *ret_gen)
{
	bool now_idle = false;
	struct node *n;

	pthread_mutex_lock(&reg->lock);
	n = registry_node_get(reg, ino);
	if (n && n->nopen) {
		if ((flags & O_ACCMODE) != O_RDONLY && n->nwrite)
			n->nwrite--; /* as registry_release_flags() */
		n->nopen--;
		now_idle = idle(n);
		if (now_idle)
			*ret_gen = n->opens;
		registry_node_maybe_destroy(reg, n);
	}
	registry_unlock(reg);
	return now_idle;
}

bool registry_still_idle(struct registry *reg, uint64_t ino, uint64_t gen)
{
	struct node *n;
	bool r;

	pthread_mutex_lock(&reg->lock);
	n = registry_node_get(reg, ino);
	r = n && idle(n) && n->opens == gen;
	pthread_mutex_unlock(&reg->lock);
	return r;
}

/*
 * Remove every name of every node marked expiring (registry lock held):
 * collect them first (removing a name may free a node, which changes the
 * inode table being walked), then remove each as an unlink does. names:
 * how many names the marked nodes have (their nlinks): the walk of the
 * directories stops once all are found. A region does not know its
 * directories, so this walks the inode table: O(nodes), under the lock.
 */
static int expire_marked(struct registry *reg, uint64_t names, registry_name_fn removed,
			 void *ctx)
{
	struct {
		struct node *dir;
		struct dentry *d;
	} *todo = NULL;
	size_t n = 0, cap = 0, i;
	struct hmap_node *hn;
	int r = 0, done = 0;

	if (!names)
		return 0;
	hmap_for_each(hn, &reg->inodes, i) {
		struct node *dir = container_of(hn, struct node, ino_hn);
		struct dentry *d;

		if (n == names)
			break;
		if (!S_ISDIR(dir->mode))
			continue;
		for (d = registry_dentry_first(dir); d; d = registry_dentry_next(dir, d)) {
			if (!d->node->expiring)
				continue;
			if (n == cap) {
				void *grown;

				cap = cap ? cap * 2 : 16;
				grown = realloc(todo, cap * sizeof(*todo));
				if (!grown) {
					r = -ENOMEM;
					goto out;
				}
				todo = grown;
			}
			todo[n].dir = dir;
			todo[n].d = d;
			n++;
		}
	}
	for (i = 0; i < n; i++) {
		struct node *dir = todo[i].dir;
		struct dentry *d = todo[i].d;

		r = journal_remove(reg->journal, dir->pfd, d->name, false);
		if (r < 0)
			break;
		if (removed)
			removed(ctx, dir->ino, d->name);
		log_debug("lifetime: %s of inode %llu removed", d->name,
			  (unsigned long long)d->node->ino);
		d->node->expiring = false; /* it may be freed with its last name */
		registry_drop_name(reg, dir, d);
		clock_gettime(CLOCK_REALTIME, &dir->mtime);
		dir->ctime = dir->mtime;
		done++;
	}
out:
	/* Nodes whose names could not all go keep the rest (not expiring any more). */
	for (i = 0; i < n; i++)
		if (i >= (size_t)done)
			todo[i].d->node->expiring = false;
	free(todo);
	if (r < 0) {
		hmap_for_each(hn, &reg->inodes, i)
			container_of(hn, struct node, ino_hn)->expiring = false;
	}
	return r < 0 ? r : done;
}

int registry_expire_idle(struct registry *reg, uint64_t ino, uint64_t gen,
			 registry_name_fn removed, void *ctx)
{
	struct node *n;
	int r = 0;

	pthread_mutex_lock(&reg->lock);
	n = registry_node_get(reg, ino);
	if (n && idle(n) && n->opens == gen) {
		n->expiring = true;
		r = expire_marked(reg, n->nlink, removed, ctx);
	}
	registry_unlock(reg);
	return r;
}

/*
 * Remove the names of every named region that doomed() picks (registry
 * lock taken here), as expire_marked() does.
 */
static int expire_where(struct registry *reg, bool (*doomed)(const struct node *n, void *ctx),
			void *ctx, registry_name_fn removed, void *rctx)
{
	struct hmap_node *hn;
	uint64_t names = 0;
	size_t i;
	int r;

	pthread_mutex_lock(&reg->lock);
	hmap_for_each(hn, &reg->inodes, i) {
		struct node *n = container_of(hn, struct node, ino_hn);

		if (n->region && n->nlink && doomed(n, ctx)) {
			n->expiring = true;
			names += n->nlink;
		}
	}
	r = expire_marked(reg, names, removed, rctx);
	registry_unlock(reg);
	return r;
}

static bool made_by(const struct node *n, void *ctx)
{
	const struct registry_creator *c = ctx;

	return n->lifetime == REGISTRY_LIFETIME_CREATOR && n->creator.pid == c->pid &&
	       n->creator.start == c->start && n->creator.other_boot == c->other_boot;
}

int registry_expire_creator(struct registry *reg, const struct registry_creator *c,
			    registry_name_fn removed, void *ctx)
{
	return expire_where(reg, made_by, (void *)c, removed, ctx);
}

struct sweep {
	bool (*gone)(void *ctx, const struct registry_creator *c);
	void *ctx;
};

static bool expired_at_load(const struct node *n, void *ctx)
{
	const struct sweep *sw = ctx;

	return n->lifetime == REGISTRY_LIFETIME_LAST_CLOSE ||
	       (n->lifetime == REGISTRY_LIFETIME_CREATOR && n->creator.pid > 0 &&
		sw->gone(sw->ctx, &n->creator));
}

int registry_sweep(struct registry *reg, bool (*gone)(void *ctx, const struct registry_creator *c),
		   void *ctx, registry_name_fn removed, void *rctx)
{
	struct sweep sw = { .gone = gone, .ctx = ctx };

	return expire_where(reg, expired_at_load, &sw, removed, rctx);
}
