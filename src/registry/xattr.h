/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Internal to registry/: the extended attributes of one node, a short list
 * (nodes carry few attributes; a list keeps memory small and order stable
 * for listxattr). REGISTRY_XATTR_LIST_MAX bounds its length (at most ~9,300
 * names of 7 bytes), so a walk under the registry lock stays short. Not
 * thread-safe: the registry lock protects it.
 */
#ifndef RFS_REGISTRY_XATTR_H
#define RFS_REGISTRY_XATTR_H

#include <stddef.h>
#include <sys/types.h>

struct xattr;

/*
 * Singly linked on purpose, not a common/list.h list: every node has one,
 * and all zeros is an empty list (nodes are calloc()ed; a list.h head
 * would need initializing and twice the room). Every operation finds the
 * name by walking from head anyway, and the walk keeps the link to the
 * found entry, so replacing or removing it is O(1) without a prev pointer.
 * New names go in front: listxattr shows the newest first.
 */
struct xattr_list {
	struct xattr *head;
	size_t names; /* what listxattr returns: every name with its NUL */
	size_t cost;  /* sum of xattr_cost() of every attribute */
};

/*
 * What one attribute costs the mount's budget: its name with the NUL, its
 * value, and XATTR_OVERHEAD for the daemon's own bookkeeping (the list
 * entry and the allocator's header), so that even empty values add up.
 */
#define XATTR_OVERHEAD 64u
static inline size_t xattr_cost(size_t name_len, size_t value_len)
{
	return name_len + 1 + value_len + XATTR_OVERHEAD;
}

/*
 * Would xattr_set() with these arguments succeed, and by how much would it
 * change l->cost (*ret_delta: new cost less the replaced one's)? For
 * charging the budget before the change. Errors as xattr_set() but -ENOMEM.
 */
int xattr_check_set(const struct xattr_list *l, const char *name, size_t size, int flags,
		    ssize_t *ret_delta);
/*
 * Set name to value (a replaced value keeps its place in the list).
 * Errors: -EINVAL (empty name), -ERANGE (name > 255 bytes), -E2BIG (value >
 * 65536 bytes), -EEXIST / -ENODATA (XATTR_CREATE / XATTR_REPLACE), -ENOSPC
 * (the names would pass REGISTRY_XATTR_LIST_MAX), -ENOMEM.
 */
int xattr_set(struct xattr_list *l, const char *name, const void *value, size_t size, int flags);
ssize_t xattr_get(const struct xattr_list *l, const char *name, void *buf, size_t size);
/* The value of name, valid until the list changes, and its size; NULL if absent. */
const void *xattr_value(const struct xattr_list *l, const char *name, size_t *ret_size);
ssize_t xattr_list_names(const struct xattr_list *l, char *buf, size_t size);
/* Remove name; *ret_cost (may be NULL): the cost it had. */
int xattr_remove(struct xattr_list *l, const char *name, size_t *ret_cost);
/* Free every attribute; l->cost is what they cost (read it first). */
void xattr_clear(struct xattr_list *l);

#endif
