// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rfsbench - micro-benchmarks of a shared-memory filesystem.
 *
 * Runs one workload against a directory (a regionfs mount, a tmpfs, or any
 * directory) and prints one line per measured value:
 *
 *   result<TAB>WORKLOAD<TAB>METRIC<TAB>VALUE<TAB>UNIT<TAB>higher|lower
 *
 * "higher" marks rates (higher is better), "lower" marks times and costs.
 * Lines starting with '#' are commentary (extra counters, sizes).
 * scripts/bench runs this program on tmpfs and on both regionfs data paths
 * and aggregates the lines; it makes no judgement itself: this is a
 * measurement tool, nothing here asserts a timing.
 *
 * Every workload works on names of its own (rfsb.WORKLOAD.PID...) and
 * removes them before it returns, so the directory is left as it was.
 * Any failing system call ends the program with exit status 1 and a line
 * naming the workload, the call, the path and the errno: under a
 * filesystem being tested, a failure is a finding, not something to retry.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <semaphore.h>
#include <limits.h>
#include <time.h>
#include <unistd.h>

#include "regionfs/regionfs.h"

#define PAGE 4096UL
#define MIB (1024UL * 1024UL)
#define GIB (1024UL * MIB)
#define MAX_LIST 16

struct opts {
	uint64_t size;     /* main region size; 0 = workload default */
	long count;        /* names for "meta"; 0 = default */
	double secs;       /* minimum duration of a timed loop */
	pid_t daemon_pid;  /* for "mem": the daemon whose RSS to watch */
	long levels[MAX_LIST];
	int nr_levels;
	long procs[MAX_LIST];
	int nr_procs;
};

static struct opts opt = {
	.secs = 0.5,
};
static const char *cur_workload = "rfsbench";
static const char *dir;

/* ---------------------------------------------------------------- helpers */

static void __attribute__((noreturn, format(printf, 1, 2))) die(const char *fmt, ...)
{
	va_list ap;
	int err = errno;

	fprintf(stderr, "rfsbench: %s: ", cur_workload);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": %s (errno %d)\n", strerror(err), err);
	exit(1);
}

static void __attribute__((noreturn, format(printf, 1, 2))) usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "rfsbench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'rfsbench --help'.\n");
	exit(2);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void result(const char *metric, double value, const char *unit, bool higher_is_better)
{
	printf("result\t%s\t%s\t%.6g\t%s\t%s\n", cur_workload, metric, value, unit,
	       higher_is_better ? "higher" : "lower");
	fflush(stdout);
}

static void __attribute__((format(printf, 1, 2))) note(const char *fmt, ...)
{
	va_list ap;

	printf("# %s: ", cur_workload);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* xorshift64*: cheap, reproducible, good enough to pick offsets and names. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng_next(void)
{
	uint64_t x = rng_state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return x * 0x2545f4914f6cdd1dULL;
}

static uint64_t rng_below(uint64_t n)
{
	return rng_next() % n;
}

/* A path under the target directory: DIR/rfsb.<what>.<pid>. */
static void bench_path(char *buf, size_t len, const char *what)
{
	int n = snprintf(buf, len, "%s/rfsb.%s.%ld", dir, what, (long)getpid());

	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		die("path for %s", what);
	}
}

static int create_region(const char *path, uint64_t size)
{
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	if (fd < 0)
		die("open(O_CREAT|O_EXCL) %s", path);
	if (size && ftruncate(fd, (off_t)size) < 0)
		die("ftruncate(%" PRIu64 ") %s", size, path);
	return fd;
}

static void *map_region(int fd, uint64_t size, const char *path)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED)
		die("mmap(MAP_SHARED, %" PRIu64 ") %s", size, path);
	return p;
}

/* Fill the page tables of a mapping for writing (the pages exist already). */
static void populate(char *p, uint64_t size, const char *path)
{
#ifdef MADV_POPULATE_WRITE
	if (!madvise(p, size, MADV_POPULATE_WRITE))
		return;
	if (errno != EINVAL)
		die("madvise(MADV_POPULATE_WRITE) %s", path);
#endif
	for (uint64_t off = 0; off < size; off += PAGE)
		((volatile char *)p)[off] = p[off];
}

static void unmap_close_unlink(void *p, uint64_t size, int fd, const char *path)
{
	if (p && munmap(p, size) < 0)
		die("munmap %s", path);
	if (fd >= 0 && close(fd) < 0)
		die("close %s", path);
	if (path && unlink(path) < 0)
		die("unlink %s", path);
}

static void write_all(int fd, const char *buf, size_t len, off_t off, const char *path)
{
	while (len) {
		ssize_t n = pwrite(fd, buf, len, off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("pwrite(%zu at %lld) %s", len, (long long)off, path);
		}
		if (n == 0) {
			errno = EIO;
			die("pwrite returned 0 at %lld %s", (long long)off, path);
		}
		buf += n;
		len -= (size_t)n;
		off += n;
	}
}

static size_t read_full(int fd, char *buf, size_t len, off_t off, const char *path)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, buf + done, len - done, off + (off_t)done);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("pread(%zu at %lld) %s", len - done, (long long)(off + (off_t)done),
			    path);
		}
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return done;
}

static void *xmalloc_aligned(size_t len)
{
	void *p;

	if (posix_memalign(&p, PAGE, len)) {
		errno = ENOMEM;
		die("posix_memalign(%zu)", len);
	}
	return p;
}

/* Anonymous shared memory for control blocks between forked processes. */
static void *map_anon_shared(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("mmap(MAP_ANONYMOUS|MAP_SHARED, %zu)", len);
	return p;
}

static void wait_child(pid_t pid, const char *what)
{
	int st;

	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR)
			die("waitpid %s", what);
	}
	if (WIFSIGNALED(st)) {
		errno = 0;
		fprintf(stderr, "rfsbench: %s: %s (pid %ld) killed by signal %d (%s)\n",
			cur_workload, what, (long)pid, WTERMSIG(st), strsignal(WTERMSIG(st)));
		exit(1);
	}
	if (WEXITSTATUS(st) != 0) {
		fprintf(stderr, "rfsbench: %s: %s (pid %ld) exited with status %d\n", cur_workload,
			what, (long)pid, WEXITSTATUS(st));
		exit(1);
	}
}

static uint64_t size_or(uint64_t dflt)
{
	return opt.size ? opt.size : dflt;
}

/* ---------------------------------------------------------------- mmap-write */

/*
 * Bandwidth of memset into a MAP_SHARED mapping once every page is
 * present: the first pass (page allocation and faults) is reported apart.
 */
static void wl_mmap_write(void)
{
	uint64_t size = size_or(512 * MIB);
	char path[4096];
	double t0, t1, first, elapsed;
	unsigned long passes = 0;
	char *p;
	int fd;

	bench_path(path, sizeof(path), "mmap");
	fd = create_region(path, size);
	p = map_region(fd, size, path);

	t0 = now();
	memset(p, 0x11, size);
	first = now() - t0;
	result("first-pass", (double)size / first / 1e9, "GB/s", true);

	t0 = now();
	do {
		memset(p, (int)(0x20 + (passes & 0x3f)), size);
		passes++;
		t1 = now();
	} while (t1 - t0 < opt.secs || passes < 3);
	elapsed = t1 - t0;
	note("%lu passes of %" PRIu64 " bytes in %.3f s", passes, size, elapsed);
	result("steady", (double)size * (double)passes / elapsed / 1e9, "GB/s", true);

	unmap_close_unlink(p, size, fd, path);
}

/* ---------------------------------------------------------------- fault */

/*
 * First touch: a fresh region, ftruncate, mmap, one write per 4 KiB page.
 * Reported per page: the touch loop alone, and with create+ftruncate+mmap.
 */
static void wl_fault(void)
{
	uint64_t size = size_or(256 * MIB);
	uint64_t pages = size / PAGE, total_pages = 0;
	double touch = 0, whole = 0, start = now();
	long minflt = 0;
	int iter = 0;
	char path[4096];

	bench_path(path, sizeof(path), "fault");
	do {
		struct rusage ru0, ru1;
		double t0, t1, t2;
		volatile char *p;
		int fd;

		t0 = now();
		fd = create_region(path, size);
		p = map_region(fd, size, path);
		getrusage(RUSAGE_SELF, &ru0);
		t1 = now();
		for (uint64_t i = 0; i < pages; i++)
			p[i * PAGE] = 1;
		t2 = now();
		getrusage(RUSAGE_SELF, &ru1);
		touch += t2 - t1;
		whole += t2 - t0;
		total_pages += pages;
		minflt += ru1.ru_minflt - ru0.ru_minflt;
		unmap_close_unlink((void *)p, size, fd, path);
		iter++;
	} while (now() - start < opt.secs && iter < 50);

	note("%d regions of %" PRIu64 " bytes, %.2f minor faults per page", iter, size,
	     (double)minflt / (double)total_pages);
	result("touch", touch / (double)total_pages * 1e9, "ns/page", false);
	result("create+ftruncate+mmap+touch", whole / (double)total_pages * 1e9, "ns/page", false);
}

/* ---------------------------------------------------------------- msync */

/* Dirty one byte of one page, msync(MS_SYNC) that page; repeat. */
static void wl_msync(void)
{
	uint64_t size = 64 * 1024;
	char path[4096];
	volatile char *p;
	unsigned long ops = 0;
	double t0, t1;
	int fd;

	bench_path(path, sizeof(path), "msync");
	fd = create_region(path, size);
	p = map_region(fd, size, path);
	p[0] = 1;
	if (msync((void *)p, PAGE, MS_SYNC) < 0)
		die("msync %s", path);

	t0 = now();
	do {
		p[(ops & 7) * 8]++;
		if (msync((void *)p, PAGE, MS_SYNC) < 0)
			die("msync %s", path);
		ops++;
		t1 = now();
	} while (t1 - t0 < opt.secs || ops < 100);
	note("%lu msyncs in %.3f s", ops, t1 - t0);
	result("msync-1-page", (t1 - t0) / (double)ops * 1e6, "us/op", false);

	unmap_close_unlink((void *)p, size, fd, path);
}

/* ---------------------------------------------------------------- seq */

/* write(2) of a fresh region in 1 MiB blocks, then read(2) it back. */
static void wl_seq(void)
{
	uint64_t size = size_or(512 * MIB);
	const size_t bs = MIB;
	char path[4096];
	char *buf = xmalloc_aligned(bs);
	unsigned long passes = 0;
	double t0, t1;
	int fd;

	bench_path(path, sizeof(path), "seq");
	memset(buf, 0x5a, bs);
	fd = create_region(path, 0);

	t0 = now();
	for (uint64_t off = 0; off < size; off += bs)
		write_all(fd, buf, bs, (off_t)off, path);
	t1 = now();
	result("write-1M", (double)size / (t1 - t0) / 1e9, "GB/s", true);

	t0 = now();
	do {
		for (uint64_t off = 0; off < size; off += bs) {
			if (read_full(fd, buf, bs, (off_t)off, path) != bs) {
				errno = EIO;
				die("short read at %" PRIu64 " of %s", off, path);
			}
		}
		passes++;
		t1 = now();
	} while (t1 - t0 < opt.secs);
	note("%lu read passes of %" PRIu64 " bytes", passes, size);
	result("read-1M", (double)size * (double)passes / (t1 - t0) / 1e9, "GB/s", true);

	unmap_close_unlink(NULL, 0, fd, path);
	free(buf);
}

/* ---------------------------------------------------------------- rand */

/* 4 KiB pread and pwrite at random page-aligned offsets of a full region. */
static void wl_rand(void)
{
	uint64_t size = size_or(256 * MIB);
	uint64_t pages = size / PAGE;
	char path[4096];
	char *buf = xmalloc_aligned(MIB);
	unsigned long ops;
	double t0, t1;
	int fd;

	bench_path(path, sizeof(path), "rand");
	memset(buf, 0x3c, MIB);
	fd = create_region(path, 0);
	for (uint64_t off = 0; off < size; off += MIB)
		write_all(fd, buf, size - off < MIB ? size - off : MIB, (off_t)off, path);

	ops = 0;
	t0 = now();
	do {
		for (int i = 0; i < 64; i++) {
			off_t off = (off_t)(rng_below(pages) * PAGE);

			if (read_full(fd, buf, PAGE, off, path) != PAGE) {
				errno = EIO;
				die("short read at %lld of %s", (long long)off, path);
			}
		}
		ops += 64;
		t1 = now();
	} while (t1 - t0 < opt.secs);
	result("pread-4k", (double)ops / (t1 - t0), "ops/s", true);

	ops = 0;
	t0 = now();
	do {
		for (int i = 0; i < 64; i++) {
			off_t off = (off_t)(rng_below(pages) * PAGE);

			buf[0] = (char)i;
			write_all(fd, buf, PAGE, off, path);
		}
		ops += 64;
		t1 = now();
	} while (t1 - t0 < opt.secs);
	result("pwrite-4k", (double)ops / (t1 - t0), "ops/s", true);

	unmap_close_unlink(NULL, 0, fd, path);
	free(buf);
}

/* ---------------------------------------------------------------- mutex */

struct pingpong {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int turn;          /* 0: parent's turn, 1: child's */
	int stop;
	unsigned long handovers;
};

/* Take the turn when it is ours, hand it to the other side; until stop. */
static void pingpong_run(struct pingpong *pp, int me, double secs, double *ret_elapsed)
{
	double t0 = now();
	int err;

	if ((err = pthread_mutex_lock(&pp->lock))) {
		errno = err;
		die("pthread_mutex_lock");
	}
	for (;;) {
		while (pp->turn != me && !pp->stop) {
			if ((err = pthread_cond_wait(&pp->cond, &pp->lock))) {
				errno = err;
				die("pthread_cond_wait");
			}
		}
		if (pp->stop)
			break;
		pp->turn = !me;
		pp->handovers++;
		if (me == 0 && (pp->handovers & 255) == 0 && now() - t0 >= secs) {
			pp->stop = 1;
			*ret_elapsed = now() - t0;
		}
		pthread_cond_broadcast(&pp->cond);
	}
	pthread_mutex_unlock(&pp->lock);
}

/*
 * Two processes, each with its own open and mapping of one region, hand a
 * turn back and forth through a process-shared mutex and condition
 * variable that live in the region.
 */
static void wl_mutex(void)
{
	uint64_t size = PAGE;
	pthread_mutexattr_t ma;
	pthread_condattr_t ca;
	struct pingpong *pp;
	char path[4096];
	double elapsed = 0;
	pid_t pid;
	int fd;

	bench_path(path, sizeof(path), "mutex");
	fd = create_region(path, size);
	pp = map_region(fd, size, path);
	memset(pp, 0, sizeof(*pp));
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	pthread_mutex_init(&pp->lock, &ma);
	pthread_condattr_init(&ca);
	pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
	pthread_cond_init(&pp->cond, &ca);
	pp->turn = 1;
	/* The child gets the region by name, as an unrelated process would. */
	if (msync(pp, size, MS_SYNC) < 0)
		die("msync %s", path);

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		int cfd = open(path, O_RDWR | O_CLOEXEC);
		struct pingpong *cpp;
		double unused;

		if (cfd < 0)
			die("child: open %s", path);
		cpp = map_region(cfd, size, path);
		pingpong_run(cpp, 1, 0, &unused);
		_exit(0);
	}
	pingpong_run(pp, 0, opt.secs, &elapsed);
	wait_child(pid, "ping-pong child");
	note("%lu hand-overs in %.3f s", pp->handovers, elapsed);
	result("handover", elapsed / (double)pp->handovers * 1e9, "ns/handover", false);

	unmap_close_unlink(pp, size, fd, path);
}

/* ---------------------------------------------------------------- POSIX shm/sem */

/*
 * glibc keeps shm_open() and sem_open() objects in /dev/shm, always: these
 * workloads measure whatever is mounted there, so scripts/bench mounts each
 * target on /dev/shm in its private mount namespace.
 */
static void require_dev_shm(void)
{
	char real[PATH_MAX];

	if (!realpath(dir, real) || strcmp(real, "/dev/shm") != 0)
		usage_error("%s: DIR must be /dev/shm (shm_open/sem_open use it, always)",
			    cur_workload);
}

/* shm_open(O_CREAT) + ftruncate + mmap + touch + munmap + close + shm_unlink */
static void wl_shm(void)
{
	char name[64];
	long ops = 0;
	double t0, t1;

	require_dev_shm();
	snprintf(name, sizeof(name), "/rfsbench-shm-%d", (int)getpid());
	t0 = now();
	do {
		for (int i = 0; i < 16; i++) {
			int fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
			char *p;

			if (fd < 0)
				die("shm_open %s", name);
			if (ftruncate(fd, PAGE) < 0)
				die("ftruncate %s", name);
			p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
			if (p == MAP_FAILED)
				die("mmap %s", name);
			p[0] = 1;
			munmap(p, PAGE);
			close(fd);
			if (shm_unlink(name) < 0)
				die("shm_unlink %s", name);
		}
		ops += 16;
		t1 = now();
	} while (t1 - t0 < opt.secs);
	result("shm-cycle", (double)ops / (t1 - t0), "cycles/s", true);
}

/* Two processes, two named semaphores: post the other's, wait for ours. */
static void wl_sem(void)
{
	char ping[64], pong[64];
	sem_t *a, *b;
	long rounds = 0;
	double t0, t1;
	pid_t pid;

	require_dev_shm();
	snprintf(ping, sizeof(ping), "/rfsbench-ping-%d", (int)getpid());
	snprintf(pong, sizeof(pong), "/rfsbench-pong-%d", (int)getpid());
	a = sem_open(ping, O_CREAT | O_EXCL, 0600, 0);
	b = sem_open(pong, O_CREAT | O_EXCL, 0600, 0);
	if (a == SEM_FAILED || b == SEM_FAILED)
		die("sem_open");
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		/* The child opens both by name, as an unrelated process would. */
		sem_t *ca = sem_open(ping, 0), *cb = sem_open(pong, 0);

		if (ca == SEM_FAILED || cb == SEM_FAILED)
			die("child: sem_open");
		for (;;) {
			if (sem_wait(ca) < 0)
				die("child: sem_wait");
			if (sem_post(cb) < 0)
				die("child: sem_post");
		}
	}
	t0 = now();
	do {
		for (int i = 0; i < 256; i++) {
			if (sem_post(a) < 0 || sem_wait(b) < 0)
				die("sem_post/sem_wait");
		}
		rounds += 256;
		t1 = now();
	} while (t1 - t0 < opt.secs);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	sem_close(a);
	sem_close(b);
	if (sem_unlink(ping) < 0 || sem_unlink(pong) < 0)
		die("sem_unlink");
	note("%ld round trips in %.3f s", rounds, t1 - t0);
	result("post-wait-roundtrip", (t1 - t0) / (double)rounds * 1e9, "ns/roundtrip", false);
}

/* ---------------------------------------------------------------- meta */

static void name_at(char *buf, size_t len, const char *d, const char *prefix, long i)
{
	int n = snprintf(buf, len, "%s/%s%07ld", d, prefix, i);

	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		die("name in %s", d);
	}
}

static void create_names(const char *d, long from, long to, bool sized)
{
	char path[4096];

	for (long i = from; i < to; i++) {
		int fd;

		name_at(path, sizeof(path), d, "r", i);
		fd = create_region(path, sized ? PAGE : 0);
		if (close(fd) < 0)
			die("close %s", path);
	}
}

static void unlink_names(const char *d, long from, long to)
{
	char path[4096];

	for (long i = from; i < to; i++) {
		name_at(path, sizeof(path), d, "r", i);
		if (unlink(path) < 0)
			die("unlink %s", path);
	}
}

static long count_entries(const char *d)
{
	DIR *dp = opendir(d);
	long n = 0;

	if (!dp)
		return -1;
	while (readdir(dp))
		n++;
	closedir(dp);
	return n - 2;
}

/*
 * Untimed bulk work (filling a directory before a measurement, emptying it
 * after) in FILL_PROCS processes: FUSE round trips overlap, which keeps
 * the 100,000-name levels affordable. Each process takes one contiguous
 * part of [from, to).
 */
#define FILL_PROCS 4

static void names_parallel(const char *d, long from, long to, bool create)
{
	pid_t pids[FILL_PROCS];
	long per = (to - from + FILL_PROCS - 1) / FILL_PROCS;
	bool failed = false;

	if (to - from < 1000) {
		if (create)
			create_names(d, from, to, true);
		else
			unlink_names(d, from, to);
		return;
	}
	fflush(stdout);
	for (int k = 0; k < FILL_PROCS; k++) {
		long a = from + per * k, b = a + per < to ? a + per : to;

		pids[k] = fork();
		if (pids[k] < 0)
			die("fork");
		if (pids[k] == 0) {
			if (create)
				create_names(d, a, b, true);
			else
				unlink_names(d, a, b);
			_exit(0);
		}
	}
	for (int k = 0; k < FILL_PROCS; k++) {
		int st;

		while (waitpid(pids[k], &st, 0) < 0) {
			if (errno != EINTR)
				die("waitpid");
		}
		failed |= !WIFEXITED(st) || WEXITSTATUS(st) != 0;
	}
	if (failed) {
		/* The helpers said why; say how far the directory got. */
		fprintf(stderr, "rfsbench: %s: bulk %s in %s stopped (see above) with %ld names in "
			"the directory\n", cur_workload, create ? "create" : "unlink", d,
			count_entries(d));
		exit(1);
	}
}

static double rate_stat(const char *d, long n)
{
	char path[4096];
	unsigned long ops = 0;
	double t0 = now(), t1;
	struct stat st;

	do {
		for (int i = 0; i < 64; i++) {
			name_at(path, sizeof(path), d, "r", (long)rng_below((uint64_t)n));
			if (stat(path, &st) < 0)
				die("stat %s", path);
		}
		ops += 64;
		t1 = now();
	} while (t1 - t0 < opt.secs);
	return (double)ops / (t1 - t0);
}

static double rate_open(const char *d, long n)
{
	char path[4096];
	unsigned long ops = 0;
	double t0 = now(), t1;

	do {
		for (int i = 0; i < 16; i++) {
			int fd;

			name_at(path, sizeof(path), d, "r", (long)rng_below((uint64_t)n));
			fd = open(path, O_RDWR | O_CLOEXEC);
			if (fd < 0)
				die("open %s", path);
			if (close(fd) < 0)
				die("close %s", path);
		}
		ops += 16;
		t1 = now();
	} while (t1 - t0 < opt.secs);
	return (double)ops / (t1 - t0);
}

/* open() of names never seen before: each is a cold (negative) lookup. */
static double rate_lookup_miss(const char *d)
{
	static long serial;
	char path[4096];
	unsigned long ops = 0;
	double t0 = now(), t1;

	do {
		for (int i = 0; i < 16; i++) {
			name_at(path, sizeof(path), d, "missing", serial++);
			if (open(path, O_RDWR | O_CLOEXEC) >= 0 || errno != ENOENT)
				die("open of missing name %s did not fail with ENOENT", path);
		}
		ops += 16;
		t1 = now();
	} while (t1 - t0 < opt.secs);
	return (double)ops / (t1 - t0);
}

static double rate_readdir(const char *d, long n)
{
	unsigned long entries = 0, passes = 0;
	double t0 = now(), t1;

	do {
		DIR *dp = opendir(d);
		struct dirent *de;
		long seen = 0;

		if (!dp)
			die("opendir %s", d);
		errno = 0;
		while ((de = readdir(dp)))
			seen++;
		if (errno)
			die("readdir %s", d);
		closedir(dp);
		if (seen != n + 2) {
			errno = EIO;
			die("readdir %s: %ld entries, expected %ld", d, seen, n + 2);
		}
		entries += (unsigned long)seen;
		passes++;
		t1 = now();
	} while (t1 - t0 < opt.secs || passes < 2);
	return (double)entries / (t1 - t0);
}

static void make_dir(char *buf, size_t len, const char *what)
{
	bench_path(buf, len, what);
	if (mkdir(buf, 0700) < 0)
		die("mkdir %s", buf);
}

/* Name operations in one directory of COUNT regions of 4 KiB. */
static void wl_meta(void)
{
	long n = opt.count ? opt.count : 10000;
	char d[4096];
	double t0;

	make_dir(d, sizeof(d), "meta");

	t0 = now();
	create_names(d, 0, n, true);
	result("create+ftruncate4k+close", (double)n / (now() - t0), "ops/s", true);
	result("open+close", rate_open(d, n), "ops/s", true);
	result("stat", rate_stat(d, n), "ops/s", true);
	result("readdir", rate_readdir(d, n), "entries/s", true);
	t0 = now();
	unlink_names(d, 0, n);
	result("unlink", (double)n / (now() - t0), "ops/s", true);
	note("%ld regions", n);

	if (rmdir(d) < 0)
		die("rmdir %s", d);
}

/* ---------------------------------------------------------------- scale-meta */

/*
 * One directory grown to each level in turn (untimed, in parallel). At a
 * level L the create rate is that of the last tenth of the names
 * (L*0.9 .. L) made by one process, then stat of random existing names and
 * open of never-seen missing names (cold lookups). At the largest level,
 * the unlink rate of one tenth of the names; the rest go untimed.
 */
static void wl_scale_meta(void)
{
	static const long dflt[] = { 1000, 10000, 100000 };
	char d[4096], metric[64];
	long have = 0, tenth;
	double t0;
	int nr = opt.nr_levels;
	const long *levels = opt.levels;

	if (!nr) {
		levels = dflt;
		nr = 3;
	}
	make_dir(d, sizeof(d), "scale");
	for (int li = 0; li < nr; li++) {
		long level = levels[li];
		long mark = level - level / 10;

		if (level <= have)
			continue;
		if (mark < have)
			mark = have;
		t0 = now();
		names_parallel(d, have, mark, true);
		note("filled to %ld names in %.2f s (%d processes, untimed)", mark, now() - t0,
		     FILL_PROCS);
		t0 = now();
		create_names(d, mark, level, true);
		snprintf(metric, sizeof(metric), "create@%ld", level);
		result(metric, (double)(level - mark) / (now() - t0), "ops/s", true);
		have = level;

		snprintf(metric, sizeof(metric), "stat@%ld", level);
		result(metric, rate_stat(d, have), "ops/s", true);
		snprintf(metric, sizeof(metric), "lookup-miss@%ld", level);
		result(metric, rate_lookup_miss(d), "ops/s", true);
	}
	tenth = have / 10 ? have / 10 : 1;
	t0 = now();
	unlink_names(d, have - tenth, have);
	snprintf(metric, sizeof(metric), "unlink@%ld", have);
	result(metric, (double)tenth / (now() - t0), "ops/s", true);
	names_parallel(d, 0, have - tenth, false);
	if (rmdir(d) < 0)
		die("rmdir %s", d);
}

/* ---------------------------------------------------------------- scale-mmap */

struct mp_ctl {
	pthread_barrier_t start;
	volatile int stop;
	double t0;
	uint64_t bytes[64];
	double end[64];
};

/*
 * One writer: its own open and mapping, page tables populated, then 1 MiB
 * memsets sweeping the whole region from its own starting offset. Every
 * writer covers the whole region so that the working set is the region
 * (memory bandwidth), never a slice small enough to stay in the CPU cache.
 */
static void mp_writer(struct mp_ctl *ctl, int idx, const char *path, uint64_t size,
		      uint64_t start)
{
	const uint64_t chunk = size < MIB ? size : MIB;
	int fd = open(path, O_RDWR | O_CLOEXEC);
	uint64_t bytes = 0, pos = start / chunk * chunk;
	int err;
	char *p;

	if (fd < 0)
		die("writer %d: open %s", idx, path);
	p = map_region(fd, size, path);
	populate(p, size, path);
	err = pthread_barrier_wait(&ctl->start);
	if (err && err != PTHREAD_BARRIER_SERIAL_THREAD) {
		errno = err;
		die("pthread_barrier_wait");
	}
	while (!ctl->stop) {
		memset(p + pos, (int)(bytes >> 20), chunk);
		bytes += chunk;
		pos += chunk;
		if (pos + chunk > size)
			pos = 0;
	}
	ctl->bytes[idx] = bytes;
	ctl->end[idx] = now();
	_exit(0);
}

/* One region written by P processes at once (aggregate bandwidth). */
static void wl_scale_mmap(void)
{
	static const long dflt[] = { 1, 4, 16 };
	uint64_t size = size_or(512 * MIB);
	const long *procs = opt.procs;
	int nr = opt.nr_procs;
	struct mp_ctl *ctl = map_anon_shared(sizeof(*ctl));
	char path[4096], metric[64];
	pid_t pids[64];
	char *p;
	int fd;

	if (!nr) {
		procs = dflt;
		nr = 3;
	}
	bench_path(path, sizeof(path), "mp");
	fd = create_region(path, size);
	p = map_region(fd, size, path);
	memset(p, 0x01, size);

	for (int k = 0; k < nr; k++) {
		long np = procs[k];
		uint64_t slice = size / (uint64_t)np;
		pthread_barrierattr_t ba;
		double t_end = 0, t0;
		uint64_t total = 0;
		struct timespec ts;

		if (np < 1 || np > 64)
			usage_error("--procs: %ld is not within 1..64", np);
		memset(ctl, 0, sizeof(*ctl));
		pthread_barrierattr_init(&ba);
		pthread_barrierattr_setpshared(&ba, PTHREAD_PROCESS_SHARED);
		pthread_barrier_init(&ctl->start, &ba, (unsigned)np + 1);

		fflush(stdout);
		for (long i = 0; i < np; i++) {
			pids[i] = fork();
			if (pids[i] < 0)
				die("fork");
			if (pids[i] == 0)
				mp_writer(ctl, (int)i, path, size, (uint64_t)i * slice);
		}
		pthread_barrier_wait(&ctl->start);
		t0 = now();
		/* The measurement window itself, not a wait for readiness. */
		ts.tv_sec = (time_t)opt.secs;
		ts.tv_nsec = (long)((opt.secs - (double)ts.tv_sec) * 1e9);
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
		ctl->stop = 1;
		for (long i = 0; i < np; i++)
			wait_child(pids[i], "writer");
		for (long i = 0; i < np; i++) {
			total += ctl->bytes[i];
			if (ctl->end[i] > t_end)
				t_end = ctl->end[i];
		}
		pthread_barrier_destroy(&ctl->start);
		snprintf(metric, sizeof(metric), "write-%ldproc", np);
		result(metric, (double)total / (t_end - t0) / 1e9, "GB/s", true);
	}
	unmap_close_unlink(p, size, fd, path);
	munmap(ctl, sizeof(*ctl));
}

/* ---------------------------------------------------------------- mem */

struct memsnap {
	long long memfree, avail, cached, shmem;       /* /proc/meminfo */
	long long rss, rss_anon, rss_file, rss_shmem;  /* the daemon; -1 = not watched */
	long long cg_usage, cg_shmem, cg_file;         /* our memory cgroup; -1 = none */
};

/* Memory cgroup files of this process (the daemon is its sibling in it). */
static char cg_usage_path[512], cg_stat_path[512];
static const char *cg_file_key;

/*
 * "KEY: N kB" (/proc/meminfo, /proc/PID/status; SEP ':', MULT 1024) or
 * "KEY N" (memory.stat; SEP ' ', MULT 1). -1 when absent.
 */
static long long kv_read(const char *path, const char *key, char sep, long long mult)
{
	char line[256];
	size_t klen = strlen(key);
	long long v = -1;
	FILE *f = fopen(path, "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, klen) && line[klen] == sep) {
			v = strtoll(line + klen + 1, NULL, 10) * mult;
			break;
		}
	}
	fclose(f);
	return v;
}

static long long kv_bytes(const char *path, const char *key)
{
	return kv_read(path, key, ':', 1024);
}

static long long read_number(const char *path)
{
	long long v = -1;
	FILE *f = fopen(path, "re");

	if (f) {
		if (fscanf(f, "%lld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

/*
 * Find the memory cgroup this process runs in (v1 "memory" controller, or
 * v2). Its counters hold only what this benchmark and its daemon charged,
 * unlike /proc/meminfo on a shared machine. Optional: absent, unreadable or
 * the root cgroup means no cgroup metrics.
 */
static void cg_find(void)
{
	char line[1024], v1[512] = "", v2[512] = "";
	FILE *f = fopen("/proc/self/cgroup", "re");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *ctrl = strchr(line, ':'), *path;

		if (!ctrl || !(path = strchr(ctrl + 1, ':')))
			continue;
		*path++ = '\0';
		path[strcspn(path, "\n")] = '\0';
		if (!strcmp(ctrl + 1, ":") || ctrl[1] == '\0')
			snprintf(v2, sizeof(v2), "%s", path);
		else if (strstr(ctrl + 1, "memory"))
			snprintf(v1, sizeof(v1), "%s", path);
	}
	fclose(f);
	if (v1[0] && strcmp(v1, "/")) {
		snprintf(cg_usage_path, sizeof(cg_usage_path),
			 "/sys/fs/cgroup/memory%s/memory.usage_in_bytes", v1);
		snprintf(cg_stat_path, sizeof(cg_stat_path), "/sys/fs/cgroup/memory%s/memory.stat",
			 v1);
		cg_file_key = "cache";
	} else if (v2[0] && strcmp(v2, "/")) {
		snprintf(cg_usage_path, sizeof(cg_usage_path), "/sys/fs/cgroup%s/memory.current",
			 v2);
		snprintf(cg_stat_path, sizeof(cg_stat_path), "/sys/fs/cgroup%s/memory.stat", v2);
		cg_file_key = "file";
	}
	if (cg_usage_path[0] && read_number(cg_usage_path) < 0)
		cg_usage_path[0] = '\0';
	if (cg_usage_path[0])
		note("memory cgroup: %s", cg_usage_path);
}

static void snap(struct memsnap *m)
{
	char status[64];

	m->memfree = kv_bytes("/proc/meminfo", "MemFree");
	m->avail = kv_bytes("/proc/meminfo", "MemAvailable");
	m->cached = kv_bytes("/proc/meminfo", "Cached");
	m->shmem = kv_bytes("/proc/meminfo", "Shmem");
	m->rss = m->rss_anon = m->rss_file = m->rss_shmem = -1;
	if (opt.daemon_pid > 0) {
		snprintf(status, sizeof(status), "/proc/%ld/status", (long)opt.daemon_pid);
		m->rss = kv_bytes(status, "VmRSS");
		m->rss_anon = kv_bytes(status, "RssAnon");
		m->rss_file = kv_bytes(status, "RssFile");
		m->rss_shmem = kv_bytes(status, "RssShmem");
		if (m->rss < 0)
			die("reading %s (is the daemon pid right?)", status);
	}
	m->cg_usage = m->cg_shmem = m->cg_file = -1;
	if (cg_usage_path[0]) {
		m->cg_usage = read_number(cg_usage_path);
		m->cg_shmem = kv_read(cg_stat_path, "shmem", ' ', 1);
		m->cg_file = kv_read(cg_stat_path, cg_file_key, ' ', 1);
	}
}

static void snap_note(const char *when, const struct memsnap *m)
{
	note("%s: MemFree %lld MemAvailable %lld Cached %lld Shmem %lld; daemon VmRSS %lld "
	     "(anon %lld file %lld shmem %lld); cgroup usage %lld shmem %lld %s %lld (bytes)",
	     when, m->memfree, m->avail, m->cached, m->shmem, m->rss, m->rss_anon, m->rss_file,
	     m->rss_shmem, m->cg_usage, m->cg_shmem, cg_file_key ? cg_file_key : "file",
	     m->cg_file);
}

/* The counter that best shows our own memory: the cgroup's, else MemFree. */
static long long own_memory(void)
{
	if (cg_usage_path[0])
		return read_number(cg_usage_path);
	return -kv_bytes("/proc/meminfo", "MemFree");
}

/*
 * Wait (up to 3 s, polling every 100 ms) until our memory stops moving by
 * more than 1% of SIZE, so memory still being freed by an earlier workload
 * (or by a daemon answering RELEASE/FORGET) does not count as this one's.
 */
static void settle(uint64_t size)
{
	long long prev = own_memory(), cur;

	for (int i = 0; i < 30; i++) {
		usleep(100000);
		cur = own_memory();
		if (llabs(cur - prev) < (long long)(size / 100))
			return;
		prev = cur;
	}
	note("memory did not settle within 3 s");
}

/* (AFTER - BEFORE) / SIZE as a cost, when both counters could be read. */
static void ratio(const char *metric, long long before, long long after, uint64_t size)
{
	if (before >= 0 && after >= 0)
		result(metric, (double)(after - before) / (double)size, "x data", false);
}

/*
 * Resident cost of SIZE bytes written through a shared mapping, as a
 * multiple of SIZE: system-wide (/proc/meminfo: noisy on a shared machine,
 * other processes move it too, hence medians over rounds), in our own
 * memory cgroup when there is one (only this benchmark and its daemon), and
 * the daemon's RSS. Then what is left once the region is unlinked.
 */
static void wl_mem(void)
{
	uint64_t size = size_or(GIB);
	struct memsnap m0, m1, m2;
	char path[4096];
	char *p;
	int fd;

	cg_find();
	bench_path(path, sizeof(path), "mem");
	sync();
	settle(size);
	snap(&m0);
	fd = create_region(path, size);
	p = map_region(fd, size, path);
	memset(p, 0x5a, size);
	/* Cached mode: make the daemon hold its copy before counting. */
	if (msync(p, size, MS_SYNC) < 0)
		die("msync %s", path);
	snap(&m1);
	unmap_close_unlink(p, size, fd, NULL);
	if (unlink(path) < 0)
		die("unlink %s", path);
	/* RELEASE and FORGET reach a FUSE daemon asynchronously. */
	settle(size);
	snap(&m2);

	snap_note("before", &m0);
	snap_note("written+msynced", &m1);
	snap_note("after unlink", &m2);
	/* A drop is a rise with the snapshots swapped. */
	ratio("sys-MemFree-drop", m1.memfree, m0.memfree, size);
	ratio("sys-MemAvailable-drop", m1.avail, m0.avail, size);
	ratio("sys-Shmem-rise", m0.shmem, m1.shmem, size);
	ratio("sys-Cached-rise", m0.cached, m1.cached, size);
	ratio("cgroup-usage-rise", m0.cg_usage, m1.cg_usage, size);
	ratio("cgroup-shmem-rise", m0.cg_shmem, m1.cg_shmem, size);
	ratio("cgroup-pagecache-rise", m0.cg_file, m1.cg_file, size);
	ratio("daemon-RSS-rise", m0.rss, m1.rss, size);
	ratio("cgroup-usage-left-after-unlink", m0.cg_usage, m2.cg_usage, size);
	ratio("sys-Shmem-left-after-unlink", m0.shmem, m2.shmem, size);
}

/* ---------------------------------------------------------------- trunc */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

struct lat {
	double *v;
	size_t n, cap;
};

static void lat_add(struct lat *l, double secs)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 4096;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		if (!l->v) {
			errno = ENOMEM;
			die("realloc of %zu samples", l->cap);
		}
	}
	l->v[l->n++] = secs;
}

/* p50, p99 and the maximum of the samples, in microseconds; empties l. */
static void lat_report(struct lat *l, const char *what, const char *phase)
{
	char metric[64];

	qsort(l->v, l->n, sizeof(*l->v), cmp_double);
	snprintf(metric, sizeof(metric), "%s-p50-%s", what, phase);
	result(metric, l->v[l->n / 2] * 1e6, "us", false);
	snprintf(metric, sizeof(metric), "%s-p99-%s", what, phase);
	result(metric, l->v[(size_t)((double)l->n * 0.99)] * 1e6, "us", false);
	snprintf(metric, sizeof(metric), "%s-max-%s", what, phase);
	result(metric, l->v[l->n - 1] * 1e6, "us", false);
	note("%s %s: %zu samples", what, phase, l->n);
	free(l->v);
	*l = (struct lat){ 0 };
}

/*
 * open+close and stat of a small region, each call timed, for at least
 * secs and until *cycles (when given) has passed min_cycles.
 * statx(AT_STATX_FORCE_SYNC) asks the file system every time: a FUSE
 * mount's attribute cache would answer a plain stat(2) itself.
 */
static void time_small(const char *small, double secs, volatile unsigned long *cycles,
		       unsigned long min_cycles, const char *phase)
{
	struct lat open_lat = { 0 }, stat_lat = { 0 };
	double t0 = now(), limit = t0 + 60;

	for (;;) {
		struct statx stx;
		double t;
		int fd;

		t = now();
		fd = open(small, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			die("open %s", small);
		if (close(fd) < 0)
			die("close %s", small);
		lat_add(&open_lat, now() - t);
		t = now();
		if (statx(AT_FDCWD, small, AT_STATX_FORCE_SYNC, STATX_BASIC_STATS, &stx) < 0)
			die("statx %s", small);
		lat_add(&stat_lat, now() - t);
		t = now();
		if (t - t0 >= secs && (!cycles || *cycles >= min_cycles || t >= limit))
			break;
	}
	lat_report(&open_lat, "open+close", phase);
	lat_report(&stat_lat, "stat", phase);
}

/*
 * Latency of one region's open+close and stat while another process grows
 * a large region to -s (default 1G) and shrinks it to 0 in a loop: on
 * regionfs a growth reserves (fallocates) the whole size. First without
 * the truncating process ("idle"), then with it ("truncating").
 */
static void wl_trunc(void)
{
	uint64_t size = size_or(GIB);
	double secs = opt.secs * 4 > 2 ? opt.secs * 4 : 2;
	volatile unsigned long *shared;
	char small[4096], big[4096];
	pid_t pid;
	int fd;

	bench_path(small, sizeof(small), "trunc-small");
	bench_path(big, sizeof(big), "trunc-big");
	fd = create_region(small, PAGE);
	if (close(fd) < 0)
		die("close %s", small);
	fd = create_region(big, 0);
	shared = map_anon_shared(PAGE); /* [0]: stop, [1]: cycles done */

	time_small(small, secs, NULL, 0, "idle");

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		while (!shared[0]) {
			if (ftruncate(fd, (off_t)size) < 0)
				die("child: ftruncate(%" PRIu64 ") %s", size, big);
			if (ftruncate(fd, 0) < 0)
				die("child: ftruncate(0) %s", big);
			shared[1]++;
		}
		_exit(0);
	}
	time_small(small, secs, &shared[1], 4, "truncating");
	shared[0] = 1;
	wait_child(pid, "truncating child");
	note("%lu grow+shrink cycles of %" PRIu64 " MiB", shared[1], size / MIB);

	if (munmap((void *)shared, PAGE) < 0)
		die("munmap");
	unmap_close_unlink(NULL, 0, fd, big);
	if (unlink(small) < 0)
		die("unlink %s", small);
}

/* ---------------------------------------------------------------- holders */

#define HOLDERS_XATTR "user.regionfs.holders"
#define HOLDERS_HOLDING 4 /* of the processes: two with the region open, two mapped (fd closed) */

/* Seconds per run of the shell command cmd (at least runs runs, opt.secs in all); < 0: it failed. */
static double time_command(const char *cmd, int runs)
{
	double t0 = now(), t1;
	int n = 0;

	do {
		if (system(cmd) != 0)
			return -1;
		n++;
		t1 = now();
	} while (t1 - t0 < opt.secs || n < runs);
	return (t1 - t0) / n;
}

/* Seconds per getxattr of user.regionfs.holders of path (at least 5, opt.secs in all). */
static double time_holders(const char *path, char *buf, ssize_t *ret_len)
{
	double t0 = now(), t1;
	int n = 0;

	do {
		*ret_len = getxattr(path, HOLDERS_XATTR, buf, 65536);
		if (*ret_len < 0)
			return -1;
		n++;
		t1 = now();
	} while (t1 - t0 < opt.secs || n < 5);
	return (t1 - t0) / n;
}

/*
 * How long reading user.regionfs.holders takes with -n processes (default
 * 1000) running, a few of which hold a region; of a region, and of the
 * directory (the view of its regions). For reference, fuser -m and lsof on
 * the same mount (which list open files, not mappings), when installed.
 * On a filesystem without the attribute (tmpfs) only the references run.
 */
static void wl_holders(void)
{
	long nprocs = opt.count ? opt.count : 1000;
	volatile unsigned long *ready = map_anon_shared(PAGE);
	char path[4096], cmd[4200], *buf = malloc(65536);
	double t_region, t_dir = -1, t_fuser = -1, t_lsof = -1;
	pid_t *pids = calloc((size_t)nprocs, sizeof(*pids));
	ssize_t len = 0;
	int fd, gate[2];
	long lines = 0;

	if (!buf || !pids)
		die("malloc");
	bench_path(path, sizeof(path), "holders");
	fd = create_region(path, 64 * 1024);
	if (close(fd) < 0)
		die("close %s", path);
	if (pipe(gate) < 0)
		die("pipe");
	fflush(stdout);
	for (long i = 0; i < nprocs; i++) {
		pids[i] = fork();
		if (pids[i] < 0)
			die("fork (%ld of %ld processes)", i, nprocs);
		if (pids[i] == 0) {
			char c;

			close(gate[1]);
			if (i < HOLDERS_HOLDING) {
				int hfd = open(path, O_RDWR | O_CLOEXEC);

				if (hfd < 0)
					_exit(1);
				if (i % 2 && (mmap(NULL, PAGE, PROT_READ, MAP_SHARED, hfd, 0) == MAP_FAILED ||
					      close(hfd) < 0))
					_exit(1);
				__atomic_add_fetch(&ready[0], 1, __ATOMIC_SEQ_CST);
			}
			/* Until the parent closes the gate. */
			while (read(gate[0], &c, 1) < 0 && errno == EINTR)
				;
			_exit(0);
		}
	}
	close(gate[0]);
	while (__atomic_load_n(&ready[0], __ATOMIC_SEQ_CST) < HOLDERS_HOLDING)
		usleep(1000);

	t_region = time_holders(path, buf, &len);
	if (t_region >= 0) {
		for (ssize_t i = 0; i < len; i++)
			lines += buf[i] == '\n';
		note("%ld processes running, %ld holders listed (%d expected)", nprocs, lines,
		     HOLDERS_HOLDING);
		result("holders-region", t_region * 1e3, "ms/op", false);
		t_dir = time_holders(dir, buf, &len);
		if (t_dir < 0)
			die("getxattr %s %s", dir, HOLDERS_XATTR);
		result("holders-dir", t_dir * 1e3, "ms/op", false);
	} else if (errno == ENODATA || errno == ENOTSUP) {
		note("no %s here: only the references run", HOLDERS_XATTR);
	} else {
		die("getxattr %s %s", path, HOLDERS_XATTR);
	}
	if (system("command -v fuser >/dev/null 2>&1") == 0) {
		snprintf(cmd, sizeof(cmd), "fuser -m '%s' >/dev/null 2>&1; [ $? -le 1 ]", dir);
		t_fuser = time_command(cmd, 3);
		if (t_fuser >= 0)
			result("fuser-m", t_fuser * 1e3, "ms/op", false);
	}
	if (system("command -v lsof >/dev/null 2>&1") == 0) {
		snprintf(cmd, sizeof(cmd), "lsof -w '%s' >/dev/null 2>&1; [ $? -le 1 ]", dir);
		t_lsof = time_command(cmd, 2);
		if (t_lsof >= 0)
			result("lsof", t_lsof * 1e3, "ms/op", false);
	}
	/* The ratios to the references, as rows of the table (tmpfs has none). */
	if (t_region >= 0 && t_fuser > 0) {
		result("region/fuser-m", t_region / t_fuser, "x time", false);
		result("dir/fuser-m", t_dir / t_fuser, "x time", false);
	}
	if (t_region >= 0 && t_lsof > 0)
		result("region/lsof", t_region / t_lsof, "x time", false);

	close(gate[1]);
	for (long i = 0; i < nprocs; i++)
		wait_child(pids[i], "sleeping process");
	if (munmap((void *)ready, PAGE) < 0)
		die("munmap");
	if (unlink(path) < 0)
		die("unlink %s", path);
	free(pids);
	free(buf);
}

/* ---------------------------------------------------------------- main */

struct workload {
	const char *name;
	void (*run)(void);
	const char *help;
};

/*
 * libregionfs against the same calls made directly (README "Porting from
 * Windows"): open of an existing region (rfs_open vs open), create-or-open
 * of an existing name (rfs_create: one open when it exists), a new region
 * (rfs_create's pending name, rename and lifetime vs open(O_CREAT) +
 * ftruncate), map+unmap of a page (rfs_map/rfs_unmap vs mmap/munmap) and an
 * asynchronous flush (rfs_flush vs msync MS_ASYNC).
 */
static double lib_rate(const char *what, int kind, bool lib)
{
	struct rfs_create_opts persist = { .lifetime = RFS_LIFETIME_PERSIST };
	char path[PATH_MAX], name[64];
	struct rfs_region *r;
	long ops = 0;
	double t0, t1;
	int fd, e;
	void *v;

	snprintf(name, sizeof(name), "rfsbench-lib-%d", (int)getpid());
	if (rfs_path(name, true, path, sizeof(path)) < 0)
		die("rfs_path %s", name);
	if (rfs_create(name, PAGE, RFS_PROT_READ | RFS_PROT_WRITE, &persist, &r, NULL) < 0)
		die("rfs_create %s", name);
	fd = rfs_fd(r);
	if (rfs_map(r, RFS_MAP_WRITE, 0, PAGE, &v) < 0)
		die("rfs_map %s", name);
	t0 = now();
	do {
		for (int i = 0; i < 16; i++) {
			struct rfs_region *h;
			char tmpname[80], tmppath[PATH_MAX + 80];
			void *m;
			int f;

			switch (kind) {
			case 0: /* open an existing region */
				if (lib) {
					if ((e = rfs_open(name, RFS_PROT_READ | RFS_PROT_WRITE, &h)) < 0)
						errno = -e, die("rfs_open");
					rfs_close(h);
				} else {
					if ((f = open(path, O_RDWR)) < 0)
						die("open");
					close(f);
				}
				break;
			case 1: /* create-or-open of an existing name */
				if (lib) {
					if ((e = rfs_create(name, PAGE, RFS_PROT_READ | RFS_PROT_WRITE,
							    &persist, &h, NULL)) < 0)
						errno = -e, die("rfs_create");
					rfs_close(h);
				} else {
					if ((f = open(path, O_RDWR | O_CREAT, 0600)) < 0)
						die("open");
					close(f);
				}
				break;
			case 2: /* a new region, then its removal */
				snprintf(tmpname, sizeof(tmpname), "%s-new", name);
				if (rfs_path(tmpname, false, tmppath, sizeof(tmppath)) < 0)
					die("rfs_path");
				if (lib) {
					if ((e = rfs_create(tmpname, PAGE, RFS_PROT_READ | RFS_PROT_WRITE,
							    &persist, &h, NULL)) < 0)
						errno = -e, die("rfs_create");
					rfs_close(h);
				} else {
					if ((f = open(tmppath, O_RDWR | O_CREAT | O_EXCL, 0600)) < 0)
						die("open");
					if (ftruncate(f, PAGE) < 0)
						die("ftruncate");
					close(f);
				}
				if (unlink(tmppath) < 0)
					die("unlink");
				break;
			case 3: /* map + touch + unmap a page */
				if (lib) {
					if ((e = rfs_map(r, RFS_MAP_WRITE, 0, PAGE, &m)) < 0)
						errno = -e, die("rfs_map");
					((volatile char *)m)[0] = 1;
					rfs_unmap(m);
				} else {
					m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
					if (m == MAP_FAILED)
						die("mmap");
					((volatile char *)m)[0] = 1;
					munmap(m, PAGE);
				}
				break;
			case 4: /* dirty a page, flush it asynchronously */
				((volatile char *)v)[0]++;
				if (lib ? rfs_flush(v, PAGE, 0) < 0 : msync(v, PAGE, MS_ASYNC) < 0)
					die("flush");
				break;
			}
		}
		ops += 16;
		t1 = now();
	} while (t1 - t0 < opt.secs);
	rfs_unmap(v);
	rfs_close(r);
	unlink(path);
	(void)what;
	return (double)ops / (t1 - t0);
}

static void wl_lib(void)
{
	static const char *const kinds[] = { "open", "create-existing", "create-new", "map-unmap",
					     "flush" };
	char metric[64];

	/* The library finds the mount through REGIONFS_MOUNT: the bench's directory. */
	setenv("REGIONFS_MOUNT", dir, 1);
	for (int k = 0; k < 5; k++) {
		double direct = lib_rate(kinds[k], k, false), lib = lib_rate(kinds[k], k, true);

		snprintf(metric, sizeof(metric), "%s-direct", kinds[k]);
		result(metric, direct, "ops/s", true);
		snprintf(metric, sizeof(metric), "%s-lib", kinds[k]);
		result(metric, lib, "ops/s", true);
	}
}

static const struct workload workloads[] = {
	{ "mmap-write", wl_mmap_write, "memset into a MAP_SHARED mapping (-s, default 512M)" },
	{ "fault", wl_fault, "first-touch write faults of fresh regions (-s, default 256M)" },
	{ "msync", wl_msync, "dirty one page, msync(MS_SYNC) it" },
	{ "seq", wl_seq, "write(2)/read(2) 1 MiB blocks (-s, default 512M)" },
	{ "rand", wl_rand, "4 KiB pread/pwrite at random offsets (-s, default 256M)" },
	{ "mutex", wl_mutex, "process-shared mutex+condvar ping-pong between two processes" },
	{ "meta", wl_meta, "create/open/stat/readdir/unlink of -n regions (default 10000)" },
	{ "trunc", wl_trunc, "open+close/stat latency while a -s region (1G) grows+shrinks" },
	{ "mem", wl_mem, "resident bytes per byte written through a mapping (-s, default 1G; -p)" },
	{ "scale-meta", wl_scale_meta, "create/stat/lookup-miss at -L levels (1000,10000,100000)" },
	{ "scale-mmap", wl_scale_mmap, "one mapping written by -P processes (1,4,16; -s 512M)" },
	{ "shm", wl_shm, "shm_open+ftruncate+mmap+munmap+shm_unlink cycle (DIR must be /dev/shm)" },
	{ "lib", wl_lib, "libregionfs calls vs the same calls made directly (open, create, map, flush)" },
	{ "sem", wl_sem, "sem_post/sem_wait ping-pong between two processes (DIR /dev/shm)" },
	{ "holders", wl_holders, "user.regionfs.holders reads with -n processes running (1000); fuser, lsof" },
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: rfsbench [OPTIONS] WORKLOAD DIR\n"
		   "       rfsbench list\n"
		   "Runs one workload on files under DIR and prints lines\n"
		   "  result<TAB>WORKLOAD<TAB>METRIC<TAB>VALUE<TAB>UNIT<TAB>higher|lower\n"
		   "Options:\n"
		   "  -s, --size BYTES      region size (K/M/G suffixes)\n"
		   "  -n, --count N         regions for 'meta', processes for 'holders'\n"
		   "  -t, --time SECONDS    minimum duration of each timed loop (default 0.5)\n"
		   "  -p, --daemon-pid PID  daemon whose RSS 'mem' reports\n"
		   "  -L, --levels LIST     directory sizes for 'scale-meta'\n"
		   "  -P, --procs LIST      writer processes for 'scale-mmap'\n"
		   "Workloads:\n");
	for (size_t i = 0; i < sizeof(workloads) / sizeof(workloads[0]); i++)
		fprintf(f, "  %-11s %s\n", workloads[i].name, workloads[i].help);
}

static uint64_t parse_size(const char *s)
{
	char *end;
	unsigned long long v;
	uint64_t mult = 1;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		usage_error("bad size '%s'", s);
	switch (*end) {
	case 'k': case 'K': mult = 1024; end++; break;
	case 'm': case 'M': mult = MIB; end++; break;
	case 'g': case 'G': mult = GIB; end++; break;
	default: break;
	}
	if (*end || v == 0)
		usage_error("bad size '%s'", s);
	return (uint64_t)v * mult;
}

static int parse_list(const char *s, long *out, const char *what)
{
	char *copy = strdup(s), *save = NULL, *tok;
	int n = 0;

	if (!copy)
		usage_error("out of memory");
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *end;
		long v = strtol(tok, &end, 10);

		if (*end || v <= 0 || n == MAX_LIST)
			usage_error("bad %s list '%s'", what, s);
		out[n++] = v;
	}
	free(copy);
	if (!n)
		usage_error("empty %s list", what);
	return n;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "size", required_argument, NULL, 's' },
		{ "count", required_argument, NULL, 'n' },
		{ "time", required_argument, NULL, 't' },
		{ "daemon-pid", required_argument, NULL, 'p' },
		{ "levels", required_argument, NULL, 'L' },
		{ "procs", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const struct workload *wl = NULL;
	struct stat st;
	int c;

	while ((c = getopt_long(argc, argv, "s:n:t:p:L:P:h", longopts, NULL)) != -1) {
		char *end;

		switch (c) {
		case 's':
			opt.size = parse_size(optarg);
			break;
		case 'n':
			opt.count = strtol(optarg, &end, 10);
			if (*end || opt.count <= 0)
				usage_error("bad count '%s'", optarg);
			break;
		case 't':
			opt.secs = strtod(optarg, &end);
			if (*end || !(opt.secs > 0))
				usage_error("bad time '%s'", optarg);
			break;
		case 'p':
			opt.daemon_pid = (pid_t)strtol(optarg, &end, 10);
			if (*end || opt.daemon_pid <= 0)
				usage_error("bad pid '%s'", optarg);
			break;
		case 'L':
			opt.nr_levels = parse_list(optarg, opt.levels, "levels");
			break;
		case 'P':
			opt.nr_procs = parse_list(optarg, opt.procs, "procs");
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc && !strcmp(argv[optind], "list")) {
		for (size_t i = 0; i < sizeof(workloads) / sizeof(workloads[0]); i++)
			printf("%s\n", workloads[i].name);
		return 0;
	}
	if (argc - optind != 2)
		usage_error("expected WORKLOAD DIR");
	for (size_t i = 0; i < sizeof(workloads) / sizeof(workloads[0]); i++)
		if (!strcmp(argv[optind], workloads[i].name))
			wl = &workloads[i];
	if (!wl)
		usage_error("unknown workload '%s' (see 'rfsbench list')", argv[optind]);
	dir = argv[optind + 1];
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		usage_error("'%s' is not a directory", dir);

	cur_workload = wl->name;
	signal(SIGPIPE, SIG_IGN);
	wl->run();
	return 0;
}
