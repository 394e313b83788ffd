/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The namespace: nodes, names, counts, orphans, limits. What it changes is
 * recorded first in its journal (journal.h), which is the only place that
 * knows whether and how a store keeps it; loading a store is load.c.
 */
#include "registry/registry.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/hmap.h"
#include "common/list.h"
#include "common/log.h"
#include "common/macros.h"
#include "region/seal.h"
#include "registry/journal.h"
#include "registry/lifetime.h"
#include "registry/registry_impl.h"
#include "registry/xattr.h"

/*
 * Memory comes back. glibc keeps freed chunks in its arenas (one per thread
 * that allocated: every FUSE worker) and returns them to the kernel only
 * from the top of a heap, so after many regions come and go the daemon
 * would keep its peak size for good. malloc_trim(0) hands back every whole
 * free page of every arena. It walks the arenas' free lists, so it runs
 * outside the registry lock, and only after many frees: every
 * TRIM_EVERY_FREES nodes, or once more than half of the nodes there were at
 * the last trim are gone (at least TRIM_MIN_FREES), so that a namespace
 * emptied in one go is trimmed to its end.
 */
#define TRIM_EVERY_FREES 4096u
#define TRIM_MIN_FREES 256u

static void now(struct timespec *ts)
{
	clock_gettime(CLOCK_REALTIME, ts);
}

static bool is_dir(const struct node *n)
{
	return S_ISDIR(n->mode);
}

static int check_name(const char *name, size_t *ret_len)
{
	size_t len = strlen(name);

	if (len > RFS_NAME_MAX)
		return -ENAMETOOLONG;
	if (len == 0)
		return -ENOENT;
	*ret_len = len;
	return 0;
}

static struct node *node_get(struct registry *reg, uint64_t ino)
{
	struct hmap_node *hn;

	hmap_for_each_hash(hn, &reg->inodes, hmap_hash_u64(ino)) {
		struct node *n = container_of(hn, struct node, ino_hn);

		if (n->ino == ino)
			return n;
	}
	return NULL;
}

/* A directory that can still hold entries (not removed). */
static int dir_get(struct registry *reg, uint64_t ino, struct node **ret)
{
	struct node *n = node_get(reg, ino);

	if (!n)
		return -ENOENT;
	if (!is_dir(n))
		return -ENOTDIR;
	if (n->nlink == 0)
		return -ENOENT;
	*ret = n;
	return 0;
}

static struct dentry *dentry_find(struct node *dir, const char *name, size_t len)
{
	uint64_t h = hmap_hash_bytes(name, len);
	struct hmap_node *hn;

	hmap_for_each_hash(hn, &dir->entries, h) {
		struct dentry *d = container_of(hn, struct dentry, hn);

		if (d->len == len && memcmp(d->name, name, len) == 0)
			return d;
	}
	return NULL;
}

/* The entry name in directory parent (registry lock held). */
static int entry_get(struct registry *reg, uint64_t parent, const char *name, size_t len,
		     struct node **ret_dir, struct dentry **ret)
{
	struct dentry *d;
	int r = dir_get(reg, parent, ret_dir);

	if (r < 0)
		return r;
	d = dentry_find(*ret_dir, name, len);
	if (!d)
		return -ENOENT;
	*ret = d;
	return 0;
}

int registry_dentry_add(struct node *dir, const char *name, size_t len, struct node *target)
{
	struct dentry *d = malloc(sizeof(*d) + len + 1);

	if (!d)
		return -ENOMEM;
	memcpy(d->name, name, len);
	d->name[len] = '\0';
	d->len = len;
	d->node = target;
	d->seq = dir->next_seq++;
	list_add_tail(&dir->dentries, &d->link);
	hmap_insert(&dir->entries, &d->hn, hmap_hash_bytes(name, len));
	return 0;
}

/* The entry before d in dir, NULL before the first. */
static struct dentry *dentry_prev(const struct node *dir, const struct dentry *d)
{
	struct list_node *l = list_prev(&dir->dentries, &d->link);

	return l ? container_of(l, struct dentry, link) : NULL;
}

static void dentry_del(struct node *dir, struct dentry *d)
{
	if (dir->cursor_entry == d)
		dir->cursor_entry = dentry_prev(dir, d); /* still has seq <= cursor_off */
	hmap_remove(&dir->entries, &d->hn);
	list_del(&d->link);
	free(d);
}

/* Give back what the data path attached to a region (a backing id). */
static void node_release_cookie(struct registry *reg, struct node *n)
{
	if (n->cookie && reg->cookie_release)
		reg->cookie_release(reg->cookie_ctx, n->cookie);
	n->cookie = 0;
}

/* Take n out of the namespace's inode table (registry lock held). */
static void node_unhash(struct registry *reg, struct node *n)
{
	hmap_remove(&reg->inodes, &n->ino_hn);
	if (!is_dir(n) && n->nlink > 1)
		reg->links -= n->nlink - 1; /* registry_free() */
}

/*
 * Free a node out of the namespace that nobody references any more. Needs
 * no registry lock, and is called without it (but from registry_free()
 * and the loader, when nothing else runs): giving a region's store space
 * back waits for the store's space lock, which a growing region holds
 * across its fallocate().
 */
static void node_free(struct registry *reg, struct node *n)
{
	if (n->xattrs.cost)
		store_charge_meta(reg->store, -(int64_t)n->xattrs.cost);
	xattr_clear(&n->xattrs);
	node_release_cookie(reg, n);
	free(n->unbound);
	if (n->region)
		region_free(n->region);
	journal_close(reg->journal, n->pfd);
	if (is_dir(n)) {
		struct dentry *d;

		while ((d = registry_dentry_first(n)))
			dentry_del(n, d);
		hmap_destroy(&n->entries);
	}
	pthread_mutex_destroy(&n->io);
	log_debug("inode %llu freed", (unsigned long long)n->ino);
	free(n);
}

void registry_node_destroy(struct registry *reg, struct node *n)
{
	node_unhash(reg, n);
	node_free(reg, n);
}

/* A reference for working on n without the registry lock (lock held). */
static void node_pin(struct node *n)
{
	__atomic_add_fetch(&n->refs, 1, __ATOMIC_RELAXED);
}

/* Drop a reference without the registry lock: the last one frees n. */
static void node_unpin(struct registry *reg, struct node *n)
{
	if (__atomic_sub_fetch(&n->refs, 1, __ATOMIC_ACQ_REL) == 0)
		node_free(reg, n);
}

/* The node of ino with a reference (node_unpin() drops it), or NULL; takes the registry lock. */
static struct node *node_ref(struct registry *reg, uint64_t ino)
{
	struct node *n;

	pthread_mutex_lock(&reg->lock);
	n = node_get(reg, ino);
	if (n)
		node_pin(n);
	pthread_mutex_unlock(&reg->lock);
	return n;
}

/* Free a node once nothing names, references or opens it. */
static void node_maybe_destroy(struct registry *reg, struct node *n)
{
	if (n->nlink == 0 && n->nlookup == 0 && n->nopen == 0 && n != reg->root) {
		node_unhash(reg, n);
		/* The namespace's reference; a thread still working on n frees it. */
		if (__atomic_sub_fetch(&n->refs, 1, __ATOMIC_ACQ_REL) == 0) {
			n->next_dead = reg->dead;
			reg->dead = n;
		}
		hmap_shrink(&reg->inodes);
		reg->frees++;
		if (reg->frees >= TRIM_EVERY_FREES ||
		    (reg->frees >= TRIM_MIN_FREES && reg->inodes.count < reg->frees)) {
			reg->trim_due = true;
			reg->frees = 0;
		}
	}
}

/*
 * Unlock after a call that may have dropped nodes: free them now, without
 * the lock, and trim if it is time.
 */
static void unlock_and_reap(struct registry *reg)
{
	struct node *dead = reg->dead;
	bool trim = reg->trim_due;

	reg->dead = NULL;
	reg->trim_due = false;
	pthread_mutex_unlock(&reg->lock);
	while (dead) {
		struct node *next = dead->next_dead;

		node_free(reg, dead);
		dead = next;
	}
	if (trim)
		malloc_trim(0);
}

int registry_node_new(struct registry *reg, mode_t mode, uid_t uid, gid_t gid, int fd,
		      struct node **ret)
{
	struct node *n;
	int r;

	if (reg->max_inodes && registry_inodes_in_use(reg) >= reg->max_inodes)
		return -ENOSPC;
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->mode = mode;
	n->uid = uid;
	n->gid = gid;
	n->pfd = -1;
	n->refs = 1; /* the namespace's */
	now(&n->ctime);
	n->atime = n->mtime = n->ctime;
	if (S_ISDIR(mode)) {
		r = hmap_init(&n->entries);
		if (r < 0)
			goto err_free;
		list_init(&n->dentries);
		n->next_seq = DIRENT_FIRST_SEQ;
		n->nlink = 2;
		n->pfd = fd;
	} else {
		r = fd >= 0 ? region_adopt(reg->store, fd, &n->region)
			    : region_new(reg->store, &n->region);
		if (r < 0)
			goto err_free;
		n->nlink = 1;
	}
	pthread_mutex_init(&n->io, NULL);
	n->ino = reg->next_ino++;
	hmap_insert(&reg->inodes, &n->ino_hn, hmap_hash_u64(n->ino));
	*ret = n;
	return 0;

err_free:
	free(n);
	return r;
}

/* enum registry_entry_flags of n: a file-backed region, or one waiting for its file. */
static unsigned entry_flags(const struct node *n)
{
	return n->region && (n->bound || n->unbound) ? REGISTRY_ENTRY_BOUND : 0;
}

/* What the node itself knows of its attributes (registry lock held). */
static void fill_node_stat(const struct node *n, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = n->ino;
	st->st_mode = n->mode;
	st->st_nlink = n->nlink;
	st->st_uid = n->uid;
	st->st_gid = n->gid;
	st->st_blksize = RFS_PAGE_SIZE;
	if (n->region) {
		st->st_ctim = n->ctime; /* metadata changes; add_file_stat() takes the later */
	} else {
		st->st_size = (off_t)((n->entries.count + 2) * BOGO_DIRENT_SIZE);
		st->st_atim = n->atime;
		st->st_mtim = n->mtime;
		st->st_ctim = n->ctime;
	}
}

/*
 * Size, blocks and times of a region come from the backing file, never a
 * cached copy: with passthrough, clients write to it directly.
 */
static void add_file_stat(struct region *region, struct stat *st)
{
	struct timespec ctime = st->st_ctim;
	struct stat bst;

	if (region_stat(region, &bst) == 0) {
		st->st_size = bst.st_size;
		st->st_blocks = bst.st_blocks;
		st->st_atim = bst.st_atim;
		st->st_mtim = bst.st_mtim;
		st->st_ctim = bst.st_ctim;
	}
	if (ctime.tv_sec > st->st_ctim.tv_sec ||
	    (ctime.tv_sec == st->st_ctim.tv_sec && ctime.tv_nsec > st->st_ctim.tv_nsec))
		st->st_ctim = ctime;
}

/*
 * The attributes of one node for a reply, in two halves: stat_start()
 * under the registry lock takes the node's own and, for a region, a
 * reference; stat_finish() after unlocking adds the backing file's (an
 * fstat(), which may be slow on a user's file system) and drops it.
 */
static struct node *stat_start(struct node *n, struct stat *st, unsigned *ret_flags)
{
	fill_node_stat(n, st);
	if (ret_flags)
		*ret_flags = entry_flags(n);
	if (!n->region)
		return NULL;
	node_pin(n);
	return n;
}

static void stat_finish(struct registry *reg, struct node *pinned, struct stat *st)
{
	if (!pinned)
		return;
	add_file_stat(pinned->region, st);
	node_unpin(reg, pinned);
}

static void dir_touch(struct node *dir)
{
	now(&dir->mtime);
	dir->ctime = dir->mtime;
}

int registry_new(struct region_store *store, const struct registry_config *cfg,
		 struct registry **ret)
{
	struct registry_cred cred = { .uid = cfg->root_uid, .gid = cfg->root_gid };
	struct registry *reg;
	int r;

	reg = calloc(1, sizeof(*reg));
	if (!reg)
		return -ENOMEM;
	reg->store = store;
	reg->journal = &journal_none;
	reg->max_inodes = cfg->max_inodes;
	reg->cookie_release = cfg->cookie_release;
	reg->cookie_ctx = cfg->cookie_ctx;
	reg->open_binding = cfg->open_binding;
	reg->open_binding_ctx = cfg->open_binding_ctx;
	reg->next_ino = REGISTRY_ROOT_INO;
	r = hmap_init(&reg->inodes);
	if (r < 0)
		goto err_free;
	r = registry_node_new(reg, S_IFDIR | (cfg->root_mode & 07777), cred.uid, cred.gid, -1, &reg->root);
	if (r < 0)
		goto err_hmap;
	reg->root->parent = reg->root;
	pthread_mutex_init(&reg->lock, NULL);
	pthread_cond_init(&reg->bound_cv, NULL);
	*ret = reg;
	return 0;

err_hmap:
	hmap_destroy(&reg->inodes);
err_free:
	free(reg);
	return r;
}

void registry_free(struct registry *reg)
{
	struct hmap_node *hn;
	size_t at = 0;

	if (!reg)
		return;
	/* (registry_node_destroy()'s hmap_remove() of a popped node does nothing.) */
	while ((hn = hmap_pop(&reg->inodes, &at)))
		registry_node_destroy(reg, container_of(hn, struct node, ino_hn));
	hmap_destroy(&reg->inodes);
	journal_free(reg->journal);
	pthread_cond_destroy(&reg->bound_cv);
	pthread_mutex_destroy(&reg->lock);
	free(reg);
}

/*
 * Try an unbound region's binding again, as its owner, without the
 * registry lock (the open walks a user's path; other requests go on) and
 * under the node's I/O lock (one retry at a time; the others then find it
 * bound). 0 when the region is bound now (by us or by a racing retry) or
 * was never unbound, -ENXIO when the file still cannot be had.
 */
static int rebind(struct registry *reg, uint64_t ino)
{
	char *path = NULL;
	struct node *n;
	int fd = -1, r = 0;

	pthread_mutex_lock(&reg->lock);
	n = node_get(reg, ino);
	if (n && n->unbound)
		node_pin(n);
	else
		n = NULL;
	pthread_mutex_unlock(&reg->lock);
	if (!n)
		return 0;
	pthread_mutex_lock(&n->io);
	if (!n->unbound) /* a racing retry did it */
		goto out_unlock;
	r = reg->open_binding ? reg->open_binding(reg->open_binding_ctx, NULL, n->unbound, n->uid,
						  n->gid, &fd)
			      : -ENXIO;
	if (r < 0) {
		log_debug("inode %llu: binding %s still cannot be re-opened: %s",
			  (unsigned long long)ino, n->unbound, strerror(-r));
		goto out_unlock;
	}
	r = region_bind_file(n->region, fd, n->unbound, n->uid, n->gid);
	if (r < 0) {
		close(fd);
		goto out_unlock;
	}
	pthread_mutex_lock(&reg->lock);
	path = n->unbound;
	n->unbound = NULL;
	n->bound = true;
	pthread_mutex_unlock(&reg->lock);
	log_debug("inode %llu bound to %s again", (unsigned long long)ino, path);
	free(path);
out_unlock:
	pthread_mutex_unlock(&n->io);
	node_unpin(reg, n);
	return r < 0 ? -ENXIO : 0;
}

int registry_getattr(struct registry *reg, uint64_t ino, struct stat *ret, unsigned *ret_flags)
{
	struct node *n, *pinned = NULL;
	int r = -ENOENT;

	pthread_mutex_lock(&reg->lock);
	n = node_get(reg, ino);
	if (n) {
		pinned = stat_start(n, ret, ret_flags);
		r = 0;
	}
	pthread_mutex_unlock(&reg->lock);
	stat_finish(reg, pinned, ret);
	return r;
}

int registry_lookup(struct registry *reg, uint64_t parent, const char *name, struct stat *ret,
		    unsigned *ret_flags)
{
	struct node *dir, *pinned = NULL;
	bool retried = false;
	struct dentry *d;
	size_t len;
	int r;

	r = check_name(name, &len);
	if (r < 0)
		return r;
again:
	pthread_mutex_lock(&reg->lock);
	r = entry_get(reg, parent, name, len, &dir, &d);
	if (r < 0)
		goto out_unlock;
	if (d->node->unbound && !retried) {
		/* An open by name looks up first: bind now, so the size is the file's. */
		uint64_t ino = d->node->ino;

		pthread_mutex_unlock(&reg->lock);
		rebind(reg, ino);
		retried = true;
		goto again;
	}
	d->node->nlookup++;
	pinned = stat_start(d->node, ret, ret_flags);
out_unlock:
	pthread_mutex_unlock(&reg->lock);
	stat_finish(reg, pinned, ret);
	return r;
}

void registry_forget(struct registry *reg, uint64_t ino, uint64_t n)
{
	struct node *node;

	pthread_mutex_lock(&reg->lock);
	node = node_get(reg, ino);
	if (node) {
		node->nlookup = n > node->nlookup ? 0 : node->nlookup - n;
		node_maybe_destroy(reg, node);
	}
	unlock_and_reap(reg);
}

/* Shared by create and mkdir: a new node named name in parent. */
static int make_node(struct registry *reg, uint64_t parent, const char *name, mode_t mode,
		     const struct registry_cred *cred, struct stat *ret)
{
	struct node *dir, *n, *pinned = NULL;
	int fd = -1, r;
	uid_t uid;
	gid_t gid;
	size_t len;

	r = check_name(name, &len);
	if (r < 0)
		return r;
	pthread_mutex_lock(&reg->lock);
	r = dir_get(reg, parent, &dir);
	if (r < 0)
		goto out_unlock;
	if (dentry_find(dir, name, len)) {
		r = -EEXIST;
		goto out_unlock;
	}
	uid = cred->uid;
	gid = cred->gid;
	if (dir->mode & S_ISGID) {
		/* BSD group semantics of a setgid directory, as every Linux fs. */
		gid = dir->gid;
		if (S_ISDIR(mode))
			mode |= S_ISGID;
	}
	/* The journal first: if it says no, nothing changed. */
	r = journal_create(reg->journal, S_ISDIR(mode), dir->pfd, name, mode, uid, gid, &fd);
	if (r < 0)
		goto out_enospc;
	/* A directory keeps its fd: never into the reserve, nor the load's slack. */
	if (S_ISDIR(mode) && fd >= 0) {
		fd = store_fd_keep(reg->store, fd, STORE_FD_KEEP_SLACK);
		if (fd < 0) {
			r = fd;
			journal_remove(reg->journal, dir->pfd, name, true);
			goto out_enospc;
		}
	}
	r = registry_node_new(reg, mode, uid, gid, fd, &n);
	if (r == 0) {
		r = registry_dentry_add(dir, name, len, n);
		if (r < 0) {
			n->nlink = 0;
			node_maybe_destroy(reg, n); /* freed (fd closed) once unlocked */
			fd = -1;
		}
	}
	if (r < 0) {
		journal_remove(reg->journal, dir->pfd, name, S_ISDIR(mode));
		journal_close(reg->journal, fd);
		goto out_enospc;
	}
	if (is_dir(n)) {
		n->parent = dir;
		dir->nlink++;
	} else if (cred->creator) {
		n->creator = *cred->creator;
	}
	registry_lifetime_created(reg, dir, n);
	dir_touch(dir);
	n->nlookup++;
	pinned = stat_start(n, ret, NULL);
	log_debug("created %s inode %llu in %llu", name, (unsigned long long)n->ino,
		  (unsigned long long)parent);
	goto out_unlock;
out_enospc:
	/*
	 * A new region needs an fd in the daemon (a memfd keeps it): running
	 * out of fds is "no room for another region", not the client's EMFILE.
	 */
	if (r == -EMFILE || r == -ENFILE) {
		log_debug("no fd left for a new region: %s", strerror(-r));
		r = -ENOSPC;
	}
out_unlock:
	unlock_and_reap(reg);
	stat_finish(reg, pinned, ret);
	return r;
}

int registry_create(struct registry *reg, uint64_t parent, const char *name, mode_t mode,
		    const struct registry_cred *cred, struct stat *ret)
{
	return make_node(reg, parent, name, S_IFREG | (mode & 07777), cred, ret);
}

int registry_mkdir(struct registry *reg, uint64_t parent, const char *name, mode_t mode,
		   const struct registry_cred *cred, struct stat *ret)
{
	return make_node(reg, parent, name, S_IFDIR | (mode & 07777), cred, ret);
}

/* Drop the name d (in dir) of a node: the node may become an orphan. */
static void drop_name(struct registry *reg, struct node *dir, struct dentry *d)
{
	struct node *n = d->node;

	dentry_del(dir, d);
	hmap_shrink(&dir->entries);
	if (is_dir(n)) {
		n->nlink = 0;
		dir->nlink--;
		/* The old parent may be freed before this orphan: point nowhere. */
		n->parent = n;
	} else {
		if (n->nlink > 1)
			reg->links--;
		n->nlink--;
	}
	now(&n->ctime);
	node_maybe_destroy(reg, n);
}

static int remove_entry(struct registry *reg, uint64_t parent, const char *name, bool want_dir)
{
	struct node *dir;
	struct dentry *d;
	size_t len;
	int r;

	r = check_name(name, &len);
	if (r < 0)
		return r;
	pthread_mutex_lock(&reg->lock);
	r = entry_get(reg, parent, name, len, &dir, &d);
	if (r < 0)
		goto out_unlock;
	if (want_dir && !is_dir(d->node)) {
		r = -ENOTDIR;
		goto out_unlock;
	}
	if (!want_dir && is_dir(d->node)) {
		r = -EISDIR;
		goto out_unlock;
	}
	if (want_dir && d->node->entries.count) {
		r = -ENOTEMPTY;
		goto out_unlock;
	}
	r = journal_remove(reg->journal, dir->pfd, name, want_dir);
	if (r < 0)
		goto out_unlock;
	drop_name(reg, dir, d);
	dir_touch(dir);
out_unlock:
	unlock_and_reap(reg);
	return r;
}

int registry_unlink(struct registry *reg, uint64_t parent, const char *name)
{
	return remove_entry(reg, parent, name, false);
}

int registry_rmdir(struct registry *reg, uint64_t parent, const char *name)
{
	return remove_entry(reg, parent, name, true);
}

/* Is n the directory anc or inside it? */
static bool is_within(const struct node *n, const struct node *anc)
{
	for (;;) {
		if (n == anc)
			return true;
		if (n->parent == n)
			return false; /* reached the root */
		n = n->parent;
	}
}

static void move_dir_parent(struct node *n, struct node *from, struct node *to)
{
	if (!is_dir(n) || from == to)
		return;
	from->nlink--;
	to->nlink++;
	n->parent = to;
}

static int rename_exchange(struct node *dir, struct dentry *d, struct node *ndir, struct dentry *nd)
{
	struct node *a = d->node, *b = nd->node;

	if ((is_dir(a) && is_within(ndir, a)) || (is_dir(b) && is_within(dir, b)))
		return -EINVAL;
	move_dir_parent(a, dir, ndir);
	move_dir_parent(b, ndir, dir);
	d->node = b;
	nd->node = a;
	now(&a->ctime);
	b->ctime = a->ctime;
	return 0;
}

int registry_rename(struct registry *reg, uint64_t parent, const char *name, uint64_t newparent,
		    const char *newname, unsigned flags)
{
	struct node *dir, *ndir, *n;
	struct dentry *d, *nd;
	size_t len, nlen;
	int r;

	if ((flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE)) ||
	    (flags & RENAME_NOREPLACE && flags & RENAME_EXCHANGE))
		return -EINVAL;
	r = check_name(name, &len);
	if (r < 0)
		return r;
	r = check_name(newname, &nlen);
	if (r < 0)
		return r;
	pthread_mutex_lock(&reg->lock);
	r = dir_get(reg, newparent, &ndir);
	if (r < 0)
		goto out_unlock;
	r = entry_get(reg, parent, name, len, &dir, &d);
	if (r < 0)
		goto out_unlock;
	n = d->node;
	nd = dentry_find(ndir, newname, nlen);

	if (flags & RENAME_EXCHANGE) {
		if (!nd) {
			r = -ENOENT;
			goto out_unlock;
		}
		if ((is_dir(n) && is_within(ndir, n)) || (is_dir(nd->node) && is_within(dir, nd->node))) {
			r = -EINVAL;
			goto out_unlock;
		}
		r = journal_rename(reg->journal, dir->pfd, name, ndir->pfd, newname, flags);
		if (r < 0)
			goto out_unlock;
		r = rename_exchange(dir, d, ndir, nd);
		if (r == 0) {
			dir_touch(dir);
			dir_touch(ndir);
		}
		goto out_unlock;
	}

	if (is_dir(n) && is_within(ndir, n)) {
		r = -EINVAL;
		goto out_unlock;
	}
	if (nd) {
		if (flags & RENAME_NOREPLACE) {
			r = -EEXIST;
			goto out_unlock;
		}
		/* Two names of one inode: rename(2) does nothing and succeeds. */
		if (nd->node == n)
			goto out_unlock;
		if (is_dir(n) && !is_dir(nd->node)) {
			r = -ENOTDIR;
			goto out_unlock;
		}
		if (!is_dir(n) && is_dir(nd->node)) {
			r = -EISDIR;
			goto out_unlock;
		}
		if (is_dir(nd->node) && nd->node->entries.count) {
			r = -ENOTEMPTY;
			goto out_unlock;
		}
	}
	/* Add the new name before dropping anything, so ENOMEM changes nothing. */
	r = registry_dentry_add(ndir, newname, nlen, n);
	if (r < 0)
		goto out_unlock;
	r = journal_rename(reg->journal, dir->pfd, name, ndir->pfd, newname, flags);
	if (r < 0) {
		/* The entry just added, the last. */
		dentry_del(ndir, container_of(list_last(&ndir->dentries), struct dentry, link));
		goto out_unlock;
	}
	if (nd)
		drop_name(reg, ndir, nd);
	dentry_del(dir, d);
	hmap_shrink(&dir->entries);
	move_dir_parent(n, dir, ndir);
	now(&n->ctime);
	dir_touch(dir);
	dir_touch(ndir);
out_unlock:
	unlock_and_reap(reg);
	return r;
}

int registry_link(struct registry *reg, uint64_t ino, uint64_t newparent, const char *newname,
		  struct stat *ret, unsigned *ret_flags)
{
	struct node *n, *ndir, *pinned = NULL;
	struct journal_node jn;
	size_t len;
	int r;

	r = check_name(newname, &len);
	if (r < 0)
		return r;
	pthread_mutex_lock(&reg->lock);
	n = node_get(reg, ino);
	if (!n) {
		r = -ENOENT;
		goto out_unlock;
	}
	if (is_dir(n)) {
		r = -EPERM;
		goto out_unlock;
	}
	r = dir_get(reg, newparent, &ndir);
	if (r < 0)
		goto out_unlock;
	if (dentry_find(ndir, newname, len)) {
		r = -EEXIST;
		goto out_unlock;
	}
	/* A hard link costs an inode, as on tmpfs (EMLINK: FUSE's nlink is 32 bits). */
	if (n->nlink && reg->max_inodes && registry_inodes_in_use(reg) >= reg->max_inodes) {
		r = -ENOSPC;
		goto out_unlock;
	}
	if (n->nlink >= UINT32_MAX) {
		r = -EMLINK;
		goto out_unlock;
	}
	jn = registry_journal_node(n);
	r = journal_link(reg->journal, &jn, ndir->pfd, newname);
	if (r < 0)
		goto out_unlock;
	r = registry_dentry_add(ndir, newname, len, n);
	if (r < 0) {
		journal_remove(reg->journal, ndir->pfd, newname, false);
		goto out_unlock;
	}
	if (n->nlink)
		reg->links++;
	n->nlink++;
	n->nlookup++;
	now(&n->ctime);
	dir_touch(ndir);
	pinned = stat_start(n, ret, ret_flags);
out_unlock:
	pthread_mutex_unlock(&reg->lock);
	stat_finish(reg, pinned, ret);
	return r;
}

/* What the journal records of a setattr: owner, mode, a directory's times. */
#define JOURNAL_ATTRS                                                                       \
	(REGISTRY_SET_MODE | REGISTRY_SET_UID | REGISTRY_SET_GID | REGISTRY_SET_ATIME |     \
	 REGISTRY_SET_MTIME)

/* Put the node's store file back as the node still is (what sa changed of it). */
static void setattr_undo_journal(struct registry *reg, struct node *n,
				 const struct registry_setattr *sa)
{
	struct journal_node jn = registry_journal_node(n);
	struct registry_setattr back = { .valid = sa->valid & JOURNAL_ATTRS };

	/* A directory's times move with its entries, under the registry lock only. */
	pthread_mutex_lock(&reg->lock);
	back.mode = n->mode & 07777;
	back.uid = n->uid;
	back.gid = n->gid;
	back.atime = n->atime;
	back.mtime = n->mtime;
	pthread_mutex_unlock(&reg->lock);
	journal_set_attrs(reg->journal, &jn, is_dir(n), &back, n->mode);
}

/*
 * Whole or not at all. The steps that can fail come first, each one undone
 * when a later one fails: the journal's owner and mode (set back to the
 * node's, which changes last), then the region's size and times. A shrink
 * cannot be undone (the data past the new end is gone), so it is the last
 * step that can fail: the times go before it once, to find out whether
 * they can be set, and again after it, since a truncate sets mtime itself.
 * A grow can be undone (truncated back), so it goes before the times.
 * Nothing is written into the node until every step is done.
 *
 * Every step runs without the registry lock (a resize may fallocate
 * gigabytes), under the node's I/O lock, which orders setattrs, binds and
 * xattr changes of one node and keeps the fields they read stable; the
 * registry lock is taken again only to publish the result.
 */
int registry_setattr(struct registry *reg, uint64_t ino, const struct registry_setattr *sa,
		     struct stat *ret, unsigned *ret_flags)
{
	struct timespec t[2] = { { .tv_nsec = UTIME_OMIT }, { .tv_nsec = UTIME_OMIT } };
	bool retried = false, journaled = false, timed = false, grown = false, shrink = false;
	struct node *n, *pinned = NULL;
	struct registry_setattr killed;
	struct journal_node jn;
	struct stat old;
	bool times;
	int r = 0;

again:
	n = node_ref(reg, ino);
	if (!n)
		return -ENOENT;
	pthread_mutex_lock(&n->io);
	if (sa->valid & (REGISTRY_KILL_SUID | REGISTRY_KILL_SGID)) {
		/* Under the I/O lock: the bits of the mode as it is now, not as the caller saw it. */
		mode_t cur = (sa->valid & REGISTRY_SET_MODE ? sa->mode : n->mode) & 07777;
		mode_t kill = (sa->valid & REGISTRY_KILL_SUID ? S_ISUID : 0) |
			      (sa->valid & REGISTRY_KILL_SGID ? S_ISGID : 0);

		killed = *sa;
		killed.valid &= ~(unsigned)(REGISTRY_KILL_SUID | REGISTRY_KILL_SGID);
		if (cur & kill) {
			killed.valid |= REGISTRY_SET_MODE;
			killed.mode = cur & ~kill;
		}
		sa = &killed;
	}
	if (sa->valid & REGISTRY_SET_SIZE) {
		if (!n->region) {
			r = -EISDIR;
			goto out_unlock;
		}
		if (n->unbound) {
			/* Not the empty stand-in's size: the file's, once it is back. */
			pthread_mutex_unlock(&n->io);
			node_unpin(reg, n);
			if (retried || rebind(reg, ino) < 0)
				return -ENXIO;
			retried = true;
			goto again;
		}
	}
	if (sa->valid & REGISTRY_SET_ATIME)
		t[0] = sa->atime;
	if (sa->valid & REGISTRY_SET_MTIME)
		t[1] = sa->mtime;
	times = n->region && (sa->valid & (REGISTRY_SET_ATIME | REGISTRY_SET_MTIME));
	/*
	 * A resize sets mtime to now itself (ftruncate(2) does, even to the
	 * same size): a truncate's "mtime now" and nothing else needs no call.
	 */
	if (times && (sa->valid & REGISTRY_SET_SIZE) && t[0].tv_nsec == UTIME_OMIT &&
	    t[1].tv_nsec == UTIME_NOW)
		times = false;
	if (times && (sa->valid & REGISTRY_SET_SIZE)) {
		/* Size and times: what undoing the one after the other needs. */
		r = region_stat(n->region, &old);
		if (r < 0)
			goto out_unlock;
		shrink = sa->size < (uint64_t)old.st_size;
	}

	if (sa->valid & JOURNAL_ATTRS) {
		jn = registry_journal_node(n);
		journaled = true; /* a failure may have done part of it */
		r = journal_set_attrs(reg->journal, &jn, is_dir(n), sa,
				      sa->valid & REGISTRY_SET_MODE ? sa->mode : n->mode);
		if (r < 0)
			goto err_undo;
	}
	if (times && shrink) {
		r = region_set_times(n->region, t);
		if (r < 0)
			goto err_undo;
		timed = true;
	}
	if (sa->valid & REGISTRY_SET_SIZE) {
		r = region_resize(n->region, sa->size);
		if (r < 0)
			goto err_undo;
		grown = times && !shrink; /* undone only if the times then fail */
	}
	if (times) {
		r = region_set_times(n->region, t);
		/*
		 * After a shrink, the same call on the same file as just
		 * before: should it still fail, the rest is done and stays.
		 */
		if (r < 0 && !shrink)
			goto err_undo;
	}

	pthread_mutex_lock(&reg->lock);
	if (sa->valid & REGISTRY_SET_MODE)
		n->mode = (n->mode & S_IFMT) | (sa->mode & 07777);
	if (sa->valid & REGISTRY_SET_UID)
		n->uid = sa->uid;
	if (sa->valid & REGISTRY_SET_GID)
		n->gid = sa->gid;
	if (!n->region && (sa->valid & (REGISTRY_SET_ATIME | REGISTRY_SET_MTIME))) {
		struct timespec cur;

		now(&cur);
		if (t[0].tv_nsec != UTIME_OMIT)
			n->atime = t[0].tv_nsec == UTIME_NOW ? cur : t[0];
		if (t[1].tv_nsec != UTIME_OMIT)
			n->mtime = t[1].tv_nsec == UTIME_NOW ? cur : t[1];
	}
	if (sa->valid)
		now(&n->ctime);
	if (r == 0)
		pinned = stat_start(n, ret, ret_flags);
	pthread_mutex_unlock(&reg->lock);
	goto out_unlock;

err_undo:
	/* Best effort, in reverse: each undo sets what was there before. */
	if (grown && region_resize(n->region, (uint64_t)old.st_size) < 0)
		log_debug("inode %llu: size not set back after a failed setattr",
			  (unsigned long long)ino);
	if (timed || grown) { /* truncating back set mtime too */
		struct timespec back[2] = { old.st_atim, old.st_mtim };

		region_set_times(n->region, back);
	}
	if (journaled)
		setattr_undo_journal(reg, n, sa);
out_unlock:
	pthread_mutex_unlock(&n->io);
	stat_finish(reg, pinned, ret);
	node_unpin(reg, n);
	return r;
}

/* The node of region ino (registry lock held): -ENOENT, or -EISDIR for a directory. */
static int region_node(struct registry *reg, uint64_t ino, struct node **ret)
{
	struct node *n = node_get(reg, ino);

	if (!n)
		return -ENOENT;
	if (!n->region)
		return -EISDIR;
	*ret = n;
	return 0;
}

int registry_open(struct registry *reg, uint64_t ino, struct region **ret)
{
	return registry_open_flags(reg, ino, O_RDONLY, ret);
}

void registry_release(struct registry *reg, uint64_t ino)
{
	registry_release_flags(reg, ino, O_RDONLY);
}

static bool open_writes(int flags)
{
	return (flags & O_ACCMODE) != O_RDONLY;
}

int registry_open_flags(struct registry *reg, uint64_t ino, int flags, struct region **ret)
{
	bool retried = false;
	struct node *n;
	int r;

again:
	pthread_mutex_lock(&reg->lock);
	r = region_node(reg, ino, &n);
	if (r == 0 && n->binding) {
		/* A new backing file is being put in: open that one, not the old. */
		pthread_cond_wait(&reg->bound_cv, &reg->lock);
		pthread_mutex_unlock(&reg->lock);
		goto again; /* n may be gone meanwhile */
	}
	if (r == 0 && n->unbound) {
		pthread_mutex_unlock(&reg->lock);
		if (retried || rebind(reg, ino) < 0)
			return -ENXIO;
		retried = true;
		goto again;
	}
	/*
	 * Seals: a field read. Checked and counted under the lock that
	 * registry_add_seals() checks the count under (with n->binding).
	 */
	if (r == 0 && open_writes(flags) &&
	    (region_seals(n->region) & (REGION_SEAL_WRITE | REGION_SEAL_FUTURE_WRITE)))
		r = -EPERM;
	if (r == 0) {
		n->nopen++;
		n->opens++;
		if (open_writes(flags))
			n->nwrite++;
		*ret = n->region;
	}
	pthread_mutex_unlock(&reg->lock);
	return r;
}

void registry_release_flags(struct registry *reg, uint64_t ino, int flags)
{
	uint64_t gen;

	/* One close for everyone; whether it left a region idle is the lifetimes' business. */
	(void)registry_release_idle(reg, ino, flags, &gen);
}

int registry_cookie(struct registry *reg, uint64_t ino, uint64_t *ret)
{
	struct node *n;
	int r;

	pthread_mutex_lock(&reg->lock);
	r = region_node(reg, ino, &n);
	if (r == 0)
		*ret = n->cookie;
	pthread_mutex_unlock(&reg->lock);
	return r;
}

int registry_attach_cookie(struct registry *reg, uint64_t ino, uint64_t cookie, uint64_t *ret)
{
	struct node *n;
	int r;

	pthread_mutex_lock(&reg->lock);
	r = region_node(reg, ino, &n);
	if (r == 0) {
		if (!n->cookie)
			n->cookie = cookie;
		*ret = n->cookie;
	}
	pthread_mutex_unlock(&reg->lock);
	return r;
}

/*
 * Hold new opens of n back (n->binding: registry_open() waits on
 * reg->bound_cv until it goes down) for a change that existing opens may
 * forbid: -EBUSY instead when no_opens and a file is open, or no_writers
 * and one is open for writing (checked under the same lock the opens are
 * counted under, so none slips in between).
 */
static int node_hold_opens(struct registry *reg, struct node *n, bool no_opens, bool no_writers)
{
	int r = 0;

	pthread_mutex_lock(&reg->lock);
	if ((no_opens && n->nopen) || (no_writers && n->nwrite))
		r = -EBUSY;
	else
		n->binding = true;
	pthread_mutex_unlock(&reg->lock);
	return r;
}

/*
 * Is region n's backing file used by nobody but the daemon (no passthrough
 * open or mapping: region_check_unshared())? Without the registry lock;
 * opens held off by n->binding.
 */
static int node_check_unshared(struct registry *reg, struct node *n)
{
	int r = region_check_unshared(n->region);

	/*
	 * A backing id keeps the file description it was registered
	 * with. Once the store's fd cache has closed and reopened the
	 * region's fd, that is a second writer the lease probe takes
	 * for a user: give the id back (the next open registers the
	 * file again) and ask once more. Only with no file open: the
	 * kernel keeps an open file's backing until its last close and
	 * refuses a second one for the inode (an open would fail).
	 */
	if (r == -EBUSY) {
		bool again = false;

		pthread_mutex_lock(&reg->lock);
		if (n->cookie && n->nopen == 0) {
			node_release_cookie(reg, n);
			again = true;
		}
		pthread_mutex_unlock(&reg->lock);
		if (again)
			r = region_check_unshared(n->region);
	}
	return r;
}

/*
 * The probe (a lease, or the count of opens) and the journal's and the
 * region's part run without the registry lock, under the node's I/O lock;
 * n->binding keeps new opens of this region waiting meanwhile (they would
 * get the old backing file), as the registry lock did before.
 */
int registry_bind(struct registry *reg, uint64_t ino, int fd, const char *path,
		  const struct registry_cred *binder, uint64_t cookie, bool count_opens)
{
	struct journal_node jn;
	struct node *n;
	int meta, r = 0;

	n = node_ref(reg, ino);
	if (!n)
		return -ENOENT;
	pthread_mutex_lock(&n->io);
	if (!n->region) {
		r = -EISDIR;
		goto out_unlock;
	}
	/* Before the busy probe: our new fd of the same file would count as a user. */
	if (n->bound || n->unbound) {
		r = -EEXIST;
		goto out_unlock;
	}
	/* A new file brings a new size and contents: what seals forbid. */
	if (region_seals(n->region)) {
		r = -EPERM;
		goto out_unlock;
	}
	/* Open files and mappings use the current backing file. */
	r = node_hold_opens(reg, n, count_opens, false);
	if (r < 0)
		goto out_unlock;
	if (!count_opens)
		r = node_check_unshared(reg, n);
	if (r < 0)
		goto out_done;
	jn = registry_journal_node(n);
	r = journal_bind(reg->journal, &jn, path, &meta);
	if (r < 0)
		goto out_done;
	r = region_bind_file(n->region, fd, path, binder->uid, binder->gid);
	if (r < 0) {
		journal_unbind(reg->journal, meta);
		goto out_done;
	}
	log_debug("inode %llu bound to %s", (unsigned long long)ino, path);
out_done:
	pthread_mutex_lock(&reg->lock);
	if (r == 0) {
		n->pfd = meta;
		n->bound = true;
		node_release_cookie(reg, n);
		n->cookie = cookie;
		now(&n->ctime);
	}
	n->binding = false;
	pthread_cond_broadcast(&reg->bound_cv);
	pthread_mutex_unlock(&reg->lock);
out_unlock:
	pthread_mutex_unlock(&n->io);
	node_unpin(reg, n);
	return r;
}

ssize_t registry_creator(struct registry *reg, uint64_t ino, char *buf, size_t size)
{
	struct registry_creator c;
	char line[REGISTRY_CREATOR_MAX], stamp[32];
	struct tm tm;
	time_t t;
	struct node *n;
	ssize_t r;
	int len;

	pthread_mutex_lock(&reg->lock);
	r = region_node(reg, ino, &n);
	if (r == 0)
		c = n->creator; /* written once, before the node was published */
	pthread_mutex_unlock(&reg->lock);
	if (r < 0)
		return r;
	if (c.pid == 0)
		return -ENODATA;
	/* A user names their process: one printable line, whatever they chose. */
	c.comm[sizeof(c.comm) - 1] = '\0';
	rfs_ascii_printable(c.comm);
	t = (time_t)c.time;
	if (!gmtime_r(&t, &tm) || !strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm))
		strcpy(stamp, "?");
	len = snprintf(line, sizeof(line), "pid=%ld uid=%lu comm=%s time=%s", (long)c.pid,
		       (unsigned long)c.uid, c.comm, stamp);
	if (len < 0 || (size_t)len >= sizeof(line))
		return -ERANGE; /* cannot happen: every field is bounded */
	if (size && size < (size_t)len)
		return -ERANGE;
	if (size)
		memcpy(buf, line, (size_t)len);
	return len;
}

ssize_t registry_backing_path(struct registry *reg, uint64_t ino, char *buf, size_t size)
{
	const char *path;
	struct node *n;
	ssize_t r;
	size_t len;

	pthread_mutex_lock(&reg->lock);
	r = region_node(reg, ino, &n);
	if (r < 0)
		goto out_unlock;
	/* The region's path is written once, before n->bound (under this lock). */
	path = n->unbound ? n->unbound : n->bound ? region_backing_path(n->region) : NULL;
	if (!path) {
		r = -ENODATA;
		goto out_unlock;
	}
	len = strlen(path);
	if (size && size < len) {
		r = -ERANGE;
		goto out_unlock;
	}
	if (size)
		memcpy(buf, path, len);
	r = (ssize_t)len;
out_unlock:
	pthread_mutex_unlock(&reg->lock);
	return r;
}

int registry_region(struct registry *reg, uint64_t ino, struct region **ret)
{
	struct node *n;
	int r;

	pthread_mutex_lock(&reg->lock);
	r = region_node(reg, ino, &n);
	if (r == 0)
		*ret = n->region;
	pthread_mutex_unlock(&reg->lock);
	return r;
}

/* The first entry of dir with a position after off. */
static struct dentry *dir_seek(struct node *dir, uint64_t off)
{
	struct dentry *d;

	if (off < DIRENT_FIRST_SEQ)
		return registry_dentry_first(dir);
	if (off == dir->cursor_off)
		return dir->cursor_entry ? registry_dentry_next(dir, dir->cursor_entry)
					 : registry_dentry_first(dir);
	for (d = registry_dentry_first(dir); d && d->seq <= off; d = registry_dentry_next(dir, d))
		;
	return d;
}

/*
 * Entries go out in batches: the registry lock is held to copy a batch's
 * names and node attributes and take references (want_attr: the lookup
 * references too, given back for entries fill() then refuses), and
 * released for the fstat() of each region (a bound file may sit on a slow
 * file system) and for fill(). Positions are the entries' sequence
 * numbers, so a change between two batches moves nothing.
 */
#define READDIR_BATCH 16

struct readdir_entry {
	struct node *node; /* a reference (node_pin()) */
	uint64_t seq;
	unsigned flags;
	struct stat st;
	char name[RFS_NAME_MAX + 1];
};

/* The cursor hint after fill() took the entries up to seq (registry lock held). */
static void readdir_cursor(struct node *dir, uint64_t batch_off, uint64_t seq)
{
	struct dentry *d = dir->cursor_entry;

	if (dir->cursor_off != batch_off)
		return; /* another stream moved it meanwhile: it is only a hint */
	/* dentry_del() keeps cursor_entry the last entry at or before cursor_off. */
	while (d && d->seq > seq)
		d = dentry_prev(dir, d);
	dir->cursor_off = seq;
	dir->cursor_entry = d;
}

int registry_readdir(struct registry *reg, uint64_t ino, uint64_t off, bool want_attr,
		     registry_fill_fn fill, void *ctx)
{
	struct readdir_entry batch[READDIR_BATCH];
	bool full = false, first = true;
	struct node *dir;
	struct stat st;
	int r;

	do {
		uint64_t tentative = 0;
		struct dentry *d;
		size_t n = 0, taken = 0, i;

		pthread_mutex_lock(&reg->lock);
		/* A removed directory reads as ENOENT, as getdents(2) says on Linux. */
		r = dir_get(reg, ino, &dir);
		if (r < 0) {
			pthread_mutex_unlock(&reg->lock);
			return first ? r : 0;
		}
		first = false;
		if (off < 1) {
			fill_node_stat(dir, &st);
			if (fill(ctx, ".", &st, 1, 0)) {
				pthread_mutex_unlock(&reg->lock);
				return 0;
			}
			off = 1;
		}
		if (off < 2) {
			fill_node_stat(dir->parent, &st); /* directories: no file to ask */
			if (fill(ctx, "..", &st, 2, 0)) {
				pthread_mutex_unlock(&reg->lock);
				return 0;
			}
			off = 2;
		}
		for (d = dir_seek(dir, off); d && n < READDIR_BATCH;
		     d = registry_dentry_next(dir, d), n++) {
			struct readdir_entry *e = &batch[n];

			e->node = d->node;
			e->seq = d->seq;
			e->flags = entry_flags(d->node);
			fill_node_stat(d->node, &e->st);
			memcpy(e->name, d->name, d->len + 1);
			node_pin(d->node);
			if (want_attr)
				d->node->nlookup++;
			dir->cursor_off = tentative = d->seq;
			dir->cursor_entry = d;
		}
		full = n == READDIR_BATCH && d;
		node_pin(dir);
		pthread_mutex_unlock(&reg->lock);

		for (i = 0; i < n; i++)
			if (batch[i].node->region)
				add_file_stat(batch[i].node->region, &batch[i].st);
		for (taken = 0; taken < n; taken++) {
			struct readdir_entry *e = &batch[taken];

			if (fill(ctx, e->name, &e->st, e->seq, e->flags))
				break;
		}

		pthread_mutex_lock(&reg->lock);
		if (taken < n) {
			full = false;
			readdir_cursor(dir, tentative, taken ? batch[taken - 1].seq : off);
		}
		for (i = taken; want_attr && i < n; i++) {
			batch[i].node->nlookup--;
			node_maybe_destroy(reg, batch[i].node);
		}
		unlock_and_reap(reg);
		for (i = 0; i < n; i++)
			node_unpin(reg, batch[i].node);
		node_unpin(reg, dir);
		if (n)
			off = batch[n - 1].seq;
	} while (full);
	return 0;
}

/*
 * The node of ino, pinned and under its I/O lock, the registry lock
 * released: for the changes of one node that may wait (the store's space
 * lock, the journal). NULL: no such node. node_io_unlock() ends it.
 */
static struct node *node_io_lock(struct registry *reg, uint64_t ino)
{
	struct node *n = node_ref(reg, ino);

	if (n)
		pthread_mutex_lock(&n->io);
	return n;
}

static void node_io_unlock(struct registry *reg, struct node *n)
{
	pthread_mutex_unlock(&n->io);
	node_unpin(reg, n);
}

/* The xattr reads: node lookup under the lock, then the list operation. */
static struct node *lock_node(struct registry *reg, uint64_t ino)
{
	struct node *n;

	pthread_mutex_lock(&reg->lock);
	n = node_get(reg, ino);
	if (!n)
		pthread_mutex_unlock(&reg->lock);
	return n;
}

/*
 * Extended attributes are memory the daemon keeps for a client: their cost
 * (xattr_cost()) is charged against the store's limit before they are
 * kept, and given back when they go (remove, a smaller value, node freed).
 * Changes run under the node's I/O lock: the list is read there without
 * the registry lock, which they take only to change it (readers hold that
 * one); charging waits for the store's space lock, which a growing region
 * holds across its fallocate(), and the journal writes to the store.
 */
int registry_setxattr(struct registry *reg, uint64_t ino, const char *name, const void *value,
		      size_t size, int flags)
{
	struct node *n = node_io_lock(reg, ino);
	struct journal_node jn;
	int64_t charged = 0, settle;
	size_t cost_before;
	ssize_t delta;
	int r;

	if (!n)
		return -ENOENT;
	cost_before = n->xattrs.cost;
	r = xattr_check_set(&n->xattrs, name, size, flags, &delta);
	if (r < 0)
		goto out_unlock;
	if (delta > 0) {
		r = store_charge_meta(reg->store, delta);
		if (r < 0)
			goto out_unlock;
		charged = delta;
	}
	/*
	 * The journal first: if it refuses, nothing changed. The list can then
	 * fail only for memory: the journal gets the old value back (the list
	 * still holds it), so both agree.
	 */
	jn = registry_journal_node(n);
	r = journal_set_xattr(reg->journal, &jn, name, value, size);
	if (r < 0)
		goto out_settle;
	pthread_mutex_lock(&reg->lock);
	r = xattr_set(&n->xattrs, name, value, size, flags);
	if (r == 0)
		now(&n->ctime);
	pthread_mutex_unlock(&reg->lock);
	if (r < 0) {
		size_t old_size;
		const void *old = xattr_value(&n->xattrs, name, &old_size);

		if (old)
			journal_set_xattr(reg->journal, &jn, name, old, old_size);
		else
			journal_remove_xattr(reg->journal, &jn, name);
	}
out_settle:
	/* Charge what the list costs now: failed steps may have undone the change. */
	settle = (int64_t)n->xattrs.cost - (int64_t)cost_before - charged;
	if (settle < 0)
		store_charge_meta(reg->store, settle);
	else if (settle > 0)
		store_charge_meta_over(reg->store, (uint64_t)settle);
out_unlock:
	node_io_unlock(reg, n);
	return r;
}

ssize_t registry_getxattr(struct registry *reg, uint64_t ino, const char *name, void *buf,
			  size_t size)
{
	struct node *n = lock_node(reg, ino);
	ssize_t r;

	if (!n)
		return -ENOENT;
	r = xattr_get(&n->xattrs, name, buf, size);
	pthread_mutex_unlock(&reg->lock);
	return r;
}

ssize_t registry_listxattr(struct registry *reg, uint64_t ino, char *buf, size_t size)
{
	struct node *n = lock_node(reg, ino);
	ssize_t r;

	if (!n)
		return -ENOENT;
	r = xattr_list_names(&n->xattrs, buf, size);
	pthread_mutex_unlock(&reg->lock);
	return r;
}

int registry_removexattr(struct registry *reg, uint64_t ino, const char *name)
{
	struct node *n = node_io_lock(reg, ino);
	size_t cost = 0;
	int r;

	if (!n)
		return -ENOENT;
	r = xattr_get(&n->xattrs, name, NULL, 0) < 0 ? -ENODATA : 0;
	if (r == 0) {
		struct journal_node jn = registry_journal_node(n);

		r = journal_remove_xattr(reg->journal, &jn, name);
	}
	if (r == 0) {
		pthread_mutex_lock(&reg->lock);
		r = xattr_remove(&n->xattrs, name, &cost);
		if (r == 0)
			now(&n->ctime);
		pthread_mutex_unlock(&reg->lock);
	}
	if (r == 0)
		store_charge_meta(reg->store, -(int64_t)cost);
	node_io_unlock(reg, n);
	return r;
}

/*
 * Like registry_bind(): under the node's I/O lock, with n->binding holding
 * new opens back, so that the counts checked at the start stay true until
 * the seals are in place (an open already counted was seen; one after sees
 * the seals). The journal first: a store that cannot record the seals
 * leaves the region unsealed.
 */
int registry_add_seals(struct registry *reg, uint64_t ino, unsigned seals, bool count_opens)
{
	char value[REGION_SEAL_FORMAT_MAX];
	struct journal_node jn;
	unsigned old, add;
	bool probe;
	struct node *n;
	int r = 0;

	n = node_io_lock(reg, ino);
	if (!n)
		return -ENOENT;
	if (!n->region) {
		r = -EISDIR;
		goto out_unlock;
	}
	old = region_seals(n->region); /* changed only here, under the I/O lock */
	add = seals & ~old;
	if (old & REGION_SEAL_SEAL) {
		r = -EPERM; /* as F_ADD_SEALS: even adding nothing */
		goto out_unlock;
	}
	if (!add)
		goto out_unlock;
	/*
	 * Passthrough (!count_opens): writes bypass the daemon. "write" needs
	 * no writable open file description of the backing file anywhere
	 * (a mapping whose fd was closed keeps one); "grow" makes every later
	 * open a cached one, which the kernel refuses while passthrough opens
	 * exist and whose pages a passthrough mapping would not see: it needs
	 * none at all. Both take the lease probe, which cannot tell readers
	 * from writers: conservative.
	 */
	probe = !count_opens && (add & (REGION_SEAL_WRITE | REGION_SEAL_GROW));
	r = node_hold_opens(reg, n, probe && (add & REGION_SEAL_GROW), add & REGION_SEAL_WRITE);
	if (r < 0)
		goto out_unlock;
	if (probe)
		r = node_check_unshared(reg, n);
	if (r == 0) {
		ssize_t len = region_seal_format(old | add, value, sizeof(value));

		jn = registry_journal_node(n);
		r = journal_set_xattr(reg->journal, &jn, RFS_XATTR_SEALS, value, (size_t)len);
	}
	if (r == 0)
		region_add_seals(n->region, add);
	pthread_mutex_lock(&reg->lock);
	if (r == 0)
		now(&n->ctime);
	n->binding = false;
	pthread_cond_broadcast(&reg->bound_cv);
	pthread_mutex_unlock(&reg->lock);
out_unlock:
	node_io_unlock(reg, n);
	return r;
}

void registry_inodes(struct registry *reg, uint64_t *ret_used, uint64_t *ret_max)
{
	pthread_mutex_lock(&reg->lock);
	*ret_used = registry_inodes_in_use(reg);
	*ret_max = reg->max_inodes;
	pthread_mutex_unlock(&reg->lock);
}

void registry_names(struct registry *reg, uint64_t ino,
		    void (*fn)(void *ctx, uint64_t parent, const char *name), void *ctx)
{
	struct hmap_node *hn;
	size_t i;

	pthread_mutex_lock(&reg->lock);
	hmap_for_each(hn, &reg->inodes, i) {
		struct node *dir = container_of(hn, struct node, ino_hn);
		struct dentry *d;

		if (!is_dir(dir))
			continue;
		for (d = registry_dentry_first(dir); d; d = registry_dentry_next(dir, d))
			if (d->node->ino == ino)
				fn(ctx, dir->ino, d->name);
	}
	pthread_mutex_unlock(&reg->lock);
}

int registry_fsyncdir(struct registry *reg, uint64_t ino)
{
	/* A directory's store handle never changes: no I/O lock, only a reference. */
	struct node *n = node_ref(reg, ino);
	int r = 0;

	if (!n)
		return -ENOENT;
	if (is_dir(n))
		r = journal_sync_dir(reg->journal, n->pfd);
	node_unpin(reg, n);
	return r;
}

struct node *registry_node_get(struct registry *reg, uint64_t ino)
{
	return node_get(reg, ino);
}

void registry_node_maybe_destroy(struct registry *reg, struct node *n)
{
	node_maybe_destroy(reg, n);
}

void registry_drop_name(struct registry *reg, struct node *dir, struct dentry *d)
{
	drop_name(reg, dir, d);
}

void registry_unlock(struct registry *reg)
{
	unlock_and_reap(reg);
}

struct node *registry_node_io_lock(struct registry *reg, uint64_t ino)
{
	return node_io_lock(reg, ino);
}

void registry_node_io_unlock(struct registry *reg, struct node *n)
{
	node_io_unlock(reg, n);
}
