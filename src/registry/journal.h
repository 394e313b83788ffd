/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Internal to registry/: the journal, where the namespace's changes are
 * mirrored. One implementation per kind of store:
 *
 *   journal_none        memory only (no store=): every operation does
 *                       nothing and succeeds; handles are always -1.
 *   persist_journal()   the persistent store (-o store=DIR, persist.h):
 *                       every system call on the store's files is made
 *                       there, nowhere else in registry/.
 *
 * registry.c calls every operation unconditionally (it never asks which
 * store it has). The changes of names (create, mkdir, remove, rename,
 * link) run under the registry lock; a node's own changes (set_attrs,
 * set_xattr, remove_xattr, bind, unbind) under that node's I/O lock only,
 * and sync_dir with a reference to the directory only, so that operations
 * on different nodes run at once (the lock order: registry.h). A journal
 * takes no lock of its own and keeps no state that those share (pinning a
 * region's fd takes the region store's fd_lock, below every registry
 * lock). Every operation comes before the registry commits the change to
 * its nodes: when the journal refuses, the namespace is left as it was (a
 * rename allocates its new entry first and drops it again). When the registry then fails itself
 * (out of memory, or a later step of a setattr), it undoes the journal's
 * change with the inverse operation (remove after create, mkdir or link;
 * the old value after set_xattr or set_attrs; unbind after bind), best
 * effort. The loader (load.c) makes the registry's journal
 * persist_journal() of the store it opens.
 *
 * Handles: a journal hands out ints (the store's fds), -1 for none. A
 * directory node keeps the handle of its store directory, a bound region
 * the handle of its placeholder; an anonymous region of a store has its
 * data file as its region's backing fd and no handle of its own. The
 * registry gives every handle it keeps back with journal_close().
 *
 * Errors: 0 or a negative errno (of the store's file system); nothing is
 * logged above debug.
 */
#ifndef RFS_REGISTRY_JOURNAL_H
#define RFS_REGISTRY_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "region/region.h"
#include "registry/registry.h"

/*
 * The node an operation records something about: fd, the node's own
 * handle, or (fd -1) region, whose backing fd is its store file; NULL for a
 * directory or a node without either.
 */
struct journal_node {
	int fd;
	struct region *region;
};

struct journal;

struct journal_ops {
	/* A new region (file) or directory named name in directory dirfd,
	 * with mode (permission bits) and owner; *ret_fd: the new file's
	 * handle (a region adopts it as its backing fd), -1 for none.
	 * Errors: -EEXIST, of the fs. */
	int (*create)(struct journal *j, int dirfd, const char *name, mode_t mode, uid_t uid,
		      gid_t gid, int *ret_fd);
	int (*mkdir)(struct journal *j, int dirfd, const char *name, mode_t mode, uid_t uid,
		     gid_t gid, int *ret_fd);
	/* Remove a name (dir: a directory, which must be empty). */
	int (*remove)(struct journal *j, int dirfd, const char *name, bool dir);
	/* renameat2(2) with flags 0, RENAME_NOREPLACE or RENAME_EXCHANGE. */
	int (*rename)(struct journal *j, int dirfd, const char *name, int ndirfd,
		      const char *nname, unsigned flags);
	/* A new name for the region n. */
	int (*link)(struct journal *j, const struct journal_node *n, int ndirfd,
		    const char *nname);
	/*
	 * The owner, mode and (dir: a directory's; a region's times live in
	 * its own file) times of sa (REGISTRY_SET_UID/GID/MODE/ATIME/MTIME;
	 * the others are ignored). mode: the permission bits the node has
	 * after the change (a chown clears set-id bits on the store's file:
	 * it is set again). A failure may leave part of it done: set the old
	 * values again to undo.
	 */
	int (*set_attrs)(struct journal *j, const struct journal_node *n, bool dir,
			 const struct registry_setattr *sa, mode_t mode);
	/* Set (replace or create) one extended attribute / remove it (absent
	 * is no error). */
	int (*set_xattr)(struct journal *j, const struct journal_node *n, const char *name,
			 const void *value, size_t size);
	int (*remove_xattr)(struct journal *j, const struct journal_node *n, const char *name);
	/*
	 * Record that region n is bound to path: its store file becomes the
	 * placeholder, whose new handle is *ret_fd (-1 for none). unbind()
	 * takes that handle back and forgets the binding (the undo when the
	 * bind fails after all).
	 */
	int (*bind)(struct journal *j, const struct journal_node *n, const char *path,
		    int *ret_fd);
	void (*unbind)(struct journal *j, int fd);
	/* fsync(2) of a directory's handle (-1: nothing to do). */
	int (*sync_dir)(struct journal *j, int dirfd);
	/* Give a handle back (-1: nothing). */
	void (*close)(struct journal *j, int fd);
	/* Free the journal and what it holds (the store's lock). */
	void (*free)(struct journal *j);
};

struct journal {
	const struct journal_ops *ops;
};

/* The memory-only journal (journal.c): stateless, shared, never freed. */
extern struct journal journal_none;

static inline int journal_create(struct journal *j, bool dir, int dirfd, const char *name,
				 mode_t mode, uid_t uid, gid_t gid, int *ret_fd)
{
	return (dir ? j->ops->mkdir : j->ops->create)(j, dirfd, name, mode, uid, gid, ret_fd);
}

static inline int journal_remove(struct journal *j, int dirfd, const char *name, bool dir)
{
	return j->ops->remove(j, dirfd, name, dir);
}

static inline int journal_rename(struct journal *j, int dirfd, const char *name, int ndirfd,
				 const char *nname, unsigned flags)
{
	return j->ops->rename(j, dirfd, name, ndirfd, nname, flags);
}

static inline int journal_link(struct journal *j, const struct journal_node *n, int ndirfd,
			       const char *nname)
{
	return j->ops->link(j, n, ndirfd, nname);
}

static inline int journal_set_attrs(struct journal *j, const struct journal_node *n, bool dir,
				    const struct registry_setattr *sa, mode_t mode)
{
	return j->ops->set_attrs(j, n, dir, sa, mode);
}

static inline int journal_set_xattr(struct journal *j, const struct journal_node *n,
				    const char *name, const void *value, size_t size)
{
	return j->ops->set_xattr(j, n, name, value, size);
}

static inline int journal_remove_xattr(struct journal *j, const struct journal_node *n,
				       const char *name)
{
	return j->ops->remove_xattr(j, n, name);
}

static inline int journal_bind(struct journal *j, const struct journal_node *n, const char *path,
			       int *ret_fd)
{
	return j->ops->bind(j, n, path, ret_fd);
}

static inline void journal_unbind(struct journal *j, int fd)
{
	j->ops->unbind(j, fd);
}

static inline int journal_sync_dir(struct journal *j, int dirfd)
{
	return j->ops->sync_dir(j, dirfd);
}

static inline void journal_close(struct journal *j, int fd)
{
	j->ops->close(j, fd);
}

static inline void journal_free(struct journal *j)
{
	j->ops->free(j);
}

#endif
