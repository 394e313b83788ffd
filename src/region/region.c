/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "region/region.h"
#include "region/store_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <unistd.h>

#include "common/fsid.h"
#include "common/log.h"
#include "common/macros.h"
#include "region/seal.h"

struct region {
	struct region_store *store;
	/* The backing file: use its fd only between region_fd_get() and _put(). */
	struct store_fd backing;
	/*
	 * Exclusive for everything that changes the size or the reservation
	 * (resize, growing writes, fallocate). Shared for writes inside the
	 * size: they run in parallel, yet no shrink can slip in between
	 * their size check and their pwrite() and leave pages past the new
	 * end that nobody reserved. Reads take no lock at all.
	 */
	pthread_rwlock_t lock;
	/*
	 * Page-rounded end of the store space this region holds: at least
	 * the rounded size, more after a KEEP_SIZE fallocate past the end.
	 * STORE_MEMFD charges exactly this to the store. With STORE_TMPFS
	 * the kernel counts, and passthrough writes past the end can leave
	 * the size above this value; it then only tells which pages past
	 * the end we preallocated ourselves.
	 */
	uint64_t reserved;
	/*
	 * The backing file is a file of a persistent store (region_adopt()):
	 * on a real file system, whose root reserve the daemon must not use.
	 */
	bool on_disk;
	/*
	 * File-backed regions: the absolute path of the user's file, which
	 * is then the backing fd. Its space is the file system's, not the
	 * store's: nothing is charged, growth still fallocates (so a mapping
	 * cannot fault on a full disk) where the file system can.
	 */
	char *path;
	/*
	 * Bound regions: who bound the file. Every call that may allocate in
	 * it runs with this fsuid/fsgid (region_alloc_enter()), so the file system's
	 * root reserve and the quota apply as to the binder's own writes.
	 */
	uid_t binder_uid;
	gid_t binder_gid;
	/* Bound regions: the file as the daemon last left it, to tell outside changes. */
	struct timespec seen_mtime, seen_ctime;
	off_t seen_size;
	/*
	 * enum region_seal: only ever added, under the lock held exclusively
	 * (so a resize, a growing write or a fallocate sees them all or none);
	 * read with atomics by region_seals(), and under the lock by the
	 * checks below.
	 */
	unsigned seals;
};

static void note_file(struct region *r, int fd);

/* Anonymous: in the store, whose limit its bytes are charged to (not bound to a file). */
static bool is_anonymous(const struct region *r)
{
	return !r->path;
}

/*
 * Every call that may allocate in the backing file runs as the identity
 * the file system should judge, this thread only (common/fsid.h), undone
 * by region_alloc_leave(). The daemon holds no CAP_SYS_RESOURCE (dropped at
 * startup), so with a fsuid other than the file system's reserved uid
 * (ext4: resuid, 0 by default) the root reserve is not granted:
 *  - a bound file: its binder, so the reserve and quota hard limits bind
 *    the daemon exactly as the binder's own writes (capabilities as the
 *    switch leaves them, as for the binder's own calls);
 *  - a file of a persistent store (on_disk): nobody (65534), whoever owns
 *    or writes the region: the store belongs to the daemon's user, the
 *    reserve to root's own programs. The daemon's capabilities are kept
 *    (CAP_FSETID: no set-id bit of a store file changes behind fs/perm's
 *    rules, CAP_FOWNER: futimens of a file of another owner).
 * Memfds and a private tmpfs have no reserve: nothing to switch.
 */
int region_alloc_enter(const struct region *r, struct fsid_saved *ret)
{
	ret->switched = false;
	if (r->path) {
		if (r->binder_uid == 0 && r->binder_gid == 0)
			return 0;
		return fsid_enter(r->binder_uid, r->binder_gid, 0, ret);
	}
	if (!r->on_disk)
		return 0;
	return fsid_enter(FSID_NOBODY, FSID_NOGROUP, FSID_KEEP_CAPS, ret);
}

void region_alloc_leave(struct fsid_saved *s)
{
	fsid_leave(s);
}

static uint64_t page_up(uint64_t n)
{
	return RFS_ALIGN_UP(n, RFS_PAGE_SIZE);
}

/* Always ask the kernel: passthrough clients change the size behind our back. */
static int fd_size(int fd, uint64_t *ret)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	*ret = (uint64_t)st.st_size;
	return 0;
}

/* A region around fd (taken on success, fixed), or a new store file when fd < 0. */
static int region_make(struct region_store *store, int fd, struct region **ret)
{
	pthread_rwlockattr_t attr;
	struct region *r;
	int err;

	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->store = store;

	err = -pthread_rwlockattr_init(&attr);
	if (err)
		goto err_free;
	/*
	 * glibc prefers readers by default: a steady stream of writes inside
	 * the size would starve a resize forever.
	 */
	pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	err = -pthread_rwlock_init(&r->lock, &attr);
	pthread_rwlockattr_destroy(&attr);
	if (err)
		goto err_free;

	if (fd >= 0) {
		r->backing = STORE_FD_FIXED(fd);
	} else {
		err = store_fd_new(store, &r->backing);
		if (err)
			goto err_destroy_lock;
	}
	*ret = r;
	return 0;

err_destroy_lock:
	pthread_rwlock_destroy(&r->lock);
err_free:
	free(r);
	return err;
}

int region_new(struct region_store *store, struct region **ret)
{
	return region_make(store, -1, ret);
}

int region_adopt(struct region_store *store, int fd, struct region **ret)
{
	struct region *r;
	struct stat st;
	uint64_t end;
	int err;

	if (fstat(fd, &st) < 0)
		return -errno;
	err = region_make(store, fd, &r);
	if (err)
		return err;
	end = page_up((uint64_t)st.st_size);
	/*
	 * Charge the whole size, even past the limit (the store holds it; see
	 * store_charge_over()), but leave holes as they are: a sparse region
	 * (a passthrough write far past the end before the restart) may be
	 * far larger than the disk, and filling it would make the store
	 * unloadable and the disk full. Its holes are not reserved: a fault
	 * there may find the disk full, as on any sparse file (region.h).
	 * Nothing touches the file, so its times stay the region's.
	 */
	r->on_disk = true;
	store_lock(store);
	store_charge_over(store, end);
	r->reserved = end;
	store_unlock(store);
	*ret = r;
	return 0;
}

void region_free(struct region *r)
{
	if (!r)
		return;
	/*
	 * Our fd is the last reference in memfd mode (the daemon must have
	 * unmapped its own views), so close() frees every page, including
	 * those preallocated past the end: give the whole charge back. A
	 * tmpfs store's file is unlinked as well; a file-backed region's file
	 * stays where it is.
	 */
	store_fd_drop(r->store, &r->backing);
	if (is_anonymous(r)) {
		store_lock(r->store);
		store_uncharge(r->store, r->reserved);
		store_unlock(r->store);
	}
	free(r->path);
	pthread_rwlock_destroy(&r->lock);
	free(r);
}

int region_fd_get(struct region *r)
{
	return store_fd_get(r->store, &r->backing);
}

void region_fd_put(struct region *r)
{
	store_fd_put(r->store, &r->backing);
}

/*
 * Give back the blocks that a growth which failed half-way took past the
 * end of the file, [from, to): none of it held anything before (it lies
 * past both the rounded size and the reservation old_reserved), and
 * before is the file as it was then. Returns the reservation that holds
 * now: old_reserved, or less when it could not be kept (see below).
 *
 * tmpfs undoes a half-done fallocate() itself; ext4 (a persistent store,
 * a bound file) keeps what it allocated before running out of space, and
 * the disk would stay full for everyone. Punching the range works on
 * tmpfs, xfs, btrfs, but ext4 ignores a hole punched past the end of the
 * file: there only a truncation frees blocks past the end, all of them,
 * so the old preallocation [page_up(size), old_reserved) is made again
 * (the space was just freed; if another writer took it meanwhile, the
 * reservation shrinks). ext4 may keep one block of its extent tree that
 * the attempt added (an index block); nothing else stays. Passthrough clients may have moved the end
 * meanwhile (writing past it): never punch or truncate below the end seen
 * now, that is data. Only such a write in the few instructions between
 * that fstat() and the truncation could still be cut off.
 * Caller holds r->lock exclusively, store_lock() and fd pinned.
 */
static uint64_t give_back_locked(struct region *r, int fd, uint64_t from, uint64_t to,
				 uint64_t old_reserved, const struct stat *before)
{
	struct timespec times[2];
	struct stat now;
	uint64_t keep;

	if (fstat(fd, &now) < 0)
		return old_reserved; /* cannot tell the end: touch nothing */
	keep = page_up((uint64_t)now.st_size);
	from = RFS_MAX(from, keep);
	if (from < to && fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)from,
				   (off_t)(to - from)) < 0)
		log_debug("region: cannot punch out a failed reservation: %s", strerror(errno));
	if (now.st_size != before->st_size || fstat(fd, &now) < 0 ||
	    now.st_blocks <= before->st_blocks || now.st_size != before->st_size)
		return old_reserved;

	/* Blocks still there past the end (ext4): truncate at the end itself. */
	if (ftruncate(fd, now.st_size) < 0) {
		log_debug("region: cannot release a failed reservation: %s", strerror(errno));
		return old_reserved;
	}
	/* A failed grow leaves the file's times as they were (ctime excepted). */
	times[0] = (struct timespec){.tv_nsec = UTIME_OMIT};
	times[1] = before->st_mtim;
	futimens(fd, times);
	if (old_reserved <= keep)
		return old_reserved;
	if (fallocate(fd, FALLOC_FL_KEEP_SIZE, (off_t)keep, (off_t)(old_reserved - keep)) < 0) {
		log_debug("region: cannot restore a preallocation: %s", strerror(errno));
		/* What a half-done attempt took is inside [keep, old_reserved):
		 * ours, and charged. Counting it lost is the safe side. */
		return keep;
	}
	return old_reserved;
}

/* Move the reservation to new_reserved (not above r->reserved); store_lock() held. */
static void set_reserved_locked(struct region *r, uint64_t new_reserved)
{
	if (is_anonymous(r) && r->reserved > new_reserved)
		store_uncharge(r->store, r->reserved - new_reserved);
	r->reserved = new_reserved;
}

/*
 * Make [0, end) reserved without changing the size. Pages below the
 * rounded size are reserved already. A fallocate() that fails half-way
 * gives back exactly what it added (give_back_locked()); earlier
 * preallocations stay. before: fstat() of fd now.
 * Caller holds r->lock exclusively and fd, the backing fd, pinned (as for
 * every *_locked function below).
 */
static int reserve_locked(struct region *r, int fd, uint64_t size, uint64_t end,
			  const struct stat *before)
{
	uint64_t from = RFS_MAX(page_up(size), r->reserved);
	uint64_t to = page_up(end);
	uint64_t charge;
	int ret;

	if (to <= from)
		return 0;
	/* to > from >= r->reserved */
	charge = is_anonymous(r) ? to - r->reserved : 0;

	store_lock(r->store);
	ret = store_charge(r->store, charge);
	if (ret)
		goto err_unlock;
	if (fallocate(fd, FALLOC_FL_KEEP_SIZE, (off_t)from, (off_t)(to - from)) < 0) {
		ret = -errno;
		/* A user's file on a file system without fallocate: sparse, as any file there. */
		if (!is_anonymous(r) && (ret == -EOPNOTSUPP || ret == -ENOSYS))
			ret = 0;
		else
			goto err_give_back;
	}
	r->reserved = to;
	store_unlock(r->store);
	return 0;

err_give_back:
	store_uncharge(r->store, charge);
	if (ret != -EOPNOTSUPP && ret != -ENOSYS)
		set_reserved_locked(r, give_back_locked(r, fd, from, to, r->reserved, before));
err_unlock:
	store_unlock(r->store);
	return ret;
}

/* reserve_locked() with its own before: mode 0 and KEEP_SIZE fallocate past the end. */
static int reserve_now_locked(struct region *r, int fd, uint64_t size, uint64_t end)
{
	struct stat before;

	if (fstat(fd, &before) < 0)
		return -errno;
	return reserve_locked(r, fd, size, end, &before);
}

/* Reserve first, then set the size: a mapping can never see an unreserved page. */
static int grow_locked(struct region *r, int fd, uint64_t size, uint64_t new_size)
{
	uint64_t old_reserved = r->reserved;
	uint64_t from = RFS_MAX(page_up(size), old_reserved);
	struct stat before;
	int ret;

	if (fstat(fd, &before) < 0)
		return -errno;
	ret = reserve_locked(r, fd, size, new_size, &before);
	if (ret)
		return ret;
	if (ftruncate(fd, (off_t)new_size) < 0) {
		ret = -errno;
		goto err_give_back;
	}
	return 0;

err_give_back:
	/* Undo the reservation just made: [from, r->reserved) lies past the end. */
	store_lock(r->store);
	set_reserved_locked(r, give_back_locked(r, fd, from, r->reserved, old_reserved, &before));
	store_unlock(r->store);
	return ret;
}

static int shrink_locked(struct region *r, int fd, uint64_t new_size)
{
	uint64_t keep = page_up(new_size);

	if (ftruncate(fd, (off_t)new_size) < 0)
		return -errno;
	/*
	 * shmem frees every whole page past the new end, preallocated
	 * (KEEP_SIZE) ones included, even when the size does not change.
	 * The page holding the new end stays, zeroed past it.
	 */
	if (r->reserved > keep) {
		store_lock(r->store);
		if (is_anonymous(r))
			store_uncharge(r->store, r->reserved - keep);
		r->reserved = keep;
		store_unlock(r->store);
	}
	return 0;
}

/* The store limit is page-aligned and below INT64_MAX, so this check also keeps sizes in off_t. */
static int check_size(const struct region *r, uint64_t size)
{
	if (!is_anonymous(r))
		return size > (uint64_t)INT64_MAX ? -EFBIG : 0;
	return size > store_limit(r->store) ? -EFBIG : 0;
}

static int resize_locked(struct region *r, int fd, uint64_t new_size)
{
	uint64_t size = 0;
	int ret;

	ret = check_size(r, new_size);
	if (ret)
		return ret;
	ret = fd_size(fd, &size);
	if (ret)
		return ret;
	/* memfd's shmem_setattr(): the same size is no change. */
	if ((new_size > size && (r->seals & REGION_SEAL_GROW)) ||
	    (new_size < size && (r->seals & REGION_SEAL_SHRINK)))
		return -EPERM;
	if (new_size > size)
		return grow_locked(r, fd, size, new_size);
	return shrink_locked(r, fd, new_size);
}

int region_resize(struct region *r, uint64_t size)
{
	struct fsid_saved sw;
	int fd, ret;

	fd = region_fd_get(r);
	if (fd < 0)
		return fd;
	pthread_rwlock_wrlock(&r->lock);
	ret = region_alloc_enter(r, &sw);
	if (ret == 0) {
		ret = resize_locked(r, fd, size);
		region_alloc_leave(&sw);
	}
	note_file(r, fd);
	pthread_rwlock_unlock(&r->lock);
	region_fd_put(r);
	return ret;
}

/*
 * pread/pwrite of the whole range, retrying on signals and short counts,
 * like read(2)/write(2) in one respect: a failure after some bytes were
 * transferred reports those bytes. Stops at EOF when reading.
 */
static ssize_t io_full(int fd, void *buf, size_t len, uint64_t off, bool writing)
{
	size_t done = 0;

	while (done < len) {
		char *p = (char *)buf + done;
		off_t at = (off_t)(off + done);
		ssize_t n = writing ? pwrite(fd, p, len - done, at) : pread(fd, p, len - done, at);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (done > 0)
				break;
			return -errno;
		}
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

static ssize_t pwrite_full(int fd, const void *buf, size_t len, uint64_t off)
{
	return io_full(fd, (void *)buf, len, off, true);
}

ssize_t region_read(struct region *r, void *buf, size_t len, uint64_t off)
{
	ssize_t n;
	int fd;

	if (off > INT64_MAX)
		return -EINVAL;
	/* pread() refuses a range whose end does not fit in off_t; nothing is there anyway. */
	len = RFS_MIN(len, (uint64_t)INT64_MAX - off);
	fd = region_fd_get(r);
	if (fd < 0)
		return fd;
	/*
	 * A read inside the size must never fail: in cached mode it serves a
	 * client's page fault, and a failed fault is SIGBUS. Hence the retries.
	 */
	n = io_full(fd, buf, len, off, false);
	region_fd_put(r);
	return n;
}

ssize_t region_write(struct region *r, const void *buf, size_t len, uint64_t off)
{
	struct fsid_saved sw = { .switched = false };
	uint64_t size = 0, end;
	bool inside, grown = false;
	ssize_t n;
	int fd, ret;

	if (off > INT64_MAX)
		return -EINVAL;
	if (len == 0)
		return 0;
	if (len > (uint64_t)INT64_MAX - off)
		return -EFBIG;
	end = off + len;
	fd = region_fd_get(r);
	if (fd < 0)
		return fd;

	pthread_rwlock_rdlock(&r->lock);
	if (r->seals & REGION_SEAL_WRITE) {
		/* No writer can exist (registry_open()); only a stray request. */
		n = -EPERM;
		pthread_rwlock_unlock(&r->lock);
		goto out_put;
	}
	n = ret = fd_size(fd, &size);
	/* A bound region records the file's state after each write: exclusively. */
	inside = ret == 0 && end <= size && !r->path;
	/* Inside the size too: a store file on disk may have holes (region_adopt()). */
	if (inside) {
		n = ret = region_alloc_enter(r, &sw);
		if (ret == 0) {
			n = pwrite_full(fd, buf, len, off);
			region_alloc_leave(&sw);
		}
	}
	pthread_rwlock_unlock(&r->lock);
	if (ret || inside)
		goto out_put;

	/* Growing: exclusively, and look again; the size may have changed meanwhile. */
	pthread_rwlock_wrlock(&r->lock);
	n = region_alloc_enter(r, &sw); /* a bound file: even inside the size (holes) */
	if (n)
		goto out_unlock;
	n = fd_size(fd, &size);
	if (n)
		goto out_daemon;
	/*
	 * As memfd (shmem_write_begin() page by page): the part inside the
	 * size is written, a short count; a write starting at or past the
	 * end fails.
	 */
	if (end > size && (r->seals & REGION_SEAL_GROW)) {
		if (off >= size) {
			n = -EPERM;
			goto out_daemon;
		}
		len = (size_t)(size - off);
		end = size;
	}
	if (end > size) {
		n = check_size(r, end);
		if (n)
			goto out_daemon;
		n = grow_locked(r, fd, size, end);
		if (n)
			goto out_daemon;
		grown = true;
	}

	n = pwrite_full(fd, buf, len, off);
	if (grown && n < (ssize_t)len) {
		/*
		 * The file must look as if write(2) had stopped where ours did:
		 * keep only the growth up to the last byte written.
		 */
		uint64_t keep = n > 0 ? RFS_MAX(size, off + (uint64_t)n) : size;

		ret = shrink_locked(r, fd, keep);
		if (ret)
			log_debug("region: cannot undo growth after failed write: %s",
				  strerror(-ret));
	}
	note_file(r, fd);
out_daemon:
	region_alloc_leave(&sw);
out_unlock:
	pthread_rwlock_unlock(&r->lock);
out_put:
	region_fd_put(r);
	return n;
}

/* mode 0 or KEEP_SIZE on [off, end). */
static int commit_locked(struct region *r, int fd, int mode, uint64_t size, uint64_t off,
			 uint64_t end)
{
	int ret = 0;

	/*
	 * Inside the size everything is normally reserved already, but a
	 * passthrough client writing far past the end leaves holes (so does
	 * a sparse region loaded from a persistent store), and fallocate()
	 * is how one asks for them to be filled. Their pages are inside the
	 * rounded size, already charged in memfd mode. A fill that fails
	 * half-way keeps what it got, as fallocate(2) on ext4 does: those
	 * blocks are inside the size, the region's own, and telling them
	 * from data written meanwhile by a passthrough client is not
	 * possible.
	 */
	if (off < size) {
		store_lock(r->store);
		if (fallocate(fd, FALLOC_FL_KEEP_SIZE, (off_t)off,
			      (off_t)(RFS_MIN(end, size) - off)) < 0)
			ret = -errno;
		store_unlock(r->store);
		if (ret)
			return ret;
	}
	if (end <= size)
		return 0;
	/* Past the end, reserve from the old end on, not from off: no holes inside the size. */
	if (mode & FALLOC_FL_KEEP_SIZE)
		return reserve_now_locked(r, fd, size, end);
	return grow_locked(r, fd, size, end);
}

/* PUNCH_HOLE|KEEP_SIZE on [off, end). */
static int zero_locked(struct region *r, int fd, uint64_t size, uint64_t off, uint64_t end)
{
	int ret = 0;

	/* Past the end there is nothing to zero: preallocated pages there read as zero already. */
	if (off >= size)
		return 0;
	end = RFS_MIN(end, size);

	/*
	 * Punching frees the pages; allocating them again keeps the promise
	 * that a fault inside the size never needs store space. The space
	 * lock keeps other regions from taking the freed space in between
	 * (only a passthrough client writing past its end still could; then
	 * we report ENOSPC, and the range reads as zeros either way).
	 */
	store_lock(r->store);
	if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off,
		      (off_t)(end - off)) < 0) {
		ret = -errno;
		goto out_unlock;
	}
	if (fallocate(fd, FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)(end - off)) < 0)
		ret = -errno;
out_unlock:
	store_unlock(r->store);
	return ret;
}

int region_fallocate(struct region *r, int mode, uint64_t off, uint64_t len)
{
	struct fsid_saved sw;
	uint64_t size = 0, end;
	int fd, ret;

	if (mode != 0 && mode != FALLOC_FL_KEEP_SIZE &&
	    mode != (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE))
		return -EOPNOTSUPP;
	if (off > INT64_MAX || len == 0 || len > (uint64_t)INT64_MAX - off)
		return -EINVAL;
	end = off + len;
	if (!(mode & FALLOC_FL_PUNCH_HOLE)) {
		ret = check_size(r, end);
		if (ret)
			return ret;
	}
	fd = region_fd_get(r);
	if (fd < 0)
		return fd;

	pthread_rwlock_wrlock(&r->lock);
	ret = region_alloc_enter(r, &sw);
	if (ret)
		goto out_unlock;
	ret = fd_size(fd, &size);
	if (ret)
		goto out_daemon;
	/* memfd's shmem_fallocate(): punching writes; growing, even KEEP_SIZE, grows. */
	if ((mode & FALLOC_FL_PUNCH_HOLE) &&
	    (r->seals & (REGION_SEAL_WRITE | REGION_SEAL_FUTURE_WRITE)))
		ret = -EPERM;
	else if (!(mode & FALLOC_FL_PUNCH_HOLE) && end > size && (r->seals & REGION_SEAL_GROW))
		ret = -EPERM;
	if (ret)
		goto out_daemon;
	if (mode & FALLOC_FL_PUNCH_HOLE)
		ret = zero_locked(r, fd, size, off, end);
	else
		ret = commit_locked(r, fd, mode, size, off, end);
out_daemon:
	region_alloc_leave(&sw);
out_unlock:
	note_file(r, fd);
	pthread_rwlock_unlock(&r->lock);
	region_fd_put(r);
	return ret;
}

unsigned region_seals(const struct region *r)
{
	return __atomic_load_n(&r->seals, __ATOMIC_ACQUIRE);
}

void region_add_seals(struct region *r, unsigned seals)
{
	/* Waits for the resizes, growing writes and fallocates under way: they came first. */
	pthread_rwlock_wrlock(&r->lock);
	__atomic_store_n(&r->seals, r->seals | (seals & REGION_SEAL_ALL), __ATOMIC_RELEASE);
	pthread_rwlock_unlock(&r->lock);
}

int region_flush(struct region *r, bool datasync)
{
	int fd = region_fd_get(r);
	int ret;

	if (fd < 0)
		return fd;
	ret = datasync ? fdatasync(fd) : fsync(fd);
	ret = ret < 0 ? -errno : 0;
	region_fd_put(r);
	return ret;
}

int region_stat(struct region *r, struct stat *ret)
{
	struct stat st;
	int err = store_fd_stat(r->store, &r->backing, &st);

	if (err)
		return err;
	*ret = st;
	return 0;
}

int region_set_times(struct region *r, const struct timespec times[2])
{
	int fd = region_fd_get(r);
	int ret;

	if (fd < 0)
		return fd;
	ret = futimens(fd, times) < 0 ? -errno : 0;
	region_fd_put(r);
	return ret;
}

int region_bind_file(struct region *r, int fd, const char *path, uid_t uid, gid_t gid)
{
	struct stat st;
	char *copy;
	int ret;

	pthread_rwlock_wrlock(&r->lock);
	if (r->path) {
		ret = -EEXIST;
		goto out_unlock;
	}
	ret = region_stat(r, &st);
	if (ret)
		goto out_unlock;
	if (st.st_size) {
		ret = -ENOTEMPTY;
		goto out_unlock;
	}
	copy = strdup(path);
	if (!copy) {
		ret = -ENOMEM;
		goto out_unlock;
	}
	/* Closes (and unlinks) the anonymous file: pages preallocated past its end go. */
	ret = store_fd_replace(r->store, &r->backing, fd);
	if (ret) {
		free(copy);
		goto out_unlock;
	}
	store_lock(r->store);
	store_uncharge(r->store, r->reserved);
	store_unlock(r->store);
	r->reserved = 0; /* the file's own blocks are not ours to count */
	r->path = copy;
	r->binder_uid = uid;
	r->binder_gid = gid;
	note_file(r, fd);
out_unlock:
	pthread_rwlock_unlock(&r->lock);
	return ret;
}

const char *region_backing_path(const struct region *r)
{
	return r->path;
}

int region_binder(const struct region *r, uid_t *ret_uid, gid_t *ret_gid)
{
	if (!r->path)
		return -ENODATA;
	*ret_uid = r->binder_uid;
	*ret_gid = r->binder_gid;
	return 0;
}

/* Remember the bound file's state after a change of our own; fd pinned. */
static void note_file(struct region *r, int fd)
{
	struct stat st;

	if (r->path && fstat(fd, &st) == 0) {
		r->seen_mtime = st.st_mtim;
		r->seen_ctime = st.st_ctim;
		r->seen_size = st.st_size;
	}
}

bool region_changed_outside(struct region *r)
{
	struct stat st;
	bool changed;

	if (!r->path || region_stat(r, &st) < 0)
		return false;
	pthread_rwlock_wrlock(&r->lock);
	changed = st.st_size != r->seen_size || st.st_mtim.tv_sec != r->seen_mtime.tv_sec ||
		  st.st_mtim.tv_nsec != r->seen_mtime.tv_nsec ||
		  st.st_ctim.tv_sec != r->seen_ctime.tv_sec ||
		  st.st_ctim.tv_nsec != r->seen_ctime.tv_nsec;
	r->seen_mtime = st.st_mtim;
	r->seen_ctime = st.st_ctim;
	r->seen_size = st.st_size;
	pthread_rwlock_unlock(&r->lock);
	return changed;
}

int region_check_unshared(struct region *r)
{
	int fd = region_fd_get(r);
	int ret = 0;

	if (fd < 0)
		return fd;
	/*
	 * A write lease is refused while any other open file description of
	 * the backing file exists, including the kernel's own for passthrough
	 * opens and mappings (they survive the FUSE file's RELEASE, which is
	 * also asynchronous). Taken and dropped at once. The fd cache keeps
	 * at most one fd of a file open, so the daemon itself is never in
	 * the way.
	 */
	if (fcntl(fd, F_SETLEASE, F_WRLCK) < 0)
		ret = errno == EAGAIN ? -EBUSY : -errno;
	else
		fcntl(fd, F_SETLEASE, F_UNLCK);
	region_fd_put(r);
	return ret;
}
