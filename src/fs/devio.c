/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "fs/devio.h"

#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <fuse_lowlevel.h>

#include "common/hmap.h"
#include "common/log.h"
#include "common/macros.h"
#include "fs/fuse_abi.h"
#include "fs/uring.h"

/* A request whose reply we rewrite, by unique id. */
struct pending {
	struct hmap_node hn;
	uint64_t unique;
	uint32_t opcode;
};

struct devio {
	int fd;
	bool kernel_killpriv_v2;
	bool kernel_passthrough;
	bool passthrough;
	bool kernel_uring;
	struct uring *uring; /* NULL: requests only on /dev/fuse */
	bool uring_on;       /* the INIT reply enabled io_uring */
	size_t uring_payload;
	pthread_mutex_t lock;
	struct hmap pending;
};

static void pending_add(struct devio *io, uint64_t unique, uint32_t opcode)
{
	struct pending *p = malloc(sizeof(*p));

	if (!p)
		return; /* that reply then goes out unchanged: a cached-mode open */
	p->unique = unique;
	p->opcode = opcode;
	pthread_mutex_lock(&io->lock);
	hmap_insert(&io->pending, &p->hn, hmap_hash_u64(unique));
	pthread_mutex_unlock(&io->lock);
}

/* The opcode of a remembered request, forgetting it; 0 if not remembered. */
static uint32_t pending_take(struct devio *io, uint64_t unique)
{
	struct hmap_node *hn;
	uint32_t opcode = 0;

	pthread_mutex_lock(&io->lock);
	if (io->pending.count == 0)
		goto out_unlock;
	hmap_for_each_hash(hn, &io->pending, hmap_hash_u64(unique)) {
		struct pending *p = container_of(hn, struct pending, hn);

		if (p->unique == unique) {
			opcode = p->opcode;
			hmap_remove(&io->pending, hn);
			free(p);
			break;
		}
	}
out_unlock:
	pthread_mutex_unlock(&io->lock);
	return opcode;
}

/* Copy len bytes at offset off of the reply body (after the header) from or to buf. */
static bool iov_access(struct iovec *iov, int count, size_t off, void *buf, size_t len, bool store)
{
	int i;

	off += sizeof(struct fuse_out_header);
	for (i = 0; i < count && len; i++) {
		size_t n;

		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		n = RFS_MIN(len, iov[i].iov_len - off);
		if (store)
			memcpy((char *)iov[i].iov_base + off, buf, n);
		else
			memcpy(buf, (char *)iov[i].iov_base + off, n);
		buf = (char *)buf + n;
		len -= n;
		off = 0;
	}
	return len == 0;
}

static uint32_t get32(struct iovec *iov, int count, size_t off, bool *ok)
{
	uint32_t v = 0;

	*ok = *ok && iov_access(iov, count, off, &v, sizeof(v), false);
	return v;
}

static void put32(struct iovec *iov, int count, size_t off, uint32_t v)
{
	iov_access(iov, count, off, &v, sizeof(v), true);
}

/*
 * The largest request or reply body the kernel will move through a ring
 * entry, as it computes it from our INIT reply (fuse_uring_create()).
 */
static size_t ring_payload(struct iovec *iov, int count, uint32_t flags)
{
	uint16_t pages = RFS_FUSE_DEFAULT_MAX_PAGES;
	bool ok = true;
	size_t max_write = get32(iov, count, RFS_INIT_OUT_MAX_WRITE, &ok);
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	if (flags & RFS_FUSE_MAX_PAGES)
		iov_access(iov, count, RFS_INIT_OUT_MAX_PAGES, &pages, sizeof(pages), false);
	return RFS_MAX(RFS_MAX((size_t)RFS_FUSE_MIN_READ_BUFFER, max_write), (size_t)pages * page);
}

static void patch_init(struct devio *io, struct iovec *iov, int count)
{
	bool ok = true;
	uint32_t flags = get32(iov, count, RFS_INIT_OUT_FLAGS, &ok);
	uint32_t flags2 = get32(iov, count, RFS_INIT_OUT_FLAGS2, &ok);

	if (!ok)
		return;
	if (io->uring_on) {
		flags |= RFS_FUSE_INIT_EXT;
		flags2 |= RFS_FUSE_OVER_IO_URING_FLAG2;
		io->uring_payload = ring_payload(iov, count, flags);
	}
	/*
	 * HANDLE_KILLPRIV_V2 makes the kernel mark the superblock SB_NOSEC:
	 * after one check per inode, writes stop asking us for
	 * security.capability (without it, a GETXATTR round trip per write(2):
	 * measured 1.2 -> 10 us per 4 KiB pwrite in passthrough). In exchange
	 * removing set-user-ID/set-group-ID bits is the daemon's job: ops.c
	 * (rfs_setattr, rfs_open) does it, from the signals listed there.
	 */
	if (io->kernel_killpriv_v2)
		flags |= RFS_FUSE_HANDLE_KILLPRIV_V2;
	if (io->passthrough) {
		/* Passthrough and the writeback cache exclude each other. */
		flags |= RFS_FUSE_INIT_EXT;
		flags &= ~RFS_FUSE_WRITEBACK_CACHE;
		flags2 |= RFS_FUSE_PASSTHROUGH_FLAG2;
		/* Backing files sit on a tmpfs (depth 0): one level of stacking. */
		put32(iov, count, RFS_INIT_OUT_MAX_STACK_DEPTH, 1);
	}
	put32(iov, count, RFS_INIT_OUT_FLAGS, flags);
	put32(iov, count, RFS_INIT_OUT_FLAGS2, flags2);
}

static void patch_open(struct iovec *iov, int count, size_t open_out)
{
	uint64_t fh = 0;
	uint32_t flags;
	bool ok = true;

	if (!iov_access(iov, count, open_out + RFS_OPEN_OUT_FH, &fh, sizeof(fh), false) || fh == 0)
		return; /* a directory, or a region without a backing id */
	flags = get32(iov, count, open_out + RFS_OPEN_OUT_FLAGS, &ok);
	if (!ok)
		return;
	flags |= RFS_FOPEN_PASSTHROUGH;
	flags &= ~(RFS_FOPEN_KEEP_CACHE | RFS_FOPEN_DIRECT_IO);
	put32(iov, count, open_out + RFS_OPEN_OUT_FLAGS, flags);
	put32(iov, count, open_out + RFS_OPEN_OUT_BACKING_ID, (uint32_t)fh);
	fh = 0;
	iov_access(iov, count, open_out + RFS_OPEN_OUT_FH, &fh, sizeof(fh), true);
}

static ssize_t devio_read(int fd, void *buf, size_t len, void *userdata)
{
	struct devio *io = ((struct devio_userdata *)userdata)->io;
	const struct fuse_in_header *in = buf;
	ssize_t n = read(fd, buf, len);

	if (n < 0 && errno == ECONNABORTED) {
		/*
		 * The connection is gone for good, as with ENODEV: the kernel
		 * answers ECONNABORTED when fuse_abort_conn() (unmount, the
		 * last close after umount -l) runs while this read is taking
		 * a request off the queue (fuse_dev_do_read() finds the
		 * processing queue disconnected), and ENODEV otherwise.
		 * libfuse 3.14 ends the session only on ENODEV and takes any
		 * other errno for a fatal error: the daemon would exit 1 on a
		 * clean unmount ("fuse: reading device: Software caused
		 * connection abort"). Real errors (EIO, EINVAL...) pass.
		 */
		log_debug("reading /dev/fuse: ECONNABORTED: the connection was closed");
		errno = ENODEV;
		return -1;
	}
	if (n < (ssize_t)sizeof(*in))
		return n;
	switch (in->opcode) {
	case FUSE_INIT:
		if ((size_t)n >= sizeof(*in) + RFS_INIT_IN_FLAGS2 + sizeof(uint32_t)) {
			uint32_t flags, flags2;

			memcpy(&flags, (const char *)(in + 1) + RFS_INIT_IN_FLAGS, sizeof(flags));
			memcpy(&flags2, (const char *)(in + 1) + RFS_INIT_IN_FLAGS2, sizeof(flags2));
			io->kernel_passthrough = (flags & RFS_FUSE_INIT_EXT) &&
						 (flags2 & RFS_FUSE_PASSTHROUGH_FLAG2);
			io->kernel_killpriv_v2 = flags & RFS_FUSE_HANDLE_KILLPRIV_V2;
			io->kernel_uring = (flags & RFS_FUSE_INIT_EXT) &&
					   (flags2 & RFS_FUSE_OVER_IO_URING_FLAG2);
		}
		pending_add(io, in->unique, in->opcode);
		break;
	case FUSE_OPEN:
	case FUSE_CREATE:
		if (io->passthrough)
			pending_add(io, in->unique, in->opcode);
		break;
	default:
		break;
	}
	return n;
}

static void patch_reply(struct devio *io, uint32_t opcode, struct iovec *iov, int count)
{
	switch (opcode) {
	case FUSE_INIT:
		patch_init(io, iov, count);
		break;
	case FUSE_OPEN:
		if (io->passthrough)
			patch_open(iov, count, 0);
		break;
	case FUSE_CREATE:
		if (io->passthrough)
			patch_open(iov, count, sizeof(struct fuse_entry_out));
		break;
	default:
		break;
	}
}

static ssize_t devio_writev(int fd, struct iovec *iov, int count, void *userdata)
{
	struct devio *io = ((struct devio_userdata *)userdata)->io;
	const struct fuse_out_header *out = iov[0].iov_base;
	uint32_t opcode;
	ssize_t n;

	/* A request this thread took from an io_uring entry: the reply goes there. */
	if (out->unique && (opcode = uring_serving(out->unique))) {
		if (out->error == 0)
			patch_reply(io, opcode, iov, count);
		return uring_reply(iov, count);
	}
	/* libfuse puts the whole header in iov[0]; notifications have unique 0. */
	opcode = out->unique ? pending_take(io, out->unique) : 0;
	if (opcode && out->error == 0)
		patch_reply(io, opcode, iov, count);
	n = writev(fd, iov, count);
	/* The kernel has processed INIT when the write returns: register now. */
	if (opcode == FUSE_INIT && io->uring_on) {
		if (n >= 0 && out->error == 0)
			uring_start(io->uring, io->uring_payload);
		else
			io->uring_on = false;
	}
	return n;
}

int devio_attach(struct fuse_session *se, int fd, struct devio_userdata *ud)
{
	static const struct fuse_custom_io hooks = {
		.read = devio_read,
		.writev = devio_writev,
	};
	struct devio *io = calloc(1, sizeof(*io));
	int r;

	if (!io)
		return -ENOMEM;
	r = hmap_init(&io->pending);
	if (r < 0)
		goto err_free;
	pthread_mutex_init(&io->lock, NULL);
	io->fd = fd;
	/* Before the hooks can run: they find io through ud. */
	ud->io = io;
	if (fuse_session_custom_io(se, &hooks, fd) < 0) {
		ud->io = NULL;
		r = -EIO;
		goto err_hmap;
	}
	return 0;

err_hmap:
	pthread_mutex_destroy(&io->lock);
	hmap_destroy(&io->pending);
err_free:
	free(io);
	return r;
}

void devio_free(struct devio *io)
{
	struct hmap_node *hn;
	size_t at = 0;

	if (!io)
		return;
	while ((hn = hmap_pop(&io->pending, &at)))
		free(container_of(hn, struct pending, hn));
	hmap_destroy(&io->pending);
	pthread_mutex_destroy(&io->lock);
	free(io);
}

void devio_set_uring(struct devio *io, struct uring *u)
{
	io->uring = u;
}

bool devio_kernel_uring(const struct devio *io)
{
	return io && io->kernel_uring;
}

void devio_enable_uring(struct devio *io, bool on)
{
	if (io)
		io->uring_on = on && io->uring && io->kernel_uring;
}

bool devio_uring(const struct devio *io)
{
	return io && io->uring_on;
}

bool devio_kernel_passthrough(const struct devio *io)
{
	return io && io->kernel_passthrough;
}

void devio_set_passthrough(struct devio *io, bool on)
{
	if (io)
		io->passthrough = on;
}

int devio_backing_open(struct devio *io, int fd)
{
	struct rfs_backing_map map = { .fd = fd };
	int id = ioctl(io->fd, RFS_FUSE_DEV_IOC_BACKING_OPEN, &map);

	if (id < 0)
		return -errno;
	if (id == 0)
		return -EIO;
	return id;
}

void devio_backing_close(struct devio *io, uint32_t id)
{
	if (ioctl(io->fd, RFS_FUSE_DEV_IOC_BACKING_CLOSE, &id) < 0)
		log_debug("closing backing id %u: %m", id);
}
