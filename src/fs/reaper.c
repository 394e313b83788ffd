/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Lifetimes at work: creators watched, last mappings waited for. See reaper.h. */
#include "fs/reaper.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "common/thread.h"
#include "common/hmap.h"
#include "common/list.h"
#include "common/log.h"
#include "common/macros.h"
#include "fs/holders.h"
#include "fs/rfs.h"
#include "registry/lifetime.h"

/* Pids of mapping processes watched per pending region, and in all (fds
 * the regions need: past that, the timer finds their exits). */
#define MAPPERS_PER_REGION 16u
#define MAPPERS_MAX 64u

enum tag {
	TAG_WAKE = 1,
	TAG_TIMER,
	TAG_CREATOR,
	TAG_MAPPER,
};

/* One live creator: its regions' names go when it exits. */
struct watch {
	enum tag tag; /* TAG_CREATOR: first, for epoll's data pointer */
	struct hmap_node hn;
	pid_t pid;
	uint64_t start;
	int pidfd; /* -1: polled (over the pidfd budget) */
};

/* A process that maps a pending region: its exit is a reason to look again. */
struct mapper {
	enum tag tag; /* TAG_MAPPER */
	struct list_node link;
	int pidfd;
};

/* A last-close region whose last RELEASE came; mappings may remain (passthrough). */
struct pending {
	struct list_node link;
	uint64_t ino;
	uint64_t gen;
	bool scanned; /* mapped at the last look: wait for an exit or the timer */
};

struct reaper {
	struct rfs *fs;
	pthread_mutex_t lock; /* watches, polled, pending, stop */
	pthread_t thread;
	bool started, stop;
	int epfd, wakefd, timerfd;
	bool timer_armed;   /* the thread's only */
	unsigned period_ms; /* the thread's only: the timer's, when armed */
	struct hmap watches;
	size_t pidfds, polled, pidfd_budget;
	struct list_node pending;
	struct list_node mappers; /* the thread's only */
	size_t nmappers;          /* the thread's only */
};

static const enum tag wake_tag = TAG_WAKE, timer_tag = TAG_TIMER;

static int pidfd_open(pid_t pid)
{
	long fd = syscall(SYS_pidfd_open, pid, 0);

	return fd < 0 ? -errno : (int)fd;
}

/* Read a small /proc file into buf (NUL-terminated). */
static ssize_t read_small(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n < 0)
		n = -errno;
	close(fd);
	if (n >= 0)
		buf[n] = '\0';
	return n;
}

/*
 * /proc/PID/stat: comm (between the first '(' and the last ')': it may
 * hold either), the thread group's number of threads, field 20, and the
 * start time, field 22. ret_comm and ret_threads may be NULL.
 */
static int proc_stat(pid_t pid, char ret_comm[16], uint64_t *ret_start, long *ret_threads)
{
	char path[32], buf[1024], *open_paren, *close_paren, *p;
	unsigned long long start;
	long threads = 0;
	ssize_t n;
	size_t len;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	n = read_small(path, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	open_paren = strchr(buf, '(');
	close_paren = strrchr(buf, ')');
	if (!open_paren || !close_paren || close_paren < open_paren)
		return -EINVAL;
	p = close_paren + 1;
	for (int field = 3; field < 22 && p; field++) {
		p = strchr(p + 1, ' ');
		if (field == 19 && p && sscanf(p, " %ld", &threads) != 1)
			return -EINVAL;
	}
	if (!p || sscanf(p, " %llu", &start) != 1)
		return -EINVAL;
	if (ret_comm) {
		len = RFS_MIN((size_t)(close_paren - open_paren - 1), (size_t)15);
		memcpy(ret_comm, open_paren + 1, len);
		ret_comm[len] = '\0';
		rfs_ascii_printable(ret_comm);
	}
	*ret_start = start;
	if (ret_threads)
		*ret_threads = threads;
	return 0;
}

/* The thread group of a thread (Tgid: in /proc/TID/status). */
static pid_t proc_tgid(pid_t tid)
{
	char path[32], buf[2048], *l;
	long tgid;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)tid);
	if (read_small(path, buf, sizeof(buf)) < 0)
		return -1;
	l = strstr(buf, "\nTgid:");
	if (!l || sscanf(l, "\nTgid: %ld", &tgid) != 1 || tgid <= 0)
		return -1;
	return (pid_t)tgid;
}

void reaper_identify(pid_t tid, uid_t uid, struct registry_creator *ret)
{
	struct registry_creator c = { .pid = tid, .uid = uid, .time = time(NULL) };
	long threads = 0;
	int fd;

	strcpy(c.comm, "?");
	if (tid > 0 && proc_stat(tid, c.comm, &c.start, &threads) < 0) {
		c.start = 0;
		strcpy(c.comm, "?");
	}
	/*
	 * A process of one thread is its own leader (most callers: one read
	 * in all). Else pidfd_open() accepts only a thread-group leader: one
	 * system call tells whether the requesting thread is the process
	 * itself, else its status names the leader, whose start time is the
	 * process's (6.18 says ENOENT for another thread, older kernels
	 * EINVAL).
	 */
	if (threads > 1) {
		fd = pidfd_open(tid);
		if (fd >= 0)
			close(fd);
		else if (fd != -ESRCH)
			c.pid = proc_tgid(tid);
		if (c.pid <= 0) {
			c.pid = tid;
			c.start = 0;
		} else if (c.pid != tid && proc_stat(c.pid, c.comm, &c.start, NULL) < 0) {
			c.start = 0;
			strcpy(c.comm, "?");
		}
	}
	*ret = c;
}

bool reaper_creator_alive(const struct registry_creator *c)
{
	uint64_t start;

	if (c->other_boot)
		return false;
	return proc_stat(c->pid, NULL, &start, NULL) == 0 && start == c->start;
}

static void removed_name(void *ctx, uint64_t parent, const char *name)
{
	struct rfs *fs = ctx;

	if (fs->notifier)
		notifier_inval_entry(fs->notifier, parent, name);
}

/* The regions of creator c (pid, start, other_boot) lose their names. */
static void expire_creator(struct reaper *rp, const struct registry_creator *c)
{
	pid_t pid = c->pid;
	int r = registry_expire_creator(rp->fs->reg, c, removed_name, rp->fs);

	if (r < 0)
		log_err("lifetime: removing the regions of exited process %ld: %s", (long)pid,
			strerror(-r));
	else if (r)
		log_debug("lifetime: process %ld exited, %d names removed", (long)pid, r);
}

static void wake(struct reaper *rp)
{
	uint64_t one = 1;

	if (write(rp->wakefd, &one, sizeof(one)) < 0)
		log_debug("reaper wake-up: %m"); /* EAGAIN: one is pending already */
}

/* The watches' table is keyed by the process: pid and start time. */
static uint64_t watch_hash(pid_t pid, uint64_t start)
{
	return hmap_hash_u64((uint64_t)pid ^ (start << 20));
}

static struct watch *watch_find(struct reaper *rp, pid_t pid, uint64_t start)
{
	struct hmap_node *hn;

	hmap_for_each_hash(hn, &rp->watches, watch_hash(pid, start)) {
		struct watch *w = container_of(hn, struct watch, hn);

		if (w->pid == pid && w->start == start)
			return w;
	}
	return NULL;
}

static void watch_drop(struct reaper *rp, struct watch *w)
{
	hmap_remove(&rp->watches, &w->hn);
	if (w->pidfd >= 0) {
		epoll_ctl(rp->epfd, EPOLL_CTL_DEL, w->pidfd, NULL);
		close(w->pidfd);
		rp->pidfds--;
	} else {
		rp->polled--;
	}
	free(w);
}

/*
 * Watch c (lock held). Returns 1 when c is gone already (the caller removes
 * its regions, without the lock), 0 when watched (or cannot be: memory).
 */
static int watch_add(struct reaper *rp, const struct registry_creator *c)
{
	struct epoll_event ev = { .events = EPOLLIN };
	uint64_t start;
	struct watch *w;
	int fd;

	if (watch_find(rp, c->pid, c->start))
		return 0;
	if (c->other_boot)
		return 1;
	fd = rp->pidfds < rp->pidfd_budget ? pidfd_open(c->pid) : -EMFILE;
	if (fd == -ESRCH)
		return 1;
	/*
	 * The start time read after the pidfd was had: equal, the pidfd is
	 * the creator's (its pid cannot have been used again while it ran).
	 */
	if (proc_stat(c->pid, NULL, &start, NULL) < 0 || start != c->start) {
		if (fd >= 0)
			close(fd);
		return 1;
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		if (fd >= 0)
			close(fd);
		log_debug("lifetime: no memory to watch process %ld", (long)c->pid);
		return 0;
	}
	w->tag = TAG_CREATOR;
	w->pid = c->pid;
	w->start = c->start;
	w->pidfd = fd;
	ev.data.ptr = w;
	if (fd >= 0 && epoll_ctl(rp->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		close(fd);
		w->pidfd = -1;
	}
	if (w->pidfd >= 0) {
		rp->pidfds++;
	} else {
		rp->polled++;
		wake(rp); /* arm the timer */
	}
	hmap_insert(&rp->watches, &w->hn, watch_hash(w->pid, w->start));
	return 0;
}

void reaper_watch(struct reaper *rp, uint64_t ino, const struct registry_creator *c)
{
	int gone;

	if (!rp || c->pid <= 0 || c->start == 0)
		return; /* nothing that can be told apart from a later process */
	pthread_mutex_lock(&rp->lock);
	gone = watch_add(rp, c);
	pthread_mutex_unlock(&rp->lock);
	if (gone) {
		log_debug("lifetime: creator %ld of inode %llu is gone", (long)c->pid,
			  (unsigned long long)ino);
		expire_creator(rp, c);
	}
}

void reaper_closed(struct reaper *rp, uint64_t ino, uint64_t gen)
{
	struct pending *p;
	int r;

	if (!rp->fs->passthrough) {
		/* A mapping keeps its FUSE file: this RELEASE was the last of everything. */
		r = registry_expire_idle(rp->fs->reg, ino, gen, removed_name, rp->fs);
		if (r < 0)
			log_err("lifetime: removing inode %llu after its last close: %s",
				(unsigned long long)ino, strerror(-r));
		return;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		log_debug("lifetime: no memory to queue inode %llu", (unsigned long long)ino);
		return;
	}
	p->ino = ino;
	p->gen = gen;
	pthread_mutex_lock(&rp->lock);
	list_add_tail(&rp->pending, &p->link);
	pthread_mutex_unlock(&rp->lock);
	wake(rp);
}

static void mappers_clear(struct reaper *rp)
{
	struct list_node *l;

	while ((l = list_first(&rp->mappers))) {
		struct mapper *m = container_of(l, struct mapper, link);

		list_del(&m->link);
		epoll_ctl(rp->epfd, EPOLL_CTL_DEL, m->pidfd, NULL);
		close(m->pidfd);
		free(m);
	}
	rp->nmappers = 0;
}

static void mapper_add(struct reaper *rp, pid_t pid)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct mapper *m;
	int fd;

	if (rp->nmappers >= MAPPERS_MAX)
		return;
	fd = pidfd_open(pid);
	if (fd < 0)
		return; /* gone already, or not a leader: the timer looks again */
	m = calloc(1, sizeof(*m));
	if (!m) {
		close(fd);
		return;
	}
	m->tag = TAG_MAPPER;
	m->pidfd = fd;
	ev.data.ptr = m;
	if (epoll_ctl(rp->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		close(fd);
		free(m);
		return;
	}
	list_add_tail(&rp->mappers, &m->link);
	rp->nmappers++;
}

/*
 * Look at pending regions: all of them (all: after an exit or the timer),
 * or only those not looked at yet. Scans run without the lock: a create
 * or a release never waits for one.
 */
static void check_pending(struct reaper *rp, bool all)
{
	struct list_node todo, keep, *l;
	pid_t pids[MAPPERS_PER_REGION];

	list_init(&todo);
	list_init(&keep);
	pthread_mutex_lock(&rp->lock);
	while ((l = list_first(&rp->pending))) {
		struct pending *p = container_of(l, struct pending, link);

		list_del(&p->link);
		list_add_tail(all || !p->scanned ? &todo : &keep, &p->link);
	}
	pthread_mutex_unlock(&rp->lock);
	if (all)
		mappers_clear(rp);
	while ((l = list_first(&todo))) {
		struct pending *p = container_of(l, struct pending, link);
		ssize_t n;
		int r;

		list_del(&p->link);
		if (!registry_still_idle(rp->fs->reg, p->ino, p->gen)) {
			free(p); /* opened again (its release queues it anew), or gone */
			continue;
		}
		n = holders_mapped(rp->fs, p->ino, pids, MAPPERS_PER_REGION);
		if (n > 0 || n == -ENOMEM || n == -EMFILE || n == -ENFILE) {
			for (ssize_t i = 0; i < RFS_MIN(n, (ssize_t)MAPPERS_PER_REGION); i++)
				mapper_add(rp, pids[i]);
			p->scanned = true;
			list_add_tail(&keep, &p->link);
			continue;
		}
		if (n == 0) {
			r = registry_expire_idle(rp->fs->reg, p->ino, p->gen, removed_name,
						 rp->fs);
			if (r < 0)
				log_err("lifetime: removing inode %llu after its last mapping: %s",
					(unsigned long long)p->ino, strerror(-r));
		}
		free(p);
	}
	pthread_mutex_lock(&rp->lock);
	while ((l = list_first(&keep))) {
		list_del(l);
		list_add_tail(&rp->pending, l);
	}
	pthread_mutex_unlock(&rp->lock);
}

/*
 * Creators over the pidfd budget: still the same process? Their list is
 * copied under the lock and read in /proc without it (a create of a
 * creator region never waits for the polling).
 */
static void check_polled(struct reaper *rp)
{
	struct creator_id {
		pid_t pid;
		uint64_t start;
	} *ids;
	size_t n = 0, i;
	struct hmap_node *hn;

	pthread_mutex_lock(&rp->lock);
	ids = rp->polled ? calloc(rp->polled, sizeof(*ids)) : NULL;
	if (ids) {
		hmap_for_each(hn, &rp->watches, i) {
			struct watch *w = container_of(hn, struct watch, hn);

			if (w->pidfd < 0 && n < rp->polled)
				ids[n++] = (struct creator_id){ .pid = w->pid, .start = w->start };
		}
	}
	pthread_mutex_unlock(&rp->lock);
	if (!ids)
		return; /* none, or no memory: the next tick */
	for (i = 0; i < n; i++) {
		struct registry_creator c = { .pid = ids[i].pid, .start = ids[i].start };
		struct watch *w;

		if (reaper_creator_alive(&c))
			continue;
		/* Only this thread drops watches: it is still there. */
		pthread_mutex_lock(&rp->lock);
		w = watch_find(rp, c.pid, c.start);
		if (w)
			watch_drop(rp, w);
		pthread_mutex_unlock(&rp->lock);
		expire_creator(rp, &c);
	}
	free(ids);
}

/*
 * The timer runs while something waits for it: pending regions or polled
 * creators, every period_ms.
 */
static void timer_update(struct reaper *rp, unsigned period_ms)
{
	struct itimerspec its = { 0 };
	bool want;

	pthread_mutex_lock(&rp->lock);
	want = !list_empty(&rp->pending) || rp->polled;
	pthread_mutex_unlock(&rp->lock);
	if (want == rp->timer_armed && (!want || period_ms == rp->period_ms))
		return;
	if (want) {
		its.it_value.tv_sec = period_ms / 1000;
		its.it_value.tv_nsec = (long)(period_ms % 1000) * 1000000L;
		its.it_interval = its.it_value;
	}
	timerfd_settime(rp->timerfd, 0, &its, NULL);
	rp->timer_armed = want;
	rp->period_ms = period_ms;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void *reaper_main(void *arg)
{
	struct reaper *rp = arg;
	struct epoll_event evs[16];
	unsigned period_ms = REAPER_POLL_MS;

	for (;;) {
		bool stop, all = false, fresh = false;
		int n = epoll_wait(rp->epfd, evs, ARRAY_SIZE(evs), -1);

		if (n < 0 && errno != EINTR) {
			log_err("lifetime thread: epoll_wait: %m");
			break;
		}
		for (int i = 0; i < n; i++) {
			enum tag tag = *(enum tag *)evs[i].data.ptr;
			uint64_t v;

			if (tag == TAG_WAKE) {
				if (read(rp->wakefd, &v, sizeof(v)) < 0)
					log_debug("reaper wake-up: %m");
				fresh = true;
			} else if (tag == TAG_TIMER) {
				if (read(rp->timerfd, &v, sizeof(v)) < 0)
					log_debug("reaper timer: %m");
				check_polled(rp);
				all = true;
			} else if (tag == TAG_MAPPER) {
				all = true;
			} else {
				struct watch *w = evs[i].data.ptr;
				pid_t pid = w->pid;
				uint64_t start = w->start;

				struct registry_creator c = { .pid = pid, .start = start };

				pthread_mutex_lock(&rp->lock);
				watch_drop(rp, w);
				pthread_mutex_unlock(&rp->lock);
				expire_creator(rp, &c);
			}
		}
		pthread_mutex_lock(&rp->lock);
		stop = rp->stop;
		pthread_mutex_unlock(&rp->lock);
		if (stop)
			break;
		if (all || fresh) {
			uint64_t t0 = now_ms(), spent;

			check_pending(rp, all);
			/*
			 * Many regions mapped after their last close cost a
			 * scan each: the timer slows down so that scanning
			 * takes at most a fifth of a CPU.
			 */
			spent = now_ms() - t0;
			if (all)
				period_ms = (unsigned)RFS_MAX((uint64_t)REAPER_POLL_MS,
							       RFS_MIN(spent * 4, 600000u));
		}
		timer_update(rp, period_ms);
	}
	return NULL;
}

int reaper_new(struct rfs *fs, struct reaper **ret)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct reaper *rp = calloc(1, sizeof(*rp));
	struct rlimit rl;
	int r;

	if (!rp)
		return -ENOMEM;
	rp->fs = fs;
	rp->epfd = rp->wakefd = rp->timerfd = -1;
	pthread_mutex_init(&rp->lock, NULL);
	list_init(&rp->pending);
	list_init(&rp->mappers);
	r = hmap_init(&rp->watches);
	if (r < 0)
		goto err;
	rp->pidfd_budget = REAPER_PIDFDS_MAX;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		rp->pidfd_budget = RFS_MIN(rp->pidfd_budget, (size_t)(rl.rlim_cur / 16));
	rp->epfd = epoll_create1(EPOLL_CLOEXEC);
	rp->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	rp->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (rp->epfd < 0 || rp->wakefd < 0 || rp->timerfd < 0) {
		r = -errno;
		goto err;
	}
	ev.data.ptr = (void *)&wake_tag;
	if (epoll_ctl(rp->epfd, EPOLL_CTL_ADD, rp->wakefd, &ev) < 0) {
		r = -errno;
		goto err;
	}
	ev.data.ptr = (void *)&timer_tag;
	if (epoll_ctl(rp->epfd, EPOLL_CTL_ADD, rp->timerfd, &ev) < 0) {
		r = -errno;
		goto err;
	}
	*ret = rp;
	return 0;

err:
	reaper_free(rp);
	return r;
}

int reaper_start(struct reaper *rp)
{
	int r;

	r = rfs_thread_start(&rp->thread, reaper_main, rp);
	if (r < 0)
		return r;
	rp->started = true;
	return 0;
}

void reaper_free(struct reaper *rp)
{
	struct hmap_node *hn;
	struct list_node *l;
	size_t at = 0;

	if (!rp)
		return;
	if (rp->started) {
		pthread_mutex_lock(&rp->lock);
		rp->stop = true;
		pthread_mutex_unlock(&rp->lock);
		wake(rp);
		pthread_join(rp->thread, NULL);
	}
	mappers_clear(rp);
	while ((hn = hmap_pop(&rp->watches, &at))) {
		struct watch *w = container_of(hn, struct watch, hn);

		if (w->pidfd >= 0)
			close(w->pidfd);
		free(w);
	}
	hmap_destroy(&rp->watches);
	while ((l = list_first(&rp->pending))) {
		list_del(l);
		free(container_of(l, struct pending, link));
	}
	if (rp->epfd >= 0)
		close(rp->epfd);
	if (rp->wakefd >= 0)
		close(rp->wakefd);
	if (rp->timerfd >= 0)
		close(rp->timerfd);
	pthread_mutex_destroy(&rp->lock);
	free(rp);
}

/* At load: a creator is gone unless alive now; the living are watched (lock held by the sweep). */
static bool sweep_gone(void *ctx, const struct registry_creator *c)
{
	struct reaper *rp = ctx;
	int gone;

	if (c->start == 0)
		return false; /* nothing to tell it by: kept, as persist */
	pthread_mutex_lock(&rp->lock);
	gone = watch_add(rp, c);
	pthread_mutex_unlock(&rp->lock);
	return gone == 1;
}

int reaper_sweep(struct reaper *rp)
{
	return registry_sweep(rp->fs->reg, sweep_gone, rp, removed_name, rp->fs);
}
