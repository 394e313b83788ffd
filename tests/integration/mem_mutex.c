/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Process-shared synchronization objects living in a region, used by
 * processes that each open and map the region by name: a robust
 * PTHREAD_PROCESS_SHARED mutex protects a counter (no lost updates), an
 * abandoned mutex reports EOWNERDEAD (WAIT_ABANDONED), a shared condition
 * variable wakes a waiter in another process, and a shared POSIX semaphore
 * is posted across processes. Futex waits on region pages must work, also
 * while another process keeps opening, reading, writing and closing the
 * region (an open must never drop pages that others have mapped).
 *
 * Usage: mem_mutex DIR
 */
#include "rfstest.h"

#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <time.h>

#define NCHILD 3
#define LOOPS 20000

struct shared {
	pthread_mutex_t mutex;
	pthread_cond_t cond;
	sem_t sem;
	volatile long counter;
	volatile int flag;
	volatile int stop_churn;
};

static struct shared *map_region(const char *path)
{
	int fd = open(path, O_RDWR);
	void *p;

	if (fd < 0)
		return NULL;
	p = mmap(NULL, sizeof(struct shared), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	return p == MAP_FAILED ? NULL : p;
}

static void deadline(struct timespec *ts, int sec)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += sec;
}

int main(int argc, char **argv)
{
	const char *dir = t_init(argc, argv, 1, "DIR");
	pthread_mutexattr_t ma;
	pthread_condattr_t ca;
	struct timespec ts;
	struct shared *s;
	char path[4096];
	pid_t pids[NCHILD], pid, churn;
	int fd, i, r;

	t_path(path, sizeof(path), dir, "sync");
	fd = CHECK_OK(open(path, O_RDWR | O_CREAT | O_EXCL, 0600), "create");
	REQUIRE(fd >= 0, "create");
	CHECK_OK(ftruncate(fd, 2 * t_page()), "ftruncate to two pages");
	close(fd);
	s = map_region(path);
	REQUIRE(s, "map");

	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
	CHECK_EQ(pthread_mutex_init(&s->mutex, &ma), 0, "robust process-shared mutex in the region");
	pthread_condattr_init(&ca);
	pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
	CHECK_EQ(pthread_cond_init(&s->cond, &ca), 0, "process-shared condition variable");
	CHECK_OK(sem_init(&s->sem, 1, 0), "process-shared semaphore");
	s->counter = 0;
	s->stop_churn = 0;

	/* churn: while the others contend, a process keeps opening, reading,
	 * writing (page 1) and closing the region; new opens must never drop
	 * or invalidate the pages the others have mapped */
	churn = t_fork();
	if (churn == 0) {
		struct shared *cs = map_region(path);
		long n = 0;
		char b[64];

		REQUIRE(cs, "churn child maps the region");
		while (!cs->stop_churn && n < 1000000) {
			int cfd = open(path, (n & 1) ? O_RDONLY : O_RDWR);
			struct stat cst;

			if (cfd < 0 || fstat(cfd, &cst) < 0 || pread(cfd, b, sizeof(b), 0) < 0 ||
			    ((n & 1) == 0 && pwrite(cfd, "churn", 5, t_page() + (n % 64)) != 5)) {
				CHECK(false, "churn I/O failed at round %ld (%s)", n, t_errname(errno));
				break;
			}
			close(cfd);
			n++;
		}
		CHECK(n > 10, "churn: %ld open/read/write/close rounds during the contention", n);
		t_child_exit();
	}

	/* contention: NCHILD processes + the parent, each its own mapping */
	for (i = 0; i < NCHILD; i++) {
		pids[i] = t_fork();
		if (pids[i] == 0) {
			struct shared *cs = map_region(path);
			int k, errs = 0;

			REQUIRE(cs, "child maps the region by name");
			for (k = 0; k < LOOPS; k++) {
				if (pthread_mutex_lock(&cs->mutex) != 0) {
					errs++;
					continue;
				}
				long v = cs->counter;

				if ((k & 255) == 0)
					sched_yield();
				cs->counter = v + 1;
				pthread_mutex_unlock(&cs->mutex);
			}
			CHECK_EQ(errs, 0, "lock errors in child %d", i);
			munmap(cs, sizeof(*cs));
			t_child_exit();
		}
	}
	for (i = 0; i < LOOPS; i++) {
		pthread_mutex_lock(&s->mutex);
		long v = s->counter;

		s->counter = v + 1;
		pthread_mutex_unlock(&s->mutex);
	}
	for (i = 0; i < NCHILD; i++)
		t_wait_child(pids[i], "counting child");
	s->stop_churn = 1;
	t_wait_child(churn, "churn child");
	CHECK_EQ(s->counter, (long)(NCHILD + 1) * LOOPS, "no lost updates under the shared mutex");

	/* condition variable across processes */
	pthread_mutex_lock(&s->mutex);
	s->flag = 0;
	pid = t_fork();
	if (pid == 0) {
		struct shared *cs = map_region(path);

		REQUIRE(cs, "child maps the region");
		pthread_mutex_lock(&cs->mutex);
		cs->flag = 1;
		pthread_cond_signal(&cs->cond);
		pthread_mutex_unlock(&cs->mutex);
		t_child_exit();
	}
	deadline(&ts, 20);
	r = 0;
	while (!s->flag && r == 0)
		r = pthread_cond_timedwait(&s->cond, &s->mutex, &ts);
	CHECK(s->flag == 1 && r == 0, "condition variable signalled by another process (r=%d)", r);
	pthread_mutex_unlock(&s->mutex);
	t_wait_child(pid, "signalling child");

	/* semaphore across processes */
	pid = t_fork();
	if (pid == 0) {
		struct shared *cs = map_region(path);

		REQUIRE(cs, "child maps the region");
		CHECK_OK(sem_post(&cs->sem), "sem_post");
		t_child_exit();
	}
	deadline(&ts, 20);
	CHECK_OK(sem_timedwait(&s->sem, &ts), "sem_timedwait gets the other process's post");
	t_wait_child(pid, "posting child");

	/* abandoned mutex: the owner dies while holding it */
	pid = t_fork();
	if (pid == 0) {
		struct shared *cs = map_region(path);

		REQUIRE(cs, "child maps the region");
		pthread_mutex_lock(&cs->mutex);
		t_child_exit(); /* dies holding the lock */
	}
	t_wait_child(pid, "owner that dies holding the mutex");
	r = pthread_mutex_lock(&s->mutex);
	CHECK(r == EOWNERDEAD, "lock of an abandoned robust mutex -> EOWNERDEAD (got %s)", t_errname(r));
	if (r == EOWNERDEAD) {
		CHECK_EQ(pthread_mutex_consistent(&s->mutex), 0, "pthread_mutex_consistent");
		pthread_mutex_unlock(&s->mutex);
	}
	CHECK_EQ(pthread_mutex_trylock(&s->mutex), 0, "the mutex is usable again");
	pthread_mutex_unlock(&s->mutex);

	sem_destroy(&s->sem);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->mutex);
	munmap(s, sizeof(*s));
	CHECK_OK(unlink(path), "unlink");
	return t_finish();
}
