/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Parsing of tmpfs-style numeric option values.
 */
#ifndef RFS_COMMON_SIZE_H
#define RFS_COMMON_SIZE_H

#include <stdint.h>

/*
 * Parse a byte count: decimal digits with an optional suffix k/K, m/M,
 * g/G, t/T (powers of 1024), or '%' meaning that percentage of physical
 * RAM (ram_bytes). Returns 0 and writes *ret, -EDOM for a percentage
 * over 100, -EINVAL for anything else (empty, trailing garbage, negative),
 * -ERANGE on overflow.
 */
int rfs_parse_size(const char *s, uint64_t ram_bytes, uint64_t *ret);

/* Same suffixes, no '%': for counts such as nr_inodes. */
int rfs_parse_count(const char *s, uint64_t *ret);

#endif
