// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * regionctl: ipcs for regionfs, built on libregionfs (regionctl(1)).
 * Everything it shows or does is an ordinary call on the mount: stat, the
 * user.regionfs.* attributes, statvfs, unlink, and the library's
 * create-or-open.
 *
 * Exit status: 0 done; 1 a region or file is missing or a call failed;
 * 2 bad usage (an unknown option, a malformed size or value).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>

#include "regionfs/regionfs.h"

#define EXIT_MISSING 1
#define EXIT_USAGE 2

static const char *prog = "regionctl";

static void __attribute__((noreturn, format(printf, 1, 2))) usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see %s --help)\n", prog);
	exit(EXIT_USAGE);
}

/* getopt_long's '?' and ':' (opterr is 0): one line naming the option. */
static void bad_option(int c, char **argv)
{
	if (c == ':')
		usage_error("option '%s' needs a value", argv[optind - 1]);
	usage_error("unknown option '%s'", argv[optind - 1]);
}

static void help(void)
{
	printf("usage: %s COMMAND [ARGS]\n"
	       "  ls [PATH] [-l] [--json]     regions of a directory (default: the mount)\n"
	       "  create NAME --size SIZE [--lifetime persist|last-close|creator]\n"
	       "         [--backing FILE] [--mode MODE] [--seal SEALS] [--exclusive]\n"
	       "                              create NAME, or open it if it exists\n"
	       "  info NAME                   every attribute and the holders\n"
	       "  holders NAME                processes that have NAME open or mapped\n"
	       "  flush NAME [--durable]      write NAME back to its file\n"
	       "  seal NAME SEALS             add seals (seal,shrink,grow,write,future-write)\n"
	       "  rm NAME...                  remove names\n"
	       "  df                          the mount's budgets and use\n"
	       "NAME: a path (with '/'), or Global\\name, Local\\name, name as libregionfs(3).\n"
	       "The mount: $REGIONFS_MOUNT, else regionfs on /dev/shm, else the only one.\n",
	       prog);
}

/* ---------------------------------------------------------------- helpers */

/* SIZE: bytes, or with K, M, G, T (powers of 1024; KiB etc. accepted too). */
static uint64_t parse_size(const char *s)
{
	unsigned long long v;
	char *end;
	int shift = 0;

	if (!*s || *s == '-')
		usage_error("malformed size '%s'", s);
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		usage_error("malformed size '%s'", s);
	switch (*end) {
	case 0:
		break;
	case 'k': case 'K':
		shift = 10;
		break;
	case 'm': case 'M':
		shift = 20;
		break;
	case 'g': case 'G':
		shift = 30;
		break;
	case 't': case 'T':
		shift = 40;
		break;
	default:
		usage_error("malformed size '%s'", s);
	}
	if (*end && end[1] && strcmp(end + 1, "iB") != 0 && strcmp(end + 1, "B") != 0)
		usage_error("malformed size '%s'", s);
	if (shift && v > (UINT64_MAX >> shift))
		usage_error("size '%s' is too large", s);
	return (uint64_t)v << shift;
}

static void human(uint64_t v, char *buf, size_t size)
{
	static const char units[] = "BKMGTP";
	double d = (double)v;
	int u = 0;

	while (d >= 1024 && u < 5) {
		d /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, size, "%llu", (unsigned long long)v);
	else
		snprintf(buf, size, d < 10 ? "%.1f%c" : "%.0f%c", d, units[u]);
}

/* NAME to a path: with '/', as given; else libregionfs's names. */
static int resolve(const char *name, char *buf, size_t size)
{
	int r;

	if (strchr(name, '/')) {
		if (strlen(name) >= size)
			return -ENAMETOOLONG;
		strcpy(buf, name);
		return 0;
	}
	r = rfs_path(name, false, buf, size);
	if (r < 0)
		fprintf(stderr, "%s: %s: %s\n", prog, name, rfs_strerror(r));
	return r;
}

/* A text attribute of path into buf ("" when absent or unreadable). */
static void attr(const char *path, const char *name, char *buf, size_t size)
{
	ssize_t n = getxattr(path, name, buf, size - 1);

	buf[n < 0 ? 0 : n] = 0;
}

/* The whole value of a text attribute, malloc'ed; NULL when absent. */
static char *attr_all(const char *path, const char *name)
{
	for (int i = 0; i < 8; i++) {
		ssize_t n = getxattr(path, name, NULL, 0), m;
		char *buf;

		if (n < 0)
			return NULL;
		buf = malloc((size_t)n + 1);
		if (!buf)
			return NULL;
		m = getxattr(path, name, buf, (size_t)n);
		if (m >= 0) {
			buf[m] = 0;
			return buf;
		}
		free(buf);
		if (errno != ERANGE)
			return NULL;
	}
	return NULL;
}

static int count_lines(const char *s)
{
	int n = 0;

	for (; s && *s; s++)
		n += *s == '\n';
	return n;
}

static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static int find_mount(char *buf, size_t size)
{
	/* rfs_path() knows the mount: the directory of Global\x. */
	int r = rfs_path("Global\\x", false, buf, size);
	char *slash;

	if (r < 0)
		return r;
	*strrchr(buf, '/') = 0;
	slash = strrchr(buf, '/');
	*slash = 0;
	return 0;
}

/* ---------------------------------------------------------------- ls */

struct row {
	char name[NAME_MAX + 1];
	uint64_t size, reserved;
	char lifetime[16], seals[64], backing[PATH_MAX];
	int holders;
	bool dir;
};

static int cmd_ls(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "long", no_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool longfmt = false, json = false;
	char dir[PATH_MAX], path[PATH_MAX * 2];
	struct row *rows = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	int c, r;
	DIR *d;

	while ((c = getopt_long(argc, argv, ":lh", opts, NULL)) != -1) {
		if (c == 'l')
			longfmt = true;
		else if (c == 'j')
			json = true;
		else if (c == 'h')
			return help(), 0;
		else
			bad_option(c, argv);
	}
	if (optind + 1 < argc)
		usage_error("ls takes one PATH");
	if (optind < argc) {
		snprintf(dir, sizeof(dir), "%s", argv[optind]);
	} else if ((r = find_mount(dir, sizeof(dir))) < 0) {
		fprintf(stderr, "%s: %s\n", prog, rfs_strerror(r));
		return EXIT_MISSING;
	}
	d = opendir(dir);
	if (!d) {
		fprintf(stderr, "%s: %s: %s\n", prog, dir, strerror(errno));
		return EXIT_MISSING;
	}
	/* The directory's holders: one /proc pass for all its regions. */
	char *totals = attr_all(dir, "user.regionfs.holders");

	while ((de = readdir(d))) {
		struct stat st;
		struct row *w;

		/* The create recipe's pending names are nobody's regions yet. */
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		    strcmp(de->d_name, ".regionfs-pending") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (lstat(path, &st) < 0)
			continue; /* removed meanwhile */
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			rows = realloc(rows, cap * sizeof(*rows));
			if (!rows) {
				fprintf(stderr, "%s: out of memory\n", prog);
				return EXIT_MISSING;
			}
		}
		w = &rows[n++];
		memset(w, 0, sizeof(*w));
		snprintf(w->name, sizeof(w->name), "%s", de->d_name);
		w->dir = S_ISDIR(st.st_mode);
		w->size = (uint64_t)st.st_size;
		w->reserved = (uint64_t)st.st_blocks * 512;
		attr(path, "user.regionfs.lifetime", w->lifetime, sizeof(w->lifetime));
		if (!w->dir) {
			attr(path, "user.regionfs.seals", w->seals, sizeof(w->seals));
			attr(path, "user.regionfs.backing", w->backing, sizeof(w->backing));
		}
		w->holders = 0;
		if (totals) {
			/* "name=NAME processes=N ..." per held region (names escaped as \xHH). */
			char want[NAME_MAX * 4 + 8], *p;
			size_t k = 0;

			k += (size_t)snprintf(want, sizeof(want), "name=");
			for (const unsigned char *s = (const unsigned char *)w->name; *s; s++) {
				if (*s <= ' ' || *s > '~' || *s == '\\' || *s == '=')
					k += (size_t)snprintf(want + k, sizeof(want) - k, "\\x%02x", *s);
				else
					want[k++] = (char)*s;
			}
			want[k++] = ' ';
			want[k] = 0;
			for (p = totals; p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
				if (strncmp(p, want, k) == 0) {
					char *q = strstr(p, "processes=");

					w->holders = q ? atoi(q + 10) : 0;
					break;
				}
			}
		}
	}
	closedir(d);
	free(totals);

	if (json) {
		printf("[");
		for (size_t i = 0; i < n; i++) {
			printf("%s\n  {\"name\": ", i ? "," : "");
			json_string(rows[i].name);
			printf(", \"type\": \"%s\", \"size\": %llu, \"reserved\": %llu, \"lifetime\": ",
			       rows[i].dir ? "directory" : "region", (unsigned long long)rows[i].size,
			       (unsigned long long)rows[i].reserved);
			json_string(rows[i].lifetime);
			printf(", \"seals\": ");
			json_string(rows[i].seals);
			printf(", \"holders\": %d, \"backing\": ", rows[i].holders);
			if (rows[i].backing[0])
				json_string(rows[i].backing);
			else
				printf("null");
			printf("}");
		}
		printf("%s]\n", n ? "\n" : "");
		free(rows);
		return 0;
	}
	if (!longfmt) {
		for (size_t i = 0; i < n; i++)
			printf("%s%s\n", rows[i].name, rows[i].dir ? "/" : "");
		free(rows);
		return 0;
	}
	int w = 4, ws = 5; /* the widest name and seals: aligned columns */

	for (size_t i = 0; i < n; i++) {
		if ((int)strlen(rows[i].name) + (rows[i].dir ? 1 : 0) > w)
			w = (int)strlen(rows[i].name) + (rows[i].dir ? 1 : 0);
		if ((int)strlen(rows[i].seals) > ws)
			ws = (int)strlen(rows[i].seals);
	}
	printf("%-*s %8s %8s %-10s %-*s %7s %s\n", w, "NAME", "SIZE", "RESERVED", "LIFETIME", ws,
	       "SEALS", "HOLDERS", "BACKING");
	for (size_t i = 0; i < n; i++) {
		char sz[16], rs[16], nm[NAME_MAX + 2];

		human(rows[i].size, sz, sizeof(sz));
		human(rows[i].reserved, rs, sizeof(rs));
		snprintf(nm, sizeof(nm), "%s%s", rows[i].name, rows[i].dir ? "/" : "");
		printf("%-*s %8s %8s %-10s %-*s %7d %s\n", w, nm, rows[i].dir ? "-" : sz,
		       rows[i].dir ? "-" : rs, rows[i].lifetime[0] ? rows[i].lifetime : "-", ws,
		       rows[i].seals[0] ? rows[i].seals : "-", rows[i].holders,
		       rows[i].backing[0] ? rows[i].backing : "-");
	}
	free(rows);
	return 0;
}

/* ---------------------------------------------------------------- create */

static int cmd_create(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "size", required_argument, NULL, 's' },
		{ "lifetime", required_argument, NULL, 'L' },
		{ "backing", required_argument, NULL, 'b' },
		{ "mode", required_argument, NULL, 'm' },
		{ "seal", required_argument, NULL, 'S' },
		{ "exclusive", no_argument, NULL, 'x' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct rfs_create_opts o = { .lifetime = RFS_LIFETIME_PERSIST };
	const char *backing = NULL, *seals = NULL, *name;
	bool have_size = false, existed;
	struct rfs_region *r;
	uint64_t size = 0;
	int c, e;

	while ((c = getopt_long(argc, argv, ":s:L:b:m:S:xh", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			size = parse_size(optarg);
			have_size = true;
			break;
		case 'L':
			if (strcmp(optarg, "persist") == 0)
				o.lifetime = RFS_LIFETIME_PERSIST;
			else if (strcmp(optarg, "last-close") == 0)
				o.lifetime = RFS_LIFETIME_LAST_CLOSE;
			else if (strcmp(optarg, "creator") == 0)
				o.lifetime = RFS_LIFETIME_CREATOR;
			else
				usage_error("unknown lifetime '%s' (persist, last-close, creator)", optarg);
			break;
		case 'b':
			backing = optarg;
			break;
		case 'm': {
			char *end;
			unsigned long m = strtoul(optarg, &end, 8);

			if (!*optarg || *end || m > 07777)
				usage_error("malformed mode '%s' (octal, e.g. 0640)", optarg);
			o.mode = (mode_t)m;
			break;
		}
		case 'S':
			seals = optarg;
			break;
		case 'x':
			o.flags |= RFS_CREATE_EXCLUSIVE;
			break;
		case 'h':
			return help(), 0;
		default:
			bad_option(c, argv);
		}
	}
	if (optind + 1 != argc)
		usage_error("create takes one NAME");
	name = argv[optind];
	if (!have_size && !backing)
		usage_error("create needs --size");
	if (!have_size && backing)
		size = 0; /* the file's size */
	if (have_size && size == 0)
		usage_error("--size must be more than 0");
	if (strchr(name, '/'))
		usage_error("create takes a libregionfs NAME (Global\\x, Local\\x, x), not a path");
	if (backing && backing[0] != '/')
		usage_error("--backing needs an absolute path");
	if (backing)
		e = rfs_create_backed(name, backing, -1, size, RFS_PROT_READ | RFS_PROT_WRITE, &o, &r,
				      &existed);
	else
		e = rfs_create(name, size, RFS_PROT_READ | RFS_PROT_WRITE, &o, &r, &existed);
	if (e < 0) {
		fprintf(stderr, "%s: %s: %s\n", prog, name, rfs_strerror(e));
		return e == -EINVAL ? EXIT_USAGE : EXIT_MISSING;
	}
	if (existed) {
		uint64_t now = 0;

		rfs_size(r, &now);
		printf("opened existing (size %llu)\n", (unsigned long long)now);
		rfs_close(r);
		return 0;
	}
	/*
	 * Sealed by name with the handle closed: passthrough refuses grow and
	 * write on an open region (EBUSY), and the kernel sends the close of
	 * our handle to the daemon asynchronously, so EBUSY is retried for up
	 * to 2 s before it counts.
	 */
	rfs_close(r);
	e = 0;
	for (int i = 0; seals && i < 200; i++) {
		struct timespec ms10 = { 0, 10 * 1000 * 1000 };

		e = rfs_seal_name(name, seals);
		if (e != -EBUSY)
			break;
		nanosleep(&ms10, NULL);
	}
	if (e < 0) {
		/* Nothing half-created: a region that could not be sealed goes. */
		char path[PATH_MAX];

		if (rfs_path(name, false, path, sizeof(path)) == 0)
			unlink(path);
		fprintf(stderr, "%s: %s: seals '%s': %s\n", prog, name, seals, rfs_strerror(e));
		return e == -EINVAL ? EXIT_USAGE : EXIT_MISSING;
	}
	printf("created\n");
	return 0;
}

/* ---------------------------------------------------------------- info, holders */

static void print_holders(const char *text)
{
	printf("%8s %-12s %-16s %5s %6s\n", "PID", "USER", "COMMAND", "OPEN", "MAPPED");
	for (const char *p = text; p && *p;) {
		const char *nl = strchr(p, '\n');
		char line[512];
		int pid = 0, open = 0, mapped = 0;
		unsigned uid = 0;
		char comm[64] = "?";

		snprintf(line, sizeof(line), "%.*s", nl ? (int)(nl - p) : (int)strlen(p), p);
		if (strncmp(line, "more=", 5) == 0) {
			printf("(and %s more)\n", line + 5);
		} else if (sscanf(line, "pid=%d uid=%u", &pid, &uid) == 2) {
			/* comm may contain spaces: it runs to " open=". */
			char *cs = strstr(line, " comm="), *ce = strstr(line, " open=");
			struct passwd *pw = getpwuid(uid);
			char user[32];

			if (cs && ce && ce > cs)
				snprintf(comm, sizeof(comm), "%.*s", (int)(ce - cs - 6), cs + 6);
			if (ce)
				sscanf(ce, " open=%d mapped=%d", &open, &mapped);
			if (pw)
				snprintf(user, sizeof(user), "%s", pw->pw_name);
			else
				snprintf(user, sizeof(user), "%u", uid);
			printf("%8d %-12s %-16s %5d %6d\n", pid, user, comm, open, mapped);
		}
		p = nl ? nl + 1 : NULL;
	}
}

static int region_path(const char *name, char *path, size_t size)
{
	struct stat st;

	if (resolve(name, path, size) < 0)
		return -1;
	if (stat(path, &st) < 0) {
		fprintf(stderr, "%s: %s: %s\n", prog, name,
			errno == ENOENT ? "no such region" : strerror(errno));
		return -1;
	}
	return 0;
}

static int cmd_info(int argc, char **argv)
{
	static const char *const names[] = { "lifetime", "seals", "creator", "backing" };
	char path[PATH_MAX], v[4096], sz[16], rs[16];
	struct stat st;

	if (argc != 2)
		usage_error("info takes one NAME");
	if (region_path(argv[1], path, sizeof(path)) < 0 || stat(path, &st) < 0)
		return EXIT_MISSING;
	human((uint64_t)st.st_size, sz, sizeof(sz));
	human((uint64_t)st.st_blocks * 512, rs, sizeof(rs));
	printf("path:     %s\n", path);
	printf("type:     %s\n", S_ISDIR(st.st_mode) ? "directory" : "region");
	printf("size:     %llu (%s)\n", (unsigned long long)st.st_size, sz);
	printf("reserved: %llu (%s)\n", (unsigned long long)st.st_blocks * 512, rs);
	printf("mode:     %04o\n", (unsigned)(st.st_mode & 07777));
	printf("owner:    %u:%u\n", (unsigned)st.st_uid, (unsigned)st.st_gid);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char xname[64];

		snprintf(xname, sizeof(xname), "user.regionfs.%s", names[i]);
		attr(path, xname, v, sizeof(v));
		printf("%s:%*s%s\n", names[i], (int)(9 - strlen(names[i])), "", v[0] ? v : "-");
	}
	char *h = attr_all(path, "user.regionfs.holders");

	printf("holders:  %d\n", h ? count_lines(h) : 0);
	if (h && *h && !S_ISDIR(st.st_mode))
		print_holders(h);
	free(h);
	return 0;
}

static int cmd_holders(int argc, char **argv)
{
	char path[PATH_MAX], *h;

	if (argc != 2)
		usage_error("holders takes one NAME");
	if (region_path(argv[1], path, sizeof(path)) < 0)
		return EXIT_MISSING;
	h = attr_all(path, "user.regionfs.holders");
	if (!h) {
		fprintf(stderr, "%s: %s: holders: %s\n", prog, argv[1], strerror(errno));
		return EXIT_MISSING;
	}
	print_holders(h);
	free(h);
	return 0;
}

/* ---------------------------------------------------------------- flush, seal, rm, df */

static int cmd_flush(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "durable", no_argument, NULL, 'd' },
		{ 0 },
	};
	bool durable = false;
	char path[PATH_MAX];
	int c, fd, r;

	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (c == 'd')
			durable = true;
		else
			bad_option(c, argv);
	}
	if (optind + 1 != argc)
		usage_error("flush takes one NAME");
	if (region_path(argv[optind], path, sizeof(path)) < 0)
		return EXIT_MISSING;
	fd = open(path, O_RDONLY);
	if (fd < 0) {
		fprintf(stderr, "%s: %s: %s\n", prog, argv[optind], strerror(errno));
		return EXIT_MISSING;
	}
	/* Durable: fsync. Otherwise start the writeback and return. */
	r = durable ? fsync(fd) : sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
	if (r < 0) {
		fprintf(stderr, "%s: %s: flush: %s\n", prog, argv[optind], strerror(errno));
		close(fd);
		return EXIT_MISSING;
	}
	close(fd);
	return 0;
}

static int cmd_seal(int argc, char **argv)
{
	char path[PATH_MAX];

	if (argc != 3)
		usage_error("seal takes NAME and SEALS");
	if (region_path(argv[1], path, sizeof(path)) < 0)
		return EXIT_MISSING;
	if (setxattr(path, "user.regionfs.seals", argv[2], strlen(argv[2]), 0) < 0) {
		fprintf(stderr, "%s: %s: seals '%s': %s\n", prog, argv[1], argv[2], strerror(errno));
		return errno == EINVAL ? EXIT_USAGE : EXIT_MISSING;
	}
	return 0;
}

static int cmd_rm(int argc, char **argv)
{
	int status = 0;

	if (argc < 2)
		usage_error("rm takes NAME...");
	for (int i = 1; i < argc; i++) {
		char path[PATH_MAX];

		if (resolve(argv[i], path, sizeof(path)) < 0) {
			status = EXIT_MISSING;
		} else if (unlink(path) < 0) {
			fprintf(stderr, "%s: %s: %s\n", prog, argv[i],
				errno == ENOENT ? "no such region" : strerror(errno));
			status = EXIT_MISSING;
		}
	}
	return status;
}

static int cmd_df(int argc, char **argv)
{
	char mnt[PATH_MAX], a[16], b[16], c[16];
	struct statvfs sv;
	uint64_t total, avail, used;
	int r;

	if (argc > 2)
		usage_error("df takes at most a PATH");
	if (argc == 2)
		snprintf(mnt, sizeof(mnt), "%s", argv[1]);
	else if ((r = find_mount(mnt, sizeof(mnt))) < 0) {
		fprintf(stderr, "%s: %s\n", prog, rfs_strerror(r));
		return EXIT_MISSING;
	}
	if (statvfs(mnt, &sv) < 0) {
		fprintf(stderr, "%s: %s: %s\n", prog, mnt, strerror(errno));
		return EXIT_MISSING;
	}
	total = (uint64_t)sv.f_blocks * sv.f_frsize;
	avail = (uint64_t)sv.f_bavail * sv.f_frsize;
	used = total - (uint64_t)sv.f_bfree * sv.f_frsize;
	human(total, a, sizeof(a));
	human(used, b, sizeof(b));
	human(avail, c, sizeof(c));
	printf("%-24s %8s %8s %8s %10s %10s %10s\n", "MOUNT", "SIZE", "USED", "AVAIL", "INODES",
	       "IUSED", "IFREE");
	printf("%-24s %8s %8s %8s %10llu %10llu %10llu\n", mnt, a, b, c,
	       (unsigned long long)sv.f_files, (unsigned long long)(sv.f_files - sv.f_ffree),
	       (unsigned long long)sv.f_ffree);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {
		{ "ls", cmd_ls },           { "create", cmd_create }, { "info", cmd_info },
		{ "holders", cmd_holders }, { "flush", cmd_flush },   { "seal", cmd_seal },
		{ "rm", cmd_rm },           { "df", cmd_df },
	};

	if (argc < 2)
		usage_error("a COMMAND is needed");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return help(), 0;
	if (strcmp(argv[1], "--version") == 0) {
		printf("regionctl %s\n", RFS_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[1], cmds[i].name) == 0) {
			opterr = 0;
			optind = 1;
			return cmds[i].fn(argc - 1, argv + 1);
		}
	}
	usage_error("unknown command '%s'", argv[1]);
	return EXIT_USAGE;
}
