/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "fuzz_util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* What is open, for a report of leaked fds. */
static void print_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		char link[64], target[PATH_MAX];
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "/proc/self/fd/%s", de->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		if (n >= 0)
			fprintf(stderr, "fuzz: fd %s -> %.*s\n", de->d_name, (int)n, target);
	}
	closedir(d);
}

void fuzz_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("fuzz: invariant broken: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	print_fds();
	abort(); /* libFuzzer saves the input as a crash */
}

uint8_t fuzz_u8(struct fuzz_in *in)
{
	if (!in->left)
		return 0;
	in->left--;
	return *in->p++;
}

uint16_t fuzz_u16(struct fuzz_in *in)
{
	uint16_t v = fuzz_u8(in);

	return (uint16_t)(v | fuzz_u8(in) << 8);
}

uint32_t fuzz_u32(struct fuzz_in *in)
{
	uint32_t v = fuzz_u16(in);

	return v | (uint32_t)fuzz_u16(in) << 16;
}

unsigned fuzz_below(struct fuzz_in *in, unsigned n)
{
	return n ? (n <= 256 ? fuzz_u8(in) : fuzz_u32(in)) % n : 0;
}

size_t fuzz_bytes(struct fuzz_in *in, void *buf, size_t max)
{
	size_t n = max < in->left ? max : in->left;

	memcpy(buf, in->p, n);
	in->p += n;
	in->left -= n;
	return n;
}

size_t fuzz_tail_bytes(struct fuzz_in *in, void *buf, size_t max)
{
	size_t n = max < in->left ? max : in->left;

	memcpy(buf, in->p + in->left - n, n);
	in->left -= n;
	return n;
}

bool fuzz_done(const struct fuzz_in *in)
{
	return in->left == 0;
}

unsigned fuzz_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	unsigned n = 0;

	if (!d)
		fuzz_fail("/proc/self/fd: %s", strerror(errno));
	while ((de = readdir(d))) {
		char link[64], target[32];
		ssize_t len;

		if (de->d_name[0] == '.' || atoi(de->d_name) == dirfd(d))
			continue;
		/* Pipes are the sanitizers' (to llvm-symbolizer), never ours. */
		snprintf(link, sizeof(link), "/proc/self/fd/%s", de->d_name);
		len = readlink(link, target, sizeof(target));
		if (len >= 5 && memcmp(target, "pipe:", 5) == 0)
			continue;
		n++;
	}
	closedir(d);
	return n;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	if (remove(path) < 0 && errno != ENOENT)
		fprintf(stderr, "fuzz: cannot remove %s: %s\n", path, strerror(errno));
	return 0;
}

bool fuzz_remove_tree(const char *path)
{
	nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
	return access(path, F_OK) < 0 && errno == ENOENT;
}

static char scratch[PATH_MAX];

static void scratch_cleanup(void)
{
	if (scratch[0])
		fuzz_remove_tree(scratch);
}

const char *fuzz_scratch_dir(const char *tag)
{
	const char *tmp = getenv("TMPDIR");

	if (scratch[0])
		return scratch;
	snprintf(scratch, sizeof(scratch), "%s/rfs-%s.XXXXXX", tmp && *tmp ? tmp : "/tmp", tag);
	if (!mkdtemp(scratch))
		fuzz_fail("mkdtemp %s: %s", scratch, strerror(errno));
	atexit(scratch_cleanup);
	return scratch;
}
