/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Internal to registry/: the extended attributes of one node, a short list
 * (nodes carry few attributes; a list keeps memory small and order stable
 * for listxattr). Not thread-safe: the registry lock protects it.
 */
#ifndef RFS_REGISTRY_XATTR_H
#define RFS_REGISTRY_XATTR_H

#include <stddef.h>
#include <sys/types.h>

struct xattr;

struct xattr_list {
	struct xattr *head;
	size_t bytes; /* sum of name and value lengths, for the per-node limit */
};

int xattr_set(struct xattr_list *l, const char *name, const void *value, size_t size, int flags);
ssize_t xattr_get(const struct xattr_list *l, const char *name, void *buf, size_t size);
ssize_t xattr_list_names(const struct xattr_list *l, char *buf, size_t size);
int xattr_remove(struct xattr_list *l, const char *name);
void xattr_clear(struct xattr_list *l);

#endif
