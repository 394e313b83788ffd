/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target: the command line parser (rfs_options_parse).
 *
 * The input is split into arguments at NUL and newline bytes (at most
 * MAX_ARGS, each its own allocation so an overread is caught), after
 * argv[0]. The parser must never crash or leak, must print nothing on
 * success and exactly one line on -EINVAL (nothing on stdout, ever), and
 * what it accepts must be a sane configuration. -h/--help and -V only set
 * flags here (main() prints and exits), so every argument can be fuzzed.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/fs.h"
#include "fuzz_util.h"

#define MAX_ARGS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t count_lines(const char *s, size_t n)
{
	size_t lines = 0, i;

	for (i = 0; i < n; i++)
		lines += s[i] == '\n';
	return lines;
}

static bool in_argv(char **argv, int argc, const char *p)
{
	int i;

	for (i = 1; i < argc; i++)
		if (argv[i] == p)
			return true;
	return false;
}

static void check_accepted(const struct rfs_options *o, char **argv, int argc)
{
	FUZZ_CHECK(o->mountpoint || o->show_help || o->show_version, "no mountpoint accepted");
	FUZZ_CHECK(!o->mountpoint || in_argv(argv, argc, o->mountpoint),
		   "mountpoint is not an argument");
	if (o->source) {
		FUZZ_CHECK(in_argv(argv, argc, o->source) || o->source == o->fsname,
			   "source is neither an argument nor fsname=");
		FUZZ_CHECK(*o->source && !strpbrk(o->source, ", \t\n\\"),
			   "source '%s' would split the mount options", o->source);
	}
	FUZZ_CHECK(!o->fsname || o->source == o->fsname, "fsname= not the source");
	FUZZ_CHECK(!o->subtype || (*o->subtype && strlen(o->subtype) <= 32 &&
				   !strpbrk(o->subtype, ", \t\n\\/=")),
		   "subtype '%s'", o->subtype);
	FUZZ_CHECK(o->mode <= 07777, "mode %o", (unsigned)o->mode);
	FUZZ_CHECK(o->max_threads >= 2 && o->max_threads <= 1024, "max_threads %u",
		   o->max_threads);
	FUZZ_CHECK(o->size > 0, "size 0 accepted");
	FUZZ_CHECK(!o->store || o->store[0] == '/', "relative store '%s'", o->store);
	FUZZ_CHECK(o->datapath == RFS_DATAPATH_AUTO || o->datapath == RFS_DATAPATH_PASSTHROUGH ||
			   o->datapath == RFS_DATAPATH_CACHE,
		   "datapath %d", (int)o->datapath);
	FUZZ_CHECK(o->uring == RFS_URING_AUTO || o->uring == RFS_URING_ON ||
			   o->uring == RFS_URING_OFF,
		   "uring %d", (int)o->uring);
	FUZZ_CHECK(!o->allow_other || o->default_permissions,
		   "allow_other without default_permissions");
	FUZZ_CHECK(!o->debug || o->foreground, "debug in the background");
	FUZZ_CHECK(o->uid != (uid_t)-1 && o->gid != (gid_t)-1, "uid/gid -1");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *argv[MAX_ARGS + 2] = { "regionfs" };
	char *out = NULL, *err = NULL;
	size_t out_len = 0, err_len = 0, start = 0, i;
	FILE *saved_out = stdout, *saved_err = stderr;
	struct rfs_options o;
	int argc = 1, r;

	for (i = 0; size && i <= size && argc <= MAX_ARGS; i++) {
		if (i < size && data[i] != '\0' && data[i] != '\n')
			continue;
		argv[argc] = strndup((const char *)data + start, i - start);
		if (!argv[argc])
			abort();
		argc++;
		start = i + 1;
	}

	/* Capture what the parser prints (sanitizer reports use fd 2 directly). */
	stdout = open_memstream(&out, &out_len);
	stderr = open_memstream(&err, &err_len);
	if (!stdout || !stderr)
		abort();
	memset(&o, 0xa5, sizeof(o));
	r = rfs_options_parse(argc, argv, &o);
	fclose(stdout);
	fclose(stderr);
	stdout = saved_out;
	stderr = saved_err;

	FUZZ_CHECK(out_len == 0, "printed on stdout: %.*s", (int)out_len, out);
	if (r == 0) {
		FUZZ_CHECK(err_len == 0, "accepted but complained: %.*s", (int)err_len, err);
		check_accepted(&o, argv, argc);
		rfs_options_free(&o);
	} else {
		FUZZ_CHECK(r == -EINVAL || r == -ENOMEM, "returned %d", r);
		if (r == -EINVAL)
			FUZZ_CHECK(count_lines(err, err_len) == 1 && err_len &&
					   err[err_len - 1] == '\n',
				   "-EINVAL needs one line on stderr, got: %.*s", (int)err_len,
				   err);
		else
			FUZZ_CHECK(count_lines(err, err_len) <= 1, "more than one line: %.*s",
				   (int)err_len, err);
		/* Nothing written on failure. */
		{
			unsigned char pattern[sizeof(o)];

			memset(pattern, 0xa5, sizeof(pattern));
			FUZZ_CHECK(memcmp(&o, pattern, sizeof(o)) == 0,
				   "options written on failure");
		}
	}
	free(out);
	free(err);
	for (i = 1; i < (size_t)argc; i++)
		free(argv[i]);
	return 0;
}
