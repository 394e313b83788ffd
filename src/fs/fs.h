/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fs/ — the FUSE front end: options, mount, the device I/O hooks that turn
 * on passthrough, and the low-level operations table. The only module that
 * sees fuse_req_t; every request gets exactly one reply.
 */
#ifndef RFS_FS_FS_H
#define RFS_FS_FS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

enum rfs_uring {
	RFS_URING_AUTO, /* io_uring when the kernel offers it */
	RFS_URING_ON,   /* io_uring or refuse to mount */
	RFS_URING_OFF,  /* /dev/fuse only */
};

enum rfs_huge {
	RFS_HUGE_NEVER, /* tmpfs's huge= values */
	RFS_HUGE_ALWAYS,
	RFS_HUGE_WITHIN_SIZE,
	RFS_HUGE_ADVISE,
};

enum rfs_datapath {
	RFS_DATAPATH_AUTO,
	RFS_DATAPATH_PASSTHROUGH,
	RFS_DATAPATH_CACHE,
};

struct rfs_options {
	char *mountpoint; /* as given on the command line */
	char *source;     /* device name for mount tables (SOURCE or fsname=); NULL: "regionfs" */
	char *fsname;     /* -o fsname= (owned); wins over SOURCE */
	char *subtype;    /* (owned) -o subtype=: mount type fuse.SUBTYPE; NULL: "regionfs" */
	bool ro;          /* -o ro: MS_RDONLY, the kernel refuses every change (EROFS) */
	bool foreground;
	bool debug;
	bool show_help;
	bool show_version;
	bool allow_other;
	bool default_permissions; /* always true: the kernel checks every access */
	bool noexec;
	uint64_t size;      /* total bytes of all regions */
	uint64_t nr_inodes; /* regions + directories, root included; 0 = unlimited */
	mode_t mode;        /* of the root directory */
	uid_t uid;
	gid_t gid;
	enum rfs_datapath datapath;
	unsigned max_threads; /* request threads of the daemon on /dev/fuse */
	enum rfs_uring uring;  /* requests over io_uring */
	char *store;          /* -o store=DIR: persistent store, or NULL */
	int lifetime;         /* the root's lifetime (enum registry_lifetime): persist */
	enum rfs_huge huge;   /* the private tmpfs store's huge= (never: any store) */
};

/*
 * Parse the command line. On a bad argument, prints one line naming it to
 * stderr and returns -EINVAL. Defaults: size 50% of RAM, nr_inodes half the
 * RAM pages (as tmpfs), mode 1777, uid/gid of the caller, datapath auto, uring auto,
 * lifetime persist,
 * max_threads = number of CPUs (at least 2).
 */
int rfs_options_parse(int argc, char **argv, struct rfs_options *ret);
void rfs_options_free(struct rfs_options *o);
void rfs_options_usage(const char *prog);

/* Mount, serve until unmounted or signalled, clean up. Returns the exit
 * status (0, or 1 after printing why). */
int rfs_run(const struct rfs_options *opts);

#endif
