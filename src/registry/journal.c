/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The memory-only journal: the namespace lives in the registry's nodes
 * alone, so there is nothing to record and nothing that can fail.
 */
#include "registry/journal.h"

static int none_make(struct journal *j, int dirfd, const char *name, mode_t mode, uid_t uid,
		     gid_t gid, int *ret_fd)
{
	(void)j, (void)dirfd, (void)name, (void)mode, (void)uid, (void)gid;
	*ret_fd = -1;
	return 0;
}

static int none_remove(struct journal *j, int dirfd, const char *name, bool dir)
{
	(void)j, (void)dirfd, (void)name, (void)dir;
	return 0;
}

static int none_rename(struct journal *j, int dirfd, const char *name, int ndirfd,
		       const char *nname, unsigned flags)
{
	(void)j, (void)dirfd, (void)name, (void)ndirfd, (void)nname, (void)flags;
	return 0;
}

static int none_link(struct journal *j, const struct journal_node *n, int ndirfd,
		     const char *nname)
{
	(void)j, (void)n, (void)ndirfd, (void)nname;
	return 0;
}

static int none_set_attrs(struct journal *j, const struct journal_node *n, bool dir,
			  const struct registry_setattr *sa, mode_t mode)
{
	(void)j, (void)n, (void)dir, (void)sa, (void)mode;
	return 0;
}

static int none_set_xattr(struct journal *j, const struct journal_node *n, const char *name,
			  const void *value, size_t size)
{
	(void)j, (void)n, (void)name, (void)value, (void)size;
	return 0;
}

static int none_remove_xattr(struct journal *j, const struct journal_node *n, const char *name)
{
	(void)j, (void)n, (void)name;
	return 0;
}

static int none_bind(struct journal *j, const struct journal_node *n, const char *path,
		     int *ret_fd)
{
	(void)j, (void)n, (void)path;
	*ret_fd = -1;
	return 0;
}

static void none_fd(struct journal *j, int fd)
{
	(void)j, (void)fd;
}

static int none_sync_dir(struct journal *j, int dirfd)
{
	(void)j, (void)dirfd;
	return 0;
}

static void none_free(struct journal *j)
{
	(void)j;
}

static const struct journal_ops none_ops = {
	.create = none_make,
	.mkdir = none_make,
	.remove = none_remove,
	.rename = none_rename,
	.link = none_link,
	.set_attrs = none_set_attrs,
	.set_xattr = none_set_xattr,
	.remove_xattr = none_remove_xattr,
	.bind = none_bind,
	.unbind = none_fd,
	.sync_dir = none_sync_dir,
	.close = none_fd,
	.free = none_free,
};

struct journal journal_none = { .ops = &none_ops };
