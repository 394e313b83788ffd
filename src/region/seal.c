/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "region/seal.h"

#include "common/macros.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

/* In the order a value is read back: the order of the bits. */
static const char *const seal_names[] = {
    "seal", "shrink", "grow", "write", "future-write",
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

/* One name, blanks around it already cut: its bit, or 0. */
static unsigned seal_bit(const char *name, size_t len)
{
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(seal_names); i++)
		if (strlen(seal_names[i]) == len && memcmp(seal_names[i], name, len) == 0)
			return 1u << i;
	return 0;
}

int region_seal_parse(const char *value, size_t size, unsigned *ret)
{
	const char *p = value, *end = value + size;
	unsigned seals = 0;

	if (memchr(value, '\0', size))
		return -EINVAL;
	while (p < end && is_blank(*p))
		p++;
	if (p == end) {
		*ret = 0; /* empty or blanks only: no seal */
		return 0;
	}
	for (;;) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *stop = comma ? comma : end, *b = p, *e = stop;
		unsigned bit;

		while (b < e && is_blank(*b))
			b++;
		while (e > b && is_blank(e[-1]))
			e--;
		bit = seal_bit(b, (size_t)(e - b));
		if (!bit)
			return -EINVAL; /* unknown, or empty between commas */
		seals |= bit;
		if (!comma)
			break;
		p = comma + 1;
	}
	*ret = seals;
	return 0;
}

ssize_t region_seal_format(unsigned seals, char *buf, size_t size)
{
	char line[REGION_SEAL_FORMAT_MAX + 1];
	size_t len = 0, n;
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(seal_names); i++) {
		if (!(seals & (1u << i)))
			continue;
		if (len)
			line[len++] = ',';
		n = strlen(seal_names[i]);
		memcpy(line + len, seal_names[i], n);
		len += n;
	}
	if (size && size < len)
		return -ERANGE;
	if (size)
		memcpy(buf, line, len);
	return (ssize_t)len;
}
