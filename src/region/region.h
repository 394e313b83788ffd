/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * region/ — one named shared-memory region's memory, and the store that
 * holds every region's memory. Knows nothing of FUSE or of names.
 *
 * Store
 * -----
 * All region memory lives in one store private to the daemon, of one of two
 * kinds, chosen by store_open():
 *  - STORE_TMPFS: a private tmpfs instance created with fsopen()/fsmount()
 *    and never attached anywhere (needs CAP_SYS_ADMIN). Its size= is the
 *    quota, so the kernel enforces it even for writes that bypass the daemon
 *    (FUSE passthrough). Each region is a named file in it, unlinked when
 *    the region is freed; its fd is opened on demand and cached (below).
 *  - STORE_MEMFD: one memfd per region; the store counts reserved bytes
 *    itself. Every write must then go through region_write() (cached data
 *    path only).
 *
 * Reservation ("commit", as for a Windows section): every byte inside a
 * region's size is allocated in the store when the region grows (fallocate),
 * so a later page fault on a mapping never needs new store space and can
 * never SIGBUS because the quota is full. Growing past the free space fails
 * with ENOSPC and leaves the region as it was, its blocks included: what a
 * half-done fallocate() took is punched out again (ext4 keeps it, tmpfs
 * does not). Exceptions: holes that passthrough clients leave by writing
 * far past the end, and holes of a sparse region loaded from a persistent
 * store (region_adopt()), are not reserved until fallocate() fills them; a
 * fault there may find the file system full (SIGBUS), as on any sparse file.
 *
 * Backing fds: a tmpfs store keeps at most a budget of its regions' fds open
 * (RLIMIT_NOFILE less a reserve for the rest of the daemon), closing the
 * least recently used unpinned one when it needs another, so the number of
 * regions is not bounded by RLIMIT_NOFILE. Memfds, files adopted from a
 * persistent store and bound user files keep their fd open all their life.
 * Whoever uses a backing fd pins it with region_fd_get() and lets it go with
 * region_fd_put(); region_* functions do so themselves.
 *
 * Region
 * ------
 * A region is a backing file plus a lock for size changes. Its size, blocks
 * and times are always read from fstat() of the backing file: with FUSE
 * passthrough, clients write straight into that file.
 *
 * Thread safety: store_* and region_* may be called from any thread.
 * region_read() takes no region lock (pread; only the fd cache's lock, to
 * pin the fd). Each region has a read/write lock:
 * resize, growing writes and fallocate take it exclusively; writes inside
 * the size take it shared, so they run in parallel but can never race a
 * shrink into re-creating pages nobody reserved. A region must not be freed
 * while another thread uses it (the registry guarantees this).
 *
 * Errors: every function returns 0 (or a byte count) on success and a
 * negative errno on failure; output parameters are written only on success.
 */
#ifndef RFS_REGION_REGION_H
#define RFS_REGION_REGION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "common/fsid.h"

struct region_store;
struct region;

enum store_kind {
	STORE_TMPFS,
	STORE_MEMFD,
};

enum store_flags {
	/* Use only memfds, even when a private tmpfs could be had. */
	STORE_FORCE_MEMFD = 1 << 0,
	/*
	 * The private tmpfs's huge= (transparent huge pages for region
	 * memory): at most one of these. A store that asks for one is a
	 * private tmpfs or nothing (memfds have no huge=; MFD_HUGETLB is
	 * hugetlbfs, another thing).
	 */
	STORE_HUGE_ALWAYS = 1 << 1,
	STORE_HUGE_WITHIN_SIZE = 1 << 2,
	STORE_HUGE_ADVISE = 1 << 3,
};

/*
 * The smallest RLIMIT_NOFILE (soft) the daemon works with: a reserve of 64
 * fds for everything but region fds (libfuse, io_uring, /proc reads, a
 * file being bound) and as many again for the fd cache of a tmpfs store.
 * Below it the store could not open a single region; the daemon refuses
 * to start instead.
 */
#define STORE_NOFILE_MIN 128u

/*
 * Create the store. limit: total bytes all regions may reserve (rounded up
 * to whole pages). Tries a private tmpfs first (unless STORE_FORCE_MEMFD),
 * falls back to memfds when tmpfs cannot be mounted (EPERM without
 * CAP_SYS_ADMIN). With a STORE_HUGE_* flag there is no fallback: the
 * errno of the failing tmpfs (-EINVAL with STORE_FORCE_MEMFD).
 * Errors: -EINVAL (limit 0), -ENOMEM, or the errno of a failing memfd probe.
 */
int store_open(uint64_t limit, unsigned flags, struct region_store **ret);
/* Free the store. Every region must have been freed first. */
void store_close(struct region_store *store);
enum store_kind store_kind(const struct region_store *store);
uint64_t store_limit(const struct region_store *store);
/* Bytes reserved by all regions right now (whole pages). */
int store_used(struct region_store *store, uint64_t *ret);
/*
 * Metadata the daemon keeps for clients (extended attributes) is memory
 * too: it is charged against the store's limit with the regions' data, so
 * that data and metadata together never pass size= and df counts both.
 * delta > 0 charges, delta < 0 gives back (never fails).
 * STORE_TMPFS: one hidden file (O_TMPFILE) in the private tmpfs holds as
 * many pages as the charged bytes need, rounded up to whole pages: the
 * kernel, which enforces size= even for passthrough writes that never reach
 * the daemon, counts them. STORE_MEMFD: counted with the reservations.
 * Errors: -ENOSPC (does not fit now: nothing charged), or the errno of
 * fallocate().
 */
int store_charge_meta(struct region_store *store, int64_t delta);
/*
 * Charge bytes of metadata even past the limit (loading a persistent
 * store: what it holds is the user's, as region_adopt() charges data).
 */
void store_charge_meta_over(struct region_store *store, uint64_t bytes);
/* Bytes of metadata charged now. */
uint64_t store_meta(struct region_store *store);

/*
 * Keep at most n fds of a tmpfs store's regions open at once (0: the
 * default budget, RLIMIT_NOFILE at store_open() less a reserve). Cached
 * fds past the new budget are closed now, pinned ones when unpinned.
 * No effect on the fixed fds of memfds, adopted and bound regions.
 */
void store_set_fd_budget(struct region_store *store, unsigned long n);

/*
 * An fd the daemon is about to keep for good outside the store (a
 * directory of a persistent store): fd itself when, with it, the reserve
 * and slack more fds stay free under RLIMIT_NOFILE; else it is closed and
 * -EMFILE returned. A directory made through the mount asks for some slack
 * and one loaded asks for none: a store the running daemon filled always
 * loads again under the same limit.
 */
int store_fd_keep(const struct region_store *store, int fd, unsigned slack);
/* The slack a new directory leaves for the load's own few fds and more. */
#define STORE_FD_KEEP_SLACK 16

/*
 * A new empty region (size 0) in the store.
 * Errors: -ENOMEM, -ENOSPC (tmpfs inodes), -EMFILE / -ENFILE (fd limits: every
 * cached fd pinned, or every memfd holding one), or the errno of openat() /
 * memfd_create().
 */
int region_new(struct region_store *store, struct region **ret);
/*
 * A region whose data is already in fd (open O_RDWR, taken on success): a
 * region file of a persistent store. Its whole size is charged to the store
 * even past the limit (the data is the user's: df then shows the store
 * full and growth fails with ENOSPC). The file is not touched: its holes
 * stay holes, not reserved (a sparse region may be larger than its disk;
 * filling it would make the store unloadable), and its times stay.
 * The file is on a real file system: every call that may allocate in it
 * (resize, write, fallocate; region_alloc_enter() for the others) runs as
 * fsuid/fsgid 65534 (nobody), the daemon's capabilities kept, so that the
 * daemon never allocates in a root reserve (the daemon holds no
 * CAP_SYS_RESOURCE), for anyone.
 * Errors: -ENOMEM, errors of fstat. On error fd is not taken.
 */
int region_adopt(struct region_store *store, int fd, struct region **ret);
/* Release the region's memory (its pages live on while clients still map
 * them in passthrough mode: the kernel holds its own reference). Waits
 * for region_fd_put() of pins still held (a thread that replied to a
 * request and has not let go yet); nobody may pin it anew. */
void region_free(struct region *r);

/*
 * Pin the backing fd and return it: for mmap by the daemon, splicing reads
 * to FUSE, and registration as a FUSE passthrough backing file. It stays
 * open until the matching region_fd_put(), then may be closed at any time
 * (what was made of it meanwhile, a mapping or the kernel's reference to a
 * passthrough backing file, lives on). Owned by the region; never close it.
 * Every successful region_fd_get() needs exactly one region_fd_put().
 * Errors: -EMFILE (the fd was closed by the cache and none can be had:
 * every cached fd pinned, or the open-file limit reached), -ENFILE, or the
 * errno of reopening the backing file.
 */
int region_fd_get(struct region *r);
void region_fd_put(struct region *r);

/*
 * Change the size. Growing reserves [old, new) in the store first; on
 * failure the region is unchanged, and so are the blocks its file holds.
 * Errors: -EFBIG (new size larger than the store's whole limit, or than
 * off_t), -ENOSPC (not enough free space now), or the errno of
 * ftruncate/fallocate.
 */
int region_resize(struct region *r, uint64_t size);

/* Read up to len bytes at off; short at end of region, 0 past it. */
ssize_t region_read(struct region *r, void *buf, size_t len, uint64_t off);

/*
 * Write len bytes at off, growing the region (with reservation) when the
 * write ends past its size.
 * Errors: -ENOSPC (no room for the growth: nothing written), -EFBIG, or the
 * errno of pwrite.
 */
ssize_t region_write(struct region *r, const void *buf, size_t len, uint64_t off);

/*
 * fallocate() on the region. mode 0 or FALLOC_FL_KEEP_SIZE: reserve (and
 * grow unless KEEP_SIZE). FALLOC_FL_PUNCH_HOLE|FALLOC_FL_KEEP_SIZE: zero
 * the range; its store space stays reserved, so a later fault cannot fail.
 * Errors: -EOPNOTSUPP (other modes), -ENOSPC, -EFBIG, -EINVAL.
 */
int region_fallocate(struct region *r, int mode, uint64_t off, uint64_t len);

/*
 * Seals (enum region_seal, region/seal.h), which the region enforces on
 * what reaches it, as memfd does: region_resize() past the size with
 * REGION_SEAL_GROW, below it with REGION_SEAL_SHRINK, region_write() with
 * REGION_SEAL_WRITE or (GROW) starting at or past the end (one that
 * starts inside writes up to the end: a short count, as memfd),
 * region_fallocate() past the end with GROW (KEEP_SIZE too) or punching
 * with WRITE or FUTURE_WRITE: -EPERM, the region unchanged. Opens (who may
 * write at all) are the registry's and the FUSE layer's business; so are
 * passthrough writes, which never reach the region.
 * region_add_seals() only adds (never fails; waits for a resize, growing
 * write or fallocate under way); region_seals() reads them without a
 * lock (a field read, for the open path).
 */
unsigned region_seals(const struct region *r);
void region_add_seals(struct region *r, unsigned seals);

/* Make written data durable in the backing file (fsync/fdatasync). */
int region_flush(struct region *r, bool datasync);

/* fstat() of the backing file: size, blocks, atime/mtime/ctime. Needs no
 * free fd: a named file whose fd is not cached is asked by name. */
int region_stat(struct region *r, struct stat *ret);

/* Set atime/mtime (UTIME_NOW / UTIME_OMIT allowed). */
int region_set_times(struct region *r, const struct timespec times[2]);

/*
 * Make an empty region a view of a user's file (CreateFileMapping with a
 * file handle): fd (open O_RDWR, owned by the region from now on) becomes
 * the backing fd, so the region shows the file's contents and size, and
 * resize/write/flush act on the file. Its space is the file system's, not
 * the store's quota (nothing is charged; growth still fallocates where the
 * file system can, so mappings cannot fault on a full disk). Freeing the
 * region closes fd and leaves the file.
 * uid/gid: the binder. Every call that may allocate in the file (resize,
 * write, fallocate) runs with this fsuid/fsgid on the calling thread (then
 * restored), so the file system's root reserve and quotas apply as to the
 * binder's own writes (the daemon holds no CAP_SYS_RESOURCE).
 * Errors: -ENOTEMPTY (the region has a size), -EEXIST (already bound),
 * -EBUSY (another thread has the backing fd pinned), -ENOMEM, or the errno
 * of fstat(); on error fd is not taken.
 */
int region_bind_file(struct region *r, int fd, const char *path, uid_t uid, gid_t gid);
/* The bound file's path, or NULL for an anonymous region. */
const char *region_backing_path(const struct region *r);
/* The binder of a bound region. Errors: -ENODATA (not bound). */
int region_binder(const struct region *r, uid_t *ret_uid, gid_t *ret_gid);

/*
 * Switch the calling thread to the identity that allocates in r's backing
 * file, for a call made outside region/ that will allocate in it: the
 * registration of a passthrough backing file, whose credentials the kernel
 * keeps for every write through it. A bound file: its binder (as
 * region_bind_file()); a file of a persistent store: nobody, capabilities
 * kept (region_adopt()); otherwise (memfd, private tmpfs: no reserve)
 * nothing changes. region_alloc_leave() restores the thread; same thread,
 * nothing else in between. Errors: those of fsid_enter() (nothing changed).
 */
int region_alloc_enter(const struct region *r, struct fsid_saved *ret);
void region_alloc_leave(struct fsid_saved *s);

/*
 * Bound regions: has the file changed (size, mtime, ctime) since the
 * daemon's last own change or last call? Records the state seen now.
 * Always false for anonymous regions.
 */
bool region_changed_outside(struct region *r);

/*
 * 0 when nobody but the daemon has the backing file open: no passthrough
 * open or mapping (the kernel's own opens of the backing file count), no
 * other process. -EBUSY otherwise (a write lease cannot be had). Not for
 * memfds: the kernel refuses them every write lease (always -EBUSY). A file
 * description still held elsewhere from a backing fd the cache has since
 * closed (the kernel's reference to a passthrough backing file) counts as
 * another user too. Errors of region_fd_get().
 */
int region_check_unshared(struct region *r);

#endif
