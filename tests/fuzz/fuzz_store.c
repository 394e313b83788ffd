/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target: loading a persistent store (registry_load).
 *
 * Each input is decoded into a small tree made under a fresh scratch
 * directory: the store DIR (its format line, root/, tmp/, lock, mostly
 * valid, sometimes not) and, beside it, ext/ (files a binding may name
 * outside the store). Entries are directories, regular files (data at
 * sparse offsets), symlinks, fifos, sockets, /dev/null nodes and hard
 * links, with odd names (any byte but '/' and NUL, long ones), modes,
 * owners, times and xattrs, among them user.regionfs.backing with
 * arbitrary values. Then: store_open + registry_new + registry_load, the
 * loaded tree is walked and checked, and everything is freed; the tree is
 * removed after each input.
 *
 * Any load result is acceptable (other changes decide which stores load);
 * what must hold: no crash, leak (memory or fd) or sanitizer report, a
 * one-line reason on failure, and on success a registry that matches the
 * disk (every name it shows is there with the same type) and answers
 * getattr, lookup, open/read and the xattr calls consistently; after up to
 * MAX_CHANGES changes a client could make (each checked the same way), a
 * second load of the store shows exactly what the registry showed.
 *
 * Safety: bindings and symlinks only ever name paths inside the scratch
 * directory, "/nonexistent-rfs-fuzz/...", relative names without "." or
 * "..", or garbage: the loader (running as root) never reaches a real
 * system file. The only device node made is /dev/null's (1, 3).
 *
 * Runs as root (chown to other users, a trusted.* xattr, mknod); as another
 * user those steps just fail and the rest still runs.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/log.h"
#include "common/macros.h"
#include "fs/rfs.h"
#include "region/region.h"
#include "registry/registry.h"
#include "fuzz_util.h"

#define MAX_ENTRIES 24
#define MAX_DEPTH 6
#define MAX_CHANGES 8 /* namespace changes after a successful load */
#define MAX_DIRS (MAX_ENTRIES + 1 + MAX_CHANGES)
#define MAX_OFFSET (128u * 1024u) /* sparse data: loading reserves the holes */
#define NOWHERE "/nonexistent-rfs-fuzz"
#define BACKING "user.regionfs.backing"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct ent {
	char path[PATH_MAX];
	bool dir;
	bool in_root; /* under DIR/root: part of the namespace */
	unsigned depth;
};

static struct ent ents[MAX_ENTRIES + 8];
/* RFS_FUZZ_STATS=1: how loads ended, printed at exit (is the fuzzer getting deep?). */
static unsigned long stat_ok, stat_ok_nodes, stat_ok_bound, stat_err[160], stat_changes;
static unsigned nents;
/* Just what rfs_open_binding() reads: the mount (never there) and the store. */
static struct rfs binder;
static char base[PATH_MAX], store_dir[PATH_MAX];

static struct ent *add_ent(const char *path, bool dir, bool in_root, unsigned depth)
{
	struct ent *e = &ents[nents++];

	snprintf(e->path, sizeof(e->path), "%s", path);
	e->dir = dir;
	e->in_root = in_root;
	e->depth = depth;
	return e;
}

/* A name: any bytes but '/' and NUL, sometimes long, sometimes one the store means. */
static void gen_name(struct fuzz_in *in, char *buf, size_t size)
{
	static const char *const special[] = { "format", "lock", "root", "tmp", "format.new",
					       "...", ".x", "-", " ", "\xff\xfe" };
	unsigned sel = fuzz_u8(in) % 16, len, i;

	if (sel == 0) {
		snprintf(buf, size, "%s", special[fuzz_below(in, 10)]);
		return;
	}
	len = sel == 1 ? 200 + fuzz_below(in, 60) : 1 + fuzz_below(in, 16); /* up to 259 */
	for (i = 0; i < len && i + 1 < size; i++) {
		uint8_t c = fuzz_u8(in);

		buf[i] = (char)(c == '/' || c == '\0' ? 'a' + i % 26 : c);
	}
	buf[i] = '\0';
	if (strcmp(buf, ".") == 0 || strcmp(buf, "..") == 0)
		strcat(buf, "x");
}

/* A relative symlink target or binding: one component, never "." or "..". */
static void gen_relative(struct fuzz_in *in, char *buf, size_t size)
{
	gen_name(in, buf, size);
}

/*
 * A binding or symlink target. Absolute paths name only scratch entries
 * (made of names without "." or "..") or NOWHERE.
 */
static size_t gen_target(struct fuzz_in *in, char *buf, size_t size, bool binding)
{
	unsigned sel = fuzz_u8(in) % 10, i, nfiles = 0, pick;
	const struct ent *e = &ents[fuzz_below(in, nents)];
	size_t n;

	/* Half of the entry forms name a non-directory when there is one. */
	for (i = 0; i < nents; i++)
		nfiles += !ents[i].dir;
	if (sel < 2 && nfiles) {
		pick = fuzz_below(in, nfiles);
		for (i = 0; i < nents; i++)
			if (!ents[i].dir && pick-- == 0)
				e = &ents[i];
	}

	switch (sel) {
	case 0:
	case 1:
	case 2:
	case 3: /* an entry (a file, a fifo, a directory, a symlink, the store itself) */
		return (size_t)snprintf(buf, size, "%s", e->path);
	case 4: /* an entry's child, or a path through a non-directory */
		n = (size_t)snprintf(buf, size, "%s/", e->path);
		gen_relative(in, buf + n, size - n);
		return strlen(buf);
	case 5: /* the same entry spelled oddly */
		return (size_t)snprintf(buf, size, "/%s%s", e->path, fuzz_u8(in) & 1 ? "/" : "/./");
	case 6:
		n = (size_t)snprintf(buf, size, NOWHERE "/");
		gen_relative(in, buf + n, size - n);
		return strlen(buf);
	case 7:
		gen_relative(in, buf, size);
		return strlen(buf);
	case 8: /* long: around PATH_MAX (read as PATH_MAX - 1 bytes at most) */
		n = PATH_MAX - 3 + fuzz_below(in, 6);
		if (n >= size)
			n = size - 1;
		snprintf(buf, size, NOWHERE "/");
		memset(buf + strlen(buf), 'a', n - strlen(buf));
		buf[n] = '\0';
		return n;
	default: /* garbage, NULs included (not for a symlink: it needs a string) */
		n = fuzz_bytes(in, buf, fuzz_below(in, 24));
		if (!binding) {
			buf[n] = '\0';
			if (buf[0] == '/' || !buf[0] || strstr(buf, "..") || strchr(buf, '/'))
				snprintf(buf, size, "dangling");
			return strlen(buf);
		}
		if (n && buf[0] == '/')
			buf[0] = 'x'; /* absolute garbage could name anything */
		return n;
	}
}

static void gen_xattrs(struct fuzz_in *in, const char *path)
{
	unsigned n = fuzz_below(in, 4), i;
	static char value[PATH_MAX + 8];

	for (i = 0; i < n; i++) {
		char name[64];
		size_t len;
		unsigned sel = fuzz_u8(in) % 8;

		switch (sel) {
		case 0:
		case 1:
			snprintf(name, sizeof(name), BACKING);
			break;
		case 2:
			snprintf(name, sizeof(name), "user.regionfs.datapath");
			break;
		case 3:
			snprintf(name, sizeof(name), "trusted.rfs");
			break;
		default:
			snprintf(name, sizeof(name), "user.%c%u", 'a' + sel, fuzz_below(in, 4));
			break;
		}
		if (sel <= 1) {
			len = gen_target(in, value, sizeof(value), true);
		} else {
			len = fuzz_below(in, 8) == 0 ? 1000 + fuzz_below(in, 3000)
						     : fuzz_below(in, 64);
			memset(value, 'v', len);
			fuzz_bytes(in, value, len);
		}
		/* Refusals (a symlink's user.*, a full inode) are part of the game. */
		lsetxattr(path, name, value, len, 0);
	}
}

enum meta { META_FILE, META_LINK, META_STORE_DIR };

/*
 * Mode, owner, times. A directory of the store is mostly private (0700,
 * set-id and sticky bits as drawn), as the daemon keeps them; the top bit
 * of the drawn mode (unused otherwise) asks for any mode instead.
 */
static void set_meta(struct fuzz_in *in, const char *path, enum meta what)
{
	static const uid_t ids[] = { 0, 2001, 65534, 12345678 };
	uint8_t sel = fuzz_u8(in);

	if (what != META_LINK) {
		uint16_t mode = fuzz_u16(in);

		if (what == META_STORE_DIR && !(mode & 0x8000))
			mode = (mode & 07000) | 0700;
		fchmodat(AT_FDCWD, path, mode & 07777, 0);
	}
	if (sel & 1)
		lchown(path, ids[(sel >> 1) & 3], ids[(sel >> 3) & 3]);
	if (sel & 0x20) {
		struct timespec ts[2] = { { (time_t)(int32_t)fuzz_u32(in), fuzz_below(in, 1000000000) },
					  { (time_t)(int32_t)fuzz_u32(in), UTIME_NOW } };

		utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW);
	}
}

static void make_file(struct fuzz_in *in, const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	uint8_t buf[32];
	size_t n;

	if (fd < 0)
		return;
	n = fuzz_bytes(in, buf, fuzz_below(in, sizeof(buf)));
	if (n)
		pwrite(fd, buf, n, fuzz_below(in, MAX_OFFSET));
	if (fuzz_u8(in) & 1)
		ftruncate(fd, fuzz_below(in, MAX_OFFSET));
	close(fd);
}

/* One entry of the tree; false when it could not be made (a name taken...). */
static void make_entry(struct fuzz_in *in)
{
	char name[300], path[PATH_MAX], target[PATH_MAX + 8];
	unsigned kind = fuzz_u8(in) % 10, i, ndirs = 0, pick;
	const struct ent *parent = NULL;
	bool anywhere = (fuzz_u8(in) & 7) == 7;

	/* Mostly inside the namespace; now and then in ext/, tmp/ or DIR. */
	for (i = 0; i < nents; i++)
		ndirs += ents[i].dir && ents[i].in_root;
	if (!ndirs)
		anywhere = true; /* DIR/root is not a directory */
	ndirs = 0;
	for (i = 0; i < nents; i++)
		ndirs += ents[i].dir && (anywhere || ents[i].in_root);
	pick = fuzz_below(in, ndirs);
	for (i = 0; i < nents; i++)
		if (ents[i].dir && (anywhere || ents[i].in_root) && pick-- == 0) {
			parent = &ents[i];
			break;
		}
	gen_name(in, name, sizeof(name));
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", parent->path, name) >= sizeof(path))
		return;

	switch (kind) {
	case 0:
	case 1: /* a directory */
		if (parent->depth >= MAX_DEPTH || mkdir(path, 0700) < 0)
			return;
		set_meta(in, path, parent->in_root ? META_STORE_DIR : META_FILE);
		gen_xattrs(in, path);
		add_ent(path, true, parent->in_root, parent->depth + 1);
		return;
	case 2:
	case 3:
	case 4: /* a region */
		make_file(in, path);
		break;
	case 5: { /* a bound region: an empty placeholder with a binding */
		size_t len;

		if (mknod(path, S_IFREG | 0600, 0) < 0)
			return;
		len = gen_target(in, target, sizeof(target), true);
		lsetxattr(path, BACKING, target, len, 0);
		break;
	}
	case 6:
		gen_target(in, target, sizeof(target), false);
		if (symlink(target, path) < 0)
			return;
		set_meta(in, path, META_LINK);
		add_ent(path, false, parent->in_root, parent->depth);
		return;
	case 7: { /* another name of an existing non-directory */
		const struct ent *e = &ents[fuzz_below(in, nents)];

		if (e->dir || link(e->path, path) < 0)
			return;
		add_ent(path, false, parent->in_root, parent->depth);
		return;
	}
	case 8:
		if (mkfifo(path, 0600) < 0)
			return;
		break;
	default:
		if (mknod(path, fuzz_u8(in) & 1 ? S_IFSOCK | 0600 : S_IFCHR | 0666, makedev(1, 3)) <
		    0)
			return;
		break;
	}
	set_meta(in, path, META_FILE);
	gen_xattrs(in, path);
	add_ent(path, false, parent->in_root, parent->depth);
}

static void write_file(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);

	if (fd < 0)
		fuzz_fail("%s: %s", path, strerror(errno));
	if (write(fd, buf, len) != (ssize_t)len)
		fuzz_fail("%s: short write", path);
	close(fd);
}

/* DIR, DIR/format, DIR/root, DIR/tmp, ext/: mostly as a daemon leaves them. */
static void make_store(struct fuzz_in *in)
{
	static const char format[] = "regionfs-store 1\n";
	char path[PATH_MAX + 16], junk[24];
	uint8_t shape = fuzz_u8(in), odd = fuzz_u8(in);
	size_t n;

	nents = 0;
	if (mkdir(base, 0700) < 0 || mkdir(store_dir, 0700) < 0)
		fuzz_fail("mkdir %s: %s", store_dir, strerror(errno));
	snprintf(path, sizeof(path), "%s/ext", base);
	if (mkdir(path, 0755) < 0)
		fuzz_fail("mkdir %s: %s", path, strerror(errno));

	snprintf(path, sizeof(path), "%s/format", store_dir);
	switch (shape & 7) {
	case 0: /* no format line: an empty DIR is initialized by the load */
		break;
	case 1: /* a format line that is not ours */
		n = fuzz_bytes(in, junk, fuzz_below(in, sizeof(junk)));
		write_file(path, junk, n);
		break;
	case 2:
		write_file(path, format, sizeof(format) - 2); /* no newline */
		break;
	default:
		write_file(path, format, sizeof(format) - 1);
	}
	snprintf(path, sizeof(path), "%s/root", store_dir);
	switch ((shape >> 3) & 7) {
	case 0:
		if ((shape & 7) == 0)
			break; /* fresh */
		symlink("../ext", path);
		break;
	case 1:
		write_file(path, "", 0);
		break;
	default:
		if (mkdir(path, 0755) < 0)
			fuzz_fail("mkdir %s: %s", path, strerror(errno));
		set_meta(in, path, META_STORE_DIR);
		gen_xattrs(in, path);
		add_ent(path, true, true, 0);
	}
	snprintf(path, sizeof(path), "%s/tmp", store_dir);
	if ((shape >> 6) == 0) {
		if (shape & 1)
			symlink(NOWHERE, path);
	} else if (mkdir(path, 0700) == 0) {
		add_ent(path, true, false, 1);
	}
	if (odd & 1) { /* a lock somebody made */
		snprintf(path, sizeof(path), "%s/lock", store_dir);
		if (odd & 2)
			mkdir(path, 0700);
		else
			symlink(NOWHERE, path);
	}
	/* DIR itself as a daemon keeps it (0700), or not. */
	chmod(store_dir, (odd >> 2) % 8 == 0 ? 0755 : (odd >> 2) % 8 == 1 ? 0777 : 0700);
	add_ent(store_dir, true, false, 0);
	snprintf(path, sizeof(path), "%s/ext", base);
	add_ent(path, true, false, 0);
}

/* ---------------------------------------------------------------- checks */

/* FNV-1a, to sum up a loaded namespace (order-independent: entries are added). */
static uint64_t hash(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n--)
		h = (h ^ *b++) * 0x100000001b3ull;
	return h;
}

/* One line: the reason is logged, and names in it are users' names. */
static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

struct names {
	char (*name)[RFS_NAME_MAX + 1];
	unsigned n, cap;
};

static int collect(void *ctx, const char *name, const struct stat *st, uint64_t next_off,
		   unsigned flags)
{
	struct names *ns = ctx;

	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return 0;
	FUZZ_CHECK(strlen(name) <= RFS_NAME_MAX && *name && !strchr(name, '/'),
		   "readdir gave name '%s'", name);
	if (ns->n == ns->cap) {
		ns->cap = ns->cap ? ns->cap * 2 : 8;
		ns->name = realloc(ns->name, ns->cap * sizeof(*ns->name));
		if (!ns->name)
			abort();
	}
	snprintf(ns->name[ns->n++], sizeof(ns->name[0]), "%s", name);
	return 0;
}

static uint64_t check_xattrs(struct registry *reg, uint64_t ino)
{
	ssize_t len = registry_listxattr(reg, ino, NULL, 0), vlen;
	char *list, *value, *p;
	uint64_t sum = 0;

	FUZZ_CHECK(len >= 0 && len < (1 << 24), "listxattr size %zd", len);
	list = malloc((size_t)len + 1);
	value = malloc(XATTR_SIZE_MAX);
	if (!list || !value)
		abort();
	FUZZ_CHECK(registry_listxattr(reg, ino, list, (size_t)len) == len, "listxattr changed");
	if (len > 0)
		FUZZ_CHECK(registry_listxattr(reg, ino, list, (size_t)len - 1) == -ERANGE,
			   "listxattr into a short buffer");
	for (p = list; p < list + len; p += strlen(p) + 1) {
		FUZZ_CHECK(memchr(p, '\0', (size_t)(list + len - p)), "unterminated xattr name");
		/* Only the user's attributes come back, never the daemon's own. */
		FUZZ_CHECK(strncmp(p, "user.", 5) == 0 && strncmp(p, "user.regionfs.", 14) != 0,
			   "loaded xattr '%s'", p);
		vlen = registry_getxattr(reg, ino, p, NULL, 0);
		FUZZ_CHECK(vlen >= 0 && vlen <= XATTR_SIZE_MAX &&
				   registry_getxattr(reg, ino, p, value, XATTR_SIZE_MAX) == vlen,
			   "xattr '%s' listed but getxattr gives %zd", p, vlen);
		sum += hash(hash(0xcbf29ce484222325ull, p, strlen(p) + 1), value, (size_t)vlen);
	}
	free(list);
	free(value);
	return sum;
}

static uint64_t check_region(struct registry *reg, uint64_t ino, const struct stat *st)
{
	uint64_t sum;
	static char path[XATTR_SIZE_MAX + 1]; /* a recorded binding: up to an xattr's size */
	struct region *r;
	uint8_t buf[64];
	ssize_t n;

	n = registry_backing_path(reg, ino, path, sizeof(path));
	FUZZ_CHECK(n >= 0 || n == -ENODATA, "backing path: %zd", n);
	if (n >= 0) {
		/*
		 * Kept as recorded, even empty or longer than PATH_MAX (no
		 * live bind makes those; a store edited on disk does): such a
		 * region stays unbound.
		 */
		FUZZ_CHECK((size_t)n < sizeof(path) && !memchr(path, '\0', (size_t)n),
			   "binding of %zd bytes", n);
		stat_ok_bound++;
		if (n == 0) {
			int e = registry_open(reg, ino, &r);

			FUZZ_CHECK(e == -ENXIO, "open of a region bound to \"\": %d", e);
			if (e == 0)
				registry_release(reg, ino);
		}
	}
	sum = hash(0xcbf29ce484222325ull, path, n > 0 ? (size_t)n : 0);
	if (registry_open(reg, ino, &r) < 0)
		return sum; /* a binding that is not there (yet) may refuse */
	n = region_read(r, buf, sizeof(buf), st->st_size > 8 ? (uint64_t)st->st_size - 8 : 0);
	FUZZ_CHECK(n >= 0 || n == -ENXIO || n == -EIO || n == -EBADF || n == -EINVAL,
		   "read of a loaded region: %zd", n);
	registry_release(reg, ino);
	return sum;
}

/* Every name check_loaded() saw last: what the changes pick from. */
struct loaded {
	uint64_t parent, ino;
	bool dir;
	char name[RFS_NAME_MAX + 1];
};
static struct loaded loaded[4 * MAX_DIRS];
static unsigned nloaded;

/*
 * Walk the loaded namespace (an explicit stack: trees are small here, but
 * no recursion on data) and compare each directory with the disk. Returns
 * a sum of what a client sees (paths, types, modes, owners, links, sizes,
 * xattrs, bindings; not times): the same store must load the same.
 */
static uint64_t check_loaded(struct registry *reg)
{
	uint64_t sum;
	struct item {
		uint64_t ino;
		char path[PATH_MAX];
	};
	static struct item stack[MAX_DIRS + 1];
	unsigned top = 0, seen = 0, i;
	uint64_t used, max;
	struct stat st;

	FUZZ_CHECK(registry_getattr(reg, REGISTRY_ROOT_INO, &st, NULL) == 0 && S_ISDIR(st.st_mode),
		   "root of a loaded store");
	registry_inodes(reg, &used, &max);
	FUZZ_CHECK(used >= 1 && (!max || used <= max), "inodes %llu of %llu",
		   (unsigned long long)used, (unsigned long long)max);
	nloaded = 0;
	sum = check_xattrs(reg, REGISTRY_ROOT_INO) + (st.st_mode & 07777);
	stack[top].ino = REGISTRY_ROOT_INO;
	snprintf(stack[top++].path, sizeof(stack[0].path), "%s/root", store_dir);
	while (top) {
		struct item it = stack[--top];
		struct names ns = { 0 };
		int r;

		seen++;
		FUZZ_CHECK(seen <= MAX_DIRS, "more directories than were made");
		r = registry_readdir(reg, it.ino, 0, false, collect, &ns);
		FUZZ_CHECK(r == 0, "readdir of a loaded directory: %d", r);
		for (i = 0; i < ns.n; i++) {
			char path[PATH_MAX];
			struct stat disk;

			FUZZ_CHECK(registry_lookup(reg, it.ino, ns.name[i], &st, NULL) == 0,
				   "'%s' listed but not found", ns.name[i]);
			snprintf(path, sizeof(path), "%s/%s", it.path, ns.name[i]);
			FUZZ_CHECK(lstat(path, &disk) == 0, "'%s' loaded but not on disk", path);
			FUZZ_CHECK(!!S_ISDIR(st.st_mode) == !!S_ISDIR(disk.st_mode) &&
					   (S_ISDIR(st.st_mode) || S_ISREG(st.st_mode)),
				   "'%s' loaded as mode %o, on disk %o", path, (unsigned)st.st_mode,
				   (unsigned)disk.st_mode);
			FUZZ_CHECK(st.st_nlink >= 1, "'%s' with no link", path);
			{
				/* A bound region's size is its file's: not the store's to keep. */
				bool sized = S_ISREG(st.st_mode) &&
					     registry_backing_path(reg, st.st_ino, NULL, 0) < 0;
				uint64_t attrs[] = { st.st_mode, st.st_uid, st.st_gid, st.st_nlink,
						     sized ? (uint64_t)st.st_size : 0 };

				sum += hash(hash(0xcbf29ce484222325ull, path, strlen(path)), attrs,
					    sizeof(attrs));
			}
			sum += check_xattrs(reg, st.st_ino);
			if (nloaded < ARRAY_SIZE(loaded)) {
				struct loaded *l = &loaded[nloaded++];

				l->parent = it.ino;
				l->ino = st.st_ino;
				l->dir = S_ISDIR(st.st_mode);
				snprintf(l->name, sizeof(l->name), "%s", ns.name[i]);
			}
			if (S_ISDIR(st.st_mode)) {
				FUZZ_CHECK(top < MAX_DIRS + 1, "stack");
				stack[top].ino = st.st_ino;
				snprintf(stack[top++].path, sizeof(stack[0].path), "%s", path);
			} else {
				sum += check_region(reg, st.st_ino, &st);
			}
			registry_forget(reg, st.st_ino, 1);
		}
		free(ns.name);
	}
	return sum;
}


/*
 * One change of a loaded namespace, as a client would make it: any result
 * is fine, but the registry and the store must agree afterwards.
 */
static void change_one(struct fuzz_in *in, struct registry *reg)
{
	static const uid_t ids[] = { 0, 2001, 65534 };
	const struct loaded *a = nloaded ? &loaded[fuzz_below(in, nloaded)] : NULL;
	uint64_t dir = REGISTRY_ROOT_INO;
	unsigned op = fuzz_u8(in) % 8, pick = fuzz_below(in, nloaded + 1), i;
	struct registry_cred cred = { ids[fuzz_below(in, 3)], ids[fuzz_below(in, 3)] };
	struct registry_setattr sa = { 0 };
	char name[300], value[16];
	struct stat st;
	int r = -1;

	for (i = 0; i < nloaded; i++) /* the pick-th directory, or the root */
		if (loaded[i].dir && pick-- == 1)
			dir = loaded[i].ino;
	gen_name(in, name, sizeof(name));
	switch (op) {
	case 0:
		r = registry_mkdir(reg, dir, name, fuzz_u16(in) & 07777, &cred, &st);
		break;
	case 1:
		r = registry_create(reg, dir, name, fuzz_u16(in) & 07777, &cred, &st);
		break;
	case 2:
		snprintf(value, sizeof(value), "user.m%u", fuzz_below(in, 4));
		registry_setxattr(reg, a ? a->ino : REGISTRY_ROOT_INO, value, name, strlen(name), 0);
		break;
	case 3:
		if (a)
			registry_rename(reg, a->parent, a->name, dir, name,
					(unsigned[]){ 0, RENAME_NOREPLACE, RENAME_EXCHANGE }[fuzz_below(in, 3)]);
		break;
	case 4:
		if (a && !a->dir)
			r = registry_link(reg, a->ino, dir, name, &st, NULL);
		break;
	case 5:
		if (a)
			(a->dir ? registry_rmdir : registry_unlink)(reg, a->parent, a->name);
		break;
	default:
		sa.valid = REGISTRY_SET_MODE | (op == 7 ? REGISTRY_SET_SIZE : 0);
		sa.mode = fuzz_u16(in) & 07777;
		sa.size = fuzz_below(in, MAX_OFFSET);
		if (a)
			registry_setattr(reg, a->ino, &sa, &st, NULL);
	}
	if (r == 0)
		registry_forget(reg, st.st_ino, 1);
	stat_changes++;
}

static void quiet_log(enum rfs_log_level level, const char *line)
{
	(void)level;
	(void)line;
}

static void print_stats(void)
{
	unsigned i;

	fprintf(stderr, "fuzz_store: %lu namespace changes after a load succeeded\n",
		stat_changes);
	fprintf(stderr, "fuzz_store: %lu loads succeeded (%lu nodes in all, %lu bound regions)\n",
		stat_ok, stat_ok_nodes, stat_ok_bound);
	for (i = 0; i < 160; i++)
		if (stat_err[i])
			fprintf(stderr, "fuzz_store: %lu loads failed with %s\n", stat_err[i],
				strerror((int)i));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned fds_before;
	struct fuzz_in in = { data, size };
	struct registry_config cfg = {
		.root_mode = 01777,
		.open_binding = rfs_open_binding,
		.open_binding_ctx = &binder,
	};
	struct region_store *store;
	struct registry *reg;
	char err[512];
	uint64_t limit;
	unsigned n, i;
	int r;

	if (!base[0]) {
		const char *dir = fuzz_scratch_dir("fuzz-store");
		char real[PATH_MAX];

		snprintf(base, sizeof(base), "%s/t", dir);
		snprintf(store_dir, sizeof(store_dir), "%s/store", base);
		/* The daemon's hook, with the daemon's checks, on the resolved paths. */
		if (!realpath(dir, real))
			fuzz_fail("realpath %s: %s", dir, strerror(errno));
		snprintf(binder.store_dir, sizeof(binder.store_dir), "%s/t/store", real);
		snprintf(binder.mnt, sizeof(binder.mnt), "%s/mnt", real);
		rfs_log_set_sink(quiet_log); /* the hook's one info line per unbound region */
		fds_before = fuzz_count_fds();
		if (getenv("RFS_FUZZ_STATS"))
			atexit(print_stats);
	}
	limit = (uint64_t)(1 + fuzz_u8(&in)) * 16384;
	cfg.max_inodes = fuzz_u8(&in) & 0x80 ? fuzz_below(&in, 2 * MAX_ENTRIES) : 0;
	make_store(&in);
	n = fuzz_below(&in, MAX_ENTRIES + 1);
	for (i = 0; i < n && !fuzz_done(&in); i++)
		make_entry(&in);

	if (store_open(limit, STORE_FORCE_MEMFD, &store) < 0)
		fuzz_fail("store_open");
	if (registry_new(store, &cfg, &reg) < 0)
		fuzz_fail("registry_new");
	memset(err, 'x', sizeof(err));
	r = registry_load(reg, store_dir, err, sizeof(err));
	if (r == 0) {
		uint64_t used, max, sum = check_loaded(reg);

		registry_inodes(reg, &used, &max);
		stat_ok++;
		stat_ok_nodes += used;
		/* Then a few changes: each must reach the disk as the registry shows it. */
		for (i = 0; i < MAX_CHANGES && !fuzz_done(&in); i++) {
			change_one(&in, reg);
			sum = check_loaded(reg);
		}
		/* A second load sees exactly what the registry showed. */
		registry_free(reg);
		store_close(store);
		if (store_open(limit, STORE_FORCE_MEMFD, &store) < 0 ||
		    registry_new(store, &cfg, &reg) < 0)
			fuzz_fail("store_open/registry_new");
		r = registry_load(reg, store_dir, err, sizeof(err));
		FUZZ_CHECK(r == 0, "a store that loaded once does not load again: %d: %s", r, err);
		FUZZ_CHECK(check_loaded(reg) == sum, "the second load of a store differs");
	} else {
		stat_err[-r < 160 ? -r : 0]++;
		FUZZ_CHECK(r > -4096, "registry_load returned %d", r);
		FUZZ_CHECK(memchr(err, '\0', sizeof(err)) && err[0] && printable(err),
			   "load failed (%d) without a one-line reason: '%.*s'", r, (int)sizeof(err),
			   err);
	}
	registry_free(reg);
	store_close(store);

	FUZZ_CHECK(fuzz_count_fds() == fds_before, "fds leaked: %u open, %u before",
		   fuzz_count_fds(), fds_before);
	FUZZ_CHECK(fuzz_remove_tree(base), "cannot remove %s", base);
	return 0;
}
