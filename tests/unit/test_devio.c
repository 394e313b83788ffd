/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for fs/devio: what libfuse's loop sees when our read hook's
 * read of /dev/fuse fails. libfuse 3.14 ends the session on ENODEV, reads
 * again on ENOENT and EINTR, and takes any other errno for a fatal error
 * (the daemon exits 1). A connection the kernel closed must reach it as
 * ENODEV, whatever errno the kernel chose; real errors stay what they are.
 * The hooks are caught by wrapping fuse_session_custom_io(), the device by
 * wrapping read().
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <fuse_lowlevel.h>
#include <linux/fuse.h>

#include "fs/devio.h"

/* No real fd: reads of it are answered by __wrap_read(). */
#define DEV_FD 4242

static const struct fuse_custom_io *hooks;
static int read_errno; /* the errno the next read of DEV_FD fails with; 0: a request */

int __wrap_fuse_session_custom_io(struct fuse_session *se, const struct fuse_custom_io *io, int fd);
ssize_t __real_read(int fd, void *buf, size_t len);
ssize_t __wrap_read(int fd, void *buf, size_t len);

int __wrap_fuse_session_custom_io(struct fuse_session *se, const struct fuse_custom_io *io, int fd)
{
	(void)se;
	(void)fd;
	hooks = io;
	return 0;
}

ssize_t __wrap_read(int fd, void *buf, size_t len)
{
	struct fuse_in_header in = { .len = sizeof(in), .opcode = FUSE_GETATTR, .unique = 2 };

	if (fd != DEV_FD)
		return __real_read(fd, buf, len);
	if (read_errno) {
		errno = read_errno;
		return -1;
	}
	memcpy(buf, &in, sizeof(in));
	return sizeof(in);
}

static struct devio_userdata ud;

static int setup(void **state)
{
	hooks = NULL;
	ud.io = NULL;
	if (devio_attach(NULL, DEV_FD, &ud) < 0 || !hooks || !ud.io)
		return -1;
	*state = &ud;
	return 0;
}

static int teardown(void **state)
{
	struct devio_userdata *u = *state;

	devio_free(u->io);
	return 0;
}

/* The errno libfuse sees when the device read fails with err (-1 returned). */
static int hook_errno(void **state, int err)
{
	/* libfuse hands the hook the session's userdata. */
	struct devio_userdata *u = *state;
	char buf[4096];
	ssize_t n;

	read_errno = err;
	errno = 0;
	n = hooks->read(DEV_FD, buf, sizeof(buf), u);
	assert_int_equal(n, -1);
	return errno;
}

/*
 * fuse_dev_do_read() answers ECONNABORTED instead of ENODEV when the
 * connection is aborted (unmount, last close after umount -l) while the
 * read takes a request off the queue: an orderly end all the same.
 */
static void test_aborted_connection_ends_session(void **state)
{
	assert_int_equal(hook_errno(state, ECONNABORTED), ENODEV);
	assert_int_equal(hook_errno(state, ENODEV), ENODEV);
}

/* What libfuse handles itself, and real errors (fatal: exit 1), pass unchanged. */
static void test_other_errors_pass(void **state)
{
	static const int errs[] = { ENOENT, EINTR, EAGAIN, EIO, EINVAL, EPERM, ENOMEM };
	size_t i;

	for (i = 0; i < sizeof(errs) / sizeof(errs[0]); i++)
		assert_int_equal(hook_errno(state, errs[i]), errs[i]);
}

static void test_request_passes(void **state)
{
	struct devio_userdata *u = *state;
	char buf[4096];

	read_errno = 0;
	assert_int_equal(hooks->read(DEV_FD, buf, sizeof(buf), u),
			 (ssize_t)sizeof(struct fuse_in_header));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_aborted_connection_ends_session, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_other_errors_pass, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_passes, setup, teardown),
	};

	if (getenv("CMOCKA_TEST_FILTER"))
		cmocka_set_test_filter(getenv("CMOCKA_TEST_FILTER"));
	return cmocka_run_group_tests_name("devio", tests, NULL, NULL);
}
