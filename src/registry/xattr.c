/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "registry/xattr.h"

#include <errno.h>
#include <linux/limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

#include "common/macros.h"
#include "registry/registry.h"

struct xattr {
	struct xattr *next;
	size_t name_len; /* without the terminating NUL */
	size_t value_len;
	char *value;     /* points into data[], after the name */
	char data[];     /* name, NUL, value */
};

static struct xattr **find(struct xattr_list *l, const char *name, size_t len)
{
	struct xattr **pp;

	for (pp = &l->head; *pp; pp = &(*pp)->next)
		if ((*pp)->name_len == len && memcmp((*pp)->data, name, len) == 0)
			return pp;
	return NULL;
}

static int check_name(const char *name, size_t *ret_len)
{
	size_t len = strlen(name);

	if (len == 0)
		return -EINVAL;
	if (len > XATTR_NAME_MAX)
		return -ERANGE;
	*ret_len = len;
	return 0;
}

/*
 * The checks of xattr_set(); *ret_pp: where name is in the list (NULL:
 * absent), *ret_len: its length, *ret_delta: the change of l->cost.
 */
static int check_set(const struct xattr_list *l, const char *name, size_t size, int flags,
		     struct xattr ***ret_pp, size_t *ret_len, ssize_t *ret_delta)
{
	struct xattr **pp, *old;
	size_t len, names;
	int r;

	r = check_name(name, &len);
	if (r < 0)
		return r;
	if (size > XATTR_SIZE_MAX)
		return -E2BIG;
	pp = find((struct xattr_list *)l, name, len);
	old = pp ? *pp : NULL;
	if (old && (flags & XATTR_CREATE))
		return -EEXIST;
	if (!old && (flags & XATTR_REPLACE))
		return -ENODATA;
	/* Every node stays listable: listxattr can return XATTR_LIST_MAX at most. */
	names = l->names + (old ? 0 : len + 1);
	if (names > REGISTRY_XATTR_LIST_MAX)
		return -ENOSPC;
	*ret_pp = pp;
	*ret_len = len;
	*ret_delta = (ssize_t)xattr_cost(len, size) -
		     (old ? (ssize_t)xattr_cost(old->name_len, old->value_len) : 0);
	return 0;
}

int xattr_check_set(const struct xattr_list *l, const char *name, size_t size, int flags,
		    ssize_t *ret_delta)
{
	struct xattr **pp;
	size_t len;

	return check_set(l, name, size, flags, &pp, &len, ret_delta);
}

int xattr_set(struct xattr_list *l, const char *name, const void *value, size_t size, int flags)
{
	struct xattr **pp, *x, *old;
	ssize_t delta;
	size_t len;
	int r;

	r = check_set(l, name, size, flags, &pp, &len, &delta);
	if (r < 0)
		return r;
	old = pp ? *pp : NULL;
	x = malloc(sizeof(*x) + len + 1 + size);
	if (!x)
		return -ENOMEM;
	x->name_len = len;
	x->value_len = size;
	memcpy(x->data, name, len + 1);
	x->value = x->data + len + 1;
	if (size)
		memcpy(x->value, value, size);

	if (old) {
		/* Replace in place so listxattr order stays stable. */
		x->next = old->next;
		*pp = x;
		free(old);
	} else {
		x->next = l->head;
		l->head = x;
		l->names += len + 1;
	}
	l->cost = (size_t)((ssize_t)l->cost + delta);
	return 0;
}

ssize_t xattr_get(const struct xattr_list *l, const char *name, void *buf, size_t size)
{
	struct xattr **pp;
	size_t len;
	int r;

	r = check_name(name, &len);
	if (r < 0)
		return r;
	pp = find((struct xattr_list *)l, name, len);
	if (!pp)
		return -ENODATA;
	if (size == 0)
		return (ssize_t)(*pp)->value_len;
	if (size < (*pp)->value_len)
		return -ERANGE;
	memcpy(buf, (*pp)->value, (*pp)->value_len);
	return (ssize_t)(*pp)->value_len;
}

const void *xattr_value(const struct xattr_list *l, const char *name, size_t *ret_size)
{
	struct xattr **pp = find((struct xattr_list *)l, name, strlen(name));

	if (!pp)
		return NULL;
	*ret_size = (*pp)->value_len;
	return (*pp)->value;
}

ssize_t xattr_list_names(const struct xattr_list *l, char *buf, size_t size)
{
	const struct xattr *x;
	size_t need = l->names, pos = 0;

	if (size == 0)
		return (ssize_t)need;
	if (size < need)
		return -ERANGE;
	for (x = l->head; x; x = x->next) {
		memcpy(buf + pos, x->data, x->name_len + 1);
		pos += x->name_len + 1;
	}
	return (ssize_t)need;
}

int xattr_remove(struct xattr_list *l, const char *name, size_t *ret_cost)
{
	size_t cost;
	struct xattr **pp, *x;
	size_t len;
	int r;

	r = check_name(name, &len);
	if (r < 0)
		return r;
	pp = find(l, name, len);
	if (!pp)
		return -ENODATA;
	x = *pp;
	*pp = x->next;
	cost = xattr_cost(x->name_len, x->value_len);
	l->names -= x->name_len + 1;
	l->cost -= cost;
	free(x);
	if (ret_cost)
		*ret_cost = cost;
	return 0;
}

void xattr_clear(struct xattr_list *l)
{
	struct xattr *x = l->head;

	while (x) {
		struct xattr *next = x->next;

		free(x);
		x = next;
	}
	l->head = NULL;
	l->names = 0;
	l->cost = 0;
}
