/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for common/: rfs_parse_size(), rfs_parse_count() (size.h),
 * the intrusive hash table (hmap.h), the intrusive list (list.h) and
 * one-line log messages (log.h).
 *
 * calloc is wrapped (-Wl,--wrap=calloc) so hmap_init() and the table's
 * growth can be made to fail on demand.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/hmap.h"
#include "common/list.h"
#include "common/log.h"
#include "common/macros.h"
#include "common/size.h"

/* ---- failure injection ---- */

void *__real_calloc(size_t nmemb, size_t size);
void *__wrap_calloc(size_t nmemb, size_t size);

/* Number of calloc calls to let through before failing every later one;
 * negative: never fail. */
static long calloc_fail_after = -1;
static unsigned long calloc_failed;

void *__wrap_calloc(size_t nmemb, size_t size)
{
	if (calloc_fail_after == 0) {
		calloc_failed++;
		errno = ENOMEM;
		return NULL;
	}
	if (calloc_fail_after > 0)
		calloc_fail_after--;
	return __real_calloc(nmemb, size);
}

static int reset_injection(void **state)
{
	(void)state;
	calloc_fail_after = -1;
	calloc_failed = 0;
	return 0;
}

/* ---- rfs_parse_size / rfs_parse_count ---- */

#define SENTINEL 0xdeadbeefcafef00dull

static void assert_size(const char *s, uint64_t ram, uint64_t want)
{
	uint64_t v = SENTINEL;
	int r = rfs_parse_size(s, ram, &v);

	if (r != 0)
		fail_msg("rfs_parse_size(\"%s\") = %d, want 0", s, r);
	if (v != want)
		fail_msg("rfs_parse_size(\"%s\") -> %llu, want %llu", s, (unsigned long long)v,
			 (unsigned long long)want);
}

static void assert_size_err(const char *s, uint64_t ram, int err)
{
	uint64_t v = SENTINEL;
	int r = rfs_parse_size(s, ram, &v);

	if (r != err)
		fail_msg("rfs_parse_size(\"%s\") = %d, want %d", s, r, err);
	/* output parameters are written only on success */
	assert_int_equal(v, SENTINEL);
}

static void assert_count(const char *s, uint64_t want)
{
	uint64_t v = SENTINEL;
	int r = rfs_parse_count(s, &v);

	if (r != 0)
		fail_msg("rfs_parse_count(\"%s\") = %d, want 0", s, r);
	if (v != want)
		fail_msg("rfs_parse_count(\"%s\") -> %llu, want %llu", s, (unsigned long long)v,
			 (unsigned long long)want);
}

static void assert_count_err(const char *s, int err)
{
	uint64_t v = SENTINEL;
	int r = rfs_parse_count(s, &v);

	if (r != err)
		fail_msg("rfs_parse_count(\"%s\") = %d, want %d", s, r, err);
	assert_int_equal(v, SENTINEL);
}

static void test_parse_size_plain_decimal(void **state)
{
	(void)state;
	assert_size("0", 0, 0);
	assert_size("1", 0, 1);
	assert_size("4096", 0, 4096);
	assert_size("007", 0, 7);
	assert_size("18446744073709551615", 0, UINT64_MAX);
}

static void test_parse_size_suffixes_are_powers_of_1024(void **state)
{
	(void)state;
	assert_size("1k", 0, 1024);
	assert_size("1K", 0, 1024);
	assert_size("3m", 0, 3ull << 20);
	assert_size("3M", 0, 3ull << 20);
	assert_size("2g", 0, 2ull << 30);
	assert_size("2G", 0, 2ull << 30);
	assert_size("5t", 0, 5ull << 40);
	assert_size("5T", 0, 5ull << 40);
	assert_size("0k", 0, 0);
	/* largest value that still fits with the T suffix */
	assert_size("16777215T", 0, 16777215ull << 40);
}

static void test_parse_size_percent_of_ram(void **state)
{
	(void)state;
	assert_size("50%", 8ull << 30, 4ull << 30);
	assert_size("100%", 8ull << 30, 8ull << 30);
	assert_size("0%", 8ull << 30, 0);
	assert_size("10%", 1000, 100);
	assert_size("1%", 12345600, 123456);
	/* no overflow in the intermediate product */
	assert_size("100%", UINT64_MAX, UINT64_MAX);
	assert_size("50%", UINT64_MAX - 1, (UINT64_MAX - 1) / 2);
	/* over 100%: its own errno, so that the message can say what is wrong */
	assert_size_err("101%", 8ull << 30, -EDOM);
	assert_size_err("150%", 8ull << 30, -EDOM);
	assert_size_err("150%k", 8ull << 30, -EINVAL);
}

static void test_parse_size_rejects_malformed_einval(void **state)
{
	(void)state;
	assert_size_err("", 1 << 20, -EINVAL);
	assert_size_err("-1", 1 << 20, -EINVAL);
	assert_size_err("+1", 1 << 20, -EINVAL);
	assert_size_err(" 1", 1 << 20, -EINVAL);
	assert_size_err("1 ", 1 << 20, -EINVAL);
	assert_size_err("k", 1 << 20, -EINVAL);
	assert_size_err("%", 1 << 20, -EINVAL);
	assert_size_err("1x", 1 << 20, -EINVAL);
	assert_size_err("1kb", 1 << 20, -EINVAL);
	assert_size_err("1KiB", 1 << 20, -EINVAL);
	assert_size_err("1k1", 1 << 20, -EINVAL);
	assert_size_err("1.5G", 1 << 20, -EINVAL);
	assert_size_err("0x10", 1 << 20, -EINVAL);
	assert_size_err("1e3", 1 << 20, -EINVAL);
	assert_size_err("1p", 1 << 20, -EINVAL);
	assert_size_err("50%%", 1 << 20, -EINVAL);
	assert_size_err("50%k", 1 << 20, -EINVAL);
	assert_size_err("50k%", 1 << 20, -EINVAL);
	assert_size_err("abc", 1 << 20, -EINVAL);
}

static void test_parse_size_overflow_erange(void **state)
{
	(void)state;
	assert_size_err("18446744073709551616", 0, -ERANGE);
	assert_size_err("99999999999999999999999999", 0, -ERANGE);
	assert_size_err("16777216T", 0, -ERANGE);	   /* 2^64 */
	assert_size_err("17179869184G", 0, -ERANGE);	   /* 2^64 */
	assert_size_err("17592186044416M", 0, -ERANGE);	   /* 2^64 */
	assert_size_err("18014398509481984K", 0, -ERANGE); /* 2^64 */
	assert_size_err("18446744073709551615k", 0, -ERANGE);
}

static void test_parse_count_suffixes(void **state)
{
	(void)state;
	assert_count("0", 0);
	assert_count("1000", 1000);
	assert_count("1k", 1024);
	assert_count("1K", 1024);
	assert_count("2m", 2ull << 20);
	assert_count("2M", 2ull << 20);
	assert_count("1g", 1ull << 30);
	assert_count("1t", 1ull << 40);
	assert_count("18446744073709551615", UINT64_MAX);
}

static void test_parse_count_rejects_percent_and_garbage(void **state)
{
	(void)state;
	assert_count_err("50%", -EINVAL);
	assert_count_err("100%", -EINVAL);
	assert_count_err("", -EINVAL);
	assert_count_err("-5", -EINVAL);
	assert_count_err("5 ", -EINVAL);
	assert_count_err("5q", -EINVAL);
	assert_count_err("1.0", -EINVAL);
	assert_count_err("18446744073709551616", -ERANGE);
	assert_count_err("16777216t", -ERANGE);
}

/* ---- hmap ---- */

struct item {
	struct hmap_node node;
	uint64_t key;
	unsigned seen;
};

static struct item *find_item(struct hmap *map, uint64_t key, uint64_t hash)
{
	struct hmap_node *pos;

	hmap_for_each_hash(pos, map, hash)
	{
		struct item *it = container_of(pos, struct item, node);

		if (it->key == key)
			return it;
	}
	return NULL;
}

static size_t count_with_hash(struct hmap *map, uint64_t hash)
{
	struct hmap_node *pos;
	size_t n = 0;

	hmap_for_each_hash(pos, map, hash)
	{
		assert_int_equal(pos->hash, hash);
		n++;
	}
	return n;
}

static void test_hmap_init_empty(void **state)
{
	struct hmap map;
	struct hmap_node *pos;
	size_t i, n = 0;

	(void)state;
	assert_int_equal(hmap_init(&map), 0);
	assert_non_null(map.buckets);
	assert_int_equal(map.count, 0);
	/* a power of two minus one */
	assert_int_equal(map.mask & (map.mask + 1), 0);
	assert_true(map.mask >= 1);
	assert_null(hmap_first_with_hash(&map, 0));
	assert_null(hmap_first_with_hash(&map, 12345));
	hmap_for_each(pos, &map, i) n++;
	assert_int_equal(n, 0);
	hmap_destroy(&map);
}

static void test_hmap_init_enomem(void **state)
{
	struct hmap map;

	(void)state;
	calloc_fail_after = 0;
	assert_int_equal(hmap_init(&map), -ENOMEM);
	assert_int_equal(calloc_failed, 1);
	calloc_fail_after = -1;
}

static void test_hmap_insert_find_remove(void **state)
{
	struct hmap map;
	struct item a = {.key = 1}, b = {.key = 2}, c = {.key = 3};
	uint64_t ha = hmap_hash_u64(1), hb = hmap_hash_u64(2), hc = hmap_hash_u64(3);

	(void)state;
	assert_int_equal(hmap_init(&map), 0);
	hmap_insert(&map, &a.node, ha);
	hmap_insert(&map, &b.node, hb);
	hmap_insert(&map, &c.node, hc);
	assert_int_equal(map.count, 3);
	assert_int_equal(a.node.hash, ha);
	assert_ptr_equal(find_item(&map, 1, ha), &a);
	assert_ptr_equal(find_item(&map, 2, hb), &b);
	assert_ptr_equal(find_item(&map, 3, hc), &c);
	assert_null(find_item(&map, 4, hmap_hash_u64(4)));

	hmap_remove(&map, &b.node);
	assert_int_equal(map.count, 2);
	assert_null(find_item(&map, 2, hb));
	assert_ptr_equal(find_item(&map, 1, ha), &a);
	assert_ptr_equal(find_item(&map, 3, hc), &c);

	hmap_remove(&map, &a.node);
	hmap_remove(&map, &c.node);
	assert_int_equal(map.count, 0);
	assert_null(find_item(&map, 1, ha));
	assert_null(find_item(&map, 3, hc));
	hmap_destroy(&map);
}

/* Nodes whose hashes collide (equal, or equal in the bucket bits) share a
 * chain: each must stay reachable, and removing one must not lose another. */
static void test_hmap_collisions_and_duplicates(void **state)
{
	struct hmap map;
	struct item it[8];
	size_t i;

	(void)state;
	assert_int_equal(hmap_init(&map), 0);
	for (i = 0; i < 8; i++) {
		it[i].key = i;
		/* 0..3: the same full hash; 4..7: same low bits, different hash */
		hmap_insert(&map, &it[i].node, i < 4 ? 0x42 : 0x42 + ((uint64_t)i << 40));
	}
	assert_int_equal(map.count, 8);
	assert_int_equal(count_with_hash(&map, 0x42), 4);
	for (i = 4; i < 8; i++)
		assert_int_equal(count_with_hash(&map, 0x42 + ((uint64_t)i << 40)), 1);
	for (i = 0; i < 4; i++)
		assert_ptr_equal(find_item(&map, i, 0x42), &it[i]);

	/* remove from the middle of the chain */
	hmap_remove(&map, &it[1].node);
	assert_int_equal(count_with_hash(&map, 0x42), 3);
	assert_null(find_item(&map, 1, 0x42));
	assert_ptr_equal(find_item(&map, 0, 0x42), &it[0]);
	assert_ptr_equal(find_item(&map, 2, 0x42), &it[2]);
	assert_ptr_equal(find_item(&map, 3, 0x42), &it[3]);
	for (i = 4; i < 8; i++)
		assert_ptr_equal(find_item(&map, i, 0x42 + ((uint64_t)i << 40)), &it[i]);
	assert_int_equal(map.count, 7);
	hmap_destroy(&map);
}

/* Many entries: the table grows, and every entry stays findable exactly
 * once, both by hash and by a full walk. */
static void test_hmap_grows_and_keeps_every_entry(void **state)
{
	enum { N = 20000 };
	struct hmap map;
	struct item *items = malloc(N * sizeof(*items));
	struct hmap_node *pos;
	size_t i, walked = 0, initial_mask;

	(void)state;
	assert_non_null(items);
	assert_int_equal(hmap_init(&map), 0);
	initial_mask = map.mask;
	for (i = 0; i < N; i++) {
		items[i].key = i;
		items[i].seen = 0;
		hmap_insert(&map, &items[i].node, hmap_hash_u64(i));
	}
	assert_int_equal(map.count, N);
	/* it grew (O(1) lookups at any size) */
	assert_true(map.mask > initial_mask);
	assert_true(map.mask + 1 >= N / 8);
	assert_int_equal(map.mask & (map.mask + 1), 0);

	for (i = 0; i < N; i++)
		assert_ptr_equal(find_item(&map, i, hmap_hash_u64(i)), &items[i]);
	hmap_for_each(pos, &map, i)
	{
		struct item *it = container_of(pos, struct item, node);

		assert_true(it >= items && it < items + N);
		it->seen++;
		walked++;
	}
	assert_int_equal(walked, N);
	for (i = 0; i < N; i++)
		assert_int_equal(items[i].seen, 1);

	/* remove every other entry */
	for (i = 0; i < N; i += 2)
		hmap_remove(&map, &items[i].node);
	assert_int_equal(map.count, N / 2);
	for (i = 0; i < N; i++) {
		struct item *f = find_item(&map, i, hmap_hash_u64(i));

		if (i % 2)
			assert_ptr_equal(f, &items[i]);
		else
			assert_null(f);
	}
	hmap_destroy(&map);
	free(items);
}

/* A failed growth must keep every entry (the table only gets denser). */
static void test_hmap_grow_failure_keeps_entries(void **state)
{
	enum { N = 500 };
	struct hmap map;
	struct item items[N];
	size_t i, mask;

	(void)state;
	assert_int_equal(hmap_init(&map), 0);
	mask = map.mask;
	calloc_fail_after = 0;
	for (i = 0; i < N; i++) {
		items[i].key = i;
		hmap_insert(&map, &items[i].node, hmap_hash_u64(i));
	}
	calloc_fail_after = -1;
	/* growth was attempted and failed */
	assert_true(calloc_failed > 0);
	assert_int_equal(map.mask, mask);
	assert_int_equal(map.count, N);
	for (i = 0; i < N; i++)
		assert_ptr_equal(find_item(&map, i, hmap_hash_u64(i)), &items[i]);

	/* and growth works again once memory is back */
	for (i = 0; i < N; i++)
		hmap_remove(&map, &items[i].node);
	assert_int_equal(map.count, 0);
	for (i = 0; i < N; i++)
		hmap_insert(&map, &items[i].node, hmap_hash_u64(i));
	assert_true(map.mask > mask);
	for (i = 0; i < N; i++)
		assert_ptr_equal(find_item(&map, i, hmap_hash_u64(i)), &items[i]);
	hmap_destroy(&map);
}

/* After growing and emptying, the table can be refilled. */
static void test_hmap_reuse_after_remove_all(void **state)
{
	enum { N = 1000 };
	struct hmap map;
	struct item items[N];
	size_t i, round;

	(void)state;
	assert_int_equal(hmap_init(&map), 0);
	for (round = 0; round < 3; round++) {
		for (i = 0; i < N; i++) {
			items[i].key = i;
			hmap_insert(&map, &items[i].node, hmap_hash_bytes(&i, sizeof(i)));
		}
		assert_int_equal(map.count, N);
		for (i = 0; i < N; i++)
			assert_ptr_equal(find_item(&map, i, hmap_hash_bytes(&i, sizeof(i))),
					 &items[i]);
		for (i = N; i-- > 0;)
			hmap_remove(&map, &items[i].node);
		assert_int_equal(map.count, 0);
		for (i = 0; i < N; i++)
			assert_null(find_item(&map, i, hmap_hash_bytes(&i, sizeof(i))));
	}
	hmap_destroy(&map);
}

/*
 * hmap_shrink(): a table emptied below a quarter gives its buckets back,
 * never below the initial 16, keeps every entry findable, and a failed
 * shrink keeps the old table. Removing alone never resizes.
 */
static void test_hmap_shrink(void **state)
{
	enum { N = 4096 };
	struct hmap map;
	static struct item items[N];
	size_t i, big;

	(void)state;
	assert_int_equal(hmap_init(&map), 0);
	for (i = 0; i < N; i++) {
		items[i].key = i;
		hmap_insert(&map, &items[i].node, hmap_hash_u64(i));
	}
	big = map.mask + 1;
	assert_true(big >= N);
	/* down to a quarter: removing does not resize, shrinking keeps the size */
	for (i = 0; i < N - big / 4; i++)
		hmap_remove(&map, &items[i].node);
	assert_int_equal(map.mask + 1, big);
	hmap_shrink(&map);
	assert_int_equal(map.mask + 1, big);
	/* one fewer: it halves, and stays at most half full */
	hmap_remove(&map, &items[i++].node);
	calloc_fail_after = 0;
	hmap_shrink(&map);
	calloc_fail_after = -1;
	assert_true(calloc_failed > 0);
	assert_int_equal(map.mask + 1, big); /* no memory: kept as it was */
	hmap_shrink(&map);
	assert_int_equal(map.mask + 1, big / 2);
	assert_true(map.count <= (map.mask + 1) / 2);
	for (size_t j = i; j < N; j++)
		assert_ptr_equal(find_item(&map, j, hmap_hash_u64(j)), &items[j]);
	for (size_t j = 0; j < i; j++)
		assert_null(find_item(&map, j, hmap_hash_u64(j)));
	/* emptied: back to the initial size, not below */
	for (; i < N; i++)
		hmap_remove(&map, &items[i].node);
	hmap_shrink(&map);
	assert_int_equal(map.mask + 1, 16);
	hmap_shrink(&map);
	assert_int_equal(map.mask + 1, 16);
	/* and it grows again */
	for (i = 0; i < N; i++)
		hmap_insert(&map, &items[i].node, hmap_hash_u64(i));
	assert_int_equal(map.mask + 1, big);
	for (i = 0; i < N; i++)
		assert_ptr_equal(find_item(&map, i, hmap_hash_u64(i)), &items[i]);
	hmap_destroy(&map);
}

/*
 * hmap_pop() empties a table: every node once, with long chains and empty
 * buckets, while other nodes are removed meanwhile; removing a popped node
 * again changes nothing; the emptied table takes new nodes.
 */
static void test_hmap_pop_empties(void **state)
{
	enum { N = 3000 };
	struct hmap map;
	static struct item items[N];
	static bool removed[N];
	struct hmap_node *n;
	size_t i, at = 0, popped = 0, nremoved = 0, count;

	(void)state;
	assert_int_equal(hmap_init(&map), 0);
	assert_null(hmap_pop(&map, &at));
	for (i = 0; i < N; i++) {
		items[i].key = i;
		items[i].seen = 0;
		hmap_insert(&map, &items[i].node, hmap_hash_u64(i % 7)); /* 7 chains */
	}
	for (i = 0; i < N; i += 10) {
		hmap_remove(&map, &items[i].node);
		removed[i] = true;
		nremoved++;
	}
	at = 0;
	while ((n = hmap_pop(&map, &at))) {
		struct item *it = container_of(n, struct item, node);
		size_t k = it->key + 5;

		assert_false(removed[it->key]);
		assert_null(n->next);
		it->seen++;
		popped++;
		if (k < N && !items[k].seen && !removed[k]) {
			hmap_remove(&map, &items[k].node); /* not popped yet: never will be */
			removed[k] = true;
			nremoved++;
		}
		count = map.count;
		hmap_remove(&map, n); /* popped already: nothing to do */
		assert_int_equal(map.count, count);
		assert_int_equal(popped + nremoved + map.count, N);
	}
	assert_int_equal(map.count, 0);
	assert_null(hmap_pop(&map, &at));
	for (i = 0; i < N; i++)
		assert_int_equal(items[i].seen, removed[i] ? 0 : 1);
	assert_true(popped > 0 && nremoved > N / 10);
	for (i = 0; i < 7; i++)
		assert_null(hmap_first_with_hash(&map, hmap_hash_u64(i)));
	hmap_insert(&map, &items[0].node, hmap_hash_u64(0));
	assert_ptr_equal(find_item(&map, 0, hmap_hash_u64(0)), &items[0]);
	hmap_destroy(&map);
}

/* ---- list ---- */

struct elem {
	struct list_node link;
	int v;
};

static int elem_v(const struct list_node *n)
{
	return container_of(n, const struct elem, link)->v;
}

/* A queue: appended in order, taken from the front, any node removable. */
static void test_list_queue_order_and_removal(void **state)
{
	struct list_node head, *pos, *tmp;
	struct elem e[5];
	int i, want[] = { 0, 1, 3, 4 }, got = 0;

	(void)state;
	list_init(&head);
	assert_true(list_empty(&head));
	assert_null(list_first(&head));
	for (i = 0; i < 5; i++) {
		e[i].v = i;
		list_add_tail(&head, &e[i].link);
	}
	assert_false(list_empty(&head));
	list_del(&e[2].link);
	assert_ptr_equal(e[2].link.next, &e[2].link); /* alone: an empty list */
	assert_true(list_empty(&e[2].link));
	for (pos = list_first(&head), i = 0; pos; pos = list_next(&head, pos), i++)
		assert_int_equal(elem_v(pos), want[i]);
	assert_int_equal(i, ARRAY_SIZE(want));
	assert_ptr_equal(head.prev, &e[4].link);
	/* the front goes first; a walk may remove what it visits */
	pos = list_first(&head);
	assert_int_equal(elem_v(pos), 0);
	list_del(pos);
	list_for_each_safe(pos, tmp, &head)
	{
		assert_int_equal(elem_v(pos), want[++got]);
		list_del(pos);
	}
	assert_int_equal(got, 3);
	assert_true(list_empty(&head));
	assert_null(list_first(&head));
	/* and it takes nodes again */
	list_add_tail(&head, &e[2].link);
	assert_ptr_equal(list_first(&head), &e[2].link);
	assert_null(list_next(&head, &e[2].link));
}

static void test_hmap_hash_bytes_deterministic_and_spread(void **state)
{
	char buf[32];
	uint64_t h0, h1, low_bits_seen = 0;
	unsigned i;

	(void)state;
	h0 = hmap_hash_bytes("region", 6);
	assert_int_equal(h0, hmap_hash_bytes("region", 6));
	/* every byte matters, including the last one */
	assert_int_not_equal(h0, hmap_hash_bytes("regioN", 6));
	assert_int_not_equal(h0, hmap_hash_bytes("Region", 6));
	assert_int_not_equal(h0, hmap_hash_bytes("region", 5));
	assert_int_not_equal(hmap_hash_bytes("", 0), hmap_hash_bytes("\0", 1));
	assert_int_not_equal(hmap_hash_bytes("ab", 2), hmap_hash_bytes("ba", 2));
	/* only len bytes are read */
	memcpy(buf, "abcXYZ", 6);
	h1 = hmap_hash_bytes(buf, 3);
	memcpy(buf, "abcQQQ", 6);
	assert_int_equal(h1, hmap_hash_bytes(buf, 3));

	/* names differing only in the last character land in different buckets
	 * of a 16-bucket table, at least mostly */
	for (i = 0; i < 16; i++) {
		int n = snprintf(buf, sizeof(buf), "name-%c", 'a' + i);

		low_bits_seen |= 1ull << (hmap_hash_bytes(buf, (size_t)n) & 15);
	}
	assert_true(__builtin_popcountll(low_bits_seen) >= 8);
}

static void test_hmap_hash_u64_mixes(void **state)
{
	uint64_t low_bits_seen = 0, i;

	(void)state;
	assert_int_equal(hmap_hash_u64(7), hmap_hash_u64(7));
	assert_int_not_equal(hmap_hash_u64(1), hmap_hash_u64(2));
	/* consecutive keys spread, and keys differing only in high bits
	 * still differ in the low (bucket) bits most of the time */
	for (i = 0; i < 16; i++)
		low_bits_seen |= 1ull << (hmap_hash_u64(i << 48) & 63);
	assert_true(__builtin_popcountll(low_bits_seen) >= 8);
}

/* ---- log.h: one message, one line ---- */

static void test_log_printable_replaces_control_chars(void **state)
{
	char s[] = "a\nb\tc\rd\x7f\x1b[1m\xc3\xa9 ok";

	rfs_log_printable(s);
	assert_string_equal(s, "a?b?c?d??[1m\xc3\xa9 ok"); /* UTF-8 stays */
}

static char logged[256];

static enum rfs_log_level logged_level;
static char *captured_big;

static void capture_big(enum rfs_log_level level, const char *line)
{
	captured_big = strdup(line);
}

static void capture_log(enum rfs_log_level level, const char *line)
{
	logged_level = level;
	snprintf(logged, sizeof(logged), "%s", line);
}

/* A user's name with a newline must not forge a second log line. */
static void test_log_message_is_one_line(void **state)
{
	rfs_log_set_sink(capture_log);
	rfs_log(RFS_LOG_ERR, "store %s: corrupt", "x\nregionfs: forged line");
	rfs_log_set_sink(NULL);
	assert_string_equal(logged, "regionfs: store x?regionfs: forged line: corrupt\n");
	assert_int_equal(logged_level, RFS_LOG_ERR);
}

/* Debug lines only with debug on; the sink gets the level as given. */
static void test_log_debug_threshold(void **state)
{
	logged[0] = '\0';
	rfs_log_set_sink(capture_log);
	rfs_log(RFS_LOG_DEBUG, "hidden");
	assert_string_equal(logged, "");
	rfs_log_set_debug(true);
	rfs_log(RFS_LOG_DEBUG, "shown %d", 1);
	rfs_log_set_debug(false);
	rfs_log_set_sink(NULL);
	assert_string_equal(logged, "regionfs: shown 1\n");
	assert_int_equal(logged_level, RFS_LOG_DEBUG);
}

static void log_line(enum rfs_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void log_line(enum rfs_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rfs_log_line(level, fmt, ap);
	va_end(ap);
}

/* Another library's lines go out as they are, whole, even long ones. */
static void test_log_line_passes_through(void **state)
{
	static char big[2000], want[sizeof(big) + 2];
	char *seen = NULL;

	memset(big, 'x', sizeof(big) - 1);
	snprintf(want, sizeof(want), "%s\n", big);
	rfs_log_set_sink(capture_log);
	log_line(RFS_LOG_DEBUG, "fuse: %s\n", "a\tb"); /* no debug threshold, no prefix */
	assert_string_equal(logged, "fuse: a\tb\n");
	assert_int_equal(logged_level, RFS_LOG_DEBUG);
	rfs_log_set_sink(capture_big);
	log_line(RFS_LOG_INFO, "%s\n", big);
	seen = captured_big;
	captured_big = NULL;
	rfs_log_set_sink(NULL);
	assert_non_null(seen);
	assert_string_equal(seen, want);
	free(seen);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_parse_size_plain_decimal, reset_injection,
					    reset_injection),
	    cmocka_unit_test_setup_teardown(test_parse_size_suffixes_are_powers_of_1024,
					    reset_injection, reset_injection),
	    cmocka_unit_test_setup_teardown(test_parse_size_percent_of_ram, reset_injection,
					    reset_injection),
	    cmocka_unit_test_setup_teardown(test_parse_size_rejects_malformed_einval,
					    reset_injection, reset_injection),
	    cmocka_unit_test_setup_teardown(test_parse_size_overflow_erange, reset_injection,
					    reset_injection),
	    cmocka_unit_test_setup_teardown(test_parse_count_suffixes, reset_injection,
					    reset_injection),
	    cmocka_unit_test_setup_teardown(test_parse_count_rejects_percent_and_garbage,
					    reset_injection, reset_injection),
	    cmocka_unit_test_setup_teardown(test_hmap_init_empty, reset_injection, reset_injection),
	    cmocka_unit_test_setup_teardown(test_hmap_init_enomem, reset_injection,
					    reset_injection),
	    cmocka_unit_test_setup_teardown(test_hmap_insert_find_remove, reset_injection,
					    reset_injection),
	    cmocka_unit_test_setup_teardown(test_hmap_collisions_and_duplicates, reset_injection,
					    reset_injection),
	    cmocka_unit_test_setup_teardown(test_hmap_grows_and_keeps_every_entry, reset_injection,
					    reset_injection),
	    cmocka_unit_test_setup_teardown(test_hmap_grow_failure_keeps_entries, reset_injection,
					    reset_injection),
	    cmocka_unit_test_setup_teardown(test_hmap_reuse_after_remove_all, reset_injection,
					    reset_injection),
	    cmocka_unit_test_setup_teardown(test_hmap_shrink, reset_injection, reset_injection),
	    cmocka_unit_test_setup_teardown(test_hmap_pop_empties, reset_injection, reset_injection),
	    cmocka_unit_test(test_list_queue_order_and_removal),
	    cmocka_unit_test_setup_teardown(test_hmap_hash_bytes_deterministic_and_spread,
					    reset_injection, reset_injection),
	    cmocka_unit_test_setup_teardown(test_hmap_hash_u64_mixes, reset_injection,
					    reset_injection),
	    cmocka_unit_test(test_log_printable_replaces_control_chars),
	    cmocka_unit_test(test_log_message_is_one_line),
	    cmocka_unit_test(test_log_debug_threshold),
	    cmocka_unit_test(test_log_line_passes_through),
	};

	/* Run a subset: CMOCKA_TEST_FILTER / CMOCKA_SKIP_FILTER="test_xattr_*" */
	if (getenv("CMOCKA_TEST_FILTER"))
		cmocka_set_test_filter(getenv("CMOCKA_TEST_FILTER"));
	if (getenv("CMOCKA_SKIP_FILTER"))
		cmocka_set_skip_filter(getenv("CMOCKA_SKIP_FILTER"));
	return cmocka_run_group_tests_name("common", tests, NULL, NULL);
}
