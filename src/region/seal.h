/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * region/seal — the names of a region's seals (user.regionfs.seals), as
 * memfd's F_ADD_SEALS has them: pure functions, no state, no locks.
 *
 * The value a user sets is a comma-separated list of names: "seal",
 * "shrink", "grow", "write", "future-write". Blanks (space, tab, newline)
 * around a name are ignored, so "grow, shrink\n" (from echo) is fine;
 * a value that is empty or only blanks names no seal (adding it changes
 * nothing). Anything else is -EINVAL: an unknown name, an empty name
 * between commas ("grow,,shrink", "grow,"), a NUL byte. A name may
 * repeat. The value read back lists the seals in the fixed order above,
 * comma-separated, without blanks; no seal: the empty value.
 */
#ifndef RFS_REGION_SEAL_H
#define RFS_REGION_SEAL_H

#include <stddef.h>
#include <sys/types.h>

/* As memfd's F_SEAL_SEAL, F_SEAL_SHRINK, F_SEAL_GROW, F_SEAL_WRITE, F_SEAL_FUTURE_WRITE. */
enum region_seal {
	REGION_SEAL_SEAL = 1 << 0,
	REGION_SEAL_SHRINK = 1 << 1,
	REGION_SEAL_GROW = 1 << 2,
	REGION_SEAL_WRITE = 1 << 3,
	REGION_SEAL_FUTURE_WRITE = 1 << 4,
};

#define REGION_SEAL_ALL 0x1fu

/* The longest value region_seal_format() writes, without a NUL. */
#define REGION_SEAL_FORMAT_MAX (sizeof("seal,shrink,grow,write,future-write") - 1)

/* Parse size bytes of value (no NUL needed) into a set of enum region_seal.
 * Errors: -EINVAL (see above). */
int region_seal_parse(const char *value, size_t size, unsigned *ret);

/*
 * Write the seals (bits outside REGION_SEAL_ALL are ignored) into buf as
 * above, without a NUL; size 0: only return the length. Returns the
 * length. Errors: -ERANGE (buf too small: nothing written).
 */
ssize_t region_seal_format(unsigned seals, char *buf, size_t size);

#endif
