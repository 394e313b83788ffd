/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Internal to registry/: the persistent store (-o store=DIR).
 *
 * The namespace is mirrored as a real directory tree on DIR's file system:
 *
 *   DIR/format   "regionfs-store 1": what this directory is
 *   DIR/lock     flock()ed by the daemon using the store (one at a time)
 *   DIR/root/    the namespace: a directory per directory, a regular file
 *                per region (its data, for anonymous regions), hard links
 *                as hard links; mode, owner and times on the files, user.*
 *                xattrs as the files' own user.* xattrs
 *   DIR/tmp/     directories being made (emptied at every start)
 *
 * A file-backed region is an empty placeholder file carrying the xattr
 * user.regionfs.backing = the bound file's path.
 *
 * Crash safety (SIGKILL of the daemon at any moment): every namespace change
 * is one system call on DIR's file system, which the kernel completes or not
 * at all: a region appears by linkat() of a finished O_TMPFILE file, a
 * directory by rename() of a finished temporary one, renames are
 * renameat2() with the caller's flags. An unlinked region that is still
 * open keeps its data in a file with no name, which the kernel frees when
 * the daemon's fd goes away, even in a crash: nothing leaks. Data written
 * to a region file is in DIR's page cache the moment it is written (with
 * passthrough, before any flush), so it survives the daemon (not a power
 * loss: for that, fsync).
 *
 * Trust: the daemon trusts what the store holds (it opens bindings found in
 * it, it believes owners and modes), so nobody but the daemon's user may
 * reach anything inside DIR. DIR itself is the one gate: it must be owned
 * by the daemon's euid and not searchable or writable by group or others
 * (the group bits also show an ACL's mask). persist_open() refuses any
 * other DIR of an existing store (-EPERM, one line with the mode or owner
 * and the fix), and makes a new, empty DIR mode 0700 itself before writing
 * anything into it (an empty DIR of another user is refused: its owner
 * could open it up again at any time).
 * Below DIR, the files and directories keep the namespace's own owners
 * and modes (a directory of the mount may well be 1777): they are the
 * metadata the store persists, and they grant nothing while DIR is
 * closed: not by path (every path goes through DIR); not through an fd
 * (one can only be had by opening a path through DIR; the daemon never
 * hands out its own: passthrough gives the backing file to the kernel,
 * not to the client, and /proc/PID/fd of the daemon or map_files of a
 * passthrough mapping need ptrace rights over the daemon or
 * CAP_SYS_ADMIN); not by a hard link (linking needs a path to the file,
 * and linking into the store a path into DIR). What a process opened
 * below DIR while DIR was still open to it (a store made by a version
 * before this check, DIR 0755) stays open in its hands: after a
 * `chmod 700 DIR`, restart such processes. DIR's path is resolved once,
 * at start (a symlink as DIR is refused); everything after goes through
 * fds, with O_NOFOLLOW. Whoever can write one of DIR's parents could swap
 * DIR before a start: they must be root's, as /var/lib is (not checked).
 *
 * All functions return 0 or a negative errno; none logs above debug.
 */
#ifndef RFS_REGISTRY_PERSIST_H
#define RFS_REGISTRY_PERSIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

struct persist;
struct journal;

/*
 * Open (and if empty, initialize) the store in dir, taking its lock. On
 * failure writes a one-line reason naming the file into err.
 * Errors: -ENOENT/-ENOTDIR/-EACCES/-EROFS (dir unusable), -ELOOP (dir is a
 * symlink), -EPERM (dir not private: see Trust above), -EBUSY (another
 * daemon holds the lock), -EINVAL (not a regionfs store, or corrupt).
 */
int persist_open(const char *dir, struct persist **ret, char *err, size_t errlen);
/* Close the store (drops its lock); the same as journal_free() of its journal. */
void persist_close(struct persist *p);
/* Was the store initialized (empty directory) by this persist_open()? */
bool persist_created(const struct persist *p);

/* A new fd (O_RDONLY) of DIR/root, and its attributes. */
int persist_root(struct persist *p, int *ret_fd, struct stat *ret_st);
/* Close an fd the walk or the journal handed out (-1: nothing). */
void persist_close_fd(int fd);

/*
 * One of the daemon's own attributes of a region's store file (fd from
 * the walk), e.g. RFS_XATTR_SEALS, which the walk does not hand to
 * xattr() (it skips user.regionfs.*): its length, copied into buf.
 * Errors: -ENODATA (absent, or the file system has no xattrs), -ERANGE
 * (longer than size), errors of fgetxattr().
 */
ssize_t persist_read_attr(int fd, const char *name, char *buf, size_t size);

/*
 * The store as the registry's journal (journal.h): every change of the
 * namespace as one system call on DIR's file system (see Crash safety).
 * create: a file finished in DIR/tmp as O_TMPFILE with its mode and owner,
 * then linkat()ed; mkdir: a directory finished in DIR/tmp, then renamed
 * with RENAME_NOREPLACE; the handles are the new file's or directory's fd
 * (the region file open O_RDWR, the directory O_RDONLY); remove: unlinkat;
 * rename: renameat2 with the caller's flags; link: linkat of the region's
 * file by its fd; set_attrs: fchown, fchmod (and futimens of a directory);
 * set_xattr/remove_xattr: the file's own user.* xattrs; bind: a dup of the
 * region's file carrying RFS_XATTR_BACKING (common/macros.h); sync_dir:
 * fsync.
 * The journal belongs to p: journal_free() of it is persist_close(p).
 */
struct journal *persist_journal(struct persist *p);

/*
 * The tree as stored, for loading: persist_walk() calls back for every
 * directory and every name of a region, parents before children. For a
 * second name of a hard-linked file, file() is called with the first name's
 * node and fd -1. The callbacks take ownership of the fds they are given:
 * file() gets one of its own (the walk reads attributes through another);
 * dir() must keep its fd open until persist_walk() returns, unless it
 * fails (then it may close it; the walk stops there) (the walk reads the directory's attributes and, later, lists it
 * through that fd: a load needs no more fds than the tree's directories).
 * rootfd is the caller's, read the same way.
 * On an unexpected entry (a symlink, fifo, ... or an unreadable binding)
 * the walk stops with -EINVAL and names the file in err (a path too long
 * to show whole shows its start and its end).
 * Any depth: breadth-first, no recursion, one directory stream open at a
 * time. Besides the fds it hands to the callbacks (which the registry
 * keeps: one per directory and per region), it holds a few at a time.
 * -EMFILE names RLIMIT_NOFILE in err.
 */
struct persist_visitor {
	void *ctx;
	int (*dir)(void *ctx, void *parent, const char *name, int fd, const struct stat *st,
		   void **ret_node);
	/* node: NULL for a first name (create one; *ret_node), else the
	 * region this name is another link of. backing: the bound path or NULL. */
	int (*file)(void *ctx, void *parent, const char *name, int fd, const struct stat *st,
		    const char *backing, void *node, void **ret_node);
	int (*xattr)(void *ctx, void *node, const char *name, const void *value, size_t size);
};
int persist_walk(struct persist *p, int rootfd, void *root_node,
		 const struct persist_visitor *v, char *err, size_t errlen);

#endif
