/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Helpers shared by the libFuzzer targets (tests/fuzz/README.md): reading
 * an input as a stream of small decisions, checking that nothing leaked
 * an fd, removing a scratch tree.
 */
#ifndef RFS_FUZZ_UTIL_H
#define RFS_FUZZ_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Stop the fuzzer with a message: an invariant does not hold. */
void fuzz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
#define FUZZ_CHECK(cond, ...)                                                                      \
	do {                                                                                       \
		if (!(cond))                                                                       \
			fuzz_fail(__VA_ARGS__);                                                    \
	} while (0)

/* The input, consumed front to back; past its end every read gives 0. */
struct fuzz_in {
	const uint8_t *p;
	size_t left;
};

uint8_t fuzz_u8(struct fuzz_in *in);
uint16_t fuzz_u16(struct fuzz_in *in);
uint32_t fuzz_u32(struct fuzz_in *in);
/* A number in [0, n) (0 when n is 0). */
unsigned fuzz_below(struct fuzz_in *in, unsigned n);
/* Up to max bytes into buf (as many as are left); returns the count. */
size_t fuzz_bytes(struct fuzz_in *in, void *buf, size_t max);
/* The same from the end of the input: for variable-length data, so that
 * fixed-size records read from the front keep their places when a
 * mutation changes a length. */
size_t fuzz_tail_bytes(struct fuzz_in *in, void *buf, size_t max);
bool fuzz_done(const struct fuzz_in *in);

/* Open fds of this process but pipes (the sanitizers' own) and the count's own. */
unsigned fuzz_count_fds(void);

/* rm -rf path (no symlink followed); true when it is gone. */
bool fuzz_remove_tree(const char *path);

/* A new private scratch directory under $TMPDIR (default /tmp), removed at exit. */
const char *fuzz_scratch_dir(const char *tag);

#endif
