/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "common/hmap.h"

#include <errno.h>
#include <stdlib.h>

#define HMAP_INITIAL_BUCKETS 16

int hmap_init(struct hmap *map)
{
	map->buckets = calloc(HMAP_INITIAL_BUCKETS, sizeof(*map->buckets));
	if (!map->buckets)
		return -ENOMEM;
	map->mask = HMAP_INITIAL_BUCKETS - 1;
	map->count = 0;
	return 0;
}

void hmap_destroy(struct hmap *map)
{
	free(map->buckets);
	map->buckets = NULL;
	map->mask = 0;
	map->count = 0;
}

/* Move every node into a new table of nbuckets (a power of two). */
static void hmap_resize(struct hmap *map, size_t nbuckets)
{
	struct hmap_node **nb = calloc(nbuckets, sizeof(*nb));
	size_t i;

	if (!nb)
		return; /* keep the old table: slower or larger, still correct */
	for (i = 0; i <= map->mask; i++) {
		struct hmap_node *n = map->buckets[i];

		while (n) {
			struct hmap_node *next = n->next;
			size_t b = n->hash & (nbuckets - 1);

			n->next = nb[b];
			nb[b] = n;
			n = next;
		}
	}
	free(map->buckets);
	map->buckets = nb;
	map->mask = nbuckets - 1;
}

void hmap_insert(struct hmap *map, struct hmap_node *node, uint64_t hash)
{
	size_t b;

	if (map->count >= map->mask + 1)
		hmap_resize(map, (map->mask + 1) * 2);
	b = hash & map->mask;
	node->hash = hash;
	node->next = map->buckets[b];
	map->buckets[b] = node;
	map->count++;
}

void hmap_remove(struct hmap *map, struct hmap_node *node)
{
	struct hmap_node **pp = &map->buckets[node->hash & map->mask];

	while (*pp) {
		if (*pp == node) {
			*pp = node->next;
			node->next = NULL;
			map->count--;
			return;
		}
		pp = &(*pp)->next;
	}
}

struct hmap_node *hmap_pop(struct hmap *map, size_t *at)
{
	struct hmap_node *n;

	for (; *at <= map->mask; (*at)++) {
		n = map->buckets[*at];
		if (n) {
			map->buckets[*at] = n->next;
			n->next = NULL;
			map->count--;
			return n;
		}
	}
	return NULL;
}

void hmap_shrink(struct hmap *map)
{
	size_t nbuckets = map->mask + 1;

	while (nbuckets > HMAP_INITIAL_BUCKETS && map->count < nbuckets / 4)
		nbuckets /= 2;
	if (nbuckets != map->mask + 1)
		hmap_resize(map, nbuckets);
}

/* FNV-1a followed by a final mix so the low bits (the bucket index) depend on every byte. */
uint64_t hmap_hash_bytes(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t h = 0xcbf29ce484222325ull;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return hmap_hash_u64(h);
}

/* splitmix64 finalizer */
uint64_t hmap_hash_u64(uint64_t v)
{
	v ^= v >> 30;
	v *= 0xbf58476d1ce4e5b9ull;
	v ^= v >> 27;
	v *= 0x94d049bb133111ebull;
	v ^= v >> 31;
	return v;
}
