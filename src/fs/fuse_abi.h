/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fs/fuse_abi — every piece of the FUSE wire protocol that devio.c and
 * uring.c read or write themselves, because libfuse 3.14 knows neither
 * passthrough nor io_uring: flag values, offsets inside the INIT and OPEN
 * bodies, the backing ioctls and the io_uring structures.
 *
 * The values are the kernel's (include/uapi/linux/fuse.h). Each one is
 * checked at build time against the installed <linux/fuse.h> where that
 * header has it, so a header that disagrees fails the build instead of
 * corrupting replies. An older header lacks some (Debian 12 has protocol
 * 7.38: passthrough is 7.40, io_uring 7.42): those are checked as soon as
 * the header has them (by FUSE_KERNEL_MINOR_VERSION), and until then
 * against what that header has at the same place (the fields they
 * replace). Never checkable here: FUSE_DEFAULT_MAX_PAGES_PER_REQ, which
 * is the kernel's own (fs/fuse/fuse_i.h), not part of the uapi header.
 *
 * Offsets count from the start of the body, after the fuse_in_header or
 * fuse_out_header.
 */
#ifndef RFS_FS_FUSE_ABI_H
#define RFS_FS_FUSE_ABI_H

#include <stddef.h>
#include <stdint.h>
#include <sys/ioctl.h>

#include <linux/fuse.h>

#define RFS_ABI_CHECK(cond) _Static_assert(cond, "FUSE ABI: " #cond)

/* ---- headers and opcodes (stable since protocol 7.x, taken from <linux/fuse.h>) ---- */

RFS_ABI_CHECK(FUSE_KERNEL_VERSION == 7);

RFS_ABI_CHECK(sizeof(struct fuse_in_header) == 40);
RFS_ABI_CHECK(offsetof(struct fuse_in_header, len) == 0);
RFS_ABI_CHECK(offsetof(struct fuse_in_header, opcode) == 4);
RFS_ABI_CHECK(offsetof(struct fuse_in_header, unique) == 8);
RFS_ABI_CHECK(sizeof(struct fuse_out_header) == 16);
RFS_ABI_CHECK(offsetof(struct fuse_out_header, len) == 0);
RFS_ABI_CHECK(offsetof(struct fuse_out_header, error) == 4);
RFS_ABI_CHECK(offsetof(struct fuse_out_header, unique) == 8);
/* A CREATE reply is a fuse_entry_out, then a fuse_open_out. */
RFS_ABI_CHECK(sizeof(struct fuse_entry_out) == 128);
RFS_ABI_CHECK(FUSE_FORGET == 2 && FUSE_OPEN == 14 && FUSE_INIT == 26 && FUSE_CREATE == 35 &&
	      FUSE_BATCH_FORGET == 42);

/* The smallest request or reply buffer the kernel accepts. */
#define RFS_FUSE_MIN_READ_BUFFER 8192u
RFS_ABI_CHECK(FUSE_MIN_READ_BUFFER == RFS_FUSE_MIN_READ_BUFFER);

/*
 * The kernel's max_pages when the INIT reply does not set FUSE_MAX_PAGES
 * (FUSE_DEFAULT_MAX_PAGES_PER_REQ, kernel-internal: not checkable).
 */
#define RFS_FUSE_DEFAULT_MAX_PAGES 32u

/* ---- INIT: fuse_init_in, fuse_init_out ---- */

/* INIT flags (fuse_init_in.flags, fuse_init_out.flags). */
#define RFS_FUSE_WRITEBACK_CACHE (1u << 16)
#define RFS_FUSE_MAX_PAGES (1u << 22)
#define RFS_FUSE_HANDLE_KILLPRIV_V2 (1u << 28)
#define RFS_FUSE_INIT_EXT (1u << 30) /* flags2 is valid */
RFS_ABI_CHECK(FUSE_WRITEBACK_CACHE == RFS_FUSE_WRITEBACK_CACHE);
RFS_ABI_CHECK(FUSE_MAX_PAGES == RFS_FUSE_MAX_PAGES);
RFS_ABI_CHECK(FUSE_HANDLE_KILLPRIV_V2 == RFS_FUSE_HANDLE_KILLPRIV_V2);
RFS_ABI_CHECK(FUSE_INIT_EXT == RFS_FUSE_INIT_EXT);

/* Bits 32..63 of the INIT flags, as they sit in flags2. */
#define RFS_FUSE_PASSTHROUGH_FLAG2 (1u << 5)   /* FUSE_PASSTHROUGH, bit 37, 7.40 */
#define RFS_FUSE_OVER_IO_URING_FLAG2 (1u << 9) /* FUSE_OVER_IO_URING, bit 41, 7.42 */
#ifdef FUSE_PASSTHROUGH
RFS_ABI_CHECK(FUSE_PASSTHROUGH >> 32 == RFS_FUSE_PASSTHROUGH_FLAG2);
#endif
#ifdef FUSE_OVER_IO_URING
RFS_ABI_CHECK(FUSE_OVER_IO_URING >> 32 == RFS_FUSE_OVER_IO_URING_FLAG2);
#endif

/* Offsets inside fuse_init_in (flags2 since 7.36). */
#define RFS_INIT_IN_FLAGS 12
#define RFS_INIT_IN_FLAGS2 16
RFS_ABI_CHECK(offsetof(struct fuse_init_in, flags) == RFS_INIT_IN_FLAGS);
RFS_ABI_CHECK(offsetof(struct fuse_init_in, flags2) == RFS_INIT_IN_FLAGS2);

/* Offsets inside fuse_init_out. */
#define RFS_INIT_OUT_FLAGS 12
#define RFS_INIT_OUT_MAX_WRITE 20
#define RFS_INIT_OUT_MAX_PAGES 28 /* uint16_t */
#define RFS_INIT_OUT_FLAGS2 32
#define RFS_INIT_OUT_MAX_STACK_DEPTH 36 /* uint32_t, 7.40 */
RFS_ABI_CHECK(offsetof(struct fuse_init_out, flags) == RFS_INIT_OUT_FLAGS);
RFS_ABI_CHECK(offsetof(struct fuse_init_out, max_write) == RFS_INIT_OUT_MAX_WRITE);
RFS_ABI_CHECK(offsetof(struct fuse_init_out, max_pages) == RFS_INIT_OUT_MAX_PAGES);
RFS_ABI_CHECK(sizeof(((struct fuse_init_out *)0)->max_pages) == sizeof(uint16_t));
RFS_ABI_CHECK(offsetof(struct fuse_init_out, flags2) == RFS_INIT_OUT_FLAGS2);
#if FUSE_KERNEL_MINOR_VERSION >= 40
RFS_ABI_CHECK(offsetof(struct fuse_init_out, max_stack_depth) == RFS_INIT_OUT_MAX_STACK_DEPTH);
RFS_ABI_CHECK(sizeof(((struct fuse_init_out *)0)->max_stack_depth) == sizeof(uint32_t));
#else
/* Before 7.40 the field was the first of unused[]. */
RFS_ABI_CHECK(offsetof(struct fuse_init_out, unused) == RFS_INIT_OUT_MAX_STACK_DEPTH);
RFS_ABI_CHECK(sizeof(((struct fuse_init_out *)0)->unused[0]) == sizeof(uint32_t));
#endif
/* The INIT request must reach flags2 for the checks in the read hook. */
RFS_ABI_CHECK(sizeof(struct fuse_init_in) >= RFS_INIT_IN_FLAGS2 + sizeof(uint32_t));

/* ---- OPEN and CREATE: fuse_open_out ---- */

#define RFS_FOPEN_DIRECT_IO (1u << 0)
#define RFS_FOPEN_KEEP_CACHE (1u << 1)
#define RFS_FOPEN_PASSTHROUGH (1u << 7) /* 7.40 */
RFS_ABI_CHECK(FOPEN_DIRECT_IO == RFS_FOPEN_DIRECT_IO);
RFS_ABI_CHECK(FOPEN_KEEP_CACHE == RFS_FOPEN_KEEP_CACHE);
#ifdef FOPEN_PASSTHROUGH
RFS_ABI_CHECK(FOPEN_PASSTHROUGH == RFS_FOPEN_PASSTHROUGH);
#endif

/* Offsets inside fuse_open_out: fh, open_flags, backing_id. */
#define RFS_OPEN_OUT_FH 0
#define RFS_OPEN_OUT_FLAGS 8
#define RFS_OPEN_OUT_BACKING_ID 12 /* uint32_t, 7.40 */
RFS_ABI_CHECK(sizeof(struct fuse_open_out) == 16);
RFS_ABI_CHECK(offsetof(struct fuse_open_out, fh) == RFS_OPEN_OUT_FH);
RFS_ABI_CHECK(offsetof(struct fuse_open_out, open_flags) == RFS_OPEN_OUT_FLAGS);
#if FUSE_KERNEL_MINOR_VERSION >= 40
RFS_ABI_CHECK(offsetof(struct fuse_open_out, backing_id) == RFS_OPEN_OUT_BACKING_ID);
#else
/* Before 7.40 the field was padding. */
RFS_ABI_CHECK(offsetof(struct fuse_open_out, padding) == RFS_OPEN_OUT_BACKING_ID);
#endif

/* ---- backing files: the device ioctls (7.40) ---- */

/* struct fuse_backing_map */
struct rfs_backing_map {
	int32_t fd;
	uint32_t flags;
	uint64_t padding;
};
#define RFS_FUSE_DEV_IOC_MAGIC 229
#define RFS_FUSE_DEV_IOC_BACKING_OPEN _IOW(RFS_FUSE_DEV_IOC_MAGIC, 1, struct rfs_backing_map)
#define RFS_FUSE_DEV_IOC_BACKING_CLOSE _IOW(RFS_FUSE_DEV_IOC_MAGIC, 2, uint32_t)
RFS_ABI_CHECK(FUSE_DEV_IOC_MAGIC == RFS_FUSE_DEV_IOC_MAGIC);
RFS_ABI_CHECK(sizeof(struct rfs_backing_map) == 16);
#ifdef FUSE_DEV_IOC_BACKING_OPEN
RFS_ABI_CHECK(sizeof(struct fuse_backing_map) == sizeof(struct rfs_backing_map));
RFS_ABI_CHECK(offsetof(struct fuse_backing_map, fd) == offsetof(struct rfs_backing_map, fd));
RFS_ABI_CHECK(offsetof(struct fuse_backing_map, flags) ==
	      offsetof(struct rfs_backing_map, flags));
RFS_ABI_CHECK(FUSE_DEV_IOC_BACKING_OPEN == RFS_FUSE_DEV_IOC_BACKING_OPEN);
RFS_ABI_CHECK(FUSE_DEV_IOC_BACKING_CLOSE == RFS_FUSE_DEV_IOC_BACKING_CLOSE);
#endif

/* ---- requests over io_uring (7.42) ---- */

/* enum fuse_uring_cmd: the command of an SQE */
#define RFS_URING_CMD_REGISTER 1u
#define RFS_URING_CMD_COMMIT_AND_FETCH 2u

/* struct fuse_uring_req_header: iov[0] of every ring entry. */
#define RFS_URING_IN_OUT_HEADER_SZ 128
#define RFS_URING_OP_IN_OUT_SZ 128
struct rfs_uring_req_header {
	uint8_t in_out[RFS_URING_IN_OUT_HEADER_SZ]; /* fuse_in_header in, fuse_out_header out */
	uint8_t op_in[RFS_URING_OP_IN_OUT_SZ];      /* the request's first argument (its fixed struct) */
	struct {                                    /* struct fuse_uring_ent_in_out */
		uint64_t flags;
		uint64_t commit_id;
		uint32_t payload_sz; /* bytes used in the payload buffer, both ways */
		uint32_t padding;
		uint64_t reserved;
	} ent;
};

/* struct fuse_uring_cmd_req: in the 80-byte command area of an SQE128. */
struct rfs_uring_cmd_req {
	uint64_t flags;
	uint64_t commit_id;
	uint16_t qid;
	uint8_t padding[6];
};

RFS_ABI_CHECK(sizeof(struct fuse_in_header) <= RFS_URING_IN_OUT_HEADER_SZ);
RFS_ABI_CHECK(sizeof(struct fuse_out_header) <= RFS_URING_IN_OUT_HEADER_SZ);
RFS_ABI_CHECK(offsetof(struct rfs_uring_req_header, ent) == 256);
RFS_ABI_CHECK(sizeof(struct rfs_uring_req_header) == 288);
RFS_ABI_CHECK(offsetof(struct rfs_uring_cmd_req, commit_id) == 8);
RFS_ABI_CHECK(offsetof(struct rfs_uring_cmd_req, qid) == 16);
RFS_ABI_CHECK(sizeof(struct rfs_uring_cmd_req) == 24);
#if FUSE_KERNEL_MINOR_VERSION >= 42
RFS_ABI_CHECK(FUSE_URING_IN_OUT_HEADER_SZ == RFS_URING_IN_OUT_HEADER_SZ);
RFS_ABI_CHECK(FUSE_URING_OP_IN_OUT_SZ == RFS_URING_OP_IN_OUT_SZ);
RFS_ABI_CHECK(FUSE_IO_URING_CMD_REGISTER == RFS_URING_CMD_REGISTER);
RFS_ABI_CHECK(FUSE_IO_URING_CMD_COMMIT_AND_FETCH == RFS_URING_CMD_COMMIT_AND_FETCH);
RFS_ABI_CHECK(sizeof(struct fuse_uring_req_header) == sizeof(struct rfs_uring_req_header));
RFS_ABI_CHECK(offsetof(struct fuse_uring_req_header, op_in) ==
	      offsetof(struct rfs_uring_req_header, op_in));
RFS_ABI_CHECK(offsetof(struct fuse_uring_req_header, ring_ent_in_out) ==
	      offsetof(struct rfs_uring_req_header, ent));
RFS_ABI_CHECK(offsetof(struct fuse_uring_ent_in_out, commit_id) ==
	      offsetof(struct rfs_uring_req_header, ent.commit_id) -
		      offsetof(struct rfs_uring_req_header, ent));
RFS_ABI_CHECK(offsetof(struct fuse_uring_ent_in_out, payload_sz) ==
	      offsetof(struct rfs_uring_req_header, ent.payload_sz) -
		      offsetof(struct rfs_uring_req_header, ent));
RFS_ABI_CHECK(offsetof(struct fuse_uring_cmd_req, commit_id) ==
	      offsetof(struct rfs_uring_cmd_req, commit_id));
RFS_ABI_CHECK(offsetof(struct fuse_uring_cmd_req, qid) == offsetof(struct rfs_uring_cmd_req, qid));
/* 7.46 may put fields into the padding; ours must then stay zero. */
RFS_ABI_CHECK(sizeof(struct fuse_uring_cmd_req) == sizeof(struct rfs_uring_cmd_req));
#endif

#endif
