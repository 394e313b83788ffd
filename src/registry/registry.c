/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "registry/registry.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/xattr.h>

#include "common/hmap.h"
#include "common/log.h"
#include "common/macros.h"
#include "registry/persist.h"
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
	/*
	 * A binding loaded from the store that could not be re-opened: its
	 * path (the region itself is empty and never serves data: opening
	 * it retries the binding, see rebind()). NULL otherwise.
	 */
	char *unbound;
	/*
	 * With a persistent store: a directory's store directory; a bound
	 * region's placeholder file. -1 otherwise (an anonymous region's
	 * store file is its region fd).
	 */
	int pfd;

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
	/*
	 * Names of regions past their first. Each counts as an inode against
	 * max_inodes, as tmpfs charges a hard link (a name is memory the daemon
	 * keeps until it is removed, like a node).
	 */
	uint64_t links;
	struct node *root;
	void (*cookie_release)(void *ctx, uint64_t cookie);
	void *cookie_ctx;
	int (*open_binding)(void *ctx, const char *region, const char *path, uid_t uid, gid_t gid,
			    int *ret_fd);
	void *open_binding_ctx;
	struct persist *persist; /* NULL: memory only */
	/* Nodes freed since the last malloc_trim(), and whether one is due. */
	uint64_t frees;
	bool trim_due;
};

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

/* Nodes and extra names: what max_inodes bounds. */
static uint64_t inodes_in_use(const struct registry *reg)
{
	return reg->inodes.count + reg->links;
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

/* Give back what the data path attached to a region (a backing id). */
static void node_release_cookie(struct registry *reg, struct node *n)
{
	if (n->cookie && reg->cookie_release)
		reg->cookie_release(reg->cookie_ctx, n->cookie);
	n->cookie = 0;
}

static void node_destroy(struct registry *reg, struct node *n)
{
	hmap_remove(&reg->inodes, &n->ino_hn);
	if (!is_dir(n) && n->nlink > 1)
		reg->links -= n->nlink - 1; /* registry_free() */
	if (n->xattrs.cost)
		store_charge_meta(reg->store, -(int64_t)n->xattrs.cost);
	xattr_clear(&n->xattrs);
	node_release_cookie(reg, n);
	free(n->unbound);
	if (n->region)
		region_free(n->region);
	if (n->pfd >= 0)
		close(n->pfd);
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
	if (n->nlink == 0 && n->nlookup == 0 && n->nopen == 0 && n != reg->root) {
		node_destroy(reg, n);
		hmap_shrink(&reg->inodes);
		reg->frees++;
		if (reg->frees >= TRIM_EVERY_FREES ||
		    (reg->frees >= TRIM_MIN_FREES && reg->inodes.count < reg->frees)) {
			reg->trim_due = true;
			reg->frees = 0;
		}
	}
}

/* Unlock after a call that may have freed nodes: trim if it is time. */
static void unlock_and_trim(struct registry *reg)
{
	bool trim = reg->trim_due;

	reg->trim_due = false;
	pthread_mutex_unlock(&reg->lock);
	if (trim)
		malloc_trim(0);
}

/*
 * A new node. A region adopts fd (a store file) when fd >= 0, else gets a
 * new region; a directory keeps fd as its store directory (-1: none).
 * fd is taken on success only.
 */
static int node_new(struct registry *reg, mode_t mode, uid_t uid, gid_t gid, int fd,
		    struct node **ret)
{
	struct node *n;
	int r;

	if (reg->max_inodes && inodes_in_use(reg) >= reg->max_inodes)
		return -ENOSPC;
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->mode = mode;
	n->uid = uid;
	n->gid = gid;
	n->pfd = -1;
	now(&n->ctime);
	n->atime = n->mtime = n->ctime;
	if (S_ISDIR(mode)) {
		r = hmap_init(&n->entries);
		if (r < 0)
			goto err_free;
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
	n->ino = reg->next_ino++;
	hmap_insert(&reg->inodes, &n->ino_hn, hmap_hash_u64(n->ino));
	*ret = n;
	return 0;

err_free:
	free(n);
	return r;
}

/*
 * The fd that carries a node's metadata in the persistent store: for a
 * region without one of its own, its backing fd, pinned until
 * node_pfd_put(n, fd) (which ignores a failed get's fd < 0).
 */
static int node_pfd_get(const struct node *n)
{
	if (is_dir(n) || n->pfd >= 0)
		return n->pfd;
	return region_fd_get(n->region);
}

static void node_pfd_put(const struct node *n, int fd)
{
	if (fd >= 0 && !is_dir(n) && n->pfd < 0)
		region_fd_put(n->region);
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
	reg->open_binding = cfg->open_binding;
	reg->open_binding_ctx = cfg->open_binding_ctx;
	reg->next_ino = REGISTRY_ROOT_INO;
	r = hmap_init(&reg->inodes);
	if (r < 0)
		goto err_free;
	r = node_new(reg, S_IFDIR | (cfg->root_mode & 07777), cred.uid, cred.gid, -1, &reg->root);
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
	persist_close(reg->persist);
	pthread_mutex_destroy(&reg->lock);
	free(reg);
}

/*
 * Try an unbound region's binding again, as its owner, without the
 * registry lock (the open walks a user's path; other requests go on).
 * 0 when the region is bound now (by us or by a racing retry) or was
 * never unbound, -ENXIO when the file still cannot be had.
 */
static int rebind(struct registry *reg, uint64_t ino)
{
	struct node *n;
	char *path = NULL;
	int fd = -1, r = 0;
	uid_t uid = 0;
	gid_t gid = 0;

	pthread_mutex_lock(&reg->lock);
	n = node_get(reg, ino);
	if (n && n->unbound) {
		path = strdup(n->unbound);
		uid = n->uid;
		gid = n->gid;
		r = path ? 0 : -ENOMEM;
	}
	pthread_mutex_unlock(&reg->lock);
	if (!path)
		return r;
	r = reg->open_binding ? reg->open_binding(reg->open_binding_ctx, NULL, path, uid, gid, &fd)
			      : -ENXIO;
	if (r < 0) {
		log_debug("inode %llu: binding %s still cannot be re-opened: %s",
			  (unsigned long long)ino, path, strerror(-r));
		free(path);
		return -ENXIO;
	}
	pthread_mutex_lock(&reg->lock);
	n = node_get(reg, ino);
	if (n && n->unbound && strcmp(n->unbound, path) == 0) {
		r = region_bind_file(n->region, fd, path, uid, gid);
		if (r == 0) {
			fd = -1;
			free(n->unbound);
			n->unbound = NULL;
			log_debug("inode %llu bound to %s again", (unsigned long long)ino, path);
		}
	}
	pthread_mutex_unlock(&reg->lock);
	if (fd >= 0)
		close(fd);
	free(path);
	return r < 0 ? -ENXIO : 0;
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
	bool retried = false;
	struct node *dir;
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
	unlock_and_trim(reg);
}

/* Shared by create and mkdir: a new node named name in parent. */
static int make_node(struct registry *reg, uint64_t parent, const char *name, mode_t mode,
		     const struct registry_cred *cred, struct stat *ret)
{
	struct node *dir, *n;
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
	if (reg->persist) {
		/* The store first: if it says no, nothing changed. */
		r = S_ISDIR(mode) ? persist_mkdir(reg->persist, dir->pfd, name, mode, uid, gid, &fd)
				  : persist_create(reg->persist, dir->pfd, name, mode, uid, gid, &fd);
		if (r < 0)
			goto out_enospc;
		/* A directory keeps its fd: never into the reserve, nor the load's slack. */
		if (S_ISDIR(mode)) {
			fd = store_fd_keep(reg->store, fd, STORE_FD_KEEP_SLACK);
			if (fd < 0) {
				r = fd;
				persist_rmdir(dir->pfd, name);
				goto out_enospc;
			}
		}
	}
	r = node_new(reg, mode, uid, gid, fd, &n);
	if (r == 0) {
		r = dentry_add(dir, name, len, n);
		if (r < 0) {
			n->nlink = 0;
			node_destroy(reg, n); /* closes fd */
			fd = -1;
		}
	}
	if (r < 0) {
		if (fd >= 0) {
			(S_ISDIR(mode) ? persist_rmdir : persist_unlink)(dir->pfd, name);
			close(fd);
		} else if (reg->persist) {
			(S_ISDIR(mode) ? persist_rmdir : persist_unlink)(dir->pfd, name);
		}
		goto out_enospc;
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
	if (reg->persist) {
		/* An open region's store file lives on without a name until we
		 * close it (or crash): nothing to keep elsewhere. */
		r = want_dir ? persist_rmdir(dir->pfd, name) : persist_unlink(dir->pfd, name);
		if (r < 0)
			goto out_unlock;
	}
	drop_name(reg, dir, d);
	dir_touch(dir);
out_unlock:
	unlock_and_trim(reg);
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
		if (reg->persist) {
			r = persist_rename(dir->pfd, name, ndir->pfd, newname, flags);
			if (r < 0)
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
	if (reg->persist) {
		r = persist_rename(dir->pfd, name, ndir->pfd, newname, flags);
		if (r < 0) {
			dentry_del(ndir, ndir->tail); /* the entry just added */
			goto out_unlock;
		}
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
	unlock_and_trim(reg);
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
	/* A hard link costs an inode, as on tmpfs (EMLINK: FUSE's nlink is 32 bits). */
	if (n->nlink && reg->max_inodes && inodes_in_use(reg) >= reg->max_inodes) {
		r = -ENOSPC;
		goto out_unlock;
	}
	if (n->nlink >= UINT32_MAX) {
		r = -EMLINK;
		goto out_unlock;
	}
	if (reg->persist) {
		int fd = node_pfd_get(n);

		r = fd < 0 ? fd : persist_link(fd, ndir->pfd, newname);
		node_pfd_put(n, fd);
		if (r < 0)
			goto out_unlock;
	}
	r = dentry_add(ndir, newname, len, n);
	if (r < 0) {
		if (reg->persist)
			persist_unlink(ndir->pfd, newname);
		goto out_unlock;
	}
	if (n->nlink)
		reg->links++;
	n->nlink++;
	n->nlookup++;
	now(&n->ctime);
	dir_touch(ndir);
	fill_stat(n, ret);
out_unlock:
	pthread_mutex_unlock(&reg->lock);
	return r;
}

/* Owner, mode and (directories') times on the node's store file. Region
 * times live in the region's own file already. */
static int persist_attrs(const struct node *n, const struct registry_setattr *sa)
{
	int fd = node_pfd_get(n), r = 0;

	if (fd < 0)
		return fd;
	if ((sa->valid & (REGISTRY_SET_UID | REGISTRY_SET_GID)) &&
	    fchown(fd, sa->valid & REGISTRY_SET_UID ? sa->uid : (uid_t)-1,
		   sa->valid & REGISTRY_SET_GID ? sa->gid : (gid_t)-1) < 0) {
		r = -errno;
		goto out_put;
	}
	/* After chown, which clears set-id bits: the mode the node will have. */
	if ((sa->valid & (REGISTRY_SET_MODE | REGISTRY_SET_UID | REGISTRY_SET_GID)) &&
	    fchmod(fd, (sa->valid & REGISTRY_SET_MODE ? sa->mode : n->mode) & 07777) < 0) {
		r = -errno;
		goto out_put;
	}
	if (is_dir(n) && (sa->valid & (REGISTRY_SET_ATIME | REGISTRY_SET_MTIME))) {
		struct timespec t[2] = {
			sa->valid & REGISTRY_SET_ATIME ? sa->atime
						       : (struct timespec){ .tv_nsec = UTIME_OMIT },
			sa->valid & REGISTRY_SET_MTIME ? sa->mtime
						       : (struct timespec){ .tv_nsec = UTIME_OMIT },
		};

		if (futimens(fd, t) < 0)
			r = -errno;
	}
out_put:
	node_pfd_put(n, fd);
	return r;
}

int registry_setattr(struct registry *reg, uint64_t ino, const struct registry_setattr *sa,
		     struct stat *ret)
{
	struct timespec t[2] = { { .tv_nsec = UTIME_OMIT }, { .tv_nsec = UTIME_OMIT } };
	struct registry_setattr killed;
	bool retried = false;
	struct node *n;
	int r = 0;

again:
	pthread_mutex_lock(&reg->lock);
	n = node_get(reg, ino);
	if (!n) {
		r = -ENOENT;
		goto out_unlock;
	}
	if (sa->valid & (REGISTRY_KILL_SUID | REGISTRY_KILL_SGID)) {
		/* Under the lock: the bits of the mode as it is now, not as the caller saw it. */
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
	/* The size first: it is the only change that can fail. */
	if (sa->valid & REGISTRY_SET_SIZE) {
		if (!n->region) {
			r = -EISDIR;
			goto out_unlock;
		}
		if (n->unbound) {
			/* Not the empty stand-in's size: the file's, once it is back. */
			pthread_mutex_unlock(&reg->lock);
			if (retried || rebind(reg, ino) < 0)
				return -ENXIO;
			retried = true;
			goto again;
		}
		r = region_resize(n->region, sa->size);
		if (r < 0)
			goto out_unlock;
	}
	if (reg->persist) {
		r = persist_attrs(n, sa);
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

int registry_open(struct registry *reg, uint64_t ino, struct region **ret)
{
	bool retried = false;
	struct node *n;
	int r;

again:
	pthread_mutex_lock(&reg->lock);
	r = region_of(reg, ino, &n);
	if (r == 0 && n->unbound) {
		pthread_mutex_unlock(&reg->lock);
		if (retried || rebind(reg, ino) < 0)
			return -ENXIO;
		retried = true;
		goto again;
	}
	if (r == 0) {
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
	unlock_and_trim(reg);
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

int registry_bind(struct registry *reg, uint64_t ino, int fd, const char *path,
		  const struct registry_cred *binder, uint64_t cookie, bool count_opens)
{
	struct node *n;
	int meta = -1, r;

	pthread_mutex_lock(&reg->lock);
	r = region_of(reg, ino, &n);
	if (r < 0)
		goto out_unlock;
	/* Before the busy probe: our new fd of the same file would count as a user. */
	if (region_backing_path(n->region) || n->unbound) {
		r = -EEXIST;
		goto out_unlock;
	}
	/* Open files and mappings use the current backing file. */
	if (count_opens) {
		r = n->nopen ? -EBUSY : 0;
	} else {
		r = region_check_unshared(n->region);
		/*
		 * A backing id keeps the file description it was registered
		 * with. Once the store's fd cache has closed and reopened the
		 * region's fd, that is a second writer the lease probe takes
		 * for a user: give the id back (the next open registers the
		 * file again) and ask once more. Only with no file open: the
		 * kernel keeps an open file's backing until its last close and
		 * refuses a second one for the inode (an open would fail).
		 */
		if (r == -EBUSY && n->cookie && n->nopen == 0) {
			node_release_cookie(reg, n);
			r = region_check_unshared(n->region);
		}
	}
	if (r < 0)
		goto out_unlock;
	if (reg->persist) {
		int store_fd = region_fd_get(n->region);

		/* The store file becomes the placeholder that records the binding. */
		if (store_fd < 0) {
			r = store_fd;
			goto out_close;
		}
		meta = dup(store_fd);
		r = meta < 0 ? -errno : 0;
		region_fd_put(n->region);
		if (r == 0 && fsetxattr(meta, PERSIST_BACKING_XATTR, path, strlen(path), 0) < 0)
			r = -errno;
		if (r < 0)
			goto out_close;
	}
	r = region_bind_file(n->region, fd, path, binder->uid, binder->gid);
	if (r < 0) {
		if (meta >= 0)
			fremovexattr(meta, PERSIST_BACKING_XATTR);
		goto out_close;
	}
	n->pfd = meta;
	meta = -1;
	node_release_cookie(reg, n);
	n->cookie = cookie;
	now(&n->ctime);
	log_debug("inode %llu bound to %s", (unsigned long long)ino, path);
out_close:
	if (meta >= 0)
		close(meta);
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
	path = n->unbound ? n->unbound : region_backing_path(n->region);
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
		if (fill(ctx, ".", &st, 1, 0))
			goto out_unlock;
		off = 1;
	}
	if (off < 2) {
		fill_stat(dir->parent, &st);
		if (fill(ctx, "..", &st, 2, 0))
			goto out_unlock;
		off = 2;
	}
	for (d = dir_seek(dir, off); d; d = d->next) {
		fill_stat(d->node, &st);
		if (fill(ctx, d->name, &st, d->seq,
			 d->node->region && (region_backing_path(d->node->region) || d->node->unbound)
				 ? REGISTRY_ENTRY_BOUND
				 : 0))
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

/*
 * Extended attributes are memory the daemon keeps for a client: their cost
 * (xattr_cost()) is charged against the store's limit before they are
 * kept, and given back when they go (remove, a smaller value, node freed).
 */
int registry_setxattr(struct registry *reg, uint64_t ino, const char *name, const void *value,
		      size_t size, int flags)
{
	struct node *n = lock_node(reg, ino);
	ssize_t old_len, delta;
	size_t cost_before;
	int64_t charged = 0, settle;
	char *old = NULL;
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
	old_len = xattr_get(&n->xattrs, name, NULL, 0);
	if (reg->persist && old_len > 0) {
		old = malloc((size_t)old_len);
		if (!old || xattr_get(&n->xattrs, name, old, (size_t)old_len) != old_len) {
			r = -ENOMEM;
			goto out_settle;
		}
	}
	r = xattr_set(&n->xattrs, name, value, size, flags);
	if (r == 0 && reg->persist) {
		int fd = node_pfd_get(n);

		r = fd;
		if (fd >= 0)
			r = fsetxattr(fd, name, value, size, 0) < 0 ? -errno : 0;
		node_pfd_put(n, fd);
		if (r < 0) {
			/* The store refused: put the old value back, so both agree. */
			if (old_len >= 0)
				xattr_set(&n->xattrs, name, old, (size_t)old_len, 0);
			else
				xattr_remove(&n->xattrs, name, NULL);
		}
	}
	if (r == 0)
		now(&n->ctime);
out_settle:
	/* Charge what the list costs now: failed steps may have undone the change. */
	settle = (int64_t)n->xattrs.cost - (int64_t)cost_before - charged;
	if (settle < 0)
		store_charge_meta(reg->store, settle);
	else if (settle > 0)
		store_charge_meta_over(reg->store, (uint64_t)settle);
out_unlock:
	pthread_mutex_unlock(&reg->lock);
	free(old);
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
	size_t cost = 0;
	int r;

	if (!n)
		return -ENOENT;
	r = xattr_get(&n->xattrs, name, NULL, 0) < 0 ? -ENODATA : 0;
	if (r == 0 && reg->persist) {
		int fd = node_pfd_get(n);

		r = fd;
		if (fd >= 0)
			r = fremovexattr(fd, name) < 0 && errno != ENODATA ? -errno : 0;
		node_pfd_put(n, fd);
	}
	if (r == 0)
		r = xattr_remove(&n->xattrs, name, &cost);
	if (r == 0) {
		store_charge_meta(reg->store, -(int64_t)cost);
		now(&n->ctime);
	}
	pthread_mutex_unlock(&reg->lock);
	return r;
}

void registry_inodes(struct registry *reg, uint64_t *ret_used, uint64_t *ret_max)
{
	pthread_mutex_lock(&reg->lock);
	*ret_used = inodes_in_use(reg);
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
		for (d = dir->head; d; d = d->next)
			if (d->node->ino == ino)
				fn(ctx, dir->ino, d->name);
	}
	pthread_mutex_unlock(&reg->lock);
}

int registry_fsyncdir(struct registry *reg, uint64_t ino)
{
	struct node *n = lock_node(reg, ino);
	int r = 0;

	if (!n)
		return -ENOENT;
	if (reg->persist && is_dir(n) && n->pfd >= 0 && fsync(n->pfd) < 0)
		r = -errno;
	pthread_mutex_unlock(&reg->lock);
	return r;
}

/* ------------------------------------------------------------ loading a store */

static void node_set_stat(struct node *n, const struct stat *st)
{
	n->uid = st->st_uid;
	n->gid = st->st_gid;
	n->atime = st->st_atim;
	n->mtime = st->st_mtim;
	n->ctime = st->st_ctim;
}

static int load_dir(void *ctx, void *parent, const char *name, int fd, const struct stat *st,
		    void **ret_node)
{
	struct registry *reg = ctx;
	struct node *dir = parent, *n;
	int r;

	/* Within the same limit as a directory made through the mount, less its slack. */
	fd = store_fd_keep(reg->store, fd, 0);
	if (fd < 0)
		return fd;
	r = node_new(reg, S_IFDIR | (st->st_mode & 07777), st->st_uid, st->st_gid, fd, &n);
	if (r < 0) {
		close(fd);
		return r;
	}
	r = dentry_add(dir, name, strlen(name), n);
	if (r < 0) {
		n->nlink = 0;
		node_destroy(reg, n);
		return r;
	}
	node_set_stat(n, st);
	n->parent = dir;
	dir->nlink++;
	*ret_node = n;
	return 0;
}

/*
 * The path of name in dir as the mount shows it, for messages (registry
 * lock held). Directories know their parent, not their name: scanned.
 */
static void node_path(struct node *dir, const char *name, char *buf, size_t size)
{
	struct node *n = dir;
	size_t len = strlen(name) + 1;

	/* Built from the end; a path too long for buf keeps its tail. */
	if (len >= size)
		len = size - 1;
	buf[size - 1] = '\0';
	memcpy(buf + size - 1 - len, "/", 1);
	memcpy(buf + size - len, name, len - 1);
	while (n->parent != n && len < size - 1) {
		struct dentry *d;
		size_t dl;

		for (d = n->parent->head; d && d->node != n; d = d->next)
			;
		if (!d)
			break;
		dl = d->len + 1;
		if (len + dl > size - 1)
			break;
		len += dl;
		buf[size - 1 - len] = '/';
		memcpy(buf + size - len, d->name, d->len);
		n = n->parent;
	}
	memmove(buf, buf + size - 1 - len, len + 1);
}

/*
 * A bound region: a placeholder in the store (fd, kept for its metadata),
 * the data in the user's file, re-opened as the region's owner with every
 * check of a live bind (open_binding). A binding that cannot be had now
 * leaves the region unbound, not the store unloadable: one user's deleted
 * file or a file system not mounted yet must not lock everyone out.
 */
static int load_bound(struct registry *reg, struct node *dir, const char *name, int fd,
		      const char *backing, struct node *n)
{
	char where[PATH_MAX];
	int bfd = -1, r = -ENXIO;

	node_path(dir, name, where, sizeof(where));
	if (reg->open_binding)
		r = reg->open_binding(reg->open_binding_ctx, where, backing, n->uid, n->gid, &bfd);
	if (r == 0) {
		r = region_bind_file(n->region, bfd, backing, n->uid, n->gid);
		if (r < 0)
			close(bfd);
	}
	if (r < 0) {
		n->unbound = strdup(backing);
		if (!n->unbound)
			return -ENOMEM;
	}
	n->pfd = fd;
	return 0;
}

static int load_file(void *ctx, void *parent, const char *name, int fd, const struct stat *st,
		     const char *backing, void *node, void **ret_node)
{
	struct registry *reg = ctx;
	struct node *dir = parent, *n = node;
	int r;

	if (n) {
		/* Another name of a region already loaded: a hard link. */
		r = dentry_add(dir, name, strlen(name), n);
		if (r == 0) {
			n->nlink++;
			reg->links++;
		}
		*ret_node = n;
		return r;
	}
	r = node_new(reg, S_IFREG | (st->st_mode & 07777), st->st_uid, st->st_gid,
		     backing ? -1 : fd, &n);
	if (r < 0) {
		close(fd);
		return r == -EMFILE || r == -ENFILE ? -ENOSPC : r;
	}
	if (backing) {
		r = load_bound(reg, dir, name, fd, backing, n);
		if (r < 0) {
			close(fd);
			goto err_destroy;
		}
	}
	r = dentry_add(dir, name, strlen(name), n);
	if (r < 0)
		goto err_destroy;
	node_set_stat(n, st);
	*ret_node = n;
	return 0;

err_destroy:
	n->nlink = 0;
	node_destroy(reg, n);
	return r;
}

static int load_xattr(void *ctx, void *node, const char *name, const void *value, size_t size)
{
	struct registry *reg = ctx;
	struct node *n = node;
	size_t cost_before = n->xattrs.cost;
	int r = xattr_set(&n->xattrs, name, value, size, 0);

	/* Charged even past the limit: what the store holds is the user's. */
	if (r == 0 && n->xattrs.cost > cost_before)
		store_charge_meta_over(reg->store, n->xattrs.cost - cost_before);
	return r;
}

int registry_load(struct registry *reg, const char *dir, char *err, size_t errlen)
{
	static const struct persist_visitor visitor = {
		.dir = load_dir,
		.file = load_file,
		.xattr = load_xattr,
	};
	struct persist_visitor v = visitor;
	struct stat st;
	int rootfd, r;

	err[0] = '\0';
	r = persist_open(dir, &reg->persist, err, errlen);
	if (r < 0)
		return r;
	r = persist_root(reg->persist, &rootfd);
	if (r < 0) {
		snprintf(err, errlen, "store %s/root: %s", dir, strerror(-r));
		return r;
	}
	reg->root->pfd = rootfd;
	if (fstat(rootfd, &st) < 0) {
		r = -errno;
		snprintf(err, errlen, "store %s/root: %s", dir, strerror(errno));
		return r;
	}
	if (persist_created(reg->persist)) {
		/* A new store: the root as the options say. */
		struct registry_setattr sa = {
			.valid = REGISTRY_SET_MODE | REGISTRY_SET_UID | REGISTRY_SET_GID,
			.mode = reg->root->mode & 07777,
			.uid = reg->root->uid,
			.gid = reg->root->gid,
		};

		r = persist_attrs(reg->root, &sa);
		if (r < 0) {
			snprintf(err, errlen, "store %s/root: %s", dir, strerror(-r));
			return r;
		}
	} else {
		reg->root->mode = S_IFDIR | (st.st_mode & 07777);
		node_set_stat(reg->root, &st);
	}
	v.ctx = reg;
	pthread_mutex_lock(&reg->lock);
	r = persist_walk(reg->persist, rootfd, reg->root, &v, err, errlen);
	pthread_mutex_unlock(&reg->lock);
	if (r == -ENOSPC && reg->max_inodes && inodes_in_use(reg) >= reg->max_inodes)
		snprintf(err, errlen, "store %s holds more than nr_inodes=%llu regions, "
			 "directories and hard links", dir, (unsigned long long)reg->max_inodes);
	if (r == 0)
		log_debug("store %s: %zu regions and directories loaded", dir, reg->inodes.count);
	return r;
}
