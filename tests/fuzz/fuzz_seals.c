/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target: the value of user.regionfs.seals (region/seal.h),
 * region_seal_parse() against a model written the obvious way (split at
 * commas, cut blanks, look each name up), and region_seal_format().
 *
 * Invariants: parse agrees with the model (accepts exactly the same inputs,
 * with the same set); on failure it returns -EINVAL and leaves *ret alone;
 * it reads no byte past size (the input is copied to an exact-size heap
 * buffer, so ASan sees any overread); what it accepts formats to at most
 * REGION_SEAL_FORMAT_MAX bytes that parse back to the same set and format
 * again to the same bytes (canonical); a buffer one byte short is -ERANGE
 * and untouched.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "region/seal.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const names[] = {"seal", "shrink", "grow", "write", "future-write"};

static int model(const char *v, size_t size, unsigned *ret)
{
	size_t i = 0, start;
	unsigned seals = 0;
	bool blank_only = true;

	for (i = 0; i < size; i++) {
		if (v[i] == '\0')
			return -EINVAL;
		if (v[i] != ' ' && v[i] != '\t' && v[i] != '\n')
			blank_only = false;
	}
	if (blank_only) {
		*ret = 0;
		return 0;
	}
	start = 0;
	for (i = 0; i <= size; i++) {
		size_t b, e, k;
		bool found = false;

		if (i < size && v[i] != ',')
			continue;
		b = start;
		e = i;
		while (b < e && (v[b] == ' ' || v[b] == '\t' || v[b] == '\n'))
			b++;
		while (e > b && (v[e - 1] == ' ' || v[e - 1] == '\t' || v[e - 1] == '\n'))
			e--;
		for (k = 0; k < 5; k++) {
			if (strlen(names[k]) == e - b && memcmp(names[k], v + b, e - b) == 0) {
				seals |= 1u << k;
				found = true;
			}
		}
		if (!found)
			return -EINVAL;
		start = i + 1;
	}
	*ret = seals;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *v = malloc(size ? size : 1);
	char out[REGION_SEAL_FORMAT_MAX + 8], again[REGION_SEAL_FORMAT_MAX + 8];
	unsigned got = 0xdead, want = 0xbeef, back = 0;
	int r, m;
	ssize_t n, n2;

	if (!v)
		return 0;
	memcpy(v, data, size);
	r = region_seal_parse(v, size, &got);
	m = model(v, size, &want);
	if (r != m)
		fuzz_fail("parse returned %d, the model %d", r, m);
	if (r < 0) {
		if (r != -EINVAL || got != 0xdead)
			fuzz_fail("a refusal must be -EINVAL and leave *ret alone");
		free(v);
		return 0;
	}
	if (got != want)
		fuzz_fail("parse gave %#x, the model %#x", got, want);
	n = region_seal_format(got, NULL, 0);
	if (n < 0 || (size_t)n > REGION_SEAL_FORMAT_MAX)
		fuzz_fail("format length %zd", n);
	if (region_seal_format(got, out, sizeof(out)) != n)
		fuzz_fail("format lengths differ");
	if (region_seal_parse(out, (size_t)n, &back) != 0 || back != got)
		fuzz_fail("the formatted value does not parse back");
	n2 = region_seal_format(back, again, sizeof(again));
	if (n2 != n || memcmp(out, again, (size_t)n) != 0)
		fuzz_fail("formatting is not canonical");
	if (n > 0) {
		memset(again, 'Z', sizeof(again));
		if (region_seal_format(got, again, (size_t)n - 1) != -ERANGE || again[0] != 'Z')
			fuzz_fail("a short buffer must be -ERANGE and untouched");
	}
	free(v);
	return 0;
}
