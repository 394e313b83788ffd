/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * An intrusive doubly linked list, circular around a head that is itself a
 * struct list_node (as the kernel's list_head): appending, removing any
 * node and taking the first are O(1). The caller embeds a struct list_node
 * in its object and gets back to the object with container_of().
 *
 * Not thread-safe: the owner's lock protects it.
 */
#ifndef RFS_COMMON_LIST_H
#define RFS_COMMON_LIST_H

#include <stdbool.h>
#include <stddef.h>

struct list_node {
	struct list_node *next, *prev;
};

/* An empty list: a head that points to itself. */
static inline void list_init(struct list_node *head)
{
	head->next = head;
	head->prev = head;
}

static inline bool list_empty(const struct list_node *head)
{
	return head->next == head;
}

/* Append node at the end of the list at head. */
static inline void list_add_tail(struct list_node *head, struct list_node *node)
{
	node->prev = head->prev;
	node->next = head;
	head->prev->next = node;
	head->prev = node;
}

/* Take node out of its list; it is then an empty list of its own. */
static inline void list_del(struct list_node *node)
{
	node->prev->next = node->next;
	node->next->prev = node->prev;
	list_init(node);
}

/* The first node, NULL when the list is empty. */
static inline struct list_node *list_first(const struct list_node *head)
{
	return list_empty(head) ? NULL : head->next;
}

/* The last node, NULL when the list is empty. */
static inline struct list_node *list_last(const struct list_node *head)
{
	return list_empty(head) ? NULL : head->prev;
}

/* The node after node in the list at head, NULL after the last. */
static inline struct list_node *list_next(const struct list_node *head,
					  const struct list_node *node)
{
	return node->next == head ? NULL : node->next;
}

/* The node before node in the list at head, NULL before the first. */
static inline struct list_node *list_prev(const struct list_node *head,
					  const struct list_node *node)
{
	return node->prev == head ? NULL : node->prev;
}

/* Walk in order; the body may remove pos (the next node is read first). */
#define list_for_each_safe(pos, tmp, head)                                                         \
	for ((pos) = (head)->next, (tmp) = (pos)->next; (pos) != (head);                          \
	     (pos) = (tmp), (tmp) = (pos)->next)

#endif
