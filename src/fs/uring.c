/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "fs/uring.h"

#include <errno.h>
#include <liburing.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <fuse_lowlevel.h>

#include "common/thread.h"
#include "common/log.h"
#include "common/macros.h"
#include "fs/fuse_abi.h"

/* user_data of the stop and wake polls; an entry's commands carry the entry's address. */
#define TAG_STOP 1u
#define TAG_WAKE 2u

/*
 * Room in front of the payload for the rebuilt /dev/fuse layout
 * (fuse_in_header + the op header), so the payload itself is never copied.
 */
#define HEAD_ROOM 4096u

/* One ring entry: buffers the kernel fills with requests of queue qid. */
struct entry {
	struct worker *w;
	unsigned qid;
	struct rfs_uring_req_header *hdr;
	char *area; /* HEAD_ROOM + payload, one mapping */
	size_t area_len;
	char *payload;
	size_t payload_cap;
	struct iovec iov[2];
	uint32_t last_op; /* the command to send again after EINTR/EAGAIN */
	bool live;	  /* the kernel has handed this entry requests */
	/* the request being served */
	uint64_t unique;
	uint64_t commit_id;
	uint32_t opcode;
	bool replied;
	/* deferred (uring_defer()): its reply comes from another thread */
	bool parked;
	bool extra;		  /* made by add_extra() */
	struct entry *next_extra; /* on the worker's extra list */
	struct entry *next_done;  /* on the worker's done list */
};

/*
 * A thread with its own ring. Those of a CPU we may run on have one entry
 * each and are pinned there; one more, unpinned, holds an entry for every
 * other possible CPU (offline, or outside our cpuset): the kernel wants an
 * entry on each queue, and callers there are rare or impossible.
 */
struct worker {
	struct uring *u;
	pthread_t tid;
	bool started;
	int cpu; /* pinned to, or -1 */
	struct io_uring ring;
	bool ring_ok;
	struct entry *ents;
	unsigned nr_ents;
	/*
	 * Deferred replies. An entry stays with its deferred request; when
	 * every entry of this thread is parked it registers one more
	 * (extra, kept until uring_free()), so it goes on serving. Replies
	 * made on other threads wait on done until this thread commits them
	 * (woken through wake_fd): only this thread touches its ring.
	 */
	struct entry *extra;
	unsigned nr_extra;
	int wake_fd;
	pthread_mutex_t done_lock;
	struct entry *done;
};

enum uring_state { URING_WAIT, URING_GO, URING_STOP };

struct uring {
	struct fuse_session *se;
	int fd;
	int stop_fd; /* eventfd: every worker polls it */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned nr_ready; /* workers done setting up their ring */
	int setup_err;     /* first failure among them */
	enum uring_state state;
	size_t payload;
	atomic_bool active;
	atomic_bool failed; /* a queue lost its entry: the daemon stopped */
	unsigned nr_workers, nr_ents;
	struct worker *w;
	struct entry *ents;
};

static __thread struct entry *serving;

/* How many CPUs the kernel may ever have: it makes one queue for each. */
static int possible_cpus(void)
{
	char buf[256], *p = buf;
	int n = 0;
	FILE *f = fopen("/sys/devices/system/cpu/possible", "re");

	if (!f)
		return -errno;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	/* "0-3,5,7-8" */
	while (*p && *p != '\n') {
		char *end;
		long a = strtol(p, &end, 10), b = a;

		if (end == p)
			return -EIO;
		if (*end == '-')
			b = strtol(end + 1, &end, 10);
		if (b < a)
			return -EIO;
		n += (int)(b - a + 1);
		p = *end == ',' ? end + 1 : end;
	}
	return n > 0 ? n : -EIO;
}

/* The command sits in the 80 bytes an SQE128 has after its first 48. */
_Static_assert(sizeof(struct rfs_uring_cmd_req) <=
		       2 * sizeof(struct io_uring_sqe) - offsetof(struct io_uring_sqe, cmd),
	       "the FUSE command fits in an SQE128");

static void prep_cmd(struct entry *e, struct io_uring_sqe *sqe, uint32_t op, bool invalid)
{
	struct rfs_uring_cmd_req *c = (struct rfs_uring_cmd_req *)sqe->cmd;

	memset(sqe, 0, 2 * sizeof(*sqe)); /* an SQE128 slot */
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->flags = IOSQE_FIXED_FILE;
	sqe->fd = 0; /* registered file 0: /dev/fuse */
	sqe->cmd_op = op;
	sqe->user_data = (uintptr_t)e;
	c->qid = (uint16_t)e->qid;
	if (op == RFS_URING_CMD_REGISTER) {
		sqe->addr = (uintptr_t)e->iov;
		/* Two iovecs; zero makes the kernel refuse the registration,
		 * which turns io_uring off for the connection (see uring.h). */
		sqe->len = invalid ? 0 : 2;
	} else {
		c->commit_id = e->commit_id;
	}
}

/* Queue the entry's next command; the worker loop submits it. */
static void queue_cmd(struct entry *e, uint32_t op, bool invalid)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&e->w->ring);

	/* Full only with extra entries (the ring has room for the first ones and the polls). */
	if (!sqe && io_uring_submit(&e->w->ring) >= 0)
		sqe = io_uring_get_sqe(&e->w->ring);
	e->last_op = op;
	if (sqe)
		prep_cmd(e, sqe, op, invalid);
	else
		log_err("io_uring queue %u: no submission slot for a command", e->qid);
}

/* Wake up when fd (uring_free()'s stop, or this worker's wake) is written. */
static void queue_poll(struct worker *w, int fd, uint64_t tag)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&w->ring);

	if (!sqe && io_uring_submit(&w->ring) >= 0)
		sqe = io_uring_get_sqe(&w->ring);
	if (sqe) {
		io_uring_prep_poll_add(sqe, fd, POLLIN);
		sqe->user_data = tag;
	}
}

static int alloc_buffers(struct entry *e, size_t payload)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	e->payload_cap = (payload + page - 1) / page * page;
	e->area_len = HEAD_ROOM + e->payload_cap;
	e->area = mmap(NULL, e->area_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	if (e->area == MAP_FAILED) {
		e->area = NULL;
		return -errno;
	}
	e->hdr = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (e->hdr == MAP_FAILED) {
		e->hdr = NULL;
		return -errno;
	}
	e->payload = e->area + HEAD_ROOM;
	e->iov[0] = (struct iovec){ .iov_base = e->hdr, .iov_len = sizeof(*e->hdr) };
	e->iov[1] = (struct iovec){ .iov_base = e->payload, .iov_len = e->payload_cap };
	return 0;
}

static void commit_error(struct entry *e, int neg_errno)
{
	struct fuse_out_header oh = {
		.len = sizeof(oh),
		.error = neg_errno,
		.unique = e->unique,
	};
	struct iovec iov = { .iov_base = &oh, .iov_len = sizeof(oh) };

	uring_reply(&iov, 1);
}

/*
 * Give queue qid one more entry on worker w, whose entries of that queue
 * are all parked: without it, requests from that CPU would wait for the
 * deferred replies, which is what deferring is for to avoid.
 */
static void add_extra(struct worker *w, unsigned qid)
{
	struct entry *e = calloc(1, sizeof(*e));
	int r = e ? alloc_buffers(e, w->u->payload) : -ENOMEM;

	if (r < 0) {
		/* The queue's other threads still serve; this one resumes with the reply. */
		log_debug("io_uring queue %u: no extra entry (%s)", qid, strerror(-r));
		if (e && e->area)
			munmap(e->area, e->area_len);
		free(e);
		return;
	}
	e->w = w;
	e->qid = qid;
	e->extra = true;
	e->next_extra = w->extra;
	w->extra = e;
	w->nr_extra++;
	queue_cmd(e, RFS_URING_CMD_REGISTER, false);
}

/* Does worker w still have an entry of queue qid that is not parked? */
static bool has_free_entry(const struct worker *w, unsigned qid)
{
	for (unsigned i = 0; i < w->nr_ents; i++)
		if (w->ents[i].qid == qid && !w->ents[i].parked)
			return true;
	for (const struct entry *e = w->extra; e; e = e->next_extra)
		if (e->qid == qid && !e->parked)
			return true;
	return false;
}

/* Commit the deferred replies other threads made (uring_reply() put them on done). */
static void commit_done(struct worker *w)
{
	struct entry *e, *next;

	pthread_mutex_lock(&w->done_lock);
	e = w->done;
	w->done = NULL;
	pthread_mutex_unlock(&w->done_lock);
	for (; e; e = next) {
		next = e->next_done;
		e->next_done = NULL;
		e->parked = false;
		queue_cmd(e, RFS_URING_CMD_COMMIT_AND_FETCH, false);
	}
}

/* One request from the kernel: rebuild the /dev/fuse layout and process it. */
static void serve_entry(struct entry *e)
{
	const struct fuse_in_header *in = (const void *)e->hdr->in_out;
	uint32_t psz = e->hdr->ent.payload_sz;
	struct fuse_buf fb = { 0 };
	size_t oplen;
	char *start;

	e->unique = in->unique;
	e->commit_id = e->hdr->ent.commit_id;
	e->opcode = in->opcode;
	e->replied = false;
	atomic_store_explicit(&e->w->u->active, true, memory_order_relaxed);
	serving = e;
	if (psz > e->payload_cap || in->len < sizeof(*in) + psz ||
	    in->len - sizeof(*in) - psz > sizeof(e->hdr->op_in)) {
		log_err("malformed io_uring request (opcode %u, length %u, payload %u)", in->opcode,
			in->len, psz);
		commit_error(e, -EIO);
		goto out;
	}
	oplen = in->len - sizeof(*in) - psz;
	start = e->payload - oplen - sizeof(*in);
	memcpy(start, in, sizeof(*in));
	memcpy(start + sizeof(*in), e->hdr->op_in, oplen);
	fb.mem = start;
	fb.size = in->len;
	fuse_session_process_buf(e->w->u->se, &fb);
	if (e->parked) {
		/* Deferred: the reply comes through commit_done(); go on serving. */
		if (!has_free_entry(e->w, e->qid))
			add_extra(e->w, e->qid);
		goto out;
	}
	if (!e->replied) {
		/*
		 * Every ring request needs a commit, or its entry is lost. A
		 * FORGET can come this way (the kernel's forced forget) and
		 * has no reply: commit it empty.
		 */
		if (e->opcode == FUSE_FORGET || e->opcode == FUSE_BATCH_FORGET) {
			commit_error(e, 0);
		} else {
			log_err("request %u (opcode %u) got no reply", (unsigned)e->unique, e->opcode);
			commit_error(e, -EIO);
		}
	}
out:
	serving = NULL;
}

static void pin(struct worker *w)
{
	cpu_set_t set;

	if (w->cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(w->cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		log_debug("cannot pin the ring thread of CPU %d: %m", w->cpu);
}

/* Wait for uring_start() or uring_free(); true to go on. */
static bool wait_start(struct uring *u)
{
	enum uring_state s;

	pthread_mutex_lock(&u->lock);
	while (u->state == URING_WAIT)
		pthread_cond_wait(&u->cond, &u->lock);
	s = u->state;
	pthread_mutex_unlock(&u->lock);
	return s == URING_GO;
}

/*
 * This CPU's queue lost an entry for good: requests from that CPU would wait
 * forever. Stop the daemon (exit status 1). libfuse's loop notices
 * fuse_session_exit() only when its main thread wakes up, and that thread
 * is the one that takes signals (every other thread blocks them), so send
 * one: the handler libfuse installed ends the loop as SIGTERM does.
 */
static void ring_fatal(struct uring *u, unsigned qid, const char *what, int err)
{
	log_err("io_uring queue %u: %s: %s; stopping", qid, what, strerror(-err));
	atomic_store(&u->failed, true);
	fuse_session_exit(u->se);
	kill(getpid(), SIGTERM);
}

/* Returns false when the worker should stop. */
static bool handle_cqe(struct worker *w, const struct io_uring_cqe *cqe, bool *stopping)
{
	struct entry *e = (struct entry *)(uintptr_t)cqe->user_data;

	if (cqe->user_data == TAG_STOP) {
		if (cqe->res < 0 && cqe->res != -ECANCELED) {
			/* The poll itself failed: arm it again. */
			queue_poll(w, w->u->stop_fd, TAG_STOP);
			return true;
		}
		*stopping = true; /* serve what this batch still holds first */
		return true;
	}
	if (cqe->user_data == TAG_WAKE) {
		uint64_t n;

		if (read(w->wake_fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
			log_debug("reading the wake eventfd: %m");
		commit_done(w);
		queue_poll(w, w->wake_fd, TAG_WAKE);
		return true;
	}
	if (cqe->res == 0) {
		e->live = true;
		serve_entry(e); /* queues the commit of its reply */
		return true;
	}
	switch (cqe->res) {
	case -EAGAIN:
		/* REGISTER before the kernel finished INIT: try again shortly. */
		usleep(1000);
		/* fallthrough */
	case -EINTR:
		queue_cmd(e, e->last_op, false);
		return true;
	case -ENOTCONN:
	case -ECONNABORTED:
	case -ECANCELED:
		return false; /* unmounted or aborted */
	default:
		break;
	}
	if (e->last_op == RFS_URING_CMD_REGISTER && !e->live && e->extra) {
		/* The thread's other entries go on; this one stays out of use (parked). */
		log_debug("io_uring queue %u: extra entry refused (%s)", e->qid, strerror(-cqe->res));
		e->parked = true;
		return true;
	}
	if (e->last_op == RFS_URING_CMD_REGISTER && !e->live) {
		/* The first registration: the kernel turned io_uring off for the connection. */
		log_info("io_uring queue %u not registered (%s): requests stay on /dev/fuse",
			 e->qid, strerror(-cqe->res));
		return false;
	}
	if (e->last_op == RFS_URING_CMD_COMMIT_AND_FETCH && (cqe->res == -ENOENT || cqe->res == -EIO)) {
		/*
		 * The kernel no longer knew the request we answered (it was
		 * ended meanwhile): the entry is not handed back, so offer our
		 * buffers again as a new one.
		 */
		log_debug("io_uring queue %u: reply refused (%s)", e->qid, strerror(-cqe->res));
		queue_cmd(e, RFS_URING_CMD_REGISTER, false);
		return true;
	}
	ring_fatal(w->u, e->qid,
		   e->last_op == RFS_URING_CMD_REGISTER ? "registering again" : "committing", cqe->res);
	return false;
}

/*
 * The ring is made by the thread that uses it, on its CPU. (SINGLE_ISSUER +
 * DEFER_TASKRUN and COOP_TASKRUN were measured: no difference here.)
 */
static int ring_init(struct worker *w)
{
	/* Room for each entry's command and the two polls; completions twice. */
	struct io_uring_params p = {
		.flags = IORING_SETUP_SQE128 | IORING_SETUP_CQSIZE,
		.cq_entries = 2 * (w->nr_ents + 2),
	};
	int files[1] = { w->u->fd };
	int r;

	r = io_uring_queue_init_params(w->nr_ents + 2, &w->ring, &p);
	if (r < 0)
		return r;
	w->ring_ok = true;
	return io_uring_register_files(&w->ring, files, 1);
}

/* Set up this worker's ring and tell uring_new() how it went. */
static void report_ready(struct worker *w)
{
	struct uring *u = w->u;
	int r = ring_init(w);

	pthread_mutex_lock(&u->lock);
	if (r < 0 && !u->setup_err)
		u->setup_err = r;
	u->nr_ready++;
	pthread_cond_broadcast(&u->cond);
	pthread_mutex_unlock(&u->lock);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct uring *u = w->u;
	bool run = true, stopping = false;
	unsigned i;
	int r;

	pin(w);
	report_ready(w);
	if (!wait_start(u))
		return NULL;
	for (i = 0; i < w->nr_ents; i++) {
		struct entry *e = &w->ents[i];

		r = alloc_buffers(e, u->payload);
		if (r < 0)
			log_err("io_uring queue %u: cannot allocate buffers (%s); using /dev/fuse",
				e->qid, strerror(-r));
		queue_cmd(e, RFS_URING_CMD_REGISTER, r < 0);
	}
	queue_poll(w, w->u->stop_fd, TAG_STOP);
	queue_poll(w, w->wake_fd, TAG_WAKE);
	while (run && !stopping) {
		struct io_uring_cqe *cqe;
		unsigned head, n = 0;

		r = io_uring_submit_and_wait(&w->ring, 1);
		if (r == -EAGAIN || r == -ENOMEM || r == -EBUSY) {
			usleep(1000); /* short of kernel memory: the SQEs stay queued */
			continue;
		}
		if (r < 0 && r != -EINTR) {
			ring_fatal(u, w->ents[0].qid, "waiting", r);
			break;
		}
		io_uring_for_each_cqe(&w->ring, head, cqe) {
			n++;
			if (!handle_cqe(w, cqe, &stopping))
				run = false;
		}
		io_uring_cq_advance(&w->ring, n);
	}
	/* Replies of the last batch still queued, and deferred ones made: hand them over. */
	commit_done(w);
	io_uring_submit(&w->ring);
	return NULL;
}

/* The CPUs we may run on, and whether the possible count fits them. */
static int usable_cpus(int nq, cpu_set_t *allowed)
{
	int q;

	if (sched_getaffinity(0, sizeof(*allowed), allowed) < 0)
		CPU_ZERO(allowed);
	/*
	 * The kernel serves no request until every possible CPU's queue has an
	 * entry: a count that looks wrong (an odd /sys) would hang the mount.
	 */
	if (nq < sysconf(_SC_NPROCESSORS_ONLN))
		return -EINVAL;
	for (q = nq; q < CPU_SETSIZE; q++)
		if (CPU_ISSET(q, allowed))
			return -EINVAL;
	return 0;
}

static bool may_run_on(const cpu_set_t *allowed, unsigned q)
{
	return q < CPU_SETSIZE && CPU_ISSET(q, allowed);
}

/* The parts of a worker uring_free() releases whatever happened after. */
static int worker_init(struct worker *w)
{
	pthread_mutex_init(&w->done_lock, NULL);
	w->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	return w->wake_fd < 0 ? -errno : 0;
}

int uring_new(struct fuse_session *se, int fd, unsigned threads_per_queue, struct uring **ret)
{
	cpu_set_t allowed;
	struct worker *spare = NULL;
	struct uring *u;
	int nq = possible_cpus(), r = 0;
	unsigned q, t, i, nw = 0, ne = 0;

	if (nq < 0)
		return nq;
	r = usable_cpus(nq, &allowed);
	if (r < 0)
		return r;
	/* threads_per_queue workers of one entry per usable CPU, one spare for the rest. */
	for (q = 0; q < (unsigned)nq; q++) {
		nw += may_run_on(&allowed, q) ? threads_per_queue : 0;
		ne += may_run_on(&allowed, q) ? threads_per_queue : 1;
	}
	nw += ne > nw;
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->w = calloc(nw, sizeof(*u->w));
	u->ents = calloc(ne, sizeof(*u->ents));
	u->se = se;
	u->fd = fd;
	u->stop_fd = -1;
	pthread_mutex_init(&u->lock, NULL);
	pthread_cond_init(&u->cond, NULL);
	if (!u->w || !u->ents) {
		r = -ENOMEM;
		goto err;
	}
	u->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (u->stop_fd < 0) {
		r = -errno;
		goto err;
	}
	for (q = 0; q < (unsigned)nq; q++) {
		for (t = 0; may_run_on(&allowed, q) && t < threads_per_queue; t++) {
			struct worker *w = &u->w[u->nr_workers++];
			struct entry *e = &u->ents[u->nr_ents++];

			*w = (struct worker){ .u = u, .cpu = (int)q, .ents = e, .nr_ents = 1 };
			*e = (struct entry){ .w = w, .qid = q };
			r = r ? r : worker_init(w);
		}
	}
	/* Then the spare's entries, together at the end of the array. */
	for (q = 0; q < (unsigned)nq; q++) {
		if (may_run_on(&allowed, q))
			continue;
		if (!spare) {
			spare = &u->w[u->nr_workers++];
			*spare = (struct worker){ .u = u, .cpu = -1, .ents = &u->ents[u->nr_ents] };
			r = r ? r : worker_init(spare);
		}
		u->ents[u->nr_ents++] = (struct entry){ .w = spare, .qid = q };
		spare->nr_ents++;
	}
	if (r < 0)
		goto err;
	/* Signals go to the main thread (see ring_fatal()). */
	for (i = 0; i < u->nr_workers; i++) {
		r = rfs_thread_start(&u->w[i].tid, worker_main, &u->w[i]);
		if (r < 0)
			break;
		u->w[i].started = true;
	}
	pthread_mutex_lock(&u->lock);
	while (u->nr_ready < i)
		pthread_cond_wait(&u->cond, &u->lock);
	if (r == 0)
		r = u->setup_err;
	pthread_mutex_unlock(&u->lock);
	if (r < 0)
		goto err;
	*ret = u;
	return 0;

err:
	uring_free(u);
	return r;
}

int uring_probe(void)
{
	struct io_uring_params p = { .flags = IORING_SETUP_SQE128 };
	struct io_uring ring;
	int r = io_uring_queue_init_params(2, &ring, &p);

	if (r < 0)
		return r;
	io_uring_queue_exit(&ring);
	return 0;
}

void uring_start(struct uring *u, size_t payload)
{
	pthread_mutex_lock(&u->lock);
	if (u->state == URING_WAIT) {
		u->payload = payload;
		u->state = URING_GO;
		pthread_cond_broadcast(&u->cond);
	}
	pthread_mutex_unlock(&u->lock);
}

bool uring_failed(const struct uring *u)
{
	return u && atomic_load(&u->failed);
}

bool uring_active(const struct uring *u)
{
	return u && atomic_load_explicit(&u->active, memory_order_relaxed);
}

void uring_free(struct uring *u)
{
	uint64_t one = 1;
	unsigned i;

	if (!u)
		return;
	pthread_mutex_lock(&u->lock);
	u->state = URING_STOP;
	pthread_cond_broadcast(&u->cond);
	pthread_mutex_unlock(&u->lock);
	if (u->stop_fd >= 0 && write(u->stop_fd, &one, sizeof(one)) < 0)
		log_debug("waking the ring threads: %m");
	for (i = 0; i < u->nr_workers; i++) {
		struct worker *w = &u->w[i];

		if (w->started)
			pthread_join(w->tid, NULL);
		/* Closing the ring cancels the entries the kernel still holds. */
		if (w->ring_ok)
			io_uring_queue_exit(&w->ring);
		while (w->extra) {
			struct entry *e = w->extra;

			w->extra = e->next_extra;
			munmap(e->area, e->area_len);
			munmap(e->hdr, (size_t)sysconf(_SC_PAGESIZE));
			free(e);
		}
		if (w->wake_fd >= 0)
			close(w->wake_fd);
		pthread_mutex_destroy(&w->done_lock);
	}
	for (i = 0; i < u->nr_ents; i++) {
		struct entry *e = &u->ents[i];

		if (e->area)
			munmap(e->area, e->area_len);
		if (e->hdr)
			munmap(e->hdr, (size_t)sysconf(_SC_PAGESIZE));
	}
	if (u->stop_fd >= 0)
		close(u->stop_fd);
	pthread_cond_destroy(&u->cond);
	pthread_mutex_destroy(&u->lock);
	free(u->ents);
	free(u->w);
	free(u);
}

uint32_t uring_serving(uint64_t unique)
{
	struct entry *e = serving;

	return e && !e->replied && e->unique == unique ? e->opcode : 0;
}

ssize_t uring_reply(const struct iovec *iov, int count)
{
	struct entry *e = serving;
	struct fuse_out_header oh;
	size_t len = 0;
	int i;

	/* libfuse takes -1 and errno, like writev(2). */
	if (!e || e->replied || iov[0].iov_len < sizeof(oh)) {
		errno = EINVAL;
		return -1;
	}
	memcpy(&oh, iov[0].iov_base, sizeof(oh));
	for (i = 1; i < count; i++) {
		if (iov[i].iov_len > e->payload_cap - len) {
			log_err("reply to opcode %u larger than the ring buffer", e->opcode);
			oh.error = -EIO;
			len = 0;
			break;
		}
		/* The request's bytes sit in front of and in the payload area:
		 * handlers reply last, so overwriting them is safe. */
		memcpy(e->payload + len, iov[i].iov_base, iov[i].iov_len);
		len += iov[i].iov_len;
	}
	oh.len = (uint32_t)(sizeof(oh) + len);
	memcpy(e->hdr->in_out, &oh, sizeof(oh));
	e->hdr->ent.payload_sz = (uint32_t)len;
	e->replied = true;
	if (e->parked) {
		/* Maybe another thread's: the entry's own thread commits it. */
		uint64_t one = 1;

		pthread_mutex_lock(&e->w->done_lock);
		e->next_done = e->w->done;
		e->w->done = e;
		pthread_mutex_unlock(&e->w->done_lock);
		if (write(e->w->wake_fd, &one, sizeof(one)) < 0)
			log_debug("waking ring thread: %m");
	} else {
		queue_cmd(e, RFS_URING_CMD_COMMIT_AND_FETCH, false);
	}
	return (ssize_t)oh.len;
}

struct uring_deferred *uring_defer(void)
{
	struct entry *e = serving;

	if (!e || e->replied || e->parked)
		return NULL;
	e->parked = true;
	return (struct uring_deferred *)e;
}

void uring_adopt(struct uring_deferred *d)
{
	serving = (struct entry *)d;
}
