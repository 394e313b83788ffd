// SPDX-License-Identifier: GPL-2.0-or-later
/* Who holds a region, from /proc: see holders.h. */
#include "fs/holders.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/log.h"
#include "fs/rfs.h"
#include "region/region.h"
#include "registry/registry.h"

/* What to look for: the region on the mount, and its backing file. */
struct target {
	dev_t dev;
	ino_t ino;
	dev_t bdev;
	ino_t bino;
};

/* The mount ids of the daemon's device in one mount namespace. */
struct ns_mounts {
	ino_t ns;
	uint64_t *ids;
	size_t n;
};

struct scan {
	struct target t;
	struct ns_mounts *nss;
	size_t nns;
};

/* The comm file at path in dirfd (a process's /proc directory, or AT_FDCWD), made printable. */
static void comm_at(int dirfd, const char *path, char ret[16])
{
	ssize_t len = -1;
	int fd;

	fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		len = read(fd, ret, 15);
		close(fd);
	}
	if (len > 0 && ret[len - 1] == '\n')
		len--;
	if (len <= 0) {
		strcpy(ret, "?");
		return;
	}
	ret[len] = '\0';
	/* A user names their process: one printable line, whatever they chose. */
	rfs_ascii_printable(ret);
}

void holders_comm(pid_t pid, char ret[16])
{
	char path[32];

	snprintf(path, sizeof(path), "/proc/%ld/comm", (long)pid);
	comm_at(AT_FDCWD, path, ret);
}

/* The mount ids of dev in the mount namespace of the process at piddir. */
static struct ns_mounts *ns_mounts(struct scan *s, int piddir)
{
	struct ns_mounts *m, *grown;
	struct stat st;
	char *line = NULL;
	size_t cap = 0;
	FILE *f;
	int fd;

	if (fstatat(piddir, "ns/mnt", &st, 0) < 0)
		return NULL;
	for (size_t i = 0; i < s->nns; i++)
		if (s->nss[i].ns == st.st_ino)
			return &s->nss[i];
	grown = realloc(s->nss, (s->nns + 1) * sizeof(*s->nss));
	if (!grown)
		return NULL;
	s->nss = grown;
	m = &s->nss[s->nns++];
	*m = (struct ns_mounts){ .ns = st.st_ino };
	fd = openat(piddir, "mountinfo", O_RDONLY | O_CLOEXEC);
	f = fd >= 0 ? fdopen(fd, "r") : NULL;
	if (!f) {
		if (fd >= 0)
			close(fd);
		return m;
	}
	while (getline(&line, &cap, f) > 0) {
		unsigned long long id;
		unsigned maj, min;
		uint64_t *ids;

		if (sscanf(line, "%llu %*u %u:%u", &id, &maj, &min) != 3 ||
		    makedev(maj, min) != s->t.dev)
			continue;
		ids = realloc(m->ids, (m->n + 1) * sizeof(*m->ids));
		if (!ids)
			break;
		m->ids = ids;
		m->ids[m->n++] = id;
	}
	free(line);
	fclose(f);
	return m;
}

/* Does fd (name, in the process at piddir) refer to the region through the mount? */
static bool fd_holds(struct scan *s, int piddir, int fddir, const char *name)
{
	char link[8], info[512], path[sizeof("fdinfo/") + NAME_MAX];
	unsigned long long mnt_id = 0, ino = 0;
	struct ns_mounts *m;
	ssize_t len;
	int fd;

	/* Sockets, pipes, anon inodes: not files of any mount. */
	len = readlinkat(fddir, name, link, sizeof(link));
	if (len <= 0 || link[0] != '/')
		return false;
	snprintf(path, sizeof(path), "fdinfo/%s", name);
	fd = openat(piddir, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	len = read(fd, info, sizeof(info) - 1);
	close(fd);
	if (len <= 0)
		return false;
	info[len] = '\0';
	for (char *l = info; l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		sscanf(l, "mnt_id: %llu", &mnt_id);
		sscanf(l, "ino: %llu", &ino);
	}
	if (ino != (unsigned long long)s->t.ino)
		return false;
	m = ns_mounts(s, piddir);
	for (size_t i = 0; m && i < m->n; i++)
		if (m->ids[i] == mnt_id)
			return true;
	return false;
}

static unsigned count_open(struct scan *s, int piddir)
{
	unsigned n = 0;
	struct dirent *e;
	DIR *d;
	int fd = openat(piddir, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return 0;
	}
	while ((e = readdir(d)))
		if (e->d_name[0] != '.' && fd_holds(s, piddir, dirfd(d), e->d_name))
			n++;
	closedir(d);
	return n;
}

static unsigned count_mapped(const struct scan *s, int piddir)
{
	char *line = NULL;
	size_t cap = 0;
	unsigned n = 0;
	FILE *f;
	int fd = openat(piddir, "maps", O_RDONLY | O_CLOEXEC);

	f = fd >= 0 ? fdopen(fd, "r") : NULL;
	if (!f) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	while (getline(&line, &cap, f) > 0) {
		unsigned long long ino;
		unsigned maj, min;
		dev_t dev;

		/* start-end perms offset maj:min inode path */
		if (sscanf(line, "%*x-%*x %*s %*x %x:%x %llu", &maj, &min, &ino) != 3 || ino == 0)
			continue;
		dev = makedev(maj, min);
		if ((dev == s->t.dev && ino == (unsigned long long)s->t.ino) ||
		    (dev == s->t.bdev && ino == (unsigned long long)s->t.bino))
			n++;
	}
	free(line);
	fclose(f);
	return n;
}

/* The effective uid from the status of the process at piddir; -1 if unknown. */
static long status_euid(int piddir)
{
	char buf[2048], *l;
	long uid = -1;
	ssize_t len;
	int fd = openat(piddir, "status", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return -1;
	buf[len] = '\0';
	l = strstr(buf, "\nUid:");
	if (l && sscanf(l, "\nUid: %*u %ld", &uid) != 1)
		uid = -1;
	return uid;
}

static int pid_cmp(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

/* Every pid in /proc but ours, ascending, into *ret (malloc'd). */
static int list_pids(pid_t **ret, size_t *ret_n)
{
	pid_t *pids = NULL, *grown, self = getpid();
	size_t n = 0, cap = 0;
	struct dirent *e;
	DIR *d = opendir("/proc");

	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);

		if (*end || pid <= 0 || pid == self)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			grown = realloc(pids, cap * sizeof(*pids));
			if (!grown) {
				free(pids);
				closedir(d);
				return -ENOMEM;
			}
			pids = grown;
		}
		pids[n++] = (pid_t)pid;
	}
	closedir(d);
	qsort(pids, n, sizeof(*pids), pid_cmp);
	*ret = pids;
	*ret_n = n;
	return 0;
}

static ssize_t scan_all(struct scan *s, char *out)
{
	size_t len = 0, n = 0, more = 0;
	pid_t *pids = NULL;
	int r = list_pids(&pids, &n);

	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		char path[32], comm[16], line[128];
		unsigned nopen, nmapped;
		int piddir, l;
		long uid;

		snprintf(path, sizeof(path), "/proc/%ld", (long)pids[i]);
		piddir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (piddir < 0)
			continue; /* gone */
		nmapped = count_mapped(s, piddir);
		nopen = count_open(s, piddir);
		uid = -1;
		if (nopen || nmapped) {
			/* Through piddir: the same process, even if its pid is reused meanwhile. */
			uid = status_euid(piddir);
			comm_at(piddir, "comm", comm);
		}
		close(piddir);
		if (!nopen && !nmapped)
			continue;
		if (uid < 0)
			l = snprintf(line, sizeof(line), "pid=%ld uid=? comm=%s open=%u mapped=%u\n",
				     (long)pids[i], comm, nopen, nmapped);
		else
			l = snprintf(line, sizeof(line), "pid=%ld uid=%ld comm=%s open=%u mapped=%u\n",
				     (long)pids[i], uid, comm, nopen, nmapped);
		/* Room kept for the "more=N" line. */
		if (more || len + (size_t)l > HOLDERS_MAX - 32) {
			more++;
			continue;
		}
		memcpy(out + len, line, (size_t)l);
		len += (size_t)l;
	}
	if (more)
		len += (size_t)snprintf(out + len, HOLDERS_MAX - len, "more=%zu\n", more);
	free(pids);
	return (ssize_t)len;
}

/* What to look for of region ino: its inode on the mount and its backing file. */
static int target_of(struct rfs *fs, uint64_t ino, struct target *ret)
{
	struct region *region;
	struct stat st;
	int fd, r;

	r = registry_region(fs->reg, ino, &region);
	if (r < 0)
		return r;
	fd = region_fd_get(region);
	if (fd < 0)
		return fd;
	r = fstat(fd, &st) < 0 ? -errno : 0;
	region_fd_put(region);
	if (r < 0)
		return r;
	*ret = (struct target){ .dev = fs->dev, .ino = (ino_t)ino, .bdev = st.st_dev,
				.bino = st.st_ino };
	return 0;
}

ssize_t holders_get(struct rfs *fs, uint64_t ino, char *buf, size_t size)
{
	struct scan s = { 0 };
	char *out;
	ssize_t r;

	r = target_of(fs, ino, &s.t);
	if (r < 0)
		return r;
	out = malloc(HOLDERS_MAX);
	if (!out)
		return -ENOMEM;
	r = scan_all(&s, out);
	if (r >= 0 && size && size < (size_t)r)
		r = -ERANGE;
	else if (r > 0 && size)
		memcpy(buf, out, (size_t)r);
	free(out);
	for (size_t i = 0; i < s.nns; i++)
		free(s.nss[i].ids);
	free(s.nss);
	return r;
}

ssize_t holders_mapped(struct rfs *fs, uint64_t ino, pid_t *ret_pids, size_t max)
{
	struct scan s = { 0 };
	pid_t *pids = NULL;
	size_t n = 0, found = 0;
	ssize_t r;

	r = target_of(fs, ino, &s.t);
	if (r < 0)
		return r;
	r = list_pids(&pids, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		char path[32];
		int piddir;

		snprintf(path, sizeof(path), "/proc/%ld", (long)pids[i]);
		piddir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (piddir < 0)
			continue; /* gone */
		if (count_mapped(&s, piddir)) {
			if (found < max)
				ret_pids[found] = pids[i];
			found++;
		}
		close(piddir);
	}
	free(pids);
	return (ssize_t)found;
}
