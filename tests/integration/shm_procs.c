/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * POSIX shared memory of unmodified programs across several processes, with
 * the mount over /dev/shm. Every process opens the objects by name (as
 * unrelated programs would), none inherits a mapping:
 *
 *  1. shm_open/ftruncate/mmap/shm_unlink: 4 workers + the parent; atomic
 *     counter (no lost increment), per-worker slots, growth by ftruncate seen
 *     by a later opener, contents kept while nobody has the region open,
 *     shm_unlink by a process that did not create it.
 *  2. Named semaphores: a ping-pong of ROUNDS rounds between two processes
 *     checking a shared turn counter every round, then 3 processes posting
 *     a counting semaphore (exact value, EAGAIN once drained), sem_unlink.
 *  3. A PTHREAD_PROCESS_SHARED mutex and two condition variables in a
 *     shm_open region: 2 producer and 2 consumer processes through a small
 *     ring buffer; every item consumed exactly once, per-producer FIFO order,
 *     exact sum.
 *  4. Racing creators: NRACE processes shm_open(O_CREAT) and
 *     sem_open(O_CREAT) the same names at once; all get the same object
 *     (glibc's sem_open creates a temp file and link()s it: one wins).
 *  5. Hand-off churn: NWORK pairs reuse one name each for CHURN rounds
 *     (create with O_EXCL, size and data of the round, consumer opens,
 *     checks, shm_unlink); the consumer keeps the previous round's mapping
 *     until the next round: the recreated name never shows a stale size or
 *     stale data, and the orphan keeps its own.
 *
 * Usage: shm_procs DIR     (DIR must be /dev/shm, the test mount)
 */
#include "rfstest.h"

#include <pthread.h>
#include <semaphore.h>
#include <time.h>

#define NWORK 4
#define ITER 20000
#define ROUNDS 2000
#define NPOST 3
#define POSTS 500
#define NPROD 2
#define NCONS 2
#define NITEMS 5000
#define RING 8
#define NRACE 4
#define CHURN 150

static long page;

/* shm_open by name and map the whole object; REQUIREs success. */
static void *open_map(const char *name, size_t len, int *ret_fd)
{
	int fd = shm_open(name, O_RDWR, 0);
	void *m;

	REQUIRE(fd >= 0, "shm_open(%s, O_RDWR)", name);
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	REQUIRE(m != MAP_FAILED, "mmap %s", name);
	if (ret_fd)
		*ret_fd = fd;
	else
		close(fd);
	return m;
}

static struct timespec deadline(clockid_t clk, int secs)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	ts.tv_sec += secs;
	return ts;
}

/* ---------------------------------------------------------------- 1 */

#define DATA "/rfs-procs-data"
#define SLOT 512

static void test_counters(void)
{
	struct stat st;
	pid_t pids[NWORK];
	long *m;
	int fd, i;

	fd = CHECK_OK(shm_open(DATA, O_RDWR | O_CREAT | O_EXCL, 0600), "shm_open %s O_CREAT|O_EXCL", DATA);
	REQUIRE(fd >= 0, "create %s", DATA);
	REQUIRE(fstat(fd, &st) == 0, "fstat");
	CHECK_EQ(st.st_size, 0, "a new shm object has size 0");
	CHECK_OK(ftruncate(fd, 3 * page), "ftruncate to 3 pages");
	close(fd);

	for (i = 0; i < NWORK; i++) {
		pids[i] = t_fork();
		if (pids[i] == 0) {
			int cfd, k;
			long *cm;

			cm = open_map(DATA, 3 * page, &cfd);
			REQUIRE(fstat(cfd, &st) == 0, "fstat");
			CHECK_EQ(st.st_size, 3 * page, "worker %d: size seen by a new opener", i);
			for (k = 0; k < ITER; k++)
				__atomic_fetch_add(&cm[0], 1, __ATOMIC_SEQ_CST);
			t_fill((char *)cm + page + i * SLOT, SLOT, 100 + i);
			CHECK_EQ(pwrite(cfd, &i, sizeof(i), 2 * page + i * sizeof(i)), sizeof(i),
				 "worker %d: pwrite its id", i);
			munmap(cm, 3 * page);
			close(cfd);
			t_child_exit();
		}
	}
	for (i = 0; i < NWORK; i++)
		t_wait_child(pids[i], "counter worker");

	/* Nobody has the region open now: the name keeps it. */
	m = open_map(DATA, 3 * page, &fd);
	CHECK_EQ(m[0], (long)NWORK * ITER, "atomic counter after %d workers x %d", NWORK, ITER);
	for (i = 0; i < NWORK; i++) {
		int id = -1;

		CHECK_EQ(t_verify((char *)m + page + i * SLOT, SLOT, 100 + i), -1, "slot of worker %d intact", i);
		memcpy(&id, (char *)m + 2 * page + i * sizeof(id), sizeof(id));
		CHECK_EQ(id, i, "pwrite of worker %d visible in the mapping", i);
	}
	CHECK_OK(ftruncate(fd, 4 * page), "grow to 4 pages");
	munmap(m, 3 * page);
	close(fd);

	pids[0] = t_fork();
	if (pids[0] == 0) {
		int cfd;
		char *cm = open_map(DATA, 4 * page, &cfd);

		REQUIRE(fstat(cfd, &st) == 0, "fstat");
		CHECK_EQ(st.st_size, 4 * page, "a later opener sees the grown size");
		CHECK_EQ(t_first_nonzero(cm + 3 * page, page), -1, "the grown page reads as zeros");
		t_fill(cm + 3 * page, page, 200);
		CHECK_EQ(((long *)cm)[0], (long)NWORK * ITER, "a later opener sees the counter");
		munmap(cm, 4 * page);
		close(cfd);
		CHECK_OK(shm_unlink(DATA), "shm_unlink by a process that did not create it");
		t_child_exit();
	}
	t_wait_child(pids[0], "unlinking child");
	CHECK_ERRNO(shm_open(DATA, O_RDWR, 0), ENOENT, "shm_open after another process unlinked it");
	CHECK_ERRNO(shm_unlink(DATA), ENOENT, "shm_unlink again");
}

/* ---------------------------------------------------------------- 2 */

#define PING "/rfs-procs-ping"
#define PONG "/rfs-procs-pong"
#define COUNT "/rfs-procs-count"
#define TURN "/rfs-procs-turn"

static void test_semaphores(void)
{
	sem_t *ping, *pong, *cnt;
	struct timespec ts;
	volatile long *turn;
	long bad = 0;
	pid_t pid, pids[NPOST];
	int fd, i, v;

	fd = shm_open(TURN, O_RDWR | O_CREAT | O_EXCL, 0600);
	REQUIRE(fd >= 0 && ftruncate(fd, page) == 0, "create %s", TURN);
	close(fd);
	turn = open_map(TURN, page, NULL);
	ping = sem_open(PING, O_CREAT | O_EXCL, 0600, 0);
	pong = sem_open(PONG, O_CREAT | O_EXCL, 0600, 0);
	REQUIRE(ping != SEM_FAILED && pong != SEM_FAILED, "sem_open ping/pong O_CREAT|O_EXCL");

	pid = t_fork();
	if (pid == 0) {
		sem_t *cping = sem_open(PING, 0), *cpong = sem_open(PONG, 0);
		volatile long *cturn = open_map(TURN, page, NULL);
		long cbad = 0;

		REQUIRE(cping != SEM_FAILED && cpong != SEM_FAILED, "child: sem_open ping/pong by name");
		for (i = 0; i < ROUNDS; i++) {
			ts = deadline(CLOCK_REALTIME, 20);
			if (sem_timedwait(cping, &ts) != 0) {
				CHECK(false, "round %d: sem_timedwait(ping) failed: %s", i, t_errname(errno));
				break;
			}
			if (*cturn != 2L * i + 1)
				cbad++;
			*cturn = *cturn + 1;
			sem_post(cpong);
		}
		CHECK_EQ(cbad, 0, "ponger: rounds where the turn counter was wrong");
		sem_close(cping);
		sem_close(cpong);
		t_child_exit();
	}
	for (i = 0; i < ROUNDS; i++) {
		*turn = *turn + 1;
		sem_post(ping);
		ts = deadline(CLOCK_REALTIME, 20);
		if (sem_timedwait(pong, &ts) != 0) {
			CHECK(false, "round %d: sem_timedwait(pong) failed: %s", i, t_errname(errno));
			break;
		}
		if (*turn != 2L * i + 2)
			bad++;
	}
	CHECK_EQ(bad, 0, "pinger: rounds where the turn counter was wrong");
	CHECK_EQ(*turn, 2L * ROUNDS, "turn counter after %d ping-pong rounds", ROUNDS);
	t_wait_child(pid, "ponger");
	v = -1;
	sem_getvalue(ping, &v);
	CHECK_EQ(v, 0, "ping semaphore back to 0");
	v = -1;
	sem_getvalue(pong, &v);
	CHECK_EQ(v, 0, "pong semaphore back to 0");

	cnt = sem_open(COUNT, O_CREAT | O_EXCL, 0600, 0);
	REQUIRE(cnt != SEM_FAILED, "sem_open %s", COUNT);
	for (i = 0; i < NPOST; i++) {
		pids[i] = t_fork();
		if (pids[i] == 0) {
			sem_t *c = sem_open(COUNT, 0);
			int k;

			REQUIRE(c != SEM_FAILED, "poster %d: sem_open by name", i);
			for (k = 0; k < POSTS; k++)
				if (sem_post(c) != 0)
					CHECK(false, "poster %d: sem_post: %s", i, t_errname(errno));
			sem_close(c);
			t_child_exit();
		}
	}
	for (i = 0; i < NPOST; i++)
		t_wait_child(pids[i], "poster");
	v = -1;
	sem_getvalue(cnt, &v);
	CHECK_EQ(v, NPOST * POSTS, "counting semaphore after %d processes x %d posts", NPOST, POSTS);
	for (i = 0; i < NPOST * POSTS; i++)
		if (sem_trywait(cnt) != 0)
			break;
	CHECK_EQ(i, NPOST * POSTS, "sem_trywait succeeds exactly %d times", NPOST * POSTS);
	CHECK_ERRNO(sem_trywait(cnt), EAGAIN, "sem_trywait on the drained semaphore");

	CHECK_OK(sem_close(ping) + sem_close(pong) + sem_close(cnt), "sem_close x3");
	CHECK_OK(sem_unlink(PING), "sem_unlink %s", PING);
	CHECK_OK(sem_unlink(PONG), "sem_unlink %s", PONG);
	CHECK_OK(sem_unlink(COUNT), "sem_unlink %s", COUNT);
	CHECK_ERRNO(sem_open(PING, 0) == SEM_FAILED ? -1 : 0, ENOENT, "sem_open of an unlinked semaphore");
	munmap((void *)turn, page);
	CHECK_OK(shm_unlink(TURN), "shm_unlink %s", TURN);
}

/* ---------------------------------------------------------------- 3 */

#define PC "/rfs-procs-pc"

struct pc {
	pthread_mutex_t mutex;
	pthread_cond_t not_empty;
	pthread_cond_t not_full;
	unsigned ring[RING];
	unsigned head, tail, count;
	int producers_left;
	long waits_full;
	long consumed[NCONS];
	long sum;
	long order_errors;
	long timeouts;
	unsigned char seen[NPROD * NITEMS];
};

/* Wait on a condition with a 20 s deadline; counts timeouts. */
static int pc_wait(struct pc *s, pthread_cond_t *c)
{
	struct timespec ts = deadline(CLOCK_MONOTONIC, 20);
	int r = pthread_cond_timedwait(c, &s->mutex, &ts);

	if (r == ETIMEDOUT)
		s->timeouts++;
	return r;
}

static void producer(int p)
{
	struct pc *s = open_map(PC, sizeof(struct pc), NULL);
	int k;

	for (k = 0; k < NITEMS; k++) {
		pthread_mutex_lock(&s->mutex);
		while (s->count == RING) {
			s->waits_full++;
			if (pc_wait(s, &s->not_full) == ETIMEDOUT)
				break;
		}
		if (s->count == RING) {
			pthread_mutex_unlock(&s->mutex);
			CHECK(false, "producer %d: timed out on a full ring", p);
			break;
		}
		s->ring[s->tail] = (unsigned)(p * NITEMS + k);
		s->tail = (s->tail + 1) % RING;
		s->count++;
		pthread_cond_signal(&s->not_empty);
		pthread_mutex_unlock(&s->mutex);
	}
	pthread_mutex_lock(&s->mutex);
	if (--s->producers_left == 0)
		pthread_cond_broadcast(&s->not_empty);
	pthread_mutex_unlock(&s->mutex);
	munmap(s, sizeof(*s));
}

static void consumer(int c)
{
	struct pc *s = open_map(PC, sizeof(struct pc), NULL);
	long last[NPROD];
	unsigned item;
	int p;

	for (p = 0; p < NPROD; p++)
		last[p] = -1;
	for (;;) {
		pthread_mutex_lock(&s->mutex);
		while (s->count == 0 && s->producers_left > 0)
			if (pc_wait(s, &s->not_empty) == ETIMEDOUT)
				break;
		if (s->count == 0) {
			bool stuck = s->producers_left > 0;

			pthread_mutex_unlock(&s->mutex);
			if (stuck)
				CHECK(false, "consumer %d: timed out on an empty ring", c);
			break;
		}
		item = s->ring[s->head];
		s->head = (s->head + 1) % RING;
		s->count--;
		pthread_cond_signal(&s->not_full);
		if (item < NPROD * NITEMS) {
			s->seen[item]++;
			p = item / NITEMS;
			if ((long)(item % NITEMS) <= last[p])
				s->order_errors++;
			last[p] = item % NITEMS;
		}
		s->consumed[c]++;
		s->sum += item;
		pthread_mutex_unlock(&s->mutex);
	}
	munmap(s, sizeof(*s));
}

static void test_prodcons(void)
{
	pthread_mutexattr_t ma;
	pthread_condattr_t ca;
	struct pc *s;
	pid_t pids[NPROD + NCONS];
	long total = 0, want_sum = 0, not_once = 0;
	int fd, i;

	fd = CHECK_OK(shm_open(PC, O_RDWR | O_CREAT | O_EXCL, 0600), "shm_open %s", PC);
	REQUIRE(fd >= 0 && ftruncate(fd, sizeof(struct pc)) == 0, "create %s", PC);
	close(fd);
	s = open_map(PC, sizeof(*s), NULL);
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	CHECK_EQ(pthread_mutex_init(&s->mutex, &ma), 0, "process-shared mutex in the shm object");
	pthread_condattr_init(&ca);
	pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	CHECK_EQ(pthread_cond_init(&s->not_empty, &ca) + pthread_cond_init(&s->not_full, &ca), 0,
		 "process-shared condition variables in the shm object");
	s->producers_left = NPROD;

	for (i = 0; i < NPROD; i++) {
		pids[i] = t_fork();
		if (pids[i] == 0) {
			producer(i);
			t_child_exit();
		}
	}
	/* Consumers start once the ring is full: producers must block on
	 * not_full and be woken across processes. */
	for (i = 0; i < 2000; i++) {
		pthread_mutex_lock(&s->mutex);
		bool full = s->count == RING;
		pthread_mutex_unlock(&s->mutex);
		if (full)
			break;
		usleep(5000);
	}
	CHECK(i < 2000, "producers filled the ring before the consumers started");
	for (i = 0; i < NCONS; i++) {
		pids[NPROD + i] = t_fork();
		if (pids[NPROD + i] == 0) {
			consumer(i);
			t_child_exit();
		}
	}
	for (i = 0; i < NPROD + NCONS; i++)
		t_wait_child(pids[i], i < NPROD ? "producer" : "consumer");

	for (i = 0; i < NCONS; i++)
		total += s->consumed[i];
	for (i = 0; i < NPROD * NITEMS; i++) {
		want_sum += i;
		if (s->seen[i] != 1)
			not_once++;
	}
	CHECK_EQ(total, NPROD * NITEMS, "items consumed in total");
	CHECK_EQ(not_once, 0, "items not consumed exactly once");
	CHECK_EQ(s->sum, want_sum, "sum of consumed items");
	CHECK_EQ(s->order_errors, 0, "per-producer FIFO order violations");
	CHECK_EQ(s->count, 0, "ring empty at the end");
	CHECK_EQ(s->producers_left, 0, "all producers finished");
	CHECK_EQ(s->timeouts, 0, "condition waits that timed out");
	CHECK(s->waits_full > 0, "producers waited on not_full (%ld times) and were woken by consumers",
	      s->waits_full);
	CHECK(s->consumed[0] > 0 && s->consumed[1] > 0, "both consumers got items (%ld, %ld)", s->consumed[0],
	      s->consumed[1]);
	CHECK_EQ(pthread_mutex_trylock(&s->mutex), 0, "mutex free at the end");
	pthread_mutex_unlock(&s->mutex);
	munmap(s, sizeof(*s));
	CHECK_OK(shm_unlink(PC), "shm_unlink %s", PC);
}

/* ---------------------------------------------------------------- 4 */

#define RACE_SHM "/rfs-procs-race"
#define RACE_SEM "/rfs-procs-race-sem"
#define RACE_GO "/rfs-procs-race-go"

static void test_race(void)
{
	pid_t pids[NRACE];
	sem_t *go, *s;
	long *m;
	int i, v;

	go = sem_open(RACE_GO, O_CREAT | O_EXCL, 0600, 0);
	REQUIRE(go != SEM_FAILED, "sem_open %s", RACE_GO);
	for (i = 0; i < NRACE; i++) {
		pids[i] = t_fork();
		if (pids[i] == 0) {
			sem_t *cgo = sem_open(RACE_GO, 0), *cs;
			struct timespec ts = deadline(CLOCK_REALTIME, 20);
			long *cm;
			int fd;

			REQUIRE(cgo != SEM_FAILED && sem_timedwait(cgo, &ts) == 0, "racer %d: start signal", i);
			fd = shm_open(RACE_SHM, O_RDWR | O_CREAT, 0600);
			cs = sem_open(RACE_SEM, O_CREAT, 0600, 0);
			REQUIRE(fd >= 0 && cs != SEM_FAILED, "racer %d: shm_open/sem_open O_CREAT", i);
			/* growing by everyone to the same size is harmless */
			REQUIRE(ftruncate(fd, page) == 0, "racer %d: ftruncate", i);
			cm = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
			REQUIRE(cm != MAP_FAILED, "racer %d: mmap", i);
			__atomic_fetch_add(&cm[0], 1, __ATOMIC_SEQ_CST);
			CHECK_OK(sem_post(cs), "racer %d: sem_post", i);
			munmap(cm, page);
			close(fd);
			sem_close(cs);
			sem_close(cgo);
			t_child_exit();
		}
	}
	for (i = 0; i < NRACE; i++)
		sem_post(go);
	for (i = 0; i < NRACE; i++)
		t_wait_child(pids[i], "racer");
	m = open_map(RACE_SHM, page, NULL);
	CHECK_EQ(m[0], NRACE, "%d racing O_CREAT openers share one shm object", NRACE);
	munmap(m, page);
	s = sem_open(RACE_SEM, 0);
	REQUIRE(s != SEM_FAILED, "sem_open %s", RACE_SEM);
	v = -1;
	sem_getvalue(s, &v);
	CHECK_EQ(v, NRACE, "%d racing O_CREAT sem_opens share one semaphore", NRACE);
	sem_close(s);
	sem_close(go);
	CHECK_OK(shm_unlink(RACE_SHM), "shm_unlink %s", RACE_SHM);
	CHECK_OK(sem_unlink(RACE_SEM), "sem_unlink %s", RACE_SEM);
	CHECK_OK(sem_unlink(RACE_GO), "sem_unlink %s", RACE_GO);
}

/* ---------------------------------------------------------------- 5 */

static size_t churn_size(int k)
{
	return (size_t)(k % 7 + 1) * page - (k % 3) * 100;
}

static void churn_producer(int i)
{
	char name[64], rname[64], aname[64];
	struct timespec ts;
	sem_t *ready, *ack;
	int k, fd;
	char *m;

	snprintf(name, sizeof(name), "/rfs-churn-%d", i);
	snprintf(rname, sizeof(rname), "/rfs-churn-ready-%d", i);
	snprintf(aname, sizeof(aname), "/rfs-churn-ack-%d", i);
	ready = sem_open(rname, 0);
	ack = sem_open(aname, 0);
	REQUIRE(ready != SEM_FAILED && ack != SEM_FAILED, "producer %d: sem_open", i);
	for (k = 0; k < CHURN; k++) {
		fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
		if (fd < 0) {
			CHECK(false, "producer %d round %d: shm_open O_EXCL: %s", i, k, t_errname(errno));
			break;
		}
		if (ftruncate(fd, churn_size(k)) < 0 ||
		    (m = mmap(NULL, churn_size(k), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) == MAP_FAILED) {
			CHECK(false, "producer %d round %d: ftruncate/mmap: %s", i, k, t_errname(errno));
			close(fd);
			break;
		}
		t_fill(m, churn_size(k), 1000 * i + k);
		munmap(m, churn_size(k));
		close(fd);
		sem_post(ready);
		ts = deadline(CLOCK_REALTIME, 20);
		if (sem_timedwait(ack, &ts) != 0) {
			CHECK(false, "producer %d round %d: no ack: %s", i, k, t_errname(errno));
			break;
		}
	}
	CHECK_EQ(k, CHURN, "producer %d: rounds completed", i);
	sem_close(ready);
	sem_close(ack);
}

static void churn_consumer(int i)
{
	char name[64], rname[64], aname[64];
	long stale_size = 0, stale_data = 0, orphan_bad = 0;
	struct timespec ts;
	struct stat st;
	sem_t *ready, *ack;
	char *prev = NULL;
	size_t prev_len = 0;
	int k, fd;
	char *m;

	snprintf(name, sizeof(name), "/rfs-churn-%d", i);
	snprintf(rname, sizeof(rname), "/rfs-churn-ready-%d", i);
	snprintf(aname, sizeof(aname), "/rfs-churn-ack-%d", i);
	ready = sem_open(rname, 0);
	ack = sem_open(aname, 0);
	REQUIRE(ready != SEM_FAILED && ack != SEM_FAILED, "consumer %d: sem_open", i);
	for (k = 0; k < CHURN; k++) {
		ts = deadline(CLOCK_REALTIME, 20);
		if (sem_timedwait(ready, &ts) != 0) {
			CHECK(false, "consumer %d round %d: not ready: %s", i, k, t_errname(errno));
			break;
		}
		fd = shm_open(name, O_RDWR, 0);
		if (fd < 0 || fstat(fd, &st) < 0) {
			CHECK(false, "consumer %d round %d: shm_open/fstat: %s", i, k, t_errname(errno));
			break;
		}
		if ((size_t)st.st_size != churn_size(k))
			stale_size++;
		m = mmap(NULL, churn_size(k), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		close(fd);
		if (m == MAP_FAILED) {
			CHECK(false, "consumer %d round %d: mmap: %s", i, k, t_errname(errno));
			break;
		}
		if (t_verify(m, churn_size(k), 1000 * i + k) != -1)
			stale_data++;
		if (shm_unlink(name) < 0) {
			CHECK(false, "consumer %d round %d: shm_unlink: %s", i, k, t_errname(errno));
			break;
		}
		/* the previous round's object, an orphan since then, and now
		 * with a new object under its name: still its own data */
		if (prev) {
			if (t_verify(prev, prev_len, 1000 * i + k - 1) != -1)
				orphan_bad++;
			munmap(prev, prev_len);
		}
		prev = m;
		prev_len = churn_size(k);
		sem_post(ack);
	}
	if (prev)
		munmap(prev, prev_len);
	CHECK_EQ(k, CHURN, "consumer %d: rounds completed", i);
	CHECK_EQ(stale_size, 0, "consumer %d: rounds where the recreated name had a stale size", i);
	CHECK_EQ(stale_data, 0, "consumer %d: rounds where the recreated name had stale data", i);
	CHECK_EQ(orphan_bad, 0, "consumer %d: rounds where the previous (unlinked) object changed", i);
	sem_close(ready);
	sem_close(ack);
}

static void test_churn(void)
{
	pid_t pids[2 * NWORK];
	char rname[64], aname[64];
	sem_t *r, *a;
	int i;

	for (i = 0; i < NWORK; i++) {
		snprintf(rname, sizeof(rname), "/rfs-churn-ready-%d", i);
		snprintf(aname, sizeof(aname), "/rfs-churn-ack-%d", i);
		r = sem_open(rname, O_CREAT | O_EXCL, 0600, 0);
		a = sem_open(aname, O_CREAT | O_EXCL, 0600, 0);
		REQUIRE(r != SEM_FAILED && a != SEM_FAILED, "sem_open churn semaphores");
		sem_close(r);
		sem_close(a);
	}
	for (i = 0; i < 2 * NWORK; i++) {
		pids[i] = t_fork();
		if (pids[i] == 0) {
			if (i < NWORK)
				churn_producer(i);
			else
				churn_consumer(i - NWORK);
			t_child_exit();
		}
	}
	for (i = 0; i < 2 * NWORK; i++)
		t_wait_child(pids[i], i < NWORK ? "churn producer" : "churn consumer");
	for (i = 0; i < NWORK; i++) {
		snprintf(rname, sizeof(rname), "/rfs-churn-ready-%d", i);
		snprintf(aname, sizeof(aname), "/rfs-churn-ack-%d", i);
		if (sem_unlink(rname) < 0 || sem_unlink(aname) < 0)
			CHECK(false, "sem_unlink churn semaphores %d: %s", i, t_errname(errno));
	}
}

int main(int argc, char **argv)
{
	const char *dir = t_init(argc, argv, 1, "DIR");
	struct stat st, sdir;

	page = t_page();
	REQUIRE(stat(dir, &sdir) == 0 && stat("/dev/shm", &st) == 0, "stat");
	REQUIRE(sdir.st_dev == st.st_dev && sdir.st_ino == st.st_ino, "the test mount is /dev/shm");
	CHECK_EQ(t_count_entries("/dev/shm", NULL), 0, "/dev/shm empty at the start");

	test_counters();
	test_semaphores();
	test_prodcons();
	test_race();
	test_churn();

	CHECK_EQ(t_count_entries("/dev/shm", NULL), 0, "/dev/shm empty at the end");
	return t_finish();
}
