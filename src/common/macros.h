/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Small macros shared by every module. No dependencies beyond libc.
 */
#ifndef RFS_COMMON_MACROS_H
#define RFS_COMMON_MACROS_H

#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * The type that holds *ptr as its member. ptr must have the member's type
 * (checked at build time), so a wrong member or a wrong pointer does not
 * compile.
 */
#define container_of(ptr, type, member)                                                            \
	__extension__({                                                                            \
		_Static_assert(__builtin_types_compatible_p(__typeof__(*(ptr)),                    \
							    __typeof__(((type *)0)->member)),       \
			       "container_of: not a pointer to " #type "." #member);               \
		(type *)(void *)((char *)(ptr) - offsetof(type, member));                          \
	})

#define RFS_MIN(a, b) ((a) < (b) ? (a) : (b))
#define RFS_MAX(a, b) ((a) > (b) ? (a) : (b))

/* Round up to a power-of-two alignment. */
#define RFS_ALIGN_UP(x, a) (((x) + ((a) - 1)) & ~((uint64_t)(a) - 1))

/* Every region's memory is reserved in whole pages of this size. */
#define RFS_PAGE_SIZE 4096u

/* Longest name of one path component, as on every Linux filesystem. */
#define RFS_NAME_MAX 255u

/*
 * The extended attribute that binds a region to a file: the name users set
 * on the mount (fs/bind.c) and the name a store keeps the binding under
 * (registry/persist.c).
 */
#define RFS_XATTR_BACKING "user.regionfs.backing"

/*
 * A region's seals (region/seal.h): the name users read and set on the
 * mount (fs/seals.c) and the name a store keeps them under, on the
 * region's file (registry/registry.c, load.c).
 */
#define RFS_XATTR_SEALS "user.regionfs.seals"

#endif
