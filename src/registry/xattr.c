/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "registry/xattr.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

#include "common/macros.h"
#include "registry/registry.h"

#define XATTR_NAME_LIMIT 255u
#define XATTR_VALUE_LIMIT 65536u

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
	if (len > XATTR_NAME_LIMIT)
		return -ERANGE;
	*ret_len = len;
	return 0;
}

int xattr_set(struct xattr_list *l, const char *name, const void *value, size_t size, int flags)
{
	struct xattr **pp, *x, *old;
	size_t len, old_bytes = 0;
	int r;

	r = check_name(name, &len);
	if (r < 0)
		return r;
	if (size > XATTR_VALUE_LIMIT)
		return -E2BIG;
	pp = find(l, name, len);
	old = pp ? *pp : NULL;
	if (old && (flags & XATTR_CREATE))
		return -EEXIST;
	if (!old && (flags & XATTR_REPLACE))
		return -ENODATA;
	if (old)
		old_bytes = old->name_len + old->value_len;
	if (l->bytes - old_bytes + len + size > REGISTRY_XATTR_TOTAL_MAX)
		return -ENOSPC;

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
	}
	l->bytes = l->bytes - old_bytes + len + size;
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

ssize_t xattr_list_names(const struct xattr_list *l, char *buf, size_t size)
{
	const struct xattr *x;
	size_t need = 0, pos = 0;

	for (x = l->head; x; x = x->next)
		need += x->name_len + 1;
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

int xattr_remove(struct xattr_list *l, const char *name)
{
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
	l->bytes -= x->name_len + x->value_len;
	free(x);
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
	l->bytes = 0;
}
