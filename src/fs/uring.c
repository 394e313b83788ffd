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
#include <linux/fuse.h>

#include "common/log.h"
#include "common/macros.h"

/*
 * Kernel ABI (include/uapi/linux/fuse.h, protocol 7.42) that Debian 12's
 * headers lack.
 */
#define RING_CMD_REGISTER 1u
#define RING_CMD_COMMIT_AND_FETCH 2u

/* struct fuse_uring_req_header: iov[0] of every entry. */
struct ring_header {
	uint8_t in_out[128]; /* fuse_in_header in, fuse_out_header out */
	uint8_t op_in[128];  /* the request's first argument (its fixed struct) */
	struct {
		uint64_t flags;
		uint64_t commit_id;
		uint32_t payload_sz; /* bytes used in the payload buffer, both ways */
		uint32_t padding;
		uint64_t reserved;
	} ent;
};

/* struct fuse_uring_cmd_req: in the 80-byte command area of an SQE128. */
struct ring_cmd {
	uint64_t flags;
	uint64_t commit_id;
	uint16_t qid;
	uint8_t padding[6];
};

/* user_data of the two kinds of SQE a worker has in flight. */
#define TAG_ENTRY 1u
#define TAG_STOP 2u

/*
 * Room in front of the payload for the rebuilt /dev/fuse layout
 * (fuse_in_header + the op header), so the payload itself is never copied.
 */
#define HEAD_ROOM 4096u

struct worker {
	struct uring *u;
	pthread_t tid;
	bool started;
	unsigned qid;
	int cpu; /* pinned to, or -1 */
	struct io_uring ring;
	bool ring_ok;
	struct ring_header *hdr;
	char *area; /* HEAD_ROOM + payload, one mapping */
	size_t area_len;
	char *payload;
	size_t payload_cap;
	struct iovec iov[2];
	/* the request being served */
	uint64_t unique;
	uint64_t commit_id;
	uint32_t opcode;
	bool replied;
	bool live; /* the kernel has handed this worker requests */
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
	unsigned nr_workers;
	struct worker w[];
};

static __thread struct worker *serving;

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

static void prep_cmd(struct worker *w, struct io_uring_sqe *sqe, uint32_t op, bool invalid)
{
	struct ring_cmd *c = (struct ring_cmd *)sqe->cmd;

	memset(sqe, 0, 2 * sizeof(*sqe)); /* an SQE128 slot */
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->flags = IOSQE_FIXED_FILE;
	sqe->fd = 0; /* registered file 0: /dev/fuse */
	sqe->cmd_op = op;
	sqe->user_data = TAG_ENTRY;
	c->qid = (uint16_t)w->qid;
	if (op == RING_CMD_REGISTER) {
		sqe->addr = (uintptr_t)w->iov;
		/* Two iovecs; zero makes the kernel refuse the registration,
		 * which turns io_uring off for the connection (see uring.h). */
		sqe->len = invalid ? 0 : 2;
	} else {
		c->commit_id = w->commit_id;
	}
}

/* Queue the entry's next command; the worker loop submits it. */
static void queue_cmd(struct worker *w, uint32_t op, bool invalid)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&w->ring);

	/* Never empty: the ring has room for the entry and the stop poll. */
	if (sqe)
		prep_cmd(w, sqe, op, invalid);
}

/* Wake up when uring_free() writes the stop eventfd. */
static void queue_stop_poll(struct worker *w)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&w->ring);

	if (sqe) {
		io_uring_prep_poll_add(sqe, w->u->stop_fd, POLLIN);
		sqe->user_data = TAG_STOP;
	}
}

static int alloc_buffers(struct worker *w, size_t payload)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	w->payload_cap = (payload + page - 1) / page * page;
	w->area_len = HEAD_ROOM + w->payload_cap;
	w->area = mmap(NULL, w->area_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	if (w->area == MAP_FAILED) {
		w->area = NULL;
		return -errno;
	}
	w->hdr = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (w->hdr == MAP_FAILED) {
		w->hdr = NULL;
		return -errno;
	}
	w->payload = w->area + HEAD_ROOM;
	w->iov[0] = (struct iovec){ .iov_base = w->hdr, .iov_len = sizeof(*w->hdr) };
	w->iov[1] = (struct iovec){ .iov_base = w->payload, .iov_len = w->payload_cap };
	return 0;
}

static void commit_error(struct worker *w, int neg_errno)
{
	struct fuse_out_header oh = {
		.len = sizeof(oh),
		.error = neg_errno,
		.unique = w->unique,
	};
	struct iovec iov = { .iov_base = &oh, .iov_len = sizeof(oh) };

	uring_reply(&iov, 1);
}

/* One request from the kernel: rebuild the /dev/fuse layout and process it. */
static void serve_entry(struct worker *w)
{
	const struct fuse_in_header *in = (const void *)w->hdr->in_out;
	uint32_t psz = w->hdr->ent.payload_sz;
	struct fuse_buf fb = { 0 };
	size_t oplen;
	char *start;

	w->unique = in->unique;
	w->commit_id = w->hdr->ent.commit_id;
	w->opcode = in->opcode;
	w->replied = false;
	atomic_store_explicit(&w->u->active, true, memory_order_relaxed);
	serving = w;
	if (psz > w->payload_cap || in->len < sizeof(*in) + psz ||
	    in->len - sizeof(*in) - psz > sizeof(w->hdr->op_in)) {
		log_err("malformed io_uring request (opcode %u, length %u, payload %u)", in->opcode,
			in->len, psz);
		commit_error(w, -EIO);
		goto out;
	}
	oplen = in->len - sizeof(*in) - psz;
	start = w->payload - oplen - sizeof(*in);
	memcpy(start, in, sizeof(*in));
	memcpy(start + sizeof(*in), w->hdr->op_in, oplen);
	fb.mem = start;
	fb.size = in->len;
	fuse_session_process_buf(w->u->se, &fb);
	if (!w->replied) {
		/*
		 * Every ring request needs a commit, or its entry is lost. A
		 * FORGET can come this way (the kernel's forced forget) and
		 * has no reply: commit it empty.
		 */
		if (w->opcode == FUSE_FORGET || w->opcode == FUSE_BATCH_FORGET) {
			commit_error(w, 0);
		} else {
			log_err("request %u (opcode %u) got no reply", (unsigned)w->unique, w->opcode);
			commit_error(w, -EIO);
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
		log_debug("cannot pin the ring thread of queue %u: %m", w->qid);
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
static void ring_fatal(struct worker *w, const char *what, int err)
{
	log_err("io_uring queue %u: %s: %s; stopping", w->qid, what, strerror(-err));
	atomic_store(&w->u->failed, true);
	fuse_session_exit(w->u->se);
	kill(getpid(), SIGTERM);
}

/* Returns false when the worker should stop. */
static bool handle_cqe(struct worker *w, const struct io_uring_cqe *cqe, uint32_t *last_op,
		       bool *stopping)
{
	if (cqe->user_data == TAG_STOP) {
		if (cqe->res < 0 && cqe->res != -ECANCELED) {
			/* The poll itself failed: arm it again. */
			queue_stop_poll(w);
			return true;
		}
		*stopping = true; /* serve what this batch still holds first */
		return true;
	}
	if (cqe->res == 0) {
		serve_entry(w);
		w->live = true;
		*last_op = RING_CMD_COMMIT_AND_FETCH;
		return true;
	}
	switch (cqe->res) {
	case -EAGAIN:
		/* REGISTER before the kernel finished INIT: try again shortly. */
		usleep(1000);
		/* fallthrough */
	case -EINTR:
		queue_cmd(w, *last_op, false);
		return true;
	case -ENOTCONN:
	case -ECONNABORTED:
	case -ECANCELED:
		return false; /* unmounted or aborted */
	default:
		break;
	}
	if (*last_op == RING_CMD_REGISTER && !w->live) {
		/* The first registration: the kernel turned io_uring off for the connection. */
		log_info("io_uring queue %u not registered (%s): requests stay on /dev/fuse",
			 w->qid, strerror(-cqe->res));
		return false;
	}
	if (*last_op == RING_CMD_COMMIT_AND_FETCH && (cqe->res == -ENOENT || cqe->res == -EIO)) {
		/*
		 * The kernel no longer knew the request we answered (it was
		 * ended meanwhile): the entry is not handed back, so offer our
		 * buffers again as a new one.
		 */
		log_debug("io_uring queue %u: reply refused (%s)", w->qid, strerror(-cqe->res));
		*last_op = RING_CMD_REGISTER;
		queue_cmd(w, RING_CMD_REGISTER, false);
		return true;
	}
	ring_fatal(w, *last_op == RING_CMD_REGISTER ? "registering again" : "committing",
		   cqe->res);
	return false;
}

/*
 * The ring is made by the thread that uses it, on its CPU. (SINGLE_ISSUER +
 * DEFER_TASKRUN and COOP_TASKRUN were measured: no difference here.)
 */
static int ring_init(struct worker *w)
{
	struct io_uring_params p = {
		.flags = IORING_SETUP_SQE128 | IORING_SETUP_CQSIZE,
		.cq_entries = 8,
	};
	int files[1] = { w->u->fd };
	int r;

	/* Room for the entry's command and the stop poll. */
	r = io_uring_queue_init_params(4, &w->ring, &p);
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
	uint32_t last_op = RING_CMD_REGISTER;
	bool run = true, stopping = false;
	int r;

	pin(w);
	report_ready(w);
	if (!wait_start(u))
		return NULL;
	r = alloc_buffers(w, u->payload);
	if (r < 0)
		log_err("io_uring queue %u: cannot allocate buffers (%s); using /dev/fuse", w->qid,
			strerror(-r));
	queue_cmd(w, RING_CMD_REGISTER, r < 0);
	queue_stop_poll(w);
	while (run && !stopping) {
		struct io_uring_cqe *cqe;
		unsigned head, n = 0;

		r = io_uring_submit_and_wait(&w->ring, 1);
		if (r == -EAGAIN || r == -ENOMEM || r == -EBUSY) {
			usleep(1000); /* short of kernel memory: the SQEs stay queued */
			continue;
		}
		if (r < 0 && r != -EINTR) {
			ring_fatal(w, "waiting", r);
			break;
		}
		io_uring_for_each_cqe(&w->ring, head, cqe) {
			n++;
			if (!handle_cqe(w, cqe, &last_op, &stopping))
				run = false;
		}
		io_uring_cq_advance(&w->ring, n);
	}
	/* Replies of the last batch still queued: hand them over. */
	io_uring_submit(&w->ring);
	return NULL;
}

int uring_new(struct fuse_session *se, int fd, unsigned threads_per_queue, struct uring **ret)
{
	sigset_t all, old;
	cpu_set_t allowed;
	struct uring *u;
	int nq = possible_cpus(), r = 0;
	unsigned q, i, n = 0;

	if (nq < 0)
		return nq;
	if (sched_getaffinity(0, sizeof(allowed), &allowed) < 0)
		CPU_ZERO(&allowed);
	/*
	 * The kernel serves no request until every possible CPU's queue has an
	 * entry: a count that looks wrong (an odd /sys) would hang the mount.
	 */
	if (nq < sysconf(_SC_NPROCESSORS_ONLN))
		return -EINVAL;
	for (q = (unsigned)nq; q < CPU_SETSIZE; q++)
		if (CPU_ISSET(q, &allowed))
			return -EINVAL;
	/* Full strength for the CPUs we may run on, one thread for the rest. */
	for (q = 0; q < (unsigned)nq; q++)
		n += q < CPU_SETSIZE && CPU_ISSET(q, &allowed) ? threads_per_queue : 1;
	u = calloc(1, sizeof(*u) + n * sizeof(u->w[0]));
	if (!u)
		return -ENOMEM;
	u->se = se;
	u->fd = fd;
	pthread_mutex_init(&u->lock, NULL);
	pthread_cond_init(&u->cond, NULL);
	u->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (u->stop_fd < 0) {
		r = -errno;
		goto err;
	}
	for (q = 0; q < (unsigned)nq; q++) {
		bool here = q < CPU_SETSIZE && CPU_ISSET(q, &allowed);
		unsigned t, nt = here ? threads_per_queue : 1;

		for (t = 0; t < nt; t++) {
			struct worker *w = &u->w[u->nr_workers++];

			w->u = u;
			w->qid = q;
			w->cpu = here ? (int)q : -1;
		}
	}
	/* Signals go to the main thread, which libfuse's loop waits in (see ring_fatal()). */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (i = 0; i < u->nr_workers; i++) {
		r = -pthread_create(&u->w[i].tid, NULL, worker_main, &u->w[i]);
		if (r < 0)
			break;
		u->w[i].started = true;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r < 0)
		goto err;
	pthread_mutex_lock(&u->lock);
	while (u->nr_ready < u->nr_workers)
		pthread_cond_wait(&u->cond, &u->lock);
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
		/* Closing the ring cancels the entry the kernel still holds. */
		if (w->ring_ok)
			io_uring_queue_exit(&w->ring);
		if (w->area)
			munmap(w->area, w->area_len);
		if (w->hdr)
			munmap(w->hdr, (size_t)sysconf(_SC_PAGESIZE));
	}
	if (u->stop_fd >= 0)
		close(u->stop_fd);
	pthread_cond_destroy(&u->cond);
	pthread_mutex_destroy(&u->lock);
	free(u);
}

uint32_t uring_serving(uint64_t unique)
{
	struct worker *w = serving;

	return w && !w->replied && w->unique == unique ? w->opcode : 0;
}

ssize_t uring_reply(const struct iovec *iov, int count)
{
	struct worker *w = serving;
	struct fuse_out_header oh;
	size_t len = 0;
	int i;

	/* libfuse takes -1 and errno, like writev(2). */
	if (!w || w->replied || iov[0].iov_len < sizeof(oh)) {
		errno = EINVAL;
		return -1;
	}
	memcpy(&oh, iov[0].iov_base, sizeof(oh));
	for (i = 1; i < count; i++) {
		if (iov[i].iov_len > w->payload_cap - len) {
			log_err("reply to opcode %u larger than the ring buffer", w->opcode);
			oh.error = -EIO;
			len = 0;
			break;
		}
		/* The request's bytes sit in front of and in the payload area:
		 * handlers reply last, so overwriting them is safe. */
		memcpy(w->payload + len, iov[i].iov_base, iov[i].iov_len);
		len += iov[i].iov_len;
	}
	oh.len = (uint32_t)(sizeof(oh) + len);
	memcpy(w->hdr->in_out, &oh, sizeof(oh));
	w->hdr->ent.payload_sz = (uint32_t)len;
	w->replied = true;
	queue_cmd(w, RING_CMD_COMMIT_AND_FETCH, false);
	return (ssize_t)oh.len;
}
