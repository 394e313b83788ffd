// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A producer and a consumer sharing one view: the producer creates the
 * region (or opens it, if the consumer was first), writes COUNT numbered
 * records and flushes each (FlushViewOfFile); the consumer reads them as
 * they come and checks every one. Either may start first.
 *
 *   cc producer_consumer.c $(pkg-config --cflags --libs regionfs)
 *   ./a.out produce NAME COUNT & ./a.out consume NAME COUNT
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <regionfs/regionfs.h>

#define SLOTS 64

struct ring {
	_Atomic uint64_t written, read;
	uint64_t slot[SLOTS];
};

static void pause_a_little(void)
{
	struct timespec t = { 0, 100000 };

	nanosleep(&t, NULL);
}

int main(int argc, char **argv)
{
	struct rfs_region *r;
	struct ring *ring;
	uint64_t count;
	bool produce;
	int e;

	if (argc != 4 || (strcmp(argv[1], "produce") && strcmp(argv[1], "consume"))) {
		fprintf(stderr, "usage: %s produce|consume NAME COUNT\n", argv[0]);
		return 2;
	}
	produce = strcmp(argv[1], "produce") == 0;
	count = strtoull(argv[3], NULL, 10);
	/* Both create-or-open: one size, one region, whoever comes first. */
	e = rfs_create(argv[2], sizeof(*ring), RFS_PROT_READ | RFS_PROT_WRITE, NULL, &r, NULL);
	if (e < 0 || (e = rfs_map(r, RFS_MAP_WRITE, 0, 0, (void **)&ring)) < 0) {
		fprintf(stderr, "%s: %s\n", argv[2], rfs_strerror(e));
		return 2;
	}
	for (uint64_t i = 0; i < count; i++) {
		if (produce) {
			while (atomic_load(&ring->written) - atomic_load(&ring->read) == SLOTS)
				pause_a_little();
			ring->slot[i % SLOTS] = i * 2654435761u;
			atomic_store(&ring->written, i + 1);
			rfs_flush(&ring->slot[i % SLOTS], sizeof(uint64_t), 0);
		} else {
			while (atomic_load(&ring->written) == i)
				pause_a_little();
			if (ring->slot[i % SLOTS] != i * 2654435761u) {
				fprintf(stderr, "record %llu is wrong\n", (unsigned long long)i);
				return 1;
			}
			atomic_store(&ring->read, i + 1);
		}
	}
	printf("%s %llu records\n", produce ? "produced" : "consumed", (unsigned long long)count);
	rfs_unmap(ring);
	rfs_close(r);
	return 0;
}
