/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "common/size.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

static int parse(const char *s, uint64_t ram_bytes, bool allow_percent, uint64_t *ret)
{
	unsigned long long v;
	unsigned shift = 0;
	char *end;

	if (!s || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	switch (*end) {
	case '\0':
		break;
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	case '%':
		if (!allow_percent || end[1])
			return -EINVAL;
		if (v > 100)
			return -EDOM;
		*ret = (uint64_t)((unsigned __int128)ram_bytes * v / 100);
		return 0;
	default:
		return -EINVAL;
	}
	if (*end)
		return -EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*ret = (uint64_t)v << shift;
	return 0;
}

int rfs_parse_size(const char *s, uint64_t ram_bytes, uint64_t *ret)
{
	return parse(s, ram_bytes, true, ret);
}

int rfs_parse_count(const char *s, uint64_t *ret)
{
	return parse(s, 0, false, ret);
}
