/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Loading a persistent store (registry_load()): persist_walk() reads the
 * store's tree and these callbacks make the registry's nodes of it. Runs
 * before the mount serves anything; the registry lock is held for form.
 */
#include "registry/registry.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/macros.h"
#include "region/seal.h"
#include "registry/journal.h"
#include "registry/lifetime.h"
#include "registry/persist.h"
#include "registry/registry_impl.h"
#include "registry/xattr.h"

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
	r = registry_node_new(reg, S_IFDIR | (st->st_mode & 07777), st->st_uid, st->st_gid, fd,
			      &n);
	if (r < 0) {
		persist_close_fd(fd);
		return r;
	}
	r = registry_dentry_add(dir, name, strlen(name), n);
	if (r < 0) {
		n->nlink = 0;
		registry_node_destroy(reg, n);
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

		for (d = registry_dentry_first(n->parent); d && d->node != n;
		     d = registry_dentry_next(n->parent, d))
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
		n->bound = r == 0;
	}
	if (r < 0) {
		n->unbound = strdup(backing);
		if (!n->unbound)
			return -ENOMEM;
	}
	n->pfd = fd;
	return 0;
}

/*
 * The seals the store keeps for a region (registry_add_seals()), back in
 * the region before anything can open it. Only the daemon writes the
 * value: one that does not parse is a corrupt store (-EINVAL).
 */
static int load_seals(int fd, unsigned *ret)
{
	char value[REGION_SEAL_FORMAT_MAX];
	ssize_t len = persist_read_attr(fd, RFS_XATTR_SEALS, value, sizeof(value));

	*ret = 0;
	if (len == -ENODATA)
		return 0;
	if (len == -ERANGE)
		return -EINVAL;
	if (len < 0)
		return (int)len;
	return region_seal_parse(value, (size_t)len, ret);
}

static int load_file(void *ctx, void *parent, const char *name, int fd, const struct stat *st,
		     const char *backing, void *node, void **ret_node)
{
	struct registry *reg = ctx;
	struct node *dir = parent, *n = node;
	unsigned seals = 0;
	int r;

	if (n) {
		/* Another name of a region already loaded: a hard link, an inode of nr_inodes too. */
		if (reg->max_inodes && registry_inodes_in_use(reg) >= reg->max_inodes)
			return -ENOSPC;
		r = registry_dentry_add(dir, name, strlen(name), n);
		if (r == 0) {
			n->nlink++;
			reg->links++;
		}
		*ret_node = n;
		return r;
	}
	r = load_seals(fd, &seals);
	if (r < 0) {
		persist_close_fd(fd);
		return r;
	}
	r = registry_node_new(reg, S_IFREG | (st->st_mode & 07777), st->st_uid, st->st_gid,
			      backing ? -1 : fd, &n);
	if (r < 0) {
		persist_close_fd(fd);
		return r == -EMFILE || r == -ENFILE ? -ENOSPC : r;
	}
	if (backing) {
		r = load_bound(reg, dir, name, fd, backing, n);
		if (r < 0) {
			persist_close_fd(fd);
			goto err_destroy;
		}
	}
	r = registry_dentry_add(dir, name, strlen(name), n);
	if (r < 0)
		goto err_destroy;
	node_set_stat(n, st);
	region_add_seals(n->region, seals);
	*ret_node = n;
	return 0;

err_destroy:
	n->nlink = 0;
	registry_node_destroy(reg, n);
	return r;
}

static int load_xattr(void *ctx, void *node, const char *name, const void *value, size_t size)
{
	struct registry *reg = ctx;
	struct node *n = node;
	size_t cost_before = n->xattrs.cost;
	int r;

	/* The daemon's own records (registry/lifetime.h), not the user's. */
	if (strncmp(name, "user.regionfs.", 14) == 0) {
		registry_lifetime_load(n, name, value, size);
		return 0;
	}
	r = xattr_set(&n->xattrs, name, value, size, 0);

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
	struct journal_node jn;
	struct persist *p;
	struct stat st;
	int rootfd, r;

	err[0] = '\0';
	r = persist_open(dir, &p, err, errlen);
	if (r < 0)
		return r;
	/* From now on every change goes to the store; registry_free() closes it. */
	reg->journal = persist_journal(p);
	r = persist_root(p, &rootfd, &st);
	if (r < 0) {
		snprintf(err, errlen, "store %s/root: %s", dir, strerror(-r));
		return r;
	}
	reg->root->pfd = rootfd;
	if (persist_created(p)) {
		/* A new store: the root as the options say. */
		struct registry_setattr sa = {
			.valid = REGISTRY_SET_MODE | REGISTRY_SET_UID | REGISTRY_SET_GID,
			.mode = reg->root->mode & 07777,
			.uid = reg->root->uid,
			.gid = reg->root->gid,
		};

		jn = registry_journal_node(reg->root);
		r = journal_set_attrs(reg->journal, &jn, true, &sa, sa.mode);
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
	r = persist_walk(p, rootfd, reg->root, &v, err, errlen);
	pthread_mutex_unlock(&reg->lock);
	if (r == -ENOSPC && reg->max_inodes && registry_inodes_in_use(reg) >= reg->max_inodes)
		snprintf(err, errlen, "store %s holds more than nr_inodes=%llu regions, "
			 "directories and hard links", dir, (unsigned long long)reg->max_inodes);
	if (r == 0)
		log_debug("store %s: %zu regions and directories loaded", dir, reg->inodes.count);
	return r;
}
