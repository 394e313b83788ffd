/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Two processes share one region with MAP_SHARED: each opens and maps the
 * file by itself (different fds, different addresses) and sees the other's
 * stores in both directions; atomic counters from both processes add up
 * (one set of pages, not copies); a mapping inherited through fork is shared
 * too; the data outlives every mapping and fd.
 *
 * Usage: mem_share DIR
 */
#include "rfstest.h"

#define NPAGES 16
#define ROUNDS 5
#define INCREMENTS 200000

static uint64_t *word(char *base, long ps, int page, int slot)
{
	return (uint64_t *)(base + (long)page * ps + slot * 8);
}

static void child_main(struct t_chan *c, const char *path, long ps, char *inherited)
{
	char *q;
	int fd, round, i, bad;

	/* The inherited mapping is shared with the parent as well. */
	*word(inherited, ps, NPAGES - 1, 100) = 0xC0FFEE;
	t_send(c, true, 'i');

	fd = open(path, O_RDWR);
	REQUIRE(fd >= 0, "child: open the region by name");
	q = mmap(NULL, NPAGES * ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	REQUIRE(q != MAP_FAILED, "child: mmap MAP_SHARED");
	CHECK(q != inherited, "own mapping at a different address than the inherited one");

	for (round = 0; round < ROUNDS; round++) {
		if (t_recv(c, true) != 'p') {
			CHECK(false, "round %d: no word from the parent", round);
			break;
		}
		bad = 0;
		for (i = 0; i < NPAGES; i++) {
			if (*word(q, ps, i, 0) != (uint64_t)(round * 1000 + i) ||
			    *word(q, ps, i, (int)(ps / 8) - 1) != (uint64_t)(round * 1000 + i + 7))
				bad++;
		}
		CHECK(bad == 0, "round %d: sees the parent's stores on all %d pages (%d wrong)",
		      round, NPAGES, bad);
		for (i = 0; i < NPAGES; i++)
			*word(q, ps, i, 1) = (uint64_t)(round * 2000 + i);
		t_send(c, true, 'c');
	}

	/* Concurrent atomic increments on the same word. */
	if (t_recv(c, true) == 'a') {
		for (i = 0; i < INCREMENTS; i++)
			__atomic_fetch_add(word(q, ps, 3, 5), 1, __ATOMIC_SEQ_CST);
		t_send(c, true, 'd');
	}
	munmap(q, NPAGES * ps);
	close(fd);
	t_child_exit();
}

int main(int argc, char **argv)
{
	const char *dir = t_init(argc, argv, 1, "DIR");
	long ps = t_page();
	char path[4096], buf[64];
	struct t_chan c;
	char *p;
	int fd, round, i, bad;
	pid_t pid;

	t_path(path, sizeof(path), dir, "share");
	fd = CHECK_OK(open(path, O_RDWR | O_CREAT | O_EXCL, 0600), "create the region");
	REQUIRE(fd >= 0, "create");
	CHECK_OK(ftruncate(fd, NPAGES * ps), "ftruncate to %d pages", NPAGES);
	p = mmap(NULL, NPAGES * ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	REQUIRE(p != MAP_FAILED, "mmap MAP_SHARED");

	t_chan_open(&c);
	pid = t_fork();
	if (pid == 0) {
		t_chan_side(&c, true);
		child_main(&c, path, ps, p);
	}
	t_chan_side(&c, false);

	CHECK(t_recv(&c, false) == 'i', "child wrote through the inherited mapping");
	CHECK_EQ(*word(p, ps, NPAGES - 1, 100), 0xC0FFEE, "parent sees a store made through the child's inherited mapping");

	for (round = 0; round < ROUNDS; round++) {
		for (i = 0; i < NPAGES; i++) {
			*word(p, ps, i, 0) = (uint64_t)(round * 1000 + i);
			*word(p, ps, i, (int)(ps / 8) - 1) = (uint64_t)(round * 1000 + i + 7);
		}
		t_send(&c, false, 'p');
		if (t_recv(&c, false) != 'c') {
			CHECK(false, "round %d: no answer from the child", round);
			break;
		}
		bad = 0;
		for (i = 0; i < NPAGES; i++)
			if (*word(p, ps, i, 1) != (uint64_t)(round * 2000 + i))
				bad++;
		CHECK(bad == 0, "round %d: parent sees the child's stores on all %d pages (%d wrong)",
		      round, NPAGES, bad);
	}

	/* The child's stores are in the file, not only in its mapping. */
	if (pread(fd, buf, 16, 7 * ps) == 16) {
		uint64_t v[2];

		memcpy(v, buf, 16);
		CHECK(v[1] == (uint64_t)((ROUNDS - 1) * 2000 + 7), "pread sees the child's last store");
	} else {
		CHECK(false, "pread of page 7");
	}

	t_send(&c, false, 'a');
	for (i = 0; i < INCREMENTS; i++)
		__atomic_fetch_add(word(p, ps, 3, 5), 1, __ATOMIC_SEQ_CST);
	CHECK(t_recv(&c, false) == 'd', "child finished its increments");
	CHECK_EQ(__atomic_load_n(word(p, ps, 3, 5), __ATOMIC_SEQ_CST), 2 * INCREMENTS,
		 "atomic increments from two processes add up");
	t_wait_child(pid, "sharing child");

	/* Data outlives every mapping and fd. */
	CHECK_OK(munmap(p, NPAGES * ps), "munmap");
	CHECK_OK(close(fd), "close");
	fd = CHECK_OK(open(path, O_RDONLY), "reopen read-only");
	p = mmap(NULL, NPAGES * ps, PROT_READ, MAP_SHARED, fd, 0);
	REQUIRE(p != MAP_FAILED, "mmap again");
	CHECK_EQ(*word(p, ps, 3, 5), 2 * INCREMENTS, "counter persists after all mappings were gone");
	CHECK_EQ(*word(p, ps, 9, 1), (ROUNDS - 1) * 2000 + 9, "child's data persists");
	munmap(p, NPAGES * ps);
	close(fd);
	CHECK_OK(unlink(path), "unlink");
	return t_finish();
}
