/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Tiny check framework for the memory-semantics programs of the mount
 * tests. Every check prints one line starting with "PASS: " or "FAIL: "
 * (children prefix their message with "child: "); lib.sh counts them.
 * Errno checks are exact. A program exits with 0 only when nothing failed.
 *
 * No heap: the programs may be built with ASan/LSan.
 */
#ifndef RFS_ITEST_RFSTEST_H
#define RFS_ITEST_RFSTEST_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static int t_fails;
static int t_passes;
static const char *t_who = "";

static inline const char *t_errname(int e)
{
	const char *n = e ? strerrorname_np(e) : "0";

	return n ? n : "?";
}

static inline __attribute__((format(printf, 2, 3))) bool t_check(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s: %s", ok ? "PASS" : "FAIL", t_who);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	if (ok)
		t_passes++;
	else
		t_fails++;
	return ok;
}

/* A call that must succeed (not return -1 / MAP_FAILED-like negative). */
#define CHECK_OK(expr, ...)                                                                        \
	({                                                                                         \
		errno = 0;                                                                         \
		long t_r_ = (long)(expr);                                                          \
		int t_e_ = errno;                                                                  \
		char t_m_[256];                                                                    \
		snprintf(t_m_, sizeof(t_m_), __VA_ARGS__);                                         \
		if (t_r_ < 0)                                                                      \
			t_check(false, "%s (returned %ld, errno %s)", t_m_, t_r_, t_errname(t_e_)); \
		else                                                                               \
			t_check(true, "%s", t_m_);                                                 \
		t_r_;                                                                              \
	})

/* A call that must fail with -1 and exactly errno err. */
#define CHECK_ERRNO(expr, err, ...)                                                                \
	({                                                                                         \
		errno = 0;                                                                         \
		long t_r_ = (long)(expr);                                                          \
		int t_e_ = errno;                                                                  \
		char t_m_[256];                                                                    \
		snprintf(t_m_, sizeof(t_m_), __VA_ARGS__);                                         \
		if (t_r_ == -1 && t_e_ == (err))                                                   \
			t_check(true, "%s -> %s", t_m_, t_errname(err));                           \
		else                                                                               \
			t_check(false, "%s -> %s (returned %ld, errno %s)", t_m_, t_errname(err),   \
				t_r_, t_errname(t_e_));                                            \
		t_r_;                                                                              \
	})

#define CHECK(cond, ...) t_check(!!(cond), __VA_ARGS__)

/* Equality of two integers, printing both on failure. */
#define CHECK_EQ(actual, expected, ...)                                                            \
	({                                                                                         \
		long long t_a_ = (long long)(actual), t_x_ = (long long)(expected);                \
		char t_m_[256];                                                                    \
		snprintf(t_m_, sizeof(t_m_), __VA_ARGS__);                                         \
		t_check(t_a_ == t_x_, "%s (expected %lld, got %lld)", t_m_, t_x_, t_a_);           \
	})

/* Hard stop when the test cannot go on (setup failed). */
#define REQUIRE(cond, ...)                                                                         \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			t_check(false, __VA_ARGS__);                                               \
			printf("FAIL: %scannot continue (errno %s)\n", t_who, t_errname(errno));  \
			exit(1);                                                                   \
		}                                                                                  \
	} while (0)

static inline bool t_is_tmpfs(void)
{
	const char *t = getenv("RFS_TEST_TARGET");

	return t && strcmp(t, "tmpfs") == 0;
}

static inline long t_page(void)
{
	return sysconf(_SC_PAGESIZE);
}

/* Path of name under dir, in a caller buffer. */
static inline const char *t_path(char *buf, size_t size, const char *dir, const char *name)
{
	snprintf(buf, size, "%s/%s", dir, name);
	return buf;
}

/* Line-buffered output, a watchdog, and a usage check. */
static inline const char *t_init(int argc, char **argv, int min_args, const char *usage)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	alarm(120);
	if (argc < min_args + 1) {
		fprintf(stderr, "usage: %s %s\n", argv[0], usage);
		exit(2);
	}
	return argv[1];
}

static inline int t_finish(void)
{
	printf("# %s%d passed, %d failed\n", t_who, t_passes, t_fails);
	fflush(stdout);
	return t_fails ? 1 : 0;
}

/* ------------------------------------------------------ the file system */

/* Bytes in use on the file system of path (as df); UINT64_MAX if unknown. */
static inline uint64_t t_fs_used(const char *path)
{
	struct statvfs sv;

	if (statvfs(path, &sv) < 0)
		return UINT64_MAX;
	return (uint64_t)(sv.f_blocks - sv.f_bfree) * sv.f_frsize;
}

/* Bytes free on the file system of path; UINT64_MAX if unknown. */
static inline uint64_t t_fs_free(const char *path)
{
	struct statvfs sv;

	if (statvfs(path, &sv) < 0)
		return UINT64_MAX;
	return (uint64_t)sv.f_bfree * sv.f_frsize;
}

/* Inodes in use on the file system of path (as df -i); UINT64_MAX if unknown. */
static inline uint64_t t_fs_inodes_used(const char *path)
{
	struct statvfs sv;

	if (statvfs(path, &sv) < 0)
		return UINT64_MAX;
	return (uint64_t)(sv.f_files - sv.f_ffree);
}

/* Entries of dir called name, or all but "." and ".." when name is NULL;
 * -1 if dir cannot be read. */
static inline int t_count_entries(const char *dir, const char *name)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (name ? strcmp(e->d_name, name) == 0
			 : strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

/* ------------------------------------------------------------- SIGBUS */

static sigjmp_buf t_jmp;
static volatile sig_atomic_t t_probing;
static volatile sig_atomic_t t_sig;

static void t_fault_handler(int sig)
{
	if (t_probing) {
		t_sig = sig;
		siglongjmp(t_jmp, 1);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static inline void t_catch_faults(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = t_fault_handler;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
}

/* Read one byte; returns 0 or the signal (SIGBUS/SIGSEGV) it raised. */
static inline int t_probe_read(const volatile char *p, char *ret)
{
	char v;

	t_sig = 0;
	if (sigsetjmp(t_jmp, 1) == 0) {
		t_probing = 1;
		v = *p;
		t_probing = 0;
		if (ret)
			*ret = v;
		return 0;
	}
	t_probing = 0;
	return t_sig;
}

/* Write one byte; returns 0 or the signal it raised. */
static inline int t_probe_write(volatile char *p, char v)
{
	t_sig = 0;
	if (sigsetjmp(t_jmp, 1) == 0) {
		t_probing = 1;
		*p = v;
		t_probing = 0;
		return 0;
	}
	t_probing = 0;
	return t_sig;
}

static inline const char *t_signame(int sig)
{
	return sig == 0 ? "no signal" : sig == SIGBUS ? "SIGBUS" : sig == SIGSEGV ? "SIGSEGV" : "signal";
}

/* -------------------------------------------------- process ping-pong */

/* A pair of pipes between a parent and one child. */
struct t_chan {
	int p2c[2];
	int c2p[2];
};

static inline void t_chan_open(struct t_chan *c)
{
	REQUIRE(pipe(c->p2c) == 0 && pipe(c->c2p) == 0, "pipe");
}

/* Call in each process right after fork(). */
static inline void t_chan_side(struct t_chan *c, bool child)
{
	if (child) {
		close(c->p2c[1]);
		close(c->c2p[0]);
	} else {
		close(c->p2c[0]);
		close(c->c2p[1]);
	}
}

static inline void t_send(struct t_chan *c, bool child, char v)
{
	int fd = child ? c->c2p[1] : c->p2c[1];

	if (write(fd, &v, 1) != 1)
		t_check(false, "pipe write");
}

/* Wait (at most 30 s) for one byte from the other side; returns it, or
 * -1 on timeout or EOF. */
static inline int t_recv(struct t_chan *c, bool child)
{
	int fd = child ? c->p2c[0] : c->c2p[0];
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	char v;

	if (poll(&pfd, 1, 30000) != 1 || read(fd, &v, 1) != 1)
		return -1;
	return (unsigned char)v;
}

/* Fork a child that runs fn(arg) and exits with its failure count (capped).
 * Output is flushed first so nothing is printed twice. */
static inline pid_t t_fork(void)
{
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	REQUIRE(pid >= 0, "fork");
	if (pid == 0) {
		t_who = "child: ";
		t_fails = 0;
		t_passes = 0;
	}
	return pid;
}

static inline void t_child_exit(void)
{
	fflush(stdout);
	_exit(t_fails > 100 ? 100 : t_fails);
}

/* Wait for a child (at most ~30 s) and check it exited 0. */
static inline void t_wait_child(pid_t pid, const char *what)
{
	int st = 0, i;
	pid_t r = 0;

	for (i = 0; i < 3000; i++) {
		r = waitpid(pid, &st, WNOHANG);
		if (r != 0)
			break;
		usleep(10000);
	}
	if (r == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		t_check(false, "%s: child hung, killed", what);
		return;
	}
	if (WIFSIGNALED(st))
		t_check(false, "%s: child killed by signal %d", what, WTERMSIG(st));
	else
		t_check(WEXITSTATUS(st) == 0, "%s: child exited with %d", what, WEXITSTATUS(st));
}

/* Fill / verify a buffer with a pattern derived from a seed. */
static inline void t_fill(void *buf, size_t len, uint32_t seed)
{
	uint32_t x = seed * 2654435761u + 1;
	unsigned char *p = buf;
	size_t i;

	for (i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		p[i] = (unsigned char)(x >> 16);
	}
}

/* Index of the first byte that differs from the pattern, or -1. */
static inline long t_verify(const void *buf, size_t len, uint32_t seed)
{
	uint32_t x = seed * 2654435761u + 1;
	const volatile unsigned char *p = buf;
	size_t i;

	for (i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		if (p[i] != (unsigned char)(x >> 16))
			return (long)i;
	}
	return -1;
}

/* Index of the first nonzero byte, or -1. */
static inline long t_first_nonzero(const void *buf, size_t len)
{
	const volatile unsigned char *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i])
			return (long)i;
	return -1;
}

#endif
