/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "registry/registry.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/hmap.h"
#include "common/log.h"
#include "common/macros.h"
#include "registry/xattr.h"

/* tmpfs reports a directory's size as 20 bytes per entry; tools only compare it with 0. */
#define BOGO_DIRENT_SIZE 20u

/* Positions 1 and 2 of a directory stream are "." and ".."; entries follow. */
#define DIRENT_FIRST_SEQ 3u

struct dentry;

struct node {
	struct hmap_node ino_hn;
	uint64_t ino;
	mode_t mode; /* type and permission bits */
	uid_t uid;
	gid_t gid;
	uint64_t nlink;   /* regions: names; directories: 2 + subdirectories, 0 once removed */
	uint64_t nlookup; /* references held by the kernel */
	uint64_t nopen;   /* open files (regions) */
	struct timespec atime, mtime, ctime; /* regions: only ctime is used (metadata changes) */
	struct xattr_list xattrs;
	struct region *region; /* regions only */
	uint64_t cookie;       /* the data-path layer's, see registry_attach_cookie() */

	/* Directories only. */
	struct node *parent;
	struct hmap entries; /* name -> dentry */
	struct dentry *head, *tail; /* creation order, seq increasing */
	uint64_t next_seq;
	/*
	 * Readdir resume hint: cursor_entry is the last entry whose seq is <=
	 * cursor_off (NULL: none, start at head). A stream that asks for
	 * cursor_off again continues in O(1) instead of scanning from the head.
	 */
	uint64_t cursor_off;
	struct dentry *cursor_entry;
};

struct dentry {
	struct hmap_node hn;
	struct dentry *prev, *next;
	uint64_t seq;
	struct node *node;
	size_t len;
	char name[];
};

struct registry {
	pthread_mutex_t lock;
	struct region_store *store;
	struct hmap inodes; /* ino -> node */
	uint64_t next_ino;
	uint64_t max_inodes;
	struct node *root;
	void (*cookie_release)(void *ctx, uint64_t cookie);
	void *cookie_ctx;
};

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

static int dentry_add(struct node *dir, const char *name, size_t len, struct node *target)
{
	struct dentry *d = malloc(sizeof(*d) + len + 1);

	if (!d)
		return -ENOMEM;
	memcpy(d->name, name, len);
	d->name[len] = '\0';
	d->len = len;
	d->node = target;
	d->seq = dir->next_seq++;
	d->next = NULL;
	d->prev = dir->tail;
	if (dir->tail)
		dir->tail->next = d;
	else
		dir->head = d;
	dir->tail = d;
	hmap_insert(&dir->entries, &d->hn, hmap_hash_bytes(name, len));
	return 0;
}

static void dentry_del(struct node *dir, struct dentry *d)
{
	if (dir->cursor_entry == d)
		dir->cursor_entry = d->prev; /* still has seq <= cursor_off */
	hmap_remove(&dir->entries, &d->hn);
	if (d->prev)
		d->prev->next = d->next;
	else
		dir->head = d->next;
	if (d->next)
		d->next->prev = d->prev;
	else
		dir->tail = d->prev;
	free(d);
}

static void node_destroy(struct registry *reg, struct node *n)
{
	hmap_remove(&reg->inodes, &n->ino_hn);
	xattr_clear(&n->xattrs);
	if (n->cookie && reg->cookie_release)
		reg->cookie_release(reg->cookie_ctx, n->cookie);
	if (n->region)
		region_free(n->region);
	if (is_dir(n)) {
		while (n->head)
			dentry_del(n, n->head);
		hmap_destroy(&n->entries);
	}
	log_debug("inode %llu freed", (unsigned long long)n->ino);
	free(n);
}

/* Free a node once nothing names, references or opens it. */
static void node_maybe_destroy(struct registry *reg, struct node *n)
{
	if (n->nlink == 0 && n->nlookup == 0 && n->nopen == 0 && n != reg->root)
		node_destroy(reg, n);
}

static int node_new(struct registry *reg, mode_t mode, const struct registry_cred *cred,
		    struct node **ret)
{
	struct node *n;
	int r;

	if (reg->max_inodes && reg->inodes.count >= reg->max_inodes)
		return -ENOSPC;
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->mode = mode;
	n->uid = cred->uid;
	n->gid = cred->gid;
	now(&n->ctime);
	n->atime = n->mtime = n->ctime;
	if (S_ISDIR(mode)) {
		r = hmap_init(&n->entries);
		if (r < 0)
			goto err_free;
		n->next_seq = DIRENT_FIRST_SEQ;
		n->nlink = 2;
	} else {
		r = region_new(reg->store, &n->region);
		/*
		 * Each region holds a backing fd in the daemon: running out of
		 * fds is "no room for another region", not the client's EMFILE.
		 */
		if (r == -EMFILE || r == -ENFILE) {
			log_debug("no fd left for a new region: %s", strerror(-r));
			r = -ENOSPC;
		}
		if (r < 0)
			goto err_free;
		n->nlink = 1;
	}
	n->ino = reg->next_ino++;
	hmap_insert(&reg->inodes, &n->ino_hn, hmap_hash_u64(n->ino));
	*ret = n;
	return 0;

err_free:
	free(n);
	return r;
}

static void fill_stat(struct node *n, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = n->ino;
	st->st_mode = n->mode;
	st->st_nlink = n->nlink;
	st->st_uid = n->uid;
	st->st_gid = n->gid;
	st->st_blksize = RFS_PAGE_SIZE;
	if (n->region) {
		struct stat bst;

		/*
		 * Size, blocks and times come from the backing file, never a
		 * cached copy: with passthrough, clients write to it directly.
		 */
		if (region_stat(n->region, &bst) == 0) {
			st->st_size = bst.st_size;
			st->st_blocks = bst.st_blocks;
			st->st_atim = bst.st_atim;
			st->st_mtim = bst.st_mtim;
			st->st_ctim = bst.st_ctim;
		}
		if (n->ctime.tv_sec > st->st_ctim.tv_sec ||
		    (n->ctime.tv_sec == st->st_ctim.tv_sec && n->ctime.tv_nsec > st->st_ctim.tv_nsec))
			st->st_ctim = n->ctime;
	} else {
		st->st_size = (off_t)((n->entries.count + 2) * BOGO_DIRENT_SIZE);
		st->st_atim = n->atime;
		st->st_mtim = n->mtime;
		st->st_ctim = n->ctime;
	}
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
	reg->max_inodes = cfg->max_inodes;
	reg->cookie_release = cfg->cookie_release;
	reg->cookie_ctx = cfg->cookie_ctx;
	reg->next_ino = REGISTRY_ROOT_INO;
	r = hmap_init(&reg->inodes);
	if (r < 0)
		goto err_free;
	r = node_new(reg, S_IFDIR | (cfg->root_mode & 07777), &cred, &reg->root);
	if (r < 0)
		goto err_hmap;
	reg->root->parent = reg->root;
	pthread_mutex_init(&reg->lock, NULL);
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
	size_t i;

	if (!reg)
		return;
	/* Removing a node never resizes the table, so bucket indices stay valid. */
	for (i = 0; i <= reg->inodes.mask; i++)
		while (reg->inodes.buckets[i])
			node_destroy(reg, container_of(reg->inodes.buckets[i], struct node, ino_hn));
	hmap_destroy(&reg->inodes);
	pthread_mutex_destroy(&reg->lock);
	free(reg);
}

int registry_getattr(struct registry *reg, uint64_t ino, struct stat *ret)
{
	struct node *n;
	int r = -ENOENT;

	pthread_mutex_lock(&reg->lock);
	n = node_get(reg, ino);
	if (n) {
		fill_stat(n, ret);
		r = 0;
	}
	pthread_mutex_unlock(&reg->lock);
	return r;
}

int registry_lookup(struct registry *reg, uint64_t parent, const char *name, struct stat *ret)
{
	struct node *dir;
	struct dentry *d;
	size_t len;
	int r;

	r = check_name(name, &len);
	if (r < 0)
		return r;
	pthread_mutex_lock(&reg->lock);
	r = dir_get(reg, parent, &dir);
	if (r < 0)
		goto out_unlock;
	d = dentry_find(dir, name, len);
	if (!d) {
		r = -ENOENT;
		goto out_unlock;
	}
	d->node->nlookup++;
	fill_stat(d->node, ret);
out_unlock:
	pthread_mutex_unlock(&reg->lock);
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
	pthread_mutex_unlock(&reg->lock);
}

/* Shared by create and mkdir: a new node named name in parent. */
static int make_node(struct registry *reg, uint64_t parent, const char *name, mode_t mode,
		     const struct registry_cred *cred, struct stat *ret)
{
	struct node *dir, *n;
	size_t len;
	int r;

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
	r = node_new(reg, mode, cred, &n);
	if (r < 0)
		goto out_unlock;
	if (dir->mode & S_ISGID) {
		/* BSD group semantics of a setgid directory, as every Linux fs. */
		n->gid = dir->gid;
		if (is_dir(n))
			n->mode |= S_ISGID;
	}
	r = dentry_add(dir, name, len, n);
	if (r < 0) {
		n->nlink = 0;
		node_destroy(reg, n);
		goto out_unlock;
	}
	if (is_dir(n)) {
		n->parent = dir;
		dir->nlink++;
	}
	dir_touch(dir);
	n->nlookup++;
	fill_stat(n, ret);
	log_debug("created %s inode %llu in %llu", name, (unsigned long long)n->ino,
		  (unsigned long long)parent);
out_unlock:
	pthread_mutex_unlock(&reg->lock);
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
	if (is_dir(n)) {
		n->nlink = 0;
		dir->nlink--;
		/* The old parent may be freed before this orphan: point nowhere. */
		n->parent = n;
	} else {
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
	r = dir_get(reg, parent, &dir);
	if (r < 0)
		goto out_unlock;
	d = dentry_find(dir, name, len);
	if (!d) {
		r = -ENOENT;
		goto out_unlock;
	}
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
	drop_name(reg, dir, d);
	dir_touch(dir);
out_unlock:
	pthread_mutex_unlock(&reg->lock);
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
	r = dir_get(reg, parent, &dir);
	if (r < 0)
		goto out_unlock;
	r = dir_get(reg, newparent, &ndir);
	if (r < 0)
		goto out_unlock;
	d = dentry_find(dir, name, len);
	if (!d) {
		r = -ENOENT;
		goto out_unlock;
	}
	n = d->node;
	nd = dentry_find(ndir, newname, nlen);

	if (flags & RENAME_EXCHANGE) {
		if (!nd) {
			r = -ENOENT;
			goto out_unlock;
		}
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
	r = dentry_add(ndir, newname, nlen, n);
	if (r < 0)
		goto out_unlock;
	if (nd)
		drop_name(reg, ndir, nd);
	dentry_del(dir, d);
	move_dir_parent(n, dir, ndir);
	now(&n->ctime);
	dir_touch(dir);
	dir_touch(ndir);
out_unlock:
	pthread_mutex_unlock(&reg->lock);
	return r;
}

int registry_link(struct registry *reg, uint64_t ino, uint64_t newparent, const char *newname,
		  struct stat *ret)
{
	struct node *n, *ndir;
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
	if (n->nlink >= UINT32_MAX) {
		r = -EMLINK;
		goto out_unlock;
	}
	r = dentry_add(ndir, newname, len, n);
	if (r < 0)
		goto out_unlock;
	n->nlink++;
	n->nlookup++;
	now(&n->ctime);
	dir_touch(ndir);
	fill_stat(n, ret);
out_unlock:
	pthread_mutex_unlock(&reg->lock);
	return r;
}

int registry_setattr(struct registry *reg, uint64_t ino, const struct registry_setattr *sa,
		     struct stat *ret)
{
	struct timespec t[2] = { { .tv_nsec = UTIME_OMIT }, { .tv_nsec = UTIME_OMIT } };
	struct node *n;
	int r = 0;

	pthread_mutex_lock(&reg->lock);
	n = node_get(reg, ino);
	if (!n) {
		r = -ENOENT;
		goto out_unlock;
	}
	/* The size first: it is the only change that can fail. */
	if (sa->valid & REGISTRY_SET_SIZE) {
		if (!n->region) {
			r = -EISDIR;
			goto out_unlock;
		}
		r = region_resize(n->region, sa->size);
		if (r < 0)
			goto out_unlock;
	}
	if (sa->valid & REGISTRY_SET_MODE)
		n->mode = (n->mode & S_IFMT) | (sa->mode & 07777);
	if (sa->valid & REGISTRY_SET_UID)
		n->uid = sa->uid;
	if (sa->valid & REGISTRY_SET_GID)
		n->gid = sa->gid;
	if (sa->valid & REGISTRY_SET_ATIME)
		t[0] = sa->atime;
	if (sa->valid & REGISTRY_SET_MTIME)
		t[1] = sa->mtime;
	if (sa->valid & (REGISTRY_SET_ATIME | REGISTRY_SET_MTIME)) {
		if (n->region) {
			r = region_set_times(n->region, t);
			if (r < 0)
				goto out_unlock;
		} else {
			struct timespec cur;

			now(&cur);
			if (t[0].tv_nsec != UTIME_OMIT)
				n->atime = t[0].tv_nsec == UTIME_NOW ? cur : t[0];
			if (t[1].tv_nsec != UTIME_OMIT)
				n->mtime = t[1].tv_nsec == UTIME_NOW ? cur : t[1];
		}
	}
	if (sa->valid)
		now(&n->ctime);
	fill_stat(n, ret);
out_unlock:
	pthread_mutex_unlock(&reg->lock);
	return r;
}

static int region_of(struct registry *reg, uint64_t ino, struct node **ret)
{
	struct node *n = node_get(reg, ino);

	if (!n)
		return -ENOENT;
	if (!n->region)
		return -EISDIR;
	*ret = n;
	return 0;
}

int registry_open(struct registry *reg, uint64_t ino, struct region **ret, bool *ret_first)
{
	struct node *n;
	int r;

	pthread_mutex_lock(&reg->lock);
	r = region_of(reg, ino, &n);
	if (r == 0) {
		if (ret_first)
			*ret_first = n->nopen == 0;
		n->nopen++;
		*ret = n->region;
	}
	pthread_mutex_unlock(&reg->lock);
	return r;
}

void registry_release(struct registry *reg, uint64_t ino)
{
	struct node *n;

	pthread_mutex_lock(&reg->lock);
	n = node_get(reg, ino);
	if (n && n->nopen) {
		n->nopen--;
		node_maybe_destroy(reg, n);
	}
	pthread_mutex_unlock(&reg->lock);
}

int registry_cookie(struct registry *reg, uint64_t ino, uint64_t *ret)
{
	struct node *n;
	int r;

	pthread_mutex_lock(&reg->lock);
	r = region_of(reg, ino, &n);
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
	r = region_of(reg, ino, &n);
	if (r == 0) {
		if (!n->cookie)
			n->cookie = cookie;
		*ret = n->cookie;
	}
	pthread_mutex_unlock(&reg->lock);
	return r;
}

int registry_bind(struct registry *reg, uint64_t ino, int fd, const char *path, uint64_t cookie)
{
	struct node *n;
	int r;

	pthread_mutex_lock(&reg->lock);
	r = region_of(reg, ino, &n);
	if (r < 0)
		goto out_unlock;
	/* Open files (mappings included) use the current backing file. */
	if (n->nopen) {
		r = -EBUSY;
		goto out_unlock;
	}
	r = region_bind_file(n->region, fd, path);
	if (r < 0)
		goto out_unlock;
	if (n->cookie && reg->cookie_release)
		reg->cookie_release(reg->cookie_ctx, n->cookie);
	n->cookie = cookie;
	now(&n->ctime);
	log_debug("inode %llu bound to %s", (unsigned long long)ino, path);
out_unlock:
	pthread_mutex_unlock(&reg->lock);
	return r;
}

ssize_t registry_backing_path(struct registry *reg, uint64_t ino, char *buf, size_t size)
{
	const char *path;
	struct node *n;
	ssize_t r;
	size_t len;

	pthread_mutex_lock(&reg->lock);
	r = region_of(reg, ino, &n);
	if (r < 0)
		goto out_unlock;
	path = region_backing_path(n->region);
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
	r = region_of(reg, ino, &n);
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
		return dir->head;
	if (off == dir->cursor_off)
		return dir->cursor_entry ? dir->cursor_entry->next : dir->head;
	for (d = dir->head; d && d->seq <= off; d = d->next)
		;
	return d;
}

int registry_readdir(struct registry *reg, uint64_t ino, uint64_t off, bool want_attr,
		     registry_fill_fn fill, void *ctx)
{
	struct node *dir;
	struct dentry *d;
	struct stat st;
	int r;

	pthread_mutex_lock(&reg->lock);
	/* A removed directory reads as ENOENT, as getdents(2) says on Linux. */
	r = dir_get(reg, ino, &dir);
	if (r < 0)
		goto out_unlock;
	if (off < 1) {
		fill_stat(dir, &st);
		if (fill(ctx, ".", &st, 1))
			goto out_unlock;
		off = 1;
	}
	if (off < 2) {
		fill_stat(dir->parent, &st);
		if (fill(ctx, "..", &st, 2))
			goto out_unlock;
		off = 2;
	}
	for (d = dir_seek(dir, off); d; d = d->next) {
		fill_stat(d->node, &st);
		if (fill(ctx, d->name, &st, d->seq))
			break;
		if (want_attr)
			d->node->nlookup++;
		dir->cursor_off = d->seq;
		dir->cursor_entry = d;
	}
out_unlock:
	pthread_mutex_unlock(&reg->lock);
	return r;
}

/* The xattr calls: node lookup under the lock, then the list operation. */
static struct node *lock_node(struct registry *reg, uint64_t ino)
{
	struct node *n;

	pthread_mutex_lock(&reg->lock);
	n = node_get(reg, ino);
	if (!n)
		pthread_mutex_unlock(&reg->lock);
	return n;
}

int registry_setxattr(struct registry *reg, uint64_t ino, const char *name, const void *value,
		      size_t size, int flags)
{
	struct node *n = lock_node(reg, ino);
	int r;

	if (!n)
		return -ENOENT;
	r = xattr_set(&n->xattrs, name, value, size, flags);
	if (r == 0)
		now(&n->ctime);
	pthread_mutex_unlock(&reg->lock);
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
	struct node *n = lock_node(reg, ino);
	int r;

	if (!n)
		return -ENOENT;
	r = xattr_remove(&n->xattrs, name);
	if (r == 0)
		now(&n->ctime);
	pthread_mutex_unlock(&reg->lock);
	return r;
}

void registry_inodes(struct registry *reg, uint64_t *ret_used, uint64_t *ret_max)
{
	pthread_mutex_lock(&reg->lock);
	*ret_used = reg->inodes.count;
	*ret_max = reg->max_inodes;
	pthread_mutex_unlock(&reg->lock);
}
