/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Internal to registry/: the namespace's structures, shared by registry.c
 * (the namespace) and load.c (the loader of a persistent store). The
 * registry lock protects everything here unless a field says otherwise
 * (the locks and their order: registry.h); the loader runs before anything
 * else can reach the registry.
 */
#ifndef RFS_REGISTRY_REGISTRY_IMPL_H
#define RFS_REGISTRY_REGISTRY_IMPL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include "common/hmap.h"
#include "common/list.h"
#include "common/macros.h"
#include "region/region.h"
#include "registry/journal.h"
#include "registry/registry.h"
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
	uint64_t nwrite;  /* of those, open for writing (registry_open_flags(): seals) */
	struct timespec atime, mtime, ctime; /* regions: only ctime is used (metadata changes) */
	struct xattr_list xattrs;
	struct region *region; /* regions only */
	uint64_t cookie;       /* the data-path layer's, see registry_attach_cookie() */
	struct registry_creator creator; /* regions made by registry_create(); pid 0: none */
	uint8_t lifetime; /* enum registry_lifetime (registry/lifetime.h) */
	bool expiring;    /* registry/lifetime.c, under the lock only: names to remove */
	uint64_t opens;   /* regions: opens so far (registry_expire_idle()) */
	/* A region bound to a user's file (region_bind_file() done, see registry_bind()). */
	bool bound;
	/* registry_bind() or registry_add_seals() is at work: opens wait for it on reg->bound_cv. */
	bool binding;
	/*
	 * A binding loaded from the store that could not be re-opened: its
	 * path (the region itself is empty and never serves data: opening
	 * it retries the binding, see rebind()). NULL otherwise.
	 */
	char *unbound;
	/*
	 * The journal's handle (journal.h): with a persistent store, a
	 * directory's store directory or a bound region's placeholder file;
	 * -1 otherwise (an anonymous region's store file is its region fd).
	 */
	int pfd;
	/*
	 * References: one for the namespace while the node is in reg->inodes,
	 * one per thread that works on the node without the registry lock
	 * (node_pin(), under the lock). Changed with atomics only; whoever
	 * drops the last one frees the node (never under the registry lock
	 * when it can be helped: freeing a region may wait for the store).
	 */
	unsigned refs;
	/*
	 * The node's I/O lock: serializes the slow changes of one node that
	 * run without the registry lock (setattr, bind, a retried binding,
	 * xattr changes, adding seals), so that they see each other whole. Held, it makes
	 * mode, uid, gid, pfd, bound, unbound and the xattrs stable: every
	 * writer of those holds it (and the registry lock as well, for the
	 * readers that hold only that). Not the times: a directory's move
	 * with its entries, under the registry lock only.
	 */
	pthread_mutex_t io;
	struct node *next_dead; /* on reg->dead, freed once the registry lock is released */

	/* Directories only. */
	struct node *parent;
	struct hmap entries; /* name -> dentry */
	struct list_node dentries; /* struct dentry.link, creation order, seq increasing */
	uint64_t next_seq;
	/*
	 * Readdir resume hint: cursor_entry is the last entry whose seq is <=
	 * cursor_off (NULL: none, start at the first). A stream that asks for
	 * cursor_off again continues in O(1) instead of scanning from the head.
	 */
	uint64_t cursor_off;
	struct dentry *cursor_entry;
};

struct dentry {
	struct hmap_node hn;
	struct list_node link; /* in its directory's dentries */
	uint64_t seq;
	struct node *node;
	size_t len;
	char name[];
};

struct registry {
	pthread_mutex_t lock;
	pthread_cond_t bound_cv; /* with lock: a node's binding flag went down */
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
	struct journal *journal; /* never NULL: &journal_none for memory only */
	/* Nodes out of the namespace whose last reference is gone, to free after unlocking. */
	struct node *dead;
	/* Nodes freed since the last malloc_trim(), and whether one is due. */
	uint64_t frees;
	bool trim_due;
};

/* Nodes and extra names: what max_inodes bounds. */
static inline uint64_t registry_inodes_in_use(const struct registry *reg)
{
	return reg->inodes.count + reg->links;
}

/* A directory's entries in creation order: the first, NULL when it has none. */
static inline struct dentry *registry_dentry_first(const struct node *dir)
{
	struct list_node *l = list_first(&dir->dentries);

	return l ? container_of(l, struct dentry, link) : NULL;
}

/* The entry after d in dir, NULL after the last. */
static inline struct dentry *registry_dentry_next(const struct node *dir, const struct dentry *d)
{
	struct list_node *l = list_next(&dir->dentries, &d->link);

	return l ? container_of(l, struct dentry, link) : NULL;
}

/* What the journal records a node's changes on. */
static inline struct journal_node registry_journal_node(const struct node *n)
{
	return (struct journal_node){ .fd = n->pfd, .region = S_ISDIR(n->mode) ? NULL : n->region };
}

/*
 * A new node. A region adopts fd (a store file) when fd >= 0, else gets a
 * new region; a directory keeps fd as its store directory (-1: none).
 * fd is taken on success only. Errors: -ENOSPC (max_inodes), -ENOMEM,
 * errors of region_new()/region_adopt().
 */
int registry_node_new(struct registry *reg, mode_t mode, uid_t uid, gid_t gid, int fd,
		      struct node **ret);
/* Free a node at once (its names must be gone: nlink 0 for a new one). */
void registry_node_destroy(struct registry *reg, struct node *n);
/* Add the name to dir (at the end of its creation order). Errors: -ENOMEM. */
int registry_dentry_add(struct node *dir, const char *name, size_t len, struct node *target);

/* For registry/lifetime.c: registry.c's node_get(), node_maybe_destroy(),
 * drop_name() (the directory's times are the caller's), unlock_and_reap(),
 * node_io_lock() and node_io_unlock(). */
struct node *registry_node_get(struct registry *reg, uint64_t ino);
void registry_node_maybe_destroy(struct registry *reg, struct node *n);
void registry_drop_name(struct registry *reg, struct node *dir, struct dentry *d);
void registry_unlock(struct registry *reg);
struct node *registry_node_io_lock(struct registry *reg, uint64_t ino);
void registry_node_io_unlock(struct registry *reg, struct node *n);
/* A new node n in dir (registry lock held): its lifetime from dir, and
 * what the store keeps of it (best effort). registry/lifetime.c. */
void registry_lifetime_created(struct registry *reg, struct node *dir, struct node *n);

#endif
