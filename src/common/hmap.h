/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * An intrusive chained hash table keyed by a 64-bit hash. The caller embeds
 * a struct hmap_node in its object, computes the hash, and compares keys
 * itself while walking a bucket (hmap_for_each_hash). An insert into a full
 * table doubles it, so lookups stay O(1) at any size; a removal never
 * resizes it; hmap_shrink() gives buckets back when asked, never below the
 * initial 16.
 *
 * Not thread-safe: the owner's lock protects it.
 */
#ifndef RFS_COMMON_HMAP_H
#define RFS_COMMON_HMAP_H

#include <stddef.h>
#include <stdint.h>

struct hmap_node {
	struct hmap_node *next;
	uint64_t hash;
};

struct hmap {
	struct hmap_node **buckets;
	size_t mask; /* number of buckets - 1 (a power of two minus one) */
	size_t count;
};

/* 0, or -ENOMEM. */
int hmap_init(struct hmap *map);
void hmap_destroy(struct hmap *map);
/* Insert (duplicates allowed; the caller checks first). Growing may fail
 * silently under memory pressure: the table then just stays denser. */
void hmap_insert(struct hmap *map, struct hmap_node *node, uint64_t hash);
/* A node that is not in the table (any more) is left alone. */
void hmap_remove(struct hmap *map, struct hmap_node *node);
/*
 * Take the nodes out one by one, to empty the table before hmap_destroy():
 *	size_t at = 0;
 *	while ((n = hmap_pop(map, &at)))
 *		free(container_of(n, struct thing, hn));
 * at is where the scan of the buckets stands (start at 0). Meanwhile the
 * table may only lose nodes (hmap_remove()). NULL once it is empty.
 */
struct hmap_node *hmap_pop(struct hmap *map, size_t *at);
/*
 * Give memory back after removals: halve the table while it is less than a
 * quarter full (it then stays at most half full, so an insert right after
 * does not grow it again). Not during a walk over the buckets. Like
 * growing, fails silently under memory pressure (the table stays sparse).
 */
void hmap_shrink(struct hmap *map);

static inline struct hmap_node *hmap_first_with_hash(const struct hmap *map, uint64_t hash)
{
	struct hmap_node *n = map->buckets[hash & map->mask];

	while (n && n->hash != hash)
		n = n->next;
	return n;
}

static inline struct hmap_node *hmap_next_with_hash(const struct hmap_node *prev)
{
	struct hmap_node *n = prev->next;

	while (n && n->hash != prev->hash)
		n = n->next;
	return n;
}

#define hmap_for_each_hash(pos, map, h)                                                            \
	for ((pos) = hmap_first_with_hash((map), (h)); (pos); (pos) = hmap_next_with_hash(pos))

/* Visit every node. The body must not insert or remove (removing pos would
 * end the walk of its bucket): hmap_pop() empties a table. */
#define hmap_for_each(pos, map, i)                                                                 \
	for ((i) = 0; (i) <= (map)->mask; (i)++)                                                   \
		for ((pos) = (map)->buckets[i]; (pos); (pos) = (pos)->next)

uint64_t hmap_hash_bytes(const void *data, size_t len);
uint64_t hmap_hash_u64(uint64_t v);

#endif
