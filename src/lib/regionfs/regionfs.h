/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libregionfs: the Windows file-mapping calls over a regionfs mount.
 *
 * A thin layer: every call is made of ordinary system calls on the mount
 * (open, ftruncate, renameat2, mmap, msync, fsync and the user.regionfs.*
 * extended attributes), so whatever a program does through it a shell user
 * can do and see with ordinary tools. Nothing talks to the daemon any other
 * way.
 *
 *   Windows                        libregionfs
 *   CreateFileMapping(INVALID_HANDLE_VALUE, ...)  rfs_create()
 *   CreateFileMapping(hFile, ...)  rfs_create_backed()
 *   OpenFileMapping                rfs_open()
 *   MapViewOfFile(Ex)              rfs_map()
 *   UnmapViewOfFile                rfs_unmap()
 *   FlushViewOfFile (+ FlushFileBuffers)  rfs_flush() (RFS_FLUSH_DURABLE)
 *   CloseHandle                    rfs_close()
 *   GetLastError() == ERROR_ALREADY_EXISTS   *ret_existed of rfs_create()
 *
 * Names (rfs_path()): "Global\NAME" is MOUNT/Global/NAME, shared by every
 * user; "Local\NAME" and a bare "NAME" are MOUNT/Local/UID/NAME, the
 * caller's own (the directory is made 0700 on first use). NAME is one path
 * component: no '/', not "." or "..", at most 255 bytes. MOUNT is
 * $REGIONFS_MOUNT if set, else regionfs mounted on /dev/shm, else the only
 * regionfs mount of the caller's mount namespace.
 *
 * Errors: every call returns 0 (or a count) on success and a negative errno
 * on failure, and writes its ret_* parameters only on success; errno is left
 * as the last system call left it. rfs_strerror() turns a result into text;
 * rfs_winerror() gives the Windows error code a port would have seen.
 *
 * Thread safety: every call may be made from any thread. A handle may be
 * used by several threads at once except rfs_close(), which must be the
 * last call on it. Views are process-wide: any thread may unmap or flush a
 * view another thread mapped. Views outlive the handle they were mapped
 * from (as on Windows, a view keeps the region alive).
 * After fork(), the child inherits the mappings but not the library's
 * table of views: it may use the memory, not rfs_unmap()/rfs_flush() them.
 */
#ifndef REGIONFS_REGIONFS_H
#define REGIONFS_REGIONFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A region handle (an open file of the region). */
struct rfs_region;

/* Protection of a handle, as flProtect/dwDesiredAccess: the most a view of
 * it may have. RFS_PROT_WRITE implies read. */
enum rfs_prot {
	RFS_PROT_READ = 1 << 0,
	RFS_PROT_WRITE = 1 << 1,
	RFS_PROT_EXEC = 1 << 2,
};

/* When the region's name goes (user.regionfs.lifetime). */
enum rfs_lifetime {
	RFS_LIFETIME_LAST_CLOSE = 0, /* Windows: with the last handle and view (the default) */
	RFS_LIFETIME_PERSIST,        /* until removed (POSIX shm_open) */
	RFS_LIFETIME_CREATOR,        /* when the creating process exits */
};

enum rfs_create_flags {
	RFS_CREATE_EXCLUSIVE = 1 << 0, /* an existing region is -EEXIST, not opened */
};

/* Optional settings of rfs_create(); NULL means all defaults. */
struct rfs_create_opts {
	mode_t mode;                /* permission bits; 0: 0600 (Local), 0666 & ~umask (Global) */
	enum rfs_lifetime lifetime; /* the region's lifetime once published */
	unsigned flags;             /* enum rfs_create_flags */
};

/*
 * Create the region NAME with size bytes, or open it if it exists
 * (CreateFileMapping): *ret_existed tells which (NULL: not wanted). An
 * existing region keeps its size (size is ignored then, as on Windows).
 * Atomic: processes racing on one name agree on one creator and one size,
 * an opener never sees any other size, and a creator killed at any point
 * leaves no name behind (README "Create with a size, once").
 * size 0: -EINVAL (Windows needs a size for a new section).
 * Errors: -EINVAL (bad name, size or prot), -ENAMETOOLONG, -EEXIST
 * (RFS_CREATE_EXCLUSIVE), -EACCES/-EPERM, -ENOSPC (the mount's size= or
 * nr_inodes=), -ENODEV (no regionfs mount), errors of open(2).
 */
int rfs_create(const char *name, uint64_t size, unsigned prot, const struct rfs_create_opts *opts,
	       struct rfs_region **ret, bool *ret_existed);

/*
 * As rfs_create() for a region that is a view of the file at path (absolute)
 * or, with path NULL, of the open file fd: the file is extended to size if
 * it is shorter (as CreateFileMapping does), and a durable flush reaches it.
 * size 0: the file's size (which must then be > 0). An existing region of
 * that name is opened as it is, whatever file it shows.
 * Errors: those of rfs_create(), and of the binding (user.regionfs.backing:
 * -ENOENT, -EACCES, -ENODEV for a file that is not a regular file...).
 */
int rfs_create_backed(const char *name, const char *path, int fd, uint64_t size, unsigned prot,
		      const struct rfs_create_opts *opts, struct rfs_region **ret, bool *ret_existed);

/* Open an existing region (OpenFileMapping). Errors: -ENOENT (none of
 * that name), -EACCES, -EINVAL, -ENAMETOOLONG, -ENODEV. */
int rfs_open(const char *name, unsigned prot, struct rfs_region **ret);

/* Close a handle (CloseHandle); its views stay valid. NULL is ignored. */
void rfs_close(struct rfs_region *r);

/* The open file of the handle, for calls of your own (owned by the handle). */
int rfs_fd(const struct rfs_region *r);

/* What a view may do (dwDesiredAccess of MapViewOfFile). */
enum rfs_map_access {
	RFS_MAP_READ = 1 << 0,
	RFS_MAP_WRITE = 1 << 1, /* implies read */
	RFS_MAP_COPY = 1 << 2,  /* copy-on-write: writes stay in this process (FILE_MAP_COPY) */
	RFS_MAP_EXEC = 1 << 3,
};

/*
 * Map length bytes of the region from offset (MapViewOfFile): any offset
 * (the library aligns the mapping to pages itself and returns the address
 * of the byte at offset), length 0 = to the end of the region.
 * Errors: -EINVAL (no access, or access the handle's protection does not
 * allow: -EACCES), -EOVERFLOW (the view would pass the end of the region:
 * an error now, not a SIGBUS later), -ENOMEM, errors of mmap(2).
 * The end is the size this handle last saw (rfs_size(), rfs_resize(), or
 * a view that passed it, which looks again): a view within it costs no
 * fstat(). A region another process shrinks under a view is the SIGBUS
 * case of any shared mapping (Windows sections cannot shrink).
 */
int rfs_map(struct rfs_region *r, unsigned access, uint64_t offset, size_t length, void **ret);

/* Unmap the view whose address rfs_map() returned (UnmapViewOfFile).
 * Errors: -EINVAL (not such an address). */
int rfs_unmap(void *addr);

enum rfs_flush_flags {
	RFS_FLUSH_DURABLE = 1 << 0, /* wait until the data is on the file (+ FlushFileBuffers) */
};

/*
 * Flush length bytes of a view from addr (FlushViewOfFile; length 0: to
 * the end of the view). Without RFS_FLUSH_DURABLE the writeback is started
 * and the call returns (msync MS_ASYNC); with it, the call returns when the
 * data is on the region's file (msync MS_SYNC and fsync). For a memory-only
 * region both return at once: there is nothing to write back.
 * Errors: -EINVAL (addr not in a view, or the range passes its end), errors
 * of msync(2)/fsync(2) (-EIO).
 */
int rfs_flush(const void *addr, size_t length, unsigned flags);

/*
 * Size; resize (truncate: -EPERM when sealed); seals, comma-separated as
 * user.regionfs.seals (added, never removed). Through a handle, or by name
 * with no handle open: in the passthrough data path "grow" and "write" are
 * refused (-EBUSY) while anyone has the region open, this handle included
 * (regionfs(8), Seals), so seal a region by name before opening it there.
 */
int rfs_size(struct rfs_region *r, uint64_t *ret);
int rfs_resize(struct rfs_region *r, uint64_t size);
int rfs_seal(struct rfs_region *r, const char *seals);
int rfs_seal_name(const char *name, const char *seals);

/* The region's lifetime; setting needs write access. */
int rfs_get_lifetime(struct rfs_region *r, enum rfs_lifetime *ret);
int rfs_set_lifetime(struct rfs_region *r, enum rfs_lifetime lifetime);

/*
 * Text attributes into a new malloc'ed, NUL-terminated string that the
 * caller frees: the seals (possibly ""), the creator line, the holders (one
 * line per process). Errors: -ENODATA (no creator recorded), -ENOMEM.
 */
int rfs_get_seals(struct rfs_region *r, char **ret);
int rfs_get_creator(struct rfs_region *r, char **ret);
int rfs_get_holders(struct rfs_region *r, char **ret);

/*
 * The path of NAME (see above) into buf, creating the Global, Local and
 * Local/UID directories when create is true. Errors: -EINVAL, -ENAMETOOLONG,
 * -ERANGE (buf too small), -ENODEV (no regionfs mount), -EACCES
 * (Local/UID is not the caller's private directory; Global or Local is not
 * root's or the mount root owner's, or is others-writable without the
 * sticky bit: whoever owns it could remove everyone's regions).
 */
int rfs_path(const char *name, bool create, char *buf, size_t size);

/* Text for a result of these calls (never NULL; for errno values, strerror's). */
const char *rfs_strerror(int result);

/* The Windows error code (winerror.h) a port would have seen for a result:
 * 0 ERROR_SUCCESS, 2 ERROR_FILE_NOT_FOUND, 5 ERROR_ACCESS_DENIED,
 * 8 ERROR_NOT_ENOUGH_MEMORY, 87 ERROR_INVALID_PARAMETER, 112 ERROR_DISK_FULL,
 * 183 ERROR_ALREADY_EXISTS, 206 ERROR_FILENAME_EXCED_RANGE, ... */
unsigned rfs_winerror(int result);

#ifdef __cplusplus
}
#endif

#endif
