/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "fs/fs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "common/macros.h"
#include "common/size.h"
#include "registry/lifetime.h"

void rfs_options_usage(const char *prog)
{
	printf("usage: %s [-f] [-d] [-o OPTION[,OPTION...]] [SOURCE] MOUNTPOINT\n"
	       "\n"
	       "Mount a directory of named shared-memory regions at MOUNTPOINT.\n"
	       "SOURCE (as fstab and mount.fuse3 give it) is shown as the device name.\n"
	       "\n"
	       "  -f                     stay in the foreground, log to stderr\n"
	       "  -d                     debug: log every request (implies -f)\n"
	       "  -h, --help             print this help\n"
	       "  -V, --version          print the version\n"
	       "\n"
	       "Options (-o):\n"
	       "  size=BYTES             total memory of all regions; K/M/G/T suffixes or N%%\n"
	       "                         of RAM (default 50%%)\n"
	       "  nr_inodes=N            most regions + directories (default: half the RAM pages)\n"
	       "  mode=OCTAL             permissions of the root directory (default 1777)\n"
	       "  uid=N, gid=N           owner of the root directory (default: the caller)\n"
	       "  datapath=auto|passthrough|cache\n"
	       "                         how data moves (default auto: passthrough when the\n"
	       "                         kernel offers it and the daemon runs as root)\n"
	       "  store=DIR              keep every region and the namespace in DIR (persistent;\n"
	       "                         a new mount with the same DIR brings everything back)\n"
	       "  lifetime=persist|last-close|creator\n"
	       "                         the root's user.regionfs.lifetime: what regions and\n"
	       "                         directories made in it get (default persist)\n"
	       "  uring=auto|on|off      requests over io_uring, served on the caller's CPU\n"
	       "                         (default auto: when the kernel offers it; as root\n"
	       "                         the fuse module's enable_uring is switched on)\n"
	       "  max_threads=N          threads reading /dev/fuse (default: CPUs, at least 2);\n"
	       "                         io_uring adds two threads per CPU\n"
	       "  allow_other            let other users in\n"
	       "  default_permissions    always on: the kernel checks modes, owners and\n"
	       "                         capabilities exactly as on tmpfs (accepted, no-op)\n"
	       "  ro, rw                 read-only mount (EROFS on every change) / read-write\n"
	       "  fsname=NAME            source shown by findmnt and df (default regionfs)\n"
	       "  subtype=NAME           mount type fuse.NAME (default regionfs)\n"
	       "  huge=never|always|within_size|advise\n"
	       "                         transparent huge pages for region memory, as tmpfs's\n"
	       "                         huge= (default never; needs root, no store=)\n"
	       "  noexec, nosuid, nodev, defaults   usual mount flags\n",
	       prog);
}

void rfs_options_free(struct rfs_options *o)
{
	free(o->store);
	o->store = NULL;
	free(o->fsname);
	o->fsname = NULL;
	free(o->subtype);
	o->subtype = NULL;
}

static uint64_t ram_bytes(void)
{
	struct sysinfo si;

	if (sysinfo(&si) < 0)
		return 0;
	return (uint64_t)si.totalram * si.mem_unit;
}

static int bad(const char *what, const char *arg)
{
	fprintf(stderr, "regionfs: %s: '%s'\n", what, arg);
	return -EINVAL;
}

static int parse_octal(const char *s, mode_t *ret)
{
	unsigned long v;
	char *end;

	if (!*s)
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 8);
	if (errno || *end || v > 07777)
		return -EINVAL;
	*ret = (mode_t)v;
	return 0;
}

static int parse_id(const char *s, unsigned *ret)
{
	unsigned long v;
	char *end;

	if (!*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v >= (unsigned long)(uint32_t)-1)
		return -EINVAL;
	*ret = (unsigned)v;
	return 0;
}

/* The index of val in words (NULL-terminated): an enum's value, or -1. */
static int word_index(const char *val, const char *const *words)
{
	int i;

	for (i = 0; words[i]; i++)
		if (strcmp(val, words[i]) == 0)
			return i;
	return -1;
}

/* Replaces *field with a copy of val. */
static int set_string(char **field, const char *val)
{
	char *copy = strdup(val);

	if (!copy)
		return -ENOMEM;
	free(*field);
	*field = copy;
	return 0;
}

/*
 * Options of tmpfs (and FUSE) that regionfs does not have, with why: each
 * is refused with that one line rather than "unknown option".
 */
static const char *unsupported_reason(const char *opt)
{
	static const struct {
		const char *name;
		const char *why;
	} table[] = {
		{ "nr_blocks", "give the limit in bytes with size=" },
		{ "mpol", "NUMA policies are not applied to region memory" },
		{ "inode32", "inode numbers are 64-bit and cannot be limited to 32 bits" },
		{ "noswap", "region memory is ordinary shmem and may be swapped" },
		{ "quota", "per-user quotas are not implemented" },
		{ "usrquota", "per-user quotas are not implemented" },
		{ "grpquota", "per-group quotas are not implemented" },
		{ "usrquota_block_hardlimit", "per-user quotas are not implemented" },
		{ "usrquota_inode_hardlimit", "per-user quotas are not implemented" },
		{ "grpquota_block_hardlimit", "per-group quotas are not implemented" },
		{ "grpquota_inode_hardlimit", "per-group quotas are not implemented" },
		{ "casefold", "names are compared byte for byte" },
		{ "strict_encoding", "names are not checked against an encoding" },
		{ "auto_unmount", "as root regionfs mounts with mount(2) itself, without "
				  "fusermount3's watcher; after a crash run umount -l MOUNTPOINT" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(table); i++)
		if (strcmp(opt, table[i].name) == 0)
			return table[i].why;
	return NULL;
}

/* Flags mount(8) and fstab may pass that need nothing from us. */
static bool is_ignored_flag(const char *opt)
{
	static const char *const ignored[] = {
		"nosuid", "nodev", "suid", "dev", "exec", "defaults", "auto", "noauto",
		"nofail", "_netdev", "atime", "noatime", "relatime", "strictatime", "async",
		"user", "nouser", "users",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ignored); i++)
		if (strcmp(opt, ignored[i]) == 0)
			return true;
	return strncmp(opt, "x-", 2) == 0; /* userspace-only fstab options */
}

static int parse_one(char *opt, struct rfs_options *o)
{
	char *val = strchr(opt, '=');
	const char *why;
	unsigned id;
	int r;

	if (val)
		*val++ = '\0';
	if (strcmp(opt, "size") == 0 && val) {
		r = rfs_parse_size(val, ram_bytes(), &o->size);
		if (r == -EDOM)
			return bad("size= over 100% of RAM (give at most 100%, or bytes with K/M/G/T)", val);
		if (r == -ERANGE)
			return bad("size= too large (over 16 EiB)", val);
		if (r < 0)
			return bad("invalid size= value (bytes with K/M/G/T suffix, or N% of RAM)", val);
		if (o->size == 0)
			return bad("size= of 0 (unlimited on tmpfs) is refused: give a byte count or N% of RAM", val);
	} else if (strcmp(opt, "nr_inodes") == 0 && val) {
		if (rfs_parse_count(val, &o->nr_inodes) < 0)
			return bad("invalid nr_inodes= value", val);
	} else if (strcmp(opt, "mode") == 0 && val) {
		if (parse_octal(val, &o->mode) < 0)
			return bad("invalid mode= value", val);
	} else if (strcmp(opt, "uid") == 0 && val) {
		if (parse_id(val, &id) < 0)
			return bad("invalid uid= value", val);
		o->uid = id;
	} else if (strcmp(opt, "gid") == 0 && val) {
		if (parse_id(val, &id) < 0)
			return bad("invalid gid= value", val);
		o->gid = id;
	} else if (strcmp(opt, "max_threads") == 0 && val) {
		uint64_t n;

		/* At least 2: binding a file may walk a path back into this mount,
		 * which needs a second thread to answer. */
		if (rfs_parse_count(val, &n) < 0 || n < 2 || n > 1024)
			return bad("invalid max_threads= value (2 to 1024)", val);
		o->max_threads = (unsigned)n;
	} else if (strcmp(opt, "store") == 0 && val) {
		if (val[0] != '/')
			return bad("store= needs an absolute path", val);
		free(o->store);
		o->store = strdup(val);
		if (!o->store)
			return -ENOMEM;
	} else if (strcmp(opt, "fsname") == 0 && val) {
		/* checked with SOURCE in rfs_options_parse() */
		if (set_string(&o->fsname, val) < 0)
			return -ENOMEM;
	} else if (strcmp(opt, "subtype") == 0 && val) {
		if (!*val || strlen(val) > 32 || strspn(val, "abcdefghijklmnopqrstuvwxyz"
						       "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != strlen(val))
			return bad("invalid subtype= value (1 to 32 letters, digits, '_', '.', '-')", val);
		if (set_string(&o->subtype, val) < 0)
			return -ENOMEM;
	} else if (!val && strcmp(opt, "inode64") == 0) {
		/* as tmpfs's inode64: inode numbers are a 64-bit counter anyway */
	} else if (!val && strcmp(opt, "ro") == 0) {
		o->ro = true;
	} else if (!val && strcmp(opt, "rw") == 0) {
		o->ro = false;
	} else if (strcmp(opt, "huge") == 0 && val) {
		/* in the order of enum rfs_huge */
		static const char *const words[] = { "never", "always", "within_size", "advise", NULL };
		int i = word_index(val, words);

		if (i < 0)
			return bad("invalid huge= value (never, always, within_size or advise)", val);
		o->huge = (enum rfs_huge)i;
	} else if (strcmp(opt, "datapath") == 0 && val) {
		/* in the order of enum rfs_datapath */
		static const char *const words[] = { "auto", "passthrough", "cache", NULL };
		int i = word_index(val, words);

		if (i < 0)
			return bad("invalid datapath= value (auto, passthrough or cache)", val);
		o->datapath = (enum rfs_datapath)i;
	} else if (strcmp(opt, "lifetime") == 0 && val) {
		enum registry_lifetime lt;

		if (registry_lifetime_parse(val, strlen(val), &lt) < 0 || strchr(val, '\n'))
			return bad("invalid lifetime= value (persist, last-close or creator)", val);
		o->lifetime = (int)lt;
	} else if (strcmp(opt, "uring") == 0 && val) {
		if (strcmp(val, "auto") == 0)
			o->uring = RFS_URING_AUTO;
		else if (strcmp(val, "on") == 0)
			o->uring = RFS_URING_ON;
		else if (strcmp(val, "off") == 0)
			o->uring = RFS_URING_OFF;
		else
			return bad("invalid uring= value (auto, on or off)", val);
	} else if (!val && strcmp(opt, "allow_other") == 0) {
		o->allow_other = true;
	} else if (!val && strcmp(opt, "default_permissions") == 0) {
		/* always on (rfs_options_parse()): accepted for fstab lines */
	} else if (!val && strcmp(opt, "noexec") == 0) {
		o->noexec = true;
	} else if (!val && strcmp(opt, "debug") == 0) {
		o->debug = true;
		o->foreground = true;
	} else if (!val && is_ignored_flag(opt)) {
		/* nothing to do */
	} else if ((why = unsupported_reason(opt))) {
		if (val)
			val[-1] = '=';
		fprintf(stderr, "regionfs: option not supported: '%s': %s\n", opt, why);
		return -EINVAL;
	} else {
		if (val)
			val[-1] = '=';
		return bad("unknown option", opt);
	}
	return 0;
}

static int parse_list(const char *list, struct rfs_options *o)
{
	char *copy = strdup(list), *save = NULL, *opt;
	int r = 0;

	if (!copy)
		return -ENOMEM;
	if (!*list)
		r = bad("empty option list", list);
	for (opt = strtok_r(copy, ",", &save); opt && r == 0; opt = strtok_r(NULL, ",", &save))
		r = parse_one(opt, o);
	free(copy);
	return r;
}

int rfs_options_parse(int argc, char **argv, struct rfs_options *ret)
{
	struct rfs_options o = {
		.mode = 01777,
		.uid = getuid(),
		.gid = getgid(),
		.datapath = RFS_DATAPATH_AUTO,
		/*
		 * Always: the daemon has no permission model of its own.
		 * Without it the kernel leaves access(2), open, chmod, chown,
		 * utimes, xattrs, unlink, rename, create and directory search
		 * to the daemon, which would let them all through.
		 */
		.default_permissions = true,
	};
	uint64_t ram = ram_bytes();
	int i, r;

	o.size = ram / 2;
	o.max_threads = (unsigned)RFS_MAX(2, sysconf(_SC_NPROCESSORS_ONLN));
	o.nr_inodes = ram / 4096 / 2;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "-f") == 0) {
			o.foreground = true;
		} else if (strcmp(a, "-d") == 0) {
			o.debug = true;
			o.foreground = true;
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			o.show_help = true;
		} else if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
			o.show_version = true;
		} else if (strcmp(a, "-o") == 0) {
			if (++i == argc) {
				r = bad("option needs a value", "-o");
				goto err_free;
			}
			r = parse_list(argv[i], &o);
			if (r < 0)
				goto err_free;
		} else if (strncmp(a, "-o", 2) == 0) {
			r = parse_list(a + 2, &o);
			if (r < 0)
				goto err_free;
		} else if (a[0] == '-' && a[1]) {
			r = bad("unknown option", a);
			goto err_free;
		} else if (!o.mountpoint) {
			o.mountpoint = argv[i];
		} else if (!o.source) {
			/* "regionfs SOURCE MOUNTPOINT", as mount.fuse3 runs it from fstab */
			o.source = o.mountpoint;
			o.mountpoint = argv[i];
		} else {
			r = bad("unexpected argument", a);
			goto err_free;
		}
	}
	if (o.fsname)
		o.source = o.fsname;
	/* The source ends up in comma-separated mount options: keep it one token. */
	if (o.source && (strpbrk(o.source, ", \t\n\\") || !*o.source)) {
		r = bad("invalid source name", o.source);
		goto err_free;
	}
	if (!o.mountpoint && !o.show_help && !o.show_version) {
		fprintf(stderr, "regionfs: no mountpoint given (see --help)\n");
		r = -EINVAL;
		goto err_free;
	}
	*ret = o;
	return 0;

err_free:
	rfs_options_free(&o); /* store= may have been given before the bad argument */
	return r;
}
